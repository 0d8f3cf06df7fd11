"""Several accounts judged one by one: a listing gap errors only its own account, and a fact
the organisation's payer holds (the free tier, a consolidated budget) is missing only where
the payer has none.

Each test tries to make a rule pass, or go quiet, where the runbook would not: the member
whose budget is bad, the payer that cannot be read, the gap that belongs to no account.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.per_account import evaluate_by_account
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.snapshot import Snapshot, held_payer, load_snapshot
from tests.engine.builders import NOW, compile_text, resource, snapshot_doc

PAYER, MEMBER, OTHER = "111111111111", "222222222222", "333333333333"
BUDGET = "aws.budgets.budget"
POLICY = """
parameters:
  prefix: {default: agenticai}
rules:
  - id: t.budget-alert
    title: a stack budget alerts at 80 %
    severity: high
    resource: aws.budgets.budget
    select: {name_matches: "^${prefix}"}
    expect: {path: Threshold, le: 80}
    when_none: fail
    held_by: payer
  - id: t.budget-everywhere
    title: every account has a stack budget
    severity: high
    resource: aws.budgets.budget
    select: {name_matches: "^${prefix}"}
    expect: {path: Threshold, le: 80}
    when_none: fail
"""
HELD, EVERYWHERE = "t.budget-alert", "t.budget-everywhere"


def budget(account: str, name: str, threshold: float) -> dict[str, Any]:
    made = resource(BUDGET, name, {"Threshold": threshold})
    made.update(account=account, region="global", id=f"arn:aws:budgets::{account}:budget/{name}")
    return made


def document(
    budgets: list[dict[str, Any]],
    *,
    payer: str | None = PAYER,
    unread: tuple[str, ...] = (),
    accounts: tuple[str, ...] = (PAYER, MEMBER, OTHER),
) -> dict[str, Any]:
    """Every account listed once (global); ``unread`` ones incomplete, as an account whose
    role could not be assumed is recorded."""
    doc = snapshot_doc(
        budgets,
        coverage=[
            {"type": BUDGET, "account": a, "region": "global", "complete": a not in unread}
            for a in accounts
        ],
    )
    doc["metadata"].update(accounts=[a for a in accounts if a not in unread], regions=["global"])
    if payer is not None:
        doc["metadata"]["payer_account"] = payer
    return doc


def by_account(results: list[dict[str, Any]], rule: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for result in results:
        if result["rule"] == rule:
            account = (result["resource"] or {}).get("account", "(rule)")
            found.setdefault(account, []).append(result["status"])
    return found


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> list[CompiledRule]:
    return compile_text(tmp_path_factory.mktemp("policy"), POLICY)[1]


def judge(rules: list[CompiledRule], doc: dict[str, Any]) -> list[dict[str, Any]]:
    return evaluate_rules(rules, Snapshot(doc), NOW)


def test_the_payer_holds_the_budget_members_without_one_are_not_failed(
    rules: list[CompiledRule],
) -> None:
    results = judge(rules, document([budget(PAYER, "agenticai-monthly", 80)]))
    assert by_account(results, HELD) == {PAYER: ["pass"]}
    # The same budgets, a rule that asks every account: the members fail.
    assert by_account(results, EVERYWHERE) == {
        PAYER: ["pass"],
        MEMBER: ["fail"],
        OTHER: ["fail"],
    }


def test_a_payer_without_the_budget_fails_once_at_the_payer(rules: list[CompiledRule]) -> None:
    results = judge(rules, document([budget(MEMBER, "agenticai-team", 80)]))
    held = by_account(results, HELD)
    assert held == {PAYER: ["fail"], MEMBER: ["pass"]}
    [payer_result] = [r for r in results if r["rule"] == HELD and r["status"] == "fail"]
    assert payer_result["resource"]["id"] == f"account:{PAYER}"


def test_a_members_own_bad_budget_is_still_judged(rules: list[CompiledRule]) -> None:
    """held_by moves only the "none found" verdict: a member's own budget alerting at 100 %
    is a failure, whatever the payer holds."""
    results = judge(
        rules, document([budget(PAYER, "agenticai-monthly", 80), budget(OTHER, "agenticai-x", 100)])
    )
    assert by_account(results, HELD) == {PAYER: ["pass"], OTHER: ["fail"]}


def test_a_near_miss_name_at_the_payer_is_no_budget_of_the_stack(rules: list[CompiledRule]) -> None:
    results = judge(rules, document([budget(PAYER, "other-team-monthly", 80)]))
    assert by_account(results, HELD) == {PAYER: ["fail"]}


def test_an_unreadable_payer_is_an_error_not_a_quiet_organisation(
    rules: list[CompiledRule],
) -> None:
    results = judge(rules, document([], unread=(PAYER,)))
    held = by_account(results, HELD)
    assert held == {PAYER: ["error"]}, held
    [error] = [r for r in results if r["rule"] == HELD]
    assert "resources may be missing from the check" in error["message"]


def test_without_a_known_payer_every_account_must_hold_it(rules: list[CompiledRule]) -> None:
    """Fail closed: a collection that does not know the payer cannot excuse anyone."""
    results = judge(rules, document([budget(PAYER, "agenticai-monthly", 80)], payer=None))
    assert by_account(results, HELD) == {PAYER: ["pass"], MEMBER: ["fail"], OTHER: ["fail"]}


def test_a_payer_the_snapshot_does_not_hold_excuses_no_one(rules: list[CompiledRule]) -> None:
    """An in-memory snapshot naming a payer it never collected: every account answers alone
    (a file saying so is refused: below)."""
    doc = document([], payer="444444444444")
    assert by_account(judge(rules, doc), HELD) == {
        PAYER: ["fail"],
        MEMBER: ["fail"],
        OTHER: ["fail"],
    }


def test_a_snapshot_file_naming_a_payer_outside_its_accounts_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"

    def written(doc: dict[str, Any], version: int = 4) -> Path:
        path.write_text(json.dumps({**doc, "schema_version": version}))
        return path

    with pytest.raises(InputError) as raised:
        load_snapshot(written(document([], payer="444444444444")))
    assert "metadata.payer_account: 444444444444 is not one of the snapshot's accounts" in str(
        raised.value
    )
    assert load_snapshot(written(document([], unread=(PAYER,)))).payer_account == PAYER
    # A payer in a file of an older version: no version before 4 wrote one.
    with pytest.raises(InputError) as raised:
        load_snapshot(written(document([]), version=2))
    [line] = raised.value.problems
    assert line.startswith(f"{path}:")
    assert "schema_version" in line
    assert "minimum of 4" in line


def test_a_payer_outside_the_snapshot_excuses_no_member_in_any_mode(
    rules: list[CompiledRule], tmp_path: Path
) -> None:
    """One member alone, or each member in its own view (per-account parameters): a payer
    the snapshot does not hold leaves every member owing the fact itself."""
    alone = document([], payer="444444444444", accounts=(MEMBER,))
    assert by_account(judge(rules, alone), HELD) == {"(rule)": ["fail"]}
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    policy_set = load_policy_set([policy])
    doc = document([], payer="444444444444", accounts=(MEMBER, OTHER))
    doc["metadata"]["per_account"] = {
        MEMBER: {"regions": ["us-east-1"], "parameters": {"prefix": "team-b"}},
        OTHER: {"regions": ["us-east-1"]},
    }
    results = evaluate_by_account(policy_set, policy_set.compile({}), Snapshot(doc), NOW)
    assert results is not None
    assert by_account(results, HELD) == {MEMBER: ["fail"], OTHER: ["fail"]}


def test_one_readable_account_beside_an_unreadable_one_owes_its_own_verdict(
    rules: list[CompiledRule],
) -> None:
    """The payer readable and without a budget, the member's role refused: the payer fails
    (it was a rule-level error before; the member's error must not stand in for it)."""
    for payer in (PAYER, None):
        doc = document([], payer=payer, unread=(MEMBER,), accounts=(PAYER, MEMBER))
        results = judge(rules, doc)
        assert by_account(results, HELD) == {PAYER: ["fail"], MEMBER: ["error"]}, payer
        assert by_account(results, EVERYWHERE) == {PAYER: ["fail"], MEMBER: ["error"]}


def test_an_unreadable_payer_is_held_by_the_snapshot_that_records_its_gaps() -> None:
    doc = document([], unread=(PAYER,))
    assert held_payer(doc) == PAYER
    doc["coverage"] = [c for c in doc["coverage"] if c["account"] != PAYER]
    doc["coverage"].append({"type": "aws.sqs.queue", "account": PAYER, "region": "us-east-1",
                            "complete": True})  # fmt: skip
    assert held_payer(doc) is None  # listed whole elsewhere, yet not among the accounts
    assert Snapshot(doc).payer_account is None


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('    select: {names: ["agenticai-monthly"]}\n', "held_by: payer applies to rules without"),
        ("    kind: manual\n    attestation: a person checks\n", "a manual rule has no 'held_by'"),
    ],
)
def test_held_by_where_it_means_nothing_is_refused(tmp_path: Path, extra: str, words: str) -> None:
    text = "rules:\n  - id: t.x\n    title: x\n    severity: low\n    held_by: payer\n" + extra
    if "manual" not in extra:
        text += "    resource: aws.budgets.budget\n    expect: {path: Threshold, le: 80}\n"
    policy = tmp_path / "policy.yaml"
    policy.write_text(text)
    with pytest.raises(InputError) as raised:
        load_policy_set([policy])
    assert words in str(raised.value), raised.value


