"""Collecting accounts given as units: each its own role, external id, regions, parameters.

A role that cannot be assumed, an account that answers as another, and regions that cannot be
discovered each make that account's rules ``error`` and touch no other account.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from runbook_guard.cli.pipeline import collection_plan, evaluate, prepare
from runbook_guard.collectors.context import Context, Scope
from runbook_guard.collectors.fills import models
from runbook_guard.collectors.journal import Journal
from runbook_guard.collectors.organization import manifest_units
from runbook_guard.engine.accounts import AccountUnit, account_view, plan_for_accounts
from runbook_guard.engine.selection import Selection
from runbook_guard.engine.snapshot import Snapshot
from tests.collectors.conftest import hooked_session
from tests.collectors.test_faults import denied
from tests.org.conftest import ACCOUNTS, QUEUES, ROLE, Run, assumed, plan_of, role_of, seed_account

A, B, C = ACCOUNTS
CALLER = "123456789012"
QUEUE = "aws.sqs.queue"


@pytest.fixture(scope="module")
def seeded(mocked: None) -> None:
    seed_account(A, prefix="team-a")
    seed_account(B, prefix="team-b", region="us-west-2")
    seed_account(C, prefix="team-c")


def unit(account: str, **fields: Any) -> AccountUnit:
    fields.setdefault("role", ROLE)
    fields.setdefault("regions", ("us-east-1",))
    return AccountUnit(account, **fields)


def queues_by_account(snapshot: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for resource in snapshot["resources"]:
        found.setdefault(resource["account"], set()).add(resource["name"])
    return found


def coverage(snapshot: dict[str, Any]) -> set[tuple[str, str, bool]]:
    return {(c["account"], c["region"], c["complete"]) for c in snapshot["coverage"]}


def test_each_account_is_read_with_its_own_role_in_its_own_regions(seeded: None, run: Run) -> None:
    snapshot = run(
        plan_of(QUEUE),
        accounts=[unit(A), unit(B, regions=("us-west-2",)), unit(C, regions=("us-east-1",))],
    )
    assert snapshot["errors"] == []
    assert queues_by_account(snapshot) == {
        A: {f"team-a-{q}-queue" for q in QUEUES},
        B: {f"team-b-{q}-queue" for q in QUEUES},
        C: {f"team-c-{q}-queue" for q in QUEUES},
    }
    # Per-account regions: B is listed in us-west-2 only, A and C in us-east-1 only.
    assert coverage(snapshot) == {
        (A, "us-east-1", True),
        (B, "us-west-2", True),
        (C, "us-east-1", True),
    }
    assert snapshot["metadata"]["regions"] == ["us-east-1", "us-west-2"]
    per_account = snapshot["metadata"]["per_account"]
    assert per_account[B] == {"regions": ["us-west-2"], "role": role_of(B)}


def test_a_role_that_cannot_be_assumed_errors_only_its_account(seeded: None, run: Run) -> None:
    def refuse_b(params: dict[str, Any], **_: Any) -> Any:
        return denied("AccessDenied", 403)() if role_of(B) in str(params.get("body")) else None

    snapshot = run(
        plan_of(QUEUE),
        session_factory=hooked_session(("before-call.sts.AssumeRole", refuse_b)),
        accounts=[unit(A), unit(B, regions=("us-west-2",), payer=True), unit(C)],
    )
    # The payer is recorded though it could not be read: its gaps then stand for the facts
    # it holds for everyone (tests/org/test_payer_and_gaps.py).
    assert (snapshot["schema_version"], snapshot["metadata"]["payer_account"]) == (4, B)
    [error] = snapshot["errors"]
    assert (error["operation"], error["account"], error["resource"]) == (
        "AssumeRole",
        B,
        role_of(B),
    )
    assert coverage(snapshot) == {
        (A, "us-east-1", True),
        (B, "global", False),
        (C, "us-east-1", True),
    }
    assert set(queues_by_account(snapshot)) == {A, C}
    assert snapshot["metadata"]["accounts"] == [A, C]
    assert snapshot["metadata"]["regions"] == ["us-east-1"]  # where something was read
    assert snapshot["metadata"]["per_account"][B]["regions"] == ["us-west-2"]  # as asked


def test_the_external_id_goes_to_assume_role(seeded: None, run: Run) -> None:
    bodies: list[str] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        bodies.append(str(params.get("body")))

    run(
        plan_of(QUEUE),
        session_factory=hooked_session(("before-call.sts.AssumeRole", capture)),
        accounts=[unit(A, external_id="ext-for-a"), unit(C)],
    )
    [for_a] = [b for b in bodies if role_of(A) in b]
    [for_c] = [b for b in bodies if role_of(C) in b]
    assert "ext-for-a" in for_a
    assert "ExternalId" not in for_c


def test_an_account_answering_as_another_is_unreadable(seeded: None, run: Run) -> None:
    snapshot = run(
        plan_of(QUEUE), accounts=[unit(A, role=role_of(C)), unit(B, regions=("us-west-2",))]
    )
    [error] = snapshot["errors"]
    assert (error["code"], error["account"]) == ("AccountMismatch", A)
    assert f"answers as account {C}, not {A}" in error["message"]
    assert set(queues_by_account(snapshot)) == {B}  # C's queues are not taken for A's


def test_credentials_are_refreshed_before_they_expire(seeded: None, run: Run) -> None:
    """The first AssumeRole answers credentials expiring in five minutes (inside botocore's
    refresh window): the session assumes the role again before its first call, and reads."""
    assumed_roles: list[str] = []

    def near_expiry(parsed: dict[str, Any], params: Any = None, **kwargs: Any) -> None:
        assumed_roles.append("call")
        if len(assumed_roles) == 1 and "Credentials" in parsed:
            soon = datetime.now(timezone.utc) + timedelta(minutes=5)
            parsed["Credentials"]["Expiration"] = soon

    snapshot = run(
        plan_of(QUEUE),
        session_factory=hooked_session(("after-call.sts.AssumeRole", near_expiry)),
        accounts=[unit(A)],
    )
    assert len(assumed_roles) == 2  # the first assume, then the refresh
    assert snapshot["errors"] == []
    assert queues_by_account(snapshot) == {A: {f"team-a-{q}-queue" for q in QUEUES}}


def test_accounts_are_assumed_concurrently_within_the_call_limit(seeded: None) -> None:
    """Two AssumeRoles must be in flight together to pass the barrier (a serial loop would
    break it), and never more than max_concurrency calls at once."""
    barrier = threading.Barrier(2, timeout=30)

    def meet(**_: Any) -> None:
        barrier.wait()

    factory = hooked_session(("before-call.sts.AssumeRole", meet))
    units = [unit(a) for a in (A, B, C, "444444444444")]
    context = Context(
        Scope(accounts=units, max_concurrency=2, max_attempts=1, session_factory=factory), Journal()
    )
    opened = context.accounts()
    assert [a.id for a in opened] == [A, B, C, "444444444444"]
    assert context.limits.peak == 2
    assert context.journal.errors == []


def test_every_accounts_session_shares_the_loaded_service_models(seeded: None) -> None:
    """A fresh boto3 Session per account would parse every service model again."""
    context = Context(Scope(accounts=[unit(A), unit(C)], max_attempts=1), Journal())
    opened = context.accounts()
    shared = models().get_component("data_loader")
    for account in opened:
        assert account.session._session.get_component("data_loader") is shared
    assert opened[0].session is not opened[1].session  # each its own credentials


def test_regions_discovered_are_the_enabled_ones(seeded: None, run: Run) -> None:
    snapshot = run(plan_of(QUEUE), accounts=[unit(B, regions=None)], discover_regions=True)
    regions = {region for _account, region, _complete in coverage(snapshot)}
    session = assumed(B)
    answered = session.client("ec2", region_name="us-east-1").describe_regions()["Regions"]
    enabled = {r["RegionName"] for r in answered if r["OptInStatus"] != "not-opted-in"}
    assert any(r["OptInStatus"] == "not-opted-in" for r in answered)  # the filter matters
    assert regions == enabled
    assert "us-west-2" in regions
    assert queues_by_account(snapshot) == {B: {f"team-b-{q}-queue" for q in QUEUES}}
    assert snapshot["metadata"]["per_account"][B]["regions"] == sorted(enabled)


def test_regions_that_cannot_be_discovered_make_the_account_unreadable(
    seeded: None, run: Run
) -> None:
    """The caller's own account (no role: the hooked session) is denied DescribeRegions; the
    assumed account is read as usual."""
    factory = hooked_session(
        ("before-call.ec2.DescribeRegions", denied("UnauthorizedOperation", 403))
    )
    snapshot = run(
        plan_of(QUEUE),
        session_factory=factory,
        discover_regions=True,
        accounts=[AccountUnit(CALLER), unit(A)],
    )
    [error] = snapshot["errors"]
    assert (error["operation"], error["account"], error["iam_action"]) == (
        "DescribeRegions",
        CALLER,
        "ec2:DescribeRegions",
    )
    assert (CALLER, "global", False) in coverage(snapshot)
    assert {c["account"] for c in snapshot["coverage"] if c["complete"]} == {A}
    assert snapshot["metadata"]["accounts"] == [A]


def test_role_arns_still_work_beside_units(seeded: None, run: Run) -> None:
    snapshot = run(plan_of(QUEUE), role_arns=[role_of(A)], accounts=[unit(C)])
    assert set(queues_by_account(snapshot)) == {A, C}
    assert set(snapshot["metadata"]["per_account"]) == {C}  # only units given as such


RULES = Selection.from_options(rules=["sqs.work-queues-exist"])


def test_per_account_parameters_collect_each_accounts_stack_and_judge_it_alone(
    seeded: None, run: Run
) -> None:
    """A's stack is prefixed team-a, C's team-c: one union plan lists both prefixes; each
    account's view, evaluated with its own parameters, passes; judged with the other's
    parameters it does not."""
    prepared = prepare(None, None, None, selection=RULES)
    base = collection_plan(prepared)
    plan, units = plan_for_accounts(
        prepared.policy_set,
        [rule.id for rule in prepared.rules],
        {},
        base,
        [unit(A, parameters={"prefix": "team-a"}), unit(C, parameters={"prefix": "team-c"})],
    )
    # Each account's queue names are listed by (exact names are their own prefixes).
    stacks = ("agenticai", "team-a", "team-c")
    wanted = {f"{stack}-{q}-queue" for stack in stacks for q in QUEUES}
    assert set(plan.types[QUEUE].prefixes or []) == wanted
    snapshot = run(plan, accounts=units)
    own = snapshot["metadata"]["per_account"]
    assert own[A]["parameters"]["prefix"] == "team-a"
    assert own[A]["planned_rules"] != own[C]["planned_rules"]
    # What the engine needs: the recorded (effective) parameters, compiled as overrides, give
    # back exactly the fingerprints the account's collection was planned for.
    for account in (A, C):
        again = prepared.policy_set.compile(own[account]["parameters"])
        chosen = {r.id: r.fingerprint for r in again if r.id in own[account]["planned_rules"]}
        assert chosen == own[account]["planned_rules"]
    for account, prefix in ((A, "team-a"), (C, "team-c")):
        mine = prepare(None, None, [f"prefix={prefix}"], selection=RULES)
        results = evaluate(mine, Snapshot(account_view(snapshot, account)), None, None)["results"]
        assert len(results) == len(QUEUES)
        assert {r["status"] for r in results} == {"pass"}, [r["message"] for r in results]
    # Judged by another account's parameters (its view without its own record), A fails.
    other = prepare(None, None, ["prefix=team-c"], selection=RULES)
    bare = account_view(snapshot, A)
    bare["metadata"].pop("per_account")
    results = evaluate(other, Snapshot(bare), None, None)["results"]
    assert "pass" not in {r["status"] for r in results}
    # The whole snapshot judges each account by its own recorded parameters: each stack
    # passes under its own prefix (the run's own, agenticai, would find neither).
    whole = evaluate(prepared, Snapshot(snapshot), None, None)["results"]
    assert {r["status"] for r in whole} == {"pass"}, [r["message"] for r in whole]
    assert {(r["resource"] or {}).get("account") for r in whole} == {A, C}
    names = {r["resource"]["name"] for r in whole if r["resource"]}
    assert names == {f"{prefix}-{q}-queue" for prefix in ("team-a", "team-c") for q in QUEUES}


def test_a_manifest_records_explicit_regions_unless_they_are_discovered(mocked: None) -> None:
    units = [AccountUnit(A, role=ROLE), AccountUnit(B, role=ROLE, regions=("us-west-2",))]
    given = manifest_units(Scope(regions=["eu-west-1", "eu-west-1"]), units)
    assert [u.regions for u in given] == [("eu-west-1",), ("us-west-2",)]
    profiles = manifest_units(Scope(), units)  # the session's region (AWS_DEFAULT_REGION)
    assert [u.regions for u in profiles] == [("us-east-1",), ("us-west-2",)]
    discovered = manifest_units(Scope(discover_regions=True), units)
    assert [u.regions for u in discovered] == [None, ("us-west-2",)]
