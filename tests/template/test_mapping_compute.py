"""Lambda functions with what AWS reports inside them (aliases, event source mappings,
concurrency), their implicit log groups, and CodeDeploy deployment groups."""

from __future__ import annotations

from typing import Any

from tests.template.test_mapping_fixtures import (
    FILE,
    after_deploy,
    at,
    dumps,
    mapped,
    one,
    only,
    resource,
    unresolvable,
    where,
)

FN = "agenticai-pm-worker"
FN_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FN}"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:agenticai-pm-queue"
ROLE = "arn:aws:iam::123456789012:role/worker"


def _function(**extra: Any) -> Any:
    return resource("Worker", "AWS::Lambda::Function", {"FunctionName": FN, **extra})


def test_a_function_with_every_property_set_maps_to_its_configuration() -> None:
    function = only(
        "aws.lambda.function",
        "AWS::Lambda::Function",
        {
            "FunctionName": FN,
            "Runtime": "python3.12",
            "Handler": "app.handler",
            "Role": ROLE,
            "Description": "PM worker",
            "Timeout": "120",
            "MemorySize": 1024,
            "TracingConfig": {"Mode": "Active"},
            "Architectures": ["arm64"],
            "PackageType": "Zip",
            "Environment": {"Variables": {"TABLE": "agenticai-data", "API_KEY": "s3cr3t-value"}},
            "LoggingConfig": {"LogFormat": "JSON", "LogGroup": "/custom/worker"},
            "DeadLetterConfig": {"TargetArn": QUEUE_ARN},
            "Layers": ["arn:aws:lambda:us-east-1:123456789012:layer:common:3"],
            "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
            "EphemeralStorage": {"Size": 1024},
            "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k",
            "ReservedConcurrentExecutions": "5",
        },
    )
    assert (function["id"], function["name"]) == (FN_ARN, FN)
    assert function["data"] == {
        "FunctionName": FN,
        "FunctionArn": FN_ARN,
        "Runtime": "python3.12",
        "Handler": "app.handler",
        "Role": ROLE,
        "Description": "PM worker",
        "Timeout": 120,
        "MemorySize": 1024,
        "TracingConfig": {"Mode": "Active"},
        "Architectures": ["arm64"],
        "PackageType": "Zip",
        "Environment": {"Variables": {"TABLE": "<redacted>", "API_KEY": "<redacted>"}},
        "LoggingConfig": {"LogFormat": "JSON", "LogGroup": "/custom/worker"},
        "DeadLetterConfig": {"TargetArn": QUEUE_ARN},
        "Layers": [{"Arn": "arn:aws:lambda:us-east-1:123456789012:layer:common:3"}],
        "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
        "EphemeralStorage": {"Size": 1024},
        "KMSKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k",
        "Concurrency": {"ReservedConcurrentExecutions": 5},
        "Aliases": [],
        "EventSourceMappings": [],
    }
    assert function["defaults"] == ["Aliases", "EventSourceMappings"]
    assert function["template"]["keys"]["Timeout"] == where(16, "Properties.Timeout")
    assert function["template"]["keys"]["Concurrency"] == where(
        28, "Properties.ReservedConcurrentExecutions"
    )
    assert "s3cr3t-value" not in dumps(function)
    for key in ("State", "LastUpdateStatus", "CodeSize", "LastModified", "Version"):
        assert key not in function["data"]


def test_a_function_that_sets_nothing_has_lambdas_defaults() -> None:
    function = only("aws.lambda.function", "AWS::Lambda::Function", {"Runtime": "nodejs20.x"})
    name = function["name"]
    assert function["data"] == {
        "FunctionName": name,
        "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "Runtime": "nodejs20.x",
        "Description": "",
        "Timeout": 3,
        "MemorySize": 128,
        "TracingConfig": {"Mode": "PassThrough"},
        "Architectures": ["x86_64"],
        "PackageType": "Zip",
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
        "EphemeralStorage": {"Size": 512},
        "Concurrency": {},
        "Aliases": [],
        "EventSourceMappings": [],
    }
    assert set(function["defaults"]) == set(function["data"]) - {"Runtime"}


