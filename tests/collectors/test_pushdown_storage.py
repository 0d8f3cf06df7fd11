"""Field-level collection of the storage collectors: DynamoDB, S3, SQS, CloudWatch Logs, SSM.

Small rule sets are loaded from a policy folder and planned by the real planner; the real
collectors then run against moto (the runbook's stack plus resources no rule selects) with a
``before-parameter-build`` hook on the collecting session recording every API call with its
parameters as the collector passed them (``before-call`` sees them already serialized). The
call log proves what the plan promises: no detail call for a resource no rule selects, no call
of an operation whose keys no rule reads, the rules' name prefixes sent to the server where the
listing API filters by them (and recorded in the coverage), and the same decisions as a full
collection of the same types, evaluated with the same rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest

from runbook_guard.collectors import Scope, collect
from runbook_guard.collectors.fills import Shape
from runbook_guard.demo.stack import Seeded
from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.plan import CollectionPlan
from runbook_guard.engine.planner import build_plan
from runbook_guard.engine.snapshot import Snapshot as IndexedSnapshot
from tests.collectors.test_faults import denied

TABLE, BUCKET, QUEUE = "aws.dynamodb.table", "aws.s3.bucket", "aws.sqs.queue"
LOG_GROUP, PARAMETER = "aws.logs.log_group", "aws.ssm.parameter"
ACCOUNT, REGION = "123456789012", "us-east-1"

#: Rules naming their resources: every listing that can filter on the server does.
NAMED = """
rules:
  - id: t.table-pitr
    title: PITR on the data table
    covers: [RB-B01]
    section: Test
    cadence: daily
    severity: high
    resource: aws.dynamodb.table
    select: {names: [agenticai-data]}
    expect:
      path: ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus
      equals: ENABLED
  - id: t.bucket-versioning
    title: Versioning on the code and backup buckets
    covers: [RB-B03]
    section: Test
    cadence: daily
    severity: high
    resource: aws.s3.bucket
    select: {name_matches: "^agenticai-[gb]"}
    expect: {path: Versioning.Status, if_absent: never enabled, equals: Enabled}
  - id: t.queue-redrive
    title: The pm queue redrives to its DLQ
    covers: [RB-I01]
    section: Test
    cadence: weekly
    severity: high
    resource: aws.sqs.queue
    select: {names: [agenticai-pm-queue]}
    related:
      dlq: {type: aws.sqs.queue, name: agenticai-pm-dlq}
    expect:
      path: Attributes.RedrivePolicy.deadLetterTargetArn
      equals: {related: dlq, path: id}
  - id: t.lambda-log-retention
    title: The functions' log groups expire
    covers: [RB-X01]
    section: Test
    cadence: weekly
    severity: medium
    resource: aws.logs.log_group
    select: {name_matches: "^/aws/lambda/agenticai"}
    expect: {path: retentionInDays, exists: true}
  - id: t.parameter-secure
    title: The named parameters are SecureStrings
    covers: [RB-B06]
    section: Test
    cadence: weekly
    severity: high
    resource: aws.ssm.parameter
    select: {names: [/agenticai/config/model, /agenticai/gone]}
    expect: {path: Type, equals: SecureString}
"""

#: Rules over whole types or by patterns without a literal start: nothing to push to the
#: server, so the selection is applied to the listing, client-side.
WHOLE = """
rules:
  - id: t.dlq-depth
    title: Dead-letter queues are nearly empty
    covers: [RB-I02]
    section: Test
    cadence: daily
    severity: high
    resource: aws.sqs.queue
    select: {name_matches: "-dlq$"}
    expect: {path: Attributes.ApproximateNumberOfMessages, le: 10}
  - id: t.table-ttl
    title: TTL on every table but the orders one
    covers: [RB-M01]
    section: Test
    cadence: weekly
    severity: low
    resource: aws.dynamodb.table
    select:
      where: {path: TableName, not_equals: zz-orders}
    expect: {path: TimeToLiveDescription.TimeToLiveStatus, equals: ENABLED}
  - id: t.data-tables-pitr
    title: PITR on the data tables
    covers: [RB-B01]
    section: Test
    cadence: daily
    severity: high
    resource: aws.dynamodb.table
    select: {name_matches: "-data$"}
    expect:
      path: ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus
      equals: ENABLED
  - id: t.bucket-lifecycle
    title: Every bucket has lifecycle rules
    covers: [RB-C02]
    section: Test
    cadence: monthly
    severity: low
    resource: aws.s3.bucket
    expect: {path: LifecycleConfiguration.Rules, not_empty: true}
  - id: t.log-retention
    title: Every log group expires
    covers: [RB-X01]
    section: Test
    cadence: weekly
    severity: medium
    resource: aws.logs.log_group
    expect: {path: retentionInDays, exists: true}
