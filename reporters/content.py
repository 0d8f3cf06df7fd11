"""Everything the audit report shows, in reading order: one dictionary that the Markdown and
the HTML templates both print, so the two formats cannot drift apart in content."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.reporters import appendix, audit
from runbook_guard.reporters.accounts import account_column
from runbook_guard.reporters.by_account import accounts_context
from runbook_guard.reporters.cells import Code
from runbook_guard.reporters.model import ACTION_STATUSES, STATUSES, Report


def _changes(report: Report, not_selected_ids: frozenset[str]) -> Mapping[str, Any] | None:
    changes = report.changes
    if changes is None:
        return None
    column = account_column(report)
    return {
        "changes": changes,
        "comparison": appendix.comparison_table(report, changes),
        "counts": appendix.change_counts(changes, bool(not_selected_ids)),
        "rules": appendix.rule_change_table(changes, not_selected_ids),
        "lists": [
            ("New findings", appendix.change_table(changes.new, column)),
            ("Resolved findings", appendix.change_table(changes.resolved, column)),
            ("Status changed", appendix.change_table(changes.changed, column)),
        ],
    }


def context(report: Report) -> Mapping[str, Any]:
    """The report's content; every value is a neutral cell, a ``Table`` or plain data.
    Built once per report: Markdown, its summary and HTML print the same."""
    cached = report.memo.get("content")
    if cached is None:
        cached = report.memo["content"] = _context(report)
    content: Mapping[str, Any] = cached
    return content


def _context(report: Report) -> Mapping[str, Any]:
    findings = report.with_status(*ACTION_STATUSES)
    found = audit.groups(report, findings)
    owners_table, owner_sections = audit.owners(report, findings)
    left_out = list((report.selection or {}).get("not_selected", []))
    not_selected_ids = frozenset(left_out)
    watch = audit.watch_rows(report)
    errors = report.with_status("error")
    manual = audit.manual_checks(report)
    return {
        **audit.first_screen(report, findings),
        "report": report,
        "meaning": [(status, audit.MEANING[status]) for status in STATUSES],
        "findings_count": len(findings),
        "groups": found,
        "overview": audit.overview_table(report, found),
        "accounts": accounts_context(report, findings),
        "in_summary": False,
        "owners": owners_table,
        "owner_sections": owner_sections,
        "owner_rows": audit.GROUP_ROWS,
        "watch": audit.watch_table(report, watch),
        "manual": manual,
        "errors": audit.gap_table(report, errors),
        "drift": audit.drift_table(report, [row for row in report.rows if row.drift]),
        "not_applicable": audit.not_applicable_table(report, report.with_status("not_applicable")),
        "passing": audit.passing_table(
            report, [row for row in report.rows if row.status == "pass"]
        ),
        "change": _changes(report, not_selected_ids),
        "trend": appendix.trend_table(report),
        "trend_runs": len(report.timeline.trend) if report.timeline else 0,
        "scope": appendix.scope_table(report),
        "parameters": appendix.parameters_table(report),
        "waivers": appendix.waiver_table(report),
        "waived": appendix.waived_table(report, report.with_status("waived")),
        "collection_errors": appendix.collection_error_table(report.merged_errors),
        "raw_error_count": len(report.collection_errors),
        "rules": appendix.rules_table(report),
        "not_selected": [Code(rule) for rule in left_out],
        "not_selected_ids": not_selected_ids,
        "coverage": appendix.coverage_context(report),
    }
