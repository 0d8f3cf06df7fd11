"""Log groups, CloudWatch alarms and dashboards, and API Gateway REST APIs with their stages."""

from __future__ import annotations

import json

from runbook_guard.template.model import TemplateResource
from tests.template.test_mapping_fixtures import (
    FILE,
    after_deploy,
    mapped,
    one,
    only,
    resource,
    where,
)

GROUP_ARN = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/agenticai-websocket"
TOPIC = "arn:aws:sns:us-east-1:123456789012:agenticai-alerts"
ALARM_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:agenticai-pm-queue-depth"


def test_a_log_group_keeps_retention_only_when_set_as_describe_log_groups_does() -> None:
    group = only(
        "aws.logs.log_group",
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": "/ecs/agenticai-websocket",
            "RetentionInDays": "14",
            "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k",
            "LogGroupClass": "INFREQUENT_ACCESS",
        },
    )
    assert (group["id"], group["name"]) == (GROUP_ARN, "/ecs/agenticai-websocket")
    assert group["data"] == {
        "logGroupName": "/ecs/agenticai-websocket",
        "arn": f"{GROUP_ARN}:*",
        "logGroupArn": GROUP_ARN,
        "retentionInDays": 14,
        "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k",
        "logGroupClass": "INFREQUENT_ACCESS",
    }
    assert group["template"]["keys"]["retentionInDays"] == where(12, "Properties.RetentionInDays")
    bare = only("aws.logs.log_group", "AWS::Logs::LogGroup", {"LogGroupName": "/x"})
    assert "retentionInDays" not in bare["data"]  # never expires
    assert bare["data"]["logGroupClass"] == "STANDARD"
    assert bare["defaults"] == ["logGroupClass"]


def test_a_metric_alarm_maps_to_describe_alarms_field_names() -> None:
    alarm = only(
        "aws.cloudwatch.alarm",
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "agenticai-pm-queue-depth",
            "AlarmDescription": "depth",
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": "agenticai-pm-queue"}],
            "Statistic": "Maximum",
            "Period": "300",
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "Threshold": 500,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "ActionsEnabled": "true",
            "AlarmActions": [TOPIC],
            "OKActions": [TOPIC],
            "Unit": "Count",
        },
    )
    assert (alarm["id"], alarm["name"]) == (ALARM_ARN, "agenticai-pm-queue-depth")
    assert alarm["data"] == {
        "AlarmName": "agenticai-pm-queue-depth",
        "AlarmArn": ALARM_ARN,
        "AlarmDescription": "depth",
        "AlarmType": "MetricAlarm",
        "ActionsEnabled": True,
        "AlarmActions": [TOPIC],
        "OKActions": [TOPIC],
        "InsufficientDataActions": [],
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "Namespace": "AWS/SQS",
        "Statistic": "Maximum",
        "Dimensions": [{"Name": "QueueName", "Value": "agenticai-pm-queue"}],
        "Period": 300,
        "Unit": "Count",
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "Threshold": 500.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "Metrics": [],
    }
    assert alarm["defaults"] == ["InsufficientDataActions", "Metrics"]
    for key in ("StateValue", "StateUpdatedTimestamp", "StateReason"):
        assert key not in alarm["data"]


def test_a_metric_math_alarm_keeps_its_queries_with_returndata_as_aws_fills_it() -> None:
    metric = {
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
    }
    alarm = only(
        "aws.cloudwatch.alarm",
        "AWS::CloudWatch::Alarm",
        {
            "EvaluationPeriods": 1,
            "Threshold": 0.5,
            "ComparisonOperator": "GreaterThanThreshold",
            "Metrics": [
                {
                    "Id": "e",
                    "MetricStat": {"Metric": metric, "Period": 300, "Stat": "Sum"},
                    "ReturnData": False,
                },
                {"Id": "rate", "Expression": "e / 10", "Label": "rate"},
            ],
        },
    )
    assert alarm["data"]["Metrics"] == [
        {
            "Id": "e",
            "MetricStat": {"Metric": metric, "Period": 300, "Stat": "Sum"},
            "ReturnData": False,
        },
        {"Id": "rate", "Expression": "e / 10", "Label": "rate", "ReturnData": True},
    ]
    assert alarm["data"]["Dimensions"] == []
    assert alarm["data"]["ActionsEnabled"] is True
    assert alarm["data"]["TreatMissingData"] == "missing"
    assert {"ActionsEnabled", "AlarmActions", "TreatMissingData"} <= set(alarm["defaults"])


def test_a_composite_alarm_is_an_alarm_of_type_compositealarm() -> None:
    alarm = only(
        "aws.cloudwatch.alarm",
        "AWS::CloudWatch::CompositeAlarm",
        {
            "AlarmName": "agenticai-any",
            "AlarmRule": "ALARM(a) OR ALARM(b)",
            "AlarmActions": [TOPIC],
        },
    )
    assert alarm["data"] == {
        "AlarmName": "agenticai-any",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:agenticai-any",
        "AlarmType": "CompositeAlarm",
        "ActionsEnabled": True,
        "AlarmActions": [TOPIC],
        "OKActions": [],
        "InsufficientDataActions": [],
        "AlarmRule": "ALARM(a) OR ALARM(b)",
    }