"""

#: A rule reading a key only DescribeTable fills.
DESCRIBED = """
rules:
  - id: t.table-active
    title: The data table is active
    covers: [RB-B01]
    section: Test
    cadence: daily
    severity: high
    resource: aws.dynamodb.table
    select: {names: [agenticai-data]}
    expect: {path: TableStatus, equals: ACTIVE}
"""

#: A selection on the bucket's region, which moto's ListBuckets does not answer.
IN_EUROPE = """
rules:
  - id: t.eu-bucket-versioning
    title: Versioning on the buckets in Ireland
    covers: [RB-B03]
    section: Test
    cadence: daily
    severity: high
    resource: aws.s3.bucket
    select:
      where: {path: BucketRegion, equals: eu-west-1}
    expect: {path: Versioning.Status, if_absent: never enabled, equals: Enabled}
"""

#: Resources no rule above names, beside the runbook's stack.
UNRELATED_QUEUES = ("zz-unrelated-queue", "zz-unrelated-dlq", "agenticai-pm-queue-shadow")

Call = tuple[str, dict[str, Any]]


@pytest.fixture(scope="module")
def unrelated(seeded: Seeded) -> None:
    """A table, bucket, queues, log group and parameter that the NAMED rules do not select."""
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="zz-orders",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="zz-unrelated-assets")
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="zz-eu-archive", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    sqs = boto3.client("sqs", region_name=REGION)
    for name in UNRELATED_QUEUES:
        sqs.create_queue(QueueName=name)
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="/unrelated/app")
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/unrelated/flag", Value="on", Type="String"
    )


@dataclass
class Collected:
    """One rule set collected twice: as planned (with its call log) and in full."""

    planned: dict[str, Any]
    calls: list[Call]
    full: dict[str, Any]
    statuses: dict[tuple[str, str], str]
    full_statuses: dict[tuple[str, str], str]

    def called(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]

    def operations(self) -> set[str]:
        return {name for name, _ in self.calls}

    def resources(self, resource_type: str, full: bool = False) -> dict[str, dict[str, Any]]:
        snapshot = self.full if full else self.planned
        return {r["name"]: r for r in snapshot["resources"] if r["type"] == resource_type}

    def coverage(self, resource_type: str) -> dict[str, Any]:
        [entry] = [c for c in self.planned["coverage"] if c["type"] == resource_type]
        return dict(entry)


def recording(
    calls: list[Call], *hooks: tuple[str, Callable[..., Any]]
) -> Callable[[str | None], boto3.Session]:
    """A session factory logging (operation, parameters) of every call, plus ``hooks``."""

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((str(model.name), dict(params)))

    def factory(profile: str | None) -> boto3.Session:
        session = boto3.Session(profile_name=profile)
        session.events.register_first("before-parameter-build", record)
        for event, handler in hooks:
            session.events.register_first(event, handler)
        return session

    return factory


def full_plan(plan: CollectionPlan) -> CollectionPlan:
    """The same types, options and metrics with every key, every resource, no prefix."""
    full = CollectionPlan(parameters=dict(plan.parameters), rules=dict(plan.rules))
    for resource_type, request in plan.types.items():
        copy = full.request(resource_type)
        copy.options, copy.metrics = request.options, request.metrics
        copy.log_queries = request.log_queries
        copy.keys, copy.prefixes, copy.selectors = None, None, []
    return full


def collect_both(folder: Path, text: str, *hooks: tuple[str, Callable[..., Any]]) -> Collected:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rules.yaml").write_text(text)
    policy_set = load_policy_set([folder / "rules.yaml"])
    rules = policy_set.compile()
    plan = build_plan(rules, policy_set.effective_parameters({}))
    calls: list[Call] = []

    def run(chosen: CollectionPlan, factory: Callable[[str | None], boto3.Session]) -> Any:
        return collect(chosen, Scope(max_attempts=1, quiet=True, session_factory=factory))

    planned = run(plan, recording(calls, *hooks))
    full = run(full_plan(plan), recording([], *hooks))
    now = datetime.now(timezone.utc)

    def statuses(snapshot: dict[str, Any]) -> dict[tuple[str, str], str]:
        results = evaluate_rules(rules, IndexedSnapshot(snapshot), now, policy_set.tables)
        return {
            (r["rule"], (r["resource"] or {}).get("name") or r["message"]): r["status"]
            for r in results
        }

    return Collected(planned, calls, full, statuses(planned), statuses(full))


@pytest.fixture(scope="module")
def named(unrelated: None, tmp_path_factory: pytest.TempPathFactory) -> Collected:
    return collect_both(tmp_path_factory.mktemp("named"), NAMED)


@pytest.fixture(scope="module")
def whole(unrelated: None, tmp_path_factory: pytest.TempPathFactory) -> Collected:
    return collect_both(tmp_path_factory.mktemp("whole"), WHOLE)


def queue_names(urls: Iterable[str]) -> set[str]:
    return {str(url).rsplit("/", 1)[-1] for url in urls}


# --- names pushed to the server -------------------------------------------------------------


def test_named_resources_are_listed_by_prefix_on_the_server(named: Collected) -> None:
    """ListQueues once per prefix, DescribeLogGroups by ``logGroupNamePrefix``,
    DescribeParameters by ``Name BeginsWith``, ListBuckets by ``Prefix``: the account's other
    resources are not even listed. ListTables has no such filter and lists every table."""
    assert sorted(str(p.get("QueueNamePrefix")) for p in named.called("ListQueues")) == [
        "agenticai-pm-dlq",
        "agenticai-pm-queue",
    ]
    assert [p.get("logGroupNamePrefix") for p in named.called("DescribeLogGroups")] == [
        "/aws/lambda/agenticai"
    ]
    [parameters] = named.called("DescribeParameters")
    assert parameters["ParameterFilters"] == [
        {
            "Key": "Name",
            "Option": "BeginsWith",
            "Values": ["/agenticai/config/model", "/agenticai/gone"],
        }
    ]
    assert [p.get("Prefix") for p in named.called("ListBuckets")] == ["agenticai-"]
    assert [p.get("Prefix") for p in named.called("ListTables")] == [None]

    assert "zz-unrelated-assets" not in named.resources(BUCKET)
    assert set(named.resources(QUEUE)) == {
        "agenticai-pm-queue",
        "agenticai-pm-dlq",
        "agenticai-pm-queue-shadow",  # its name starts with a prefix: listed, not detailed
    }
    assert "/unrelated/app" not in named.resources(LOG_GROUP)
    assert set(named.resources(PARAMETER)) == {"/agenticai/config/model"}
    # A full collection does list them: the prefixes, not moto, kept them out.
    assert "zz-unrelated-assets" in named.resources(BUCKET, full=True)
    assert "/unrelated/app" in named.resources(LOG_GROUP, full=True)


def test_the_coverage_records_the_prefixes_it_is_complete_for(named: Collected) -> None:
    assert named.coverage(QUEUE) == {
        "type": QUEUE,
        "account": ACCOUNT,
        "region": REGION,
        "complete": True,
        "prefixes": ["agenticai-pm-dlq", "agenticai-pm-queue"],
    }
    assert named.coverage(LOG_GROUP)["prefixes"] == ["/aws/lambda/agenticai"]
    assert named.coverage(PARAMETER)["prefixes"] == ["/agenticai/config/model", "/agenticai/gone"]
    assert named.coverage(BUCKET) == {
        "type": BUCKET,
        "account": ACCOUNT,
        "region": "global",
        "complete": True,
        "prefixes": ["agenticai-"],
    }
    assert "prefixes" not in named.coverage(TABLE)  # listed whole: no filter to push


# --- selection before detail ----------------------------------------------------------------


def test_no_detail_call_for_a_resource_no_rule_selects(named: Collected) -> None:
    assert [p["TableName"] for p in named.called("DescribeContinuousBackups")] == ["agenticai-data"]
    versioned = sorted(p["Bucket"] for p in named.called("GetBucketVersioning"))
    assert versioned == ["agenticai-backups", "agenticai-generated-code"]
    asked = queue_names(p["QueueUrl"] for p in named.called("GetQueueAttributes"))
    assert asked == {"agenticai-pm-queue", "agenticai-pm-dlq"}  # the rule's and its related DLQ
    # Unselected resources stay in the snapshot with their listing alone.
    tables = named.resources(TABLE)
    assert tables["zz-orders"]["data"] == {"TableName": "zz-orders"}
    assert named.resources(BUCKET)["agenticai-logs-archive"]["data"].keys() == {
        "Name",
        "CreationDate",
    }
    shadow = named.resources(QUEUE)["agenticai-pm-queue-shadow"]
    assert shadow["data"].keys() == {"QueueUrl"}


def test_no_call_of_an_operation_no_rule_reads(named: Collected) -> None:
    """Only PITR, versioning and the queue attributes are read: no DescribeTable, TTL,
    Contributor Insights, backups or exports; no bucket location (no rule reads the region and
    no metric needs it), lifecycle, replication or encryption."""
    assert named.operations() == {
        "GetCallerIdentity",
        "ListTables",
        "DescribeContinuousBackups",
        "ListBuckets",
        "GetBucketVersioning",
        "ListQueues",
        "GetQueueAttributes",
        "DescribeLogGroups",
        "DescribeParameters",
    }


def test_whole_types_are_selected_on_the_listing_client_side(whole: Collected) -> None:
    """No literal prefix: every listing is unfiltered (and its coverage unlimited), and the
    rules' name patterns and listing-only ``where`` pick the resources that get details."""
    assert [p.get("QueueNamePrefix") for p in whole.called("ListQueues")] == [None]
    assert [p.get("logGroupNamePrefix") for p in whole.called("DescribeLogGroups")] == [None]
    assert [p.get("Prefix") for p in whole.called("ListBuckets")] == [None]
    for resource_type in (QUEUE, LOG_GROUP, BUCKET, TABLE):
        assert "prefixes" not in whole.coverage(resource_type)
    asked = queue_names(p["QueueUrl"] for p in whole.called("GetQueueAttributes"))
    assert asked == {n for n in whole.resources(QUEUE) if n.endswith("-dlq")}
    assert "zz-unrelated-dlq" in asked
    # The where on TableName and the name pattern both leave the orders table out (it keeps
    # its listing alone). TableName comes from the listing: the where is no reason for
    # DescribeTable.
    assert [p["TableName"] for p in whole.called("DescribeTimeToLive")] == ["agenticai-data"]
    pitr = [p["TableName"] for p in whole.called("DescribeContinuousBackups")]
    assert pitr == ["agenticai-data"]
    assert whole.resources(TABLE)["zz-orders"]["data"] == {"TableName": "zz-orders"}
    assert sorted(p["Bucket"] for p in whole.called("GetBucketLifecycleConfiguration")) == sorted(
        whole.resources(BUCKET)
    )
    assert whole.operations() == {
        "GetCallerIdentity",
        "ListTables",
        "DescribeTimeToLive",
        "DescribeContinuousBackups",
        "ListBuckets",
        "GetBucketLifecycleConfiguration",
        "ListQueues",
        "GetQueueAttributes",
        "DescribeLogGroups",
    }


