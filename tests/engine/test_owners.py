"""Owners: every finding names who acts on it, by the config's first matching entry, else the
rule's own owner; a typo in an entry is refused with its position, never silently unowned."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from runbook_guard.cli.pipeline import evaluate, prepare
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.owners import rule_owner
from runbook_guard.engine.snapshot import load_snapshot
from runbook_guard.reporters import validate_results

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
OWNERS = """\
owners:
  - owner: data-team
    resources: ["agenticai-data"]
    rules: ["dynamodb.pitr-*"]
  - owner: security
    tags: [security]
  - owner: queue-team
    resources: ["arn:aws:sqs:*:agenticai-dev-dlq"]
  - owner: account-team
    accounts: ["123456789012"]
    rules: ["s3.*", "backup.*"]
"""


def results_with(tmp_path: Path, config_text: str) -> list[dict[str, Any]]:
    config = tmp_path / "runbook-guard.yaml"
    config.write_text(config_text)
    prepared = prepare(config, None, None)
    document = evaluate(prepared, load_snapshot(EXAMPLES / "snapshot.json"), None, None)
    validate_results(document)  # owner is part of the results contract (schema 4)
    results: list[dict[str, Any]] = document["results"]
    return results


def of(results: list[dict[str, Any]], rule: str, name: str | None = None) -> dict[str, Any]:
    [found] = [
        r for r in results if r["rule"] == rule and (r["resource"] or {}).get("name") == name
    ]
    return found


def test_the_first_matching_entry_owns_a_result_and_every_criterion_must_hold(
    tmp_path: Path,
) -> None:
    results = results_with(tmp_path, OWNERS)
    assert of(results, "dynamodb.pitr-enabled", "agenticai-data")["owner"] == "data-team"
    # Another rule on the same table: the resource holds, the rule glob does not.
    other = [r for r in results if r["rule"].startswith("dynamodb.") and
             r["rule"] != "dynamodb.pitr-enabled"]  # fmt: skip
    assert other
    assert all(r.get("owner") != "data-team" for r in other)
    # The secrets rule is tagged security: the second entry, whatever the resource.
    security = [r for r in results if r["rule"] == "lambda.no-secret-env-vars"]
    assert security
    assert {r["owner"] for r in security} == {"security"}


def test_a_resource_glob_matches_the_arn_as_well_as_the_name(tmp_path: Path) -> None:
    results = results_with(tmp_path, OWNERS)
    dev_dlq = [r for r in results if (r["resource"] or {}).get("name") == "agenticai-dev-dlq"]
    assert dev_dlq
    assert {r["owner"] for r in dev_dlq if r["rule"].startswith("sqs.")} == {"queue-team"}


def test_resource_and_account_criteria_never_own_a_result_about_no_resource(
    tmp_path: Path,
) -> None:
    results = results_with(tmp_path, OWNERS)
    buckets = [r for r in results if r["rule"].startswith("s3.") and r["resource"]]
    assert buckets
    assert {r["owner"] for r in buckets} == {"account-team"}
    # backup.restore-tested is a manual rule: one result with no resource. The account entry
    # names its rules (backup.*) but also an account, which a rule-level result does not have.
    restore = of(results, "backup.restore-tested")
    assert restore["resource"] is None
    assert "owner" not in restore


def test_without_entries_or_a_rule_owner_a_result_has_no_owner_key(tmp_path: Path) -> None:
    results = results_with(tmp_path, "fail_on: fail\n")
    assert all("owner" not in r for r in results)


def test_owners_never_change_a_status(tmp_path: Path) -> None:
    plain = results_with(tmp_path, "fail_on: fail\n")
    owned = results_with(tmp_path, OWNERS)
    assert [(r["rule"], r["status"]) for r in plain] == [(r["rule"], r["status"]) for r in owned]


def test_the_rules_own_owner_is_the_fallback_and_the_config_comes_first(
    tmp_path: Path,
) -> None:
    """The policy field is read defensively (getattr): a compiled rule given an ``owner``
    stands for a policy that declares one."""
    config = tmp_path / "runbook-guard.yaml"
    config.write_text(OWNERS)
    prepared = prepare(config, None, None)
    for rule in prepared.rules:
        if rule.id in ("dynamodb.pitr-enabled", "cloudwatch.alarm-dlq-messages"):
            object.__setattr__(rule, "owner", "pack-author")
    assert rule_owner(next(r for r in prepared.rules if r.id == "cloudwatch.alarm-dlq-messages"))
    results = evaluate(prepared, load_snapshot(EXAMPLES / "snapshot.json"), None, None)["results"]
    assert of(results, "dynamodb.pitr-enabled", "agenticai-data")["owner"] == "data-team"
    alarms = [r for r in results if r["rule"] == "cloudwatch.alarm-dlq-messages"]
    owners = {r["resource"]["name"]: r["owner"] for r in alarms}
    assert owners.pop("agenticai-dev-dlq") == "queue-team"  # the config's entry first
    assert owners
    assert set(owners.values()) == {"pack-author"}


@pytest.mark.parametrize(
    ("entry", "at", "said"),
    [
        ('  - owner: x\n    rules: ["dynamodb.pitr-enabeld"]\n', "4:13",
         r"owners\[0\]\.rules\[0\]: 'dynamodb\.pitr-enabeld' matches no loaded rule "
         r"\(did you mean 'dynamodb\.pitr-enabled'\?\)"),
        ("  - owner: x\n    tags: [securty]\n", "4:12",
         r"owners\[0\]\.tags\[0\]: no loaded rule has the tag 'securty' \(did you mean 'security'\?\)"),
        ("  - owner: x\n", "3:5",
         r"owners\[0\]: give at least one of rules, tags, resources, accounts"),
        ('  - owner: x\n    accounts: ["12345"]\n', "4:16", r"owners\[0\]\.accounts\[0\]: '12345'"),
        ("  - rules: ['sqs.*']\n", "3:5", r"owners\[0\]: 'owner' is a required property"),
    ],
)  # fmt: skip
def test_a_bad_entry_is_refused_with_its_position(
    tmp_path: Path, entry: str, at: str, said: str
) -> None:
    config = tmp_path / "runbook-guard.yaml"
    config.write_text("fail_on: fail\nowners:\n" + entry)
    with pytest.raises(InputError) as raised:
        prepare(config, None, None)
    [line] = raised.value.problems
    assert line.startswith(f"{config}:{at}: "), line
    assert re.search(said, line), line
