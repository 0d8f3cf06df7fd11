"""Which top-level ``data`` keys of which resource types a rule reads.

The collection plan asks for a detail call only when some loaded rule reads a key that call
fills (issue: "only the calls the rules read"). That needs every path of a rule, in every place
a path can hide (conditions, values, evidence, related lookups and operands, metric dimensions
``{each:PATH}``), resolved to the *top-level* keys it reads and to the type it reads them of:
a related alias's conditions read the target's type, a quantifier's inner condition reads list
items (nothing at the top level).

JMESPath is analysed on its syntax tree: a projection, filter or pipe reads its left side at the
current level and everything else relative to the items, so ``Metrics[].MetricStat.Metric``
reads ``Metrics`` and nothing more. ``@`` (or a bare ``*``) at the top level reads the whole
resource, written ``ALL``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import jmespath

from runbook_guard.engine.paths import is_simple

#: "every key of the type": a path that reads the whole resource (``@``).
ALL = "*"
_ITEM_RELATIVE = ("all_items", "any_item")
_LEFT_ONLY = {
    "subexpression", "index_expression", "projection", "value_projection",
    "filter_projection", "pipe",
}  # fmt: skip
_NOTHING = {"literal", "index", "slice", "expref", "raw_literal", "number"}


def top_level_keys(expression: str) -> frozenset[str]:
    """The top-level keys a JMESPath expression reads of the data it is applied to."""
    if is_simple(expression):
        return frozenset({expression.split(".", 1)[0]})
    try:
        tree = jmespath.compile(expression).parsed
    except jmespath.exceptions.JMESPathError:
        return frozenset()  # the loader reports the syntax error itself
    return frozenset(_roots(tree))


def mentioned_fields(expression: str) -> frozenset[str]:
    """Every field name an expression names anywhere, at any depth: what a path reading the
    whole resource (``[@, Metrics[]][] | [?Namespace=='AWS/SQS']``) can possibly look at."""
    try:
        tree = jmespath.compile(expression).parsed
    except jmespath.exceptions.JMESPathError:
        return frozenset()
    found: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if node.get("type") == "field":
            found.add(str(node["value"]))
        stack.extend(c for c in node.get("children", []) if isinstance(c, Mapping))
    return frozenset(found)


def _roots(node: Mapping[str, Any]) -> set[str]:
    kind = node.get("type")
    children = [c for c in node.get("children", []) if isinstance(c, Mapping)]
    if kind == "field":
        return {str(node["value"])}
    if kind in ("current", "identity"):
        return {ALL}
    if kind in _NOTHING:
        return set()
    if kind in _LEFT_ONLY:
        return _roots(children[0]) if children else set()
    found: set[str] = set()
    for child in children:
        if child.get("type") != "expref":  # &expr is applied to items, not to the data
            found |= _roots(child)
    return found


class Reads:
    """Per resource type, the top-level keys read; with where each one is read, for errors."""

    def __init__(self, rule_type: str, related: Mapping[str, str]) -> None:
        self.rule_type = rule_type
        self.related = related
        self.keys: dict[str, set[str]] = defaultdict(set)
        #: (type, key) -> the first path that reads it (to name it when nothing fills it).
        self.where: dict[tuple[str, str], str] = {}
        #: Per type, every whole path read: a template knows a queue's VisibilityTimeout but
        #: not its ApproximateNumberOfMessages, both under the one top-level key Attributes.
        self.paths: dict[str, set[str]] = defaultdict(set)

    def path(self, resource_type: str, expression: Any) -> None:
        if not isinstance(expression, str) or not expression:
            return
        self.paths[resource_type].add(expression)
        for key in top_level_keys(expression):
            self.keys[resource_type].add(key)
            self.where.setdefault((resource_type, key), expression)

    def envelope_path(self, resource_type: str, expression: Any) -> None:
        """A path into a related resource's envelope: only ``data.<path>`` reads its data
        (the loader refuses any other expression that would read it)."""
        if isinstance(expression, str) and expression.startswith("data."):
            self.path(resource_type, expression.removeprefix("data."))
        elif isinstance(expression, str) and "data" in top_level_keys(expression):
            self.keys[resource_type].add(ALL)  # unreachable through the loader; whole if so

    def alias(self, name: Any) -> str:
        return self.related.get(str(name), "")

    def condition(self, resource_type: str, spec: Any) -> None:
        if not isinstance(spec, Mapping):
            return
        for key in ("all", "any"):
            for part in spec.get(key) or []:
                self.condition(resource_type, part)
        if "not" in spec:
            self.condition(resource_type, spec["not"])
        if "related" in spec and isinstance(spec["related"], str):  # a condition per target
            target = self.alias(spec["related"])
            for key in _ITEM_RELATIVE:
                if key in spec and target:
                    self.condition(target, spec[key])
            return
        self.path(resource_type, spec.get("path"))
        for value in spec.values():  # a related operand reads the target's envelope
            if isinstance(value, Mapping) and isinstance(value.get("related"), str):
                self.envelope_path(self.alias(value["related"]), value.get("path", "id"))
        for key in _ITEM_RELATIVE:  # items are not top-level, but related lookups inside are
            if key in spec:
                self.related_inside(spec[key])

    def related_inside(self, spec: Any) -> None:
        """Related operands and quantifiers nested in an item-relative condition."""
        if isinstance(spec, Mapping):
            if isinstance(spec.get("related"), str):
                self.condition(resource_type="", spec=spec)
                return
            for key, value in spec.items():
                if isinstance(value, Mapping) and isinstance(value.get("related"), str):
                    self.envelope_path(self.alias(value["related"]), value.get("path", "id"))
                elif key in ("all", "any") and isinstance(value, list):
                    for part in value:
                        self.related_inside(part)
                elif key in ("not", *_ITEM_RELATIVE):
                    self.related_inside(value)

    def value(self, resource_type: str, spec: Any) -> None:
        if not isinstance(spec, Mapping):
            return
        self.path(resource_type, spec.get("path"))
        if isinstance(spec.get("ratio"), Mapping):
            for part in ("numerator", "denominator"):
                self.value(resource_type, spec["ratio"].get(part))
        for item in spec.get("max_of") or []:
            self.value(resource_type, item)
        for key in ("days_since", "days_until"):
            self.value(resource_type, spec.get(key))
        if isinstance(spec.get("lookup"), Mapping):
            self.value(resource_type, spec["lookup"].get("key"))


def rule_reads(resolved: Mapping[str, Any], rule_type: str, related: Mapping[str, Any]) -> Reads:
    """Every (type, key) a rule reads; ``resolved`` is the rule with its parameters filled."""
    reads = Reads(rule_type, {alias: str(spec.get("type", "")) for alias, spec in related.items()})
    for alias, spec in related.items():
        target = str(spec.get("type", ""))
        reads.path(rule_type, spec.get("from"))
        reads.path(target, spec.get("referenced_by"))
        reads.condition(target, spec.get("where"))
        del alias
    reads.condition(rule_type, (resolved.get("select") or {}).get("where"))
    for key in ("expect", "warn_unless"):
        reads.condition(rule_type, resolved.get(key))
    reads.value(rule_type, resolved.get("value"))
    for expression in (resolved.get("evidence") or {}).values():
        if isinstance(expression, str):
            reads.path(rule_type, expression)
        elif isinstance(expression, Mapping) and "related" in expression:
            reads.envelope_path(reads.alias(expression["related"]), expression.get("path", "id"))
        else:
            reads.value(rule_type, expression)
    for metric in (resolved.get("metrics") or {}).values():
        for part in _metric_parts(metric):
            for values in (part.get("dimensions") or {}).values():
                for value in values if isinstance(values, list) else [values]:
                    if isinstance(value, str) and value.startswith("{each:"):
                        reads.path(rule_type, value[len("{each:") : -1])
    return reads


def _metric_parts(metric: Any) -> Iterable[Mapping[str, Any]]:
    if not isinstance(metric, Mapping):
        return []
    parts = list(metric.get("sum_of") or [metric])
    if isinstance(metric.get("per"), Mapping):
        parts.append(metric["per"])
    return [p for p in parts if isinstance(p, Mapping)]
