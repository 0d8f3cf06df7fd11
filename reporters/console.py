"""The console summary after every run: counts a person sees in a CI log at a glance.

It goes to stderr so that stdout stays free for a report piped elsewhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from runbook_guard.reporters.model import SEVERITIES, STATUSES, build_report

STYLE = {
    "fail": "bold red",
    "error": "bold magenta",
    "warn": "yellow",
    "note": "cyan",
    "waived": "blue",
    "manual": "white",
    "pass": "green",
    "not_applicable": "dim",
}


def print_summary(
    results: Mapping[str, Any], console: Console | None = None, *, fail_on: str | None = None
) -> None:
    """A status x severity table; with ``fail_on``, also the gate's verdict.

    Commands that decide the exit code themselves print their own verdict and leave
    ``fail_on`` unset, so the log never shows two gates that could disagree.
    """
    console = console or Console(stderr=True)
    report = build_report(results, fail_on or "fail")
    by_pair = Counter((row.status, row.rule.severity) for row in report.rows)
    # Text, not a str: a str title would be parsed as rich markup, and the tool name is input
    title = Text(f"{report.tool_name} {report.tool_version}: {len(report.rows)} results")
    table = Table(title=title)
    table.add_column("status")
    for severity in SEVERITIES:
        table.add_column(severity, justify="right")
    table.add_column("total", justify="right")
    for status in STATUSES:
        total = report.counts.get(status, 0)
        if not total:
            continue
        cells = [str(by_pair.get((status, severity), 0) or "") for severity in SEVERITIES]
        table.add_row(Text(status, style=STYLE[status]), *cells, str(total))
    console.print(table)
    if fail_on is not None:
        blocked = report.blocked()
        gate = f"fail-on {fail_on}: "
        if blocked:
            console.print(Text(gate + f"{blocked} result(s) at or past the gate", style="bold red"))
        else:
            console.print(Text(gate + "nothing at or past the gate", style="green"))
    if report.collection_errors:
        count = len(report.collection_errors)
        console.print(Text(f"{count} collection error(s): see the report", style="yellow"))