# --- what the snapshot says was collected ---------------------------------------------------


def test_collected_keys_are_those_of_the_operations_that_ran(
    named: Collected, whole: Collected
) -> None:
    keys = named.planned["metadata"]["collected_keys"]
    assert keys[TABLE] == ["ContinuousBackupsDescription", "TableName"]
    assert keys[BUCKET] == ["BucketRegion", "CreationDate", "Name", "Versioning"]
    assert keys[QUEUE] == ["Attributes", "QueueUrl"]
    log_keys = Shape("logs", "DescribeLogGroups", ("logGroups[]",)).keys()
    assert keys[LOG_GROUP] == sorted(log_keys)
    assert keys[PARAMETER] == sorted(Shape("ssm", "DescribeParameters", ("Parameters[]",)).keys())
    assert whole.planned["metadata"]["collected_keys"][TABLE] == [
        "ContinuousBackupsDescription",
        "TableName",
        "TimeToLiveDescription",
    ]
    assert whole.planned["metadata"]["collected_keys"][BUCKET] == [
        "BucketRegion",  # declared by ListBuckets, which answers it on AWS
        "CreationDate",
        "LifecycleConfiguration",
        "Name",
    ]


def test_ids_do_not_depend_on_which_details_ran(named: Collected) -> None:
    """Built from the name or URL, they equal what DescribeTable and GetQueueAttributes say."""
    full_tables = named.resources(TABLE, full=True)
    for name, table in named.resources(TABLE).items():
        assert table["id"] == full_tables[name]["id"] == full_tables[name]["data"]["TableArn"]
    assert full_tables["zz-orders"]["id"] == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/zz-orders"
    full_queues = named.resources(QUEUE, full=True)
    for name, queue in named.resources(QUEUE).items():
        assert queue["id"] == full_queues[name]["id"]
        assert queue["id"] == full_queues[name]["data"]["Attributes"]["QueueArn"]
    full_buckets = named.resources(BUCKET, full=True)
    for name, bucket in named.resources(BUCKET).items():
        assert bucket["id"] == full_buckets[name]["id"] == f"arn:aws:s3:::{name}"


