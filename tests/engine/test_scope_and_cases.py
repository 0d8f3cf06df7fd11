"""Named resources across accounts, and the test-case machinery that proves rules.

A table in one account must not stand in for the same table in another; and a rule's own cases
must not pass while the rule gives a finding the case did not expect (another account's
result hidden behind a name, an adversarial case that is not counted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import runbook_guard.cli.commands  # noqa: F401  (registers the commands)
from runbook_guard.cli.app import app
from runbook_guard.engine.casetest import (
    CaseOutcome,
    is_adversarial,
    rules_without_adversarial_cases,
    run_cases,
)
from runbook_guard.engine.loader import load_policy_set
from tests.engine.builders import ACCOUNT, REGION, resource, run, snapshot_doc

OTHER = "222222222222"

# --- 4. select.names across accounts --------------------------------------------------------

ENCRYPTED = """
parameters:
  prefix: {default: agenticai}
rules:
  - id: ddb.sse
    title: the table is encrypted
    covers: [RB-S01]
    section: Security
    cadence: daily
    severity: high
    resource: aws.dynamodb.table
    select: {names: ["${prefix}-data"]}
    expect: {path: SSEDescription.Status, equals: ENABLED}
"""


def table(account: str, status: str = "ENABLED", name: str = "agenticai-data") -> dict[str, Any]:
    return resource(
        "aws.dynamodb.table",
        name,
        {"SSEDescription": {"Status": status}},
        id=f"arn:aws:dynamodb:{REGION}:{account}:table/{name}",
        account=account,
    )


def accounts_doc(
    resources: list[dict[str, Any]],
    accounts: list[str],
    incomplete_in: tuple[str, ...] = (),
) -> dict[str, Any]:
    doc = snapshot_doc(resources)
    doc["metadata"]["accounts"] = accounts
    doc["coverage"] = [
        {
            "type": "aws.dynamodb.table",
            "account": account,
            "region": REGION,
            "complete": account not in incomplete_in,
        }
        for account in accounts
    ]
    return doc


def by_account(results: list[dict[str, Any]]) -> dict[str, str]:
    """Status per account (``statuses`` would let one account's result hide the other's)."""
    found: dict[str, str] = {}
    for result in results:
        account = result["resource"]["account"]
        assert account not in found, "one result per account"
        found[account] = result["status"]
    return found


def test_a_named_table_in_one_account_does_not_stand_in_for_the_other(tmp_path: Path) -> None:
    results = run(tmp_path, ENCRYPTED, accounts_doc([table(ACCOUNT)], [ACCOUNT, OTHER]))
    assert by_account(results) == {ACCOUNT: "pass", OTHER: "fail"}
    (missing,) = [r for r in results if r["resource"]["account"] == OTHER]
    assert missing["resource"] == {
        "type": "aws.dynamodb.table",
        "id": "agenticai-data",
        "name": "agenticai-data",
        "region": "",
        "account": OTHER,
    }
    assert (
        missing["message"] == f"aws.dynamodb.table agenticai-data does not exist in account {OTHER}"
    )
    assert missing["observed"] == "missing"


def test_a_named_table_present_only_in_the_second_account_fails_the_first(
    tmp_path: Path,
) -> None:
    results = run(tmp_path, ENCRYPTED, accounts_doc([table(OTHER)], [ACCOUNT, OTHER]))
    assert by_account(results) == {ACCOUNT: "fail", OTHER: "pass"}


def test_a_named_table_present_in_both_accounts_is_judged_in_each(tmp_path: Path) -> None:
    doc = accounts_doc([table(ACCOUNT), table(OTHER, "DISABLED")], [ACCOUNT, OTHER])
    assert by_account(run(tmp_path, ENCRYPTED, doc)) == {ACCOUNT: "pass", OTHER: "fail"}


def test_a_table_with_another_name_in_the_second_account_does_not_count(tmp_path: Path) -> None:
    doc = accounts_doc([table(ACCOUNT), table(OTHER, name="agenticai-data-copy")], [ACCOUNT, OTHER])
    assert by_account(run(tmp_path, ENCRYPTED, doc)) == {ACCOUNT: "pass", OTHER: "fail"}


def test_a_named_table_missing_behind_an_incomplete_listing_is_an_error(tmp_path: Path) -> None:
    doc = accounts_doc([table(ACCOUNT)], [ACCOUNT, OTHER], incomplete_in=(OTHER,))
    results = run(tmp_path, ENCRYPTED, doc)
    assert by_account(results) == {ACCOUNT: "pass", OTHER: "error"}
    (missing,) = [r for r in results if r["resource"]["account"] == OTHER]
    assert "cannot tell whether agenticai-data exists" in missing["message"]
    assert f"listing aws.dynamodb.table in {OTHER}/{REGION} was incomplete" in missing["message"]


def test_a_missing_named_table_is_never_a_pass_whichever_listing_was_incomplete(
    tmp_path: Path,
) -> None:
    doc = accounts_doc([table(ACCOUNT)], [ACCOUNT, OTHER], incomplete_in=(ACCOUNT,))
    assert by_account(run(tmp_path, ENCRYPTED, doc))[OTHER] in ("fail", "error")


def test_a_snapshot_recording_no_accounts_still_fails_a_missing_name(tmp_path: Path) -> None:
    doc = accounts_doc([], [])
    doc["coverage"] = [
        {"type": "aws.dynamodb.table", "account": ACCOUNT, "region": REGION, "complete": True}
    ]
    (result,) = run(tmp_path, ENCRYPTED, doc)
    assert (result["status"], result["resource"]["account"]) == ("fail", "")
    assert result["message"] == "aws.dynamodb.table agenticai-data does not exist"


# --- 7. test cases: accounts, adversarial cases, the CLI ------------------------------------

RULE_HEAD = """
parameters:
  prefix: {default: agenticai}
