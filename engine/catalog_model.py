"""One rule as documentation, built once from the compiled rule and its own text.

``rules explain`` (text and JSON) and the catalog pages in ``docs/rules/`` show the same facts,
so they are gathered here into one value and rendered elsewhere: what the rule reads and which
call fills it, its thresholds in words with their units, its window, the runbook's words for
what it covers, its remediation, and its test cases with a passing and a failing example taken
from them. Every fact comes from the rule (compiled with the effective parameters) or from the
declarations in ``catalog_sources``; nothing is written beside the rule, so nothing drifts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runbook_guard.engine.casetest import is_adversarial
from runbook_guard.engine.catalog_examples import Example, examples_of
from runbook_guard.engine.catalog_sources import Lookups, figure_calls, filling_calls
from runbook_guard.engine.conditions import describe
from runbook_guard.engine.params import ParameterError, substitute
from runbook_guard.engine.plan import MetricPart
from runbook_guard.engine.reads import rule_reads, top_level_keys
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.thresholds import Threshold

#: A threshold's operator in words: "above 2%" reads where "> 2%" needs decoding.
OPERATOR_WORDS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "==": "exactly"}
#: Which status each level of a three-level table gives.
LEVEL_STATUS = {"normal": "pass", "warn": "warn", "fail": "fail"}
#: Collection options that set a window (``collect: {window_hours: 720}``).
WINDOW_OPTIONS = ("_hours", "_days")


@dataclass(frozen=True)
class Read:
    """One data path the rule reads, of which type, and the calls that fill its keys."""

    resource_type: str
    path: str
    keys: list[str]
    calls: list[str]
    #: Whose data: ``the resource`` (the selected one) and/or ``related ALIAS``.
    of: list[str]


@dataclass(frozen=True)
class Related:
    alias: str
    resource_type: str
    found: str


@dataclass(frozen=True)
class Figure:
    """A metric or a log event count the rule asks the collection for."""

    kind: str
    name: str
    query: str
    window: str
    calls: list[str]


@dataclass(frozen=True)
class Level:
    """One band of a three-level table: the status it gives and when, in words."""

    level: str
    status: str
    #: As written (``> 2%``), its operator and number; empty and None for a band between two.
    threshold: str
    operator: str
    number: float | None
    words: str


@dataclass(frozen=True)
class Check:
    """A condition that must hold, and the status when it does not."""

    unmet: str
    condition: str


@dataclass(frozen=True)
class Covered:
    """One runbook expectation the rule covers, in the inventory's words."""

    id: str
    text: str
    inventory_section: str
    details: dict[str, str]
    #: False where the pack's inventory has no such row (or the pack ships none).
    in_inventory: bool


@dataclass(frozen=True)
class Case:
    name: str
    adversarial: bool
    expect: str | dict[str, str]


@dataclass(frozen=True)
class RuleDoc:
    id: str
    title: str
    kind: str
    severity: str
    cadence: str
    pack: str
    file: str
    line: int
    tags: list[str]
    resource_type: str
    phases: list[str]
    why_not_template: str
    covers: list[str]
    section: str
    runbook: list[Covered]
    quote: str
    description: str
    rationale: str
    remediation: str
    selection: list[str]
    reads: list[Read]
    related: list[Related]
    figures: list[Figure]
    checks: list[Check]
    unit: str
    levels: list[Level]
    informational: bool
    windows: list[str]
    edge_cases: list[str]
    expected: str
    replaces: list[str]
    tests: list[Case]
    examples: list[Example]


def amount(number: float, unit: str) -> str:
    """A number with its unit as a reader says it: ``2%``, ``5 per 5min``, ``90 days``."""
    shown = f"{number:g}"
    if unit == "%":
        return f"{shown}%"
    if unit.startswith("/"):
        return f"{shown} per {unit[1:].strip()}"
    return f"{shown} {unit}" if unit else shown


