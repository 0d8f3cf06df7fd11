"""Stand-ins, in front of the demo's moto server, for AWS operations moto 5.2 does not answer.

moto 5.2 has no Free Tier API, no CloudTrail ``LookupEvents``, no DynamoDB Contributor
Insights and no route for Lambda's ``GetAccountSettings``, and its ``DescribeExport`` leaves out
the export's times; against it the demo ended in collection errors that were the emulator's,
not the stack's. This module is a WSGI layer wrapped around moto's own application in the
demo's server (``server.moto_server(stand_ins=True)``): it answers the operations a ``Book``
(``missing_operations``) serves and hands every other request to moto unchanged.

Why a layer in the server, rather than teaching moto's classes (as ``insights`` does for Logs
Insights) or a second server that ``AWS_ENDPOINT_URL_<SERVICE>`` points at:

- The Free Tier API has no moto backend and Lambda's account settings no moto route: moto's
  dispatcher answers 500 or 404 before any moto code runs, so only something in front of the
  dispatcher can answer them.
- A layer belongs to one server. Patching moto's classes would change every moto of the
  process, and tests elsewhere rely on moto's own answers (its 500s included); the layer is
  opt-in per server and the default ``moto_server()`` is unchanged.
- One endpoint still serves everything: a second server reached through
  ``AWS_ENDPOINT_URL_CLOUDTRAIL``/``_DYNAMODB``/``_LAMBDA`` would have to proxy every other call
  of those services to moto.

Every answer a stand-in builds is checked against botocore's output shape before it is sent
(the check botocore's ``Stubber`` applies to canned answers) and every error code against the
operation's declared errors, so a stand-in cannot answer what AWS would not: a failed check is
an HTTP 500 naming the member, which the collectors record, never a plausible malformed answer.
What AWS knows of an account's past (its CloudTrail event history, its Free Tier usage) cannot
come from moto's state: a seeder posts it to ``CONTROL`` (``seed``), the way moto's own
``/moto-api/static/...`` endpoints are seeded; ``/moto-api/reset`` forgets it with moto's state.
"""

from __future__ import annotations

import http
import json
import re
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from io import BytesIO
from typing import Any, Protocol

from botocore.model import OperationModel
from werkzeug.exceptions import InternalServerError

from runbook_guard.demo.wire import problems, service_model, to_wire

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

#: Where a seeder posts what AWS knows of the account's past: ``POST CONTROL + kind``.
CONTROL = "/_runbook_guard/stand-ins/"
#: The header the layer puts on its answers to a seeder (moto's answers have none).
LAYER = "x-runbook-guard-stand-ins"
#: moto's own reset endpoint: the stand-ins forget what was seeded along with moto's state.
RESET = "/moto-api/reset"
#: The checksum header DynamoDB puts on every answer (botocore verifies it).
CRC32 = "x-amz-crc32"
#: The SigV4 credential scope: access key, date, region, signing name.
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")


class AwsError(Exception):
    """An error answer; ``code`` must be one of the operation's declared error shapes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Relay:
    """An HTTP answer passed on as it is: moto's own, or moto's amended by a stand-in."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def ok(self) -> bool:
        return self.status.startswith("200")

    def json(self) -> dict[str, Any]:
        loaded = json.loads(self.body or b"{}")
        if not isinstance(loaded, dict):
            raise ValueError(f"moto answered {type(loaded).__name__}, not an object")
        return loaded

    def replaced(self, answer: Mapping[str, Any]) -> Relay:
        """The same answer with another JSON body, its length and, where the answer had one,
        its checksum (DynamoDB's ``x-amz-crc32``, which botocore checks, retrying on a
        mismatch)."""
        body = json.dumps(to_wire(answer)).encode()
        summed = any(k.lower() == CRC32 for k, _ in self.headers)
        headers = [(k, v) for k, v in self.headers if k.lower() not in ("content-length", CRC32)]
        return Relay(self.status, [*headers, *_body_headers(body, summed)], body)


