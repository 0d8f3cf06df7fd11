"""A rule path no collection call can fill is a policy mistake, refused before collecting.

Without the check, the field-level plan would never ask for the key and the rule would be
``error`` on every run, with nothing pointing at the typo.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from runbook_guard.cli import commands as _registers_commands  # noqa: F401
from runbook_guard.cli.app import app
from runbook_guard.cli.pipeline import unfilled_paths
from runbook_guard.engine.loader import load_policy_set

TYPO = """
rules:
  - id: t.pitr-typo
    title: PITR, with a typo in the path
    covers: [RB-B01]
    section: s
    cadence: daily
    severity: high
    resource: aws.dynamodb.table
    expect: {path: ContinousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus, equals: ENABLED}
"""


def test_validate_refuses_a_path_no_call_fills_naming_file_rule_and_path(tmp_path: Path) -> None:
    policy = tmp_path / "typo.yaml"
    policy.write_text(TYPO)
    result = CliRunner().invoke(app, ["validate", str(policy)])
    assert result.exit_code == 2, result.output
    assert "typo.yaml" in result.output
    assert "t.pitr-typo" in result.output
    assert "ContinousBackupsDescription" in result.output
    assert "no collection call fills" in result.output
    assert "Traceback" not in result.output


def test_collect_refuses_it_before_any_call(tmp_path: Path) -> None:
    policy = tmp_path / "typo.yaml"
    policy.write_text(TYPO)
    out = tmp_path / "snapshot.json"
    result = CliRunner().invoke(app, ["collect", "-p", str(policy), "--output", str(out)])
    assert result.exit_code == 2, result.output
    assert not out.exists()


def test_the_shipped_pack_reads_only_keys_some_call_fills() -> None:
    assert unfilled_paths(load_policy_set([]).compile()) == []


def test_collect_refuses_an_unknown_resource_type_with_a_suggestion(tmp_path: Path) -> None:
    policy = tmp_path / "typo.yaml"
    policy.write_text(
        "rules:\n  - id: t.typo\n    title: typo in type\n    severity: high\n"
        "    resource: aws.sqs.queues\n    expect: {path: QueueUrl, exists: true}\n"
    )
    out = tmp_path / "snapshot.json"
    result = CliRunner().invoke(app, ["collect", "-p", str(policy), "--output", str(out)])
    assert result.exit_code == 2, result.output
    assert "unknown resource type 'aws.sqs.queues' (did you mean 'aws.sqs.queue'?)" in result.output
    assert not out.exists()
