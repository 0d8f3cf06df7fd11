"""CloudFormation resources -> the resource envelopes the collectors produce.

Each mapped type has a table (``mapping_storage``, ``mapping_queues``, ``mapping_compute``,
``mapping_containers``, ``mapping_observability``, ``mapping_governance``; the mechanism is
``mapping_base``, the scalar converters ``mapping_values``). This
module applies them and adds what every envelope of a template carries:

- ``template``: where the resource is declared and, per ``data`` key, the property it was
  read from (``keys``), so a finding lands on the line the rule read. A key several properties
  build (a queue's ``Attributes``) has one entry per part (``Attributes.VisibilityTimeout``)
  and none of its own: no single line stands for all of it.
- ``defaults``: keys the template leaves out, filled with AWS's default (no ``keys`` entry).
- ``unknown``: keys whose value holds anything the template leaves open. They are not in
  ``data``: no made-up value can pass a rule.
- ``suppressions`` from ``Metadata: {runbook-guard: {skip: [{id, reason}]}}``.
- ``tags``: the resource's own, plus the ``aws:cloudformation:*`` tags CloudFormation adds,
  which join a live resource to its template resource.

Implicit resources: a function whose log group no template declares gets the group Lambda
creates on its first invocation, with no retention, and the function's suppressions (the only
place a user can write one for it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runbook_guard.engine.errors import InputError, problem
from runbook_guard.template import (
    mapping_compute,
    mapping_containers,
    mapping_governance,
    mapping_observability,
    mapping_queues,
    mapping_storage,
)
from runbook_guard.template.mapping_base import (
    ABSENT,
    Assembled,
    Child,
    Ctx,
    Scope,
    Table,
    assemble,
    first_unresolved,
    get,
    physical_name,
    position,
    put,
    referenced_id,
)
from runbook_guard.template.model import Position, ReadTemplate, TemplateResource, Unresolved

TABLES: tuple[Table, ...] = (
    *mapping_storage.TABLES,
    *mapping_queues.TABLES,
    *mapping_compute.TABLES,
    *mapping_containers.TABLES,
    *mapping_observability.TABLES,
    *mapping_governance.TABLES,
)
BY_CFN_TYPE = {table.cfn_type: table for table in TABLES}
GLOBAL = "global"
SKIP_KEYS = frozenset({"id", "reason"})


def declared_keys() -> dict[str, list[str]]:
    """Per resource type, the data keys the mapping determines: its tables, not its output."""
    keys: dict[str, set[str]] = {}
    for table in TABLES:
        keys.setdefault(table.resource_type, set()).update(table.declared_keys())
    return {rtype: sorted(found) for rtype, found in sorted(keys.items())}


def global_types() -> frozenset[str]:
    return frozenset(table.resource_type for table in TABLES if table.is_global)


@dataclass
class Mapped:
    envelope: dict[str, Any]
    ctx: Ctx


def map_templates(templates: Sequence[ReadTemplate]) -> list[dict[str, Any]]:
    """Every template's resources as envelopes, with the implicit ones, sorted as a
    collection sorts them; bad suppressions and two resources with one identity refused."""
    problems: list[str] = []
    mapped: list[Mapped] = []
    for template in templates:
        scope = Scope.of(template)
        for resource in template.resources:
            table = BY_CFN_TYPE.get(resource.type)
            if table is not None:
                read = table.normalize(resource, template) if table.normalize else resource
                mapped.append(_map(table, Ctx.of(scope, read), problems))
    mapped.extend(_implicit_log_groups(mapped))
    if problems:
        raise InputError(problems)
    _refuse_duplicates(mapped)
    envelopes = [m.envelope for m in mapped]
    return sorted(envelopes, key=lambda e: (e["type"], e["account"], e["region"], e["id"]))


def _map(table: Table, ctx: Ctx, problems: list[str], implicit: bool = False) -> Mapped:
    if not implicit:  # an implicit resource's name is its cause's to say
        ctx.name = (
            table.name(ctx) if table.name else physical_name(ctx, table.name_prop, table.cfn_type)
        )
    built = assemble(table.fields, ctx.props, ctx)
    sources = {key: ctx.where(prop) for key, prop in built.sources.items()}
    for child in table.children:
        _attach(child, ctx, built, sources)
    resource = ctx.resource
    unknown = _unknown(built, sources, position(resource.position))
    defaults = {k for k in built.defaults if k.split(".", 1)[0] not in unknown}
    defaults |= {k for k in composite_defaults(built.defaults, sources) if k not in unknown}
    envelope: dict[str, Any] = {
        "type": table.resource_type,
        "id": table.identity(ctx),
        "name": table.label(ctx) if table.label else ctx.display_name(),
        "region": GLOBAL if table.is_global else ctx.region,
        "account": ctx.account,
        "data": built.data,
        "template": {
            **position(resource.position),
            "logical_id": resource.logical_id,
            "cfn_type": resource.type,
            "origin": resource.origin,
            "implicit": implicit,
            "keys": dict(sorted(sources.items())),
        },
    }
    if unknown:
        envelope["unknown"] = dict(sorted(unknown.items()))
    if not implicit and isinstance(ctx.name, Unresolved):
        # Its name stands in: a rule selecting by name cannot tell whether it is one of its.
        envelope["template"]["name_open"] = {"kind": ctx.name.kind, "reason": ctx.name.reason()}
    if defaults:
        envelope["defaults"] = sorted(defaults)
    skips = _suppressions(resource, problems)
    if skips:
        envelope["suppressions"] = skips
    if not implicit:
        envelope["tags"] = _tags(ctx, table)
    return Mapped(envelope, ctx)


def _attach(child: Child, parent: Ctx, built: Assembled, sources: dict[str, Any]) -> None:
    """The resources naming ``parent`` as one list key, located at the first of them.

    One whose reference the template leaves open (an ``ImportValue``, not a ``Ref`` to a
    resource of its own) may name any parent: the key is then open for every one of them.
    """
    items: list[Any] = []
    first = None
    for resource in parent.scope.of_type(*child.cfn_types):
        props = parent.scope.props(resource)
        seen = child.view(resource.type, props) if child.view else props
        if seen is None:
            continue
        refers = get(seen, child.refers)
        if isinstance(refers, Unresolved) and referenced_id(refers) is None:
            items.append(refers)
            continue
        if refers is None or refers is ABSENT or not child.owns(parent, refers):
            continue
        item = Ctx(parent.scope, resource, dict(seen), parent=parent)
        items.append(assemble(child.fields, item.props, item).data)
        if first is None:
            at = item.where(child.locate)
            first = {**at, "property": f"Resources.{resource.logical_id}.{at['property']}"}
    put(built.data, child.key, items)
    if first is not None:
        sources[child.key] = first
    else:
        built.defaults.append(child.key)


def _unknown(
    built: Assembled, sources: Mapping[str, dict[str, Any]], declared: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Keys only a deploy fills, and keys holding anything the template leaves open, which
    leave ``data``: where the open value is written, else where the key's property is."""
    unknown = {
        key: _open("after_deploy", f"known after deploy: {why}", None, declared)
        for key, why in built.after_deploy.items()
    }
    for key in list(built.data):
        hole = first_unresolved(built.data[key])
        if hole is not None:
            del built.data[key]
            at = sources.get(key) or _first_part(sources, key) or declared
            unknown[key] = _open(hole.kind, hole.reason(), hole.position, at)
    return unknown


