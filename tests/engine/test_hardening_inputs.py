"""Hostile and inconsistent inputs the engine must refuse or fail closed on (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import runbook_guard.cli.commands  # noqa: F401  (registers the commands)
from runbook_guard.cli.app import app
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.snapshot import load_snapshot
from runbook_guard.engine.waivers import apply_waivers, load_waivers
from runbook_guard.engine.yamlsafe import parse_yaml
from tests.engine.builders import ACCOUNT, NOW, REGION, resource, run, snapshot_doc

NO_KEYS = """
rules:
  - id: keys
    title: no unused keys
    covers: [RB-M01]
    section: Monthly
    cadence: monthly
    severity: high
    resource: aws.iam.access_key
    expect: {path: Status, equals: Inactive}
    when_none: pass
  - id: queues
    title: no queue deep
    covers: [RB-D06]
    section: Daily
    cadence: daily
    severity: medium
    resource: aws.sqs.queue
    expect: {path: Attributes.Depth, equals: 0}
    when_none: pass
"""


def covered(rtype: str, account: str, region: str, complete: bool = True) -> dict[str, Any]:
    return {"type": rtype, "account": account, "region": region, "complete": complete}


# --- defect 5: coverage must span the snapshot's accounts x regions ------------------------


def test_coverage_for_another_region_is_an_error_naming_the_gap(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [],
        coverage=[
            covered("aws.sqs.queue", ACCOUNT, "eu-west-1"),
            covered("aws.iam.access_key", ACCOUNT, "global"),
        ],
    )
    by_rule = {r["rule"]: r for r in run(tmp_path, NO_KEYS, doc)}
    assert by_rule["queues"]["status"] == "error"
    assert f"{ACCOUNT}/{REGION}" in by_rule["queues"]["message"]
    assert by_rule["keys"]["status"] == "pass"


def test_coverage_for_another_account_is_an_error(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [],
        coverage=[
            covered("aws.sqs.queue", "999999999999", REGION),
            covered("aws.iam.access_key", "999999999999", "global"),
        ],
    )
    results = run(tmp_path, NO_KEYS, doc)
    assert {r["status"] for r in results} == {"error"}
    assert all(ACCOUNT in r["message"] for r in results)


def test_a_second_account_without_coverage_is_an_error(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [],
        coverage=[
            covered("aws.sqs.queue", ACCOUNT, REGION),
            covered("aws.iam.access_key", ACCOUNT, "global"),
        ],
    )
    doc["metadata"]["accounts"] = [ACCOUNT, "210987654321"]
    doc["metadata"]["regions"] = [REGION, "eu-west-1"]
    # Each account's gap is an error of its own (per-account completeness).
    found: dict[tuple[str, str], str] = {}
    statuses = {}
    for result in run(tmp_path, NO_KEYS, doc):
        key = (result["rule"], result["resource"]["account"])
        found[key], statuses[key] = result["message"], result["status"]
    assert statuses == {
        ("keys", ACCOUNT): "pass",  # listed whole there, and no key found: its when_none
        ("keys", "210987654321"): "error",
        ("queues", ACCOUNT): "error",
        ("queues", "210987654321"): "error",
    }
    assert f"{ACCOUNT}/eu-west-1" in found[("queues", ACCOUNT)]
    assert "210987654321/us-east-1, eu-west-1" in found[("queues", "210987654321")]
    assert "210987654321/global" in found[("keys", "210987654321")]


def test_full_coverage_still_passes(tmp_path: Path) -> None:
    queue = resource("aws.sqs.queue", "q", {"Attributes": {"Depth": 0}})
    doc = snapshot_doc([queue], coverage=[covered("aws.sqs.queue", ACCOUNT, REGION)])
    doc["coverage"].append(covered("aws.iam.access_key", ACCOUNT, "global"))
    assert {r["status"] for r in run(tmp_path, NO_KEYS, doc)} == {"pass"}


# --- defect 12: duplicate keys in a snapshot are refused -----------------------------------


def _with_duplicate(doc: dict[str, Any], where: str) -> str:
    """The document's JSON text with one key written twice, where orjson keeps the last."""
    text = json.dumps(doc, indent=1)
    if where == "envelope":
        # An earlier "errors" carrying the denial, hidden by a later empty one.
        return text.replace('"errors": []', f'"errors": [{json.dumps(DENIED)}], "errors": []', 1)
    if where == "coverage":
        return text.replace('"complete": true', '"complete": false, "complete": true', 1)
    assert where == "error"
    return text.replace('"code": "AccessDenied"', '"code": "AccessDenied", "code": "Throttled"', 1)


