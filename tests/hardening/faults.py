"""Six ways an AWS call goes wrong, injected through botocore's event hooks on the collecting
session, for every operation the collectors declare.

Each fault reaches the collector the way the real one would:

* ``access-denied``, ``throttled``, ``http-500``, ``empty-200`` answer at the HTTP layer
  (``before-send``) with the status and the body the service's protocol uses (JSON, REST-JSON,
  query XML, EC2 XML, REST-XML), so botocore's own parser and its retry handler decide
  what they mean: throttling and a 500 are retried until ``Scope.max_attempts`` runs out;
* ``read-timeout`` sends the request, unchanged but for its address, to a socket that accepts
  and never answers, so the client's own ``read_timeout`` (``Scope.read_timeout``) expires, and
  is retried like any timeout;
* ``missing-field`` answers (``before-call``) with a plausible body: what the fault-free run
  answered, less the fields the collector reads (``read_fields``) and the pagination tokens.

Identity calls (GetCallerIdentity, AssumeRole) are left out of the targets: they belong to the
preflight of issue 13 (exit 2 when no account can be read), not to a per-rule fault.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.model import OperationModel, ServiceModel

from runbook_guard.collectors.calls import MAY_BE_ABSENT
from runbook_guard.collectors.context import ASSUME_API, IDENTITY_API
from runbook_guard.collectors.organization import SETUP_APIS
from runbook_guard.collectors.registry import OPERATION_SETS, OperationSet, load_all

FAULT_KINDS = (
    "access-denied",
    "throttled",
    "read-timeout",
    "http-500",
    "empty-200",
    "missing-field",
)
#: Faults that answer 200 (the collector judges the body) and faults botocore retries.
ANSWERS = ("empty-200", "missing-field")
RETRIED = ("throttled", "read-timeout", "http-500")
#: Operations whose failure is the identity preflight's concern (issue 13), not a rule's.
IDENTITY = frozenset(op for api in (IDENTITY_API, ASSUME_API, *SETUP_APIS) for op in api.operations)

#: Per protocol: (HTTP status, error code) AWS answers for a denied call and for throttling.
DENIED = {
    "query": (403, "AccessDenied"),
    "rest-xml": (403, "AccessDenied"),
    "ec2": (403, "UnauthorizedOperation"),
}
DENIED_DEFAULT = (400, "AccessDeniedException")
THROTTLED = {
    "query": (400, "Throttling"),
    "rest-xml": (503, "SlowDown"),
    "ec2": (503, "RequestLimitExceeded"),
    "rest-json": (429, "TooManyRequestsException"),
}
THROTTLED_DEFAULT = (400, "ThrottlingException")


@cache
def shared_loader() -> botocore.loaders.Loader:
    """One data loader for every session of the run: each fresh session would otherwise parse
    botocore's endpoint and service JSON again (half a second per collection)."""
    return botocore.loaders.create_loader()


@dataclass(frozen=True)
class Target:
    """One declared operation and the operation set declaring it."""

    service: str
    operation: str
    api: OperationSet = field(compare=False, repr=False)

    @property
    def model(self) -> OperationModel:
        return service_model(self.api.service).operation_model(self.operation)

    @property
    def event_id(self) -> str:
        """``<service id>.<Operation>`` as botocore names its events."""
        return f"{self.model.service_model.service_id.hyphenize()}.{self.operation}"

    def __str__(self) -> str:
        return f"{self.service}:{self.operation}"


@cache
def service_model(service: str) -> ServiceModel:
    session = botocore.session.get_session()
    session.register_component("data_loader", shared_loader())
    return session.get_service_model(service)


def declared_targets() -> list[Target]:
    """Every operation the collectors declare (identity aside), in a stable order: a new
    collector's operations join the matrix the moment it registers them."""
    load_all()
    found: dict[tuple[str, str], Target] = {}
    for api in OPERATION_SETS:
        for operation in api.operations:
            if operation not in IDENTITY:
                found.setdefault((api.service, operation), Target(api.service, operation, api))
    return [found[key] for key in sorted(found)]


@cache
def _paginators(service: str) -> Any:
    session = botocore.session.get_session()
    session.register_component("data_loader", shared_loader())
    try:
        return session.get_paginator_model(service)
    except Exception:  # a service without paginators
        return None


