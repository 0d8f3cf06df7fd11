"""The audit report by account, for results that span several: a table of the accounts in
the first screen, and each account's findings in a section of its own.

Why this shape, for an auditor of 100 accounts. The first question is which accounts are in
trouble, so the first screen ranks them (most blocking findings first) with their counts,
score and worst finding. The findings themselves stay grouped by rule, with an "Account"
column on every row: a rule's remediation is the same command in every account, so it is
printed once above the accounts it applies to, rather than a hundred times in a hundred
per-account copies. The per-account question ("what is wrong in 123456789012?") gets its
own section: one subsection per account with findings, in the table's order, holding that
account's worst findings (the same shape as the findings by owner), while the per-rule
tables and the CSV list every row with its account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from runbook_guard.reporters.accounts import (
    FIRST_SCREEN_ACCOUNTS,
    AccountColumn,
    AccountSummary,
    account_cell,
    account_summaries,
    blocking_text,
    several_accounts,
)
from runbook_guard.reporters.audit import finding_list, resource_cell
from runbook_guard.reporters.cells import Cell, Code, Table, join
from runbook_guard.reporters.model import STATUSES, Report, Row


def worst_cell(row: Row | None) -> Cell:
    """``fail (critical): `rule` on `resource```, or "-" for an account without findings."""
    if row is None:
        return "-"
    return join(f"{row.status} ({row.rule.severity}): ", Code(row.rule.id), " on ",
                resource_cell(row))  # fmt: skip


def blocking_header(report: Report) -> str:
    """What the blocking column counts: at the report's gate, or, when the gate is not
    enforced, what the default gate would block (as the verdict says)."""
    gate = blocking_text(report)
    return f"Blocking ({gate})" if report.gate_enforced else f"Would block ({gate})"


def summary_table(report: Report, summaries: tuple[AccountSummary, ...]) -> Table:
    """One row per account: counts by status, score (passed / decided, as the report's),
    blocking count and worst finding; a name column only when the results carry names."""
    named = any(summary.name for summary in summaries)
    header = (
        "Account", *(("Name",) if named else ()), *(s.replace("_", " ") for s in STATUSES),
        "total", "Score", blocking_header(report), "Worst finding",
    )  # fmt: skip
    rows: list[tuple[Cell, ...]] = [
        (
            account_cell(summary.account),
            *((summary.name or "-",) if named else ()),
            *(summary.counts.get(status, 0) for status in STATUSES),
            summary.total,
            summary.score.text,
            summary.blocking,
            worst_cell(summary.worst),
        )
        for summary in summaries
    ]
    first = 2 if named else 1
    return Table(header, rows, frozenset(range(first, len(header) - 1)))


def heading(summary: AccountSummary) -> str:
    """An account section's heading: its id, and its name when the results carry one."""
    return f"Account {summary.titled}" if summary.account else summary.label


def sections(
    report: Report, findings: list[Row], summaries: tuple[AccountSummary, ...]
) -> list[dict[str, Any]]:
    """Each account with findings, in the table's order, with its worst findings first."""
    by_account: dict[str, list[Row]] = {}
    for row in findings:  # worst first already: each account's list stays so
        by_account.setdefault(row.account, []).append(row)
    out = []
    hidden = AccountColumn(False)  # the heading names the account
    for summary in summaries:
        rows = by_account.get(summary.account)
        if rows:
            table, more = finding_list(report, rows, hidden)
            out.append({"heading": heading(summary), "table": table, "more": more})
    return out


def accounts_context(report: Report, findings: list[Row]) -> Mapping[str, Any] | None:
    """The report's view by account, or ``None`` for results of a single account (whose
    report stays as it always was)."""
    if not several_accounts(report):
        return None
    summaries = account_summaries(report)
    table = summary_table(report, summaries)
    shown = min(len(summaries), FIRST_SCREEN_ACCOUNTS)
    more = len(summaries) - shown
    return {
        "heading": f"{shown} of {len(summaries)}" if more else str(len(summaries)),
        "top": replace(table, rows=table.rows[:shown]),
        "more": more,
        "table": table,
        "sections": sections(report, findings, summaries),
    }
