"""Related resources: the other resources a rule compares a selected resource with.

A rule names them four ways, each confined to the selected resource's account and region
(a global resource matches any region of its account), so that one account's dead-letter
queue never satisfies another account's redrive check:

- ``name``: a name template (``${prefix}-${queues}-dlq``) bound to the selected resource's item;
- ``from``: a field of the selected resource naming the target by ARN, id or name (a queue's
  redrive target, a service's security groups); a qualified ARN (``<arn>:<qualifier>``, a
  Lambda alias) names its unqualified resource;
- ``referenced_by``: a field of the *target* naming the selected resource (the functions whose
  event source mappings read this queue, the alarms whose dimensions name it);
- ``where`` alone: every resource of the type in scope satisfying a condition (account-wide
  alarms), or as a filter on the other three.

Targets named by ``name`` or ``from`` must exist; a set found by ``referenced_by`` or ``where``
may be empty and the rule's conditions decide. What cannot be decided (a type not collected, an
incomplete listing, a target whose field a failed call left absent) is never taken as absence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook_guard.engine.access import PathReader
from runbook_guard.engine.conditions import Condition
from runbook_guard.engine.context import UNDECIDED, BlockedLookup, EvalContext
from runbook_guard.engine.paths import MISSING
from runbook_guard.engine.reads import top_level_keys

GLOBAL = "global"


@dataclass(frozen=True)
class RelatedSpec:
    """One compiled ``related`` entry."""

    alias: str
    type: str
    name: str | None = None
    source: PathReader | None = None
    back: PathReader | None = None
    #: Which field of the selected resource ``referenced_by`` values must equal.
    key: str = "id"
    where: Condition | None = None
    #: The status an empty or unresolved set gives; None: a must-exist target fails, a set
    #: found by ``referenced_by`` or ``where`` goes to the conditions.
    when_missing: str | None = None

    @property
    def must_exist(self) -> bool:
        return self.name is not None or self.source is not None

    def describe(self) -> str:
        if self.name is not None:
            return f"{self.type} named {self.name}"
        if self.source is not None:
            return f"the {self.type} named by {self.source.path}"
        if self.back is not None:
            return f"each {self.type} whose {self.back.path} names it"
        return f"each {self.type} of its account and region that matches"


@dataclass
class Resolution:
    """The targets per alias, or why they could not be found, or which are missing."""

    targets: dict[str, list[Mapping[str, Any]]]
    causes: list[str]
    #: (alias, message) of targets that a complete listing shows missing.
    missing: list[tuple[str, str]]
    #: Targets named outside what the snapshot describes (a template naming a resource of
    #: another stack): not missing, not an error of collection; judged on the live system.
    elsewhere: list[str] = field(default_factory=list)


def in_scope(target: Mapping[str, Any], resource: Mapping[str, Any]) -> bool:
    """Same account, and same region unless either side is global."""
    if target["account"] != resource["account"]:
        return False
    return GLOBAL in (target["region"], resource["region"]) or (
        target["region"] == resource["region"]
    )


def names_resource(value: Any, resource: Mapping[str, Any], key: str = "") -> bool:
    """Whether a field's value names this resource (id, name, or a qualified ARN of it)."""
    if not isinstance(value, str) or not value:
        return False
    rid = str(resource["id"])
    if key == "name":
        return bool(value == resource["name"])
    if value == rid or (not key and value == resource["name"]):
        return True
    # A qualified ARN (an alias or version of a Lambda function) names its function; no
    # other type has qualifiers, so ``...:queue-1:x`` never names ``queue-1``.
    return ":function:" in rid and value.startswith(rid + ":")


def as_values(found: Any) -> list[Any]:
    if found is None or found is MISSING:
        return []
    return found if isinstance(found, list) else [found]