@cache
def _pagination(target: Target) -> tuple[frozenset[str], frozenset[str]]:
    """(result keys, token members) of an operation's output, from botocore's paginator model
    (and, for the few list calls without one, members named like a token)."""
    members = set(target.model.output_shape.members) if target.model.output_shape else set()
    results: set[str] = set()
    tokens = {m for m in members if m.lower().endswith(("token", "marker"))}
    model = _paginators(target.api.service)
    try:
        config = model.get_paginator(target.operation) if model is not None else {}
    except ValueError:  # the service has paginators, not this operation
        config = {}
    for name in ("result_key", "output_token", "more_results"):
        value = config.get(name, [])
        found = {v.split(".")[0] for v in ([value] if isinstance(value, str) else value)}
        (results if name == "result_key" else tokens).update(found & members)
    return frozenset(results), frozenset(tokens)


@cache
def read_fields(target: Target) -> frozenset[str]:
    """The top-level answer fields a collector reads, from what it declares.

    A paginated listing's result keys; else the output members its ``fills`` name (a key it
    stores as AWS names it, or the member a ``Shape`` is read from); else every member that is
    not a token (the collector keeps the whole answer under a key of its own).
    """
    results, tokens = _pagination(target)
    if results:
        return frozenset(results)
    members = set(target.model.output_shape.members) if target.model.output_shape else set()
    named: set[str] = set()
    for items in target.api.fills.get(target.operation, {}).values():
        for item in items:
            if isinstance(item, str):
                named.add(item)
            elif item.operation == target.operation and item.path:
                named.add(item.path[0].removesuffix("[]"))
    return frozenset((named & members) or (members - tokens))


def absent_means_none(target: Target) -> bool:
    """Whether AWS documents every field the collector reads as left out when there is
    nothing to list (``calls.MAY_BE_ABSENT``): then an answer without them is "none"."""
    return all((target.operation, name) in MAY_BE_ABSENT for name in read_fields(target))


def strip_tokens(target: Target, answer: dict[str, Any]) -> dict[str, Any]:
    """``answer`` without its pagination tokens, so a replayed page is the last page."""
    _results, tokens = _pagination(target)
    return {k: v for k, v in answer.items() if k not in tokens}


class _Body:
    """The raw HTTP body botocore reads from an ``AWSResponse``."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content


def error_body(protocol: str, code: str, message: str) -> tuple[dict[str, str], bytes]:
    """Headers and body of an AWS error answer in ``protocol``."""
    if protocol in ("json", "rest-json"):
        headers = {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.1"}
        return headers, json.dumps({"__type": code, "message": message}).encode()
    error = f"<Code>{code}</Code><Message>{message}</Message>"
    if protocol == "query":
        xml = f"<ErrorResponse><Error><Type>Sender</Type>{error}</Error><RequestId>r</RequestId></ErrorResponse>"
    elif protocol == "ec2":
        xml = (
            f"<Response><Errors><Error>{error}</Error></Errors><RequestID>r</RequestID></Response>"
        )
    elif protocol == "rest-xml":
        xml = f"<Error>{error}<RequestId>r</RequestId></Error>"
    else:
        raise ValueError(f"no error answer written for the {protocol} protocol yet")
    return {"Content-Type": "text/xml"}, xml.encode()


def answer(url: str, status: int, headers: dict[str, str], body: bytes) -> AWSResponse:
    return AWSResponse(url, status, HTTPHeaders.from_dict(headers), _Body(body))


def parsed_answer(parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    """A 200 already parsed, for ``before-call``: no raw body, so the handlers that read one
    again (S3 GetBucketLocation's) leave ``parsed`` as it is."""
    parsed["ResponseMetadata"] = {"HTTPStatusCode": 200, "HTTPHeaders": {}}
    return AWSResponse("https://example.invalid", 200, HTTPHeaders(), None), parsed


class Blackhole:
    """A local socket that accepts connections and never answers: a real read timeout."""

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(256)
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.getsockname()[1]}/"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:  # closed
                return
            self._held.append(connection)

    def close(self) -> None:
        self._server.close()
        for connection in self._held:
            connection.close()


