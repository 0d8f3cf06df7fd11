"""Pushdown for the governance collectors: IAM users and access keys, Budgets, CloudTrail trails
and events, Free Tier usage.

Plans are built by the planner from small rules in a temporary policy folder; the real
collectors run against moto, seeded once for the module, with every API call's parameters
recorded. Each test proves that a resource no rule selects gets no detail call, that an
operation whose keys no rule reads is not called at all (the credential report included), that
the access-key listing is limited to the users whose keys a rule may select (and says so in its
coverage), and that the rules still decide exactly as they do on a full collection of the same
types. None of these listing APIs filters by name on the server (ListUsers' ``PathPrefix`` is a
path, not a name), so nothing else is pushed down. CloudTrail's LookupEvents, which moto does
not implement, is covered with botocore's Stubber.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.stub import Stubber

from runbook_guard.cli.pipeline import unfilled_paths
from runbook_guard.collectors import Scope, budgets, cloudtrail, collect, freetier, iam, logs
from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.fills import Shape
from runbook_guard.collectors.journal import Journal
from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.loader import PolicySet, load_policy_set
from runbook_guard.engine.planner import build_plan
from runbook_guard.engine.snapshot import Snapshot
from tests.collectors.pushdown import Calls, everything, policy, run, statuses
from tests.collectors.pushdown import rule as shared_rule

ACCOUNT_ID = "123456789012"
#: user -> statuses of its keys; ``agenticai-*`` are the runbook's, ``other-*`` share the account.
USERS = {
    "agenticai-deployer": ("Active", "Inactive"),
    "agenticai-ci": ("Active",),
    "other-a": ("Active",),
    "other-b": (),
}
BUDGETS = ("agenticai-monthly", "other-budget")
TRAILS = {"agenticai-trail": True, "other-trail": False}  # name -> logging


def rule(rule_id: str, body: str) -> str:
    return shared_rule(rule_id, body, "RB-T01")


#: The runbook's governance rules, each reading a few keys of the resources it names.
NARROW = [
    rule(
        "t.single-key",
        """
resource: aws.iam.user
select: {names: [agenticai-deployer]}
expect: {path: "length(AccessKeys[?Status == 'Active'])", le: 1}
""",
    ),
    rule(
        "t.key-age",
        """
resource: aws.iam.access_key
select:
  name_matches: "^agenticai-deployer/"
  where: {path: Status, equals: Active}
expect: {path: CreateDate, newer_than: 90}
""",
    ),
    rule(
        "t.budget-alert",
        """
resource: aws.budgets.budget
select: {names: [agenticai-monthly]}
expect: {path: Notifications, any_item: {path: Threshold, equals: 80}}
""",
    ),
    rule(
        "t.trail-logging",
        """
resource: aws.cloudtrail.trail
select: {names: [agenticai-trail]}
expect: {path: Status.IsLogging, equals: true}
""",
    ),
]
#: Rules reading listing fields only (no detail call at all) and the last use of the active
#: keys of every user.
WIDER = [
    rule(
        "t.unused",
        """
resource: aws.iam.access_key
select: {where: {path: Status, equals: Active}}
expect: {path: "LastUsedDate || CreateDate", newer_than: 90}
""",
    ),
    rule(
        "t.budget-type",
        """
resource: aws.budgets.budget
select: {where: {path: BudgetType, equals: COST}}
expect: {path: BudgetLimit.Unit, equals: USD}
""",
    ),
    rule(
        "t.trail-multi",
        """
resource: aws.cloudtrail.trail
expect: {path: IsMultiRegionTrail, equals: true}
""",
    ),
]
#: Users selected by a ``where`` on their keys, which are known only once listed.
KEYED = [
    rule(
        "t.keyed-users",
        """
resource: aws.iam.user
select: {where: {path: "length(AccessKeys)", gt: 0}}
expect: {path: "length(AccessKeys)", le: 1}
""",
    ),
]
#: A rule reading the credential report of one user.
REPORT = [
    rule(
        "t.mfa",
        """