# --- the rules decide as they would on everything -------------------------------------------


def test_rules_decide_exactly_as_with_a_full_collection(named: Collected, whole: Collected) -> None:
    for collected in (named, whole):
        assert collected.statuses == collected.full_statuses
        assert collected.planned["errors"] == []
        # The full collection asked moto for Contributor Insights, which it does not implement.
        assert {e["operation"] for e in collected.full["errors"]} <= {"DescribeContributorInsights"}
    retention = {
        ("t.lambda-log-retention", f"/aws/lambda/agenticai-stack-{kind}"): "pass"
        for kind in (
            "ApiHandler-6CB38F82",
            "OpsAgentWorker-E92555CB",
            "PmAgentWorker-76905C9E",
            "QaAgentWorker-AE0CC89A",
        )
    }
    assert named.statuses == {
        ("t.bucket-versioning", "agenticai-backups"): "fail",
        ("t.bucket-versioning", "agenticai-generated-code"): "pass",
        **retention,
        ("t.lambda-log-retention", "/aws/lambda/agenticai-stack-DevAgentWorker-97960CFF"): "fail",
        ("t.parameter-secure", "/agenticai/config/model"): "fail",
        ("t.parameter-secure", "/agenticai/gone"): "fail",
        ("t.queue-redrive", "agenticai-pm-queue"): "pass",
        ("t.table-pitr", "agenticai-data"): "pass",
    }
    assert whole.statuses[("t.table-ttl", "agenticai-data")] == "pass"
    assert ("t.table-ttl", "zz-orders") not in whole.statuses
    assert whole.statuses[("t.log-retention", "/unrelated/app")] == "fail"
    # The parameter named but absent is proven missing within the listed prefixes: a fail,
    # never the error of a name outside what was listed.