@dataclass
class Injection:
    """One fault on one operation: the hooks to register, and what went through them."""

    target: Target
    kind: str
    blackhole: Blackhole
    #: The fault-free answer of the operation, for ``missing-field`` (``{}`` when it had none).
    template: dict[str, Any] = field(default_factory=dict)
    #: Attempts sent over the wire, and calls made (one call may be several attempts).
    sends: int = 0
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _count(self, attr: str) -> None:
        with self._lock:
            setattr(self, attr, getattr(self, attr) + 1)

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        event = self.target.event_id
        if self.kind in ("missing-field", "none"):
            return [(f"before-call.{event}", self._replayed)]
        return [(f"before-call.{event}", self._call), (f"before-send.{event}", self._send)]

    def _call(self, **_: Any) -> None:
        self._count("calls")

    def _send(self, request: Any, **_: Any) -> AWSResponse | None:
        self._count("sends")
        protocol = self.target.model.service_model.resolved_protocol
        # Every handler of the event runs, and the first answer wins: away from AWS's address,
        # moto's own handler neither answers nor does the work (nor fails on what it lacks).
        request.url = self.blackhole.url
        if self.kind == "read-timeout":
            return None
        if self.kind == "http-500":
            return answer(request.url, 500, {}, b"")
        if self.kind == "empty-200":
            return answer(request.url, 200, {}, b"")
        if self.kind == "access-denied":
            status, code = DENIED.get(protocol, DENIED_DEFAULT)
        else:
            status, code = THROTTLED.get(protocol, THROTTLED_DEFAULT)
        headers, body = error_body(protocol, code, f"injected {self.kind}")
        return answer(request.url, status, headers, body)

    def _replayed(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        """The fault-free answer without the fields the collector reads (``missing-field``),
        or with each of them an explicit empty list (``none``: what "absent" must equal)."""
        self._count("calls")
        parsed = strip_tokens(self.target, copy.deepcopy(self.template))
        members = self.target.model.output_shape.members if self.target.model.output_shape else {}
        for name in read_fields(self.target):
            parsed.pop(name, None)
            if self.kind == "none" and members[name].type_name == "list":
                parsed[name] = []
        return parsed_answer(parsed)


def session_factory(
    *hooks: tuple[str, Callable[..., Any]],
) -> Callable[[str | None], boto3.Session]:
    """Sessions sharing one data loader, with ``hooks`` registered before moto's."""

    def factory(profile: str | None) -> boto3.Session:
        core = botocore.session.Session(profile=profile)
        core.register_component("data_loader", shared_loader())
        session = boto3.Session(botocore_session=core)
        for event, handler in hooks:
            session.events.register_first(event, handler)
        return session

    return factory


def request_key(model: OperationModel, params: Mapping[str, Any]) -> str:
    """An identity for a request: the operation and what is sent (the whole URL, host
    included: an S3 bucket is named there, and the body)."""
    body = params.get("body", b"")
    sent = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    return f"{model.name} {params.get('url', '')} {sent}"


class Recording:
    """moto's answers to a fault-free collection, to replay to the fault runs.

    Recorded per request, in order (a poll is asked the same question until the answer
    changes: GenerateCredentialReport, GetQueryResults), and which operations were made. A
    fault run is answered from it for every operation but the faulted one, so each run costs
    the faulted calls and not moto's work on the rest (a GetMetricData over the seeded metrics
    takes moto most of a second); a request the recording never saw goes to moto.
    """

    def __init__(self) -> None:
        self.answers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.operations: set[tuple[str, str]] = set()
        self.first: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        return [("before-call", self._called), ("after-call", self._answered)]

    def _called(
        self, model: OperationModel, params: Mapping[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        context["matrix-key"] = request_key(model, params)
        with self._lock:
            self.operations.add((model.service_model.service_name, model.name))

    def _answered(
        self, model: OperationModel, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        if "Error" in parsed:
            return
        kept = copy.deepcopy({k: v for k, v in parsed.items() if k != "ResponseMetadata"})
        with self._lock:
            self.answers[context["matrix-key"]].append(kept)
            self.first.setdefault(model.name, kept)

    def replay(self, faulted: Target | None = None) -> Callable[..., Any]:
        """A before-call handler answering every recorded request but ``faulted``'s, each
        request's answers in their recorded order (the last one again once they run out)."""
        asked: dict[str, int] = defaultdict(int)
        lock = threading.Lock()

        def answer_from_recording(
            model: OperationModel, params: Mapping[str, Any], **_: Any
        ) -> tuple[AWSResponse, dict[str, Any]] | None:
            service = model.service_model.service_name
            if faulted is not None and (service, model.name) == (
                faulted.service,
                faulted.operation,
            ):
                return None
            key = request_key(model, params)
            recorded = self.answers.get(key)
            if not recorded:
                return None
            with lock:
                index = min(asked[key], len(recorded) - 1)
                asked[key] += 1
            return parsed_answer(copy.deepcopy(recorded[index]))

        return answer_from_recording
