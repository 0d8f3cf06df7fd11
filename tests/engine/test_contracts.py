"""Generated artefacts stay in step with their source, and stage documents are validated."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import runbook_guard.cli.commands  # noqa: F401  (registers the commands)
from runbook_guard.cli.app import app
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.operators import OPERATORS, QUANTIFIERS
from runbook_guard.engine.policy_schema import render
from runbook_guard.engine.snapshot import load_snapshot
from tests.engine.builders import resource, snapshot_doc

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_policy_schema_is_generated_from_the_operator_table() -> None:
    committed = (ROOT / "schemas" / "policy.schema.json").read_text()
    assert committed == render(), (
        "run: python -m runbook_guard.engine.policy_schema > schemas/policy.schema.json"
    )
    condition = json.loads(committed)["$defs"]["condition"]["properties"]
    assert set(OPERATORS) | set(QUANTIFIERS) <= set(condition)


def test_the_policy_format_doc_lists_every_operator() -> None:
    doc = (ROOT / "docs" / "policy-format.md").read_text()
    for op in OPERATORS.values():
        assert f"| `{op.name}` | `{op.symbol}` | {op.description} |" in doc
    for name in QUANTIFIERS:
        assert f"| `{name}` |" in doc


@pytest.mark.parametrize("name", ["policy", "snapshot", "results", "waivers", "config"])
def test_every_schema_is_a_valid_2020_12_schema(name: str) -> None:
    schema = json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)


def test_a_snapshot_that_does_not_match_its_schema_names_file_line_and_field(
    tmp_path: Path,
) -> None:
    doc = snapshot_doc([resource("aws.sqs.queue", "q")])
    del doc["resources"][0]["account"]
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(doc, indent=2))
    with pytest.raises(InputError) as caught:
        load_snapshot(path)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}:16:5:")  # the resource object that lacks the field
    assert "resources[0]" in problem
    assert "'account' is a required property" in problem


def test_a_truncated_snapshot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snapshot_doc([]), indent=2)[:-20])
    with pytest.raises(InputError) as caught:
        load_snapshot(path)
    assert "invalid JSON" in caught.value.problems[0]


def test_evaluate_command_writes_valid_results_and_maps_the_gate_to_exit_codes(
    tmp_path: Path,
) -> None:
    table = resource(
        "aws.dynamodb.table",
        "agenticai-data",
        {
            "ContinuousBackupsDescription": {
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}
            }
        },
    )
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(json.dumps(snapshot_doc([table])))
    policy = ROOT / "policies" / "agenticai"
    out = tmp_path / "results.json"
    runner = CliRunner()
    result = runner.invoke(
        app, ["evaluate", "-s", str(snapshot), "-p", str(policy), "-o", str(out)]
    )
    assert result.exit_code == 1, result.output
    results = json.loads(out.read_text())
    schema = json.loads((ROOT / "schemas" / "results.schema.json").read_text())
    snapshot_schema = json.loads((ROOT / "schemas" / "snapshot.schema.json").read_text())
    from referencing import Registry, Resource

    registry = Registry().with_resources(
        [("snapshot.schema.json", Resource.from_contents(snapshot_schema))]
    )
    jsonschema.Draft202012Validator(schema, registry=registry).validate(results)
    assert results["summary"]["gate"] == {
        "fail_on": "fail",
        "blocking": sum(1 for r in results["results"] if r["status"] in ("fail", "error")),
    }
    coverage = results["coverage"]
    assert coverage["inventory"] == "policies/agenticai/EXPECTATIONS.md"
    assert len(coverage["expectations"]) == 62
    assert coverage["uncovered"] == []
    assert {e["how"] for e in coverage["expectations"]} >= {"automatic", "manual"}
    pitr = next(r for r in results["results"] if r["rule"] == "dynamodb.pitr-enabled")
    assert pitr["status"] == "fail"
    # types that were not collected are errors; with --fail-on never nothing blocks
    assert {r["status"] for r in results["results"] if r["rule"] == "sqs.dlq-empty"} == {"error"}
    again = runner.invoke(
        app, ["evaluate", "-s", str(snapshot), "-o", str(out), "--fail-on", "never"]
    )
    assert again.exit_code == 0, again.output
    bad = runner.invoke(
        app, ["evaluate", "-s", str(snapshot), "-o", str(out), "--param", "nonsense=1"]
    )
    assert bad.exit_code == 2
    assert "nonsense" in bad.output
    assert "Traceback" not in bad.output