rules:
"""

SSE_WITH_CASES = (
    RULE_HEAD
    + """
  - id: ddb.sse
    title: the table is encrypted
    covers: [RB-S01]
    section: Security
    cadence: daily
    severity: high
    resource: aws.dynamodb.table
    select: {names: ["${prefix}-data"]}
    expect: {path: SSEDescription.Status, equals: ENABLED}
    tests:
CASES"""
)


def cases_file(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def outcomes(tmp_path: Path, text: str) -> dict[str, CaseOutcome]:
    found = run_cases(load_policy_set([cases_file(tmp_path, text)]))
    return {outcome.case: outcome for outcome in found}


def with_cases(cases: str) -> str:
    return SSE_WITH_CASES.replace("CASES", cases)


ENABLED = "{SSEDescription: {Status: ENABLED}}"


def test_a_case_over_two_accounts_passes_only_with_the_table_in_both(tmp_path: Path) -> None:
    text = with_cases(
        f"""      - name: both accounts
        accounts: ["{OTHER}"]
        resources:
          - {{name: agenticai-data, data: {ENABLED}}}
          - {{name: agenticai-data, account: "{OTHER}", data: {ENABLED}}}
        expect: pass
      - name: "adversarial: only the first account"
        accounts: ["{OTHER}"]
        resources:
          - {{name: agenticai-data, data: {ENABLED}}}
        expect: pass
"""
    )
    found = outcomes(tmp_path, text)
    assert found["both accounts"].failures == []
    assert found["adversarial: only the first account"].failures == [
        f"agenticai-data: expected pass, got fail: aws.dynamodb.table agenticai-data does not "
        f"exist in account {OTHER}"
    ]


def test_a_resources_own_account_joins_the_default_account_in_the_case(tmp_path: Path) -> None:
    # No `accounts:` list: the resource's account joins the case's default account, which
    # then lacks the table: the other account's table does not stand in for it.
    text = with_cases(
        f"""      - name: "adversarial: only the other account"
        resources:
          - {{name: agenticai-data, account: "{OTHER}", data: {ENABLED}}}
        expect: pass
"""
    )
    (outcome,) = outcomes(tmp_path, text).values()
    assert outcome.failures == [
        f"agenticai-data: expected pass, got fail: aws.dynamodb.table agenticai-data does not "
        f"exist in account {ACCOUNT}"
    ]


def test_a_per_name_expectation_sees_every_accounts_result(tmp_path: Path) -> None:
    # One name, a result per account: the second account's missing table must not hide
    # behind the first account's pass.
    text = with_cases(
        f"""      - name: "adversarial: per-name pass with the table missing in one account"
        accounts: ["{OTHER}"]
        resources:
          - {{name: agenticai-data, data: {ENABLED}}}
        expect: {{agenticai-data: pass}}