@dataclass(frozen=True)
class Request:
    """One call a stand-in answers: who asked, where, and the parameters botocore sent.

    ``params`` are as on the wire (timestamps as epoch seconds: ``timestamp`` reads them);
    ``forward`` asks moto the same request, for stand-ins that amend moto's answer.
    """

    service: str
    operation: str
    account: str
    region: str
    params: Mapping[str, Any]
    now: datetime
    forward: Callable[[], Relay]


Answer = Mapping[str, Any] | Relay
Handler = Callable[[Request], Answer]


class Book(Protocol):
    """What a layer serves: a handler per (botocore service name, operation), and state."""

    def handlers(self) -> Mapping[tuple[str, str], Handler]: ...

    def seed(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Take seeded data of ``kind``; ``ValueError`` naming what is wrong with it."""

    def reset(self) -> None: ...


@dataclass(frozen=True)
class _Route:
    operation: OperationModel
    handler: Handler


def seed(endpoint: str, kind: str, payload: Mapping[str, Any]) -> None:
    """Post seeded data (datetimes as ISO 8601) to a stand-in layer; raise naming the problem."""
    body = json.dumps(payload, default=lambda v: v.isoformat()).encode()
    request = urllib.request.Request(
        f"{endpoint}{CONTROL}{kind}",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            answered_by_layer = response.headers.get(LAYER) is not None
    except urllib.error.HTTPError as refused:
        if refused.headers.get(LAYER) is None:
            answered_by_layer = False
        else:
            raise ValueError(f"{kind}: {refused.read().decode(errors='replace')}") from None
    if not answered_by_layer:  # moto itself answered: no layer in front of it
        raise ValueError(f"{endpoint} has no stand-ins: start it with moto_server(stand_ins=True)")


class StandIns:
    """The WSGI layer: the book's operations answered here, everything else by ``app``."""

    def __init__(self, app: WsgiApp, book: Book) -> None:
        self.app = app
        self.book = book
        self.by_target: dict[str, _Route] = {}
        self.by_path: dict[tuple[str, str, str], _Route] = {}
        for (service, operation), handler in book.handlers().items():
            model = service_model(service)
            route = _Route(model.operation_model(operation), handler)
            uri = str(route.operation.http.get("requestUri", "/"))
            if model.protocol == "json":
                self.by_target[f"{model.metadata['targetPrefix']}.{operation}"] = route
            elif model.protocol == "rest-json" and "{" not in uri and "?" not in uri:
                method = str(route.operation.http.get("method", "GET"))
                self.by_path[(model.signing_name, method, uri.rstrip("/"))] = route
            else:
                raise ValueError(f"no stand-in route for {service} {operation} ({model.protocol})")

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        method = str(environ.get("REQUEST_METHOD", "GET"))
        if method == "POST" and path.startswith(CONTROL):
            return self._seed(path.removeprefix(CONTROL), environ, start_response)
        if method == "POST" and path == RESET:
            self.book.reset()
        credential = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", "")))
        route = None
        if credential is not None:
            target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
            route = self.by_target.get(target) or self.by_path.get(
                (credential[3], method, path.rstrip("/"))
            )
        if route is None or credential is None:
            return self.app(environ, start_response)
        body = _read(environ)
        model = route.operation
        try:
            params = json.loads(body) if body else {}
            request = Request(
                service=model.service_model.service_name,
                operation=model.name,
                account=_account(credential[1]),
                region=credential[2],
                params=params if isinstance(params, dict) else {},
                now=datetime.now(timezone.utc),
                forward=lambda: self._forward(environ, body),
            )
            answer = route.handler(request)
        except AwsError as error:
            return self._error(start_response, model, error)
        except Exception as bug:  # a stand-in's own failure: visible, never a made-up answer
            failure = AwsError("InternalFailure", f"stand-in {model.name} failed: {bug!r}")
            return self._error(start_response, model, failure, declared=False)
        if isinstance(answer, Relay):
            return _send(start_response, answer)
        wrong = problems(model.output_shape, answer) if model.output_shape else []
        if wrong:
            failure = AwsError("InternalFailure", f"stand-in {model.name}: {'; '.join(wrong)}")
            return self._error(start_response, model, failure, declared=False)
        return _send(start_response, _json(model, "200 OK", to_wire(answer)))

    def _forward(self, environ: Environ, body: bytes) -> Relay:
        inner = {**environ, "wsgi.input": BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        started: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], *_: Any) -> Callable[..., None]:
            started.update(status=status, headers=headers)
            return lambda data: None

        try:
            chunks = self.app(inner, start)
        except Exception:  # moto's own failure: the 500 werkzeug would have sent for it
            chunks = InternalServerError()(inner, start)
        try:
            data = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return Relay(str(started["status"]), list(started["headers"]), data)

    def _error(
        self,
        start_response: StartResponse,
        model: OperationModel,
        error: AwsError,
        *,
        declared: bool = True,
    ) -> Iterable[bytes]:
        """The error as AWS's JSON protocols send it; an undeclared code is a stand-in bug,
        sent as a 500 that says so rather than as an error AWS would never give."""
        shapes = {shape.name: shape for shape in model.error_shapes}
        status = 500
        if declared and error.code in shapes:
            status = int(shapes[error.code].metadata.get("error", {}).get("httpStatusCode", 400))
        elif declared:
            error = AwsError("InternalFailure", f"stand-in error {error.code} is undeclared")
        body = {"__type": error.code, "message": error.message}
        extra = [("x-amzn-ErrorType", error.code)]
        return _send(start_response, _json(model, _status(status), body, extra))

    def _seed(self, kind: str, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:
            payload = json.loads(_read(environ) or b"{}")
            if not isinstance(payload, dict):
                raise ValueError("the payload must be a JSON object")
            self.book.seed(kind, payload)
        except ValueError as refused:
            text = str(refused).encode()
            plain = [("Content-Type", "text/plain"), ("Content-Length", str(len(text)))]
            return _send(start_response, Relay(_status(400), [*plain, (LAYER, "1")], text))
        return _send(
            start_response, Relay(_status(204), [("Content-Length", "0"), (LAYER, "1")], b"")
        )


def _read(environ: Environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ.get("wsgi.input")
    return bytes(stream.read(length)) if stream is not None and length > 0 else b""


def _account(access_key: str) -> str:
    """The account moto files this access key's calls under (its default for unknown keys)."""
    from moto.iam.models import get_account_id_from

    return str(get_account_id_from(access_key))


def _status(code: int) -> str:
    return f"{code} {http.HTTPStatus(code).phrase}"


def _json(
    model: OperationModel,
    status: str,
    body: Mapping[str, Any],
    extra: Sequence[tuple[str, str]] = (),
) -> Relay:
    """A JSON answer with the content type of the service's protocol."""
    service = model.service_model
    content_type = "application/json"
    if service.protocol == "json":
        content_type = f"application/x-amz-json-{service.metadata.get('jsonVersion', '1.0')}"
    data = json.dumps(body).encode()
    headers = [
        ("Content-Type", content_type),
        *_body_headers(data, service.service_name == "dynamodb"),
        ("x-amzn-RequestId", str(uuid.uuid4())),
        *extra,
    ]
    return Relay(status, headers, data)


def _body_headers(body: bytes, summed: bool) -> list[tuple[str, str]]:
    """The body's length, and its CRC32 where the service sends one (DynamoDB)."""
    length = [("Content-Length", str(len(body)))]
    return [*length, (CRC32, str(zlib.crc32(body) & 0xFFFFFFFF))] if summed else length


def _send(start_response: StartResponse, relay: Relay) -> list[bytes]:
    start_response(relay.status, relay.headers)
    return [relay.body]
