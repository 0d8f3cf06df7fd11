"""A rule compiled against a set of parameter values: ready to select and evaluate."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from runbook_guard.engine.access import Attempts, CompileError, CompileErrors, compile_at
from runbook_guard.engine.conditions import Condition, compile_condition, describe
from runbook_guard.engine.metric_specs import metric_query, window_seconds
from runbook_guard.engine.params import ParameterError, expand_names, references, substitute
from runbook_guard.engine.paths import MISSING, PathError, compile_path
from runbook_guard.engine.plan import LogQuery, MetricQuery
from runbook_guard.engine.policy_schema import DEFAULT_CADENCE
from runbook_guard.engine.reads import rule_reads, top_level_keys
from runbook_guard.engine.regexes import Pattern, PatternError, compile_pattern
from runbook_guard.engine.related import RelatedSpec
from runbook_guard.engine.suggest import did_you_mean
from runbook_guard.engine.thresholds import Levels, ThresholdError, parse_levels
from runbook_guard.engine.values import Value, compile_value

#: The ``select`` keys listing name templates, expanded one name per list-parameter item.
NAME_LISTS = frozenset({"names", "exclude_names"})


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
    #: Who acts on the rule's findings (the config's ``owners:`` may say otherwise).
    owner: str = ""
    names: list[tuple[str, dict[str, Any]]] | None = None
    name_pattern: Pattern | None = None
    #: ``select.exclude_names`` and ``select.name_not_matches``: never judged, even if named.
    excluded_names: frozenset[str] = frozenset()
    exclude_pattern: Pattern | None = None
    where: Condition | None = None
    related: dict[str, RelatedSpec] = field(default_factory=dict)
    expect: Condition | None = None
    warn_unless: Condition | None = None
    value: Value | None = None
    levels: Levels | None = None
    unit: str = ""
    informational: bool = False
    #: label -> a path getter (called with the data) or a compiled value (with the context).
    evidence: list[tuple[str, Any, bool]] = field(default_factory=list)
    #: Earlier ids of this rule: waivers, history and fingerprints written for them follow it.
    replaces: list[str] = field(default_factory=list)
    #: Per resource type, the top-level data keys the rule reads (the collection plan's input).
    reads: dict[str, set[str]] = field(default_factory=dict)
    #: The top-level keys ``select.where`` reads, and whether it compares times (the collector
    #: may apply a where to a listing only when the listing fills those keys).
    where_reads: set[str] = field(default_factory=set)
    where_timed: bool = False
    #: (type, key) -> a path reading it, to name it when no collection call fills the key.
    read_by: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Per resource type, every whole path the rule reads (what a template cannot determine
    #: is declared by path, below the top-level keys: engine/phase.py).
    read_paths: dict[str, frozenset[str]] = field(default_factory=dict)
    #: The rule's text with the values of the parameters it uses: a field-level collection
    #: records it per rule, and a snapshot collected for another fingerprint cannot judge it.
    fingerprint: str = ""
    #: The runbook's own words the rule encodes, and why its thresholds are what they are.
    quote: str = ""
    rationale: str = ""
    no_data: str = "error"
    when_none: str = "note"
    when_none_message: str = ""
    #: "payer": the fact is the organisation's, held by its payer account (the free tier,
    #: consolidated budgets); "nothing matched" is then judged at the payer alone.
    held_by: str = "account"
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
        if self.replaces:
            meta["replaces"] = list(self.replaces)
        windows = sorted({q.describe_window() for q in self.metrics.values()})
        if windows:
            meta["window"] = "; ".join(windows)
        for key in ("description", "remediation", "expected", "quote", "rationale"):
            if getattr(self, key):
                meta[key] = getattr(self, key)
        if self.resource_type:
            meta["resource_type"] = self.resource_type
        return meta

    @cached_property
    def _named(self) -> frozenset[str] | None:
        return None if self.names is None else frozenset(n for n, _ in self.names)

    @property
    def selects_by_name(self) -> bool:
        """Whether the name alone can rule a resource out (names, patterns, exclusions)."""
        return self.names is not None or self.name_pattern is not None or self.excludes

    @property
    def excludes(self) -> bool:
        return bool(self.excluded_names) or self.exclude_pattern is not None

    def name_excluded(self, name: str) -> bool:
        """Whether the rule's exclusions take this name out of its selection."""
        if name in self.excluded_names:
            return True
        return self.exclude_pattern is not None and self.exclude_pattern.search(name) is not None

    def name_selected(self, name: str) -> bool:
        """Selection by name alone: what the collector can decide before fetching details."""
        named = self._named
        if named is not None and name not in named:
            return False
        if self.name_pattern is not None and self.name_pattern.search(name) is None:
            return False
        return not self.name_excluded(name)


