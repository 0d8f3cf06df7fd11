"""The audit report's content, once, for Markdown and HTML: verdict first, evidence after.

A reader opens the report to learn one thing first: can this ship, and how bad is it. So the
first screen (the first 40 lines of the Markdown) holds the gate's verdict, the compliance
score, what changed since the previous run, the counts by severity and status, and the ten
worst findings with their owners. Then every finding, by rule and by owner; the manual checks
with their attestations; what could not be checked. Scope, parameters, the waiver register,
the collection errors and the rules as evaluated are appendices: an auditor needs them, and
needs them last.

Everything here is neutral (``cells``): the Markdown and HTML templates print the same values,
each with its own escaping. Values are in words with units (``wording``); the raw expected
text stays in the appendix of rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from operator import attrgetter
from typing import Any

from runbook_guard.engine.plurals import counted
from runbook_guard.engine.selection import describe
from runbook_guard.reporters.accounts import (
    FIRST_SCREEN_ACCOUNTS,
    AccountColumn,
    account_column,
)
from runbook_guard.reporters.cells import Cell, Code, Join, Strong, Table, join
from runbook_guard.reporters.model import (
    ACTION_STATUSES,
    DECIDED,
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
from runbook_guard.reporters.wording import expected_words, observed_words

#: Worst severity first, then worst status (``Row.top_key``): the order a reader fixes in.
worst_first = attrgetter("top_key")
TOP_FINDINGS = 10
GROUP_ROWS = 25  # findings listed under each owner or account; the rest are counted (CSV: all)
NO_OWNER = "(no owner)"
MEANING = {
    "pass": "checked and within the normal range (or attested)",
    "note": "above normal, under the warning threshold",
    "warn": "past the warning threshold",
    "fail": "past the critical threshold, or an expectation not met",
    "error": "could not be checked (fails closed)",
    "manual": "needs a person's attestation",
    "waived": "would be warn/fail; covered by an unexpired waiver",
    "not_applicable": "a template cannot say it before deploy (judged on the live system)",
}


def title(report: Report) -> str:
    return ", ".join(str(pack["name"]) for pack in report.policies["packs"]) or "no pack"


def scope_facts(report: Report) -> str:
    """Accounts, regions, when and by what: the one line of scope before the verdict."""
    scope = report.scope
    accounts = scope["accounts"]
    listed = (
        f"Accounts {', '.join(accounts) or 'none'}"
        if len(accounts) <= FIRST_SCREEN_ACCOUNTS
        else f"{len(accounts)} accounts (listed in the appendix)"
    )
    return (
        f"{listed}, regions "
        f"{', '.join(scope['regions']) or 'none'}, evaluated at {report.evaluated_at}; "
        f"{report.tool_name} {report.tool_version}."
    )


def scope_line(report: Report) -> str:
    return (
        f"{scope_facts(report)} Scope, parameters, waivers and collection errors are in the "
        "appendices."
    )


def gate_line(report: Report) -> Join:
    """The gate verdict. ``clear`` only when a gate was applied and nothing is at or past it;
    with ``never`` the report says it was not enforced and what the default would block; with
    a severity floor, how many results at or past ``fail_on`` it let through."""
    if not report.gate_enforced:
        would = report.blocked(DEFAULT_FAIL_ON)
        return join(
            Strong("Gate: not enforced (fail-on never)."),
            f" {counted(would, 'result')} would block at the default gate"
            f" (fail-on {DEFAULT_FAIL_ON}).",
        )
    blocked = report.blocked()
    gate = report.gate_text
    if blocked:
        head, rest = (
            f"Gate ({gate}): blocked.",
            f" {counted(blocked, 'result')} at or past the gate.",
        )
    else:
        head, rest = f"Gate ({gate}): clear.", " No result at or past the gate."
    below = report.below_floor()
    if below:
        rest += (
            f" {counted(below, 'result')} at or past fail-on {report.fail_on} "
            f"{'is' if below == 1 else 'are'} of a severity below "
            f"{report.fail_severity} and do not block (an error blocks at any severity)."
        )
    return join(Strong(head), rest)


def selection_line(report: Report) -> Join | None:
    """Said beside the verdict: a clear gate over part of the pack is not the pack's verdict."""
    if report.selection is None:
        return None
    record = report.selection
    left_out = len(record["not_selected"])
    selected = int(record["selected"])
    return join(
        Strong(f"Selection: {selected} of {selected + left_out} rules"),
        " (",
        Code(describe(record)),
        f"). The {counted(left_out, 'rule')} not selected were not evaluated: they have no"
        " result here,"
        " passing or failing" + (" (listed in the appendix)." if left_out else "."),
    )


