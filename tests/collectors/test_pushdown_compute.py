"""Pushdown for the compute and observability collectors: Lambda, CloudWatch alarms and
dashboards, API Gateway, ECS, CodeDeploy (and EC2's declarations).

Plans are built by the planner from small rules in a temporary policy folder; the real
collectors run against moto, seeded once for the module, with every API call's parameters
recorded. Each test proves that a resource no rule selects gets no detail call, that an
operation whose keys no rule reads is not called at all, that name prefixes go to the server
where the listing API takes one, and that the rules still decide exactly as they do on a full
collection of the same types.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from runbook_guard.cli.pipeline import unfilled_paths
from runbook_guard.collectors import awslambda, cloudwatch, ec2, ecs
from runbook_guard.collectors.apigateway import REST_API
from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.codedeploy import DEPLOYMENT_GROUP
from runbook_guard.collectors.ecs import SERVICE
from runbook_guard.collectors.journal import Journal
from runbook_guard.engine.loader import PolicySet, load_policy_set
from runbook_guard.engine.plan import Selector, TypeRequest
from runbook_guard.engine.planner import build_plan
from tests.collectors.pushdown import Calls, everything, policy, run, statuses
from tests.collectors.pushdown import rule as shared_rule

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:"
#: name -> runtime; ``agenticai-*`` are the runbook's, ``other-*`` share the account.
FUNCTIONS = {
    "agenticai-a": "python3.12",
    "agenticai-b": "python3.11",
    "other-x": "python3.11",
    "other-y": "python3.12",
}
ALARMS = ("agenticai-errors", "agenticai-throttles", "other-errors")
DASHBOARDS = ("agenticai-dashboard", "agenticai-dashboard-old", "other-dashboard")
APIS = ("agenticai-api", "other-api")
#: cluster -> services; more services than one DescribeServices batch of 10 share the cluster.
SERVICES = {
    "agenticai-cluster": ("agenticai-websocket", *(f"other-svc-{i}" for i in range(11))),
    "other-cluster": ("other-worker",),
}
#: (application, group, deployment configuration)
DEPLOYMENTS = (
    ("agenticai-api", "live", "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"),
    ("agenticai-api", "all-at-once", "CodeDeployDefault.LambdaAllAtOnce"),
    ("other-app", "live", "CodeDeployDefault.LambdaAllAtOnce"),
)


def rule(rule_id: str, body: str) -> str:
    return shared_rule(rule_id, body, "RB-T99")


#: The runbook's rules on the six types, each reading a few keys of the resources it names.
NARROW = [
    rule(
        "t.runtime",
        """
resource: aws.lambda.function
select: {name_matches: "^agenticai-"}
expect: {path: Runtime, in: [python3.11, python3.12]}
""",
    ),
    rule(
        "t.state",
        """
resource: aws.lambda.function
select: {names: [agenticai-a]}
expect: {path: State, equals: Active}
""",
    ),
    rule(
        "t.alarm",
        """
resource: aws.cloudwatch.alarm
select: {names: [agenticai-errors, agenticai-throttles, agenticai-gone]}
expect: {path: ActionsEnabled, equals: true}
""",
    ),
    rule(
        "t.dashboard",
        """
resource: aws.cloudwatch.dashboard
select: {names: [agenticai-dashboard]}
expect: {path: DashboardBody.widgets, not_empty: true}
""",
    ),
    rule(
        "t.stage",
        """
resource: aws.apigateway.rest_api
select: {names: [agenticai-api]}
expect: {path: Stages, any_item: {path: stageName, equals: prod}}
""",
    ),
    rule(
        "t.service",
        """
resource: aws.ecs.service
select: {names: [agenticai-websocket]}
expect: {path: desiredCount, ge: 1}
""",
    ),
    rule(
        "t.deploy",
        """
resource: aws.codedeploy.deployment_group
select:
  name_matches: "^live$"
  where: {path: applicationName, equals: agenticai-api}
