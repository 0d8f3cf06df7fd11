"""The gate by severity: ``--fail-severity`` beside ``--fail-on``, in the engine and every report.

A floor on severity lets a low-severity finding through the gate; it never lets an ``error``
through (an undecided check fails closed), and it never makes a report show a failed check as
passed (JUnit keeps every ``fail`` a failure, Markdown counts what the floor let through).
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from junitparser import Error, Failure, JUnitXml
from rich.console import Console

from runbook_guard.engine.config import blocks, document_blocking
from runbook_guard.reporters import print_summary, render
from tests.reporters.checks import sarif_schema_errors
from tests.reporters.factory import document


@pytest.mark.parametrize(
    ("status", "severity", "fail_on", "floor", "blocked"),
    [
        ("fail", "low", "fail", None, True),
        ("fail", "low", "fail", "high", False),
        ("fail", "medium", "fail", "high", False),
        ("fail", "high", "fail", "high", True),
        ("fail", "critical", "fail", "high", True),
        ("fail", "info", "fail", "info", True),
        ("error", "info", "fail", "critical", True),  # undecided: blocks below any floor
        ("error", "low", "warn", "high", True),
        ("error", "critical", "never", None, False),
        ("warn", "high", "warn", "high", True),
        ("warn", "medium", "warn", "high", False),
        ("warn", "critical", "fail", "info", False),
        ("note", "low", "note", "low", True),
        ("waived", "critical", "note", None, False),
        ("manual", "critical", "note", "info", False),
        ("not_applicable", "critical", "note", "info", False),
        ("pass", "critical", "note", "info", False),
    ],
)
def test_what_blocks(
    status: str, severity: str, fail_on: str, floor: str | None, blocked: bool
) -> None:
    assert blocks(status, severity, fail_on, floor) is blocked


def gated(fail_on: str, floor: str | None) -> dict[str, Any]:
    """The reporters' fixture document, recorded as evaluated with this gate."""
    doc = document()
    doc["schema_version"] = 3
    blocking = document_blocking(doc, fail_on, floor)
    doc["summary"]["gate"] = {"fail_on": fail_on, "blocking": blocking}
    if floor is not None:
        doc["schema_version"] = 4
        doc["summary"]["gate"]["fail_severity"] = floor
        doc["selection"] = {"rules": [], "exclude_rules": [], "tags": [], "severity": None,
                            "cadence": [], "selected": len(doc["rules"]), "not_selected": []}  # fmt: skip
    return doc


def test_the_document_counts_errors_below_the_floor() -> None:
    doc = document()
    # fails: dynamodb (high), dlq (high), iam (critical); error: sqs-queue-depth (medium)
    assert document_blocking(doc, "fail", None) == 4
    assert document_blocking(doc, "fail", "high") == 4
    assert document_blocking(doc, "fail", "critical") == 2  # the critical fail, and the error
    assert document_blocking(doc, "warn", "high") == 4  # medium and low warns stay out


def test_markdown_says_what_the_floor_let_through() -> None:
    text = render(gated("warn", "high"), "markdown")
    assert (
        "**Gate (fail-on warn, fail-severity high): blocked.** 4 results at or past the gate. "
        "2 results at or past fail-on warn are of a severity below high and do not block "
        "(an error blocks at any severity)."
    ) in text
    summary = render(gated("warn", "high"), "markdown-summary")
    assert "**Gate (fail-on warn, fail-severity high): blocked.** 4 results" in summary


def test_a_floor_never_clears_a_gate_an_error_blocks() -> None:
    doc = gated("fail", "critical")
    doc["results"] = [r for r in doc["results"] if r["rule"] != "iam-unused-access-keys"]
    text = render(doc, "markdown", fail_severity="critical")
    assert "**Gate (fail-on fail, fail-severity critical): blocked.** 1 result" in text
    assert "2 results at or past fail-on fail are of a severity below critical" in text


def test_junit_keeps_every_fail_a_failure_and_lets_warns_below_the_floor_pass() -> None:
    xml = JUnitXml.fromstring(render(gated("warn", "high"), "junit"))
    outcome = {}
    for suite in xml:
        for case in suite:
            kinds = {type(r) for r in case.result}
            outcome[(suite.name, case.name)] = (
                "error" if Error in kinds else "failure" if Failure in kinds else "other"
            )

    def of(rule: str, name_part: str) -> str:
        [found] = [v for (s, n), v in outcome.items() if s == rule and name_part in n]
        return found

    assert of("sqs-queue-depth", "agenticai-qa-queue") == "other"  # medium warn under "high"
    assert of("logs-retention-7-days", "agenticai-pm") == "other"  # low warn
    assert of("sqs-queue-depth", "agenticai-ops-queue") == "error"
    assert of("dynamodb-pitr-enabled", "agenticai-data") == "failure"
    # A floor above a failing rule's severity still shows its fail as failed.
    xml = JUnitXml.fromstring(render(gated("fail", "critical"), "junit"))
    [pitr] = [suite for suite in xml if suite.name == "dynamodb-pitr-enabled"]
    assert pitr.failures == 1
    # Without a floor, --fail-on warn fails every warn, as before.
    xml = JUnitXml.fromstring(render(gated("warn", None), "junit"))
    assert xml.failures == 3 + 2


def test_sarif_records_the_floor_and_stays_valid() -> None:
    sarif = json.loads(render(gated("fail", "high"), "sarif"))
    assert sarif_schema_errors(sarif) == []
    assert sarif["runs"][0]["properties"]["failSeverity"] == "high"
    assert (
        "failSeverity"
        not in json.loads(render(gated("fail", None), "sarif"))["runs"][0]["properties"]
    )


def test_reports_use_the_recorded_floor_unless_told_otherwise() -> None:
    doc = gated("fail", "critical")
    assert "fail-severity critical): blocked.** 2" in render(doc, "markdown")
    # ``info`` is the floor that lets every severity block.
    assert "fail-severity info): blocked.** 4" in render(doc, "markdown", fail_severity="info")
    assert "**Gate (fail-on fail): blocked.** 4" in render(gated("fail", None), "markdown")


def test_the_console_names_the_floor() -> None:
    out = io.StringIO()
    print_summary(gated("fail", "critical"), Console(file=out, width=200), fail_on="fail")
    assert "fail-on fail, fail-severity critical: 2 results at or past the gate" in out.getvalue()