def _band(level: str, threshold: Threshold) -> Level:
    words = f"{OPERATOR_WORDS[threshold.op]} {amount(threshold.number, threshold.unit)}"
    status = LEVEL_STATUS[level]
    return Level(level, status, threshold.text, threshold.op, threshold.number, words)


def levels_of(rule: CompiledRule) -> list[Level]:
    """The bands of the rule's levels in the order a value worsens (empty without levels)."""
    if rule.levels is None:
        return []
    normal, warn, fail = rule.levels.thresholds()
    first = "warning" if warn is not None else "critical"
    if normal is None:
        bands = [Level("normal", "pass", "", "", None, f"not past the {first} threshold")]
    else:
        note = f"outside the normal range, not past the {first} threshold"
        bands = [_band("normal", normal), Level("above normal", "note", "", "", None, note)]
    for name, threshold in (("warn", warn), ("fail", fail)):
        if threshold is not None:
            bands.append(_band(name, threshold))
    return bands


def _in_words(spec: Any, parameters: Mapping[str, Any]) -> str:
    """A condition of the rule's text in words, with the parameters' values filled in."""
    try:
        return describe(substitute(spec, parameters))
    except ParameterError:
        return describe(spec)


def _selection(rule: CompiledRule, spec: Mapping[str, Any]) -> list[str]:
    if rule.kind == "manual":
        return []
    found = []
    if rule.names is not None:
        found.append("named " + ", ".join(name for name, _ in rule.names))
    if rule.name_pattern is not None:
        found.append(f"whose name matches /{rule.name_pattern.pattern}/")
    where = (spec.get("select") or {}).get("where")
    if where is not None:
        found.append(f"where {_in_words(where, rule.parameters)}")
    return found or [f"every {rule.resource_type} in scope"]


def _own_paths(rule: CompiledRule, spec: Mapping[str, Any]) -> frozenset[str]:
    """The paths read of the selected resource itself, not of a related one of its type.

    ``read_paths`` is per type, and a queue's DLQ is a queue too: the rule's text read without
    its related aliases tells the resource's own paths apart (names are expanded elsewhere).
    """
    select = {k: v for k, v in (spec.get("select") or {}).items() if k != "names"}
    body = {k: v for k, v in spec.items() if k not in ("tests", "related")}
    try:
        resolved = substitute({**body, "select": select}, rule.parameters)
    except ParameterError:
        return rule.read_paths.get(rule.resource_type, frozenset())
    own = rule_reads(resolved, rule.resource_type, {}).paths.get(rule.resource_type, set())
    sources = {r.source.path for r in rule.related.values() if r.source is not None}
    return frozenset(own | sources)


def _reads(rule: CompiledRule, spec: Mapping[str, Any]) -> list[Read]:
    own = _own_paths(rule, spec)
    reads = []
    for rtype, paths in sorted(rule.read_paths.items()):
        aliases = [f"related {a}" for a, r in sorted(rule.related.items()) if r.type == rtype]
        for path in sorted(paths):
            whose = ["the resource"] if rtype == rule.resource_type and path in own else aliases
            keys = sorted(top_level_keys(path))
            calls = [c for key in keys for c in filling_calls(rtype, key)]
            reads.append(Read(rtype, path, keys, list(dict.fromkeys(calls)), whose))
    return reads


def _edge_cases(rule: CompiledRule) -> list[str]:
    """What the rule gives where there is nothing to judge."""
    if rule.kind == "manual":
        return []
    found = []
    if rule.value is not None:
        found.append(f"a value with no data gives {rule.no_data}")
    if rule.names is not None:
        found.append(
            "a named resource that does not exist fails (error if its listing was incomplete)"
        )
    elif rule.held_by == "payer":
        found.append(
            f"no resource selected gives {rule.when_none}; in an organisation whose payer "
            "account the collection knows, only at the payer (a member without any is not "
            "judged; its own resources are)"
        )
    else:
        found.append(f"no resource selected gives {rule.when_none}")
    return found