def _braces(text: str) -> str:
    """Text made safe to sit inside a str.format template."""
    return text.replace("{", "{{").replace("}", "}}")


def compile_rule(
    spec: dict[str, Any],
    parameters: Mapping[str, Any],
    tables: Mapping[str, Mapping[str, Any]],
    source: RuleSource,
    pack: str,
) -> CompiledRule:
    """Compile one schema-valid rule mapping; raises CompileError located inside the rule."""
    kind = spec.get("kind", "check")
    select_spec = spec.get("select") or {}
    related_spec = spec.get("related") or {}
    body = {k: v for k, v in spec.items() if k not in ("tests", "related")}
    if NAME_LISTS & set(select_spec):  # expanded per item below, not pasted as text
        body["select"] = {k: v for k, v in select_spec.items() if k not in NAME_LISTS}
    try:
        resolved = substitute(body, parameters)
    except ParameterError as error:
        raise CompileError((), str(error)) from None
    rule = CompiledRule(
        id=spec["id"], title=resolved["title"], kind=kind, severity=spec["severity"],
        cadence=spec.get("cadence", DEFAULT_CADENCE), covers=list(spec.get("covers", [])),
        section=str(resolved.get("section") or pack),
        description=str(resolved.get("description", "")).strip(),
        remediation=str(resolved.get("remediation", "")).strip(),
        tags=list(spec.get("tags", [])), pack=pack, source=source,
        resource_type=str(spec.get("resource", "")), owner=str(resolved.get("owner") or ""),
        no_data=spec.get("no_data", "error"), when_none=spec.get("when_none", "note"),
        when_none_message=str(resolved.get("when_none_message", "")),
        held_by=str(spec.get("held_by", "account")),
        collect=dict(resolved.get("collect") or {}), parameters=parameters,
        replaces=list(spec.get("replaces", [])), quote=str(resolved.get("quote", "")).strip(),
        rationale=str(resolved.get("rationale", "")).strip(),
    )  # fmt: skip
    if kind == "manual":
        _require_absent(
            spec, ("resource", "select", "expect", "warn_unless", "value", "levels", "held_by")
        )
        if not spec.get("attestation"):
            raise CompileError(("attestation",), "a manual rule needs 'attestation' text")
        rule.expected = str(resolved["attestation"]).strip()
        return rule
    if not rule.resource_type:
        raise CompileError(("resource",), "a check rule needs 'resource' (the resource type)")
    attempts = Attempts()  # independent parts: every problem of the rule in one report
    attempts.run(lambda: _compile_selection(rule, resolved, select_spec, related_spec, parameters))
    for name, metric in (resolved.get("metrics") or {}).items():
        query = attempts.run(partial(metric_query, ("metrics", name), metric))
        if query is not None:
            rule.metrics[name] = query
    for name, log in (resolved.get("logs") or {}).items():
        attempts.run(partial(_log_query, rule, name, log))
    attempts.run(lambda: _check_aliases(resolved, related_spec))
    attempts.run(lambda: _compile_checks(rule, resolved, tables))
    attempts.check()
    if rule.held_by == "payer" and rule.names is not None:
        # held_by moves the "nothing matched" verdict, which a rule naming its resources never
        # gives (each name must exist in every account): accepted, it would mislead.
        raise CompileError(
            ("held_by",), "held_by: payer applies to rules without select.names (when_none)"
        )
    try:
        related_resolved = substitute(
            {a: {k: v for k, v in t.items() if k != "name"} for a, t in related_spec.items()},
            parameters,
        )
    except ParameterError as error:
        raise CompileError(("related",), str(error)) from None
    reads = rule_reads(resolved, rule.resource_type, related_resolved)
    rule.reads = {t: set(keys) for t, keys in reads.keys.items() if t}
    rule.read_by = dict(reads.where)
    rule.read_paths = {t: frozenset(paths) for t, paths in reads.paths.items() if t}
    rule.fingerprint = _fingerprint(spec, parameters)
    where = (resolved.get("select") or {}).get("where")
    if where is not None:
        rule.where_reads = rule_reads({"select": {"where": where}}, rule.resource_type, {}).keys[
            rule.resource_type
        ]
        rule.where_timed = any(op in str(where) for op in ("older_than", "newer_than"))
    return rule


def _log_query(rule: CompiledRule, name: str, query: Mapping[str, Any]) -> None:
    window = window_seconds(("logs", name, "window_hours"), query.get("window_hours"), 24)
    rule.logs[name] = LogQuery(f"count({query['pattern']})/{window}s", query["pattern"], window)


