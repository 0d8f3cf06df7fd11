"""Log groups, CloudWatch alarms and dashboards, and API Gateway REST APIs with their stages.

A function's log group is created by Lambda on first invocation when no stack declares it, with
no retention: such a group is synthesised (``implicit``) so the retention rules see what the
deployed account will have. A REST API's id is assigned by API Gateway: before deploy the
envelope's id holds ``<stack>.<LogicalId>`` where the id goes (``arn:aws:apigateway:REGION::
/restapis/<stack>.<LogicalId>``), and ``data.id`` is known after deploy; its stages are the
``AWS::ApiGateway::Stage`` resources whose ``RestApiId`` is a ``Ref`` to it, and the stage an
``AWS::ApiGateway::Deployment`` creates when it names a ``StageName``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.redaction import redacted_values
from runbook_guard.template.mapping_base import (
    ABSENT,
    EMPTY,
    Child,
    Ctx,
    Field,
    Props,
    Table,
    as_written,
    constant,
    each,
    get,
    referenced_id,
    shape,
    the_name,
)
from runbook_guard.template.mapping_values import boolean, integer, listed, number, text
from runbook_guard.template.model import Position, Unresolved

# Log groups ----------------------------------------------------------------------------------


def _group_arn(star: bool) -> Any:
    suffix = ":*" if star else ""
    return lambda props, ctx: ctx.named(lambda name: ctx.arn("logs", f"log-group:{name}{suffix}"))


LOG_GROUP = Table(
    "aws.logs.log_group",
    "AWS::Logs::LogGroup",
    fields=(
        Field("logGroupName", "LogGroupName", derive=the_name),
        Field("arn", "LogGroupName", derive=_group_arn(star=True)),
        Field("logGroupArn", "LogGroupName", derive=_group_arn(star=False)),
        # Absent = never expires, as DescribeLogGroups leaves it out.
        Field("retentionInDays", "RetentionInDays", convert=integer),
        Field("kmsKeyId", "KmsKeyId"),
        Field("logGroupClass", "LogGroupClass", default="STANDARD"),
    ),
    identity=lambda ctx: ctx.arn("logs", f"log-group:{ctx.display_name()}"),
    name_prop="LogGroupName",
)


def function_log_group(function: Ctx) -> Any:
    """The group a function logs to: its LoggingConfig's, else ``/aws/lambda/<name>``; the
    ``Unresolved`` of whichever the template leaves open."""
    written = get(function.props, "LoggingConfig.LogGroup")
    if isinstance(written, (str, Unresolved)):
        return written
    return function.named(lambda name: f"/aws/lambda/{name}")


# Alarms --------------------------------------------------------------------------------------


def _alarm_arn(props: Props, ctx: Ctx) -> Any:
    return ctx.named(lambda name: ctx.arn("cloudwatch", f"alarm:{name}"))


DIMENSION = (Field("Name", "Name"), Field("Value", "Value"))
METRIC = (
    Field("Namespace", "Namespace"),
    Field("MetricName", "MetricName"),
    Field("Dimensions", "Dimensions", convert=each(shape(DIMENSION))),
)
METRIC_QUERY = (
    Field("Id", "Id"),
    Field(
        "MetricStat",
        "MetricStat",
        convert=shape(
            (
                Field("Metric", "Metric", convert=shape(METRIC)),
                Field("Period", "Period", convert=integer),
                Field("Stat", "Stat"),
                Field("Unit", "Unit"),
            )
        ),
    ),
    Field("Expression", "Expression"),
    Field("Label", "Label"),
    # PutMetricAlarm: "If you omit this, the default of true is used."
    Field("ReturnData", "ReturnData", True, boolean),
    Field("Period", "Period", convert=integer),
    Field("AccountId", "AccountId"),
)
ACTIONS = (
    Field("ActionsEnabled", "ActionsEnabled", True, boolean),
    Field("AlarmActions", "AlarmActions", [], listed),
    Field("OKActions", "OKActions", [], listed),
    Field("InsufficientDataActions", "InsufficientDataActions", [], listed),
)


def _alarm_head(kind: str) -> tuple[Field, ...]:
    """What metric and composite alarms share: name, ARN, description, type and actions."""
    return (
        Field("AlarmName", "AlarmName", derive=the_name),
        Field("AlarmArn", "AlarmName", derive=_alarm_arn),
        Field("AlarmDescription", "AlarmDescription"),
        Field("AlarmType", derive=constant(kind)),
        *ACTIONS,
    )


ALARM = Table(
    "aws.cloudwatch.alarm",
    "AWS::CloudWatch::Alarm",
    fields=(
        *_alarm_head("MetricAlarm"),
        Field("MetricName", "MetricName"),
        Field("Namespace", "Namespace"),
        Field("Statistic", "Statistic"),
        Field("ExtendedStatistic", "ExtendedStatistic"),
        Field("Dimensions", "Dimensions", [], each(shape(DIMENSION))),
        Field("Period", "Period", convert=integer),
        Field("Unit", "Unit"),
        Field("EvaluationPeriods", "EvaluationPeriods", convert=integer),
        Field("DatapointsToAlarm", "DatapointsToAlarm", convert=integer),
        Field("Threshold", "Threshold", convert=number),
        Field("ThresholdMetricId", "ThresholdMetricId"),
        Field("ComparisonOperator", "ComparisonOperator"),
        Field("TreatMissingData", "TreatMissingData", default="missing"),
        Field("EvaluateLowSampleCountPercentile", "EvaluateLowSampleCountPercentile"),
        Field("Metrics", "Metrics", [], each(shape(METRIC_QUERY))),
    ),
    identity=lambda ctx: ctx.arn("cloudwatch", f"alarm:{ctx.display_name()}"),
    name_prop="AlarmName",
)
COMPOSITE_ALARM = Table(
    "aws.cloudwatch.alarm",
    "AWS::CloudWatch::CompositeAlarm",
    fields=(
        *_alarm_head("CompositeAlarm"),
        Field("AlarmRule", "AlarmRule"),
        Field("ActionsSuppressor", "ActionsSuppressor"),
        Field("ActionsSuppressorWaitPeriod", "ActionsSuppressorWaitPeriod", convert=integer),
        Field(
            "ActionsSuppressorExtensionPeriod", "ActionsSuppressorExtensionPeriod", convert=integer
        ),
    ),
    identity=lambda ctx: ctx.arn("cloudwatch", f"alarm:{ctx.display_name()}"),
    name_prop="AlarmName",
)

# Dashboards ----------------------------------------------------------------------------------


def _body(value: Any, ctx: Ctx) -> Any:
    """The body parsed, as the collector stores it. A body that is not JSON is what
    PutDashboard refuses and the collector records as an error: here, undeterminable.

    CloudFormation takes the body only as a string: a body written as a YAML mapping is
    refused at deploy, yet it already has the parsed shape, so left as written it would pass
    every widget rule on a dashboard that never exists.
    """
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as error:
            return _undeterminable(ctx, f"DashboardBody, which is not JSON ({error})")
    kind = type(value).__name__
    return _undeterminable(
        ctx, f"DashboardBody, which CloudFormation takes only as a string of JSON, not a {kind}"
    )


def _undeterminable(ctx: Ctx, what: str) -> Unresolved:
    at = ctx.where("DashboardBody")
    return Unresolved("unresolvable", what, Position(at["file"], at["line"], at["column"]))


DASHBOARD = Table(
    "aws.cloudwatch.dashboard",
    "AWS::CloudWatch::Dashboard",
    fields=(
        Field("DashboardName", "DashboardName", derive=the_name),
        Field(
            "DashboardArn",
            "DashboardName",
            derive=lambda props, ctx: ctx.named(
                lambda name: ctx.arn("cloudwatch", f"dashboard/{name}", region="")
            ),
        ),
        Field("DashboardBody", "DashboardBody", convert=_body),
    ),
    identity=lambda ctx: ctx.arn("cloudwatch", f"dashboard/{ctx.display_name()}", region=""),
    name_prop="DashboardName",
    is_global=True,
    tags_prop=None,
)

# API Gateway ---------------------------------------------------------------------------------

#: What GetStages answers for a method setting the template leaves out (throttling, which
#: falls back to the account's limits, is not known from the template and stays out).
METHOD_DEFAULTS = {
    "metricsEnabled": False,
    "loggingLevel": "OFF",
    "dataTraceEnabled": False,
    "cachingEnabled": False,
    "cacheTtlInSeconds": 300,
    "cacheDataEncrypted": False,
    "requireAuthorizationForCacheControl": True,
    "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
}
METHOD_SETTING = (
    Field("metricsEnabled", "MetricsEnabled", convert=boolean),
    Field("loggingLevel", "LoggingLevel"),
    Field("dataTraceEnabled", "DataTraceEnabled", convert=boolean),
    Field("throttlingBurstLimit", "ThrottlingBurstLimit", convert=integer),
    Field("throttlingRateLimit", "ThrottlingRateLimit", convert=number),
    Field("cachingEnabled", "CachingEnabled", convert=boolean),
    Field("cacheTtlInSeconds", "CacheTtlInSeconds", convert=integer),
    Field("cacheDataEncrypted", "CacheDataEncrypted", convert=boolean),
)


def _method_settings(value: Any, ctx: Ctx) -> Any:
    """CloudFormation's list as the API's map keyed ``<resource path>/<method>``: the path
    without its leading slash, already ``~1``-encoded in the template (``/*`` + ``*`` ->
    ``*/*``)."""
    if not isinstance(value, list):
        return value
    settings: dict[str, Any] = {}
    for item in value:
        if not isinstance(item, Mapping):
            return value
        path, method = item.get("ResourcePath", "/*"), item.get("HttpMethod", "*")
        for part in (path, method):
            if isinstance(part, Unresolved):
                return part
        written = shape(METHOD_SETTING)(item, ctx)
        settings[f"{str(path).removeprefix('/')}/{method}"] = {**METHOD_DEFAULTS, **written}
    return settings


STAGE = (
    Field("stageName", "StageName"),
    Field("description", "Description"),
    Field("cacheClusterEnabled", "CacheClusterEnabled", False, boolean),
    Field("cacheClusterSize", "CacheClusterSize"),
    Field("tracingEnabled", "TracingEnabled", False, boolean),
    Field("methodSettings", "MethodSettings", {}, _method_settings),
    Field(
        "accessLogSettings",
        "AccessLogSetting",
        convert=shape((Field("destinationArn", "DestinationArn"), Field("format", "Format"))),
    ),
    Field("variables", "Variables", convert=lambda value, ctx: redacted_values(value)),
    Field("clientCertificateId", "ClientCertificateId"),
    Field("documentationVersion", "DocumentationVersion"),
)


def _api_name(ctx: Ctx) -> Any:
    """``Name``, else the title of the OpenAPI body (SAM's APIs), which API Gateway takes."""
    name = ctx.props.get("Name")
    if name is not None:
        return text(name)
    body = ctx.props.get("Body")
    title = body.get("info", {}).get("title") if isinstance(body, Mapping) else None
    if isinstance(title, (str, Unresolved)):
        return title
    return Unresolved(
        "unresolvable",
        "the REST API's name (no Name, and no info.title in an inline Body)",
        ctx.resource.position,
    )


def _stage_of(api: Ctx, value: Any) -> bool:
    return referenced_id(value) == api.resource.logical_id


#: The method settings a deployment's StageDescription sets for the whole stage (``*/*``).
_STAGE_WIDE = tuple(row.prop for row in METHOD_SETTING if row.prop)


def _as_stage(cfn_type: str, props: Props) -> Props | None:
    """A deployment naming a ``StageName`` creates that stage, with its ``StageDescription``
    (the templates that declare no ``AWS::ApiGateway::Stage`` at all); one naming none
    creates no stage."""
    if cfn_type != "AWS::ApiGateway::Deployment":
        return props
    if props.get("StageName") is None:
        return None
    described = props.get("StageDescription", {})
    stage = {"RestApiId": props.get("RestApiId"), "StageName": props["StageName"]}
    if not isinstance(described, Mapping):
        return {**stage, "Description": described}  # open or malformed: the item is too
    wide = {key: described[key] for key in _STAGE_WIDE if key in described}
    settings = described.get("MethodSettings", [])
    if wide and isinstance(settings, list):
        settings = [{"ResourcePath": "/*", "HttpMethod": "*", **wide}, *settings]
    rest = {k: v for k, v in described.items() if k not in wide and k != "MethodSettings"}
    return {**rest, **stage, **({"MethodSettings": settings} if settings else {})}


REST_API = Table(
    "aws.apigateway.rest_api",
    "AWS::ApiGateway::RestApi",
    fields=(
        Field("id", after_deploy="the id API Gateway assigns to the REST API"),
        Field("name", "Name", derive=the_name),
        Field("description", "Description"),
        Field("apiKeySource", "ApiKeySourceType", default="HEADER"),
        Field(
            "endpointConfiguration",
            "EndpointConfiguration",
            default={"types": ["EDGE"]},
            convert=shape((Field("types", "Types"), Field("vpcEndpointIds", "VpcEndpointIds"))),
        ),
        Field("disableExecuteApiEndpoint", "DisableExecuteApiEndpoint", False, boolean),
        Field("binaryMediaTypes", "BinaryMediaTypes", convert=as_written),
        Field("minimumCompressionSize", "MinimumCompressionSize", convert=integer),
        Field("rootResourceId", after_deploy="the id API Gateway assigns to the root resource"),
    ),
    children=(
        Child(
            "Stages",
            ("AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment"),
            "RestApiId",
            STAGE,
            "StageName",
            _stage_of,
            view=_as_stage,
        ),
    ),
    identity=lambda ctx: ctx.arn("apigateway", f"/restapis/{ctx.standin}", account=""),
    name=_api_name,
)

TABLES = (LOG_GROUP, ALARM, COMPOSITE_ALARM, DASHBOARD, REST_API)
__all__ = ["ABSENT", "EMPTY", "TABLES", "function_log_group"]
