"""Every collector against moto with the runbook's stack, plus enough extra resources that
listings span several pages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from runbook_guard.collectors import Scope, collect
from runbook_guard.demo.compute import MISWIRED
from runbook_guard.demo.observability import LAMBDA_FIGURES, hourly
from runbook_guard.demo.stack import DEFAULT_SECRET, Seeded
from runbook_guard.engine.plan import CollectionPlan

Snapshot = dict[str, Any]
EXTRA_LOG_GROUPS = 55  # the default describe_log_groups page is 50
EXTRA_PARAMETERS = 12
EXTRA_QUEUES = 7


@pytest.fixture(scope="module")
def world(seeded: Seeded) -> Seeded:
    logs = boto3.client("logs")
    for i in range(EXTRA_LOG_GROUPS):
        logs.create_log_group(logGroupName=f"/aws/lambda/other-{i:03d}")
    ssm = boto3.client("ssm")
    for i in range(EXTRA_PARAMETERS):
        ssm.put_parameter(Name=f"/agenticai/extra/p{i:02d}", Value="x", Type="SecureString")
    sqs = boto3.client("sqs")
    for i in range(EXTRA_QUEUES):
        sqs.create_queue(QueueName=f"other-{i}")
    return seeded


@pytest.fixture(scope="module")
def calls() -> Counter[str]:
    return Counter()


@pytest.fixture(scope="module")
def snapshot(
    world: Seeded,
    make_plan: Callable[[], CollectionPlan],
    hooked: Callable[..., Any],
    calls: Counter[str],
) -> Snapshot:
    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    scope = Scope(max_attempts=1, quiet=True, session_factory=hooked(("before-call", count)))
    return collect(make_plan(), scope)


def of_type(snapshot: Snapshot, resource_type: str) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in snapshot["resources"] if r["type"] == resource_type}


def test_snapshot_is_valid_and_sorted(
    snapshot: Snapshot, valid: Callable[[Snapshot], None]
) -> None:
    valid(snapshot)
    keys = [(r["type"], r["account"], r["region"], r["id"]) for r in snapshot["resources"]]
    assert keys == sorted(keys)
    assert snapshot["metadata"]["accounts"] == ["123456789012"]
    assert snapshot["metadata"]["api_calls"] > 50


def test_metadata_records_the_options_collected_for(snapshot: Snapshot) -> None:
    assert snapshot["metadata"]["options"] == {
        "aws.cloudtrail.event": {"event_names": ["DeleteTable"], "window_hours": [168]},
        "aws.dynamodb.table": {"backup_days": [7]},
        "aws.ssm.parameter": {"path": ["/agenticai"]},
    }


def test_recorded_options_are_sorted_by_value_not_by_text(world: Seeded) -> None:
    plan = CollectionPlan()
    plan.request("aws.sqs.queue")  # no options: not recorded
    events = plan.request("aws.cloudtrail.event")
    events.options.update(window_hours=[168, 24, 100], event_names=["DeleteTable", "DeleteBucket"])
    snapshot = collect(plan, Scope(max_attempts=1, quiet=True))
    assert snapshot["metadata"]["options"] == {
        "aws.cloudtrail.event": {
            "event_names": ["DeleteBucket", "DeleteTable"],
            "window_hours": [24, 100, 168],
        }
    }


def test_only_moto_gaps_are_errors(snapshot: Snapshot) -> None:
    failed = {(e["service"], e["operation"], e["code"]) for e in snapshot["errors"]}
    assert failed == {
        ("dynamodb", "DescribeContributorInsights", "NotImplemented"),
        ("cloudtrail", "LookupEvents", "NotImplemented"),
        ("lambda", "GetAccountSettings", "404"),  # moto: "Not yet implemented"
        ("freetier", "GetFreeTierUsage", "EndpointConnectionError"),  # no such moto service
    }
    incomplete = [c["type"] for c in snapshot["coverage"] if not c["complete"]]
    # aws.lambda.account is complete: the (account, region) exists whatever GetAccountSettings
    # answers; its 404 is an error on AccountLimit and AccountUsage only.
    assert incomplete == ["aws.cloudtrail.event", "aws.freetier.usage"]


def test_dynamodb_table(snapshot: Snapshot) -> None:
    table = of_type(snapshot, "aws.dynamodb.table")["agenticai-data"]
    data = table["data"]
    assert table["id"] == data["TableArn"]
    assert data["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    pitr = data["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert data["TimeToLiveDescription"] == {"AttributeName": "ttl", "TimeToLiveStatus": "ENABLED"}
    assert [b["BackupStatus"] for b in data["Backups"]] == ["AVAILABLE"]
    (export,) = data["Exports"]  # the weekly export, merged with DescribeExport's bucket
    assert (export["ExportStatus"], export["S3Bucket"]) == ("COMPLETED", "agenticai-backups")
    assert export["S3Prefix"] == "dynamodb-exports/weekly"
    assert "ContributorInsights" not in data  # moto lacks it; the error says so
    assert table["metrics"] == {"throttled": 7.0}  # the seeded write throttles, worst 5 minutes


def test_s3_not_configured_is_null(snapshot: Snapshot) -> None:
    buckets = of_type(snapshot, "aws.s3.bucket")
    code = buckets["agenticai-generated-code"]
    assert code["region"] == "global"
    assert code["data"]["Versioning"] == {"Status": "Enabled"}
    assert code["data"]["LifecycleConfiguration"]["Rules"][0]["ID"] == "tiering"
    archive = buckets["agenticai-logs-archive"]["data"]
    assert archive["LifecycleConfiguration"] is None
    assert archive["ReplicationConfiguration"] is None
    assert archive["ServerSideEncryptionConfiguration"] is None
    assert archive["Versioning"] == {}
    kms = buckets["agenticai-backups"]["data"]["ServerSideEncryptionConfiguration"]
    assert kms["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_sqs_attributes_are_typed(snapshot: Snapshot) -> None:
    queues = of_type(snapshot, "aws.sqs.queue")
    assert len(queues) == 8 + EXTRA_QUEUES
    pm = queues["agenticai-pm-queue"]
    assert pm["id"] == "arn:aws:sqs:us-east-1:123456789012:agenticai-pm-queue"
    assert pm["data"]["Attributes"]["ApproximateNumberOfMessages"] == 300
    redrive = pm["data"]["Attributes"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"].endswith(":agenticai-pm-dlq")
    assert queues["agenticai-dev-dlq"]["data"]["Attributes"]["ApproximateNumberOfMessages"] == 3
    assert "RedrivePolicy" not in queues["agenticai-ops-queue"]["data"]["Attributes"]


def test_lambda_functions(snapshot: Snapshot) -> None:
    functions = of_type(snapshot, "aws.lambda.function")
    assert len(functions) == 5
    by_kind = {name.split("-")[2]: r for name, r in functions.items()}
    api = by_kind["ApiHandler"]["data"]
    assert api["Environment"]["Variables"]["GEMINI_API_KEY"] == "<redacted>"
    assert set(api["Environment"]["Variables"].values()) == {"<redacted>"}
    assert [a["Name"] for a in api["Aliases"]] == ["live"]
    assert api["Concurrency"] == {}
    assert api["EventSourceMappings"] == []
    ops = by_kind["OpsAgentWorker"]["data"]
    assert ops["TracingConfig"] == {"Mode": "PassThrough"}
    assert ops["Aliases"] == []
    assert ops["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    ops_source = MISWIRED.get("ops", "ops")  # the demo's miswired mapping, if it has one
    [ops_mapping] = ops["EventSourceMappings"]
    assert ops_mapping["EventSourceArn"].endswith(f":agenticai-{ops_source}-queue")
    pm = by_kind["PmAgentWorker"]["data"]
    assert [m["EventSourceArn"].rsplit(":", 1)[1] for m in pm["EventSourceMappings"]] == [
        "agenticai-pm-queue"
    ]
    assert by_kind["QaAgentWorker"]["data"]["Runtime"] == "python3.9"
    invocations, errors, duration, concurrency = LAMBDA_FIGURES["DevAgentWorker"]
    assert by_kind["DevAgentWorker"]["metrics"] == {
        "errors": errors,
        "invocations": invocations,
        "max_duration": duration,
        "concurrency": concurrency,
    }
    assert DEFAULT_SECRET not in repr(snapshot)


def test_log_groups_and_counts(snapshot: Snapshot) -> None:
    groups = of_type(snapshot, "aws.logs.log_group")
    assert len(groups) == 6 + EXTRA_LOG_GROUPS
    api = next(g for n, g in groups.items() if "ApiHandler" in n)
    assert api["logs"] == {"errors": 2}
    assert api["data"]["retentionInDays"] == 7
    assert not api["id"].endswith(":*")
    dev = next(g for n, g in groups.items() if "DevAgentWorker" in n)
    assert "retentionInDays" not in dev["data"]
    assert dev["logs"] == {"errors": 0}
    assert "logs" not in groups["/aws/lambda/other-000"]  # not selected by the query
    assert groups["/ecs/agenticai-websocket"]["data"]["retentionInDays"] == 14


def test_cloudwatch_alarms_and_dashboard(snapshot: Snapshot) -> None:
    alarms = of_type(snapshot, "aws.cloudwatch.alarm")
    assert alarms["agenticai-dev-dlq-messages"]["data"]["StateValue"] == "ALARM"
    assert alarms["agenticai-pm-queue-depth"]["data"]["AlarmType"] == "MetricAlarm"
    assert alarms["agenticai-api-5xx"]["data"]["AlarmActions"]
    dashboard = of_type(snapshot, "aws.cloudwatch.dashboard")["agenticai-dashboard"]
    widgets = dashboard["data"]["DashboardBody"]["widgets"]
    namespaces = {w["properties"]["metrics"][0][0] for w in widgets}
    assert namespaces == {"AWS/ApiGateway", "AWS/Lambda", "AWS/DynamoDB", "AWS/SQS"}


def test_apigateway_ecs_ssm_trail_iam_budget(snapshot: Snapshot) -> None:
    api = of_type(snapshot, "aws.apigateway.rest_api")["agenticai-api"]
    assert api["id"].startswith("arn:aws:apigateway:us-east-1::/restapis/")
    prod = api["data"]["Stages"][0]
    assert prod["stageName"] == "prod"
    assert prod["tracingEnabled"] is True
    day = hourly()  # the demo's hourly profile of the API: (hours ago, calls, errors)
    assert api["metrics"] == {
        "errors_5xx": sum(errors for _, _, errors in day),
        "count": sum(calls for _, calls, _ in day),
    }
    service = of_type(snapshot, "aws.ecs.service")["agenticai-websocket"]
    assert service["data"]["clusterName"] == "agenticai-cluster"
    assert service["data"]["runningCount"] >= service["data"]["desiredCount"] == 1
    assert "agenticai-cluster" in of_type(snapshot, "aws.ecs.cluster")
    parameters = of_type(snapshot, "aws.ssm.parameter")
    assert len(parameters) == 2 + EXTRA_PARAMETERS
    key = parameters["/agenticai/gemini-api-key"]
    assert key["id"] == "arn:aws:ssm:us-east-1:123456789012:parameter/agenticai/gemini-api-key"
    assert key["data"]["Type"] == "SecureString"
    assert "Value" not in key["data"]
    trail = of_type(snapshot, "aws.cloudtrail.trail")["agenticai-trail"]
    assert trail["data"]["Status"]["IsLogging"] is True
    user = of_type(snapshot, "aws.iam.user")["agenticai-deployer"]
    assert user["region"] == "global"
    assert [k["Status"] for k in user["data"]["AccessKeys"]] == ["Active", "Active"]
    assert user["data"]["password_enabled"] in ("false", "N/A")
    keys = of_type(snapshot, "aws.iam.access_key")
    assert len(keys) == 2
    assert all("LastUsedDate" not in k["data"] for k in keys.values())
    budget = of_type(snapshot, "aws.budgets.budget")["agenticai-monthly"]
    assert budget["data"]["Notifications"][0]["Threshold"] == 80.0


def test_listings_follow_pages(calls: Counter[str]) -> None:
    """55 extra log groups exceed one 50-group page with the default page size."""
    assert calls["DescribeLogGroups"] >= 2


def test_event_source_mappings_are_listed_once_per_region(calls: Counter[str]) -> None:
    """One region-wide listing, not one per function (which would also miss alias mappings)."""
    assert calls["ListEventSourceMappings"] == 1
    assert calls["ListFunctions"] == 1


def test_network_and_deploy_types_are_listed(snapshot: Snapshot) -> None:
    groups = of_type(snapshot, "aws.ec2.security_group")
    assert groups, "moto's default VPC has a default security group"
    for group_id, group in groups.items():
        assert group["id"].endswith(f":security-group/{group_id}")
        assert group["data"]["GroupId"] == group_id
    assert of_type(snapshot, "aws.codedeploy.deployment_group") == {}
    complete = {c["type"]: c["complete"] for c in snapshot["coverage"]}
    assert complete["aws.ec2.security_group"] is True
    assert complete["aws.codedeploy.deployment_group"] is True  # none, and listed completely


def test_small_pages_give_the_same_snapshot(
    snapshot: Snapshot, make_plan: Callable[[], CollectionPlan], hooked: Callable[..., Any]
) -> None:
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    scope = Scope(
        max_attempts=1, quiet=True, page_size=5, session_factory=hooked(("before-call", count))
    )
    small = collect(make_plan(), scope)
    for operation in ("ListQueues", "DescribeParameters", "DescribeLogGroups", "ListAliases"):
        assert calls[operation] >= 2, operation

    # moto makes up some times at each call (trail delivery, PITR latest restorable time), so
    # compare what listing and enrichment decide: which resources, which keys, which values.
    def shape(s: Snapshot) -> list[Any]:
        return [
            (r["type"], r["id"], sorted(r["data"]), r.get("metrics"), r.get("logs"))
            for r in s["resources"]
        ]

    assert shape(small) == shape(snapshot)
    assert {e["operation"] for e in small["errors"]} == {e["operation"] for e in snapshot["errors"]}
