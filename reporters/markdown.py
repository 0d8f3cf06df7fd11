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
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2

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


def context(report: Report) -> Mapping[str, Any]:
    """Everything the template shows, grouped in the order an auditor reads it."""
    errors = report.with_status("error")
    return {
        "report": report,
        "statuses": STATUSES,
        "meaning": MEANING,
        "by_severity": _counts_by(report, "severity", SEVERITIES),
        "by_cadence": _counts_by(report, "cadence", CADENCES),
        "findings": report.with_status(*ACTION_STATUSES),
        "waived": report.with_status("waived"),
        "manual": report.with_status("manual"),
        "passing": [row for row in report.rows if row.status == "pass"],
        "errors": errors,
        "rule_results": _rule_results(report),
        "blocked": report.blocked(),
        "parameters": sorted(report.policies["parameters"].items()),
    }


def render_markdown(report: Report) -> str:
    return environment().get_template("report.md.j2").render(context(report))


def resource_cell(row: Row) -> str:
    """How a resource is named in tables: its name, or its id when it has no name."""
    return row.resource_name or row.label
