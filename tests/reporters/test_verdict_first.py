"""The audit report opens with its verdict: the first screen (40 lines) of the Markdown holds
the gate, the score, the counts and the top findings, read back with a CommonMark parser;
values read in words with units; owners are shown and grouped; the appendices come last."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from markdown_it.token import Token

from runbook_guard.reporters import render
from runbook_guard.reporters.model import Score
from runbook_guard.reporters.wording import expected_words

from .checks import inline_text, parser, table_problems, tables, unexpected_html
from .factory import (
    ACCOUNT,
    RULES,
    base_results,
    bulk_document,
    document,
    owned_document,
    queue,
    resource,
    result,
)

FIRST_SCREEN = 40


def _blocks(markdown: str) -> list[tuple[str, int, Any]]:
    """(kind, last line, content) of each paragraph, heading and table, in order: a
    paragraph's inline children, a heading's text, a table's rows of cell texts."""
    tokens = parser().parse(markdown)
    out: list[tuple[str, int, Any]] = []
    cells: list[list[str]] = []
    for index, token in enumerate(tokens):
        if token.type == "paragraph_open" and token.map is not None:
            out.append(("paragraph", token.map[1], tokens[index + 1]))
        elif token.type == "heading_open" and token.map is not None:
            out.append((token.tag, token.map[1], tokens[index + 1].content))
        elif token.type == "table_open" and token.map is not None:
            cells = []
            out.append(("table", token.map[1], cells))
        elif token.type == "tr_open":
            cells.append([])
        elif token.type == "inline" and tokens[index - 1].type in ("th_open", "td_open"):
            cells[-1].append(inline_text(token))
    return out


def _first_screen(markdown: str) -> list[tuple[str, int, Any]]:
    return [block for block in _blocks(markdown) if block[1] <= FIRST_SCREEN]


def _strong(inline: Token) -> str:
    """The bold words a paragraph opens with (the verdict, the score), else ""."""
    children = [c for c in inline.children or [] if c.type != "text" or c.content]
    return children[1].content if children and children[0].type == "strong_open" else ""


def _paragraph(screen: list[tuple[str, int, Any]], opening: str) -> Token:
    found: list[Token] = [
        b[2] for b in screen if b[0] == "paragraph" and _strong(b[2]).startswith(opening)
    ]
    assert found, f"no paragraph opening with {opening!r} in the first screen"
    return found[0]


def test_first_screen_holds_verdict_score_counts_and_top_findings() -> None:
    markdown = render(owned_document(), "markdown")
    screen = _first_screen(markdown)
    assert _strong(_paragraph(screen, "Gate")) == "Gate (fail-on fail): blocked."
    score = inline_text(_paragraph(screen, "Compliance score"))
    assert score.startswith("Compliance score: 25%. 2 of 8 decided results pass")
    assert "decided = pass, note, warn, fail" in score  # the definition, beside the figure
    assert "Not in the score: 1 error (could not be checked)" in score
    counts = next(b[2] for b in screen if b[0] == "table" and b[2][0][0] == "Severity")
    assert counts[0][1:] == [
        "fail", "error", "warn", "note", "waived", "manual", "pass", "not applicable", "total",
    ]  # fmt: skip
    by_severity = {row[0]: row[1:] for row in counts[1:]}
    assert by_severity["high"] == ["2", "0", "0", "0", "1", "0", "0", "0", "3"]
    assert by_severity["total"] == ["3", "1", "2", "1", "1", "1", "2", "0", "11"]
    headings = [b[2] for b in screen if b[0] == "h2"]
    assert headings[0] == "Top findings (6 of 6)"
    top = next(b[2] for b in screen if b[0] == "table" and b[2][0][0] == "#")
    assert top[0] == ["#", "Status", "Severity", "Rule", "Resource", "Owner", "Observed",
                      "Expected"]  # fmt: skip
    # worst severity first, then worst status; each with its owner
    assert [(r[2], r[1], r[3], r[5]) for r in top[1:]] == [
        ("critical", "fail", "iam-unused-access-keys", "security"),
        ("high", "fail", "dynamodb-pitr-enabled", "data-team"),
        ("high", "fail", "sqs-dlq-empty", "platform@example.com"),
        ("medium", "error", "sqs-queue-depth", "platform@example.com"),
        ("medium", "warn", "sqs-queue-depth", "platform@example.com"),
        ("low", "warn", "logs-retention-7-days", "-"),
    ]
    assert table_problems(markdown) == []
    assert unexpected_html(markdown) == []


def _worst_case() -> dict[str, Any]:
    """Every severity, a selection, a long history of findings: the tallest first screen."""
    doc = bulk_document(3000)
    doc["schema_version"] = 4
    doc["selection"] = {
        "rules": ["sqs-*"], "exclude_rules": [], "tags": ["queues"], "severity": [],
        "cadence": [], "selected": len(doc["rules"]), "not_selected": ["other.rule"],
    }  # fmt: skip
    return doc