def test_a_failed_describe_table_leaves_the_table_listed_with_its_keys_undecided(
    unrelated: None, tmp_path: Path
) -> None:
    """DescribeTable is a detail: denied, the table stays (its id is built from its name), the
    listing stays complete, and the error names the keys it would have filled (not the
    ``TableName`` the listing gave), so the rule reading ``TableStatus`` is ``error``."""
    hook = ("before-call.dynamodb.DescribeTable", denied())
    collected = collect_both(tmp_path, DESCRIBED, hook)
    [table] = [r for r in collected.planned["resources"] if r["name"] == "agenticai-data"]
    assert table["data"] == {"TableName": "agenticai-data"}
    assert table["id"] == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/agenticai-data"
    assert collected.coverage(TABLE)["complete"] is True
    [error] = [e for e in collected.planned["errors"] if e["operation"] == "DescribeTable"]
    assert error["resource"] == table["id"]
    assert "TableStatus" in error["data_keys"]
    assert "TableName" not in error["data_keys"]
    assert collected.statuses == {("t.table-active", "agenticai-data"): "error"}
    assert collected.operations() == {"GetCallerIdentity", "ListTables", "DescribeTable"}


def test_a_selection_on_the_bucket_region_locates_before_it_selects(
    unrelated: None, tmp_path: Path
) -> None:
    """``BucketRegion`` is a listing key, but a listing without it (moto's) cannot decide a
    ``where`` on it: each bucket is located first, then selected, so the bucket in Ireland is
    not dropped for want of a region and is the only one whose versioning is asked for."""
    collected = collect_both(tmp_path, IN_EUROPE)
    located = sorted(p["Bucket"] for p in collected.called("GetBucketLocation"))
    assert located == sorted(collected.resources(BUCKET))
    assert [p["Bucket"] for p in collected.called("GetBucketVersioning")] == ["zz-eu-archive"]
    assert collected.statuses == collected.full_statuses
    assert collected.statuses == {("t.eu-bucket-versioning", "zz-eu-archive"): "fail"}