expect: {path: deploymentConfigName, matches: "Linear|Canary"}
""",
    ),
]
#: Lambda's other per-function calls: mappings and aliases of one function, concurrency of the
#: functions a listing field (Runtime) selects.
WIDER = [
    rule(
        "t.consumed",
        """
resource: aws.lambda.function
select: {names: [agenticai-a]}
expect: {path: EventSourceMappings, not_empty: true}
warn_unless: {path: Aliases, any_item: {path: Name, equals: live}}
""",
    ),
    rule(
        "t.reserved",
        """
resource: aws.lambda.function
select: {where: {path: Runtime, equals: python3.11}}
expect: {path: Concurrency.ReservedConcurrentExecutions, if_absent: 0, le: 100}
""",
    ),
]


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def _lambda(role: str) -> None:
    lam: Any = boto3.client("lambda")  # runtimes from a table, not literals
    sqs = boto3.client("sqs")
    for name, runtime in FUNCTIONS.items():
        lam.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": _zip()},
        )
    lam.put_function_concurrency(FunctionName="other-x", ReservedConcurrentExecutions=200)
    version = lam.publish_version(FunctionName="agenticai-a")["Version"]
    alias = lam.create_alias(FunctionName="agenticai-a", Name="live", FunctionVersion=version)
    for consumer in (alias["AliasArn"], "other-x"):
        url = sqs.create_queue(QueueName=f"q-{len(consumer)}")["QueueUrl"]
        queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        lam.create_event_source_mapping(
            EventSourceArn=queue["Attributes"]["QueueArn"], FunctionName=consumer
        )


def _cloudwatch() -> None:
    watch = boto3.client("cloudwatch")
    for name in ALARMS:
        watch.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
            ActionsEnabled=name != "agenticai-throttles",
        )
    widget = {"type": "metric", "properties": {"metrics": [["AWS/SQS", "X"]]}}
    for name in DASHBOARDS:
        watch.put_dashboard(DashboardName=name, DashboardBody=json.dumps({"widgets": [widget]}))


def _apigateway() -> None:
    apigw = boto3.client("apigateway")
    for name in APIS:
        api_id = apigw.create_rest_api(name=name)["id"]
        root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
        apigw.put_method(
            restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE"
        )
        apigw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
        apigw.create_deployment(restApiId=api_id, stageName="prod")


def _ecs() -> None:
    ecs = boto3.client("ecs")
    ecs.register_task_definition(
        family="task", containerDefinitions=[{"name": "c", "image": "i", "memory": 128}]
    )
    for cluster, services in SERVICES.items():
        ecs.create_cluster(clusterName=cluster)
        for service in services:
            ecs.create_service(
                cluster=cluster, serviceName=service, taskDefinition="task", desiredCount=1
            )


def _codedeploy(role: str) -> None:
    codedeploy = boto3.client("codedeploy")
    for application in sorted({a for a, _, _ in DEPLOYMENTS}):
        codedeploy.create_application(applicationName=application, computePlatform="Lambda")
    for application, name, config in DEPLOYMENTS:
        codedeploy.create_deployment_group(
            applicationName=application,
            deploymentGroupName=name,
            serviceRoleArn=role,
            deploymentConfigName=config,
        )


@pytest.fixture(scope="module")
def world(mocked: None) -> None:
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({}))["Role"]["Arn"]
    _lambda(role)
    _cloudwatch()
    _apigateway()
    _ecs()
    _codedeploy(role)


def of_type(snapshot: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    found = [r for r in snapshot["resources"] if r["type"] == resource_type]
    return {f"{r['data'].get('applicationName', '')}/{r['name']}".lstrip("/"): r for r in found}


Observed = tuple[PolicySet, dict[str, Any], Calls, dict[str, Any], Calls]


@pytest.fixture(scope="module")
def narrow(
    world: None, tmp_path_factory: pytest.TempPathFactory, hooked: Callable[..., Any]
) -> Observed:
    policy_set = policy(tmp_path_factory.mktemp("narrow"), NARROW)
    plan = build_plan(policy_set.compile(), {})
    return (policy_set, *run(plan, hooked), *run(everything(plan), hooked))


@pytest.fixture(scope="module")
def wider(
    world: None, tmp_path_factory: pytest.TempPathFactory, hooked: Callable[..., Any]
) -> Observed:
    policy_set = policy(tmp_path_factory.mktemp("wider"), WIDER)
    plan = build_plan(policy_set.compile(), {})
    return (policy_set, *run(plan, hooked), *run(everything(plan), hooked))


def test_the_rules_decide_as_on_a_full_collection(narrow: Observed, wider: Observed) -> None:
    for policy_set, limited, _, full, _ in (narrow, wider):
        assert limited["errors"] == []
        assert full["errors"] == []
        decided = statuses(policy_set, limited)
        assert decided == statuses(policy_set, full)
        assert set(decided.values()) >= {"pass", "fail"}, decided
    names = statuses(narrow[0], narrow[1])
    assert names[("t.alarm", "agenticai-throttles")] == "fail"
    # Missing within the prefix it was listed for: provably missing, as on a full listing.
    assert names[("t.alarm", "agenticai-gone")] == "fail"
    assert names[("t.deploy", "live")] == "pass"
    assert names[("t.state", "agenticai-a")] == "pass"


def test_unselected_resources_are_listed_but_never_detailed(narrow: Observed) -> None:
    _, snapshot, calls, _, _ = narrow
    # Every function is in the snapshot (a named one missing stays provable). Selection is
    # per rule: agenticai-b is selected by t.runtime alone, whose Runtime its listing holds,
    # so it gets no detail; agenticai-a is also t.state's, which reads State (a detail).
    functions = of_type(snapshot, awslambda.FUNCTION)
    assert set(functions) == set(FUNCTIONS)
    asked = sorted(p["FunctionName"] for p in calls.of("GetFunctionConfiguration"))
    assert asked == [f"{FUNCTION_ARN}agenticai-a"]
    assert functions["agenticai-a"]["data"]["State"] == "Active"
    assert "State" not in functions["agenticai-b"]["data"]
    assert functions["agenticai-b"]["data"]["Runtime"] == "python3.11"
    assert "State" not in functions["other-x"]["data"]  # listing only, moto's copy dropped
    assert functions["other-x"]["data"]["Runtime"] == "python3.11"
    # The API's stages, the dashboard's body: only the named ones.
    apis = of_type(snapshot, REST_API)
    assert [p["restApiId"] for p in calls.of("GetStages")] == [apis["agenticai-api"]["data"]["id"]]
    assert "Stages" not in apis["other-api"]["data"]
    assert [p["DashboardName"] for p in calls.of("GetDashboard")] == ["agenticai-dashboard"]
    # ECS: one DescribeServices naming the websocket service alone, out of 13 listed.
    [described] = calls.of("DescribeServices")
    assert [arn.rsplit("/", 1)[-1] for arn in described["services"]] == ["agenticai-websocket"]
    services = of_type(snapshot, SERVICE)
    assert len(services) == sum(len(s) for s in SERVICES.values())
    assert services["other-worker"]["data"] == {
        "serviceArn": services["other-worker"]["id"],
        "serviceName": "other-worker",
        "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:cluster/other-cluster",
        "clusterName": "other-cluster",
    }
    assert services["agenticai-websocket"]["data"]["desiredCount"] == 1
    # CodeDeploy: the where on applicationName is a listing field, so other-app/live is skipped.
    assert [
        (p["applicationName"], p["deploymentGroupName"]) for p in calls.of("GetDeploymentGroup")
    ] == [("agenticai-api", "live")]
    groups = of_type(snapshot, DEPLOYMENT_GROUP)
    assert set(groups) == {f"{a}/{n}" for a, n, _ in DEPLOYMENTS}
    assert set(groups["other-app/live"]["data"]) == {"applicationName", "deploymentGroupName"}


def test_ids_do_not_depend_on_which_details_ran(narrow: Observed) -> None:
    _, limited, _, full, _ = narrow

    def ids(snapshot: dict[str, Any]) -> dict[tuple[str, str, str], str]:
        return {(r["type"], r["name"], r["data"].get("applicationName", "")): r["id"]
                for r in snapshot["resources"]}  # fmt: skip

    found, everything_found = ids(limited), ids(full)
    assert found.items() <= everything_found.items()
    # Only the prefix-limited listings (alarms, dashboards) hold fewer resources.
    assert {key[0] for key in everything_found.keys() - found.keys()} == {
        cloudwatch.ALARM,
        cloudwatch.DASHBOARD,
    }


def test_operations_no_rule_reads_are_not_called(narrow: Observed, wider: Observed) -> None:
    unread = {"ListAliases", "GetFunctionConcurrency", "ListEventSourceMappings"}
    assert not unread & narrow[2].operations()
    assert "DescribeClusters" not in narrow[2].operations()  # no rule reads clusters
    assert "GetAccountSettings" not in narrow[2].operations() | wider[2].operations()
    # The full collection of the same types does call them: the test is not vacuous.
    assert unread <= narrow[4].operations()
    assert not {"GetFunctionConfiguration", "GetStages"} & wider[2].operations()


#: The functions the wider rules select: agenticai-a by name, the python3.11 ones by a where
#: on ``Runtime``, a listing field, so decided before any detail call; other-y by neither.
WIDER_SELECTED = ["agenticai-a", "agenticai-b", "other-x"]


def test_lambda_mappings_are_listed_once_for_the_region(wider: Observed) -> None:
    _, snapshot, calls, _, _ = wider
    assert calls.of("ListEventSourceMappings") == [{}]  # no FunctionName: alias mappings too
    functions = of_type(snapshot, awslambda.FUNCTION)
    [mapping] = functions["agenticai-a"]["data"]["EventSourceMappings"]
    assert mapping["FunctionArn"].startswith(f"{FUNCTION_ARN}agenticai-a:")  # via the alias
    assert functions["agenticai-b"]["data"]["EventSourceMappings"] == []
    assert "EventSourceMappings" not in functions["other-y"]["data"]  # not selected


def test_a_where_on_listing_fields_selects_before_the_details(wider: Observed) -> None:
    _, snapshot, calls, _, _ = wider
    for operation in ("GetFunctionConcurrency", "ListAliases"):
        asked = sorted(p["FunctionName"] for p in calls.of(operation))
        assert asked == WIDER_SELECTED, operation
    functions = of_type(snapshot, awslambda.FUNCTION)
    assert not {"Concurrency", "Aliases"} & set(functions["other-y"]["data"])
    assert [a["Name"] for a in functions["agenticai-a"]["data"]["Aliases"]] == ["live"]


def test_alarm_and_dashboard_prefixes_go_to_the_server(narrow: Observed) -> None:
    _, snapshot, calls, _, full_calls = narrow
    sent = sorted(p.get("AlarmNamePrefix", "") for p in calls.of("DescribeAlarms"))
    assert sent == ["agenticai-errors", "agenticai-gone", "agenticai-throttles"]
    assert all(p["AlarmTypes"] for p in calls.of("DescribeAlarms"))  # every kind, still
    assert [p.get("DashboardNamePrefix") for p in calls.of("ListDashboards")] == [
        "agenticai-dashboard"
    ]
    # The prefix also lists the dashboard it starts (agenticai-dashboard-old), never others.
    dashboards = of_type(snapshot, cloudwatch.DASHBOARD)
    assert set(dashboards) == {"agenticai-dashboard", "agenticai-dashboard-old"}
    assert "DashboardBody" not in dashboards["agenticai-dashboard-old"]["data"]
    assert set(of_type(snapshot, cloudwatch.ALARM)) == {"agenticai-errors", "agenticai-throttles"}
    coverage = {c["type"]: c for c in snapshot["coverage"]}
    assert coverage[cloudwatch.ALARM]["prefixes"] == [
        "agenticai-errors",
        "agenticai-gone",
        "agenticai-throttles",
    ]
    assert coverage[cloudwatch.DASHBOARD]["prefixes"] == ["agenticai-dashboard"]
    assert coverage[cloudwatch.DASHBOARD]["complete"] is True
    assert "prefixes" not in coverage[awslambda.FUNCTION]  # ListFunctions filters nothing
    # The full collection lists everything, without a prefix.
    assert [p.get("DashboardNamePrefix") for p in full_calls.of("ListDashboards")] == [None]
    assert [p.get("AlarmNamePrefix") for p in full_calls.of("DescribeAlarms")] == [None]


def test_collected_keys_are_what_ran(narrow: Observed, wider: Observed) -> None:
    keys = narrow[1]["metadata"]["collected_keys"]
    function = set(keys[awslambda.FUNCTION])
    assert {"Runtime", "Environment", *awslambda.STATE_KEYS} <= function
    assert not {"Aliases", "Concurrency", "EventSourceMappings"} & function
    assert "DashboardBody" in keys[cloudwatch.DASHBOARD]
    assert {"Stages", "name"} <= set(keys[REST_API])
    assert {"desiredCount", "clusterName", "serviceName"} <= set(keys[SERVICE])
    assert "deploymentConfigName" in keys[DEPLOYMENT_GROUP]
    assert {"AlarmType", "StateValue", "AlarmRule"} <= set(keys[cloudwatch.ALARM])
    wide = set(wider[1]["metadata"]["collected_keys"][awslambda.FUNCTION])
    assert {"Aliases", "Concurrency", "EventSourceMappings"} <= wide
    assert not set(awslambda.STATE_KEYS) & wide


def test_a_snapshot_for_other_rules_errors_a_rule_reading_what_was_not_collected(
    tmp_path: Path, wider: Observed
) -> None:
    """The wider plan never asked for State; judged on its snapshot, the state rule is
    ``error`` (collect again with that rule), never a pass or a fail on absent data."""
    _, snapshot, _, _, _ = wider
    state_rule = policy(tmp_path, [NARROW[1]])
    assert statuses(state_rule, snapshot) == {("t.state", ""): "error"}


def test_no_account_settings_call_when_no_rule_reads_the_limits() -> None:
    """The (account, region) resource exists without GetAccountSettings; a client of None
    would record an error for any call made."""
    requests = {
        awslambda.ACCOUNT: TypeRequest(awslambda.ACCOUNT, selectors=[Selector()], planned=True)
    }
    call = Call(
        awslambda.ACCOUNT_API,
        None,  # type: ignore[arg-type]
        Journal(),
        ACCOUNT_ID,
        REGION,
        awslambda.ACCOUNT,
        requests=requests,
    )
    [account] = awslambda.collect_account(call, requests)
    assert call.journal.errors == []
    assert (account["name"], account["data"]) == (ACCOUNT_ID, {})
    assert account["id"] == f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:account-settings"
    assert call.journal.keys == {}


def test_the_shipped_pack_reads_only_declared_keys_of_these_types() -> None:
    mine = {
        awslambda.FUNCTION, awslambda.ACCOUNT, cloudwatch.ALARM, cloudwatch.DASHBOARD,
        REST_API, SERVICE, "aws.ecs.cluster", ec2.SECURITY_GROUP, DEPLOYMENT_GROUP,
    }  # fmt: skip
    rules = [r for r in load_policy_set().compile() if set(r.reads) & mine]
    assert rules
    assert unfilled_paths(rules) == []


def test_declarations_keep_state_and_details_off_the_listings() -> None:
    """A ``where`` is applied to a listing only on keys the listing fills: ListFunctions'
    items leave the state out on AWS, so a where on ``State`` waits for the details."""
    listed = awslambda.API.listing_keys(awslambda.FUNCTION)
    assert {"FunctionName", "Runtime", "Environment", "TracingConfig"} <= listed
    assert not set(awslambda.STATE_KEYS) & listed
    assert "RuntimeVersionConfig" not in listed
    assert {"GroupId", "IpPermissions"} <= ec2.API.listing_keys(ec2.SECURITY_GROUP)
    assert "desiredCount" not in ecs.API.listing_keys(SERVICE)
    assert "clusterName" in ecs.API.listing_keys(SERVICE)  # a where on it selects early