resource: aws.iam.user
select: {names: [agenticai-deployer]}
expect: {path: mfa_active, equals: "true"}
""",
    ),
]


@pytest.fixture(scope="module")
def world(mocked: None) -> dict[str, list[str]]:
    """Users with keys (one inactive), two budgets with an 80 % alert, two trails."""
    client: Any = boto3.client("iam")  # statuses from a table, not literals
    keys: dict[str, list[str]] = {}
    for user, key_statuses in USERS.items():
        client.create_user(UserName=user)
        keys[user] = []
        for status in key_statuses:
            key = client.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
            client.update_access_key(UserName=user, AccessKeyId=key, Status=status)
            keys[user].append(key)
    spending = boto3.client("budgets")
    for name in BUDGETS:
        spending.create_budget(
            AccountId=ACCOUNT_ID,
            Budget={
                "BudgetName": name,
                "BudgetLimit": {"Amount": "25", "Unit": "USD"},
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
            },
            NotificationsWithSubscribers=[
                {
                    "Notification": {
                        "NotificationType": "ACTUAL",
                        "ComparisonOperator": "GREATER_THAN",
                        "Threshold": 80.0,
                        "ThresholdType": "PERCENTAGE",
                    },
                    "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "ops@example.com"}],
                }
            ],
        )
    boto3.client("s3").create_bucket(Bucket="trail-archive")
    trails = boto3.client("cloudtrail")
    for name, logging in TRAILS.items():
        trails.create_trail(Name=name, S3BucketName="trail-archive", IsMultiRegionTrail=logging)
        if logging:
            trails.start_logging(Name=name)
    return keys


def of_type(snapshot: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in snapshot["resources"] if r["type"] == resource_type}


Observed = tuple[PolicySet, dict[str, Any], Calls, dict[str, Any], Calls]


def observe(
    rules: list[str], path: Path, hooked: Callable[..., Any]
) -> tuple[PolicySet, dict[str, Any], Calls, dict[str, Any], Calls]:
    policy_set = policy(path, rules)
    plan = build_plan(policy_set.compile(), {})
    return (policy_set, *run(plan, hooked), *run(everything(plan), hooked))


@pytest.fixture(scope="module")
def narrow(
    world: dict[str, list[str]], tmp_path_factory: pytest.TempPathFactory, hooked: Any
) -> Observed:
    return observe(NARROW, tmp_path_factory.mktemp("narrow"), hooked)


@pytest.fixture(scope="module")
def wider(
    world: dict[str, list[str]], tmp_path_factory: pytest.TempPathFactory, hooked: Any
) -> Observed:
    return observe(WIDER, tmp_path_factory.mktemp("wider"), hooked)


@pytest.fixture(scope="module")
def keyed(
    world: dict[str, list[str]], tmp_path_factory: pytest.TempPathFactory, hooked: Any
) -> Observed:
    return observe(KEYED, tmp_path_factory.mktemp("keyed"), hooked)


@pytest.fixture(scope="module")
def report(
    world: dict[str, list[str]], tmp_path_factory: pytest.TempPathFactory, hooked: Any
) -> Observed:
    return observe(REPORT, tmp_path_factory.mktemp("report"), hooked)


def test_the_rules_decide_as_on_a_full_collection(
    narrow: Observed,
    wider: Observed,
    keyed: Observed,
    report: Observed,
    world: dict[str, list[str]],
) -> None:
    for policy_set, limited, _, full, _ in (narrow, wider, keyed, report):
        assert limited["errors"] == []
        assert full["errors"] == []
        assert statuses(policy_set, limited) == statuses(policy_set, full)
    active, inactive = world["agenticai-deployer"]
    decided = statuses(narrow[0], narrow[1])
    assert decided[("t.single-key", "agenticai-deployer")] == "pass"
    assert decided[("t.key-age", f"agenticai-deployer/{active}")] == "pass"
    assert ("t.key-age", f"agenticai-deployer/{inactive}") not in decided
    assert decided[("t.budget-alert", "agenticai-monthly")] == "pass"
    assert decided[("t.trail-logging", "agenticai-trail")] == "pass"
    wide = statuses(wider[0], wider[1])
    assert wide[("t.trail-multi", "other-trail")] == "fail"
    keyed_users = statuses(keyed[0], keyed[1])
    assert keyed_users[("t.keyed-users", "agenticai-deployer")] == "fail"  # two keys
    assert ("t.keyed-users", "other-b") not in keyed_users  # no keys: not selected
    assert statuses(report[0], report[1]) == {("t.mfa", "agenticai-deployer"): "fail"}


def test_only_selected_users_get_per_user_calls(
    narrow: Observed, world: dict[str, list[str]]
) -> None:
    _, snapshot, calls, _, full_calls = narrow
    # The deployer's keys are read (AccessKeys, and the key rule's prefix): its calls alone.
    assert [p["UserName"] for p in calls.of("ListAccessKeys")] == ["agenticai-deployer"]
    asked = sorted(p["AccessKeyId"] for p in calls.of("GetAccessKeyLastUsed"))
    assert asked == sorted(world["agenticai-deployer"])
    # Every user is still listed (a named one missing stays provable); one detailed.
    users = of_type(snapshot, iam.USER)
    assert set(users) == set(USERS)
    assert [k["Status"] for k in users["agenticai-deployer"]["data"]["AccessKeys"]] == [
        "Active",
        "Inactive",
    ]
    assert set(users["other-a"]["data"]) <= set(iam.USER_FIELDS)
    # The full collection lists every user's keys: the test is not vacuous.
    assert sorted(p["UserName"] for p in full_calls.of("ListAccessKeys")) == sorted(USERS)


def test_the_key_listing_is_complete_for_its_prefixes_only(narrow: Observed) -> None:
    _, snapshot, _, full, _ = narrow
    keys = of_type(snapshot, iam.ACCESS_KEY)
    assert {name.split("/")[0] for name in keys} == {"agenticai-deployer"}
    coverage = {c["type"]: c for c in snapshot["coverage"]}
    assert coverage[iam.ACCESS_KEY] == {
        "type": iam.ACCESS_KEY,
        "account": ACCOUNT_ID,
        "region": "global",
        "complete": True,
        "prefixes": ["agenticai-deployer/"],
    }
    assert "prefixes" not in coverage[iam.USER]
    full_coverage = {c["type"]: c for c in full["coverage"]}
    assert "prefixes" not in full_coverage[iam.ACCESS_KEY]
    assert {name.split("/")[0] for name in of_type(full, iam.ACCESS_KEY)} == {
        user for user, statuses in USERS.items() if statuses
    }


def test_unselected_resources_are_listed_but_never_detailed(narrow: Observed) -> None:
    _, snapshot, calls, _, _ = narrow
    assert [p["BudgetName"] for p in calls.of("DescribeNotificationsForBudget")] == [
        "agenticai-monthly"
    ]
    budget_data = of_type(snapshot, budgets.BUDGET)
    assert set(budget_data) == set(BUDGETS)
    assert "Notifications" not in budget_data["other-budget"]["data"]
    trails = of_type(snapshot, cloudtrail.TRAIL)
    assert set(trails) == set(TRAILS)
    assert [p["Name"] for p in calls.of("GetTrailStatus")] == [trails["agenticai-trail"]["id"]]
    assert "Status" not in trails["other-trail"]["data"]


def test_operations_no_rule_reads_are_not_called(
    narrow: Observed, wider: Observed, report: Observed
) -> None:
    report_calls = {"GenerateCredentialReport", "GetCredentialReport"}
    assert not report_calls & narrow[2].operations()
    assert not report_calls & wider[2].operations()
    assert report_calls <= narrow[4].operations()  # the full collection does ask
    # Budget types, multi-region flags: the listings carry them.
    assert not {"DescribeNotificationsForBudget", "GetTrailStatus"} & wider[2].operations()
    # The report alone: no key of anyone.
    assert report_calls <= report[2].operations()
    assert not {"ListAccessKeys", "GetAccessKeyLastUsed"} & report[2].operations()
    users = of_type(report[1], iam.USER)
    assert users["agenticai-deployer"]["data"]["mfa_active"] == "false"
    assert iam.REPORT_TIME in users["agenticai-deployer"]["data"]
    assert "mfa_active" not in users["other-a"]["data"]  # listed, not selected


def test_last_use_is_asked_for_selected_keys_only(
    wider: Observed, world: dict[str, list[str]]
) -> None:
    """``where: Status == Active`` reads a listing field: the inactive key gets no call."""
    _, snapshot, calls, _, _ = wider
    active = {
        key
        for user, ids in world.items()
        for key, s in zip(ids, USERS[user], strict=True)
        if s == "Active"
    }
    assert {p["AccessKeyId"] for p in calls.of("GetAccessKeyLastUsed")} == active
    [inactive] = [
        k for k in of_type(snapshot, iam.ACCESS_KEY).values() if k["data"]["Status"] != "Active"
    ]
    assert "LastUsedService" not in inactive["data"]


def test_a_where_on_access_keys_keeps_every_user_until_their_keys_are_listed(
    keyed: Observed,
) -> None:
    """The users' rule selects by ``AccessKeys``, which ListAccessKeys fills after selection:
    no user is dropped for keys not yet listed."""
    _, snapshot, calls, _, _ = keyed
    assert sorted(p["UserName"] for p in calls.of("ListAccessKeys")) == sorted(USERS)
    users = of_type(snapshot, iam.USER)
    assert users["other-b"]["data"]["AccessKeys"] == []


def test_ids_do_not_depend_on_which_details_ran(
    narrow: Observed, wider: Observed, keyed: Observed, report: Observed
) -> None:
    for _, limited, _, full, _ in (narrow, wider, keyed, report):
        ids = {r["id"]: (r["type"], r["name"]) for r in full["resources"]}
        for resource in limited["resources"]:
            assert ids[resource["id"]] == (resource["type"], resource["name"])


def test_collected_keys_are_what_ran(narrow: Observed, wider: Observed, report: Observed) -> None:
    keys = {t: set(k) for t, k in narrow[1]["metadata"]["collected_keys"].items()}
    assert keys[iam.USER] == {*iam.USER_FIELDS, "AccessKeys"}
    assert keys[iam.ACCESS_KEY] == {*iam.KEY_FIELDS, *iam.LAST_USED}
    assert "Notifications" in keys[budgets.BUDGET]
    assert {"Status", "IsMultiRegionTrail"} <= keys[cloudtrail.TRAIL]
    wide = {t: set(k) for t, k in wider[1]["metadata"]["collected_keys"].items()}
    assert "Notifications" not in wide[budgets.BUDGET]
    assert "Status" not in wide[cloudtrail.TRAIL]
    assert not set(iam.REPORT_KEYS) & wide[iam.USER]
    assert set(iam.REPORT_KEYS) <= set(report[1]["metadata"]["collected_keys"][iam.USER])


def test_the_shipped_pack_reads_only_declared_keys_of_these_types() -> None:
    mine = {
        iam.USER, iam.ACCESS_KEY, budgets.BUDGET, cloudtrail.TRAIL, cloudtrail.EVENT,
        freetier.USAGE,
    }  # fmt: skip
    rules = [r for r in load_policy_set().compile() if set(r.reads) & mine]
    assert {t for r in rules for t in r.reads} >= mine
    assert unfilled_paths(rules) == []


def test_declared_keys_are_members_of_the_answers() -> None:
    """Keys copied by name from an answer exist in botocore's model of it (a typo would be a
    key declared but never filled)."""
    assert set(iam.USER_FIELDS) <= Shape("iam", "ListUsers", ("Users[]",)).keys()
    assert set(iam.KEY_FIELDS) == Shape("iam", "ListAccessKeys", ("AccessKeyMetadata[]",)).keys()
    # A user's listing is ListUsers' fields: AccessKeys come later, from ListAccessKeys.
    assert iam.API.listing_keys(iam.USER) == frozenset(iam.USER_FIELDS)
    assert set(cloudtrail.EVENT_FIELDS) <= Shape("cloudtrail", "LookupEvents", ("Events[]",)).keys()
    assert "CloudTrailEvent" not in cloudtrail.EVENTS_API.listing_keys(cloudtrail.EVENT)
    assert {"BudgetType", "BudgetLimit", "CalculatedSpend"} <= budgets.API.listing_keys(
        budgets.BUDGET
    )
    assert "Notifications" not in budgets.API.listing_keys(budgets.BUDGET)
    assert "Status" not in cloudtrail.TRAILS_API.listing_keys(cloudtrail.TRAIL)
    assert {"limit", "actualUsageAmount"} <= freetier.API.listing_keys(freetier.USAGE)
    assert freetier.API.operations == freetier.API.listings  # a listing, no detail call


def test_low_rate_operations_declare_their_limits() -> None:
    assert iam.API.caps == dict.fromkeys(iam.API.operations, iam.IN_FLIGHT)
    assert budgets.API.caps == dict.fromkeys(budgets.API.operations, budgets.IN_FLIGHT)
    assert cloudtrail.EVENTS_API.rates == {"LookupEvents": 2.0}
    assert logs.EVENTS_API.rates == {"FilterLogEvents": 5.0}


# --- CloudTrail events, through Stubber (moto has no LookupEvents) --------------------------

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def lookup(hours: list[int]) -> tuple[Call, Stubber]:
    client = boto3.client(
        "cloudtrail", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    options: dict[str, list[Any]] = {"event_names": ["DeleteTable"], "window_hours": list(hours)}
    call = Call(
        cloudtrail.EVENTS_API,
        client,
        Journal(),
        ACCOUNT_ID,
        "us-east-1",
        cloudtrail.EVENT,
        options,
        NOW,
    )
    return call, Stubber(client)


def test_a_window_beyond_the_event_history_is_looked_up_for_90_days_and_incomplete() -> None:
    """LookupEvents sees 90 days: a wider window is asked for those, and the listing says it
    is incomplete (with an error why), so "no DeleteTable" cannot pass on 90 days alone."""
    call, stub = lookup([24, 24 * 120])
    expected = {
        "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "DeleteTable"}],
        "StartTime": NOW - timedelta(days=90),
        "EndTime": NOW,
    }
    stub.add_response("lookup_events", {"Events": []}, expected)
    with stub:
        assert cloudtrail.collect_events(call, {}) == []
        stub.assert_no_pending_responses()
    [error] = call.journal.errors
    assert (error["code"], error["resource_type"]) == ("WindowBeyondEventHistory", cloudtrail.EVENT)
    assert call.journal.coverage == {(cloudtrail.EVENT, ACCOUNT_ID, "us-east-1"): False}


def test_a_window_within_the_history_is_looked_up_whole() -> None:
    call, stub = lookup([24 * 90])
    expected = {
        "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "DeleteTable"}],
        "StartTime": NOW - timedelta(days=90),
        "EndTime": NOW,
    }
    stub.add_response("lookup_events", {"Events": []}, expected)
    with stub:
        assert cloudtrail.collect_events(call, {}) == []
    assert call.journal.errors == []
    assert call.journal.coverage == {}


def test_denied_list_users_without_the_report_leaves_users_unlisted_not_unasked(
    world: dict[str, list[str]], tmp_path: Path, hooked: Callable[..., Any]
) -> None:
    """No rule reads the report, so nothing else lists users: both listings are incomplete,
    and the user rule is an error naming the denied listing, never "collect again" (the
    keys it reads were asked for; the failure explains them)."""

    def denied(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = {"Error": {"Code": "AccessDenied", "Message": "not allowed"}}
        return AWSResponse("https://example.invalid", 403, HTTPHeaders(), None), parsed

    policy_set = policy(tmp_path, NARROW)
    plan = build_plan(policy_set.compile(), {})
    factory = hooked(("before-call.iam.ListUsers", denied))
    snapshot = collect(plan, Scope(max_attempts=1, quiet=True, session_factory=factory))
    assert not of_type(snapshot, iam.USER)
    complete = {c["type"]: c["complete"] for c in snapshot["coverage"]}
    assert complete[iam.USER] is False
    assert complete[iam.ACCESS_KEY] is False
    assert "AccessKeys" in snapshot["metadata"]["collected_keys"][iam.USER]
    now = datetime.now(timezone.utc)
    results = evaluate_rules(policy_set.compile(), Snapshot(snapshot), now, policy_set.tables)
    [single] = [r for r in results if r["rule"] == "t.single-key"]
    assert single["status"] == "error"
    assert "iam:ListUsers" in single["message"]