def _metric_names(parts: Sequence[MetricPart]) -> str:
    """The metrics summed, each once (a table's and its indexes' series share a name)."""
    return " + ".join(dict.fromkeys(part.metric for part in parts))


def _figures(rule: CompiledRule) -> list[Figure]:
    figures = []
    for name, query in sorted(rule.metrics.items()):
        parts = _metric_names(query.numerator)
        per = f" per {_metric_names(query.denominator)}" if query.denominator else ""
        floor = f", periods with at least {query.min_denominator:g}" if query.denominator else ""
        dims = sorted({d for p in query.numerator for d, _ in p.dimensions})
        by = f" by {', '.join(dims)}" if dims else " (no dimensions)"
        text = f"{query.namespace} {parts}{per}{by} ({query.stat}{floor})"
        figures.append(
            Figure("metric", name, text, query.describe_window(), list(figure_calls("metrics")))
        )
    for name, log in sorted(rule.logs.items()):
        window = f"over the last {log.window_seconds // 3600} hours"
        text = f"log events matching {log.pattern!r}"
        figures.append(Figure("log count", name, text, window, list(figure_calls("logs"))))
    return figures


def _windows(rule: CompiledRule, figures: Sequence[Figure]) -> list[str]:
    found = [f"{f.name}: {f.window}" for f in figures]
    for option, value in sorted(rule.collect.items()):
        if option.endswith(WINDOW_OPTIONS):
            found.append(f"collection option {option}: {value}")
    return found


def _checks(rule: CompiledRule, spec: Mapping[str, Any]) -> list[Check]:
    checks = []
    for key, unmet in (("expect", "fail"), ("warn_unless", "warn")):
        if key in spec:
            checks.append(Check(unmet, _in_words(spec[key], rule.parameters)))
    return checks


def _cases(spec: Mapping[str, Any]) -> list[Case]:
    cases = []
    for case in spec.get("tests") or []:
        expect = case.get("expect")
        shown = expect if isinstance(expect, str) else {str(k): str(v) for k, v in expect.items()}
        cases.append(Case(str(case["name"]), is_adversarial(str(case["name"])), shown))
    return cases


def _runbook(rule: CompiledRule, lookups: Lookups) -> list[Covered]:
    covered = []
    for rb_id in rule.covers:
        row = lookups.runbook.get(rb_id)
        if row is None:
            covered.append(Covered(rb_id, "", "", {}, False))
        else:
            covered.append(Covered(rb_id, row.text, row.section, dict(row.cells), True))
    return covered


def build_doc(rule: CompiledRule, spec: Mapping[str, Any], lookups: Lookups) -> RuleDoc:
    """The documentation of one compiled rule; ``spec`` is its text as loaded."""
    phases, gap = lookups.phases(rule)
    figures = _figures(rule)
    return RuleDoc(
        id=rule.id, title=rule.title, kind=rule.kind, severity=rule.severity,
        cadence=rule.cadence, pack=rule.pack, file=rule.source.file, line=rule.source.line,
        tags=list(rule.tags), resource_type=rule.resource_type, phases=phases,
        why_not_template=gap, covers=list(rule.covers), section=rule.section,
        runbook=_runbook(rule, lookups), quote=rule.quote, description=rule.description,
        rationale=rule.rationale, remediation=rule.remediation,
        selection=_selection(rule, spec), reads=_reads(rule, spec),
        related=[Related(a, r.type, r.describe()) for a, r in sorted(rule.related.items())],
        figures=figures, checks=_checks(rule, spec), unit=rule.unit, levels=levels_of(rule),
        informational=rule.informational, windows=_windows(rule, figures),
        edge_cases=_edge_cases(rule), expected=rule.expected,
        replaces=list(rule.replaces), tests=_cases(spec), examples=examples_of(rule, spec),
    )  # fmt: skip