def score_line(report: Report) -> Join:
    """The score with its definition, and what it leaves out, in one paragraph."""
    score = report.score
    decided = ", ".join(DECIDED)
    if score.percent is None:
        head = "Compliance score: n/a."
        rest = f" No result was decided ({decided}), so there is nothing to score."
    else:
        head = f"Compliance score: {score.text}."
        rest = (
            f" {score.passed} of {score.decided} decided results pass (score = pass \u00f7"
            f" decided; decided = {decided})."
        )
    if score.left_out_text:
        rest += f" Not in the score: {score.left_out_text}."
    return join(Strong(head), rest)


def since_line(report: Report) -> Join | None:
    """New, resolved and persisting findings since the baseline, or the first run's note."""
    changes = report.changes
    if changes is not None:
        where = ", the newest kept in the history" if changes.from_history else ""
        moved = f" ({len(changes.changed)} of them changed status)" if changes.changed else ""
        return join(
            Strong("Since the previous run"),
            f" ({changes.evaluated_at}{where}): {len(changes.new)} new, "
            f"{len(changes.resolved)} resolved, {changes.persisting} persisting{moved}.",
        )
    timeline = report.timeline
    if timeline is not None and timeline.first_run:
        return join(
            Strong("First run in this history:"),
            " no earlier run is kept yet, so nothing is compared. The next report will say"
            " what changed, show the trend and how long each finding has been open.",
        )
    return None


def counts_table(report: Report) -> Table:
    """Results by severity (rows) and status (columns): both counts in one small table."""
    counts: Counter[tuple[str, str]] = Counter(
        (row.rule.severity, row.status) for row in report.rows
    )
    rows: list[tuple[Cell, ...]] = []
    for severity in SEVERITIES:
        cells = [counts.get((severity, status), 0) for status in STATUSES]
        if sum(cells):
            rows.append((severity, *cells, sum(cells)))
    totals = [report.counts.get(status, 0) for status in STATUSES]
    rows.append((Strong("total"), *totals, len(report.rows)))
    header = ("Severity", *(s.replace("_", " ") for s in STATUSES), "total")
    return Table(header, rows, frozenset(range(1, len(header))))


def resource_cell(row: Row) -> Cell:
    """How a resource is named: its name, or its id when it has none; with the template line
    it is declared on (``template.yaml:42``) when the result has one."""
    named = Code(row.resource_name or row.label)
    if row.location is None:
        return named
    return join(named, " at ", Code(row.location.text))


def owner_cell(row: Row) -> str:
    return row.owner or "-"


def aged(report: Report) -> bool:
    """Whether the report shows how long findings are open: with a history of earlier runs
    (on a first run every finding would read "this run", which says nothing)."""
    return report.timeline is not None and not report.timeline.first_run


def age_cell(report: Report, row: Row) -> str:
    timeline = report.timeline
    age = timeline.age(row.identity) if timeline is not None else None
    return age.text if age is not None else "-"


def evidence_text(row: Row) -> str:
    parts = []
    if row.causes:
        parts.append("causes: " + "; ".join(merge_items(row.causes)))
    if row.missing_permissions:
        parts.append("missing permissions: " + ", ".join(dict.fromkeys(row.missing_permissions)))
    if row.evidence:
        parts.append(format_value(row.evidence))
    return "; ".join(parts) or "-"


def _aged_row(report: Report, row: Row, cells: tuple[Cell, ...]) -> tuple[Cell, ...]:
    """The row's cells, and how long it has been open when the report shows ages."""
    return (*cells, age_cell(report, row)) if aged(report) else cells


def _with_age(report: Report, header: tuple[str, ...]) -> tuple[str, ...]:
    return (*header, "Open since") if aged(report) else header


def top_findings(report: Report, findings: list[Row]) -> Table:
    """The ``TOP_FINDINGS`` worst findings, numbered, with owner and values in words."""
    column = account_column(report)
    header = _with_age(
        report,
        ("#", "Status", "Severity", "Rule", *column.header, "Resource", "Owner", "Observed",
         "Expected"),
    )  # fmt: skip
    rows: list[tuple[Cell, ...]] = []
    for number, row in enumerate(sorted(findings, key=worst_first)[:TOP_FINDINGS], start=1):
        cells: tuple[Cell, ...] = (
            number, row.status, row.rule.severity, Code(row.rule.id), *column.cells(row.account),
            resource_cell(row), owner_cell(row), observed_words(row), expected_words(row.expected),
        )  # fmt: skip
        rows.append(_aged_row(report, row, cells))
    return Table(header, rows, frozenset({0}))


