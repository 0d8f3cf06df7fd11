"""A rule compiled against a set of parameter values: ready to select and evaluate."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from runbook_guard.engine.access import CompileError
from runbook_guard.engine.conditions import Condition, compile_condition, describe
from runbook_guard.engine.params import ParameterError, expand_names, references, substitute
from runbook_guard.engine.paths import PathError, compile_path
from runbook_guard.engine.plan import LogQuery, MetricQuery
from runbook_guard.engine.thresholds import Levels, ThresholdError, parse_levels
from runbook_guard.engine.values import Value, compile_value

_DEFAULT_REDUCE = {"Sum": "sum", "SampleCount": "sum", "Maximum": "max", "Minimum": "min"}
_METRIC_STAT = re.compile(r"^(Sum|Average|Maximum|Minimum|SampleCount|p\d{1,2}(\.\d+)?)$")


@dataclass(frozen=True)
class RuleSource:
    file: str
    line: int
    expect_line: int

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "expect_line": self.expect_line}


@dataclass
class CompiledRule:
    """Everything evaluation and collection planning need of one rule."""

    id: str
    title: str
    kind: str
    severity: str
    cadence: str
    covers: list[str]
    section: str
    description: str
    remediation: str
    tags: list[str]
    pack: str
    source: RuleSource
    resource_type: str = ""
    names: list[tuple[str, dict[str, Any]]] | None = None
    name_pattern: re.Pattern[str] | None = None
    where: Condition | None = None
    related: dict[str, tuple[str, str]] = field(default_factory=dict)
    expect: Condition | None = None
    warn_unless: Condition | None = None
    value: Value | None = None
    levels: Levels | None = None
    unit: str = ""
    informational: bool = False
    evidence: list[tuple[str, Any]] = field(default_factory=list)
    no_data: str = "error"
    when_none: str = "note"
    when_none_message: str = ""
    #: Per status, a message template of the rule's own ({value}, {abs}, {unit} replaced).
    custom_level_messages: dict[str, str] = field(default_factory=dict)
    expected: str = ""
    metrics: dict[str, MetricQuery] = field(default_factory=dict)
    logs: dict[str, LogQuery] = field(default_factory=dict)
    collect: dict[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def conditions(self) -> list[tuple[Condition, str]]:
        """The conditions to check in order, each with the status it gives when unmet."""
        pairs = ((self.expect, "fail"), (self.warn_unless, "warn"))
        return [(condition, unmet) for condition, unmet in pairs if condition is not None]

    @cached_property
    def level_messages(self) -> dict[str, str]:
        """Per status, the message for a value (a ``{}`` slot), thresholds already filled in."""
        spaced = self.unit in ("", "%") or self.unit.startswith("/")
        value = "{}" + _braces(self.unit if spaced else f" {self.unit}")
        if self.levels is None:
            return {"pass": f"{value} (informational)"}
        texts = {k: _braces(v) for k, v in self.levels.texts().items()}
        return {
            "pass": f"{value} is in the normal range",
            "note": f"{value} is above normal ({texts['normal']}) but not past warning",
            "warn": f"{value} is past the warning threshold ({texts['warn']})",
            "fail": f"{value} is past the critical threshold ({texts['fail']})",
        }

    def metadata(self) -> dict[str, Any]:
        """The rule as the results document describes it to reporters."""
        meta: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "severity": self.severity,
            "cadence": self.cadence,
            "covers": list(self.covers),
            "section": self.section,
            "source": self.source.as_dict(),
            "tags": list(self.tags),
            "pack": self.pack,
        }
        for key in ("description", "remediation", "expected"):
            if getattr(self, key):
                meta[key] = getattr(self, key)
        if self.resource_type:
            meta["resource_type"] = self.resource_type
        return meta

    def name_selected(self, name: str) -> bool:
        """Selection by name alone: what the collector can decide before fetching details."""
        if self.names is not None and name not in {n for n, _ in self.names}:
            return False
        return self.name_pattern is None or self.name_pattern.search(name) is not None


def _braces(text: str) -> str:
    """Text made safe to sit inside a str.format template."""
    return text.replace("{", "{{").replace("}", "}}")


def _hours(at: tuple[str | int, ...], value: Any, default: float) -> int:
    hours = default if value is None else value
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours <= 0:
        raise CompileError(at, f"window must be a positive number of hours, not {hours!r}")
    return int(float(hours) * 3600)


def _metric_query(at: tuple[str | int, ...], spec: dict[str, Any]) -> MetricQuery:
    stat = str(spec["stat"])
    if not _METRIC_STAT.match(stat):
        raise CompileError((*at, "stat"), f"unknown statistic {stat!r}")
    window = _hours((*at, "window_hours"), spec.get("window_hours"), 24)
    period = window
    if spec.get("period_minutes") is not None:
        minutes = spec["period_minutes"]
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
            raise CompileError((*at, "period_minutes"), "period must be a positive whole number")
        period = minutes * 60
        if window % period:
            raise CompileError((*at, "period_minutes"), "period must divide the window evenly")
    reduce = str(
        spec.get("reduce") or _DEFAULT_REDUCE.get(stat, "max" if stat[0] == "p" else "avg")
    )
    dimensions = tuple(sorted((str(k), str(v)) for k, v in (spec.get("dimensions") or {}).items()))
    dims = ",".join(f"{k}={v}" for k, v in dimensions)
    key = f"{spec['namespace']}/{spec['metric']}:{stat}:{dims}:{window}s/{period}s:{reduce}"
    return MetricQuery(key, str(spec["namespace"]), str(spec["metric"]), stat, dimensions,
                       window, period, reduce)  # fmt: skip


def compile_rule(
    spec: dict[str, Any],
    parameters: Mapping[str, Any],
    tables: Mapping[str, Mapping[str, Any]],
    source: RuleSource,
    pack: str,
) -> CompiledRule:
    """Compile one schema-valid rule mapping; raises CompileError located inside the rule."""
    kind = spec.get("kind", "check")
    names_spec = (spec.get("select") or {}).get("names")
    related_spec = spec.get("related") or {}
    body = {k: v for k, v in spec.items() if k not in ("tests", "related")}
    if names_spec is not None:
        body["select"] = {k: v for k, v in spec["select"].items() if k != "names"}
    try:
        resolved = substitute(body, parameters)
    except ParameterError as error:
        raise CompileError((), str(error)) from None
    rule = CompiledRule(
        id=spec["id"], title=resolved["title"], kind=kind, severity=spec["severity"],
        cadence=spec["cadence"], covers=list(spec["covers"]), section=resolved["section"],
        description=str(resolved.get("description", "")).strip(),
        remediation=str(resolved.get("remediation", "")).strip(),
        tags=list(spec.get("tags", [])), pack=pack, source=source,
        resource_type=str(spec.get("resource", "")),
        no_data=spec.get("no_data", "error"), when_none=spec.get("when_none", "note"),
        when_none_message=str(resolved.get("when_none_message", "")),
        collect=dict(resolved.get("collect") or {}), parameters=parameters,
    )  # fmt: skip
    if kind == "manual":
        _require_absent(spec, ("resource", "select", "expect", "warn_unless", "value", "levels"))
        if not spec.get("attestation"):
            raise CompileError(("attestation",), "a manual rule needs 'attestation' text")
        rule.expected = str(resolved["attestation"]).strip()
        return rule
    if not rule.resource_type:
        raise CompileError(("resource",), "a check rule needs 'resource' (the resource type)")
    _compile_selection(rule, resolved.get("select") or {}, names_spec, related_spec, parameters)
    for name, metric in (resolved.get("metrics") or {}).items():
        rule.metrics[name] = _metric_query(("metrics", name), metric)
    for name, query in (resolved.get("logs") or {}).items():
        window = _hours(("logs", name, "window_hours"), query.get("window_hours"), 24)
        rule.logs[name] = LogQuery(f"count({query['pattern']})/{window}s", query["pattern"], window)
    _compile_checks(rule, resolved, tables)
    return rule


def _require_absent(spec: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in spec:
            raise CompileError((key,), f"a manual rule has no '{key}': a person attests it")


def _compile_selection(
    rule: CompiledRule,
    select: dict[str, Any],
    names_spec: list[str] | None,
    related_spec: dict[str, Any],
    parameters: Mapping[str, Any],
) -> None:
    if names_spec is not None:
        try:
            rule.names = [pair for t in names_spec for pair in expand_names(t, parameters)]
        except ParameterError as error:
            raise CompileError(("select", "names"), str(error)) from None
    if "name_matches" in select:
        try:
            rule.name_pattern = re.compile(str(select["name_matches"]))
        except re.error as error:
            at = ("select", "name_matches")
            raise CompileError(at, f"invalid regular expression: {error}") from None
    if "where" in select:
        rule.where = compile_condition(("select", "where"), select["where"])
    bound = {name for _, bindings in rule.names or [] for name in bindings}
    for alias, target in related_spec.items():
        template = str(target["name"])
        for _, name in references(template):
            if isinstance(parameters.get(name), list) and name not in bound:
                where = ("related", alias, "name")
                message = f"list parameter '${{{name}}}' is not bound by select.names"
                raise CompileError(where, message)
        rule.related[alias] = (str(target["type"]), template)


def _compile_checks(
    rule: CompiledRule, resolved: dict[str, Any], tables: Mapping[str, Mapping[str, Any]]
) -> None:
    has_value, has_levels = "value" in resolved, "levels" in resolved
    rule.informational = bool(resolved.get("informational", False))
    if rule.informational:
        if not has_value or has_levels:
            at = ("levels",) if has_levels else ("informational",)
            raise CompileError(at, "an informational rule has a 'value' and no 'levels'")
    elif has_value != has_levels:
        missing = "levels" if has_value else "value"
        raise CompileError((missing,), f"'value' and 'levels' go together; '{missing}' is missing")
    for label, expression in (resolved.get("evidence") or {}).items():
        try:
            getter, _roots = compile_path(str(expression))
        except PathError as error:
            raise CompileError(("evidence", label), str(error)) from None
        rule.evidence.append((str(label), getter))
    if "expect" not in resolved and "warn_unless" not in resolved and not has_value:
        message = "a check rule needs 'expect', 'warn_unless', or 'value' with 'levels'"
        raise CompileError((), message)
    words = []
    if "expect" in resolved:
        rule.expect = compile_condition(("expect",), resolved["expect"])
        words.append(describe(resolved["expect"]))
    if "warn_unless" in resolved:
        rule.warn_unless = compile_condition(("warn_unless",), resolved["warn_unless"])
        words.append(f"warn unless {describe(resolved['warn_unless'])}")
    if has_value:
        rule.unit = str(resolved["value"].get("unit", ""))
        metric_keys = {name: q.key for name, q in rule.metrics.items()}
        log_keys = {name: q.key for name, q in rule.logs.items()}
        value = compile_value(("value",), resolved["value"], metric_keys, log_keys, tables)
        if "ratio" in resolved["value"] and rule.unit == "%":
            value = _percent(value)
        rule.value = value
        if rule.informational:
            words.append("informational: the value is reported, not judged")
        else:
            rule.custom_level_messages = dict(resolved["levels"].get("messages") or {})
            try:
                rule.levels = parse_levels(resolved["levels"], rule.unit)
            except ThresholdError as error:
                raise CompileError(("levels",), str(error)) from None
            words.append(rule.levels.describe())
    rule.expected = "; ".join(words)


def _percent(value: Value) -> Value:
    def percent(ctx: Any) -> Any:
        result = value(ctx)
        return result * 100 if isinstance(result, float) else result

    return percent