def test_an_unresolved_secret_value_leaves_the_names_known_and_the_value_nowhere() -> None:
    secret = unresolvable("Ref ApiKey (a parameter with no value)")
    function = one(
        mapped(_function(Environment={"Variables": {"API_KEY": secret, "MODE": "s3cr3t"}})),
        "aws.lambda.function",
        "Worker",
    )
    assert function["data"]["Environment"] == {
        "Variables": {"API_KEY": "<redacted>", "MODE": "<redacted>"}
    }
    assert "unknown" not in function
    assert "s3cr3t" not in dumps(function)


def test_a_wrong_type_goes_into_data_as_written() -> None:
    function = one(
        mapped(_function(Timeout="abc", MemorySize=True)), "aws.lambda.function", "Worker"
    )
    assert (function["data"]["Timeout"], function["data"]["MemorySize"]) == ("abc", True)


def _alias(logical_id: str, props: dict[str, Any], line: int = 60) -> Any:
    return resource(logical_id, "AWS::Lambda::Alias", props, line=line)


def test_aliases_naming_the_function_are_its_aliases_in_the_api_shape() -> None:
    envelopes = mapped(
        _function(),
        _alias(
            "WorkerLive",
            {
                "FunctionName": FN,
                "Name": "live",
                "FunctionVersion": 3,
                "RoutingConfig": {
                    "AdditionalVersionWeights": [{"FunctionVersion": "4", "FunctionWeight": 0.1}]
                },
            },
        ),
        _alias(
            "OtherAlias",
            {"FunctionName": "another-function", "Name": "live", "FunctionVersion": "1"},
        ),
    )
    function = one(envelopes, "aws.lambda.function", "Worker")
    assert function["data"]["Aliases"] == [
        {
            "AliasArn": f"{FN_ARN}:live",
            "Name": "live",
            "FunctionVersion": "3",
            "Description": "",
            "RoutingConfig": {"AdditionalVersionWeights": {"4": 0.1}},
        }
    ]
    assert function["template"]["keys"]["Aliases"] == where(
        62, "Resources.WorkerLive.Properties.Name"
    )


def test_an_alias_on_a_version_only_a_deploy_numbers_is_known_after_deploy() -> None:
    version = after_deploy("Fn::GetAtt WorkerVersion1a2b.Version", line=70)
    envelopes = mapped(
        _function(),
        _alias("WorkerAliaslive", {"FunctionName": FN, "Name": "live", "FunctionVersion": version}),
    )
    function = one(envelopes, "aws.lambda.function", "Worker")
    assert "Aliases" not in function["data"]
    assert function["unknown"]["Aliases"] == {
        "kind": "after_deploy",
        "reason": version.reason(),
        "file": FILE,
        "line": 70,
        "column": 20,
    }


def _mapping(logical_id: str, props: dict[str, Any]) -> Any:
    return resource(logical_id, "AWS::Lambda::EventSourceMapping", props, line=80)


def test_event_source_mappings_bound_to_the_function_or_its_alias_are_attached() -> None:
    kinesis = "arn:aws:kinesis:us-east-1:123456789012:stream/events"
    envelopes = mapped(
        _function(),
        _alias("WorkerAliaslive", {"FunctionName": FN, "Name": "live", "FunctionVersion": "1"}),
        # SAM binds an event to the alias: a Ref the reader leaves open, or its ARN.
        _mapping(
            "ByRef",
            {"FunctionName": after_deploy("Ref WorkerAliaslive"), "EventSourceArn": QUEUE_ARN},
        ),
        _mapping(
            "ByArn",
            {
                "FunctionName": f"{FN_ARN}:live",
                "EventSourceArn": kinesis,
                "Enabled": "false",
                "StartingPosition": "LATEST",
                "BatchSize": "50",
            },
        ),
        _mapping(
            "ByName",
            {
                "FunctionName": FN,
                "EventSourceArn": QUEUE_ARN,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "ScalingConfig": {"MaximumConcurrency": 5},
            },
        ),
        _mapping("Elsewhere", {"FunctionName": "other", "EventSourceArn": QUEUE_ARN}),
    )
    mappings = one(envelopes, "aws.lambda.function", "Worker")["data"]["EventSourceMappings"]
    assert mappings == [
        {
            "EventSourceArn": kinesis,
            "FunctionArn": f"{FN_ARN}:live",
            "BatchSize": 50,
            "MaximumBatchingWindowInSeconds": 0,
            "FunctionResponseTypes": [],
            "State": "Disabled",
            "StartingPosition": "LATEST",
        },
        {
            "EventSourceArn": QUEUE_ARN,
            "FunctionArn": FN_ARN,
            "BatchSize": 10,
            "MaximumBatchingWindowInSeconds": 0,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "State": "Enabled",
            "ScalingConfig": {"MaximumConcurrency": 5},
        },
        {
            "EventSourceArn": QUEUE_ARN,
            "FunctionArn": f"{FN_ARN}:live",
            "BatchSize": 10,
            "MaximumBatchingWindowInSeconds": 0,
            "FunctionResponseTypes": [],
            "State": "Enabled",
        },
    ]


