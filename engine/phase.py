"""What a snapshot read from a template can answer, and where its findings are written.

A template says what will be deployed, not what a running system does: metrics, queue depths,
log events, CloudTrail events, backups taken, access keys and attestations exist only after
deploy. A rule needing any of them is ``not_applicable`` before deploy, never a pass on data
nobody had. Which rules apply is derived, not listed: a rule applies when every key it reads
(``CompiledRule.reads``, the same path analysis the collection plan uses) is among the keys the
template reader determines for that type (the snapshot's ``collected_keys``).

Inside an applicable rule, a value the template leaves undetermined is recorded per resource
(``unknown``): known only after deploy gives ``not_applicable``, undeterminable (an
``ImportValue``, a parameter without a value) gives ``error``: the template should say it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runbook_guard.engine.paths import is_simple
from runbook_guard.engine.reads import ALL, mentioned_fields
from runbook_guard.engine.rules import CompiledRule

NOT_APPLICABLE = "not_applicable"
RUNNING_SYSTEM = "needs data only a running system has"


def _members(keys: frozenset[str], top: str) -> frozenset[str]:
    """The members of ``top`` a template declares one by one (``Attributes.VisibilityTimeout``):
    then only those are known, and a queue's depth beside them is not."""
    prefix = top + "."
    return frozenset(key[len(prefix) :] for key in keys if key.startswith(prefix))


def undetermined_members(rule: CompiledRule, collected: Mapping[str, frozenset[str]]) -> list[str]:
    """Paths the rule reads under a key the template determines only member by member."""
    found = []
    for rtype, paths in sorted(rule.read_paths.items()):
        keys = collected.get(rtype)
        if not keys:
            continue
        for path in sorted(paths):
            top = path.split(".", 1)[0]
            members = _members(keys, top) if is_simple(path) else frozenset()
            if members and "." in path and path.split(".")[1] not in members:
                found.append(f"{path} of {rtype}")
    return found


def _whole_resource_reads(
    rule: CompiledRule, rtype: str, runtime_keys: Mapping[str, Sequence[str]]
) -> list[str]:
    """What a path reading the whole resource (``@``) may read that a template lacks.

    Such a path can look at any key, but only at keys it names: where the template declares
    which keys of the type only a running system has, the rule applies unless one is named.
    """
    if rtype not in runtime_keys:
        return [f"the whole {rtype}"]
    named: set[str] = set()
    for path in rule.read_paths.get(rtype, ()):
        named |= mentioned_fields(path)
    return [f"{key} of {rtype}" for key in sorted(named & set(runtime_keys[rtype]))]


def template_gap(
    rule: CompiledRule,
    collected: Mapping[str, frozenset[str]],
    runtime_keys: Mapping[str, Sequence[str]] | None = None,
) -> str | None:
    """Why a template cannot answer this rule at all, or None when it can."""
    if rule.kind == "manual":
        return f"{RUNNING_SYSTEM}: a person's attestation of the running system"
    if rule.metrics:
        return f"{RUNNING_SYSTEM}: CloudWatch metrics ({', '.join(sorted(rule.metrics))})"
    if rule.logs:
        return f"{RUNNING_SYSTEM}: log events ({', '.join(sorted(rule.logs))})"
    wanted = {rule.resource_type: set(), **{t: set(k) for t, k in rule.reads.items() if t}}
    absent_types = sorted(t for t in wanted if t not in collected)
    if absent_types:
        return f"{RUNNING_SYSTEM}: a template declares no {', '.join(absent_types)}"
    unread = [
        f"{key} of {rtype}"
        for rtype, keys in sorted(wanted.items())
        for key in sorted(keys)
        if key != ALL and key not in collected[rtype]
    ]
    for rtype, keys in sorted(wanted.items()):
        if ALL in keys:
            unread += _whole_resource_reads(rule, rtype, runtime_keys or {})
    unread += undetermined_members(rule, collected)
    if unread:
        return f"{RUNNING_SYSTEM}: {', '.join(unread)}"
    return None


def unknown_reads(rule: CompiledRule, resource: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    """The status and causes when the rule reads a value this resource's template leaves open.

    An undeterminable value wins over one known after deploy: the first is the template's
    defect (``error``), the second only the moment's (``not_applicable``).
    """
    unknown = resource.get("unknown")
    if not unknown:
        return None
    keys = rule.reads.get(resource["type"], set())
    hits = [unknown[key] for key in sorted(keys) if key in unknown]
    if not hits:
        return None
    if any(hit["kind"] == "unresolvable" for hit in hits):
        return "error", [hit["reason"] for hit in hits if hit["kind"] == "unresolvable"]
    return NOT_APPLICABLE, [hit["reason"] for hit in hits]


def _declared_at(path: str, keys: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The position of the longest declared prefix of a path (``Attributes.VisibilityTimeout``
    before ``Attributes``)."""
    parts = path.split(".")
    for size in range(len(parts), 0, -1):
        found = keys.get(".".join(parts[:size]))
        if found is not None:
            return found  # type: ignore[no-any-return]
    return None


def location_of(rule: CompiledRule, resource: Mapping[str, Any]) -> dict[str, Any] | None:
    """Where a result about this resource is written: the property the rule read, else the
    resource's logical id (a property left out is judged at the resource that omits it)."""
    declared = resource.get("template")
    if not declared:
        return None
    keys = declared.get("keys") or {}
    read = [key for (rtype, key) in rule.read_by if rtype == resource["type"]]
    decisive = [key for key in read if key not in rule.where_reads] + read
    paths = sorted(rule.read_paths.get(resource["type"], ()), key=lambda p: (-p.count("."), p))
    defaults = set(resource.get("defaults") or ())
    for key in decisive:
        if key in defaults:
            break  # left out, AWS's default judged: the finding is the resource's own line
        candidates = [p for p in paths if p == key or p.startswith(key + ".")] + [key]
        at = next((found for p in candidates if (found := _declared_at(p, keys))), None)
        if at is not None:
            return {
                "file": at["file"],
                "line": at["line"],
                "column": at["column"],
                "logical_id": declared["logical_id"],
                **({"property": at["property"]} if at.get("property") else {}),
            }
    return {
        "file": declared["file"],
        "line": declared["line"],
        "column": declared["column"],
        "logical_id": declared["logical_id"],
    }
