"""The console summary after every run: counts a person sees in a CI log at a glance.

It goes to stderr so that stdout stays free for a report piped elsewhere. It ends with the
collection errors grouped by cause and IAM action, one line each with counts ("3 x
AccessDenied on dynamodb:DescribeContinuousBackups (us-east-1): 3 tables"): a broken CI role
must read as one missing permission in the log, not as 66 compliance failures and a pointer
to line 1,253 of the report.

A run over several accounts also prints one line per account, the most blocking first (at
most ``MAX_ACCOUNT_LINES``): in a log of 100 accounts, which ones to look at.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from runbook_guard.reporters.accounts import account_summaries, blocking_text, several_accounts
from runbook_guard.reporters.collection import causes
from runbook_guard.reporters.model import (
    ACTION_STATUSES,
    SEVERITIES,
    STATUSES,
    Report,
    build_report,
)

MAX_CAUSE_LINES = 20  # the rest are counted; the report's appendix lists every error
MAX_ACCOUNT_LINES = 10  # the most blocking accounts; the report's table lists every one

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
    # Without ``fail_on``, the gate the results were evaluated with: the one the command's own
    # verdict uses, so the per-account blocking counts agree with it.
    report = build_report(results, fail_on)
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
    if report.selection_text:
        # Every run that evaluated part of the pack says so: its clear gate is not the pack's.
        console.print(Text(f"selection: {report.selection_text}", style="bold"))
    if fail_on is not None:
        blocked = report.blocked()
        gate = f"{report.gate_text}: "
        if blocked:
            noun = "result" if blocked == 1 else "results"
            console.print(Text(gate + f"{blocked} {noun} at or past the gate", style="bold red"))
        else:
            console.print(Text(gate + "nothing at or past the gate", style="green"))
    for line in account_lines(report):
        console.print(Text(line), soft_wrap=True)
    for line in cause_lines(report):  # whole lines: a log reader greps for the IAM action
        console.print(Text(line, style="yellow"), soft_wrap=True)


def cause_lines(report: Report, limit: int = MAX_CAUSE_LINES) -> list[str]:
    """The collection errors as the log's last lines: a heading, then one line per cause."""
    if not report.collection_errors:
        return []
    grouped = causes(report.merged_errors)
    count = len(report.collection_errors)
    heading = f"{count} collection error{'' if count == 1 else 's'}, by cause and IAM action:"
    with_account = len(report.scope["accounts"]) > 1
    lines = [heading, *(f"  {cause.line(with_account)}" for cause in grouped[:limit])]
    if len(grouped) > limit:
        lines.append(f"  and {len(grouped) - limit} more causes: see the report's appendix")
    return lines


def account_lines(report: Report, limit: int = MAX_ACCOUNT_LINES) -> list[str]:
    """With several accounts: a heading, then one line per account, the most blocking first
    (``111111111111 (prod): 4 blocking; 3 fail, 1 error, 2 warn; score 25%``; the name when
    the results carry one)."""
    if not several_accounts(report):
        return []
    summaries = account_summaries(report)
    lines = [f"{len(summaries)} accounts, the most blocking ({blocking_text(report)}) first:"]
    for summary in summaries[:limit]:
        found = ", ".join(
            f"{summary.counts[status]} {status}"
            for status in ACTION_STATUSES
            if summary.counts.get(status)
        )
        lines.append(
            f"  {summary.titled}: {summary.blocking} blocking; {found or 'no findings'}; "
            f"score {summary.score.text}"
        )
    if len(summaries) > limit:
        lines.append(f"  and {len(summaries) - limit} more accounts: see the report's table")
    return lines