def test_a_function_gets_the_log_group_lambda_creates_unless_one_is_declared() -> None:
    envelopes = mapped(
        _function(),
        resource("Declared", "AWS::Lambda::Function", {"FunctionName": "declared-fn"}, line=30),
        resource(
            "DeclaredLogs",
            "AWS::Logs::LogGroup",
            {"LogGroupName": "/aws/lambda/declared-fn", "RetentionInDays": 7},
            line=40,
        ),
        resource(
            "Custom",
            "AWS::Lambda::Function",
            {"FunctionName": "custom-fn", "LoggingConfig": {"LogGroup": "/custom/group"}},
            line=50,
        ),
    )
    groups = {e["name"]: e for e in envelopes if e["type"] == "aws.logs.log_group"}
    assert sorted(groups) == [
        "/aws/lambda/agenticai-pm-worker",
        "/aws/lambda/declared-fn",
        "/custom/group",
    ]
    implicit = groups["/aws/lambda/agenticai-pm-worker"]
    assert (
        implicit["id"]
        == "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/agenticai-pm-worker"
    )
    assert implicit["data"] == {
        "logGroupName": "/aws/lambda/agenticai-pm-worker",
        "arn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/agenticai-pm-worker:*",
        "logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/agenticai-pm-worker",
        "logGroupClass": "STANDARD",
    }
    assert implicit["template"] == {
        "file": FILE,
        "line": 10,
        "column": 3,
        "logical_id": "Worker",
        "cfn_type": "AWS::Logs::LogGroup",
        "origin": "Worker",
        "implicit": True,
        "keys": {},
    }
    assert "tags" not in implicit  # Lambda creates it, not CloudFormation
    assert groups["/custom/group"]["template"]["logical_id"] == "Custom"
    assert groups["/custom/group"]["template"]["implicit"] is True
    assert groups["/aws/lambda/declared-fn"]["template"]["implicit"] is False
    assert groups["/aws/lambda/declared-fn"]["data"]["retentionInDays"] == 7


def test_a_function_with_an_open_name_gets_an_implicit_group_with_an_open_name() -> None:
    hole = unresolvable("Fn::ImportValue worker-name")
    envelopes = mapped(resource("Worker", "AWS::Lambda::Function", {"FunctionName": hole}))
    group = one(envelopes, "aws.logs.log_group", "Worker")
    assert group["name"] == "agenticai-stack.Worker"
    assert set(group["unknown"]) == {"arn", "logGroupArn", "logGroupName"}
    assert group["unknown"]["logGroupName"]["reason"] == hole.reason()


APPLICATION = resource(
    "DeployApp", "AWS::CodeDeploy::Application", {"ComputePlatform": "Lambda"}, line=100
)


