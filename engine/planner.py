"""From compiled rules to the collection plan: what to list, which metrics, which log counts.

Only what some rule needs is collected, so a run with one rule makes a handful of calls.
Related resources count as needed too: the DLQ a queue must redrive to is listed even when
no rule selects DLQs themselves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, cast

from runbook_guard.engine.context import EvalContext, nothing_blocked
from runbook_guard.engine.loader import PolicySet
from runbook_guard.engine.params import expand_names
from runbook_guard.engine.plan import CollectionPlan, ResourcePredicate, Selector, TypeRequest
from runbook_guard.engine.reads import ALL
from runbook_guard.engine.related import RelatedSpec
from runbook_guard.engine.rules import CompiledRule


def _selector(rule: CompiledRule) -> ResourcePredicate:
    """Name-based selection only: details a rule filters on may not be collected yet."""

    def selects(resource: Mapping[str, Any]) -> bool:
        return rule.name_selected(str(resource.get("name", "")))

    return selects


def _merge_option(options: dict[str, list[Any]], key: str, value: Any) -> None:
    values = value if isinstance(value, list) else [value]
    merged = options.setdefault(key, [])
    for item in values:
        if item not in merged:
            merged.append(item)
    merged.sort(key=_option_order)


def _option_order(value: Any) -> tuple[int, float, str]:
    """Numbers by value (a window of 168 hours is wider than 24), everything else as text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, repr(value))


def build_plan(rules: Sequence[CompiledRule], parameters: Mapping[str, Any]) -> CollectionPlan:
    """The plan for these rules."""
    plan = CollectionPlan(parameters=dict(parameters))
    plan_rules: dict[str, list[CompiledRule]] = {}
    for rule in rules:
        if rule.kind != "manual" and rule.resource_type:
            plan_rules.setdefault(rule.resource_type, []).append(rule)
        for related in rule.related.values():
            plan_rules.setdefault(related.type, []).append(rule)
    for rule in rules:
        if rule.kind == "manual" or not rule.resource_type:
            continue
        plan.rules[rule.id] = rule.fingerprint
        request = plan.request(rule.resource_type)
        selects = _selector(rule)
        known_metrics = {query.key for query, _ in request.metrics}
        for query in rule.metrics.values():
            if query.key in known_metrics:
                previous = [p for q, p in request.metrics if q.key == query.key]
                request.metrics = [(q, p) for q, p in request.metrics if q.key != query.key]
                request.metrics.append((query, _either(previous[0], selects)))
            else:
                request.metrics.append((query, selects))
        for log_query in rule.logs.values():
            request.log_queries.append((log_query, selects))
        for key, value in rule.collect.items():
            _merge_option(request.options, key, value)
        _add_reads(plan, rule)
        request.selectors.append(_own_selector(rule))
        for related in rule.related.values():
            target = plan.request(related.type)
            target.selectors.append(_related_selector(rule, related, parameters))
    for request in plan.types.values():
        request.planned = True
        request.prefixes = _prefixes(request, plan_rules.get(request.resource_type, []))
        request.metrics.sort(key=lambda pair: pair[0].key)
        request.log_queries.sort(key=lambda pair: pair[0].key)
    plan.types = dict(sorted(plan.types.items()))
    return plan


def _add_reads(plan: CollectionPlan, rule: CompiledRule) -> None:
    """Every key the rule reads, on the type it reads it of (``ALL``: the whole resource)."""
    for resource_type, keys in rule.reads.items():
        request = plan.request(resource_type)
        if request.keys is None:
            continue
        if ALL in keys:
            request.keys = None
        else:
            request.keys |= keys


#: A literal prefix of an anchored pattern: what a listing API can filter by on the server.
_LITERAL_PREFIX = re.compile(r"^\^((?:[A-Za-z0-9_/\-]|\\[./+])*)")
_TIMED = ("older_than", "newer_than")


def _own_selector(rule: CompiledRule) -> Selector:
    """The rule's selection as a listing can apply it (names, patterns, exclusions, where).

    An excluded name is not detailed for this rule (another rule may still ask for it).

    Its reads are the rule's own of the type, unless the rule also counts metrics or log events
    of it: what those need of a resource (an S3 bucket's region) is no key the rule names.
    """
    name = rule.name_selected if rule.selects_by_name else None
    enriched = bool(rule.metrics or rule.logs)
    reads = None if enriched else _reads_of(rule, rule.resource_type)
    if rule.where is None or rule.where_timed:
        return Selector(name=name, reads=reads)
    condition = rule.where
    now = datetime.now(timezone.utc)  # never used: timed conditions are not applied early

    def decide(data: Mapping[str, Any]) -> Any:
        return condition(EvalContext({"data": data}, data, now, nothing_blocked))

    return Selector(name=name, where=decide, where_reads=frozenset(rule.where_reads), reads=reads)


