"""What moto's CloudFormation did with each property, measured, and the rest applied.

For every resource moto's CloudFormation created, each property a rule of the pack depends on
is read back from the service: if the live value is what the template asks for, CloudFormation
produced it; if not, the property is applied with the call CloudFormation makes (from the
resource reference: PITR is UpdateContinuousBackups, bucket versioning PutBucketVersioning, ...)
and read back again. A call moto refuses, or accepts and ignores, leaves the property ``not
applied`` with the reason, which the same-verdict test then has to explain.

Each comparison is made in the property's own terms (``Setting.want`` turns the template's
value into what ``Setting.read`` returns), so a default AWS fills in (PITR's 35 days) is not a
difference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from tests.template.deploy_compute import FUNCTION, OTHERS, QUEUE, configuration
from tests.template.deploy_context import CLOUDFORMATION, HELPER, UNCHECKED, Context, Setting
from tests.template.deploy_storage import BUCKET, TABLE, table_description

SETTINGS: dict[str, Mapping[str, Setting]] = {
    "AWS::DynamoDB::Table": TABLE,
    "AWS::S3::Bucket": BUCKET,
    "AWS::SQS::Queue": QUEUE,
    "AWS::Lambda::Function": FUNCTION,
    **OTHERS,
}


def complete(
    ctx: Context, cfn_type: str, physical_id: str, props: Mapping[str, Any]
) -> dict[str, str]:
    """Each property of a resource moto's CloudFormation created, with who produced it."""
    settings = SETTINGS.get(cfn_type, {})
    produced = {}
    for prop in sorted(props):
        setting = settings.get(prop)
        produced[prop] = (
            UNCHECKED if setting is None else settle(ctx, setting, physical_id, props[prop])
        )
    return produced


def settle(ctx: Context, setting: Setting, physical_id: str, value: Any) -> str:
    """Compare, apply if needed, compare again: the producer of the live value."""
    wanted = setting.want(value)
    before, _ = _attempt(lambda: setting.read(ctx, physical_id))
    if before == wanted:
        return CLOUDFORMATION
    _, refused = _attempt(lambda: setting.apply(ctx, physical_id, value))
    if refused:
        return refused
    after, refused = _attempt(lambda: setting.read(ctx, physical_id))
    if refused or after != wanted:
        return (
            refused or f"not applied: moto accepts the call and ignores it (reads back {after!r})"
        )
    return HELPER


def _attempt(call: Callable[[], Any]) -> tuple[Any, str | None]:
    """The call's answer, or why moto refused it."""
    try:
        return call(), None
    except ClientError as error:
        code, message = error.response["Error"]["Code"], error.response["Error"].get("Message", "")
        return None, f"not applied: {code}: {message}"
    except NotImplementedError as error:
        return None, f"not applied: moto does not implement it ({error})"


def _pairs(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def _regional_arn(ctx: Context, service: str, resource: str) -> str:
    return f"arn:{ctx.partition}:{service}:{ctx.region}:{ctx.account}:{resource}"


Tagger = Callable[[Context, str, Mapping[str, str]], Any]

#: How CloudFormation's stack tags reach each taggable type (by its physical id).
TAGGERS: dict[str, Tagger] = {
    "AWS::Lambda::Function": lambda c, p, t: c.client("lambda").tag_resource(
        Resource=configuration(c, p)["FunctionArn"], Tags=dict(t)
    ),
    "AWS::SQS::Queue": lambda c, p, t: c.client("sqs").tag_queue(QueueUrl=p, Tags=dict(t)),
    "AWS::DynamoDB::Table": lambda c, p, t: c.client("dynamodb").tag_resource(
        ResourceArn=table_description(c, p)["TableArn"], Tags=_pairs(t)
    ),
    "AWS::S3::Bucket": lambda c, p, t: c.client("s3").put_bucket_tagging(
        Bucket=p, Tagging={"TagSet": _pairs(t)}
    ),
    "AWS::Logs::LogGroup": lambda c, p, t: c.client("logs").tag_log_group(
        logGroupName=p, tags=dict(t)
    ),
    "AWS::CloudWatch::Alarm": lambda c, p, t: c.client("cloudwatch").tag_resource(
        ResourceARN=_regional_arn(c, "cloudwatch", f"alarm:{p}"), Tags=_pairs(t)
    ),
    "AWS::SNS::Topic": lambda c, p, t: c.client("sns").tag_resource(ResourceArn=p, Tags=_pairs(t)),
    "AWS::ECS::Service": lambda c, p, t: c.client("ecs").tag_resource(
        resourceArn=p, tags=[{"key": k, "value": v} for k, v in sorted(t.items())]
    ),
    "AWS::SSM::Parameter": lambda c, p, t: c.client("ssm").add_tags_to_resource(
        ResourceType="Parameter", ResourceId=p, Tags=_pairs(t)
    ),
    "AWS::CloudTrail::Trail": lambda c, p, t: c.client("cloudtrail").add_tags(
        ResourceId=_regional_arn(c, "cloudtrail", f"trail/{p}"), TagsList=_pairs(t)
    ),
    "AWS::ApiGateway::RestApi": lambda c, p, t: c.client("apigateway").tag_resource(
        resourceArn=f"arn:{c.partition}:apigateway:{c.region}::/restapis/{p}", tags=dict(t)
    ),
    "AWS::CodeDeploy::Application": lambda c, p, t: c.client("codedeploy").tag_resource(
        ResourceArn=_regional_arn(c, "codedeploy", f"application:{p}"), Tags=_pairs(t)
    ),
    "AWS::Budgets::Budget": lambda c, p, t: c.client("budgets").tag_resource(
        ResourceARN=f"arn:{c.partition}:budgets::{c.account}:budget/{p}", ResourceTags=_pairs(t)
    ),
}


def tag(ctx: Context, cfn_type: str, logical_id: str, physical_id: str) -> str | None:
    """Put CloudFormation's stack tags on the resource; None for a type not tagged here.

    moto's CloudFormation tags EC2 resources itself and nothing else, so those are read back.
    """
    if cfn_type == "AWS::EC2::SecurityGroup":
        group = ctx.client("ec2").describe_security_groups(GroupIds=[physical_id])[
            "SecurityGroups"
        ][0]
        tags = {t["Key"]: t["Value"] for t in group.get("Tags", [])}
        wanted = ctx.stack_tags(logical_id)
        return (
            CLOUDFORMATION
            if all(
                tags.get(k) == wanted[k]
                for k in ("aws:cloudformation:logical-id", "aws:cloudformation:stack-name")
            )
            else None
        )
    tagger = TAGGERS.get(cfn_type)
    if tagger is None:
        return None
    return _attempt(lambda: tagger(ctx, physical_id, ctx.stack_tags(logical_id)))[1] or HELPER