DENIED = {
    "service": "sqs",
    "operation": "ListQueues",
    "region": REGION,
    "account": ACCOUNT,
    "resource_type": "aws.sqs.queue",
    "iam_action": "sqs:ListQueues",
    "code": "AccessDenied",
    "message": "denied",
}


@pytest.mark.parametrize(
    ("where", "key"), [("envelope", "errors"), ("coverage", "complete"), ("error", "code")]
)
def test_a_duplicate_key_is_refused_naming_the_key(tmp_path: Path, where: str, key: str) -> None:
    doc = snapshot_doc([], types=["aws.sqs.queue"], errors=[DENIED] if where == "error" else [])
    path = tmp_path / "snapshot.json"
    path.write_text(_with_duplicate(doc, where))
    with pytest.raises(InputError) as refused:
        load_snapshot(path)
    [message] = refused.value.problems
    assert f'duplicate key "{key}"' in message
    assert str(path) in message


def test_the_cli_refuses_a_duplicate_key_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text(_with_duplicate(snapshot_doc([], types=["aws.sqs.queue"]), "envelope"))
    policy = tmp_path / "rules.yaml"
    policy.write_text(NO_KEYS)
    result = CliRunner().invoke(
        app, ["evaluate", "-s", str(path), "-o", str(tmp_path / "r.json"), "-p", str(policy)]
    )
    assert result.exit_code == 2, result.output
    assert 'duplicate key "errors"' in result.output
    assert not (tmp_path / "r.json").exists()


def test_a_snapshot_without_duplicates_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snapshot_doc([resource("aws.sqs.queue", "q")])))
    assert len(load_snapshot(path).resources) == 1


# --- defect 13: --now before the collection is refused -------------------------------------


def _evaluate_at(tmp_path: Path, now: str) -> Any:
    path = tmp_path / "snapshot.json"
    queue = resource("aws.sqs.queue", "q", {"Attributes": {"Depth": 0}})
    doc = snapshot_doc([queue], types=["aws.iam.access_key"])
    doc["coverage"][0]["region"] = "global"  # access keys are global
    path.write_text(json.dumps(doc))
    policy = tmp_path / "rules.yaml"
    policy.write_text(NO_KEYS)
    out = tmp_path / "r.json"
    args = ["evaluate", "-s", str(path), "-o", str(out), "-p", str(policy), "--now", now]
    return CliRunner().invoke(app, args)


def test_now_before_the_collection_is_refused(tmp_path: Path) -> None:
    # The snapshot finished at 2026-11-27T12:00:00Z.
    result = _evaluate_at(tmp_path, "2026-11-27T11:59:59Z")
    assert result.exit_code == 2, result.output
    assert "before the snapshot was collected" in result.output
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("now", ["2026-11-27T12:00:00Z", "2027-01-01T00:00:00+02:00"])
def test_now_at_or_after_the_collection_is_accepted(tmp_path: Path, now: str) -> None:
    result = _evaluate_at(tmp_path, now)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.json").exists()


# --- defect 10: waivers ----------------------------------------------------------------------

WAIVER = {
    "id": "w1",
    "rule": "queues",
    "resource": "q",
    "owner": "team",
    "reason": "accepted",
    "expires": "2027-01-31",
}


def _waivers_file(tmp_path: Path, *waivers: dict[str, Any]) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(json.dumps({"waivers": list(waivers)}))
    return path


@pytest.mark.parametrize("field", ["owner", "reason"])
def test_a_blank_owner_or_reason_is_refused(tmp_path: Path, field: str) -> None:
    with pytest.raises(InputError) as refused:
        load_waivers(_waivers_file(tmp_path, {**WAIVER, field: " \t "}))
    assert any(field in p for p in refused.value.problems)


def test_a_waiver_of_every_rule_needs_any_rule(tmp_path: Path) -> None:
    with pytest.raises(InputError) as refused:
        load_waivers(_waivers_file(tmp_path, {**WAIVER, "rule": "*"}))
    assert any("any_rule" in p for p in refused.value.problems)
    [waiver] = load_waivers(_waivers_file(tmp_path, {**WAIVER, "rule": "*", "any_rule": True}))
    results = _failing_queues(tmp_path)
    apply_waivers(results, [waiver], NOW)
    assert {r["status"] for r in results if r["rule"] == "queues"} == {"waived"}


