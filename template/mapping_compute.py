"""Lambda functions (with their aliases, event source mappings and reserved concurrency) and
the CodeDeploy deployment groups that shift traffic between their versions.

A function's ``Aliases`` and ``EventSourceMappings`` are separate CloudFormation resources
that name the function (by name, ARN, alias ARN, or a ``Ref`` the reader leaves open); they
are folded into the function as ListAliases and ListEventSourceMappings report them. Nothing
AWS assigns (a mapping's UUID, an alias's RevisionId, a version number) is made up: an alias
pointing at ``!GetAtt Version.Version`` leaves ``Aliases`` known only after deploy.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from runbook_guard.collectors.redaction import redacted_values
from runbook_guard.template.mapping_base import (
    EMPTY,
    Child,
    Ctx,
    Field,
    Props,
    Table,
    camel,
    each,
    get,
    referenced_id,
    shape,
    the_name,
)
from runbook_guard.template.mapping_values import boolean, integer, status, text
from runbook_guard.template.model import Unresolved
from runbook_guard.template.names import generated_name

# Lambda --------------------------------------------------------------------------------------


def _function_arn(ctx: Ctx) -> Any:
    return ctx.named(lambda name: ctx.arn("lambda", f"function:{name}"))


def _target(value: Any) -> tuple[str, str] | None:
    """(function name, qualifier) a name, ``name:qualifier``, or a (partial) ARN names."""
    return _split(value) if isinstance(value, str) and value else None


@cache
def _split(value: str) -> tuple[str, str]:
    parts = value.split(":")
    if value.startswith("arn:") and len(parts) >= 7:
        return parts[6], ":".join(parts[7:])
    if len(parts) >= 3 and parts[1] == "function":  # ACCOUNT:function:NAME[:QUALIFIER]
        return parts[2], ":".join(parts[3:])
    return parts[0], ":".join(parts[1:])


def _alias_of(ctx: Ctx, value: Any) -> Ctx | None:
    """The alias resource an open ``Ref`` names, as a context, if it is one."""
    target = ctx.ref(value)
    if target is None or target.type != "AWS::Lambda::Alias":
        return None
    return Ctx.of(ctx.scope, target)


def _qualifier(function: Ctx, value: Any) -> Any:
    """Whether ``value`` names ``function``: None if not, else its qualifier ("" for none, an
    alias's name, or the ``Unresolved`` name of an alias the template leaves open)."""
    if isinstance(value, Unresolved):
        if referenced_id(value) == function.resource.logical_id:
            return ""
        alias = _alias_of(function, value)
        if alias is not None and _qualifier(function, get(alias.props, "FunctionName")) == "":
            name = get(alias.props, "Name")
            return name if isinstance(name, (str, Unresolved)) else text(name)
        return None
    target = _target(value)
    if target is None or not isinstance(function.name, str) or target[0] != function.name:
        return None
    return target[1]


def _owns(function: Ctx, value: Any) -> bool:
    return _qualifier(function, value) is not None


def _qualified_arn(props: Props, ctx: Ctx) -> Any:
    function = ctx.parent
    assert function is not None
    qualifier = _qualifier(function, props.get("FunctionName"))
    if isinstance(qualifier, Unresolved):
        return qualifier
    return function.named(
        lambda name: ctx.arn("lambda", f"function:{name}" + (f":{qualifier}" if qualifier else ""))
    )


def _alias_arn(props: Props, ctx: Ctx) -> Any:
    name = props.get("Name")
    function = ctx.parent
    assert function is not None
    if not isinstance(name, str):
        return name
    return function.named(lambda fn: ctx.arn("lambda", f"function:{fn}:{name}"))


def _weights(value: Any, ctx: Ctx) -> Any:
    """CloudFormation's ``[{FunctionVersion, FunctionWeight}]`` as the API's version->weight."""
    weights = value.get("AdditionalVersionWeights") if isinstance(value, Mapping) else None
    if not isinstance(weights, list):
        return value
    pairs: dict[str, Any] = {}
    for item in weights:
        if not isinstance(item, Mapping) or not isinstance(item.get("FunctionVersion"), str):
            return item if isinstance(item, Unresolved) else value  # as written
        pairs[item["FunctionVersion"]] = item.get("FunctionWeight")
    return {"AdditionalVersionWeights": pairs}


ALIAS = (
    Field("AliasArn", derive=_alias_arn),
    Field("Name", "Name"),
    Field("FunctionVersion", "FunctionVersion", convert=text),
    Field("Description", "Description", default=""),
    Field("RoutingConfig", "RoutingConfig", convert=_weights),
)


def _batch_size(props: Props, ctx: Ctx) -> Any:
    """10 for SQS, 100 for the stream and broker sources (Lambda's CreateEventSourceMapping)."""
    source = props.get("EventSourceArn")
    if isinstance(source, Unresolved):
        return source
    return 10 if isinstance(source, str) and ":sqs:" in source else 100


MAPPING = (
    Field("EventSourceArn", "EventSourceArn"),
    Field("FunctionArn", derive=_qualified_arn),
    Field("BatchSize", "BatchSize", default=_batch_size, convert=integer),
    Field("MaximumBatchingWindowInSeconds", "MaximumBatchingWindowInSeconds", 0, integer),
    Field("FunctionResponseTypes", "FunctionResponseTypes", default=[]),
    Field("State", "Enabled", default="Enabled", convert=status("Enabled", "Disabled")),
    Field("ScalingConfig", "ScalingConfig"),
    Field("StartingPosition", "StartingPosition"),
    Field("FilterCriteria", "FilterCriteria"),
    Field("DestinationConfig", "DestinationConfig"),
    Field("MaximumRetryAttempts", "MaximumRetryAttempts", convert=integer),
    Field("MaximumRecordAgeInSeconds", "MaximumRecordAgeInSeconds", convert=integer),
    Field("BisectBatchOnFunctionError", "BisectBatchOnFunctionError", convert=boolean),
    Field("ParallelizationFactor", "ParallelizationFactor", convert=integer),
    Field("TumblingWindowInSeconds", "TumblingWindowInSeconds", convert=integer),
    Field("Topics", "Topics"),
    Field("Queues", "Queues"),
)


def _environment(value: Any, ctx: Ctx) -> Any:
    """Names kept, every value replaced, before anything looks for an open value: an
    unresolved secret must not make the names unknown, and no value ever reaches a report."""
    if isinstance(value, Mapping) and "Variables" in value:
        return {**value, "Variables": redacted_values(value["Variables"])}
    return value


LOGGING = (
    Field("LogFormat", "LogFormat", default="Text"),
    Field("ApplicationLogLevel", "ApplicationLogLevel"),
    Field("SystemLogLevel", "SystemLogLevel"),
    Field(
        "LogGroup",
        "LogGroup",
        default=lambda props, ctx: ctx.named(lambda name: f"/aws/lambda/{name}"),
    ),
)
LAMBDA_FUNCTION = Table(
    "aws.lambda.function",
    "AWS::Lambda::Function",
    fields=(
        Field("FunctionName", "FunctionName", derive=the_name),
        Field("FunctionArn", "FunctionName", derive=lambda props, ctx: _function_arn(ctx)),
        Field("Runtime", "Runtime"),
        Field("Handler", "Handler"),
        Field("Role", "Role"),
        Field("Description", "Description", default=""),
        Field("Timeout", "Timeout", 3, integer),
        Field("MemorySize", "MemorySize", 128, integer),
        Field(
            "TracingConfig", "TracingConfig", EMPTY, shape((Field("Mode", "Mode", "PassThrough"),))
        ),
        Field("Architectures", "Architectures", default=["x86_64"]),
        Field("PackageType", "PackageType", default="Zip"),
        Field("Environment", "Environment", convert=_environment),
        Field("LoggingConfig", "LoggingConfig", EMPTY, shape(LOGGING)),
        Field("DeadLetterConfig", "DeadLetterConfig"),
        Field("Layers", "Layers", convert=each(lambda layer, ctx: {"Arn": layer})),
        Field(
            "VpcConfig",
            "VpcConfig",
            convert=shape(
                (
                    Field("SubnetIds", "SubnetIds"),
                    Field("SecurityGroupIds", "SecurityGroupIds"),
                    Field("Ipv6AllowedForDualStack", "Ipv6AllowedForDualStack", convert=boolean),
                )
            ),
        ),
        Field(
            "EphemeralStorage",
            "EphemeralStorage",
            {"Size": 512},
            shape((Field("Size", "Size", convert=integer),)),
        ),
        Field("KMSKeyArn", "KmsKeyArn"),
        Field(
            "Concurrency",
            "ReservedConcurrentExecutions",
            default={},
            convert=lambda value, ctx: {"ReservedConcurrentExecutions": integer(value)},
        ),
    ),
    children=(
        Child("Aliases", ("AWS::Lambda::Alias",), "FunctionName", ALIAS, "Name", _owns),
        Child(
            "EventSourceMappings",
            ("AWS::Lambda::EventSourceMapping",),
            "FunctionName",
            MAPPING,
            "EventSourceArn",
            _owns,
        ),
    ),
    identity=lambda ctx: ctx.arn("lambda", f"function:{ctx.display_name()}"),
    name_prop="FunctionName",
)

# CodeDeploy ----------------------------------------------------------------------------------


def _application(ctx: Ctx) -> Any:
    """The CodeDeploy application resource the group names, and its compute platform."""
    named = ctx.props.get("ApplicationName")
    for other in ctx.scope.of_type("AWS::CodeDeploy::Application"):
        props = Ctx.of(ctx.scope, other).props
        name = props.get("ApplicationName") or generated_name(
            ctx.template.stack_name, other.logical_id, other.type
        )
        if referenced_id(named) == other.logical_id or named == name:
            return props.get("ComputePlatform", "Server")
    if isinstance(named, Unresolved):
        return named
    return Unresolved(
        "unresolvable",
        f"the compute platform of CodeDeploy application {named}, which the template does not "
        "declare",
        ctx.resource.position,
    )


_PLATFORM_DEFAULTS = {
    "Lambda": ("CodeDeployDefault.LambdaAllAtOnce", "BLUE_GREEN", "WITH_TRAFFIC_CONTROL"),
    "ECS": ("CodeDeployDefault.ECSAllAtOnce", "BLUE_GREEN", "WITH_TRAFFIC_CONTROL"),
    "Server": ("CodeDeployDefault.OneAtATime", "IN_PLACE", "WITHOUT_TRAFFIC_CONTROL"),
}


def _by_platform(index: int) -> Any:
    def default(props: Props, ctx: Ctx) -> Any:
        platform = _application(ctx)
        if not isinstance(platform, str) or platform not in _PLATFORM_DEFAULTS:
            return platform
        return _PLATFORM_DEFAULTS[platform][index]

    return default


def _style(props: Props, ctx: Ctx) -> Any:
    written = props.get("DeploymentStyle", {})
    if not isinstance(written, Mapping):
        return written
    return {
        "deploymentType": written.get("DeploymentType", _by_platform(1)(props, ctx)),
        "deploymentOption": written.get("DeploymentOption", _by_platform(2)(props, ctx)),
    }


def _group_identity(ctx: Ctx) -> str:
    application = ctx.props.get("ApplicationName")
    shown = application if isinstance(application, str) else ctx.standin
    return ctx.arn("codedeploy", f"deploymentgroup:{shown}/{ctx.display_name()}")


DEPLOYMENT_GROUP = Table(
    "aws.codedeploy.deployment_group",
    "AWS::CodeDeploy::DeploymentGroup",
    fields=(
        Field("applicationName", "ApplicationName", convert=text),
        Field("deploymentGroupName", "DeploymentGroupName", derive=the_name),
        Field("deploymentGroupId", after_deploy="the id CodeDeploy assigns to the group"),
        Field("deploymentConfigName", "DeploymentConfigName", default=_by_platform(0)),
        Field("computePlatform", "ApplicationName", derive=lambda props, ctx: _application(ctx)),
        Field("deploymentStyle", "DeploymentStyle", derive=_style),
        Field("serviceRoleArn", "ServiceRoleArn"),
        Field(
            "autoRollbackConfiguration",
            "AutoRollbackConfiguration",
            convert=shape((*camel("Enabled", convert=boolean), *camel("Events"))),
        ),
        Field(
            "alarmConfiguration",
            "AlarmConfiguration",
            convert=shape(
                (
                    *camel("Enabled", convert=boolean),
                    Field("ignorePollAlarmFailure", "IgnorePollAlarmFailure", False, boolean),
                    Field("alarms", "Alarms", convert=each(shape(camel("Name")))),
                )
            ),
        ),
    ),
    identity=_group_identity,
    name_prop="DeploymentGroupName",
)

TABLES = (LAMBDA_FUNCTION, DEPLOYMENT_GROUP)