def finding_table(report: Report, rows: list[Row]) -> Table:
    """One rule's findings: who, what was seen against what is expected, why, since when."""
    column = account_column(report)
    header = (
        "Status", *column.header, "Resource", "Owner", "Observed", "Expected", "Message",
        "Evidence",
    )  # fmt: skip
    out: list[tuple[Cell, ...]] = []
    for row in rows:
        cells: tuple[Cell, ...] = (
            row.status, *column.cells(row.account), resource_cell(row), owner_cell(row),
            observed_words(row), expected_words(row.expected), merge_repeats(row.message),
            evidence_text(row),
        )  # fmt: skip
        out.append((*_aged_row(report, row, cells), Code(row.label)))
    return Table((*_with_age(report, header), "Resource id"), out)


def groups(report: Report, findings: list[Row]) -> list[dict[str, Any]]:
    """Findings by rule, the rule with the worst finding first: the runbook's remediation is
    per rule, so it is printed once above the resources it applies to."""
    by_rule: dict[str, list[Row]] = {}
    for row in findings:  # already worst first, so each group's first row is its worst
        by_rule.setdefault(row.rule.id, []).append(row)
    several = account_column(report).shown
    out = []
    for rows in sorted(by_rule.values(), key=lambda rows: rows[0].action_key):
        counts = Counter(row.status for row in rows)
        rule = rows[0].rule
        overview: tuple[Cell, ...] = (
            Code(rule.id), rule.severity, *(counts.get(s, 0) for s in ACTION_STATUSES),
            ", ".join(sorted({row.owner for row in rows if row.owner})) or "-", rule.section,
        )  # fmt: skip
        if several:  # how widely a rule fails: in one account, or in most of them
            overview += (len({row.account for row in rows}),)
        out.append(
            {
                "rule": rule,
                "expected": expected_words(rule.expected) if rule.expected else "-",
                "overview": overview,
                "table": finding_table(report, rows),
            }
        )
    return out


def overview_table(report: Report, found: list[dict[str, Any]]) -> Table:
    header: tuple[str, ...] = ("Rule", "Severity", *ACTION_STATUSES, "Owner", "Runbook section")
    numeric = {2, 3, 4}
    if account_column(report).shown:
        header += ("Accounts",)
        numeric.add(len(header) - 1)
    return Table(header, [group["overview"] for group in found], frozenset(numeric))


def finding_list(report: Report, rows: list[Row], column: AccountColumn) -> tuple[Table, int]:
    """A group's worst ``GROUP_ROWS`` findings (``rows`` are worst first), and how many more
    there are: one owner's, or one account's (``column`` hidden there: it would repeat the
    heading)."""
    header = _with_age(
        report, ("Status", "Severity", "Rule", *column.header, "Resource", "Observed")
    )
    shown = []
    for row in rows[:GROUP_ROWS]:
        cells: tuple[Cell, ...] = (
            row.status, row.rule.severity, Code(row.rule.id), *column.cells(row.account),
            resource_cell(row), observed_words(row),
        )  # fmt: skip
        shown.append(_aged_row(report, row, cells))
    return Table(header, shown), max(0, len(rows) - GROUP_ROWS)


def owners(report: Report, findings: list[Row]) -> tuple[Table, list[dict[str, Any]]]:
    """Findings grouped by who must act: a count per owner, then each owner's worst findings
    (at most ``GROUP_ROWS``; the CSV export has every row with its owner)."""
    by_owner: dict[str, list[Row]] = {}
    for row in findings:
        by_owner.setdefault(row.owner or NO_OWNER, []).append(row)
    ordered = sorted(
        by_owner.items(), key=lambda item: (item[0] == NO_OWNER, -len(item[1]), item[0])
    )
    summary: list[tuple[Cell, ...]] = []
    sections = []
    column = account_column(report)
    for owner, rows in ordered:
        counts = Counter(row.status for row in rows)
        rules = Counter(row.rule.id for row in rows)
        named = ", ".join(f"{rule} ({n})" for rule, n in sorted(rules.items()))
        summary.append((owner, *(counts.get(s, 0) for s in ACTION_STATUSES), len(rows), named))
        table, more = finding_list(report, rows, column)
        sections.append({"owner": owner, "table": table, "more": more})
    header = ("Owner", *ACTION_STATUSES, "total", "Rules (findings)")
    return Table(header, summary, frozenset({1, 2, 3, 4})), sections


