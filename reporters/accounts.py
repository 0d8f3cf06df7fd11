"""Which accounts a report spans, and what each one adds up to.

An organisation's run judges tens to thousands of accounts in one results document. Its
reader asks "which accounts are in trouble?" before "what exactly is wrong?", and every
finding needs its account beside it: the same queue name in two accounts is two findings,
and neither a resource's name nor an S3 bucket's ARN says which account it is in. So when
the results span more than one account, every format that lists results names the account,
and the audit report opens with a table of the accounts. A report of one account stays as it
always was: nothing here shows unless there are several.

Everything is computed in one pass over the results and kept in ``Report.memo``: Markdown,
its summary and HTML share it, and the cost stays linear in the results.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from runbook_guard.engine.per_account import ACCOUNT_TYPE
from runbook_guard.reporters.cells import Cell, Code
from runbook_guard.reporters.model import (
    ACTION_STATUSES,
    DEFAULT_FAIL_ON,
    Report,
    Row,
    Score,
    blocking_statuses,
)

#: Results with no account: rule-level results judged over the whole run (not per account).
NO_ACCOUNT = "(no account)"
#: Accounts the first screen lists (the most blocking); with more, every one is listed in
#: the "Findings by account" section, and the scope line counts them instead of naming them.
FIRST_SCREEN_ACCOUNTS = 8


def accounts_of(report: Report) -> tuple[str, ...]:
    """Every account in the scope or named by a result, sorted."""
    cached = report.memo.get("accounts")
    if cached is None:
        named = {row.account for row in report.rows if row.account}
        cached = report.memo["accounts"] = tuple(sorted(set(report.scope["accounts"]) | named))
    accounts: tuple[str, ...] = cached
    return accounts


def several_accounts(report: Report) -> bool:
    """Whether the results span more than one account (then reports group by account)."""
    return len(accounts_of(report)) > 1


def with_name(account: str, name: str) -> str:
    """``111111111111 (prod)``: an account as text, its name beside the id when it has one (the
    id stays first: it is what a console or a filter takes)."""
    return f"{account} ({name})" if name else account


def account_cell(account: str) -> Cell:
    """An account id as code (it is copied into consoles), or what a result without one is."""
    return Code(account) if account else NO_ACCOUNT


@dataclass(frozen=True, slots=True)
class AccountColumn:
    """The "Account" column of a table that lists results: there only when the report spans
    several accounts, so a single-account report keeps its tables as they were."""

    shown: bool

    @property
    def header(self) -> tuple[str, ...]:
        return ("Account",) if self.shown else ()

    def cells(self, account: str) -> tuple[Cell, ...]:
        return (account_cell(account),) if self.shown else ()


def account_column(report: Report) -> AccountColumn:
    return AccountColumn(several_accounts(report))


def blocking_gate(report: Report) -> str:
    """The gate per-account blocking counts use: the report's, or, when it is not enforced
    (``never``), the default one, as the verdict's "would block" does."""
    return report.fail_on if report.gate_enforced else DEFAULT_FAIL_ON


def blocking_text(report: Report) -> str:
    """That gate as its options name it: ``fail-on fail``, ``fail-on warn, fail-severity high``."""
    floor = f", fail-severity {report.fail_severity}" if report.fail_severity else ""
    return f"fail-on {blocking_gate(report)}{floor}"


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """One account's results: counts by status, score, blocking count, worst finding."""

    account: str
    name: str
    counts: Mapping[str, int]
    blocking: int
    worst: Row | None

    @property
    def label(self) -> str:
        return self.account or NO_ACCOUNT

    @property
    def titled(self) -> str:
        """The label with the account's name beside it, when the results carry one."""
        return with_name(self.label, self.name)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def findings(self) -> int:
        return sum(self.counts.get(status, 0) for status in ACTION_STATUSES)

    @property
    def score(self) -> Score:
        return Score.of(self.counts)

    @property
    def order(self) -> tuple[bool, int, int, str]:
        """Most blocking findings first, then most findings, then by id; no account last."""
        return (not self.account, -self.blocking, -self.findings, self.account)


def _names(report: Report) -> dict[str, str]:
    """Account names the results carry: ``scope.account_names`` (schema 5: the names the
    snapshot recorded), else, for a file written before it, an account-level result's
    resource (``aws.account``) whose name is not merely its id."""
    names = {
        row.account: row.resource_name
        for row in report.rows
        if row.resource_type == ACCOUNT_TYPE
        and row.account
        and row.resource_name not in ("", row.account)
    }
    names.update(report.scope.get("account_names") or {})
    return names


def account_names(report: Report) -> Mapping[str, str]:
    """Each named account's name, by id (``_names``), computed once per report: JUnit looks
    one up per result."""
    cached = report.memo.get("account_names")
    if cached is None:
        cached = report.memo["account_names"] = _names(report)
    names: Mapping[str, str] = cached
    return names


def account_summaries(report: Report) -> tuple[AccountSummary, ...]:
    """Every account (scope and results), in the order the reports list them
    (``AccountSummary.order``). One pass over the results."""
    cached = report.memo.get("account_summaries")
    if cached is not None:
        summaries: tuple[AccountSummary, ...] = cached
        return summaries
    gate = blocking_gate(report)
    gate_statuses = blocking_statuses(gate)
    floor = report.fail_severity  # with one, severity decides too (``Report.blocks``)
    counts: dict[str, Counter[str]] = {account: Counter() for account in accounts_of(report)}
    blocking: Counter[str] = Counter()
    worst: dict[str, Row] = {}
    for row in report.rows:
        account, status = row.account, row.status
        tally = counts.get(account)
        if tally is None:
            tally = counts[account] = Counter()
        tally[status] += 1
        if status in gate_statuses and (floor is None or report.blocks(row, gate)):
            blocking[account] += 1
        if status in ACTION_STATUSES:
            known = worst.get(account)
            if known is None or row.top_key < known.top_key:
                worst[account] = row
    names = account_names(report)
    summaries = tuple(
        sorted(
            (
                AccountSummary(
                    account, names.get(account, ""), tally, blocking[account], worst.get(account)
                )
                for account, tally in counts.items()
            ),
            key=lambda summary: summary.order,
        )
    )
    report.memo["account_summaries"] = summaries
    return summaries
