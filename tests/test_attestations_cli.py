"""Attestations at the command line: ``--attestations`` and the config's ``attestations:`` turn
an attested manual rule into pass (in the results contract), an expired one stays manual, and
every attestation that could pass something wrongly is exit 2 naming its line."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runbook_guard.cli.app import app, register_commands
from runbook_guard.cli.demo import demo_attestations
from runbook_guard.cli.pipeline import prepare
from runbook_guard.engine.attestations import (
    apply_attestations,
    check_against_rules,
    load_attestations,
)
from runbook_guard.reporters import load_results

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SNAPSHOT = EXAMPLES / "snapshot.json"  # collected 2026-12-02
ENTRY = """\
  - rule: {rule}
    by: carol@example.com
    at: "{at}"
    evidence: https://tickets.example.com/OPS-7
    expires: "{expires}"
"""


def attestations(tmp_path: Path, *entries: str, name: str = "attestations.yaml") -> Path:
    path = tmp_path / name
    path.write_text("attestations:\n" + "".join(entries))
    return path


def entry(rule: str, at: str = "2026-11-30", expires: str = "2027-03-01") -> str:
    return ENTRY.format(rule=rule, at=at, expires=expires)


def evaluate(tmp_path: Path, *args: str | Path) -> tuple[int, str, Path]:
    register_commands()
    output = tmp_path / "results.json"
    run = CliRunner().invoke(
        app, ["evaluate", "-s", str(SNAPSHOT), "-o", str(output), *map(str, args)]
    )
    if run.exception is not None and not isinstance(run.exception, SystemExit):
        raise run.exception
    return run.exit_code, run.stderr, output


def result_of(path: Path, rule: str) -> dict[str, Any]:
    document = load_results(path)  # validated: the attestation is part of the contract
    found: list[dict[str, Any]] = [r for r in document["results"] if r["rule"] == rule]
    assert len(found) == 1, found
    return found[0]


def test_an_attested_manual_rule_passes_and_an_expired_one_stays_manual(tmp_path: Path) -> None:
    given = attestations(
        tmp_path,
        entry("backup.restore-tested"),
        entry("iam.policies-reviewed", at="2026-06-01", expires="2026-12-01"),
    )
    code, stderr, output = evaluate(tmp_path, "--attestations", given)
    assert code in (0, 1), stderr
    restore = result_of(output, "backup.restore-tested")
    assert restore["status"] == "pass"
    assert restore["attestation"] == {
        "by": "carol@example.com", "at": "2026-11-30", "expires": "2027-03-01",
        "evidence": "https://tickets.example.com/OPS-7", "expired": False,
    }  # fmt: skip
    reviewed = result_of(output, "iam.policies-reviewed")
    assert reviewed["status"] == "manual"
    assert reviewed["attestation"]["expired"] is True
    assert reviewed["message"].startswith("attestation expired on 2026-12-01")
    # Untouched: a manual rule nobody attested.
    assert result_of(output, "backup.dr-documentation-updated")["status"] == "manual"


def test_the_config_names_the_file_relative_to_itself_and_the_option_replaces_it(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "deploy"
    folder.mkdir()
    attestations(folder, entry("backup.restore-tested"))
    config = folder / "runbook-guard.yaml"
    config.write_text("attestations: attestations.yaml\n")
    _, stderr, output = evaluate(tmp_path, "-c", config)
    assert result_of(output, "backup.restore-tested")["status"] == "pass", stderr

    other = attestations(tmp_path, entry("lambda.cold-starts-reviewed"), name="other.yaml")
    _, stderr, output = evaluate(tmp_path, "-c", config, "--attestations", other)
    assert result_of(output, "backup.restore-tested")["status"] == "manual", stderr
    assert result_of(output, "lambda.cold-starts-reviewed")["status"] == "pass"


@pytest.mark.parametrize(
    ("written", "line", "said"),
    [
        # A person's word never overrides collected data: the rule is checked automatically.
        (entry("dynamodb.pitr-enabled"), 2, "is checked from collected data, not by hand"),
        # A typo must not leave the real rule manual while looking attested.
        (entry("backup.restore-testd"), 2, "no loaded rule has this id"),
        # A check not done yet on the evaluation day.
        (entry("backup.restore-tested", at="2026-12-03"), 2, "is after the evaluation day"),
        (entry("backup.restore-tested", expires="2026-11-01"), 6, "is before at 2026-11-30"),
        (entry("backup.restore-tested", at="30/11/2026"), 4, "is not a date"),
    ],
)
def test_an_attestation_that_could_pass_wrongly_is_exit_2_at_its_line(
    tmp_path: Path, written: str, line: int, said: str
) -> None:
    given = attestations(tmp_path, written)
    code, stderr, output = evaluate(tmp_path, "--attestations", given)
    assert code == 2
    assert any(p.startswith(f"{given}:{line}:") and said in p for p in stderr.splitlines())
    assert not output.exists()


def test_a_selection_leaving_the_rule_out_drops_its_attestation(tmp_path: Path) -> None:
    given = attestations(tmp_path, entry("backup.restore-tested"))
    code, stderr, output = evaluate(tmp_path, "--attestations", given, "--rule", "iam.*")
    assert code in (0, 1), stderr
    document = json.loads(output.read_text())
    assert {r["rule"] for r in document["results"]} >= {"iam.policies-reviewed"}
    assert all(r["rule"] != "backup.restore-tested" for r in document["results"])


def test_the_example_file_holds_one_valid_and_one_expired_attestation() -> None:
    prepared = prepare(EXAMPLES / "runbook-guard.yaml", None, None)
    assert prepared.config.attestations == EXAMPLES / "attestations.yaml"
    found = load_attestations(EXAMPLES / "attestations.yaml")
    manual = {r.id for r in prepared.rules if r.kind == "manual"}
    collected = datetime(2026, 12, 2, 7, 8, tzinfo=timezone.utc)
    check_against_rules(found, manual, {r.id for r in prepared.rules}, collected)
    results = [{"rule": a.rule, "status": "manual", "message": "m"} for a in found]
    apply_attestations(results, found, collected)
    assert [r["status"] for r in results] == ["pass", "manual"]


def test_the_demo_writes_one_valid_and_one_expired_whatever_the_day(tmp_path: Path) -> None:
    for today in (date(2026, 12, 2), date(2031, 2, 28)):
        path = tmp_path / "demo-attestations.yaml"
        path.write_text(demo_attestations(today))
        found = load_attestations(path)
        prepared = prepare(None, None, None)
        manual = {r.id for r in prepared.rules if r.kind == "manual"}
        evaluated = datetime(today.year, today.month, today.day, 23, 59, tzinfo=timezone.utc)
        check_against_rules(found, manual, {r.id for r in prepared.rules}, evaluated)
        results = [{"rule": a.rule, "status": "manual", "message": "m"} for a in found]
        apply_attestations(results, found, evaluated)
        assert [r["status"] for r in results] == ["pass", "manual"]


def test_the_schema_command_ships_the_attestations_schema() -> None:
    register_commands()
    run = CliRunner().invoke(app, ["schema"])
    assert run.exit_code == 0
    assert "attestations\trunbook-guard schema attestations" in run.stdout
    shown = CliRunner().invoke(app, ["schema", "attestations"])
    assert json.loads(shown.stdout)["title"] == "runbook-guard attestations"
