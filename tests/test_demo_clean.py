"""The demo is clean: no error it did not seed, and every stand-in answers as AWS would.

The first part runs the real ``runbook-guard demo`` once, in a subprocess (a fresh process, so
moto's state holds the demo's stack alone), and reads what it wrote. The second proves each
stand-in (``demo/missing_operations.py``) through the real collectors on a server with
stand-ins: each answer must pass the collectors' shape checks (a malformed answer would be an
``UnexpectedShape`` error in the snapshot) and be read into the data the rules judge. The last
part proves the layer itself refuses what AWS would never send.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from werkzeug.test import Client

from runbook_guard.collectors import Scope, collect
from runbook_guard.demo import story
from runbook_guard.demo.missing_operations import MissingOperations
from runbook_guard.demo.server import DUMMY_ENV, moto_server, reset
from runbook_guard.demo.stack import Seeded
from runbook_guard.demo.standins import CONTROL, RESET, StandIns, seed
from runbook_guard.demo.wire import problems, service_model
from runbook_guard.engine.plan import CollectionPlan

PREFIX = "agenticai"
ACCOUNT = "123456789012"
#: The errors the demo seeds on purpose, as (rule, resource name): none.
SEEDED_ERRORS: list[tuple[str, str | None]] = []
#: Variables that would send the demo or the tests to a real endpoint or profile.
UNSET = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE")
STATUSES = ("fail", "error", "warn", "note", "waived", "manual", "pass", "not_applicable")
EVENT, USAGE, TABLE = "aws.cloudtrail.event", "aws.freetier.usage", "aws.dynamodb.table"


@pytest.fixture(scope="module")
def environment() -> Iterator[None]:
    """Dummy credentials and no endpoint, for the module (as test_demo_violations does)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in DUMMY_ENV.items():
            patch.setenv(name, value)
        for name in UNSET:
            patch.delenv(name, raising=False)
        yield


# --- The demo, run once -----------------------------------------------------------------------


@dataclass(frozen=True)
class DemoRun:
    printed: str
    snapshot: dict[str, Any]
    results: list[dict[str, Any]]

    def of(self, rule: str) -> dict[str, str]:
        """Resource name -> status of one rule's results."""
        found = [r for r in self.results if r["rule"] == rule]
        return {(r["resource"] or {}).get("name") or "(rule)": r["status"] for r in found}


@pytest.fixture(scope="module")
def demo(environment: None, tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    out = tmp_path_factory.mktemp("demo")
    command = [sys.executable, "-m", "runbook_guard", "demo", "--output-dir", str(out)]
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())["results"]
    snapshot = json.loads((out / "snapshot.json").read_text())
    return DemoRun(done.stdout + done.stderr, snapshot, results)


@pytest.mark.slow
def test_the_demo_gives_no_error_it_did_not_seed(demo: DemoRun) -> None:
    errors = sorted(
        (r["rule"], (r["resource"] or {}).get("name"))
        for r in demo.results
        if r["status"] == "error"
    )
    assert errors == SEEDED_ERRORS


@pytest.mark.slow
def test_the_demo_snapshot_has_no_collection_error(demo: DemoRun) -> None:
    assert demo.snapshot["errors"] == []
    assert [c for c in demo.snapshot["coverage"] if not c["complete"]] == []
    assert "collection error" not in demo.printed
    assert "Unable to find appropriate backend" not in demo.printed  # moto's Free Tier gap
    assert "Traceback" not in demo.printed


@pytest.mark.slow
def test_the_demo_tells_the_story_through_the_stand_ins(demo: DemoRun) -> None:
    """The stand-ins' data decides rules, in both directions: not a blanket pass."""
    # The month's destructive calls warn; the DeleteTable 45 days ago is outside the month.
    assert demo.of("cloudtrail.destructive-events") == {
        "DeleteBackup": "warn",
        "PurgeQueue": "warn",
    }
    usage = demo.of("freetier.usage")
    assert usage.pop("AWS Lambda Global-Lambda-GB-Second") == "note"  # 74 %
    assert len(usage) == len(story.OFFERS) - 1
    assert set(usage.values()) == {"pass"}
    assert demo.of("dynamodb.contributor-insights") == {f"{PREFIX}-data": "warn"}  # never enabled
    assert demo.of("dynamodb.recent-export") == {f"{PREFIX}-data": "pass"}  # ExportTime now
    [account] = [r for r in demo.results if r["rule"] == "lambda.concurrent-executions"]
    assert account["evidence"]["account concurrency limit"] == 1000
    assert account["evidence"]["unreserved concurrency limit"] == 1000 - 3 * 5