"""
    )
    (outcome,) = outcomes(tmp_path, text).values()
    assert outcome.failures == [
        f"agenticai-data ({OTHER}): expected pass, got fail: aws.dynamodb.table "
        f"agenticai-data does not exist in account {OTHER}"
    ]


def test_a_name_at_account_expectation_picks_that_accounts_result(tmp_path: Path) -> None:
    text = with_cases(
        f"""      - name: "adversarial: missing in the second account only"
        accounts: ["{OTHER}"]
        resources:
          - {{name: agenticai-data, data: {ENABLED}}}
        expect: {{agenticai-data@{ACCOUNT}: pass, agenticai-data@{OTHER}: fail}}
      - name: "adversarial: the accounts swapped"
        accounts: ["{OTHER}"]
        resources:
          - {{name: agenticai-data, data: {ENABLED}}}
        expect: {{agenticai-data@{ACCOUNT}: fail, agenticai-data@{OTHER}: pass}}
"""
    )
    found = outcomes(tmp_path, text)
    assert found["adversarial: missing in the second account only"].failures == []
    assert len(found["adversarial: the accounts swapped"].failures) == 2


REDRIVE_WITH_CASES = (
    RULE_HEAD
    + f"""
  - id: sqs.redrive
    title: the queue redrives to an existing queue
    covers: [RB-I08]
    section: Incident
    cadence: daily
    severity: high
    resource: aws.sqs.queue
    select: {{names: ["${{prefix}}-queue"]}}
    related:
      dlq: {{type: aws.sqs.queue, from: Attributes.RedrivePolicy.deadLetterTargetArn}}
    expect: {{related: dlq, all_items: {{path: Attributes.MessageRetentionPeriod, ge: 1209600}}}}
    tests:
      - name: own dlq
        resources:
          - {{name: agenticai-queue, data: {{Attributes: {{RedrivePolicy: {{deadLetterTargetArn: "arn:aws:sqs:{REGION}:{ACCOUNT}:agenticai-dlq"}}}}}}}}
          - {{name: agenticai-dlq, id: "arn:aws:sqs:{REGION}:{ACCOUNT}:agenticai-dlq", data: {{Attributes: {{MessageRetentionPeriod: "1209600"}}}}}}
        expect: {{agenticai-queue: pass}}
      - name: "adversarial: the dlq with that ARN sits in another account"
        resources:
          - {{name: agenticai-queue, data: {{Attributes: {{RedrivePolicy: {{deadLetterTargetArn: "arn:aws:sqs:{REGION}:{ACCOUNT}:agenticai-dlq"}}}}}}}}
          - {{name: agenticai-dlq, account: "{OTHER}", id: "arn:aws:sqs:{REGION}:{ACCOUNT}:agenticai-dlq", data: {{Attributes: {{MessageRetentionPeriod: "1209600"}}}}}}
        expect: {{agenticai-queue: fail}}
      - name: "adversarial: the dlq with that ARN sits in another region"
        resources:
          - {{name: agenticai-queue, data: {{Attributes: {{RedrivePolicy: {{deadLetterTargetArn: "arn:aws:sqs:{REGION}:{ACCOUNT}:agenticai-dlq"}}}}}}}}
          - {{name: agenticai-dlq, region: eu-west-1, id: "arn:aws:sqs:{REGION}:{ACCOUNT}:agenticai-dlq", data: {{Attributes: {{MessageRetentionPeriod: "1209600"}}}}}}
        expect: {{agenticai-queue: fail}}
      - name: "adversarial: the queue listing is incomplete"
        incomplete: [aws.sqs.queue]
        resources:
          - {{name: agenticai-queue, data: {{Attributes: {{RedrivePolicy: {{deadLetterTargetArn: "arn:aws:sqs:{REGION}:{ACCOUNT}:agenticai-dlq"}}}}}}}}
        expect: {{agenticai-queue: error}}
