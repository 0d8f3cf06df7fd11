"""Resources moto's CloudFormation does not model, created with the calls CloudFormation makes.

Alarms, budgets, trails, Lambda aliases, permissions and event source mappings, API Gateway
APIs (a SAM API's body names the function's alias), deployments and stages, SSM parameters,
CodeDeploy and bucket policies. Each creator is written from the CloudFormation resource
reference (property names, defaults, what ``Ref`` returns, the name CloudFormation generates
when the template sets none), never from runbook_guard's template mapping, and says which of
the resource's properties it applied; the others are recorded as not applied.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.template.deploy_context import Context, camel, pick


@dataclass
class Created:
    """A resource created here: what ``Ref`` returns and which properties were applied."""

    physical_id: str
    applied: set[str]


Creator = Callable[[Context, str, Mapping[str, Any]], Created]


_ALARM = {
    k: k
    for k in (
        "AlarmDescription",
        "ActionsEnabled",
        "AlarmActions",
        "OKActions",
        "InsufficientDataActions",
        "MetricName",
        "Namespace",
        "Statistic",
        "ExtendedStatistic",
        "Dimensions",
        "Period",
        "Unit",
        "EvaluationPeriods",
        "DatapointsToAlarm",
        "Threshold",
        "ComparisonOperator",
        "TreatMissingData",
        "EvaluateLowSampleCountPercentile",
        "Metrics",
        "ThresholdMetricId",
    )
}


def create_alarm(ctx: Context, logical_id: str, props: Mapping[str, Any]) -> Created:
    name = props.get("AlarmName") or ctx.physical_name(logical_id)
    ctx.client("cloudwatch").put_metric_alarm(AlarmName=name, **pick(props, _ALARM))
    return Created(name, {"AlarmName", *_ALARM} & set(props))


def create_budget(ctx: Context, logical_id: str, props: Mapping[str, Any]) -> Created:
    budget = dict(props["Budget"])
    budget.setdefault("BudgetName", ctx.physical_name(logical_id, 100))
    if "BudgetLimit" in budget:  # CloudFormation's Amount is a number, the API's a string
        budget["BudgetLimit"] = {
            **budget["BudgetLimit"],
            "Amount": str(budget["BudgetLimit"]["Amount"]),
        }
    budgets = ctx.client("budgets")
    budgets.create_budget(AccountId=ctx.account, Budget=budget)
    for entry in props.get("NotificationsWithSubscribers", []):
        budgets.create_notification(
            AccountId=ctx.account,
            BudgetName=budget["BudgetName"],
            Notification=entry["Notification"],
            Subscribers=entry["Subscribers"],
        )
    return Created(budget["BudgetName"], {"Budget", "NotificationsWithSubscribers"} & set(props))


_TRAIL = {
    k: k
    for k in (
        "S3BucketName",
        "S3KeyPrefix",
        "SnsTopicName",
        "IncludeGlobalServiceEvents",
        "IsMultiRegionTrail",
        "EnableLogFileValidation",
        "CloudWatchLogsLogGroupArn",
        "CloudWatchLogsRoleArn",
        "KmsKeyId",
        "IsOrganizationTrail",
    )
}


def create_trail(ctx: Context, logical_id: str, props: Mapping[str, Any]) -> Created:
    name = props.get("TrailName") or ctx.physical_name(logical_id, 128)
    trails = ctx.client("cloudtrail")
    trails.create_trail(Name=name, **pick(props, _TRAIL))
    if props.get("IsLogging"):  # CreateTrail leaves a trail stopped; CloudFormation starts it
        trails.start_logging(Name=name)
    return Created(name, {"TrailName", "IsLogging", *_TRAIL} & set(props))


def create_alias(ctx: Context, logical_id: str, props: Mapping[str, Any]) -> Created:
    answer = ctx.client("lambda").create_alias(
        **pick(
            props,
            {
                "FunctionName": "FunctionName",
                "Name": "Name",
                "FunctionVersion": "FunctionVersion",
                "Description": "Description",
                "RoutingConfig": "RoutingConfig",
            },
        ),
    )
    return Created(answer["AliasArn"], {"FunctionName", "Name", "FunctionVersion"} & set(props))


_MAPPING = {
    k: k
    for k in (
        "EventSourceArn",
        "FunctionName",
        "BatchSize",
        "Enabled",
        "FunctionResponseTypes",
        "MaximumBatchingWindowInSeconds",
        "ScalingConfig",
        "FilterCriteria",
        "StartingPosition",
    )
}


def create_event_source_mapping(ctx: Context, _id: str, props: Mapping[str, Any]) -> Created:
    answer = ctx.client("lambda").create_event_source_mapping(**pick(props, _MAPPING))
    return Created(answer["UUID"], set(_MAPPING) & set(props))


def create_permission(ctx: Context, logical_id: str, props: Mapping[str, Any]) -> Created:
    names = {
        "FunctionName": "FunctionName",
        "Action": "Action",
        "Principal": "Principal",
        "SourceArn": "SourceArn",
        "SourceAccount": "SourceAccount",
    }
    ctx.client("lambda").add_permission(StatementId=logical_id, **pick(props, names))
    return Created(logical_id, set(names) & set(props))


def create_rest_api(ctx: Context, logical_id: str, props: Mapping[str, Any]) -> Created:
    """CreateRestApi, then the Body's paths as resources and methods (moto imports only
    OpenAPI 3, and SAM writes Swagger 2.0, so the import is done call by call)."""
    apigateway = ctx.client("apigateway")
    extra = {}
    if "EndpointConfiguration" in props:
        extra["endpointConfiguration"] = {"types": props["EndpointConfiguration"]["Types"]}
    api = apigateway.create_rest_api(
        name=props.get("Name") or logical_id, description=props.get("Description", ""), **extra
    )["id"]
    ids = {"/": apigateway.get_resources(restApiId=api)["items"][0]["id"]}
    for path, methods in sorted(props.get("Body", {}).get("paths", {}).items()):
        parent = "/"
        for part in path.strip("/").split("/"):
            here = parent.rstrip("/") + "/" + part
            if here not in ids:
                ids[here] = apigateway.create_resource(
                    restApiId=api, parentId=ids[parent], pathPart=part
                )["id"]
            parent = here
        for verb, spec in sorted(methods.items()):
            method = "ANY" if verb == "x-amazon-apigateway-any-method" else verb.upper()
            apigateway.put_method(
                restApiId=api, resourceId=ids[path], httpMethod=method, authorizationType="NONE"
            )
            integration = spec.get("x-amazon-apigateway-integration", {})
            apigateway.put_integration(
                restApiId=api,
                resourceId=ids[path],
                httpMethod=method,
                type=integration["type"].upper(),
                integrationHttpMethod=integration["httpMethod"],
                uri=integration["uri"],
            )
    return Created(
        api, {"Name", "Description", "EndpointConfiguration", "Body", "Parameters"} & set(props)
    )


def create_deployment(ctx: Context, _id: str, props: Mapping[str, Any]) -> Created:
    names = {"RestApiId": "restApiId", "StageName": "stageName", "Description": "description"}
    answer = ctx.client("apigateway").create_deployment(**pick(props, names))
    return Created(answer["id"], set(names) & set(props))


#: MethodSettings keys -> the patch path under /<resource path>/<method>/ (UpdateStage).
_METHOD_SETTING_PATHS = {
    "MetricsEnabled": "metrics/enabled",
    "LoggingLevel": "logging/loglevel",
    "DataTraceEnabled": "logging/dataTrace",
    "ThrottlingBurstLimit": "throttling/burstLimit",
    "ThrottlingRateLimit": "throttling/rateLimit",
    "CachingEnabled": "caching/enabled",
    "CacheTtlInSeconds": "caching/ttlInSeconds",
    "CacheDataEncrypted": "caching/dataEncrypted",
}


def create_stage(ctx: Context, _id: str, props: Mapping[str, Any]) -> Created:
    names = {
        "RestApiId": "restApiId",
        "StageName": "stageName",
        "DeploymentId": "deploymentId",
        "Description": "description",
        "TracingEnabled": "tracingEnabled",
        "Variables": "variables",
        "CacheClusterEnabled": "cacheClusterEnabled",
    }
    apigateway = ctx.client("apigateway")
    apigateway.create_stage(**pick(props, names))
    patches = []
    for setting in props.get("MethodSettings", []):
        resource = setting.get("ResourcePath", "/*").lstrip("/").replace("/", "~1") or "~1"
        prefix = f"/{resource}/{setting.get('HttpMethod', '*')}"
        for key, path in _METHOD_SETTING_PATHS.items():
            if key in setting:
                value = (
                    str(setting[key]).lower()
                    if isinstance(setting[key], bool)
                    else str(setting[key])
                )
                patches.append({"op": "replace", "path": f"{prefix}/{path}", "value": value})
    if patches:
        apigateway.update_stage(
            restApiId=props["RestApiId"], stageName=props["StageName"], patchOperations=patches
        )
    return Created(props["StageName"], {"MethodSettings", *names} & set(props))


def create_parameter(ctx: Context, logical_id: str, props: Mapping[str, Any]) -> Created:
    names = {
        "Name": "Name",
        "Type": "Type",
        "Value": "Value",
        "Description": "Description",
        "AllowedPattern": "AllowedPattern",
        "Tier": "Tier",
        "DataType": "DataType",
    }
    arguments = pick(props, names)
    arguments.setdefault("Name", f"CFN-{ctx.physical_name(logical_id)}")
    ctx.client("ssm").put_parameter(**arguments)
    return Created(arguments["Name"], set(names) & set(props))


def create_application(ctx: Context, logical_id: str, props: Mapping[str, Any]) -> Created:
    name = props.get("ApplicationName") or ctx.physical_name(logical_id, 100)
    ctx.client("codedeploy").create_application(
        applicationName=name, computePlatform=props.get("ComputePlatform", "Server")
    )
    return Created(name, {"ApplicationName", "ComputePlatform"} & set(props))


def create_deployment_group(ctx: Context, logical_id: str, props: Mapping[str, Any]) -> Created:
    names = {
        "ApplicationName": "applicationName",
        "DeploymentConfigName": "deploymentConfigName",
        "ServiceRoleArn": "serviceRoleArn",
        "DeploymentStyle": "deploymentStyle",
        "AutoRollbackConfiguration": "autoRollbackConfiguration",
        "AlarmConfiguration": "alarmConfiguration",
    }
    name = props.get("DeploymentGroupName") or ctx.physical_name(logical_id, 100)
    ctx.client("codedeploy").create_deployment_group(
        deploymentGroupName=name, **camel(pick(props, names))
    )
    return Created(name, {"DeploymentGroupName", *names} & set(props))


def create_bucket_policy(ctx: Context, _id: str, props: Mapping[str, Any]) -> Created:
    ctx.client("s3").put_bucket_policy(
        Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"])
    )
    return Created(props["Bucket"], {"Bucket", "PolicyDocument"})


CREATE: dict[str, Creator] = {
    "AWS::CloudWatch::Alarm": create_alarm,
    "AWS::Budgets::Budget": create_budget,
    "AWS::CloudTrail::Trail": create_trail,
    "AWS::Lambda::Alias": create_alias,
    "AWS::Lambda::EventSourceMapping": create_event_source_mapping,
    "AWS::Lambda::Permission": create_permission,
    "AWS::ApiGateway::RestApi": create_rest_api,
    "AWS::ApiGateway::Deployment": create_deployment,
    "AWS::ApiGateway::Stage": create_stage,
    "AWS::SSM::Parameter": create_parameter,
    "AWS::CodeDeploy::Application": create_application,
    "AWS::CodeDeploy::DeploymentGroup": create_deployment_group,
    "AWS::S3::BucketPolicy": create_bucket_policy,
}
