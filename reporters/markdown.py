"""Markdown for auditors and GitHub, rendered from Jinja2 templates.

Names and ids (rules, resources, waivers) are code spans in tables (``escape.md_code``);
free text (messages, reasons, owners) is escaped text in which links, mentions and emoji
are broken (``escape.md_inline``).

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

from runbook_guard.engine.snapshot import ACCESS_DENIED
from runbook_guard.reporters.changes import Change, pack_names
from runbook_guard.reporters.escape import md_code, md_fence, md_inline
from runbook_guard.reporters.model import (
    ACTION_STATUSES,
    CADENCES,
    DEFAULT_FAIL_ON,
    SEVERITIES,
    STATUSES,
    WATCH_STATUSES,
    Report,
    Row,
    format_value,
    merge_items,
    merge_repeats,
)

MEANING = {
    "pass": "checked and within the normal range",
    "note": "above normal, under the warning threshold",
    "warn": "past the warning threshold",
    "fail": "past the critical threshold, or an expectation not met",
    "error": "could not be checked (fails closed)",
    "manual": "needs a person's attestation",
    "waived": "would be warn/fail; covered by an unexpired waiver",
    "not_applicable": "a template cannot say it before deploy (judged on the live system)",
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


@lru_cache(maxsize=1 << 16)
def _code(text: str) -> Md:
    """A code span for a name or id (rule ids, resource names and ids, digests)."""
    return Md(md_code(text if isinstance(text, str) else str(text)))


def _json_block(value: Any) -> Md:
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return _fence(text, "json")


_cell = lru_cache(maxsize=1 << 16)(md_inline)  # rule ids, statuses, thresholds repeat


def md_row(cells: Iterable[Any]) -> Md:
    """One table row, every cell escaped: one call per row instead of one per cell keeps
    100,000-row reports fast."""
    return Md(
        "| "
        + " | ".join(
            c if isinstance(c, Md) else _cell(c if isinstance(c, str) else str(c)) for c in cells
        )
        + " |"
    )


def _evidence_text(row: Row) -> str:
    return format_value(row.evidence) if row.evidence else ""


def _evidence(row: Row) -> str:
    parts = []
    if row.causes:
        parts.append("causes: " + "; ".join(merge_items(row.causes)))
    if row.missing_permissions:
        parts.append("missing permissions: " + ", ".join(dict.fromkeys(row.missing_permissions)))
    if row.evidence:
        parts.append(_evidence_text(row))
    return "; ".join(parts) or "-"


def observed_cell(row: Row) -> str:
    """The observed value, or blank when it is the evidence shown beside it (a rule that
    observes a whole object would otherwise print it twice)."""
    if row.evidence and (row.observed == row.evidence or row.observed_text == _evidence_text(row)):
        return ""
    return row.observed_text


def finding_row(row: Row) -> Md:
    return md_row(
        (
            row.status,
            resource_cell(row),
            observed_cell(row),
            row.expected,
            merge_repeats(row.message),
            _evidence(row),
            _code(row.label),
        )
    )


def summary_row(row: Row) -> Md:
    """One finding in the compact summary: status, rule, resource, observed vs expected."""
    return md_row(
        (
            row.status,
            _code(row.rule.id),
            resource_cell(row),
            observed_cell(row),
            row.expected,
            merge_repeats(row.message),
        )
    )


def watch_row(row: Row) -> Md:
    return md_row(
        (
            _code(row.rule.id),
            resource_cell(row),
            observed_cell(row),
            row.expected,
            merge_repeats(row.message),
            _code(row.label),
        )
    )


def change_row(change: Change) -> Md:
    """Rule, resource, before -> now, message, resource id: one row per changed finding."""
    transition = f"{change.before_text} \u2192 {change.after_text}"
    return md_row(
        (
            _code(change.rule_id),
            _code(change.resource_name) if change.resource_name else "",
            transition,
            merge_repeats(change.message),
            _code(change.label),
        )
    )


def gap_row(row: Row) -> Md:
    causes = "; ".join(merge_items(row.causes)) or merge_repeats(row.message)
    permissions = ", ".join(dict.fromkeys(row.missing_permissions)) or "-"
    return md_row((_code(row.rule.id), resource_cell(row), causes, permissions))


def passing_row(row: Row) -> Md:
    return md_row((_code(row.rule.id), resource_cell(row), row.observed_text, row.expected))


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
    env.globals["summary_row"] = summary_row
    env.globals["watch_row"] = watch_row
    env.globals["change_row"] = change_row
    env.globals["gap_row"] = gap_row
    env.globals["passing_row"] = passing_row
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
        cells = [
            _code(rule.id),
            rule.severity,
            *(counts.get(s, 0) for s in ACTION_STATUSES),
            rule.section,
        ]
        groups.append({"rule": rule, "rows": rows, "cells": cells})
    return groups


def gate_line(report: Report) -> Md:
    """The gate verdict. ``clear`` only when a gate was applied and nothing is at or past it;
    with ``never`` the report says it was not enforced and what the default would block."""
    if not report.gate_enforced:
        would = report.blocked(DEFAULT_FAIL_ON)
        return Md(
            f"**Gate: not enforced (fail-on never).** {would} result(s) would block at the "
            f"default gate (fail-on {DEFAULT_FAIL_ON})."
        )
    blocked = report.blocked()
    if blocked:
        return Md(
            f"**Gate (fail-on {report.fail_on}): blocked.** {blocked} result(s) at or past "
            "the gate."
        )
    return Md(f"**Gate (fail-on {report.fail_on}): clear.** No result at or past the gate.")


_ERROR_FIELDS = ("service", "operation", "region", "resource", "code", "iam_action", "message")


def collection_error_rows(report: Report) -> list[Md]:
    """Collection errors, identical ones once with a count (eleven 500s from one call are one
    row). The IAM action is always shown; it is a *missing permission* only for an
    access-denied code."""
    counts: Counter[tuple[str, ...]] = Counter(
        tuple(str(error.get(field) or "") for field in _ERROR_FIELDS)
        for error in report.collection_errors
    )
    rows = []
    for key, count in counts.items():  # collection_errors is sorted, so this order is too
        service, operation, region, resource, code, action, message = key
        missing = action if action and code in ACCESS_DENIED else "-"
        rows.append(
            md_row(
                (
                    service,
                    operation,
                    region,
                    _code(resource) if resource else "-",
                    code,
                    action or "-",
                    missing,
                    merge_repeats(message),
                    f"\u00d7{count}",
                )
            )
        )
    return rows


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def coverage_context(report: Report) -> dict[str, Any] | None:
    coverage = report.coverage
    if coverage is None:
        return None
    rows = []
    for item in sorted(coverage["expectations"], key=lambda e: e["id"]):
        how = item["how"]
        rows.append(
            md_row(
                (
                    _code(item["id"]),
                    _short(item["text"]),
                    item["section"],
                    Md("**not covered**") if how == "not covered" else how,
                    Md(", ".join(_code(rule) for rule in sorted(item["rules"]))) or "-",
                )
            )
        )
    unknown = [
        Md(f"{_code(rb_id)} (named by {', '.join(_code(r) for r in sorted(rules))})")
        for rb_id, rules in sorted(coverage["unknown"].items())
    ]
    uncovered = [_code(rb_id) for rb_id in sorted(coverage["uncovered"])]
    return {
        "inventory": coverage["inventory"],
        "rows": rows,
        "uncovered": Md(", ".join(uncovered)),
        "uncovered_count": len(uncovered),
        "unknown": Md("; ".join(unknown)),
        "unknown_count": len(unknown),
    }


def context(report: Report) -> Mapping[str, Any]:
    """Everything the template shows, grouped in the order an auditor reads it."""
    errors = report.with_status("error")
    findings = report.with_status(*ACTION_STATUSES)
    return {
        "gate_line": gate_line(report),
        "watch": report.with_status(*WATCH_STATUSES),
        "collection_error_rows": collection_error_rows(report),
        "coverage": coverage_context(report),
        "report": report,
        "statuses": STATUSES,
        "meaning": MEANING,
        "by_severity": _counts_by(report, "severity", SEVERITIES),
        "by_cadence": _counts_by(report, "cadence", CADENCES),
        "findings": findings,
        "groups": _groups(findings),
        "waived": report.with_status("waived"),
        "manual": report.with_status("manual"),
        "not_applicable": report.with_status("not_applicable"),
        "drift": [row for row in report.rows if row.drift],
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


SUMMARY_ROWS = 50  # findings listed in the compact summary; the rest are counted


def render_markdown_summary(report: Report, limit: int = SUMMARY_ROWS) -> str:
    """The compact variant for a CI job summary (GitHub caps one at 1 MiB): header, gate,
    counts, at most ``limit`` findings needing action and collection gaps, no passing checks."""
    values = dict(context(report))
    findings = values["findings"]
    errors = values["errors"]
    gaps = values["collection_error_rows"]
    values.update(
        limit=limit,
        shown=findings[:limit],
        more=max(0, len(findings) - limit),
        errors_shown=errors[:limit],
        errors_more=max(0, len(errors) - limit),
        gaps_shown=gaps[:limit],
        gaps_more=max(0, len(gaps) - limit),
    )
    return environment().get_template("summary.md.j2").render(values)


def resource_cell(row: Row) -> Md:
    """How a resource is named in tables: its name, or its id when it has no name; with the
    template line it is declared on (``template.yaml:42``) when the result has one."""
    named = _code(row.resource_name or row.label)
    if row.location is None:
        return named
    return Md(f"{named} at {_code(row.location.text)}")
