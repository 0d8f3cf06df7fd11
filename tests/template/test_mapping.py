"""What every envelope of a template carries: declaration, suppressions, tags, names; and what
the mapping refuses."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from runbook_guard.engine.errors import InputError
from runbook_guard.template.mapping import BY_CFN_TYPE, declared_keys, map_templates
from runbook_guard.template.model import Unresolved, UnresolvedKind
from runbook_guard.template.names import generated_name
from tests.template.test_mapping_fixtures import (
    FILE,
    STACK,
    at,
    mapped,
    one,
    resource,
    template,
    unresolvable,
)

SKIP_AT = {
    "Metadata.runbook-guard.skip[0]": at(15, 11),
    "Metadata.runbook-guard.skip[1]": at(17, 11),
}


def _table(metadata: dict[str, Any], positions: dict[str, Any] | None = None) -> Any:
    return resource(
        "DataTable",
        "AWS::DynamoDB::Table",
        {"TableName": "agenticai-data"},
        metadata=metadata,
        positions=positions or SKIP_AT,
    )


def test_a_resource_records_where_it_is_declared_and_where_sam_generated_it() -> None:
    function = one(
        mapped(
            resource(
                "WorkerFn", "AWS::Lambda::Function", {"FunctionName": "f"}, line=42, origin="Worker"
            )
        ),
        "aws.lambda.function",
        "WorkerFn",
    )
    assert {k: v for k, v in function["template"].items() if k != "keys"} == {
        "file": FILE,
        "line": 42,
        "column": 3,
        "logical_id": "WorkerFn",
        "cfn_type": "AWS::Lambda::Function",
        "origin": "Worker",
        "implicit": False,
    }


def test_suppressions_in_metadata_are_recorded_with_their_lines() -> None:
    table = one(
        mapped(
            _table(
                {
                    "runbook-guard": {
                        "skip": [
                            {
                                "id": "dynamodb.pitr-enabled",
                                "reason": "scratch data, rebuilt nightly",
                            },
                            {"id": "dynamodb.contributor-insights", "reason": " cost "},
                        ]
                    },
                    "cfn-lint": {"config": {"ignore_checks": ["W3011"]}},
                }
            )
        ),
        "aws.dynamodb.table",
        "DataTable",
    )
    assert table["suppressions"] == [
        {
            "rule": "dynamodb.contributor-insights",
            "reason": "cost",
            "file": FILE,
            "line": 17,
            "column": 11,
        },
        {
            "rule": "dynamodb.pitr-enabled",
            "reason": "scratch data, rebuilt nightly",
            "file": FILE,
            "line": 15,
            "column": 11,
        },
    ]


@pytest.mark.parametrize(
    ("skip", "message"),
    [
        ([{"id": "dynamodb.pitr-enabled"}], "needs a reason"),
        ([{"id": "dynamodb.pitr-enabled", "reason": "  "}], "needs a reason"),
        ([{"id": 7, "reason": "x"}], "id must be the id of the rule"),
        ([{"id": "dynamodb.pitr-enabled", "comment": "checkov style"}], "unknown key(s) comment"),
        (["dynamodb.pitr-enabled"], "a suppression is {id: RULE_ID, reason: why}"),
    ],
)
def test_a_suppression_without_a_reason_or_a_rule_id_is_bad_input_at_its_line(
    skip: list[Any], message: str
) -> None:
    with pytest.raises(InputError) as raised:
        mapped(_table({"runbook-guard": {"skip": skip}}))
    (problem,) = raised.value.problems
    assert problem.startswith(f"{FILE}:15:11: Resources.DataTable.Metadata.runbook-guard.skip[0]: ")
    assert message in problem


def test_a_malformed_runbook_guard_block_is_bad_input_at_the_resource() -> None:
    with pytest.raises(InputError) as raised:
        mapped(_table({"runbook-guard": {"skip": "all"}}, positions={}))
    assert raised.value.problems == [
        f"{FILE}:10:3: Resources.DataTable.Metadata.runbook-guard.skip: must be a list"
    ]


def test_tags_are_the_resources_own_plus_those_cloudformation_adds() -> None:
    envelopes = mapped(
        resource(
            "Queue",
            "AWS::SQS::Queue",
            {
                "Tags": [
                    {"Key": "team", "Value": "ops"},
                    {"Key": "cost", "Value": unresolvable("Ref Cost")},
                ]
            },
        ),
        resource(
            "Param",
            "AWS::SSM::Parameter",
            {"Name": "/p", "Type": "String", "Tags": {"team": "ops"}},
        ),
        resource(
            "Budget",
            "AWS::Budgets::Budget",
            {"Budget": {}, "ResourceTags": [{"Key": "k", "Value": "v"}]},
        ),
    )
    cfn = {"aws:cloudformation:logical-id": "Queue", "aws:cloudformation:stack-name": STACK}
    assert one(envelopes, "aws.sqs.queue", "Queue")["tags"] == {**cfn, "team": "ops"}
    assert one(envelopes, "aws.ssm.parameter", "Param")["tags"]["team"] == "ops"
    assert one(envelopes, "aws.budgets.budget", "Budget")["tags"]["k"] == "v"


def test_generated_names_follow_cloudformation_and_agree_with_the_readers() -> None:
    envelopes = mapped(
        resource("AppBucket", "AWS::S3::Bucket"),
        resource("A" * 70, "AWS::Lambda::Function", {"Runtime": "python3.12"}),
    )
    bucket = one(envelopes, "aws.s3.bucket", "AppBucket")
    assert bucket["name"] == generated_name(STACK, "AppBucket", "AWS::S3::Bucket")
    assert bucket["name"] == bucket["name"].lower()
    function = one(envelopes, "aws.lambda.function", "A" * 70)
    assert function["name"] == generated_name(STACK, "A" * 70, "AWS::Lambda::Function")
    assert len(function["name"]) == 64


def test_two_resources_with_one_identity_are_refused_naming_both() -> None:
    first = template(resource("Data", "AWS::DynamoDB::Table", {"TableName": "t"}))
    second = template(
        resource("Copy", "AWS::DynamoDB::Table", {"TableName": "t"}, line=30),
        stack="other-stack",
        display_path="other.yaml",
    )
    with pytest.raises(InputError) as raised:
        map_templates([first, second])
    assert raised.value.problems == [
        "infra/template.yaml:30:3: Resources.Copy: declares aws.dynamodb.table t again: also "
        "declared by Data at infra/template.yaml:10"
    ]


def test_types_without_a_mapping_are_left_out_and_never_declared() -> None:
    envelopes = mapped(
        resource("Role", "AWS::IAM::Role", {"RoleName": "r"}),
        resource("Version", "AWS::Lambda::Version", {"FunctionName": "f"}),
        resource("Topic", "AWS::SNS::Topic"),
    )
    assert envelopes == []
    keys = declared_keys()
    for never in ("aws.lambda.account", "aws.cloudtrail.event", "aws.freetier.usage"):
        assert never not in keys
    # Access keys and their users are a running account's: no template determines them.
    assert "aws.iam.user" not in keys
    assert "aws.iam.access_key" not in keys


def test_declared_keys_are_the_tables_and_leave_out_what_a_running_system_has() -> None:
    keys = declared_keys()
    assert keys["aws.dynamodb.table"] == [
        "AttributeDefinitions", "BillingModeSummary", "ContinuousBackupsDescription",
        "ContributorInsights", "DeletionProtectionEnabled", "GlobalSecondaryIndexes", "KeySchema",
        "ProvisionedThroughput", "SSEDescription", "StreamSpecification", "TableArn",
        "TableClassSummary", "TableName", "TimeToLiveDescription",
    ]  # fmt: skip
    running = {
        "aws.lambda.function": {"State", "LastUpdateStatus", "CodeSize", "LastModified", "Version"},
        "aws.cloudwatch.alarm": {"StateValue", "StateUpdatedTimestamp"},
        "aws.budgets.budget": {"CalculatedSpend"},
        "aws.cloudtrail.trail": {"Status"},
        "aws.ecs.service": {"runningCount", "status", "deployments"},
    }
    for rtype, absent in running.items():
        assert not absent & set(keys[rtype]), rtype
    # A key built of many properties lists its parts: the engine can tell a queue's
    # configuration (known) from its depth (not).
    assert "Attributes.VisibilityTimeout" in keys["aws.sqs.queue"]
    assert "Attributes.ApproximateNumberOfMessages" not in keys["aws.sqs.queue"]


#: One mapped property per CloudFormation type, and the data key it fills.
MAPPED_PROPERTY = [
    ("AWS::DynamoDB::GlobalTable", "BillingMode", "BillingModeSummary"),
    ("AWS::DynamoDB::Table", "TimeToLiveSpecification", "TimeToLiveDescription"),
    ("AWS::S3::Bucket", "VersioningConfiguration", "Versioning"),
    ("AWS::SQS::Queue", "RedrivePolicy", "Attributes"),
    ("AWS::Lambda::Function", "Runtime", "Runtime"),
    ("AWS::Logs::LogGroup", "RetentionInDays", "retentionInDays"),
    ("AWS::CloudWatch::Alarm", "Threshold", "Threshold"),
    ("AWS::CloudWatch::CompositeAlarm", "AlarmRule", "AlarmRule"),
    ("AWS::CloudWatch::Dashboard", "DashboardBody", "DashboardBody"),
    ("AWS::ApiGateway::RestApi", "Description", "description"),
    ("AWS::ECS::Cluster", "CapacityProviders", "capacityProviders"),
    ("AWS::ECS::Service", "DesiredCount", "desiredCount"),
    ("AWS::EC2::SecurityGroup", "GroupDescription", "Description"),
    ("AWS::Budgets::Budget", "Budget.TimeUnit", "TimeUnit"),
    ("AWS::CloudTrail::Trail", "IsMultiRegionTrail", "IsMultiRegionTrail"),
    ("AWS::SSM::Parameter", "Type", "Type"),
    ("AWS::CodeDeploy::DeploymentGroup", "DeploymentConfigName", "deploymentConfigName"),
]


def _nested(path: str, value: Any) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    return {head: _nested(rest, value) if rest else value}


def test_every_mapped_type_is_exercised_below() -> None:
    assert {cfn_type for cfn_type, *_ in MAPPED_PROPERTY} == set(BY_CFN_TYPE)


@pytest.mark.parametrize(("cfn_type", "prop", "key"), MAPPED_PROPERTY)
@pytest.mark.parametrize("kind", ["after_deploy", "unresolvable"])
def test_an_open_value_in_a_mapped_property_is_unknown_with_its_kind_reason_and_position(
    cfn_type: str, prop: str, key: str, kind: UnresolvedKind
) -> None:
    hole = Unresolved(kind, "Fn::ImportValue shared-value", at(91, 20))
    (envelope,) = [
        e
        for e in mapped(resource("Res", cfn_type, _nested(prop, hole)))
        if e["template"]["logical_id"] == "Res" and not e["template"]["implicit"]
    ]
    assert key not in envelope["data"]
    assert envelope["unknown"][key] == {
        "kind": kind,
        "reason": hole.reason(),
        "file": FILE,
        "line": 91,
        "column": 20,
    }
    top = prop.split(".")[0]
    located = envelope["template"]["keys"].get(key) or envelope["template"]["keys"].get(
        f"{key}.{prop}"
    )
    assert located == {"file": FILE, "line": 11, "column": 7, "property": f"Properties.{top}"}
    assert key not in envelope.get("defaults", [])


@pytest.mark.parametrize(("cfn_type", "prop", "key"), MAPPED_PROPERTY)
def test_a_resource_that_sets_nothing_has_no_key_positions_and_lists_its_defaults(
    cfn_type: str, prop: str, key: str
) -> None:
    (envelope,) = [e for e in mapped(resource("Res", cfn_type)) if not e["template"]["implicit"]]
    assert envelope["template"]["keys"] == {}
    defaults = envelope.get("defaults", [])
    assert defaults, cfn_type
    for default in defaults:
        top = default.split(".")[0]
        assert top in envelope["data"], (cfn_type, default)
    assert envelope["tags"] == {
        "aws:cloudformation:logical-id": "Res",
        "aws:cloudformation:stack-name": STACK,
    }


def test_decoder_values_become_plain_json() -> None:
    class Node(str):
        """A decoder's string node (cfn-lint's str_node is a str subclass)."""

    table = one(
        mapped(
            resource(
                "T",
                "AWS::DynamoDB::Table",
                {"TableName": Node("t"), "KeySchema": (date(2026, 1, 2),)},
            )
        ),
        "aws.dynamodb.table",
        "T",
    )
    assert type(table["data"]["TableName"]) is str
    assert table["data"]["KeySchema"] == ["2026-01-02"]