"""
)


def test_case_resources_carry_account_and_region_into_related_lookups(tmp_path: Path) -> None:
    found = outcomes(tmp_path, REDRIVE_WITH_CASES)
    assert len(found) == 4
    assert {name: o.failures for name, o in found.items()} == {name: [] for name in found}


def test_the_case_proves_the_account_matters(tmp_path: Path) -> None:
    # The same case with the DLQ in the queue's own account would pass: the expectation of
    # `fail` is earned by the account, not by some other difference.
    text = REDRIVE_WITH_CASES.replace(f'account: "{OTHER}", ', "").replace(
        "region: eu-west-1, ", ""
    )
    found = outcomes(tmp_path, text)
    assert found["adversarial: the dlq with that ARN sits in another account"].failures != []
    assert found["adversarial: the dlq with that ARN sits in another region"].failures != []


@pytest.mark.parametrize(
    ("name", "adversarial"),
    [
        ("adversarial: item 3 reversed operator", True),
        ("adversarial:no space", True),
        ("adversarial: ", True),
        ("not adversarial: it says so later", False),
        ("adversarial without a colon", False),
        ("an adversarial: case", False),
        ("", False),
    ],
)
def test_is_adversarial_reads_the_prefix(name: str, adversarial: bool) -> None:
    assert is_adversarial(name) is adversarial


MIXED_RULES = (
    RULE_HEAD
    + """
  - id: a.tried
    title: tried
    covers: [RB-S01]
    section: Security
    cadence: daily
    severity: high
    resource: aws.dynamodb.table
    expect: {path: SSEDescription.Status, equals: ENABLED}
    tests:
      - {name: "adversarial: disabled", resources: [{name: t, data: {SSEDescription: {Status: DISABLED}}}], expect: fail}
      - {name: "adversarial: absent", resources: [{name: t, data: {}}], expect: error}
  - id: b.untried
    title: untried
    covers: [RB-S01]
    section: Security
    cadence: daily
    severity: high
    resource: aws.dynamodb.table
    expect: {path: SSEDescription.Status, equals: ENABLED}
    tests:
      - {name: "enabled (adversarial: not really)", resources: [{name: t, data: {SSEDescription: {Status: ENABLED}}}], expect: pass}
  - id: c.no_tests
    title: no tests at all
    covers: [RB-S01]
    section: Security
    cadence: daily
    severity: high
    resource: aws.dynamodb.table
    expect: {path: SSEDescription.Status, equals: ENABLED}
  - id: d.manual
    title: a person attests
    kind: manual
    covers: [RB-S01]
    section: Security
    cadence: monthly
    severity: low
    attestation: the runbook was read
    tests:
      - {name: manual, expect: manual}
"""
)


def test_rules_without_adversarial_cases_lists_check_rules_only(tmp_path: Path) -> None:
    policy_set = load_policy_set([cases_file(tmp_path, MIXED_RULES)])
    assert rules_without_adversarial_cases(policy_set) == ["b.untried", "c.no_tests"]


def policy_test(*paths: Path) -> Any:
    return CliRunner().invoke(app, ["test", *map(str, paths)])


def test_the_test_command_counts_adversarial_cases_and_names_untried_rules(
    tmp_path: Path,
) -> None:
    path = cases_file(tmp_path, MIXED_RULES)
    result = policy_test(path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    line = 1 + MIXED_RULES[: MIXED_RULES.index("- id: c.no_tests")].count("\n")
    assert lines == [
        f"{path}:{line}:5: c.no_tests: warning: no test cases: write a passing case and an "
        "'adversarial: ...' failing one",
        "b.untried: no adversarial case (a case named 'adversarial: ...')",
        "4 passed, 0 failed (2 adversarial); 1 rule without test cases",
    ]


def test_the_test_command_counts_a_failing_adversarial_case_and_exits_1(tmp_path: Path) -> None:
    text = MIXED_RULES.replace(
        '"adversarial: disabled", resources: [{name: t, data: {SSEDescription: {Status: DISABLED}}}], expect: fail',
        '"adversarial: disabled", resources: [{name: t, data: {SSEDescription: {Status: DISABLED}}}], expect: pass',
    )
    result = policy_test(cases_file(tmp_path, text))
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "3 passed, 1 failed (2 adversarial); 1 rule without test cases"
    )
    assert "a.tried: adversarial: disabled: t: expected pass, got fail" in result.output


def test_the_test_command_with_every_rule_tried_lists_none(tmp_path: Path) -> None:
    result = policy_test(cases_file(tmp_path, REDRIVE_WITH_CASES))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["4 passed, 0 failed (3 adversarial)"]