def composite_defaults(defaults: Iterable[str], sources: Mapping[str, Any]) -> set[str]:
    """A key built of parts is a default when no part of it was read from the template."""
    tops = {key.split(".", 1)[0] for key in defaults if "." in key}
    return {top for top in tops if not any(k.startswith(f"{top}.") for k in sources)}


def _first_part(sources: Mapping[str, dict[str, Any]], key: str) -> dict[str, Any] | None:
    parts = [at for k, at in sorted(sources.items()) if k.startswith(f"{key}.")]
    return min(parts, key=lambda at: (at["line"], at["column"])) if parts else None


def _open(kind: str, reason: str, at: Position | None, fallback: dict[str, Any]) -> dict[str, Any]:
    where = position(at) if at is not None else fallback
    return {
        "kind": kind,
        "reason": reason,
        "file": where["file"],
        "line": where["line"],
        "column": where["column"],
    }


def _tags(ctx: Ctx, table: Table) -> dict[str, str]:
    written = get(ctx.props, table.tags_prop) if table.tags_prop else None
    pairs: list[tuple[Any, Any]] = []
    if isinstance(written, list):
        pairs = [(t.get("Key"), t.get("Value")) for t in written if isinstance(t, Mapping)]
    elif isinstance(written, Mapping):
        pairs = list(written.items())
    tags = {k: v for k, v in pairs if isinstance(k, str) and isinstance(v, str)}
    tags["aws:cloudformation:stack-name"] = ctx.template.stack_name
    tags["aws:cloudformation:logical-id"] = ctx.resource.logical_id
    return dict(sorted(tags.items()))