def summary_table(report: Report, rows: list[Row]) -> Table:
    """One finding per row for the compact summary: status, rule, resource, owner, values."""
    column = account_column(report)
    header = (
        "Status", "Rule", *column.header, "Resource", "Owner", "Observed", "Expected", "Message",
    )  # fmt: skip
    return Table(
        header,
        [
            (
                row.status,
                Code(row.rule.id),
                *column.cells(row.account),
                resource_cell(row),
                owner_cell(row),
                observed_words(row),
                expected_words(row.expected),
                merge_repeats(row.message),
            )
            for row in rows
        ],
    )


def watch_table(report: Report, rows: list[Row]) -> Table:
    column = account_column(report)
    header = (
        "Rule", *column.header, "Resource", "Owner", "Observed", "Expected", "Message",
        "Resource id",
    )  # fmt: skip
    return Table(
        header,
        [
            (
                Code(row.rule.id),
                *column.cells(row.account),
                resource_cell(row),
                owner_cell(row),
                observed_words(row),
                expected_words(row.expected),
                merge_repeats(row.message),
                Code(row.label),
            )
            for row in rows
        ],
    )


def manual_checks(report: Report) -> Table:
    """Each manual rule's results with their attestation: who checked, when, the evidence,
    until when; or that nobody has attested, or that the attestation expired."""
    manual_rules = {rule.id for rule in report.rules if rule.kind == "manual"}
    column = account_column(report)
    rows: list[tuple[Cell, ...]] = []
    for row in report.rows:
        if row.rule.id not in manual_rules and row.attestation is None:
            continue
        found = row.attestation
        if found is None:
            state = "not attested" if row.status == "manual" else row.status
            who = when = evidence = until = "-"
        else:
            state = found.state
            who, when, until = found.by, found.at, found.expires
            evidence = found.evidence + (f" ({found.note})" if found.note else "")
        rows.append(
            (
                Code(row.rule.id),
                row.rule.title,
                row.rule.cadence,
                *column.cells(row.account),
                resource_cell(row) if row.resource_id is not None else "-",
                row.status,
                state,
                who,
                when,
                Code(evidence) if evidence != "-" else "-",
                until,
                merge_repeats(row.message),
            )
        )
    header = (
        "Rule", "Title", "Cadence", *column.header, "Resource", "Status", "Attestation",
        "Checked by", "On", "Evidence", "Holds until", "Message",
    )  # fmt: skip
    return Table(header, rows)


def gap_table(report: Report, rows: list[Row]) -> Table:
    column = account_column(report)
    out: list[tuple[Cell, ...]] = []
    for row in rows:
        causes = "; ".join(merge_items(row.causes)) or merge_repeats(row.message)
        permissions = ", ".join(dict.fromkeys(row.missing_permissions)) or "-"
        out.append(
            (Code(row.rule.id), *column.cells(row.account), resource_cell(row), owner_cell(row),
             causes, permissions)
        )  # fmt: skip
    header = ("Rule", *column.header, "Resource", "Owner", "Causes", "Missing permissions")
    return Table(header, out)


def drift_table(report: Report, rows: list[Row]) -> Table:
    column = account_column(report)
    return Table(
        ("Rule", *column.header, "Resource", "Live", "Template", "Drift"),
        [
            (
                Code(row.rule.id),
                *column.cells(row.account),
                resource_cell(row),
                row.status,
                str((row.drift or {}).get("template_status", "")),
                str((row.drift or {}).get("message", "")),
            )
            for row in rows
        ],
    )


def not_applicable_table(report: Report, rows: list[Row]) -> Table:
    column = account_column(report)
    return Table(
        ("Rule", *column.header, "Resource", "Why"),
        [
            (
                Code(row.rule.id),
                *column.cells(row.account),
                resource_cell(row) if row.resource_id is not None else "-",
                row.message,
            )
            for row in rows
        ],
    )


def passing_table(report: Report, rows: list[Row]) -> Table:
    column = account_column(report)
    return Table(
        ("Rule", *column.header, "Resource", "Observed", "Expected"),
        [
            (
                Code(row.rule.id),
                *column.cells(row.account),
                resource_cell(row),
                observed_words(row),
                expected_words(row.expected),
            )
            for row in rows
        ],
    )


def first_screen(report: Report, findings: list[Row]) -> Mapping[str, Any]:
    """What the report opens with (the Markdown's first 40 lines)."""
    return {
        "title": title(report),
        "scope_line": scope_line(report),
        "scope_facts": scope_facts(report),
        "gate_line": gate_line(report),
        "selection_line": selection_line(report),
        "score_line": score_line(report),
        "since_line": since_line(report),
        "counts": counts_table(report),
        "top": top_findings(report, findings),
    }


def watch_rows(report: Report) -> list[Row]:
    return report.with_status(*WATCH_STATUSES)
