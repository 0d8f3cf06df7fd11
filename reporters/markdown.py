"""Markdown for auditors and GitHub, rendered from Jinja2 templates.

Autoescape decision: Jinja2's HTML autoescape is off because HTML escaping is the wrong
escaping for Markdown (it leaves pipes, backticks, brackets and emphasis live, and double
escapes what Markdown would show). Instead every ``{{ expression }}`` passes through
``finalize``, which Markdown-escapes any value (``escape.md_inline``) unless it is an
``Md`` - text this module or a filter already made safe. A template therefore cannot
print an unescaped value by forgetting a filter; it has to opt out explicitly.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2

from runbook_guard.reporters.changes import Change, pack_names
from runbook_guard.reporters.escape import md_fence, md_inline
from runbook_guard.reporters.model import (
    ACTION_STATUSES,
    CADENCES,
    SEVERITIES,
    STATUSES,
    Report,
    Row,
    format_value,
)

MEANING = {
    "pass": "checked and within the normal range",
    "note": "above normal, under the warning threshold",
    "warn": "past the warning threshold",
    "fail": "past the critical threshold, or an expectation not met",
    "error": "could not be checked (fails closed)",
    "manual": "needs a person's attestation",
    "waived": "would be warn/fail; covered by an unexpired waiver",
}


class Md(str):
    """Markdown that is safe to print as it is."""

    __slots__ = ()


def _finalize(value: Any) -> str:
    if isinstance(value, Md):
        return value
    return md_inline(value if isinstance(value, str) else str(value))


def _fence(text: str, info: str = "") -> Md:
    return Md(md_fence(text, info))


def _code(text: str) -> Md:
    """A code span for values the schema constrains to safe characters (digests)."""
    if any(c in text for c in "`|\n\\<"):
        return Md(md_inline(text))
    return Md(f"`{text}`")


def _json_block(value: Any) -> Md:
    return _fence(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False), "json")


_cell = lru_cache(maxsize=1 << 16)(md_inline)  # rule ids, statuses, thresholds repeat


def md_row(cells: Iterable[Any]) -> Md:
    """One table row, every cell escaped: one call per row instead of one per cell keeps
    100,000-row reports fast."""
    return Md("| " + " | ".join(_cell(c if isinstance(c, str) else str(c)) for c in cells) + " |")


def _evidence(row: Row) -> str:
    parts = []
    if row.causes:
        parts.append("causes: " + "; ".join(row.causes))
    if row.missing_permissions:
        parts.append("missing permissions: " + ", ".join(row.missing_permissions))
    if row.evidence:
        parts.append(format_value(row.evidence))
    return "; ".join(parts) or "-"


def finding_row(row: Row) -> Md:
    return md_row(
        (
            row.status,
            resource_cell(row),
            row.observed_text,
            row.expected,
            row.message,
            _evidence(row),
            row.label,
        )
    )


def change_row(change: Change) -> Md:
    """Rule, resource, before -> now, message, resource id: one row per changed finding."""
    transition = f"{change.before_text} \u2192 {change.after_text}"
    return md_row((change.rule_id, change.resource_name, transition, change.message, change.label))


def _load(name: str) -> str:
    folder = resources.files("runbook_guard.reporters").joinpath("templates")
    return folder.joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        autoescape=False,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fence"] = _fence
    env.filters["code"] = _code
    env.filters["json_block"] = _json_block
    env.filters["value"] = format_value
    env.globals["resource_cell"] = resource_cell
    env.globals["md_row"] = md_row
    env.globals["finding_row"] = finding_row
    env.globals["change_row"] = change_row
    return env


def _counts_by(report: Report, attribute: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    counts: Counter[tuple[str, str]] = Counter(
        (getattr(row.rule, attribute), row.status) for row in report.rows
    )
    table = []
    for key in keys:
        cells = [counts.get((key, status), 0) for status in STATUSES]
        if sum(cells):
            table.append({"key": key, "cells": cells, "total": sum(cells)})
    return table


def _rule_results(report: Report) -> dict[str, str]:
    per_rule: dict[str, Counter[str]] = {}
    for row in report.rows:
        per_rule.setdefault(row.rule.id, Counter())[row.status] += 1
    return {
        rule_id: ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts.get(s))
        for rule_id, counts in per_rule.items()
    }


def _groups(findings: list[Row]) -> list[dict[str, Any]]:
    """Findings by rule, the rule with the worst finding first: the runbook's remediation is
    per rule, so it is printed once above the resources it applies to."""
    by_rule: dict[str, list[Row]] = {}
    for row in findings:  # already worst first, so each group's first row is its worst
        by_rule.setdefault(row.rule.id, []).append(row)
    groups = []
    for rows in sorted(by_rule.values(), key=lambda rows: rows[0].action_key):
        counts = Counter(row.status for row in rows)
        rule = rows[0].rule
        cells = [rule.id, rule.severity, *(counts.get(s, 0) for s in ACTION_STATUSES), rule.section]
        groups.append({"rule": rule, "rows": rows, "cells": cells})
    return groups


def context(report: Report) -> Mapping[str, Any]:
    """Everything the template shows, grouped in the order an auditor reads it."""
    errors = report.with_status("error")
    findings = report.with_status(*ACTION_STATUSES)
    return {
        "report": report,
        "statuses": STATUSES,
        "meaning": MEANING,
        "by_severity": _counts_by(report, "severity", SEVERITIES),
        "by_cadence": _counts_by(report, "cadence", CADENCES),
        "findings": findings,
        "groups": _groups(findings),
        "waived": report.with_status("waived"),
        "manual": report.with_status("manual"),
        "passing": [row for row in report.rows if row.status == "pass"],
        "errors": errors,
        "rule_results": _rule_results(report),
        "blocked": report.blocked(),
        "parameters": sorted(report.policies["parameters"].items()),
        "changes": report.changes,
        "packs_now": pack_names(report.document),
    }


def render_markdown(report: Report) -> str:
    return environment().get_template("report.md.j2").render(context(report))


def resource_cell(row: Row) -> str:
    """How a resource is named in tables: its name, or its id when it has no name."""
    return row.resource_name or row.label
