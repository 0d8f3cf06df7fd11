"""From compiled rules to the collection plan: what to list, which metrics, which log counts.

Only what some rule needs is collected, so a run with one rule makes a handful of calls.
Related resources count as needed too: the DLQ a queue must redrive to is listed even when
no rule selects DLQs themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runbook_guard.engine.loader import PolicySet
from runbook_guard.engine.plan import CollectionPlan, ResourcePredicate
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
    for rule in rules:
        if rule.kind == "manual" or not rule.resource_type:
            continue
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
        for related in rule.related.values():
            plan.request(related.type)
    for request in plan.types.values():
        request.metrics.sort(key=lambda pair: pair[0].key)
        request.log_queries.sort(key=lambda pair: pair[0].key)
    plan.types = dict(sorted(plan.types.items()))
    return plan


def _either(first: ResourcePredicate, second: ResourcePredicate) -> ResourcePredicate:
    return lambda resource: first(resource) or second(resource)


def plan_collection(policy_set: PolicySet, overrides: Mapping[str, Any]) -> CollectionPlan:
    """The plan for a loaded policy set with parameter overrides applied."""
    return build_plan(policy_set.compile(overrides), policy_set.effective_parameters(overrides))
