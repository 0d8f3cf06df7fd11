"""The audit report's later parts, neutral like ``audit``: what changed, the trend, and the
appendices (scope and parameters, waivers, collection errors, rules as evaluated, coverage).

These are what an auditor checks the verdict against, so nothing is summarised away: every
parameter, every waiver, every merged collection error with its resources, every rule with
its expected text exactly as evaluated (the findings show it in words).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from runbook_guard.reporters.accounts import AccountColumn, account_column
from runbook_guard.reporters.cells import Cell, Code, Strong, Table, join
from runbook_guard.reporters.changes import Change, Changes, pack_names
from runbook_guard.reporters.collection import MergedError
from runbook_guard.reporters.model import STATUSES, Report, Row, format_value, merge_repeats

MAX_RESOURCES_SHOWN = 20  # per merged collection error in text; JSON and SARIF list all


def scope_table(report: Report) -> Table:
    scope, policies = report.scope, report.policies
    collected = str(scope.get("collected_at", ""))
    if scope.get("collection_finished_at"):
        collected += f" to {scope['collection_finished_at']}"
    tool = f"{report.tool_name} {report.tool_version}"
    if scope.get("collector_version"):
        tool += f" (collector {scope['collector_version']})"
    rows: list[tuple[Cell, ...]] = [
        ("Accounts", ", ".join(scope["accounts"]) or "none"),
        ("Regions", ", ".join(scope["regions"]) or "none"),
        ("Collected at", collected),
        ("Evaluated at", report.evaluated_at),
        ("Tool", tool),
    ]
    for pack in policies["packs"]:
        described = f": {pack['description']}" if pack.get("description") else ""
        rows.append(("Policy pack", f"{pack['name']} {pack['version']}{described}"))
    rows.append(("Policy digest", Code(str(policies["digest"]))))
    rows.append(("Snapshot digest", Code(str(scope["snapshot_digest"]))))
    return Table(("Item", "Value"), rows)


def parameters_table(report: Report) -> Table:
    items = sorted(report.policies["parameters"].items())
    return Table(("Parameter", "Value"), [(Code(name), format_value(v)) for name, v in items])


def waiver_table(report: Report) -> Table:
    rows: list[tuple[Cell, ...]] = [
        (
            Code(w.id),
            Code(w.rule),
            Code(w.resource),
            w.owner,
            w.reason,
            w.expires or "no expiry (in the template)",
            w.days_left if w.days_left is not None else "-",
            w.status,
            w.applied_to if w.applied_to is not None else "-",
        )
        for w in report.waivers
    ]
    header = (
        "Waiver", "Rule", "Resource", "Owner", "Reason", "Expires", "Days left", "Status",
        "Applied to",
    )  # fmt: skip
    return Table(header, rows, frozenset({6, 8}))


def waived_table(report: Report, rows: list[Row]) -> Table:
    column = account_column(report)
    out: list[tuple[Cell, ...]] = []
    for row in rows:
        waiver = row.waiver
        out.append(
            (
                Code(row.rule.id),
                *column.cells(row.account),
                Code(row.resource_name or row.label),
                row.original_status or "-",
                Code(row.waiver_id) if row.waiver_id else "-",
                waiver.owner if waiver else "-",
                (waiver.expires or "no expiry") if waiver else "-",
                row.message,
            )
        )
    header = (
        "Rule", *column.header, "Resource", "Would be", "Waiver", "Owner", "Expires", "Message",
    )  # fmt: skip
    return Table(header, out)


def resources_text(resources: Iterable[str], limit: int = MAX_RESOURCES_SHOWN) -> str:
    """Up to ``limit`` resources, then how many more (the JSON report lists every one)."""
    listed = list(resources)
    if not listed:
        return "-"
    shown = ", ".join(listed[:limit])
    more = len(listed) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def collection_error_table(merged: Iterable[MergedError]) -> Table:
    """Calls that failed, identical ones merged with how many times and for which resources.
    The IAM action is always shown; it is a *missing* permission only for an access-denied
    code."""
    rows: list[tuple[Cell, ...]] = [
        (
            error.service,
            error.operation,
            error.account or "-",
            error.region,
            error.code,
            error.iam_action or "-",
            error.iam_action if error.denied else "-",
            merge_repeats(error.message),
            error.count,
            resources_text(error.resources),
        )
        for error in merged
    ]
    header = (
        "Service", "Operation", "Account", "Region", "Code", "IAM action",
        "Missing permission", "Message", "Times", "Resources",
    )  # fmt: skip
    return Table(header, rows, frozenset({8}))


def rule_results(report: Report) -> dict[str, str]:
    per_rule: dict[str, Counter[str]] = {}
    for row in report.rows:
        per_rule.setdefault(row.rule.id, Counter())[row.status] += 1
    return {
        rule_id: ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts.get(s))
        for rule_id, counts in per_rule.items()
    }


def rules_table(report: Report) -> Table:
    """Every rule evaluated, with its expected text exactly as the engine evaluated it."""
    results = rule_results(report)
    rows: list[tuple[Cell, ...]] = [
        (
            Code(rule.id),
            rule.title,
            rule.kind,
            rule.severity,
            rule.cadence,
            ", ".join(rule.covers) or "-",
            rule.section,
            f"{rule.path}:{rule.line}",
            Code(rule.expected) if rule.expected else "-",
            results.get(rule.id, "none"),
        )
        for rule in report.rules
    ]
    header = (
        "Rule", "Title", "Kind", "Severity", "Cadence", "Covers", "Runbook section", "Source",
        "Expected (as evaluated)", "Results",
    )  # fmt: skip
    return Table(header, rows)


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def coverage_context(report: Report) -> dict[str, Any] | None:
    coverage = report.coverage
    if coverage is None:
        return None
    rows: list[tuple[Cell, ...]] = []
    for item in sorted(coverage["expectations"], key=lambda e: e["id"]):
        how = item["how"]
        named: list[Cell] = []
        for rule in sorted(item["rules"]):
            named += [", "] if named else []
            named.append(Code(rule))
        if item.get("not_selected"):
            named.append("; " if named else "")
            named.append("not selected: ")
            for index, rule in enumerate(item["not_selected"]):
                named += [", "] if index else []
                named.append(Code(rule))
        rows.append(
            (
                Code(item["id"]),
                _short(item["text"]),
                item["section"],
                Strong("not covered") if how == "not covered" else how,
                join(*named) if named else "-",
            )
        )
    unknown = [
        join(Code(rb_id), " (named by ", _codes(sorted(rules)), ")")
        for rb_id, rules in sorted(coverage["unknown"].items())
    ]
    uncovered = sorted(coverage["uncovered"])
    not_selected = list(coverage.get("not_selected", []))
    header = ("ID", "Expectation", "Runbook section", "How it is checked", "Rules")
    return {
        "inventory": Code(coverage["inventory"]),
        "table": Table(header, rows),
        "uncovered": _codes(uncovered),
        "uncovered_count": len(uncovered),
        "unknown": _joined(unknown, "; "),
        "unknown_count": len(unknown),
        "not_selected": _codes(not_selected),
        "not_selected_count": len(not_selected),
    }


def _joined(cells: Sequence[Cell], separator: str) -> Cell:
    parts: list[Cell] = []
    for cell in cells:
        parts += [separator] if parts else []
        parts.append(cell)
    return join(*parts)


def _codes(names: Iterable[str]) -> Cell:
    return _joined([Code(name) for name in names], ", ")


def change_table(changes: Iterable[Change], column: AccountColumn) -> Table:
    """Rule, resource, before -> now, message, resource id: one row per changed finding."""
    rows: list[tuple[Cell, ...]] = [
        (
            Code(change.rule_id),
            *column.cells(change.key[1]),  # the finding's identity: (rule, account, ...)
            Code(change.resource_name) if change.resource_name else "",
            f"{change.before_text} \u2192 {change.after_text}",
            merge_repeats(change.message),
            Code(change.label),
        )
        for change in changes
    ]
    header = ("Rule", *column.header, "Resource", "Before \u2192 now", "Message", "Resource id")
    return Table(header, rows)


def comparison_table(report: Report, changes: Changes) -> Table:
    """The two runs side by side; what a kept run without its document lacks says so."""
    scope = report.scope
    lacking = "not kept"
    rows: list[tuple[Cell, ...]] = [("Evaluated at", changes.evaluated_at, report.evaluated_at)]
    if changes.whole:
        rows += [
            ("Snapshot digest", Code(changes.snapshot_digest), Code(scope["snapshot_digest"])),
            ("Policy digest", Code(changes.policy_digest), Code(report.policies["digest"])),
            (
                "Policy packs",
                ", ".join(changes.packs) or "none",
                ", ".join(pack_names(report.document)) or "none",
            ),
            (
                "Accounts",
                ", ".join(changes.accounts) or "none",
                ", ".join(sorted(scope["accounts"])) or "none",
            ),
            (
                "Regions",
                ", ".join(changes.regions) or "none",
                ", ".join(sorted(scope["regions"])) or "none",
            ),
        ]
    else:
        rows.append(("Snapshot, policies, scope", lacking, "as in the appendix"))
    return Table(("Item", "Previous run", "This run"), rows)


def change_counts(changes: Changes, not_selected: bool) -> Table:
    rows: list[tuple[Cell, ...]] = [
        ("New", len(changes.new)),
        ("Resolved", len(changes.resolved)),
        ("Persisting", changes.persisting),
        ("of which status changed", len(changes.changed)),
    ]
    if changes.rules_removed:
        why = " or not selected" if not_selected else ""
        rows.append((f"No longer evaluated (rule removed{why})", changes.no_longer_evaluated))
    if not changes.scope_matches:
        rows.append(("Outside the shared scope, this run", changes.outside_scope_now))
        rows.append(("Outside the shared scope, previous run", changes.outside_scope_before))
    return Table(("Findings", "Count"), rows, frozenset({1}))


def rule_change_table(changes: Changes, not_selected_ids: frozenset[str]) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for rule in changes.rules_added:
        rows.append((rule.id, "added", rule.findings_before, rule.findings_now))
    for rule in changes.rules_removed:
        what = (
            "not selected in this run: not evaluated"
            if rule.id in not_selected_ids
            else "removed: no longer evaluated"
        )
        rows.append((rule.id, what, rule.findings_before, rule.findings_now))
    for rule in changes.rules_changed:
        rows.append((rule.id, f"changed: {', '.join(rule.fields)}", rule.findings_before,
                     rule.findings_now))  # fmt: skip
    return Table(("Rule", "Change", "Findings before", "Findings now"), rows, frozenset({2, 3}))


def trend_table(report: Report) -> Table | None:
    """The last runs (this one last) per status, with the score of each."""
    if report.timeline is None or report.timeline.first_run:
        return None
    rows: list[tuple[Cell, ...]] = []
    for run in report.timeline.trend:
        when: Cell = Strong(f"{run.evaluated_at} (this run)") if run.current else run.evaluated_at
        rows.append((when, *run.cells(), run.total, run.score.text))
    header = ("Run", *(s.replace("_", " ") for s in STATUSES), "total", "score")
    return Table(header, rows, frozenset(range(1, len(header))))
