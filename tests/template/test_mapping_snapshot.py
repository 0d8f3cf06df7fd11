"""The template snapshot document: its schema, claims, determinism, and that the engine reads
it as it reads a collection (the shipped pack's paths resolve on it)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from runbook_guard import __version__
from runbook_guard.engine.catalog import _paths
from runbook_guard.engine.loader import PolicySet, load_policy_set
from runbook_guard.engine.paths import MISSING, compile_path
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.template.mapping import declared_keys
from runbook_guard.template.model import NotFollowed, ReadTemplate, TemplateResource
from runbook_guard.template.snapshot import runtime_keys, template_snapshot
from tests.template.test_mapping_fixtures import (
    NOW,
    after_deploy,
    at,
    dumps,
    resource,
    template,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "snapshot.schema.json").read_text())
EXAMPLE = json.loads((ROOT / "examples" / "snapshot.json").read_text())
ARN = "arn:aws:{}:us-east-1:123456789012:{}"
WORKER = "agenticai-PmAgentWorker"
DLQ_ARN = ARN.format("sqs", "agenticai-pm-dlq")
QUEUE_ARN = ARN.format("sqs", "agenticai-pm-queue")
TOPIC = ARN.format("sns", "agenticai-alerts")
BODY = {
    "widgets": [
        {
            "type": "metric",
            "properties": {
                "title": "Depth",
                "metrics": [["AWS/SQS", "ApproximateAgeOfOldestMessage"]],
            },
        }
    ]
}


def _stack() -> list[TemplateResource]:
    """The runbook's stack, one resource of every mapped type (line = 10 * position)."""
    declared: list[tuple[str, str, dict[str, Any]]] = [
        ("DataTable", "AWS::DynamoDB::Table", {
            "TableName": "agenticai-data", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            "ContributorInsightsSpecification": {"Enabled": True}}),
        ("PmQueue", "AWS::SQS::Queue", {
            "QueueName": "agenticai-pm-queue", "VisibilityTimeout": 180,
            "RedrivePolicy": {"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 5}}),
        ("PmDlq", "AWS::SQS::Queue", {"QueueName": "agenticai-pm-dlq"}),
        ("PmWorker", "AWS::Lambda::Function", {
            "FunctionName": WORKER, "Runtime": "python3.12", "Handler": "app.handler",
            "TracingConfig": {"Mode": "Active"}, "ReservedConcurrentExecutions": 2,
            "Environment": {"Variables": {"TABLE_NAME": "agenticai-data"}}}),
        ("PmWorkerAliaslive", "AWS::Lambda::Alias", {
            "FunctionName": WORKER, "Name": "live", "FunctionVersion": "1"}),
        ("PmWorkerQueue", "AWS::Lambda::EventSourceMapping", {
            "FunctionName": after_deploy("Ref PmWorkerAliaslive"), "EventSourceArn": QUEUE_ARN}),
        ("PmWorkerLogs", "AWS::Logs::LogGroup", {
            "LogGroupName": f"/aws/lambda/{WORKER}", "RetentionInDays": 7}),
        ("CodeBucket", "AWS::S3::Bucket", {
            "BucketName": "agenticai-generated-code",
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {"Rules": [{"Id": "old", "Status": "Enabled", "NoncurrentVersionExpirationInDays": 30}]},
            "ReplicationConfiguration": {"Role": "arn:aws:iam::123456789012:role/r", "Rules": [
                {"Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::agenticai-dr"}}]}}),
        ("DepthAlarm", "AWS::CloudWatch::Alarm", {
            "AlarmName": "agenticai-pm-queue-depth", "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": "agenticai-pm-queue"}],
            "Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 500,
            "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": [TOPIC]}),
        ("AnyAlarm", "AWS::CloudWatch::CompositeAlarm", {
            "AlarmName": "agenticai-any", "AlarmRule": "ALARM(agenticai-pm-queue-depth)"}),
        ("Dashboard", "AWS::CloudWatch::Dashboard", {
            "DashboardName": "agenticai-dashboard", "DashboardBody": json.dumps(BODY)}),
        ("Api", "AWS::ApiGateway::RestApi", {"Name": "agenticai-api"}),
        ("ApiProdStage", "AWS::ApiGateway::Stage", {
            "RestApiId": after_deploy("Ref Api"), "StageName": "prod", "TracingEnabled": True}),
        ("Cluster", "AWS::ECS::Cluster", {"ClusterName": "agenticai-cluster"}),
        ("Websocket", "AWS::ECS::Service", {
            "ServiceName": "agenticai-websocket", "Cluster": "agenticai-cluster", "DesiredCount": 1}),
        ("WebsocketGroup", "AWS::EC2::SecurityGroup", {
            "GroupDescription": "ws", "VpcId": "vpc-1",
            "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"}]}),
        ("Budget", "AWS::Budgets::Budget", {
            "Budget": {"BudgetName": "agenticai-monthly", "BudgetType": "COST", "TimeUnit": "MONTHLY",
                       "BudgetLimit": {"Amount": 25, "Unit": "USD"}},
            "NotificationsWithSubscribers": [{"Notification": {
                "NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN", "Threshold": 80}}]}),
        ("Trail", "AWS::CloudTrail::Trail", {
            "TrailName": "agenticai-trail", "S3BucketName": "agenticai-logs-archive",
            "IsLogging": True, "IsMultiRegionTrail": True}),
        ("ModelParameter", "AWS::SSM::Parameter", {
            "Name": "/agenticai/config/model", "Type": "String", "Value": "gemini"}),
        ("DeployApp", "AWS::CodeDeploy::Application", {"ComputePlatform": "Lambda"}),
        ("PmWorkerDeploymentGroup", "AWS::CodeDeploy::DeploymentGroup", {
            "ApplicationName": after_deploy("Ref DeployApp"),
            "DeploymentGroupName": "agenticai-pm-worker",
            "DeploymentConfigName": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"}),
    ]  # fmt: skip
    return [
        resource(lid, cfn_type, props, line=10 * (n + 1))
        for n, (lid, cfn_type, props) in enumerate(declared)
    ]


def _document(*templates: ReadTemplate) -> dict[str, Any]:
    return template_snapshot(list(templates or [template(*_stack())]), NOW, __version__)


def test_the_document_of_a_whole_stack_validates_against_the_snapshot_schema() -> None:
    document = _document()
    jsonschema.validate(document, SCHEMA)
    assert document["schema_version"] == 3
    assert document["errors"] == []
    found = {r["type"] for r in document["resources"]}
    assert found == set(declared_keys())  # every mapped type, implicit groups included


def test_the_metadata_says_what_was_read_and_claims_the_declared_keys() -> None:
    nested = NotFollowed("Shared", "AWS::Serverless::Application", at(99, 3))
    document = _document(template(*_stack(), not_followed=[nested]))
    metadata = document["metadata"]
    assert metadata == {
        "tool_version": __version__,
        "started_at": "2026-11-20T10:00:00+00:00",
        "finished_at": "2026-11-20T10:00:00+00:00",
        "accounts": ["123456789012"],
        "regions": ["us-east-1"],
        "parameters": {},
        "resource_types": sorted(declared_keys()),
        "collected_keys": declared_keys(),
        "source": {
            "kind": "template",
            "templates": [
                {
                    "file": "infra/template.yaml",
                    "stack_name": "agenticai-stack",
                    "digest": "0" * 64,
                    "parameters": {"Stage": "prod"},
                    "not_followed": [
                        {
                            "logical_id": "Shared",
                            "type": "AWS::Serverless::Application",
                            "file": "infra/template.yaml",
                            "line": 99,
                            "column": 3,
                        }
                    ],
                }
            ],
            "runtime_keys": runtime_keys(declared_keys()),
        },
    }
    assert "planned_rules" not in metadata
    # an alarm's state is the running system's; its metric, threshold and actions are not
    alarm_runtime = metadata["source"]["runtime_keys"]["aws.cloudwatch.alarm"]
    assert "StateValue" in alarm_runtime
    assert not {"Threshold", "Namespace", "Dimensions", "AlarmActions"} & set(alarm_runtime)


def test_coverage_is_complete_for_every_mapped_type_in_every_account_and_region() -> None:
    east = template(resource("T", "AWS::DynamoDB::Table", {"TableName": "t"}))
    west = template(
        resource("Q", "AWS::SQS::Queue", {"QueueName": "q"}),
        stack="west",
        region="eu-west-1",
        account="210987654321",
        display_path="west.yaml",
    )
    coverage = _document(east, west)["coverage"]
    assert all(entry["complete"] for entry in coverage)
    pairs = {(e["type"], e["account"], e["region"]) for e in coverage}
    regional = [t for t in declared_keys() if t not in GLOBAL_TYPES]
    expected = {
        (t, a, r) for t in regional for a in ACCOUNTS for r in ("eu-west-1", "us-east-1")
    } | {(t, a, "global") for t in GLOBAL_TYPES for a in ACCOUNTS}
    assert pairs == expected
    assert len(coverage) == len(pairs)


GLOBAL_TYPES = {"aws.s3.bucket", "aws.budgets.budget", "aws.cloudwatch.dashboard"}
ACCOUNTS = ("123456789012", "210987654321")


def test_global_types_are_where_the_collectors_put_them() -> None:
    for found in _document()["resources"]:
        expected = "global" if found["type"] in GLOBAL_TYPES else "us-east-1"
        assert found["region"] == expected, found["type"]
    example = {(r["type"], r["region"] == "global") for r in EXAMPLE["resources"]}
    for rtype, is_global in example:
        if rtype in declared_keys():
            assert (rtype in GLOBAL_TYPES) == is_global, rtype


def test_the_same_templates_give_the_same_bytes_whatever_the_order_of_resources() -> None:
    first = dumps(_document())
    assert dumps(_document()) == first
    for seed in (1, 2, 3):
        shuffled = _stack()
        random.Random(seed).shuffle(shuffled)
        assert dumps(_document(template(*shuffled))) == first
    other = template(
        resource("Q", "AWS::SQS::Queue", {"QueueName": "q"}), stack="b", display_path="b.yaml"
    )
    assert dumps(_document(template(*_stack()), other)) == dumps(
        _document(other, template(*_stack()))
    )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _same_shape(ours: Any, theirs: Any, path: str) -> list[str]:
    """Where a value the mapper builds differs in JSON type from what a collection stored."""
    if ours is None or theirs is None:
        return []  # "not configured" is null in both, whichever side has it
    if _kind(ours) != _kind(theirs):
        return [f"{path}: {_kind(ours)} here, {_kind(theirs)} collected"]
    if isinstance(ours, dict):
        return [
            p
            for k in ours.keys() & theirs.keys()
            for p in _same_shape(ours[k], theirs[k], f"{path}.{k}")
        ]
    if isinstance(ours, list) and ours and theirs:
        return _same_shape(ours[0], theirs[0], f"{path}[0]")
    return []


def test_every_value_has_the_json_type_a_real_collection_stored() -> None:
    """examples/snapshot.json was collected by the collectors: same keys, same types."""
    ours = _document()["resources"]
    differences = []
    for collected in EXAMPLE["resources"]:
        mine = [r for r in ours if r["type"] == collected["type"]]
        for found in mine[:1]:
            differences += _same_shape(found["data"], collected["data"], collected["type"])
    assert differences == []
    checked = {r["type"] for r in EXAMPLE["resources"]} & {r["type"] for r in ours}
    assert len(checked) >= 13


#: (rule, type, name, a path the rule reads, its value on the stack above).
RULE_PATHS = [
    ("dynamodb.pitr-enabled", "aws.dynamodb.table", "agenticai-data",
     "ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus", "ENABLED"),
    ("dynamodb.ttl-enabled", "aws.dynamodb.table", "agenticai-data",
     "TimeToLiveDescription.TimeToLiveStatus", "ENABLED"),
    ("dynamodb.on-demand-billing", "aws.dynamodb.table", "agenticai-data",
     "BillingModeSummary.BillingMode", "PAY_PER_REQUEST"),
    ("dynamodb.contributor-insights", "aws.dynamodb.table", "agenticai-data",
     "ContributorInsights.ContributorInsightsStatus", "ENABLED"),
    ("sqs.redrive-to-own-dlq", "aws.sqs.queue", "agenticai-pm-queue",
     "Attributes.RedrivePolicy.deadLetterTargetArn", DLQ_ARN),
    ("sqs.visibility-timeout-covers-consumers", "aws.sqs.queue", "agenticai-pm-queue",
     "Attributes.VisibilityTimeout", 180),
    ("lambda.runtime-not-deprecated", "aws.lambda.function", WORKER, "Runtime", "python3.12"),
    ("lambda.xray-tracing", "aws.lambda.function", WORKER, "TracingConfig.Mode", "Active"),
    ("lambda.worker-reserved-concurrency", "aws.lambda.function", WORKER,
     "Concurrency.ReservedConcurrentExecutions", 2),
    ("lambda.no-secret-env-vars", "aws.lambda.function", WORKER,
     "keys(Environment.Variables)", ["TABLE_NAME"]),
    ("lambda.worker-consumes-queue", "aws.lambda.function", WORKER,
     "EventSourceMappings[?State=='Enabled' || State=='Updating'].EventSourceArn | [?contains(@, ':sqs:')]",
     [QUEUE_ARN]),
    ("lambda.live-alias", "aws.lambda.function", WORKER,
     "type(Aliases) == 'array' && (Aliases[].join(' -> ', [Name, FunctionVersion]) || 'none') || `null`",
     ["live -> 1"]),
    ("logs.lambda-retention", "aws.logs.log_group", f"/aws/lambda/{WORKER}", "retentionInDays", 7),
    ("s3.code-versioning", "aws.s3.bucket", "agenticai-generated-code", "Versioning.Status", "Enabled"),
    ("s3.lifecycle-policy", "aws.s3.bucket", "agenticai-generated-code",
     "length(LifecycleConfiguration.Rules[?Status == 'Enabled'])", 1),
    ("s3.code-replication", "aws.s3.bucket", "agenticai-generated-code",
     "length(ReplicationConfiguration.Rules)", 1),
    ("apigateway.prod-stage", "aws.apigateway.rest_api", "agenticai-api", "Stages[].stageName", ["prod"]),
    ("budgets.alert-at-threshold", "aws.budgets.budget", "agenticai-monthly",
     "Notifications[].join(' ', [NotificationType || '?', ComparisonOperator || '?', to_string(Threshold), ThresholdType || 'PERCENTAGE (type not returned)'])",
     ["ACTUAL GREATER_THAN 80.0 PERCENTAGE"]),
    ("cloudwatch.dashboard-widgets", "aws.cloudwatch.dashboard", "agenticai-dashboard",
     "DashboardBody.widgets[].properties.metrics[][0]", ["AWS/SQS"]),
    ("ecs.websocket-service-running", "aws.ecs.service", "agenticai-websocket", "desiredCount", 1),
    ("lambda.gradual-deployment", "aws.codedeploy.deployment_group", "agenticai-pm-worker",
     "deploymentConfigName", "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"),
    ("ssm.parameters-securestring", "aws.ssm.parameter", "/agenticai/config/model", "Type", "String"),
]  # fmt: skip


@pytest.fixture(scope="module")
def loaded() -> Snapshot:
    return Snapshot(_document())


@pytest.fixture(scope="module")
def pack() -> PolicySet:
    return load_policy_set()


@pytest.mark.parametrize(("rule_id", "rtype", "name", "path", "value"), RULE_PATHS)
def test_the_packs_paths_resolve_on_the_template_snapshot(
    loaded: Snapshot, pack: PolicySet, rule_id: str, rtype: str, name: str, path: str, value: Any
) -> None:
    """The engine loads the document like a collection, and each rule's own path (taken
    from the shipped rule, not retyped) finds the template's value where it finds AWS's."""
    specs = {entry.spec["id"]: entry.spec for entry in pack.entries}
    assert path in set(_paths(specs[rule_id])), f"{rule_id} does not read {path}"
    (found,) = loaded.named(rtype, name)
    getter, _keys = compile_path(path)
    assert getter(found["data"]) == value
    assert getter(found["data"]) is not MISSING


#: What rules above read beside their template paths that only a running system has, which
#: leaves them not applicable before deploy. The service rule rightly (tasks run only once
#: deployed); the billing rule only through its evidence, which reads TableStatus to tell
#: "DescribeTable ran" from "no BillingModeSummary": a change for the pack, not a value to
#: make up.
RUNTIME_READS = {
    "ecs.websocket-service-running": {"runningCount", "status"},
}


def test_every_top_level_key_a_judged_rule_reads_is_declared_for_its_type(pack: PolicySet) -> None:
    rules = {rule.id: rule for rule in pack.compile()}
    keys = declared_keys()
    for rule_id, rtype, *_ in RULE_PATHS:
        undeclared = rules[rule_id].reads.get(rtype, set()) - set(keys[rtype])
        assert undeclared == RUNTIME_READS.get(rule_id, set()), rule_id


def test_the_stored_runtime_keys_are_the_collectors_declarations() -> None:
    """runtime_keys.json saves the gate loading botocore's models; it must never drift from
    them (regenerate: python -m runbook_guard.template.snapshot > template/runtime_keys.json)."""
    from runbook_guard.template.snapshot import derive_runtime_keys

    assert runtime_keys(declared_keys()) == derive_runtime_keys(declared_keys())