def test_the_first_screen_fits_even_at_its_tallest() -> None:
    doc = _worst_case()
    previous = copy.deepcopy(doc)
    previous["evaluated_at"] = "2026-11-20T10:00:00+00:00"
    previous["results"] = previous["results"][:2500]
    markdown = render(doc, "markdown", previous=previous)
    screen = _first_screen(markdown)
    opening = [_strong(b[2]).split(" ")[0] for b in screen if b[0] == "paragraph"]
    assert opening == ["", "Gate", "Selection:", "Compliance", "Since"]  # "": the scope line
    top = next(b[2] for b in screen if b[0] == "table" and b[2][0][0] == "#")
    assert len(top) == 1 + 10  # the ten worst, all within the first screen
    assert next(b[2] for b in screen if b[0] == "h2").startswith("Top findings (10 of ")
    # the first screen ends with the top findings; what changed in detail comes next
    headings = [b[2] for b in _blocks(markdown) if b[0] == "h2"]
    assert headings[:2] == [headings[0], "What changed since the previous run"]


def test_top_findings_are_the_ten_worst_by_severity_then_status() -> None:
    results = base_results()
    for index in range(12):  # many low warns must not push out one critical error
        res = resource("aws.logs.log_group", f"/aws/lambda/extra-{index:02d}")
        results.append(result("logs-retention-7-days", res, "warn", 30, "7", "30 days"))
    results.append(result("iam-unused-access-keys", queue("odd"), "error", None, "x", "denied"))
    markdown = render(document(results), "markdown")
    top = next(t for t in tables(markdown) if t[0][0] == "#")
    assert [(r[2], r[1]) for r in top[1:4]] == [
        ("critical", "fail"), ("critical", "error"), ("high", "fail"),
    ]  # fmt: skip
    assert len(top) == 11
    assert "## Top findings (10 of 19)" in markdown


@pytest.mark.parametrize(
    ("counts", "text", "percent"),
    [
        ({"pass": 2, "fail": 1, "warn": 1}, "50%", 50.0),
        ({"pass": 1, "note": 1}, "50%", 50.0),  # a note is above normal: not passed
        ({"pass": 9999, "fail": 1}, "99.9%", 99.99),  # never rounded up to 100
        ({"pass": 3, "error": 97}, "100%", 100.0),  # errors are left out, and said so
        ({"error": 5, "manual": 1, "waived": 2}, "n/a", None),  # nothing decided: no score
        ({"pass": 2, "fail": 1}, "67%", 200 / 3),
    ],
)
def test_score_is_passed_over_decided(
    counts: dict[str, int], text: str, percent: float | None
) -> None:
    score = Score.of(counts)
    assert score.text == text
    assert score.percent == pytest.approx(percent) if percent is not None else score.percent is None


def test_a_score_over_undecided_results_says_what_it_leaves_out() -> None:
    """Missing data never passes: 3 passes and 97 errors is not a compliant account."""
    results = [
        result(
            "sqs-queue-depth",
            queue(f"q{i}"),
            "error" if i >= 3 else "pass",
            None,
            "< 100",
            "denied" if i >= 3 else "ok",
        )
        for i in range(100)
    ]
    markdown = render(document(results), "markdown")
    score = next(line for line in markdown.split("\n") if line.startswith("**Compliance"))
    assert score.startswith("**Compliance score: 100%.** 3 of 3 decided results pass")
    assert "Not in the score: 97 error (could not be checked)" in score
    gate = next(line for line in markdown.split("\n") if line.startswith("**Gate"))
    assert "blocked.** 97 results" in gate
    nothing = render(document([r for r in results if r["status"] == "error"]), "markdown")
    assert "**Compliance score: n/a.** No result was decided" in nothing


# Values in words -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("retentionInDays exists; warn unless retentionInDays == 7",
         "retentionInDays is set; warning unless retentionInDays is exactly 7"),
        ("normal < 0.1%, warn > 1%, fail > 5%; over the last day",
         "normal below 0.1%, warning above 1%, critical above 5%; over the last day"),
        ("normal 0, warn > 5/5min, fail > 10/5min",
         "normal 0, warning above 5 per 5min, critical above 10 per 5min"),
        ("ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus"
         " == ENABLED", "PointInTimeRecoveryStatus is ENABLED"),
        ("(State == Active) and (LastUpdateStatus != Failed)",
         "(State is Active) and (LastUpdateStatus is not Failed)"),
        ("TracingConfig.Mode in ['Active', 'PassThrough']",
         "TracingConfig.Mode is one of ['Active', 'PassThrough']"),
        ("warn unless (reserved concurrency exists) and (reserved concurrency <= 10)",
         "warning unless (reserved concurrency is set) and (reserved concurrency is at most 10)"),
        ("deploymentConfigName =~ ^CodeDeployDefault\\.Lambda(Linear|Canary)",
         "deploymentConfigName matches ^CodeDeployDefault\\.Lambda(Linear|Canary)"),
        # a label written for people keeps its own words ("in" is not the operator here)
        ("names in metric rows contains agenticai-api", "names in metric rows contains agenticai-api"),
        ("warn <= 90, fail <= 0", "warning at most 90, critical at most 0"),
    ],
)  # fmt: skip
def test_expected_in_words(raw: str, words: str) -> None:
    assert expected_words(raw) == words