def test_a_single_account_run_judges_its_own_account_as_before(rules: list[CompiledRule]) -> None:
    for payer in (PAYER, None):
        doc = document([], payer=payer, accounts=(PAYER,))
        assert by_account(judge(rules, doc), HELD) == {"(rule)": ["fail"]}


# --- listing gaps, per account ------------------------------------------------------------


def test_one_unreadable_account_errors_itself_and_the_others_are_judged(
    rules: list[CompiledRule],
) -> None:
    """Before: one account's gap made the rule a single rule-level error, and the account
    without a budget got no failure of its own."""
    results = judge(rules, document([budget(PAYER, "agenticai-monthly", 80)], unread=(OTHER,)))
    assert by_account(results, EVERYWHERE) == {
        PAYER: ["pass"],
        MEMBER: ["fail"],
        OTHER: ["error"],
    }
    [gap] = [r for r in results if r["rule"] == EVERYWHERE and r["status"] == "error"]
    assert gap["resource"] == {
        "type": BUDGET,
        "id": f"account:{OTHER}",
        "name": f"(listing of account {OTHER})",
        "region": "",
        "account": OTHER,
    }
    assert f"listing {BUDGET} in {OTHER}/global was incomplete" in gap["message"]
    # The payer-held rule: the member that could not be read still errors (its own budgets,
    # which could be bad, may be missing).
    assert by_account(results, HELD) == {PAYER: ["pass"], OTHER: ["error"]}