def _failing_queues(tmp_path: Path) -> list[dict[str, Any]]:
    """Queue ``q`` failing in two regions of one account."""
    queues = [
        resource("aws.sqs.queue", "q", {"Attributes": {"Depth": 5}}, region=region)
        for region in (REGION, "eu-west-1")
    ]
    doc = snapshot_doc(
        queues,
        coverage=[
            covered("aws.sqs.queue", ACCOUNT, REGION),
            covered("aws.sqs.queue", ACCOUNT, "eu-west-1"),
            covered("aws.iam.access_key", ACCOUNT, "global"),
        ],
    )
    doc["metadata"]["regions"] = [REGION, "eu-west-1"]
    results = run(tmp_path, NO_KEYS, doc)
    assert [r["status"] for r in results if r["rule"] == "queues"] == ["fail", "fail"]
    return results


def test_an_expiry_beyond_the_maximum_is_refused(tmp_path: Path) -> None:
    results = _failing_queues(tmp_path)
    with pytest.raises(InputError) as refused:
        apply_waivers(results, [{**WAIVER, "expires": "9999-12-31"}], NOW)
    assert "365 days" in refused.value.problems[0]
    assert all(r["status"] == "fail" for r in results if r["rule"] == "queues")
    apply_waivers(results, [{**WAIVER, "expires": "2027-11-27"}], NOW)  # one year: accepted


def test_the_expiry_maximum_is_configurable(tmp_path: Path) -> None:
    results = _failing_queues(tmp_path)
    with pytest.raises(InputError):
        apply_waivers(results, [WAIVER], NOW, max_expiry_days=30)
    apply_waivers(results, [{**WAIVER, "expires": "9999-12-31"}], NOW, max_expiry_days=10**7)
    assert {r["status"] for r in results if r["rule"] == "queues"} == {"waived"}


def test_a_waiver_for_an_unknown_rule_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _failing_queues(tmp_path)
    [entry] = apply_waivers(results, [{**WAIVER, "rule": "queuez"}], NOW)
    assert entry["status"] == "unused"
    assert "'queuez'" in capsys.readouterr().err


def test_a_waiver_can_be_scoped_to_an_account_and_region(tmp_path: Path) -> None:
    results = _failing_queues(tmp_path)
    scoped = {**WAIVER, "account": ACCOUNT, "region": "eu-west-1"}
    [entry] = apply_waivers(results, [scoped], NOW)
    assert entry["applied_to"] == 1
    by_region = {r["resource"]["region"]: r["status"] for r in results if r["rule"] == "queues"}
    assert by_region == {REGION: "fail", "eu-west-1": "waived"}


def test_a_waiver_for_another_account_waives_nothing(tmp_path: Path) -> None:
    results = _failing_queues(tmp_path)
    [entry] = apply_waivers(results, [{**WAIVER, "account": "999999999999"}], NOW)
    assert entry["applied_to"] == 0


def test_an_unscoped_waiver_covers_the_name_in_every_region(tmp_path: Path) -> None:
    results = _failing_queues(tmp_path)
    [entry] = apply_waivers(results, [WAIVER], NOW)
    assert entry["applied_to"] == 2


def test_the_scope_fields_pass_the_waivers_schema(tmp_path: Path) -> None:
    scoped = {**WAIVER, "account": ACCOUNT, "region": "eu-*"}
    assert load_waivers(_waivers_file(tmp_path, scoped)) == [scoped]


# --- defect 7: deep nesting is a positioned error, not a RecursionError ----------------------


@pytest.mark.parametrize(
    "text",
    [
        "rules: " + "[" * 1000 + "]" * 1000,
        "rules: " + "{a: " * 1000 + "1" + "}" * 1000,
        "rules:\n" + "".join(" " * i + "k:\n" for i in range(1, 1001)) + " " * 1001 + "v\n",
    ],
    ids=["flow-sequence", "flow-mapping", "block"],
)
def test_a_policy_nested_1000_levels_is_exit_2_with_file_and_line(
    tmp_path: Path, text: str
) -> None:
    policy = tmp_path / "deep.yaml"
    policy.write_text(text)
    result = CliRunner().invoke(app, ["validate", str(policy)])
    assert result.exit_code == 2, result.output
    assert f"{policy}:" in result.output
    assert "nested more than" in result.output


def test_nesting_within_the_bound_still_loads() -> None:
    assert parse_yaml("a: " + "[" * 50 + "]" * 50, "p.yaml").data is not None


@pytest.mark.parametrize("depth", [990, 1020, 5000])
def test_a_deeply_nested_snapshot_is_an_input_error(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text('{"a": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(InputError):
        load_snapshot(path)