def _fingerprint(spec: Mapping[str, Any], parameters: Mapping[str, Any]) -> str:
    """sha256 of the rule (test cases aside) and the values of the parameters it names."""
    body = {k: v for k, v in spec.items() if k != "tests"}
    used = sorted({name for _, name in references(body)})
    text = json.dumps(
        {"rule": body, "parameters": {n: parameters.get(n) for n in used}},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _require_absent(spec: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in spec:
            raise CompileError((key,), f"a manual rule has no '{key}': a person attests it")


def _compile_selection(
    rule: CompiledRule,
    resolved: dict[str, Any],
    select_spec: dict[str, Any],
    related_spec: dict[str, Any],
    parameters: Mapping[str, Any],
) -> None:
    """Names, patterns, exclusions, ``where`` and the related lookups: each problem reported."""
    select = resolved.get("select") or {}
    attempts = Attempts()
    if select_spec.get("names") is not None:
        rule.names = attempts.run(lambda: _expand(select_spec, "names", parameters))
    if select_spec.get("exclude_names") is not None:
        excluded = attempts.run(lambda: _expand(select_spec, "exclude_names", parameters)) or []
        rule.excluded_names = frozenset(name for name, _ in excluded)
    if "name_matches" in select:
        rule.name_pattern = attempts.run(lambda: _pattern(select, "name_matches"))
    if "name_not_matches" in select:
        rule.exclude_pattern = attempts.run(lambda: _pattern(select, "name_not_matches"))
    if rule.names is not None:  # an excluded name is neither judged nor required to exist
        rule.names = [pair for pair in rule.names if not rule.name_excluded(pair[0])]
    if "where" in select:
        rule.where = attempts.run(lambda: compile_condition(("select", "where"), select["where"]))
    bound = {name for _, bindings in rule.names or [] for name in bindings}
    for alias, target in related_spec.items():
        found = attempts.run(
            partial(_related, ("related", alias), alias, target, parameters, bound)
        )
        if found is not None:
            rule.related[alias] = found
    for where_at, _alias in _aliases(("select", "where"), select.get("where")):
        message = "select.where reads the selected resource alone; compare with related in expect"
        attempts.errors.append(CompileError(where_at, message))
    attempts.check()


def _expand(
    select_spec: Mapping[str, Any], key: str, parameters: Mapping[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """``names`` or ``exclude_names``: each template, a list parameter giving one per item."""
    try:
        return [pair for t in select_spec[key] for pair in expand_names(t, parameters)]
    except ParameterError as error:
        raise CompileError(("select", key), str(error)) from None


def _pattern(select: Mapping[str, Any], key: str) -> Pattern:
    try:
        return compile_pattern(str(select[key]))
    except PatternError as error:
        raise CompileError(("select", key), f"invalid regular expression: {error}") from None


def _aliases(at: tuple[str | int, ...], node: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Every related alias a condition or value names, where it names it."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(node, dict):
        if isinstance(node.get("related"), str):
            found.append(((*at, "related"), node["related"]))
        for key, child in node.items():
            found.extend(_aliases((*at, key), child))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.extend(_aliases((*at, index), child))
    return found


def _check_aliases(resolved: dict[str, Any], declared: Collection[str]) -> None:
    """A condition on an undeclared alias would see an empty set: refuse it at load time."""
    errors = []
    for key in ("expect", "warn_unless", "value", "evidence"):
        for at, alias in _aliases((key,), resolved.get(key)):
            if alias not in declared:
                known = ", ".join(sorted(declared)) or "none"
                hint = did_you_mean(alias, declared)
                message = f"related '{alias}' is not declared{hint} (declared: {known})"
                errors.append(CompileError(at, message))
    if errors:
        raise CompileErrors(errors)


def _related(
    at: tuple[str | int, ...],
    alias: str,
    target: dict[str, Any],
    parameters: Mapping[str, Any],
    bound: set[str],
) -> RelatedSpec:
    ways = [k for k in ("name", "from", "referenced_by") if k in target]
    if len(ways) > 1:
        raise CompileError(at, f"a related resource is found one way, not by {' and '.join(ways)}")
    if not ways and "where" not in target:
        raise CompileError(at, "a related resource needs name, from, referenced_by or where")
    name = None
    if "name" in target:
        name = str(target["name"])
        for _, parameter in references(name):
            if isinstance(parameters.get(parameter), list) and parameter not in bound:
                message = f"list parameter '${{{parameter}}}' is not bound by select.names"
                raise CompileError((*at, "name"), message)
    try:  # everything but the name template, which is bound per selected resource
        rest = substitute({k: v for k, v in target.items() if k != "name"}, parameters)
    except ParameterError as error:
        raise CompileError(at, str(error)) from None
    key = str(rest.get("key", "id"))
    if key != "id" and "referenced_by" not in rest:
        raise CompileError((*at, "key"), "key goes with referenced_by")
    return RelatedSpec(
        alias=alias,
        type=str(rest["type"]),
        name=name,
        source=compile_at((*at, "from"), rest["from"]) if "from" in rest else None,
        back=compile_at((*at, "referenced_by"), rest["referenced_by"])
        if "referenced_by" in rest
        else None,
        key=key,
        where=compile_condition((*at, "where"), rest["where"]) if "where" in rest else None,
        when_missing=rest.get("when_missing"),
    )


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
    if "expect" not in resolved and "warn_unless" not in resolved and not has_value:
        message = "a check rule needs 'expect', 'warn_unless', or 'value' with 'levels'"
        raise CompileError((), message)
    # A metric that did not compile is still declared: a value naming it is not a second error.
    keys = {
        source: {
            name: query.key if query is not None else f"<invalid {name}>"
            for name in resolved.get(source) or {}
            for query in [getattr(rule, source).get(name)]
        }
        for source in ("metrics", "logs")
    }
    attempts = Attempts()
    for label, expression in (resolved.get("evidence") or {}).items():
        attempts.run(partial(_evidence, rule, label, expression, keys, tables))
    words = []
    if "expect" in resolved:
        rule.expect = attempts.run(lambda: compile_condition(("expect",), resolved["expect"]))
        words.append(describe(resolved["expect"]))
    if "warn_unless" in resolved:
        warn = resolved["warn_unless"]
        rule.warn_unless = attempts.run(lambda: compile_condition(("warn_unless",), warn))
        words.append(f"warn unless {describe(warn)}")
    if has_value:
        attempts.run(lambda: words.extend(_compile_value(rule, resolved, keys, tables)))
    attempts.check()
    rule.expected = "; ".join(words)


def _compile_value(
    rule: CompiledRule,
    resolved: dict[str, Any],
    keys: Mapping[str, Mapping[str, str]],
    tables: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """The rule's value and levels; returns the words of its expected text."""
    words = []
    rule.unit = str(resolved["value"].get("unit", ""))
    value = compile_value(("value",), resolved["value"], keys["metrics"], keys["logs"], tables)
    if "ratio" in resolved["value"] and rule.unit == "%":
        if resolved["value"].get("scale", 1) != 1:
            message = "a ratio in % is already multiplied by 100: drop 'scale'"
            raise CompileError(("value", "scale"), message)
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
    words.extend(sorted({q.describe_window() for q in rule.metrics.values()}))
    return words


def _evidence(
    rule: CompiledRule,
    label: str,
    expression: Any,
    keys: Mapping[str, Mapping[str, str]],
    tables: Mapping[str, Mapping[str, Any]],
) -> None:
    """One ``evidence`` entry: a related field, a value, or a path."""
    if isinstance(expression, dict) and "related" in expression:  # each target's field
        rule.evidence.append((str(label), _related_evidence(("evidence", label), expression), True))
        return
    if isinstance(expression, dict):  # a value (a ratio over the whole window, say)
        where: tuple[str | int, ...] = ("evidence", label)
        figure = compile_value(where, expression, keys["metrics"], keys["logs"], tables)
        if "ratio" in expression and expression.get("unit") == "%":
            figure = _percent(figure)
        rule.evidence.append((str(label), figure, True))
        return
    try:
        getter, _roots = compile_path(str(expression))
    except PathError as error:
        raise CompileError(("evidence", label), str(error)) from None
    rule.evidence.append((str(label), _evidence_path(getter, str(expression)), True))


def _evidence_path(get: Any, expression: str) -> Value:
    """A path shown as evidence: null when a failed call explains the keys it reads.

    So "not configured" (an API's null) never stands in for "the call failed": the label is
    null whenever a collection error names a top-level key the expression reads.
    """
    roots = top_level_keys(expression)

    def shown(ctx: Any) -> Any:
        data = ctx.data
        absent = frozenset(r for r in roots if not isinstance(data, dict) or r not in data)
        if absent and ctx.blocked(absent):
            return None
        found = get(data)
        return None if found is MISSING else found

    return shown


def _related_evidence(at: tuple[str | int, ...], spec: dict[str, Any]) -> Value:
    """``{related: alarms, path: data.Threshold}``: that field of every related resource.

    Shown, never judged (an alarm's threshold on a rate row); name -> value, so a reader sees
    which alarm says what.
    """
    if set(spec) - {"related", "path"}:
        raise CompileError(at, "related evidence takes only 'related' and 'path'")
    alias = str(spec["related"])
    get = compile_at(at, str(spec.get("path", "id"))).get

    def values(ctx: Any) -> Any:
        shown = {}
        for target in ctx.related.get(alias) or []:
            found = get(target)
            shown[str(target["name"])] = None if found is MISSING else found
        return shown

    return values


def _percent(value: Value) -> Value:
    def percent(ctx: Any) -> Any:
        result = value(ctx)
        return result * 100 if isinstance(result, float) else result

    return percent
