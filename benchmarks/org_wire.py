"""What the organisation benchmark's recorder and fake server agree on: which answer a request gets.

A request is keyed by what it asks, not by who asks or when: the SigV4 signing name (the
service) and region, the method, the path and query, ``X-Amz-Target``, and the body parsed by
its content type (JSON, form, CBOR) with the asker's account id replaced by a placeholder and
the window's times dropped (``TIME_KEYS`` and any CBOR timestamp: a run's windows end at its
own ``now``). The recorder keys what the collection of one account sent; the fake keys what each
of a thousand accounts sends, with that account's id, and finds the same answer.

An answer recorded for account R is given to account A by replacing R's id with A's: ARNs,
queue URLs, owner ids. Account ids have 12 digits, so the replacement keeps every length
(CBOR text strings are length-prefixed), and DynamoDB's ``x-amz-crc32`` is recomputed. One
answer hides account ids from a byte replacement: IAM's credential report, base64 CSV; it is
decoded, rewritten and encoded again.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

#: The account the recording was made in (moto's default account).
RECORDED_ACCOUNT = "123456789012"
PLACEHOLDER = "{ACCOUNT}"
#: The request members holding a window's ends: different in every run.
TIME_KEYS = frozenset(
    {"StartTime", "EndTime", "startTime", "endTime", "TimeRangeLowerBound", "TimeRangeUpperBound"}
)
#: Headers an answer is replayed without (the fake writes its own framing).
HOP_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "date", "server", "keep-alive"}
)
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
_REPORT = re.compile(rb"<Content>([A-Za-z0-9+/=\s]+)</Content>")


@dataclass(frozen=True)
class Signed:
    """Who signed a request: access key, region, service (the SigV4 credential scope)."""

    access_key: str
    region: str
    service: str


def signed(headers: Mapping[str, str]) -> Signed:
    found = _CREDENTIAL.search(headers.get("authorization", ""))
    if found is None:
        return Signed("", "", "")
    return Signed(found.group(1), found.group(2), found.group(3))


def request_key(
    method: str, target: str, headers: Mapping[str, str], body: bytes, account: str
) -> str:
    """What a request asks, with ``account`` (the asker's) as the placeholder; ``headers``
    lower-cased."""
    parts = urlsplit(target)
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    signer = signed(headers)
    fields = {
        "service": signer.service,
        "region": signer.region,
        "method": method,
        "path": unquote(parts.path),
        "query": [[k, v] for k, v in query if k not in TIME_KEYS],
        "target": headers.get("x-amz-target", ""),
        "body": _body(headers.get("content-type", ""), body),
    }
    text = json.dumps(fields, sort_keys=True, default=str)
    return text.replace(account, PLACEHOLDER) if account else text


def _body(content_type: str, body: bytes) -> Any:
    if not body:
        return None
    if "json" in content_type:
        return _timeless(json.loads(body))
    if "x-www-form-urlencoded" in content_type:
        pairs = parse_qsl(body.decode(), keep_blank_values=True)
        return sorted([k, v] for k, v in pairs if k.rsplit(".", 1)[-1] not in TIME_KEYS)
    if "cbor" in content_type:
        return _timeless(_cbor(body))
    return body.decode("latin-1")


def _timeless(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _timeless(v)
            for k, v in value.items()
            if k not in TIME_KEYS and not isinstance(v, datetime)
        }
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def _cbor(body: bytes) -> Any:
    """A CBOR document, decoded with botocore's own CBOR reader (the one its parsers use)."""
    from botocore.parsers import RpcV2CBORParser

    parser = RpcV2CBORParser()
    return parser.parse_data_item(parser.get_peekable_stream_from_bytes(body))


def for_account(
    body: bytes, headers: list[tuple[str, str]], account: str
) -> tuple[bytes, list[tuple[str, str]]]:
    """A recorded answer as account ``account`` gets it."""
    mine = account.encode()
    out = body.replace(RECORDED_ACCOUNT.encode(), mine)
    if b"<GetCredentialReportResult>" in out:
        out = _REPORT.sub(lambda m: b"<Content>" + _rebased(m.group(1), mine) + b"</Content>", out)
    rewritten = []
    for name, value in headers:
        if name.lower() == "x-amz-crc32":
            value = str(zlib.crc32(out))
        rewritten.append((name, value.replace(RECORDED_ACCOUNT, account)))
    return out, rewritten


def _rebased(encoded: bytes, account: bytes) -> bytes:
    decoded = base64.b64decode(encoded).replace(RECORDED_ACCOUNT.encode(), account)
    return base64.b64encode(decoded)


@dataclass(frozen=True)
class Answer:
    """One recorded HTTP answer."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "headers": [list(h) for h in self.headers],
            "body": base64.b64encode(self.body).decode(),
        }

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Answer:
        headers = [(str(k), str(v)) for k, v in raw["headers"]]
        return cls(int(raw["status"]), headers, base64.b64decode(raw["body"]))


def save(path: str, answers: Mapping[str, Answer]) -> None:
    document = {key: answer.to_json() for key, answer in sorted(answers.items())}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle)


def load(path: str) -> dict[str, Answer]:
    with open(path, encoding="utf-8") as handle:
        return {key: Answer.of(raw) for key, raw in json.load(handle).items()}
