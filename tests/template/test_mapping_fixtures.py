"""Builders for the mapper's tests: ``ReadTemplate`` values written in Python, as the reader
would hand them over (the reader is tested on its own, from files).

Every property a builder is given gets a position: its top-level key on the line after the
previous one, so a test can say which line a data key must point at.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from runbook_guard.template.mapping import map_templates
from runbook_guard.template.model import (
    NotFollowed,
    Position,
    ReadTemplate,
    TemplateResource,
    Unresolved,
)

FILE = "infra/template.yaml"
STACK = "agenticai-stack"
ACCOUNT = "123456789012"
REGION = "us-east-1"
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def at(line: int, column: int = 7) -> Position:
    return Position(FILE, line, column)


def where(line: int, prop: str, column: int = 7) -> dict[str, Any]:
    """A ``template.keys`` entry as the mapper writes it."""
    return {"file": FILE, "line": line, "column": column, "property": prop}


def after_deploy(intrinsic: str, line: int = 90) -> Unresolved:
    return Unresolved("after_deploy", intrinsic, at(line, 20))


def unresolvable(intrinsic: str, line: int = 91) -> Unresolved:
    return Unresolved("unresolvable", intrinsic, at(line, 20))


def resource(
    logical_id: str,
    cfn_type: str,
    properties: Mapping[str, Any] | None = None,
    *,
    line: int = 10,
    positions: Mapping[str, Position] | None = None,
    metadata: Mapping[str, Any] | None = None,
    origin: str | None = None,
) -> TemplateResource:
    """A resource declared at ``line``; its n-th property written on ``line + 1 + n``."""
    props = dict(properties or {})
    placed = {f"Properties.{key}": at(line + 1 + n) for n, key in enumerate(props)}
    placed.update(positions or {})
    return TemplateResource(
        logical_id=logical_id,
        type=cfn_type,
        properties=props,
        position=at(line, 3),
        positions=placed,
        metadata=dict(metadata or {}),
        origin=origin,
    )


def template(
    *resources: TemplateResource,
    stack: str = STACK,
    region: str = REGION,
    account: str = ACCOUNT,
    partition: str = "aws",
    display_path: str = FILE,
    not_followed: Sequence[NotFollowed] = (),
) -> ReadTemplate:
    return ReadTemplate(
        display_path=display_path,
        stack_name=stack,
        account=account,
        region=region,
        partition=partition,
        parameters={"Stage": "prod"},
        resources=list(resources),
        not_followed=list(not_followed),
        digest="0" * 64,
    )


def mapped(*resources: TemplateResource, **options: Any) -> list[dict[str, Any]]:
    return map_templates([template(*resources, **options)])


def one(envelopes: Sequence[Mapping[str, Any]], rtype: str, logical_id: str) -> dict[str, Any]:
    """The envelope of one type a logical id declared (an implicit one included)."""
    found = [
        dict(e)
        for e in envelopes
        if e["type"] == rtype and e["template"]["logical_id"] == logical_id
    ]
    assert len(found) == 1, f"{len(found)} {rtype} from {logical_id}"
    return found[0]


def only(rtype: str, cfn_type: str, properties: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The envelope of a template holding one resource ``Res`` declared at line 10."""
    return one(mapped(resource("Res", cfn_type, properties)), rtype, "Res")


def dumps(document: Any) -> str:
    return json.dumps(document, indent=1, ensure_ascii=False)