BODY = {
    "widgets": [
        {
            "type": "metric",
            "properties": {"metrics": [["AWS/SQS", "ApproximateAgeOfOldestMessage"]]},
        }
    ]
}


def test_a_dashboard_is_global_with_its_body_parsed() -> None:
    dashboard = only(
        "aws.cloudwatch.dashboard",
        "AWS::CloudWatch::Dashboard",
        {"DashboardName": "agenticai-dashboard", "DashboardBody": json.dumps(BODY)},
    )
    assert (dashboard["id"], dashboard["region"]) == (
        "arn:aws:cloudwatch::123456789012:dashboard/agenticai-dashboard",
        "global",
    )
    assert dashboard["data"] == {
        "DashboardName": "agenticai-dashboard",
        "DashboardArn": "arn:aws:cloudwatch::123456789012:dashboard/agenticai-dashboard",
        "DashboardBody": BODY,
    }


def test_a_dashboard_body_that_is_not_json_is_undeterminable_as_a_failed_get_dashboard_is() -> None:
    dashboard = only(
        "aws.cloudwatch.dashboard",
        "AWS::CloudWatch::Dashboard",
        {"DashboardName": "d", "DashboardBody": "{not json"},
    )
    assert "DashboardBody" not in dashboard["data"]
    hole = dashboard["unknown"]["DashboardBody"]
    assert (hole["kind"], hole["file"], hole["line"], hole["column"]) == (
        "unresolvable",
        FILE,
        12,
        7,
    )
    assert "DashboardBody, which is not JSON" in hole["reason"]


def _api(**extra: object) -> TemplateResource:
    return resource("Api", "AWS::ApiGateway::RestApi", {"Name": "agenticai-api", **extra})


def _stage(logical_id: str, api: object, **props: object) -> TemplateResource:
    return resource(logical_id, "AWS::ApiGateway::Stage", {"RestApiId": api, **props}, line=50)


def test_a_rest_api_carries_its_stages_in_the_get_stages_shape() -> None:
    envelopes = mapped(
        _api(EndpointConfiguration={"Types": ["REGIONAL"]}),
        _stage(
            "ApiProdStage",
            after_deploy("Ref Api"),
            StageName="prod",
            DeploymentId=after_deploy("Ref ApiDeployment1"),
            TracingEnabled=True,
            Variables={"GEMINI_API_KEY": "s3cr3t"},
            AccessLogSetting={"DestinationArn": GROUP_ARN, "Format": "$context.requestId"},
            MethodSettings=[
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": 1000,
                    "ThrottlingBurstLimit": "2000",
                    "LoggingLevel": "ERROR",
                    "MetricsEnabled": True,
                },
                {"ResourcePath": "/~1items", "HttpMethod": "GET", "CachingEnabled": True},
            ],
        ),
        _stage("OtherApiStage", after_deploy("Ref OtherApi"), StageName="dev"),
    )
    api = one(envelopes, "aws.apigateway.rest_api", "Api")
    assert api["id"] == "arn:aws:apigateway:us-east-1::/restapis/agenticai-stack.Api"
    assert api["name"] == "agenticai-api"
    defaults = {
        "metricsEnabled": False,
        "loggingLevel": "OFF",
        "dataTraceEnabled": False,
        "cachingEnabled": False,
        "cacheTtlInSeconds": 300,
        "cacheDataEncrypted": False,
        "requireAuthorizationForCacheControl": True,
        "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
    }
    assert api["data"] == {
        "name": "agenticai-api",
        "apiKeySource": "HEADER",
        "endpointConfiguration": {"types": ["REGIONAL"]},
        "disableExecuteApiEndpoint": False,
        "Stages": [
            {
                "stageName": "prod",
                "cacheClusterEnabled": False,
                "tracingEnabled": True,
                "methodSettings": {
                    "*/*": {
                        **defaults,
                        "metricsEnabled": True,
                        "loggingLevel": "ERROR",
                        "throttlingBurstLimit": 2000,
                        "throttlingRateLimit": 1000.0,
                    },
                    "~1items/GET": {**defaults, "cachingEnabled": True},
                },
                "accessLogSettings": {"destinationArn": GROUP_ARN, "format": "$context.requestId"},
                "variables": {"GEMINI_API_KEY": "<redacted>"},
            }
        ],
    }
    assert sorted(api["unknown"]) == ["id", "rootResourceId"]
    assert api["unknown"]["id"] == {
        "kind": "after_deploy",
        "reason": "known after deploy: the id API Gateway assigns to the REST API",
        "file": FILE,
        "line": 10,
        "column": 3,
    }
    assert api["template"]["keys"]["Stages"] == where(
        52, "Resources.ApiProdStage.Properties.StageName"
    )
    assert "s3cr3t" not in json.dumps(api)


def test_a_rest_api_without_a_name_takes_its_openapi_title_and_without_stages_has_none() -> None:
    api = only(
        "aws.apigateway.rest_api",
        "AWS::ApiGateway::RestApi",
        {"Body": {"openapi": "3.0.1", "info": {"title": "agenticai-stack", "version": "1.0"}}},
    )
    assert api["name"] == "agenticai-stack"
    assert api["data"]["Stages"] == []
    assert "Stages" in api["defaults"]
    anonymous = only("aws.apigateway.rest_api", "AWS::ApiGateway::RestApi")
    assert anonymous["unknown"]["name"]["kind"] == "unresolvable"