# --- Each stand-in, through the real collectors -----------------------------------------------


@pytest.fixture(scope="module")
def endpoint(environment: None) -> Iterator[str]:
    with moto_server(stand_ins=True) as url, pytest.MonkeyPatch.context() as patch:
        reset(url)  # moto's state is per process: start from nothing whatever ran before
        patch.setenv("AWS_ENDPOINT_URL", url)
        yield url


def client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1")  # type: ignore[call-overload]


def collected(resource_type: str, page_size: int | None = None, **options: Any) -> dict[str, Any]:
    """A collection of one type, one attempt per call: a stand-in's 500 would be an error."""
    plan = CollectionPlan(parameters={"prefix": PREFIX})
    plan.request(resource_type).options.update(options)
    scope = Scope(regions=["us-east-1"], quiet=True, max_attempts=1, page_size=page_size)
    snapshot = collect(plan, scope)
    assert snapshot["errors"] == []  # every answer passed the collectors' shape checks
    assert {c["complete"] for c in snapshot["coverage"] if c["type"] == resource_type} == {True}
    return snapshot


def of_type(snapshot: Mapping[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in snapshot["resources"] if r["type"] == resource_type]


NOW = datetime.now(timezone.utc).replace(microsecond=0)
API_HANDLER = f"{PREFIX}-stack-ApiHandler-6CB38F82"


def history() -> list[story.Call]:
    return story.history(Seeded([PREFIX], [API_HANDLER]), ACCOUNT, "us-east-1", NOW)


@pytest.fixture(scope="module")
def storied(endpoint: str) -> str:
    story.seed_story(endpoint, Seeded([PREFIX], [API_HANDLER]), now=NOW)
    return endpoint


@pytest.mark.parametrize("page_size", [None, 1], ids=["one page", "a page per event"])
def test_lookup_events_become_the_month_s_events(storied: str, page_size: int | None) -> None:
    names = ["DeleteTable", "DeleteBackup", "PurgeQueue", "CreateBackup", "DeleteBucket"]
    snapshot = collected(EVENT, page_size, event_names=names, window_hours=[720])
    events = {r["name"]: r["data"] for r in of_type(snapshot, EVENT)}
    assert sorted(events) == ["CreateBackup", "DeleteBackup", "PurgeQueue"]  # not 45 days ago
    purge = events["PurgeQueue"]
    assert purge["EventTime"] == (NOW - timedelta(days=2)).isoformat()
    assert purge["Username"] == "maria@example.com"
    assert purge["Resources"][0]["ResourceName"].endswith(f"/{ACCOUNT}/{PREFIX}-dev-dlq")
    assert "CloudTrailEvent" not in purge  # the request parameters never reach a snapshot


def test_lookup_events_reach_back_90_days_and_no_further(storied: str) -> None:
    snapshot = collected(EVENT, event_names=["DeleteTable"], window_hours=[90 * 24])
    assert [r["name"] for r in of_type(snapshot, EVENT)] == ["DeleteTable"]  # 45 days ago
    answer = client("cloudtrail").lookup_events(StartTime=NOW - timedelta(days=400), EndTime=NOW)
    assert len(answer["Events"]) == len(history())
    times = [e["EventTime"] for e in answer["Events"]]
    assert times == sorted(times, reverse=True)  # newest first, as CloudTrail answers


def test_both_histories_come_a_page_at_a_time(storied: str) -> None:
    """A page holds what was asked and a token leads on; a stand-in answering everything at
    once would pass the collections above without proving their pagination."""
    trail = client("cloudtrail")
    first = trail.lookup_events(MaxResults=2)
    second = trail.lookup_events(MaxResults=2, NextToken=first["NextToken"])
    ids = [e["EventId"] for e in first["Events"] + second["Events"]]
    assert len(first["Events"]) == len(second["Events"]) == 2
    assert len(set(ids)) == 4
    usage = client("freetier")
    pages = [usage.get_free_tier_usage(maxResults=3)]
    while "nextToken" in pages[-1]:
        pages.append(usage.get_free_tier_usage(maxResults=3, nextToken=pages[-1]["nextToken"]))
    assert [len(p["freeTierUsages"]) for p in pages] == [3, 3, 1]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (
            {"LookupAttributes": [
                {"AttributeKey": "EventName", "AttributeValue": "DeleteTable"},
                {"AttributeKey": "Username", "AttributeValue": "x"},
            ]},
            "InvalidLookupAttributesException",
        ),
        ({"MaxResults": 51}, "InvalidMaxResultsException"),
        ({"NextToken": "not-a-token"}, "InvalidNextTokenException"),
        ({"StartTime": NOW, "EndTime": NOW - timedelta(days=1)}, "InvalidTimeRangeException"),
    ],
    ids=["two attributes", "51 a page", "a made-up token", "start after end"],
)  # fmt: skip
def test_lookup_events_refuses_what_cloudtrail_refuses(
    storied: str, params: dict[str, Any], code: str
) -> None:
    with pytest.raises(ClientError) as refused:
        client("cloudtrail").lookup_events(**params)
    assert refused.value.response["Error"]["Code"] == code
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_free_tier_usage_becomes_one_resource_per_offer(storied: str) -> None:
    snapshot = collected(USAGE, page_size=3)  # three pages of the seven offers
    offers = {r["name"]: r for r in of_type(snapshot, USAGE)}
    assert len(offers) == len(story.OFFERS)
    compute = offers["AWS Lambda Global-Lambda-GB-Second"]
    assert compute["id"] == f"freetier:{ACCOUNT}:AWS Lambda:Global-Lambda-GB-Second:global:"
    assert compute["data"]["actualUsageAmount"] / compute["data"]["limit"] == pytest.approx(0.744)
    lambda_only = {"Key": "SERVICE", "Values": ["AWS Lambda"], "MatchOptions": ["EQUALS"]}
    with pytest.raises(ClientError) as refused:
        client("freetier").get_free_tier_usage(filter={"Dimensions": lambda_only})
    assert refused.value.response["Error"]["Code"] == "ValidationException"  # never ignored


