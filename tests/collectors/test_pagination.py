"""Every paginated listing follows its pages.

Two proofs, because moto 5.2 honours a page size for only some operations:

* against moto, with a forced page size of 5 and more than 5 of each thing seeded, each
  operation moto pages is called again with its continuation token and every seeded resource
  arrives (calls observed per operation with a ``before-parameter-build`` hook, which sees the
  caller's parameters);
* for every paginated operation any collector declares (moto or not: it ignores the page size
  of ListFunctions, ListAliases, ListEventSourceMappings, DescribeAlarms, GetRestApis,
  ListUsers, DescribeBudgets, ListClusters, ListServices, ListBackups, DescribeSecurityGroups
  and (with a path filter) DescribeParameters, has no Free Tier API, truncates ListBuckets
  without a token, and AWS lets no caller size ListDashboards), botocore's Stubber answers two
  pages: the second request must carry the first page's token and both pages' items arrive.
  FilterLogEvents, which now counts only the patterns Logs Insights cannot express, is one.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import botocore.session
import pytest
from botocore import xform_name
from botocore.stub import Stubber

from runbook_guard.collectors import Scope, collect
from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.journal import Journal
from runbook_guard.collectors.registry import OPERATION_SETS, OperationSet, load_all
from runbook_guard.demo.plans import everything_plan
from runbook_guard.demo.stack import Seeded

Snapshot = dict[str, Any]
Observed = tuple[Snapshot, Counter[str], Counter[str]]
PAGE = 5
MORE = PAGE + 2  # strictly more than one page
PAGINATORS = botocore.session.get_session()


def paging(service: str, operation: str) -> dict[str, Any]:
    """botocore's paginator configuration (input/output token, limit key, result keys)."""
    config: dict[str, Any] = PAGINATORS.get_paginator_model(service).get_paginator(operation)
    return config


# --- against moto --------------------------------------------------------------------------

#: The listings moto 5.2 pages when asked for small pages.
MOTO_PAGED = ["ListTables", "ListQueues", "DescribeLogGroups"]
MOTO_PAGED_SERVICE = {
    "ListTables": "dynamodb",
    "ListQueues": "sqs",
    "DescribeLogGroups": "logs",
}