class RelatedFinder:
    """Resolves related specs against one snapshot; indexes are built once per (type, path)."""

    def __init__(
        self,
        by_type: Mapping[str, list[Mapping[str, Any]]],
        collected: set[str],
        incomplete: Callable[[str, str | None], list[str]],
        outside_listing: Callable[[str, str, str], str | None],
        blocked_of: Callable[[Mapping[str, Any]], BlockedLookup],
        context_of: Callable[[Mapping[str, Any]], EvalContext],
        elsewhere: Callable[[str, str, str], str | None] | None = None,
    ) -> None:
        self.elsewhere = elsewhere
        self.by_type = by_type
        self.collected = collected
        self.incomplete = incomplete
        self.outside_listing = outside_listing
        self.blocked_of = blocked_of
        self.context_of = context_of
        self._where_verdicts: dict[tuple[int, int], tuple[Any, list[str]]] = {}
        self._back: dict[tuple[str, str], tuple[dict[str, list[Mapping[str, Any]]], list[Any]]] = {}
        self._by_account: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
        self._pools: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}

    def resolve(
        self,
        specs: Mapping[str, RelatedSpec],
        resource: Mapping[str, Any],
        ctx: EvalContext,
        name_of: Callable[[RelatedSpec], str],
    ) -> Resolution:
        resolution = Resolution({}, [], [])
        for alias, spec in specs.items():
            if spec.type not in self.collected:
                resolution.causes.append(f"related {alias}: {spec.type} was not collected")
                continue
            # Targets are in the resource's own account: only that account's gaps hide one.
            gaps = self.incomplete(spec.type, str(resource["account"]) or None)
            targets, unresolved = self._candidates(spec, resource, ctx, name_of, resolution)
            if targets is None:
                continue
            if spec.where is not None:
                kept = []
                for target in targets:
                    verdict, causes = self._where(spec, target)
                    if verdict is UNDECIDED:
                        resolution.causes.extend(
                            f"related {alias} {target['name']}: {cause}" for cause in causes
                        )
                    elif verdict:
                        kept.append(target)
                targets = kept
            resolution.targets[alias] = targets
            if gaps and (unresolved or not targets or not spec.must_exist):
                # A set found by a field of the targets is only whole if every target was listed.
                resolution.causes.extend([*gaps, f"cannot tell which {alias} exist"])
                continue
            wanted_names = unresolved or ([name_of(spec)] if spec.name and not targets else [])
            if self.elsewhere is not None:
                away = [
                    why
                    for wanted in wanted_names
                    if (why := self.elsewhere(spec.type, resource["account"], wanted))
                ]
                if away:
                    resolution.elsewhere.extend(away)
                    continue
            outside = [
                why
                for wanted in wanted_names
                if (why := self.outside_listing(spec.type, resource["account"], wanted))
            ]
            if outside:
                resolution.causes.extend(outside)
                continue
            if unresolved:
                names = ", ".join(unresolved)
                resolution.missing.append((alias, f"the related {alias} {names} does not exist"))
                ctx.evidence[f"related.{alias}"] = f"{names} (does not exist)"
                continue
            elif not targets and spec.name is not None:
                words = f"the related {alias} {name_of(spec)} does not exist"
                resolution.missing.append((alias, words))
                ctx.evidence[f"related.{alias}"] = f"{name_of(spec)} (does not exist)"
                continue
            elif not targets and (spec.must_exist or spec.when_missing):
                resolution.missing.append((alias, f"no {alias}: {spec.describe()}"))
            ctx.evidence[f"related.{alias}"] = (
                [str(t["id"]) for t in targets] if not spec.must_exist or len(targets) != 1
                else str(targets[0]["id"])
            )  # fmt: skip
        return resolution

    def _where(self, spec: RelatedSpec, target: Mapping[str, Any]) -> tuple[Any, list[str]]:
        """A related ``where`` on one target, decided once: it reads the target alone, so
        every selected resource asking about the same alarm gets the same answer (without
        this, "an alarm on each function" re-checks every alarm for every function)."""
        key = (id(spec), id(target))
        found = self._where_verdicts.get(key)
        if found is None:
            target_ctx = self.context_of(target)
            verdict = spec.where(target_ctx) if spec.where is not None else True
            found = self._where_verdicts[key] = (verdict, list(target_ctx.causes))
        return found

    def _candidates(
        self,
        spec: RelatedSpec,
        resource: Mapping[str, Any],
        ctx: EvalContext,
        name_of: Callable[[RelatedSpec], str],
        resolution: Resolution,
    ) -> tuple[list[Mapping[str, Any]] | None, list[str]]:
        pool = self._pool(spec.type, resource)
        if spec.name is not None:
            wanted = name_of(spec)
            return [t for t in pool if t["name"] == wanted], []
        if spec.source is not None:
            found = spec.source.read(ctx, None, True)
            if found is UNDECIDED:
                resolution.causes.extend(ctx.causes)
                return None, []
            targets: list[Mapping[str, Any]] = []
            unresolved: list[str] = []
            for value in as_values(found):
                hits = [t for t in pool if names_resource(value, t)]
                if hits:
                    targets.extend(h for h in hits if h not in targets)
                else:
                    unresolved.append(str(value))
            return targets, unresolved
        if spec.back is not None:
            index, undecided = self._back_index(spec, resource)
            key = str(resource["name"] if spec.key == "name" else resource["id"])
            if undecided:
                resolution.causes.extend(undecided)
                return None, []
            hits = list(index.get(key, []))
            if spec.key != "name" and ":function:" in str(resource["id"]):
                prefix = str(resource["id"]) + ":"
                hits.extend(
                    t for value, ts in index.items() if value.startswith(prefix) for t in ts
                    if t not in hits
                )  # fmt: skip
            return hits, []
        return pool, []

    def _pool(self, type_name: str, resource: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The resources of a type in the resource's scope, grouped once per type by account
        and kept per (type, account, region): filtering every resource of the type for every
        selected resource is quadratic in an organisation's size (1,000 accounts: 380 M
        scope checks, most of a merge's time)."""
        key = (type_name, str(resource["account"]), str(resource["region"]))
        pool = self._pools.get(key)
        if pool is None:
            accounts = self._by_account.get(type_name)
            if accounts is None:
                accounts = self._by_account[type_name] = defaultdict(list)
                for target in self.by_type.get(type_name, []):
                    accounts[str(target["account"])].append(target)
            same_account = accounts.get(key[1], [])
            pool = self._pools[key] = [t for t in same_account if in_scope(t, resource)]
        return pool

    def _back_index(
        self, spec: RelatedSpec, resource: Mapping[str, Any]
    ) -> tuple[dict[str, list[Mapping[str, Any]]], list[str]]:
        """Value -> targets naming it, per (type, path); and causes that leave it undecided."""
        assert spec.back is not None
        scope = (spec.type, spec.back.path, resource["account"], resource["region"])
        cache_key = ("|".join(scope[:2]), f"{scope[2]}/{scope[3]}")
        cached = self._back.get(cache_key)
        if cached is not None:
            return cached[0], cached[1]
        index: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        undecided: list[str] = []
        open_keys = top_level_keys(spec.back.path)
        for target in self._pool(spec.type, resource):
            unknown = target.get("unknown")
            if unknown and (hidden := sorted(open_keys & unknown.keys())):
                # A template value left open (a consumer's queue by ImportValue) could name
                # this resource: not "names nothing", which would hide a consumer.
                undecided.extend(
                    f"cannot tell whether {target['name']} refers to it: {unknown[key]['reason']}"
                    for key in hidden
                )
                continue
            target_ctx = self.context_of(target)
            found = spec.back.read(target_ctx, None, True)
            if found is UNDECIDED:
                undecided.extend(
                    f"cannot tell whether {target['name']} refers to it: {cause}"
                    for cause in target_ctx.causes
                )
                continue
            for value in as_values(found):
                if isinstance(value, str) and target not in index[value]:
                    index[value].append(target)
        self._back[cache_key] = (dict(index), undecided)
        return dict(index), undecided
