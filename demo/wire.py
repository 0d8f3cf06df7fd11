"""AWS's JSON protocols, for the demo's stand-ins (``standins``): botocore's models, the
conformance of a value to a shape, timestamps on the wire, and pages with their tokens.

Values are held in botocore's parsed form (timestamps as UTC datetimes), so botocore's own
``ParamValidator`` (the check its ``Stubber`` applies to canned answers) can judge them against
a model shape; ``to_wire`` turns them into what the JSON protocols send.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

import botocore.session
from botocore.model import ServiceModel, Shape
from botocore.utils import parse_timestamp
from botocore.validate import ParamValidator

T = TypeVar("T")


@functools.cache
def service_model(service: str) -> ServiceModel:
    """botocore's model of ``service``, loaded once (loading a model takes milliseconds)."""
    return botocore.session.get_session().get_service_model(service)


def problems(shape: Shape, value: Any) -> list[str]:
    """What makes ``value`` (botocore's parsed form: datetimes) not a ``shape``: unknown or
    missing required members, wrong types. Empty when it conforms."""
    report = ParamValidator().validate(value, shape)
    return report.generate_report().splitlines() if report.has_errors() else []


def from_json(shape: Shape, value: Any) -> Any:
    """A JSON value as botocore would have parsed it: timestamps (ISO 8601 text or epoch
    seconds) become UTC datetimes; anything unparseable is left for ``problems`` to name."""
    kind = shape.type_name
    if kind == "timestamp":
        parsed = parse_time(value)
        return value if parsed is None else parsed
    if kind == "structure" and isinstance(value, Mapping):
        members = shape.members  # type: ignore[attr-defined]
        return {k: from_json(members[k], v) if k in members else v for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [from_json(shape.member, v) for v in value]  # type: ignore[attr-defined]
    return value


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 text or epoch seconds as a UTC datetime; ``None`` when it is neither."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        if isinstance(value, str):
            parsed = parse_timestamp(value)
        else:
            parsed = datetime.fromtimestamp(value, timezone.utc)
    except (ValueError, TypeError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def checked_items(service: str, shape_name: str, items: Any) -> list[dict[str, Any]]:
    """Seeded JSON items as ``shape_name`` of ``service``, each conforming; else ValueError."""
    shape = service_model(service).shape_for(shape_name)
    if not isinstance(items, list):
        raise ValueError(f"items: a list of {shape_name} was expected")
    parsed = [from_json(shape, item) for item in items]
    found = [f"items[{i}]: {p}" for i, item in enumerate(parsed) for p in problems(shape, item)]
    if found:
        raise ValueError("; ".join(found))
    return parsed


def timestamp(value: Any, field: str) -> datetime:
    """A timestamp parameter as botocore sends it (epoch seconds), as a UTC datetime."""
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError(f"{field}: {value!r} is not a timestamp")
    return parsed


def to_wire(value: Any) -> Any:
    """botocore's parsed form as JSON protocols send it: timestamps as epoch seconds."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    return value


def page(
    items: Sequence[T], size: int, token: str | None, query: Mapping[str, Any]
) -> tuple[list[T], str | None]:
    """One page of ``items`` and the token of the next (``None`` on the last page).

    A token holds its offset and a digest of the query it continues, so a token used with
    other parameters is refused (``ValueError``), as AWS refuses it.
    """
    digest = hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()
    start = 0
    if token:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
            start, owner = int(decoded["offset"]), str(decoded["query"])
        except (ValueError, KeyError, TypeError) as bad:
            raise ValueError(f"the token {token!r} is not one this API gave") from bad
        if owner != digest or not 0 <= start <= len(items):
            raise ValueError("the token was given for other parameters")
    end = start + size
    if end >= len(items):
        return list(items[start:]), None
    following = json.dumps({"offset": end, "query": digest}).encode()
    return list(items[start:end]), base64.urlsafe_b64encode(following).decode()