@pytest.fixture(scope="module")
def world(seeded: Seeded) -> Seeded:
    """The runbook's stack plus ``MORE`` of each thing it has fewer of than a page."""
    p = seeded.prefixes[0]
    ddb = boto3.client("dynamodb")
    ssm = boto3.client("ssm")
    for i in range(MORE):
        ddb.create_table(
            TableName=f"other-table-{i}",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        ssm.put_parameter(Name=f"/{p}/other/p{i}", Value="x", Type="String")
    # More ERROR lines than a page in a log group the plan counts, inside its 24-hour window:
    # counted by one Logs Insights query (no pages: one row per group), all of them.
    logs = boto3.client("logs")
    group = f"/aws/lambda/{next(f for f in seeded.functions if 'PmAgentWorker' in f)}"
    logs.create_log_stream(logGroupName=group, logStreamName="extra")
    start = int((datetime.now(timezone.utc) - timedelta(minutes=30)).timestamp() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="extra",
        logEvents=[{"timestamp": start + i, "message": f"ERROR {i}"} for i in range(MORE)],
    )
    return seeded


@pytest.fixture(scope="module")
def observed(world: Seeded) -> Observed:
    """A full collection at page size 5: (snapshot, calls, calls carrying a continuation)."""
    calls: Counter[str] = Counter()
    continued: Counter[str] = Counter()

    def count(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls[model.name] += 1
        service = MOTO_PAGED_SERVICE.get(model.name)
        if service and params.get(paging(service, model.name)["input_token"]):
            continued[model.name] += 1

    def factory(profile: str | None) -> boto3.Session:
        session = boto3.Session(profile_name=profile)
        session.events.register_first("before-parameter-build", count)
        return session

    scope = Scope(max_attempts=1, quiet=True, page_size=PAGE, session_factory=factory)
    return collect(everything_plan(world.prefixes[0]), scope), calls, continued


@pytest.mark.parametrize("operation", MOTO_PAGED)
def test_each_listing_asks_for_the_next_page(observed: Observed, operation: str) -> None:
    _snapshot, calls, continued = observed
    assert calls[operation] >= 2, operation
    assert continued[operation] >= 1, f"{operation} never sent its continuation token"


def test_every_seeded_resource_arrives(observed: Observed, world: Seeded) -> None:
    snapshot, _calls, _continued = observed
    p = world.prefixes[0]
    names: dict[str, set[str]] = {}
    for resource in snapshot["resources"]:
        names.setdefault(resource["type"], set()).add(resource["name"])
    assert {f"other-table-{i}" for i in range(MORE)} <= names["aws.dynamodb.table"]
    assert {f"/{p}/other/p{i}" for i in range(MORE)} <= names["aws.ssm.parameter"]
    assert len(names["aws.sqs.queue"]) == 8
    assert len(names["aws.logs.log_group"]) == 6
    worker = next(f for f in world.functions if "PmAgentWorker" in f)
    [group] = [r for r in snapshot["resources"] if r["name"] == f"/aws/lambda/{worker}"]
    assert group["logs"] == {"errors": MORE}


# --- every declared paginated operation, through Stubber -----------------------------------

#: One valid item per result key (the Stubber checks it against the service model).
ITEMS: dict[str, Any] = {
    "Accounts": {"Id": "111111111111", "State": "ACTIVE"},
    "Children": {"Id": "ou-ab12-cd34ef56", "Type": "ORGANIZATIONAL_UNIT"},
    "Tags": {"Key": "env", "Value": "prod"},
    "TableNames": "table",
    "BackupSummaries": {"TableName": "table"},
    "Functions": {"FunctionName": "f"},
    "Aliases": {"Name": "live"},
    "EventSourceMappings": {"UUID": "14e0db71-5d35-4eb5-b481-8945cf9d10c2"},
    "MetricAlarms": {"AlarmName": "a"},
    "DashboardEntries": {"DashboardName": "d"},
    "items": {"id": "i", "name": "n"},
    "Users": {
        "Path": "/",
        "UserName": "u",
        "UserId": "AIDAEXAMPLE000000000",
        "Arn": "arn:aws:iam::123456789012:user/u",
        "CreateDate": datetime(2026, 1, 1, tzinfo=timezone.utc),
    },
    "AccessKeyMetadata": {"UserName": "u", "AccessKeyId": "AKIAEXAMPLE000000000"},
    "Budgets": {"BudgetName": "b", "TimeUnit": "MONTHLY", "BudgetType": "COST"},
    "Notifications": {
        "NotificationType": "ACTUAL",
        "ComparisonOperator": "GREATER_THAN",
        "Threshold": 80.0,
    },
    "Buckets": {"Name": "b"},
    "clusterArns": "arn:aws:ecs:us-east-1:123456789012:cluster/c",
    "serviceArns": "arn:aws:ecs:us-east-1:123456789012:service/c/s",
    "QueueUrls": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
    "Parameters": {"Name": "/p"},
    "logGroups": {"logGroupName": "g"},
    "events": {"message": "ERROR"},
    "Events": {"EventId": "e"},
    "SecurityGroups": {"GroupId": "sg-0123456789abcdef0"},
    "applications": "agenticai-api",
    "deploymentGroups": "live",
    "freeTierUsages": {"service": "AWS Lambda", "usageType": "Global-Request"},
}
#: A continuation token valid for every operation (some must look like a backup ARN).
TOKEN = "arn:aws:dynamodb:us-east-1:123456789012:table/table/backup/01"
#: Parameters an operation requires.
REQUIRED: dict[str, dict[str, Any]] = {
    "ListAccountsForParent": {"ParentId": "r-ab12"},
    "ListChildren": {"ParentId": "r-ab12", "ChildType": "ORGANIZATIONAL_UNIT"},
    "ListTagsForResource": {"ResourceId": "111111111111"},
    "ListAliases": {"FunctionName": "f"},
    "DescribeBudgets": {"AccountId": "123456789012"},
    "DescribeNotificationsForBudget": {"AccountId": "123456789012", "BudgetName": "b"},
    "FilterLogEvents": {"logGroupName": "g"},
    "ListAccessKeys": {"UserName": "u"},
    "ListServices": {"cluster": "c"},
    "ListDeploymentGroups": {"applicationName": "agenticai-api"},
}
#: Paginated operations that read values, not listings: covered elsewhere.
NOT_LISTINGS = {"GetMetricData"}


def declared_paginated() -> list[tuple[OperationSet, str]]:
    load_all()
    found = []
    for api in OPERATION_SETS:
        for operation in api.operations:
            model = PAGINATORS.get_paginator_model(api.service)
            try:
                model.get_paginator(operation)
            except ValueError:
                continue
            if operation not in NOT_LISTINGS:
                found.append((api, operation))
    return found


PAGED = declared_paginated()


@pytest.mark.parametrize(("api", "operation"), PAGED, ids=[op for _api, op in PAGED])
def test_a_second_page_is_requested_with_the_first_pages_token(
    api: OperationSet, operation: str
) -> None:
    config = paging(api.service, operation)
    result_keys = config["result_key"]
    key = result_keys[0] if isinstance(result_keys, list) else result_keys
    client = boto3.client(
        api.service,  # type: ignore[call-overload]
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    params = REQUIRED.get(operation, {})
    first = {**params, config["limit_key"]: PAGE} if "limit_key" in config else dict(params)
    method = xform_name(operation)
    # The other lists every page must carry (DescribeAlarms' CompositeAlarms), empty.
    others: dict[str, Any] = {m: [] for m in api.answers.get(operation, ()) if m != key}
    page_one: dict[str, Any] = {key: [ITEMS[key]], **others, config["output_token"]: TOKEN}
    if "more_results" in config:  # IAM: IsTruncated says whether Marker means more
        page_one[config["more_results"]] = True
    with Stubber(client) as stub:
        stub.add_response(method, page_one, first)
        last_page = {key: [ITEMS[key]], **others}
        stub.add_response(method, last_page, {**first, config["input_token"]: TOKEN})
        call = Call(api, client, Journal(), "123456789012", "us-east-1", "t", page_size=PAGE)
        items = call.items(operation, key, **params)
        stub.assert_no_pending_responses()
    assert items == [ITEMS[key], ITEMS[key]]
    assert call.journal.errors == []


def test_every_listing_the_brief_names_is_covered() -> None:
    covered = {operation for _api, operation in PAGED}
    named = {
        "ListTables", "ListFunctions", "DescribeAlarms", "ListDashboards", "GetRestApis",
        "ListUsers", "ListEventSourceMappings", "DescribeBudgets", "ListBuckets", "ListQueues",
        "DescribeParameters", "DescribeLogGroups", "ListAliases", "ListClusters", "ListServices",
        "ListBackups", "ListAccessKeys", "DescribeNotificationsForBudget", "FilterLogEvents",
        "LookupEvents", "DescribeSecurityGroups", "ListApplications", "ListDeploymentGroups",
        "GetFreeTierUsage",
    }  # fmt: skip
    assert named <= covered, named - covered