def create_table(name: str, sort_key: bool = False) -> str:
    keys = [("pk", "HASH"), *([("sk", "RANGE")] if sort_key else [])]
    ddb = client("dynamodb")
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
        KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
    )
    return str(ddb.describe_table(TableName=name)["Table"]["TableArn"])


def table_data(name: str) -> dict[str, Any]:
    [table] = [r for r in of_type(collected(TABLE), TABLE) if r["name"] == name]
    data: dict[str, Any] = table["data"]
    return data


def test_contributor_insights_are_disabled_until_enabled(endpoint: str) -> None:
    name = f"{PREFIX}-insights"
    create_table(name, sort_key=True)
    assert table_data(name)["ContributorInsights"] == {
        "TableName": name,
        "ContributorInsightsStatus": "DISABLED",
    }
    enabling = client("dynamodb").update_contributor_insights(
        TableName=name, ContributorInsightsAction="ENABLE"
    )
    assert enabling["ContributorInsightsStatus"] == "ENABLING"
    insights = table_data(name)["ContributorInsights"]
    assert insights["ContributorInsightsStatus"] == "ENABLED"
    assert insights["ContributorInsightsMode"] == "ACCESSED_AND_THROTTLED_KEYS"
    kinds = sorted(rule.split("-")[1] for rule in insights["ContributorInsightsRuleList"])
    assert kinds == ["PKC", "PKT", "SKC", "SKT"]  # the table has a sort key
    with pytest.raises(ClientError) as refused:
        client("dynamodb").describe_contributor_insights(TableName=f"{PREFIX}-no-such-table")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize("days_back", [None, 3], ids=["now", "a point 3 days back"])
def test_an_export_has_its_times(endpoint: str, days_back: int | None) -> None:
    name = f"{PREFIX}-exported-{days_back or 0}"
    arn = create_table(name)
    ddb = client("dynamodb")
    ddb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    client("s3").create_bucket(Bucket=name)
    before = datetime.now(timezone.utc)
    point = {"ExportTime": before - timedelta(days=days_back)} if days_back else {}
    started = ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=name, S3Prefix="weekly", ExportFormat="DYNAMODB_JSON", **point
    )
    # The amended answer keeps DynamoDB's checksum right: a mismatch would retry the export.
    assert started["ResponseMetadata"]["RetryAttempts"] == 0
    [export] = table_data(name)["Exports"]
    assert export["ExportStatus"] == "COMPLETED"
    start = datetime.fromisoformat(export["StartTime"])
    assert before - timedelta(seconds=1) <= start <= datetime.now(timezone.utc)
    assert export["EndTime"] == export["StartTime"]
    expected = point.get("ExportTime", start)
    assert abs(datetime.fromisoformat(export["ExportTime"]) - expected) < timedelta(seconds=1)