def _retention_document() -> dict[str, Any]:
    rules = copy.deepcopy(RULES)
    retention = next(r for r in rules if r["id"] == "logs-retention-7-days")
    raw = "retentionInDays exists; warn unless retentionInDays == 7"
    retention["expected"] = raw
    depth = "normal 0, warn > 5/5min, fail > 10/5min; worst 5-minute period of the last 7 days"
    results = [
        result("logs-retention-7-days", resource("aws.logs.log_group", "/ecs/web"), "warn",
               {"retention": "30 days", "retentionInDays": 30}, raw, "the retention is not 7 days",
               evidence={"retention": "30 days", "retentionInDays": 30}),
        result("sqs-queue-depth", queue("agenticai-dev-queue"), "warn", 7, depth,
               "7/5min is past the warning threshold (> 5/5min)"),
    ]  # fmt: skip
    return document(results, rules)


def test_observed_and_expected_read_in_words_with_units_raw_text_in_the_appendix() -> None:
    markdown = render(_retention_document(), "markdown")
    top = next(t for t in tables(markdown) if t[0][0] == "#")
    found = {row[3]: (row[6], row[7]) for row in top[1:]}
    assert found["logs-retention-7-days"] == (
        "retention 30 days",
        "retentionInDays is set; warning unless retentionInDays is exactly 7",
    )
    assert found["sqs-queue-depth"] == (
        "7 per 5min",
        "normal 0, warning above 5 per 5min, critical above 10 per 5min; worst 5-minute period"
        " of the last 7 days",
    )
    # no operator or JMESPath in the finding tables...
    finding_rows = [
        r for t in tables(markdown) if t[0][:2] == ["Status", "Resource"] for r in t[1:]
    ]
    assert all("==" not in cell and " > " not in cell for r in finding_rows for cell in r[3:5])
    # ...and the exact text evaluated is in the appendix of rules, as code
    rules = next(t for t in tables(markdown) if "Expected (as evaluated)" in t[0])
    column = rules[0].index("Expected (as evaluated)")
    row = next(r for r in rules[1:] if r[0] == "logs-retention-7-days")
    assert row[column] == "retentionInDays exists; warn unless retentionInDays == 7"


# Owners ----------------------------------------------------------------------------------


def test_findings_are_grouped_by_owner_and_each_finding_names_its_owner() -> None:
    markdown = render(owned_document(), "markdown")
    owners = next(t for t in tables(markdown) if t[0][0] == "Owner")
    assert [row[0] for row in owners[1:]] == [
        "platform@example.com", "data-team", "security", "(no owner)",
    ]  # most findings first, nobody's last  # fmt: skip
    assert owners[1][1:5] == ["1", "1", "1", "3"]  # fail, error, warn, total
    assert owners[1][5] == "sqs-dlq-empty (1), sqs-queue-depth (2)"
    section = markdown[markdown.index("## Findings by owner") : markdown.index("## Watch")]
    headings = [t.content for t in parser().parse(section) if t.type == "inline"][:1]
    assert headings == ["Findings by owner (4)"]
    per_owner = [t for t in tables(section) if t[0][0] == "Status"]
    assert [len(t) - 1 for t in per_owner] == [3, 1, 1, 1]
    findings = [r for t in tables(markdown) if t[0][:3] == ["Status", "Resource", "Owner"]
                for r in t[1:]]  # fmt: skip
    assert {r[2] for r in findings} == {"data-team", "platform@example.com", "security", "-"}


def test_appendices_come_last_in_the_order_an_auditor_checks_them() -> None:
    markdown = render(document(), "markdown")
    h2 = [b[2] for b in _blocks(markdown) if b[0] == "h2"]
    appendices = [h for h in h2 if h.startswith("Appendix")]
    assert h2[-len(appendices) :] == appendices
    assert appendices == [
        "Appendix: scope and parameters", "Appendix: waiver register (3)",
        "Appendix: collection errors (2)", "Appendix: rules evaluated (7)",
        "Appendix: runbook coverage",
    ]  # fmt: skip
    assert markdown.index("## Appendix") > markdown.index("## Passing checks")
    params = next(t for t in tables(markdown) if t[0] == ["Parameter", "Value"])
    assert ["prefix", "agenticai"] in params
    assert ACCOUNT in markdown.split("\n")[2]  # the scope in one line at the top
