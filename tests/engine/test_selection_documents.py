"""Selection in the results contract: recorded (schema 4), re-applied by ``report``, checked.

``report --tag ...`` narrows an existing results document: it must agree with evaluating the
same selection in the first place, invent no result for a rule it drops, recount everything
it shows, and keep reading the files older versions wrote (schemas 1 to 3).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runbook_guard.cli import commands  # noqa: F401  (registers the commands)
from runbook_guard.cli.app import app
from runbook_guard.cli.pipeline import evaluate, prepare
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.reselect import select_results
from runbook_guard.engine.results import RESULTS_SCHEMA_VERSION
from runbook_guard.engine.selection import Selection, describe
from runbook_guard.engine.snapshot import load_snapshot
from runbook_guard.reporters import ALL_FORMATS, render, validate_results
from tests.reporters.checks import sarif_schema_errors
from tests.reporters.factory import RULES, document

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def evaluated(selection: Selection | None = None) -> dict[str, Any]:
    prepared = prepare(EXAMPLES / "runbook-guard.yaml", None, None, selection=selection)
    return evaluate(prepared, load_snapshot(EXAMPLES / "snapshot.json"), None, None)


def test_results_are_schema_4_and_record_the_selection() -> None:
    # 5 (scope.account_names) is written only by results that carry account names.
    assert RESULTS_SCHEMA_VERSION == 5
    results = evaluated(Selection.from_options(tags=["sqs"], severity="high"))
    validate_results(results)
    assert results["schema_version"] == 4
    assert results["selection"]["tags"] == ["sqs"]
    assert describe(results["selection"]) == "--tag sqs --severity high"


@pytest.mark.parametrize(
    "options",
    [
        {"tags": ["sqs"], "severity": "high"},
        {"rules": ["dynamodb.*", "s3.*"], "exclude_rules": ["*.recent-*"]},
        {"cadence": ["monthly"]},
    ],
)
def test_report_time_selection_agrees_with_evaluating_the_selection(
    options: dict[str, Any],
) -> None:
    """Narrowing the full results gives what evaluating only those rules gives: the same
    rules, results, counts, gate, coverage and waiver register."""
    selection = Selection.from_options(**options)
    direct = evaluated(selection)
    narrowed = select_results(evaluated(), selection)
    validate_results(narrowed)
    for key in ("rules", "results", "summary", "coverage", "waivers", "selection"):
        assert narrowed[key] == direct[key], key


def test_narrowing_drops_results_recounts_and_invents_nothing() -> None:
    doc = document()  # schema 1: no gate, no selection
    narrowed = select_results(doc, Selection.from_options(rules=["sqs-*"]))
    validate_results(narrowed)
    assert narrowed["schema_version"] == 4
    assert {r["id"] for r in narrowed["rules"]} == {"sqs-queue-depth", "sqs-dlq-empty"}
    assert {r["rule"] for r in narrowed["results"]} == {"sqs-queue-depth", "sqs-dlq-empty"}
    assert narrowed["summary"]["total"] == 6
    assert narrowed["summary"]["gate"] == {"fail_on": "fail", "blocking": 2}
    assert narrowed["summary"]["by_status"]["pass"] == 1
    # W-001 covers a kept result; W-002 is of a kept rule (expired); W-003's rule is gone.
    assert {w["id"]: w["status"] for w in narrowed["waivers"]} == {
        "W-001": "active",
        "W-002": "expired",
    }
    left_out = {r["id"] for r in RULES} - {"sqs-queue-depth", "sqs-dlq-empty"}
    assert set(narrowed["selection"]["not_selected"]) == left_out
    markdown = render(narrowed, "markdown")
    passing = markdown.partition("## Passing checks")[2].partition("## Appendix")[0]
    for rule in left_out:
        assert f"`{rule}`" not in passing
        assert f"`{rule}`" not in markdown.partition("## Appendix: rules not selected")[0]


def test_a_narrowed_document_says_what_it_narrowed() -> None:
    once = select_results(document(), Selection.from_options(rules=["sqs-*"]))
    twice = select_results(once, Selection.from_options(rules=["sqs-dlq-*"]))
    validate_results(twice)
    assert twice["selection"]["within"]["rules"] == ["sqs-*"]
    assert describe(twice["selection"]) == "--rule 'sqs-*', then --rule 'sqs-dlq-*'"
    assert twice["selection"]["selected"] == 1
    assert len(twice["selection"]["not_selected"]) == len(RULES) - 1
    # A rule the narrower document no longer holds cannot be selected from it.
    with pytest.raises(InputError) as caught:
        select_results(twice, Selection.from_options(rules=["sqs-queue-depth"]))
    assert "matches no rule in the results" in caught.value.problems[0]
    # Each narrowing is its own code-scanning category, apart from the whole run's.
    categories = {
        json.loads(render(doc, "sarif"))["runs"][0]["automationDetails"]["id"].rsplit("/", 1)[0]
        for doc in (document(), once, twice)
    }
    assert len(categories) == 3


def test_every_format_shows_the_selection() -> None:
    narrowed = select_results(document(), Selection.from_options(tags=["security"]))
    texts = {fmt: render(narrowed, fmt) for fmt in ALL_FORMATS}
    assert "**Selection: 1 of 7 rules** (`--tag security`)" in texts["markdown"]
    assert "**Selection: 1 of 7 rules** (`--tag security`)" in texts["markdown-summary"]
    assert '<property name="selection" value="1 of 7 rules: --tag security"/>' in texts["junit"]
    sarif = json.loads(texts["sarif"])
    assert sarif_schema_errors(sarif) == []
    assert sarif["runs"][0]["properties"]["selection"]["text"] == "1 of 7 rules: --tag security"
    assert json.loads(texts["json"])["selection"]["tags"] == ["security"]
    # A run of the whole pack shows none of it.
    whole = {fmt: render(document(), fmt) for fmt in ALL_FORMATS}
    assert not any("selection" in text.lower() for text in whole.values())


def test_a_selection_contradicting_the_rules_is_refused() -> None:
    narrowed = select_results(document(), Selection.from_options(rules=["sqs-*"]))
    tampered = {**narrowed, "selection": {**narrowed["selection"]}}
    tampered["selection"]["not_selected"] = [
        *narrowed["selection"]["not_selected"],
        "sqs-dlq-empty",
    ]
    with pytest.raises(InputError) as caught:
        validate_results(tampered)
    assert any(
        "selection.not_selected" in p and "'sqs-dlq-empty'" in p for p in caught.value.problems
    )
    miscounted = {**narrowed, "selection": {**narrowed["selection"], "selected": 7}}
    with pytest.raises(InputError) as caught:
        validate_results(miscounted)
    assert "selection.selected" in caught.value.problems[0]
    unrecorded = {key: value for key, value in narrowed.items() if key != "selection"}
    with pytest.raises(InputError) as caught:
        validate_results(unrecorded)
    assert "'selection' is a required property" in caught.value.problems[0]


def older(version: int) -> dict[str, Any]:
    doc = document()
    doc["schema_version"] = version
    if version >= 2:
        doc["summary"]["gate"] = {"fail_on": "fail", "blocking": 4}
    return doc


@pytest.mark.parametrize("version", [1, 2, 3])
def test_files_of_schemas_1_to_3_still_load_and_report(version: int, tmp_path: Path) -> None:
    source = tmp_path / "results.json"
    source.write_text(json.dumps(older(version)))
    out = tmp_path / "out"
    formats = [arg for fmt in ALL_FORMATS for arg in ("-f", fmt)]
    result = CliRunner().invoke(app, ["report", "-q", "-r", str(source), "-d", str(out), *formats])
    assert result.exit_code == 0, result.stderr
    rendered = json.loads((out / "report.json").read_text())
    assert rendered["schema_version"] == version  # re-rendered, not rewritten
    assert "selection" not in rendered
    assert "**Gate (fail-on fail): blocked.** 4 results" in (out / "report.md").read_text()
    # ... and can be narrowed: the output is then a schema 4 document.
    narrowed = tmp_path / "narrowed"
    result = CliRunner().invoke(
        app, ["report", "-q", "-r", str(source), "-d", str(narrowed), "-f", "json",
              "--severity", "critical"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document_4 = json.loads((narrowed / "report.json").read_text())
    validate_results(document_4)
    assert document_4["schema_version"] == 4
    assert {r["rule"] for r in document_4["results"]} == {"iam-unused-access-keys"}