def test_a_gap_of_no_account_leaves_the_whole_rule_in_error(rules: list[CompiledRule]) -> None:
    doc = document([budget(PAYER, "agenticai-monthly", 80)])
    doc["coverage"].append({"type": BUDGET, "account": "", "region": "global", "complete": False})
    results = judge(rules, doc)
    rule_level = [r for r in results if r["rule"] == EVERYWHERE and r["resource"] is None]
    assert [r["status"] for r in rule_level] == ["error"]
    # No "(none in account ...)" verdict is given beside it: nothing is known whole.
    assert not [r for r in results if r["rule"] == EVERYWHERE and r["status"] == "fail"]


def test_an_account_with_no_coverage_at_all_is_a_gap_of_its_own(rules: list[CompiledRule]) -> None:
    doc = document([budget(PAYER, "agenticai-monthly", 80)])
    doc["coverage"] = [c for c in doc["coverage"] if c["account"] != MEMBER]
    assert by_account(judge(rules, doc), EVERYWHERE) == {
        PAYER: ["pass"],
        MEMBER: ["error"],
        OTHER: ["fail"],
    }


# --- each account with its own parameters --------------------------------------------------


def test_per_account_parameters_judge_the_payer_fact_at_the_payer(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    policy_set = load_policy_set([policy])
    doc = document([budget(PAYER, "agenticai-monthly", 80), budget(MEMBER, "team-b-x", 100)])
    doc["metadata"]["per_account"] = {
        PAYER: {"regions": ["us-east-1"]},
        MEMBER: {"regions": ["us-east-1"], "parameters": {"prefix": "team-b"}},
        OTHER: {"regions": ["us-east-1"], "parameters": {"prefix": "team-c"}},
    }
    results = evaluate_by_account(policy_set, policy_set.compile({}), Snapshot(doc), NOW)
    assert results is not None
    # MEMBER's own budget (its own prefix) fails; OTHER holds none and is excused.
    assert by_account(results, HELD) == {PAYER: ["pass"], MEMBER: ["fail"]}
    assert by_account(results, EVERYWHERE) == {
        PAYER: ["pass"],
        MEMBER: ["fail"],
        OTHER: ["fail"],
    }


def test_the_shipped_free_tier_and_budget_rules_are_held_by_the_payer() -> None:
    rules = {r.id: r for r in load_policy_set().compile({})}
    held = sorted(rule_id for rule_id, rule in rules.items() if rule.held_by == "payer")
    assert held == ["budgets.alert-at-threshold", "budgets.usage", "freetier.usage"]
