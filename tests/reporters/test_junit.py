"""JUnit: valid against junit-10.xsd, counts that match the results, readable failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from junitparser import JUnitXml

from runbook_guard.reporters import render

from .checks import junit_schema


def _counts(results: dict[str, Any]) -> Counter[str]:
    return Counter(result["status"] for result in results["results"])


@pytest.mark.parametrize("fail_on", ["fail", "warn"])
def test_junit_validates_and_counts_match(
    results: dict[str, Any], fail_on: str, tmp_path: Path
) -> None:
    text = render(results, "junit", fail_on=fail_on)
    junit_schema().validate(text)
    path = tmp_path / "junit.xml"
    path.write_text(text, encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    counts = _counts(results)
    failures = counts["fail"] + (counts["warn"] if fail_on == "warn" else 0)
    suites = list(xml)
    assert sum(suite.tests for suite in suites) == len(results["results"])
    assert sum(suite.failures for suite in suites) == failures
    assert sum(suite.errors for suite in suites) == counts["error"]
    assert sum(suite.skipped for suite in suites) == counts["manual"] + counts["waived"]
    # and the attributes agree with the elements junitparser counts itself
    xml.update_statistics()  # type: ignore[no-untyped-call]
    assert xml.failures == failures
    assert xml.errors == counts["error"]


def test_one_suite_per_rule_and_stable_names(results: dict[str, Any]) -> None:
    root = ET.fromstring(render(results, "junit"))
    suites = [s for s in root.findall("testsuite") if s.get("name") != "collection errors"]
    assert [s.get("name") for s in suites] == sorted({r["rule"] for r in results["results"]})
    for suite in suites:
        for case in suite.findall("testcase"):
            assert case.get("classname") == suite.get("name")
    names = {(c.get("classname"), c.get("name")) for c in root.iter("testcase")}
    assert ("restore-tested", "(rule-level)") in names
    assert ("dynamodb-pitr-enabled", results["results"][0]["resource"]["id"]) in names


def test_failure_text_has_observed_threshold_and_remediation(results: dict[str, Any]) -> None:
    root = ET.fromstring(render(results, "junit"))
    case = next(c for c in root.iter("testcase") if c.get("classname") == "dynamodb-pitr-enabled")
    failure = case.find("failure")
    assert failure is not None
    assert failure.text is not None
    assert "observed: DISABLED" in failure.text
    assert "expected: ENABLED" in failure.text
    assert "aws dynamodb update-continuous-backups" in failure.text
    assert "runbook section: Backup and Restore" in failure.text


def test_skipped_reasons_and_warn_output(results: dict[str, Any]) -> None:
    root = ET.fromstring(render(results, "junit"))
    by_name = {c.get("name"): c for c in root.iter("testcase")}
    manual = by_name["(rule-level)"].find("skipped")
    assert manual is not None
    assert "manual attestation" in (manual.get("message") or "")
    waived = next(
        c.find("skipped") for n, c in by_name.items() if n and n.endswith("agenticai-pm-dlq")
    )
    assert waived is not None
    reason = waived.get("message") or ""
    assert "W-001" in reason
    assert "ops-team@example.com" in reason
    assert "2026-12-15" in reason
    warn = next(c for n, c in by_name.items() if n and n.endswith("agenticai-qa-queue"))
    assert warn.find("failure") is None
    out = warn.find("system-out")
    assert out is not None
    assert "past the warning threshold" in (out.text or "")


def test_fail_on_warn_turns_warn_into_failure(results: dict[str, Any]) -> None:
    root = ET.fromstring(render(results, "junit", fail_on="warn"))
    warn = next(c for c in root.iter("testcase") if (c.get("name") or "").endswith("qa-queue"))
    failure = warn.find("failure")
    assert failure is not None
    assert failure.get("type") == "warn"


@pytest.mark.parametrize(
    ("fail_on", "failing"),
    [("note", ("fail", "warn", "note")), ("never", ("fail",)), ("fail", ("fail",))],
)
def test_counts_at_note_and_never(
    results: dict[str, Any], fail_on: str, failing: tuple[str, ...], tmp_path: Path
) -> None:
    """note turns notes into failures too; never changes only the exit code: failed checks
    still show as failures and undecidable ones as errors."""
    text = render(results, "junit", fail_on=fail_on)
    junit_schema().validate(text)
    path = tmp_path / "junit.xml"
    path.write_text(text, encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    counts = _counts(results)
    expected = sum(counts[status] for status in failing)
    assert sum(suite.failures for suite in xml) == expected
    assert sum(suite.errors for suite in xml) == counts["error"] == 1
    assert sum(suite.skipped for suite in xml) == counts["manual"] + counts["waived"]
    root = ET.fromstring(text)
    assert root.get("failures") == str(expected)
    note = next(c for c in root.iter("testcase") if (c.get("name") or "").endswith("dev-queue"))
    if "note" in failing:
        failure = note.find("failure")
        assert failure is not None
        assert failure.get("type") == "note"
    else:
        assert note.find("failure") is None
        assert note.find("system-out") is not None
