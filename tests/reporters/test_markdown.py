"""Markdown: the sections an auditor needs, verdict first and appendices last, with tables
GFM parses intact."""

from __future__ import annotations

from typing import Any

from runbook_guard.reporters import render

from .checks import parser, table_problems, tables, unexpected_html
from .factory import document

SECTIONS = [
    "Top findings (6 of 6)",
    "Findings needing action (6)",
    "Findings by owner (1)",
    "Watch (above normal) (1)",
    "Manual checks (1)",
    "Could not be checked (1)",
    "Passing checks (2)",
    "Appendix: scope and parameters",
    "Appendix: waiver register (3)",
    "Appendix: collection errors (2)",
    "Appendix: rules evaluated (7)",
    "Appendix: runbook coverage",
]


def _headings(markdown: str, level: str) -> list[str]:
    tokens = parser().parse(markdown)
    return [
        tokens[i + 1].content
        for i, token in enumerate(tokens)
        if token.type == "heading_open" and token.tag == level
    ]


def test_sections_in_reading_order(results: dict[str, Any]) -> None:
    markdown = render(results, "markdown")
    assert _headings(markdown, "h2") == SECTIONS
    assert table_problems(markdown) == []
    assert unexpected_html(markdown) == []


def test_header_names_scope_time_versions_and_digests(results: dict[str, Any]) -> None:
    scope_table = next(t for t in tables(render(results, "markdown")) if t[0] == ["Item", "Value"])
    scope = dict(row for row in scope_table[1:])
    assert scope["Accounts"] == "123456789012"
    assert scope["Regions"] == "us-east-1"
    assert scope["Collected at"].startswith("2026-11-27T09:58:00")
    assert scope["Evaluated at"] == "2026-11-27T10:00:00+00:00"
    assert scope["Tool"] == "runbook-guard 0.1.0 (collector 0.1.0)"
    assert scope["Policy pack"].startswith("agenticai 0.1.0")
    assert scope["Policy digest"] == "sha256:" + "cd" * 32
    assert scope["Snapshot digest"] == "sha256:" + "ab" * 32


FINDING_HEADER = [
    "Status",
    "Resource",
    "Owner",
    "Observed",
    "Expected",
    "Message",
    "Evidence",
    "Resource id",
]


def test_findings_worst_first_with_observed_next_to_expected(results: dict[str, Any]) -> None:
    markdown = render(results, "markdown")
    all_tables = tables(markdown)
    overview = next(t for t in all_tables if t[0][:3] == ["Rule", "Severity", "fail"])
    assert [row[0] for row in overview[1:]] == [
        "iam-unused-access-keys", "dynamodb-pitr-enabled", "sqs-dlq-empty",
        "sqs-queue-depth", "logs-retention-7-days",
    ]  # fmt: skip
    groups = [t for t in all_tables if t[0] == FINDING_HEADER]
    section = markdown[markdown.index("## Findings needing") : markdown.index("## Findings by")]
    headings = [h.split(":")[0].strip("`") for h in _headings(section, "h3")]
    assert headings == [r[0] for r in overview[1:]]
    rows = [row for table in groups for row in table[1:]]
    assert len(rows) == 6
    queue = groups[3]
    assert [row[0] for row in queue[1:]] == ["error", "warn"]  # worst first; note is "watch"
    pitr = groups[1][1]
    assert pitr[3:5] == ["DISABLED", "ENABLED"]
    assert pitr[6] == '{"PointInTimeRecoveryStatus": "DISABLED"}'
    assert "missing permissions: sqs:GetQueueAttributes" in queue[1][6]
    # the remediation is a code block, verbatim
    fences = [t.content for t in parser().parse(markdown) if t.type == "fence" and t.info == "bash"]
    assert any(f.startswith("aws dynamodb update-continuous-backups --table-name") for f in fences)


def test_waivers_gaps_checklist_and_passing(results: dict[str, Any]) -> None:
    markdown = render(results, "markdown")
    waivers = next(t for t in tables(markdown) if t[0][:2] == ["Waiver", "Rule"])
    w1 = dict(zip(waivers[0], waivers[1], strict=True))
    assert w1["Owner"] == "ops-team@example.com"
    assert w1["Days left"] == "18"
    assert waivers[3][4] == "Legal hold | 30 days"  # a pipe in a reason stays in its cell
    gaps = next(t for t in tables(markdown) if "Missing permission" in t[0])
    assert any("sqs:GetQueueAttributes" in row for row in gaps)
    manual = next(t for t in tables(markdown) if t[0][:2] == ["Rule", "Title"])
    assert manual[1][:6] == [
        "restore-tested", "A restore from backup was tested this month", "monthly", "-",
        "manual", "not attested",
    ]  # fmt: skip
    details = markdown.index("<details>")
    assert markdown.index("| `sqs-queue-depth` | `agenticai-pm-queue` | 3 |") > details
    # the appendices come after everything a reader acts on
    assert markdown.index("## Appendix: scope") > details


def test_no_findings_and_no_waivers_still_renders() -> None:
    doc = document(results=[], rules=[])
    doc["waivers"] = []
    doc["collection_errors"] = []
    markdown = render(doc, "markdown")
    assert "None: no fail, error or warn results." in markdown
    assert "No waivers." in markdown
    assert table_problems(markdown) == []