def test_a_deployment_group_maps_to_get_deployment_group_with_its_applications_platform() -> None:
    group = one(
        mapped(
            APPLICATION,
            resource(
                "WorkerDeploymentGroup",
                "AWS::CodeDeploy::DeploymentGroup",
                {
                    "ApplicationName": after_deploy("Ref DeployApp"),
                    "DeploymentConfigName": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
                    "DeploymentStyle": {
                        "DeploymentType": "BLUE_GREEN",
                        "DeploymentOption": "WITH_TRAFFIC_CONTROL",
                    },
                    "ServiceRoleArn": ROLE,
                    "AutoRollbackConfiguration": {
                        "Enabled": True,
                        "Events": ["DEPLOYMENT_FAILURE"],
                    },
                    "AlarmConfiguration": {"Enabled": "true", "Alarms": [{"Name": "errors"}]},
                },
            ),
        ),
        "aws.codedeploy.deployment_group",
        "WorkerDeploymentGroup",
    )
    assert group["data"] == {
        "deploymentGroupName": group["name"],
        "deploymentConfigName": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
        "computePlatform": "Lambda",
        "deploymentStyle": {
            "deploymentType": "BLUE_GREEN",
            "deploymentOption": "WITH_TRAFFIC_CONTROL",
        },
        "serviceRoleArn": ROLE,
        "autoRollbackConfiguration": {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
        "alarmConfiguration": {
            "enabled": True,
            "ignorePollAlarmFailure": False,
            "alarms": [{"name": "errors"}],
        },
    }
    # The application's name is CloudFormation's to generate: a Ref the reader left open.
    assert group["unknown"]["applicationName"]["kind"] == "after_deploy"
    assert group["unknown"]["deploymentGroupId"]["reason"].startswith("known after deploy")


def test_a_deployment_group_that_sets_nothing_takes_its_platforms_defaults() -> None:
    group = one(
        mapped(
            APPLICATION,
            resource(
                "Group", "AWS::CodeDeploy::DeploymentGroup", {"ApplicationName": "agenticai-app"}
            ),
            resource(
                "ServerApp",
                "AWS::CodeDeploy::Application",
                {"ApplicationName": "agenticai-app"},
                line=110,
            ),
        ),
        "aws.codedeploy.deployment_group",
        "Group",
    )
    assert (
        group["id"]
        == f"arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:agenticai-app/{group['name']}"
    )
    assert {
        k: group["data"][k] for k in ("computePlatform", "deploymentConfigName", "deploymentStyle")
    } == {
        "computePlatform": "Server",
        "deploymentConfigName": "CodeDeployDefault.OneAtATime",
        "deploymentStyle": {
            "deploymentType": "IN_PLACE",
            "deploymentOption": "WITHOUT_TRAFFIC_CONTROL",
        },
    }
    assert "deploymentConfigName" in group["defaults"]


def test_a_deployment_group_of_an_application_outside_the_template_cannot_say_its_platform() -> (
    None
):
    group = only(
        "aws.codedeploy.deployment_group",
        "AWS::CodeDeploy::DeploymentGroup",
        {"ApplicationName": "shared-app"},
    )
    assert group["unknown"]["computePlatform"]["kind"] == "unresolvable"
    assert "shared-app" in group["unknown"]["computePlatform"]["reason"]
    assert "deploymentConfigName" in group["unknown"]


def test_a_mapping_whose_function_is_undeterminable_leaves_every_functions_mappings_open() -> None:
    hole = unresolvable("Fn::ImportValue worker-function")
    envelopes = mapped(
        _function(),
        resource("Other", "AWS::Lambda::Function", {"FunctionName": "other"}, line=30),
        _mapping("Somewhere", {"FunctionName": hole, "EventSourceArn": QUEUE_ARN}),
    )
    for logical_id in ("Worker", "Other"):
        function = one(envelopes, "aws.lambda.function", logical_id)
        assert "EventSourceMappings" not in function["data"]
        assert function["unknown"]["EventSourceMappings"]["reason"] == hole.reason()


def test_an_implicit_log_group_carries_its_functions_suppressions() -> None:
    skip = {"runbook-guard": {"skip": [{"id": "logs.lambda-retention", "reason": "short-lived"}]}}
    envelopes = mapped(
        resource(
            "Worker",
            "AWS::Lambda::Function",
            {"FunctionName": FN},
            metadata=skip,
            positions={"Metadata.runbook-guard.skip[0]": at(14, 11)},
        )
    )
    group = one(envelopes, "aws.logs.log_group", "Worker")
    assert group["suppressions"] == [
        {
            "rule": "logs.lambda-retention",
            "reason": "short-lived",
            "file": FILE,
            "line": 14,
            "column": 11,
        }
    ]