def test_lambda_account_settings_follow_the_functions(endpoint: str) -> None:
    role = client("iam").create_role(
        RoleName=f"{PREFIX}-settings-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    lam = client("lambda")
    for kind in ("one", "two"):
        lam.create_function(
            FunctionName=f"{PREFIX}-settings-{kind}",
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": buffer.getvalue()},
        )
    lam.put_function_concurrency(
        FunctionName=f"{PREFIX}-settings-one", ReservedConcurrentExecutions=5
    )
    [account] = of_type(collected("aws.lambda.account"), "aws.lambda.account")
    limit, usage = account["data"]["AccountLimit"], account["data"]["AccountUsage"]
    assert (limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]) == (1000, 995)
    assert usage["FunctionCount"] == 2
    assert usage["TotalCodeSize"] == 2 * len(buffer.getvalue())


def test_the_stand_ins_are_opt_in(storied: str) -> None:
    """moto_server() without stand_ins keeps moto's own answers, which tests elsewhere rely on."""
    once = Config(retries={"total_max_attempts": 1})
    with moto_server() as plain:
        trail = boto3.client("cloudtrail", region_name="us-east-1", endpoint_url=plain, config=once)
        with pytest.raises(ClientError) as refused:
            trail.lookup_events(MaxResults=1)
    assert refused.value.response["Error"]["Code"] == "500"


# --- The layer refuses what AWS would never send ----------------------------------------------

LOOKUP = service_model("cloudtrail").operation_model("LookupEvents")
SIGNED = "AWS4-HMAC-SHA256 Credential=testing/20261202/us-east-1/cloudtrail/aws4_request"


def moto_stand_in(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Where the layer sends what it does not answer: here, only moto's reset."""
    start_response("200 OK", [("Content-Length", "0")])
    return [b""]


def lookup(layer: Client) -> Any:
    target = f"{LOOKUP.service_model.metadata['targetPrefix']}.LookupEvents"
    return layer.post("/", data="{}", headers={"Authorization": SIGNED, "X-Amz-Target": target})


def test_an_answer_not_in_botocore_s_shape_is_named() -> None:
    answer = {"Events": [{"EventTime": "yesterday", "EventName": "DeleteTable", "Bogus": 1}]}
    assert LOOKUP.output_shape is not None
    found = problems(LOOKUP.output_shape, answer)
    assert any("Bogus" in p for p in found)
    assert any("EventTime" in p for p in found)


def test_a_malformed_seed_is_refused_naming_the_member(endpoint: str) -> None:
    bad = {"account": ACCOUNT, "region": "us-east-1",
           "items": [{"EventId": "x", "EventName": "DeleteTable", "EventTime": "soon"}]}  # fmt: skip
    with pytest.raises(ValueError, match="EventTime"):
        seed(endpoint, "cloudtrail/events", bad)
    with pytest.raises(ValueError, match="no stand-in takes"):
        seed(endpoint, "cloudtrail/insights", bad)
    with moto_server() as plain, pytest.raises(ValueError, match="has no stand-ins"):
        seed(plain, "cloudtrail/events", bad)


def test_moto_s_reset_forgets_the_seeded_history() -> None:
    layer = Client(StandIns(moto_stand_in, MissingOperations()))
    events = [story.event(call, ACCOUNT, "us-east-1", NOW) for call in history()]
    payload = {"account": ACCOUNT, "region": "us-east-1", "items": events}
    posted = layer.post(f"{CONTROL}cloudtrail/events", data=json.dumps(payload, default=str))
    assert posted.status_code == 204
    assert len(json.loads(lookup(layer).data)["Events"]) == len(events)
    assert layer.post(RESET).status_code == 200
    assert json.loads(lookup(layer).data) == {"Events": []}


def test_a_stand_in_failure_is_a_500_that_says_so() -> None:
    """A stand-in that breaks answers InternalFailure, which the collectors record: never a
    made-up answer, never an error code the operation does not declare."""

    class Broken(MissingOperations):
        def handlers(self) -> Mapping[tuple[str, str], Any]:
            return {("cloudtrail", "LookupEvents"): lambda request: {"Events": [{"Bogus": 1}]}}

    answered = lookup(Client(StandIns(moto_stand_in, Broken())))
    assert answered.status_code == 500
    body = json.loads(answered.data)
    assert body["__type"] == "InternalFailure"
    assert "Bogus" in body["message"]


@pytest.mark.slow
def test_the_readme_shows_what_the_demo_prints(demo: DemoRun) -> None:
    """The README's demo section holds the demo's counts per status (no error row)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    printed = readme.split("## The demo", 1)[1].split("```", 2)[1]
    shown = {}
    for line in printed.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃|]", line) if c.strip()]
        if cells and cells[0] in STATUSES:
            shown[cells[0]] = int(cells[-1])
    assert shown == dict(Counter(r["status"] for r in demo.results))
