"""The report-stage review's defects, one test (or a few) each: gate wording and default,
non-standard numbers, all-or-nothing writes, permissions, links, numbers, repeats,
observed-vs-evidence, the watch section, input order, duplicates, coverage, the summary."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runbook_guard.cli import report as _registers_the_command  # noqa: F401
from runbook_guard.cli.app import app
from runbook_guard.engine.errors import InputError
from runbook_guard.reporters import load_results, render, write_reports
from runbook_guard.reporters.model import format_value

from .checks import live_links, parser, table_problems, tables, unexpected_html
from .factory import ACCOUNT, REGION, base_results, document, queue, result

# 2. and 3. the gate ----------------------------------------------------------------------


def _gate_paragraph(markdown: str) -> str:
    return next(line for line in markdown.split("\n") if line.startswith("**Gate"))


def test_never_says_the_gate_was_not_enforced_and_what_would_block() -> None:
    markdown = render(document(), "markdown", fail_on="never")
    line = _gate_paragraph(markdown)
    assert line == (
        "**Gate: not enforced (fail-on never).** 4 results would block at the default gate "
        "(fail-on fail)."
    )
    assert "clear" not in line


def test_clear_only_when_a_gate_was_applied_and_nothing_blocks() -> None:
    quiet = document([r for r in base_results() if r["status"] in ("pass", "note", "warn")])
    assert _gate_paragraph(render(quiet, "markdown", fail_on="fail")).startswith(
        "**Gate (fail-on fail): clear.**"
    )
    assert "not enforced" in _gate_paragraph(render(quiet, "markdown", fail_on="never"))
    assert "blocked" in _gate_paragraph(render(quiet, "markdown", fail_on="warn"))


def _with_gate(fail_on: str | None) -> dict[str, Any]:
    doc = document()
    if fail_on is not None:
        doc["summary"]["gate"] = {"fail_on": fail_on, "blocking": 6}
    return doc


def test_reports_default_to_the_gate_the_results_carry() -> None:
    warn = _with_gate("warn")
    assert _gate_paragraph(render(warn, "markdown")).startswith(
        "**Gate (fail-on warn): blocked.** 6"
    )
    root = ET.fromstring(render(warn, "junit"))
    assert root.get("failures") == "5"  # 3 fail + 2 warn
    assert render(warn, "junit", fail_on="fail") == render(_with_gate(None), "junit")
    assert _gate_paragraph(render(_with_gate(None), "markdown")).startswith(
        "**Gate (fail-on fail): blocked.** 4"
    )  # no gate recorded (older documents): fail
    assert json.loads(render(warn, "sarif"))["runs"][0]["properties"]["failOn"] == "warn"


def test_cli_report_uses_the_recorded_gate_unless_told(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_with_gate("warn")), encoding="utf-8")
    runner = CliRunner()
    default = runner.invoke(app, ["report", "-r", str(path), "-f", "junit", "-q"])
    assert default.exit_code == 0, default.output
    assert ET.fromstring(default.stdout).get("failures") == "5"
    told = runner.invoke(app, ["report", "-r", str(path), "-f", "junit", "-q", "--fail-on", "fail"])
    assert ET.fromstring(told.stdout).get("failures") == "3"


# 4. NaN and Infinity --------------------------------------------------------------------


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_load_results_refuses_nan_and_infinity(tmp_path: Path, constant: str) -> None:
    text = json.dumps(document()).replace('"observed": 300', f'"observed": {constant}', 1)
    assert constant in text
    path = tmp_path / "results.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_results(path)
    assert caught.value.problems[0].startswith(f"{path}:1:1: <document>: not JSON: {constant}")


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_encoders_refuse_nan(fmt: str) -> None:
    doc = document()
    doc["results"][3]["observed"] = math.nan  # a warn: SARIF emits it
    with pytest.raises(ValueError, match="JSON compliant"):
        render(doc, fmt)


# 5. all or nothing ----------------------------------------------------------------------


def test_cli_writes_no_report_when_one_cannot_be_written(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document()), encoding="utf-8")
    ok = tmp_path / "ok.xml"
    run = CliRunner().invoke(
        app, ["report", "-r", str(path), "-f", "junit", "-f", "markdown", "-o", str(ok),
              "-o", "/proc/x.md", "-q"],
    )  # fmt: skip
    assert run.exit_code == 2
    assert "/proc/x.md" in run.stderr
    assert not ok.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]  # no temp files


def test_write_reports_leaves_previous_files_untouched(tmp_path: Path) -> None:
    old = tmp_path / "junit.xml"
    old.write_text("last week", encoding="utf-8")
    blocker = tmp_path / "report.md"
    blocker.mkdir()  # a folder where a file should go
    with pytest.raises(InputError, match=r"report\.md"):
        write_reports(document(), [("junit", old), ("markdown", blocker)])
    assert old.read_text("utf-8") == "last week"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml", "report.md"]


# 6. missing permission only for access-denied codes ---------------------------------------


def _gaps(markdown: str) -> dict[str, dict[str, str]]:
    table = next(t for t in tables(markdown) if "Missing permission" in t[0])
    code = table[0].index("Code")
    return {row[code]: dict(zip(table[0], row, strict=True)) for row in table[1:]}


def test_iam_action_always_missing_permission_only_when_denied() -> None:
    doc = document()
    doc["collection_errors"].append(
        {"service": "cloudtrail", "operation": "LookupEvents", "region": REGION,
         "iam_action": "cloudtrail:LookupEvents", "code": "500",
         "message": "500 Internal Server Error"}
    )  # fmt: skip
    gaps = _gaps(render(doc, "markdown"))
    assert gaps["500"]["IAM action"] == "cloudtrail:LookupEvents"
    assert gaps["500"]["Missing permission"] == "-"
    assert gaps["AccessDenied"]["IAM action"] == "sqs:GetQueueAttributes"
    assert gaps["AccessDenied"]["Missing permission"] == "sqs:GetQueueAttributes"


# 8. links, mentions, emoji; names as code spans -------------------------------------------

LINKY = "see https://evil.example/x and www.evil.example, ask @admin or ops@corp.example :tada: #12"


def test_free_text_cannot_link_mention_or_emojify_and_still_round_trips() -> None:
    doc = document()
    doc["results"][0]["message"] = LINKY
    doc["results"][0]["evidence"] = {"url": "https://sqs.example/q", "@who": "@admin"}
    doc["results"][4]["causes"] = [LINKY]
    doc["waivers"][0]["owner"] = "@ops-team"
    doc["waivers"][0]["reason"] = LINKY
    doc["collection_errors"][1]["message"] = LINKY
    markdown = render(doc, "markdown")
    assert live_links(markdown) == []
    assert unexpected_html(markdown) == []
    assert table_problems(markdown) == []
    cells = {cell for table in tables(markdown) for row in table for cell in row}
    assert LINKY in cells  # message, waiver reason, collection error: the text is intact
    assert "@ops-team" in cells
    assert f"causes: {LINKY}; missing permissions: sqs:GetQueueAttributes" in cells


def test_arns_and_times_in_free_text_carry_no_joiner() -> None:
    doc = document()
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/agenticai-data"
    doc["results"][0]["message"] = f"{arn} failed at 10:00:00+00:00"
    markdown = render(doc, "markdown")
    assert f"{arn} failed at 10:00:00+00:00" in markdown  # copyable as it is


def test_names_and_ids_are_code_spans_in_tables() -> None:
    name = "q`1|x ``y"
    hostile = {"type": "aws.sqs.queue", "id": f"arn:{name}", "name": name, "region": REGION,
               "account": ACCOUNT}  # fmt: skip
    doc = document([*base_results(), result("sqs-queue-depth", hostile, "fail", 5, "< 1", "m")])
    markdown = render(doc, "markdown")
    assert table_problems(markdown) == []
    codes = [
        child.content
        for token in parser().parse(markdown)
        for child in token.children or []
        if child.type == "code_inline"
    ]
    assert name in codes
    assert f"arn:{name}" in codes
    assert "sqs-queue-depth" in codes
    assert "W-001" in codes


# 9. numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(5.8e-05, "< 0.01"), (-5.8e-05, "> -0.01"), (83.333333, "83.33"), (5.0, "5"), (7, "7"),
     (0.5, "0.5"), (-347.739441, "-347.74"), (1e20, "100000000000000000000"), (0.0, "0"),
     ({"rate": 0.666667, "n": [1.0, 2e-7]}, '{"n": [1, < 0.01], "rate": 0.67}'),
     (True, "true"), (None, "no data")],
)  # fmt: skip
def test_format_value_two_decimals_no_exponent(value: Any, text: str) -> None:
    assert format_value(value) == text


def test_reports_show_formatted_numbers() -> None:
    doc = document()
    doc["results"][2]["observed"] = 83.333333
    doc["results"][2]["evidence"] = {"rate": 5.8e-05}
    markdown = render(doc, "markdown")
    assert "83.33" in markdown
    assert "83.333" not in markdown
    assert "e-05" not in markdown


# 10. repeated causes and collection errors ----------------------------------------------

FIVE_HUNDRED = "cloudtrail:LookupEvents failed in us-east-1: 500: Internal Server Error"


def test_repeated_causes_and_collection_errors_are_merged_with_a_count() -> None:
    doc = document()
    cause = "listing aws.cloudtrail.event was incomplete: " + "; ".join([FIVE_HUNDRED] * 11)
    doc["results"][4]["causes"] = [cause + "; resources may be missing", "same", "same"]
    doc["results"][4]["message"] = f"could not be checked: {cause}"
    error = {"service": "cloudtrail", "operation": "LookupEvents", "region": REGION,
             "iam_action": "cloudtrail:LookupEvents", "code": "500", "message": "Internal"}  # fmt: skip
    doc["collection_errors"] += [dict(error) for _ in range(11)]
    markdown = render(doc, "markdown")
    # once each: the finding's message, its evidence (causes), the gaps table
    assert markdown.count("LookupEvents failed") == 3
    gaps = _gaps(markdown)
    assert gaps["500"]["Times"] == "11"
    assert gaps["AccessDenied"]["Times"] == "1"
    merged = f"listing aws.cloudtrail.event was incomplete: {FIVE_HUNDRED} \u00d711"
    gap = next(t for t in tables(markdown) if t[0][-2:] == ["Causes", "Missing permissions"])
    assert gap[1][3] == f"{merged}; resources may be missing; same \u00d72"
    finding = next(t for t in tables(markdown) if t[0][:2] == ["Status", "Resource"] and
                   any(r[0] == "error" for r in t[1:]))  # fmt: skip
    assert f"could not be checked: {merged}" in [r[5] for r in finding[1:]]


# 11. observed in words, evidence in full -----------------------------------------------


def test_observed_in_words_beside_the_whole_evidence() -> None:
    doc = document()
    same = {"StateValue": "ALARM", "reason": "3 messages", "retention": "14 days"}
    doc["results"][0]["observed"] = dict(same)
    doc["results"][0]["evidence"] = dict(same)
    markdown = render(doc, "markdown")
    row = next(
        r for t in tables(markdown) if t[0][:2] == ["Status", "Resource"] for r in t[1:]
        if r[1] == "agenticai-data"
    )  # fmt: skip
    # the object once in full (evidence), and in words the part written for people
    assert row[3] == "reason 3 messages; retention 14 days"
    assert row[6] == '{"StateValue": "ALARM", "reason": "3 messages", "retention": "14 days"}'


# 12. watch section -----------------------------------------------------------------------


def test_notes_are_watched_not_actioned() -> None:
    markdown = render(document(), "markdown")
    action = markdown[markdown.index("## Findings needing action") : markdown.index("## Watch")]
    watch = markdown[markdown.index("## Watch (above normal)") : markdown.index("## Manual")]
    assert "agenticai-dev-queue" not in action
    assert "agenticai-dev-queue" in watch
    passing = next(
        t for t in tables(markdown) if t[0] == ["Rule", "Resource", "Observed", "Expected"]
    )
    assert ["s3-bucket-lifecycle", "agenticai-backups", "Rules 1", "set"] in passing


# 14. duplicates ------------------------------------------------------------------------


def test_duplicate_rule_resource_results_are_refused(tmp_path: Path) -> None:
    doc = document()
    doc = document([*doc["results"], dict(doc["results"][1], status="fail")])
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_results(path)
    (problem,) = caught.value.problems
    assert problem.startswith(
        f"{path}:1:1: results[11]: duplicate result for rule 'sqs-queue-depth'"
    )
    assert "results[1] is the same" in problem


# 15. coverage --------------------------------------------------------------------------

COVERAGE = {
    "inventory": "runbook/EXPECTATIONS.md",
    "expectations": [
        {"id": "RB-B01", "text": "PITR is enabled on the data table", "section": "Backup",
         "rules": ["dynamodb-pitr-enabled"], "how": "automatic"},
        {"id": "RB-M07", "text": "A restore is tested monthly " + "x" * 200, "section": "Monthly",
         "rules": ["restore-tested"], "how": "manual"},
        {"id": "RB-Z09", "text": "Something nobody checks", "section": "Misc", "rules": [],
         "how": "not covered"},
    ],
    "uncovered": ["RB-Z09"],
    "unknown": {"RB-Q99": ["sqs-queue-depth"]},
}  # fmt: skip


def _appendix(markdown: str) -> str:
    return markdown[markdown.index("## Appendix: runbook coverage") :]


def test_coverage_appendix_lists_uncovered_and_unknown_first() -> None:
    doc = document() | {"coverage": json.loads(json.dumps(COVERAGE))}
    markdown = render(doc, "markdown")
    appendix = _appendix(markdown)
    assert table_problems(markdown) == []
    assert appendix.index("**Not covered (1):** `RB-Z09`") < appendix.index("| ID |")
    assert "**Unknown IDs named by rules (1):** `RB-Q99` (named by `sqs-queue-depth`)" in appendix
    table = next(t for t in tables(appendix) if t[0][0] == "ID")
    rows = {row[0]: row for row in table[1:]}
    assert rows["RB-B01"][3:] == ["automatic", "dynamodb-pitr-enabled"]
    assert rows["RB-M07"][3] == "manual"
    assert len(rows["RB-M07"][1]) <= 90
    assert rows["RB-Z09"][3:] == ["not covered", "-"]
    assert "| **not covered** |" in appendix


def test_coverage_appendix_without_inventory() -> None:
    appendix = _appendix(render(document(), "markdown"))
    assert "No runbook inventory was given" in appendix


# 16. compact summary ---------------------------------------------------------------------


def test_markdown_summary_is_compact_and_capped() -> None:
    from .factory import bulk_document

    doc = bulk_document(2000)
    summary = render(doc, "markdown-summary")
    assert table_problems(summary) == []
    assert unexpected_html(summary) == []
    assert "Passing checks" not in summary
    assert _gate_paragraph(summary).startswith("**Gate (fail-on fail): blocked.**")
    action = next(t for t in tables(summary) if t[0][:2] == ["Status", "Rule"])
    assert len(action) == 1 + 50
    needing = sum(r["status"] in ("fail", "error", "warn") for r in doc["results"])
    assert f"…and {needing - 50} more" in summary
    assert len(summary.encode()) < len(render(doc, "markdown").encode()) / 5
    assert len(summary.encode()) < 100_000


def test_cli_writes_summary_md_by_default_name(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document()), encoding="utf-8")
    out = tmp_path / "out"
    run = CliRunner().invoke(
        app, ["report", "-r", str(path), "-f", "markdown-summary", "-d", str(out), "-q"]
    )
    assert run.exit_code == 0, run.output
    assert (out / "summary.md").read_text("utf-8").startswith("# Compliance summary: agenticai")


# and the queue helper is used so the factory's names stay what the tests read
assert queue("x")["id"].endswith(":x")