def _suppressions(resource: TemplateResource, problems: list[str]) -> list[dict[str, Any]]:
    """``Metadata.runbook-guard.skip``: each entry a rule id and the reason it is waived."""
    written = resource.metadata.get("runbook-guard") if resource.metadata else None
    if written is None:
        return []
    base = "Metadata.runbook-guard"
    at = _at(resource, base)
    field = f"Resources.{resource.logical_id}.{base}"
    if not isinstance(written, Mapping) or set(written) - {"skip"}:
        problems.append(
            problem(at.file, at.line, at.column, field, "must be {skip: [{id, reason}]}")
        )
        return []
    skips = written.get("skip", [])
    if not isinstance(skips, list):
        problems.append(problem(at.file, at.line, at.column, f"{field}.skip", "must be a list"))
        return []
    found = []
    for index, entry in enumerate(skips):
        where = _at(resource, f"{base}.skip.{index}")
        label = f"{field}.skip[{index}]"
        message = _bad_skip(entry)
        if message:
            problems.append(problem(where.file, where.line, where.column, label, message))
            continue
        found.append({"rule": entry["id"], "reason": entry["reason"].strip(), **position(where)})
    return sorted(found, key=lambda s: (s["rule"], s["line"], s["column"]))


def _bad_skip(entry: Any) -> str | None:
    if not isinstance(entry, Mapping):
        return "a suppression is {id: RULE_ID, reason: why}"
    if set(entry) - SKIP_KEYS:
        extra = ", ".join(sorted(map(str, set(entry) - SKIP_KEYS)))
        return f"unknown key(s) {extra}: a suppression is {{id, reason}}"
    if not isinstance(entry.get("id"), str) or not entry["id"].strip():
        return "id must be the id of the rule to skip, as text"
    if not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
        return f"the suppression of {entry['id']} needs a reason (reason: why it is waived)"
    return None


def _at(resource: TemplateResource, path: str) -> Position:
    """The most specific recorded position of a metadata path (list items ``a.0`` or ``a[0]``)."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        bracketed = ".".join(parts[: end - 1]) + f"[{parts[end - 1]}]" if end > 1 else prefix
        for candidate in (prefix, bracketed):
            if candidate in resource.positions:
                return resource.positions[candidate]
    return resource.position


def _implicit_log_groups(mapped: list[Mapped]) -> list[Mapped]:
    """The ``/aws/lambda/<name>`` group of each function whose group no template declares."""
    declared = {
        (m.envelope["account"], m.envelope["region"], m.envelope["data"].get("logGroupName"))
        for m in mapped
        if m.envelope["type"] == "aws.logs.log_group"
    }
    table = mapping_observability.LOG_GROUP
    found = []
    for function in mapped:
        if function.envelope["type"] != "aws.lambda.function":
            continue
        name = mapping_observability.function_log_group(function.ctx)
        key = (function.envelope["account"], function.envelope["region"], name)
        if key in declared:
            continue
        source = function.ctx.resource
        # The function's Metadata comes along: its suppressions are the only ones a user
        # can write for a group the template does not declare.
        synthetic = TemplateResource(
            logical_id=source.logical_id,
            type=table.cfn_type,
            properties={},
            position=source.position,
            positions={k: v for k, v in source.positions.items() if k.startswith("Metadata")},
            metadata=source.metadata,
            origin=source.logical_id,
        )
        ctx = Ctx.of(function.ctx.scope, synthetic)
        ctx.name = name
        found.append(_map(table, ctx, [], implicit=True))
        declared.add(key)
    return found


def _refuse_duplicates(mapped: list[Mapped]) -> None:
    """Two resources with one identity: two stacks (or one) declaring the same table."""
    seen: dict[tuple[str, ...], dict[str, Any]] = {}
    problems = []
    for m in mapped:
        envelope = m.envelope
        key = (envelope["type"], envelope["account"], envelope["region"], envelope["id"])
        here = envelope["template"]
        if key in seen:
            first = seen[key]
            problems.append(
                problem(
                    here["file"], here["line"], here["column"], f"Resources.{here['logical_id']}",
                    f"declares {envelope['type']} {envelope['name']} again: also declared by "
                    f"{first['logical_id']} at {first['file']}:{first['line']}",
                )
            )  # fmt: skip
        else:
            seen[key] = here
    if problems:
        raise InputError(problems)