def _related_selector(
    rule: CompiledRule, related: RelatedSpec, parameters: Mapping[str, Any]
) -> Selector:
    """Which targets of a related lookup may need details, judged on their listing.

    A lookup by name selects those names; by ``from`` or ``referenced_by``, any resource of the
    type. A ``where`` is applied to each listed target (``ListingOnly``: reading a key only a
    detail fills keeps the target) with no clock: a condition on ages cannot compute there and
    keeps it too, since "older than" may hold by the time the snapshot is evaluated. The reads
    are the rule's of the target type: a queue found ``from`` a mapping's ARN whose URL alone is
    read needs no attribute call.
    """
    reads = _reads_of(rule, related.type)
    name = None
    if related.name is not None:
        name = {n for n, _ in expand_names(related.name, parameters)}.__contains__
    if related.where is None or reads is None:
        return Selector(name=name, reads=reads)
    condition = related.where

    def decide(data: Mapping[str, Any]) -> Any:
        return condition(EvalContext({"data": data}, data, _NO_CLOCK, nothing_blocked))

    return Selector(name=name, where=decide, reads=reads)


#: The evaluation time of a related ``where`` applied to a listing: none, so a timed condition
#: fails to compute (and the resource is kept) instead of deciding on the collection's clock.
_NO_CLOCK: datetime = cast(datetime, None)


def _reads_of(rule: CompiledRule, resource_type: str) -> frozenset[str] | None:
    """The keys the rule reads of a type; ``None`` when it reads the whole resource."""
    keys = rule.reads.get(resource_type, set())
    return None if ALL in keys else frozenset(keys)


_QUANTIFIED = frozenset("?*{")


def literal_prefix(pattern: str) -> str:
    """The text every name the anchored pattern matches must start with ("" if none is sure).

    Only a plain ``^literal`` start counts: a character followed by ``?``, ``*`` or ``{`` may be
    absent, so it is dropped; an alternation anywhere, flags or a pattern not anchored at its
    start give no prefix (the listing must then be whole).
    """
    if not pattern.startswith("^") or "|" in pattern or pattern.startswith("^(?"):
        return ""
    found = _LITERAL_PREFIX.match(pattern)
    if found is None:
        return ""
    literal = found.group(1)
    following = pattern[found.end() : found.end() + 1]
    if following in _QUANTIFIED and literal:
        literal = literal[:-2] if literal.endswith(("\\.", "\\/", "\\+")) else literal[:-1]
    return literal.replace("\\", "")


def _prefixes(request: TypeRequest, rules: Sequence[CompiledRule]) -> list[str] | None:
    """Name prefixes covering every resource some rule may select; ``None``: list them all.

    Exact names are their own prefixes; an anchored pattern gives its literal start
    (``^/aws/lambda/agenticai`` gives ``/aws/lambda/agenticai``). Any rule without a name
    selection, or a related lookup by field, needs the whole listing.
    """
    prefixes: set[str] = set()
    for rule in rules:
        if rule.resource_type == request.resource_type:
            if rule.names is not None:
                prefixes.update(n for n, _ in rule.names)
            elif rule.name_pattern is not None:
                literal = literal_prefix(rule.name_pattern.pattern)
                if not literal:
                    return None
                prefixes.add(literal)
            else:
                return None
        for related in rule.related.values():
            if related.type != request.resource_type:
                continue
            if related.name is None:
                return None
            prefixes.update(n for n, _ in expand_names(related.name, rule.parameters))
    # A prefix that another prefix starts with adds nothing.
    ordered = sorted(prefixes)
    return [p for p in ordered if not any(p != q and p.startswith(q) for q in ordered)]


def _either(first: ResourcePredicate, second: ResourcePredicate) -> ResourcePredicate:
    return lambda resource: first(resource) or second(resource)


def plan_collection(policy_set: PolicySet, overrides: Mapping[str, Any]) -> CollectionPlan:
    """The plan for a loaded policy set with parameter overrides applied."""
    return build_plan(policy_set.compile(overrides), policy_set.effective_parameters(overrides))
