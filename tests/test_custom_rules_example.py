"""examples/custom-rules: a team's pack beside the shipped one, end to end.

The pack validates and its cases pass (strictly: every rule has cases, adversarial ones
included); a weakened copy of each rule fails its own cases, so the cases are what keeps the
rules honest. Against the demo stack in moto, collected with ``-p agenticai -p
examples/custom-rules``, the two rules fail exactly the resources the demo seeds for them (the
ops queue has no redrive policy; the qa queue's DLQ keeps messages only as long as the queue)
and pass every other queue, while the shipped rules judge that snapshot exactly as they do
alone.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws
from typer.testing import CliRunner

from runbook_guard.cli.app import app, register_commands
from runbook_guard.demo import compute, insights
from runbook_guard.demo.stack import seed_runbook_stack

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "examples" / "custom-rules"
CUSTOM_RULES = ("sqs-dlq-outlives-source", "sqs-redrive-max-receive")
ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # moto has no Free Tier API: a closed port makes the call fail at once, never reach AWS.
    "AWS_ENDPOINT_URL_FREETIER": "http://127.0.0.1:9",
}
UNSET = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE")


def cli(*args: str) -> tuple[int, str]:
    register_commands(list(args))
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_the_pack_validates_and_its_cases_pass_strictly() -> None:
    assert cli("validate", str(PACK)) == (0, "2 files, 2 rules: valid\n")
    code, output = cli("test", "--strict", str(PACK))
    assert code == 0, output
    assert output.splitlines() == ["14 passed, 0 failed (12 adversarial)"]
    assert not (PACK / "EXPECTATIONS.md").exists()  # free-form ids, no covers


@pytest.mark.parametrize(
    ("weakening", "original", "replacement"),
    [
        ("DLQs not excluded", '"-dlq(\\\\.fifo)?$"', '"^$"'),
        ("the limit one too high", "le: ${max_receive_count}", "le: 6"),
        ("equal retention accepted", "      lt: {related: dlq,", "      le: {related: dlq,"),
        (
            "no redrive policy left to absence",
            "        - path: Attributes.RedrivePolicy\n          exists: true\n"
            "          message: the queue has no redrive policy\n",
            "",
        ),
        (
            "any queue as the DLQ",
            "        from: Attributes.RedrivePolicy.deadLetterTargetArn\n",
            "        where: {path: QueueUrl, exists: true}\n",
        ),
    ],
)
def test_a_weakened_rule_fails_its_own_cases(
    tmp_path: Path, weakening: str, original: str, replacement: str
) -> None:
    copy = tmp_path / "custom-rules"
    shutil.copytree(PACK, copy)
    rules = copy / "sqs.yaml"
    text = rules.read_text()
    assert text.count(original) == 1, weakening
    rules.write_text(text.replace(original, replacement))
    assert cli("validate", str(copy))[0] == 0, weakening
    code, output = cli("test", str(copy))
    assert code == 1, (weakening, output)
    assert "adversarial:" in output  # an adversarial case caught it


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo stack collected once by ``check`` with both packs, and its snapshot evaluated
    again by both packs, by the shipped pack alone and by the custom pack alone."""
    out = tmp_path_factory.mktemp("demo")
    combined = ["-p", "agenticai", "-p", str(PACK)]
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ENV.items():
            patch.setenv(name, value)
        for name in UNSET:
            patch.delenv(name, raising=False)
        insights.install()  # moto ignores a Logs Insights query's filter and stats
        with mock_aws():
            seed_runbook_stack()
            target = ["--region", "us-east-1", "-d", str(out / "check"), "-f", "json"]
            code, output = cli("check", *combined, *target)
    assert code == 1, output  # the demo's violations block the gate
    snapshot = out / "check" / "snapshot.json"
    runs = {"check": json.loads((out / "check" / "results.json").read_text())}
    packs = {"both": combined, "shipped": ["-p", "agenticai"], "custom": ["-p", str(PACK)]}
    for name, chosen in packs.items():
        results = out / name / "results.json"
        code, output = cli("evaluate", "-s", str(snapshot), *chosen, "-o", str(results))
        assert code == 1, output
        runs[name] = json.loads(results.read_text())
    return runs


def statuses(results: dict[str, Any], rule: str) -> dict[str, str]:
    return {r["resource"]["name"]: r["status"] for r in results["results"] if r["rule"] == rule}


def test_against_the_demo_the_rules_fail_exactly_the_seeded_resources(
    demo_runs: dict[str, Any],
) -> None:
    both = demo_runs["check"]
    redriven = [w for w in compute.WORKERS if w != "ops"]
    assert statuses(both, "sqs-redrive-max-receive") == {
        f"agenticai-{w}-queue": "fail" if w == "ops" else "pass" for w in compute.WORKERS
    }
    assert statuses(both, "sqs-dlq-outlives-source") == {
        f"agenticai-{w}-queue": "fail" if w == compute.SHORT_LIVED_DLQ else "pass" for w in redriven
    }
    [ops] = [r for r in both["results"] if r["rule"] == "sqs-redrive-max-receive"
             and r["status"] == "fail"]  # fmt: skip
    assert ops["message"] == "the queue has no redrive policy"
    [short] = [r for r in both["results"] if r["rule"] == "sqs-dlq-outlives-source"
               and r["status"] == "fail"]  # fmt: skip
    retention = int(compute.QUEUE_RETENTION)
    assert short["evidence"]["dead-letter queue retention (seconds)"] == {
        "agenticai-qa-dlq": retention
    }
    assert short["evidence"]["source retention (seconds)"] == retention
    for run in ("both", "custom"):  # the same verdicts from the written snapshot, either way
        again = [r for r in demo_runs[run]["results"] if r["rule"] in CUSTOM_RULES]
        assert again == [r for r in both["results"] if r["rule"] in CUSTOM_RULES], run


def test_the_custom_pack_leaves_the_shipped_results_unchanged(demo_runs: dict[str, Any]) -> None:
    """Both packs and the shipped pack alone judge the same snapshot the same way. (Compared
    between two ``evaluate`` runs: ``check`` judges the snapshot as collected, before it is
    written with sorted keys, so evidence listing keys in data order may differ from both.)"""
    shipped = demo_runs["shipped"]["results"]
    assert {r["rule"] for r in shipped}.isdisjoint(CUSTOM_RULES)
    assert [r for r in demo_runs["both"]["results"] if r["rule"] not in CUSTOM_RULES] == shipped
    assert any(r["rule"] == "sqs.redrive-to-own-dlq" and r["status"] == "fail" for r in shipped)
