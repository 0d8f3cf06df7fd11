"""Markdown for auditors and GitHub, rendered from Jinja2 templates.

The content comes from ``content.context`` (shared with the HTML report); this module only
says how it is written in Markdown. Names and ids (rules, resources, waivers) are code spans
(``escape.md_code``); free text (messages, reasons, owners) is escaped text in which links,
mentions and emoji are broken (``escape.md_inline``).

Autoescape decision: Jinja2's HTML autoescape is off because HTML escaping is the wrong
escaping for Markdown (it leaves pipes, backticks, brackets and emphasis live, and double
escapes what Markdown would show). Instead every ``{{ expression }}`` passes through
``finalize``, which Markdown-escapes any value (``cells.md``: text, code, bold, joined) unless
it is an ``Md`` - text this module or a filter already made safe. A template therefore cannot
print an unescaped value by forgetting a filter; it has to opt out explicitly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2

from runbook_guard.reporters.audit import summary_table
from runbook_guard.reporters.cells import Md, Table, md, md_row, md_table
from runbook_guard.reporters.content import context
from runbook_guard.reporters.escape import md_code, md_fence
from runbook_guard.reporters.model import ACTION_STATUSES, Report


def _finalize(value: Any) -> str:
    return md(value)


def _fence(text: str, info: str = "") -> Md:
    return Md(md_fence(text, info))


def _code(text: Any) -> Md:
    """A code span for a name or id (rule ids, resource names and ids, digests)."""
    return Md(md_code(text if isinstance(text, str) else str(text)))


def _json_block(value: Any) -> Md:
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return _fence(text, "json")


def load_template(name: str) -> str:
    folder = resources.files("runbook_guard.reporters").joinpath("templates")
    return folder.joinpath(name).read_text(encoding="utf-8")


def template_environment(*, autoescape: bool, finalize: Callable[[Any], Any]) -> jinja2.Environment:
    """The reports' Jinja2 settings, shared by Markdown and HTML: a missing name is an error
    (never an empty cell), and block tags leave no blank lines behind."""
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(load_template),
        autoescape=autoescape,
        finalize=finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = template_environment(autoescape=False, finalize=_finalize)
    env.filters["fence"] = _fence
    env.filters["code"] = _code
    env.filters["json_block"] = _json_block
    env.filters["table"] = md_table
    env.globals["md_row"] = md_row
    return env


def render_markdown(report: Report) -> str:
    return environment().get_template("report.md.j2").render(context(report))


SUMMARY_ROWS = 50  # findings listed in the compact summary; the rest are counted


def _first(table: Table, limit: int) -> tuple[Table, int]:
    """The table's first ``limit`` rows, and how many were left out."""
    return replace(table, rows=table.rows[:limit]), max(0, len(table.rows) - limit)


def render_markdown_summary(report: Report, limit: int = SUMMARY_ROWS) -> str:
    """The compact variant for a CI job summary (GitHub caps one at 1 MiB): the first screen
    of the full report, then at most ``limit`` findings and collection gaps."""
    values = dict(context(report))
    findings = report.with_status(*ACTION_STATUSES)
    values["summary_findings"] = summary_table(report, findings[:limit])
    values["in_summary"] = True
    values["more"] = max(0, len(findings) - limit)
    values["errors_shown"], values["errors_more"] = _first(values["errors"], limit)
    values["gaps_shown"], values["gaps_more"] = _first(values["collection_errors"], limit)
    return environment().get_template("summary.md.j2").render(values)
