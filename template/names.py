"""Names and ARNs as CloudFormation and AWS build them, shared by the reader and the mapper.

A resource whose template sets no physical name gets one from CloudFormation:
``<stack>-<LogicalId>-<suffix>``, cut to the type's length limit (S3 lower-cases it). The pack's
name patterns (``^agenticai-``) select on that name, so the gate must build it the same way;
the random suffix is replaced by one derived from the stack and logical id, so a run is
deterministic and every reference (``Ref``, ``GetAtt``, the mapper's ``id``) agrees on it.
"""

from __future__ import annotations

import base64
import hashlib

#: Length limits of the physical names CloudFormation generates, per type (AWS's own limits).
_MAX_LENGTH = {
    "AWS::S3::Bucket": 63,
    "AWS::SQS::Queue": 80,
    "AWS::Lambda::Function": 64,
    "AWS::DynamoDB::Table": 255,
    "AWS::IAM::Role": 64,
    "AWS::IAM::User": 64,
    "AWS::CloudWatch::Alarm": 255,
    "AWS::Logs::LogGroup": 512,
    "AWS::ApiGateway::RestApi": 1024,
    "AWS::ECS::Cluster": 255,
    "AWS::ECS::Service": 255,
    "AWS::CloudTrail::Trail": 128,
    "AWS::SSM::Parameter": 2048,
    "AWS::Budgets::Budget": 100,
    "AWS::CodeDeploy::Application": 100,
    "AWS::CodeDeploy::DeploymentGroup": 100,
}
_SUFFIX_LENGTH = 13


def generated_name(stack_name: str, logical_id: str, cfn_type: str) -> str:
    """The physical name CloudFormation gives a resource whose template names none.

    A FIFO queue's ``.fifo`` is the caller's to add: only it knows ``FifoQueue``.
    """
    digest = hashlib.sha256(f"{stack_name}\x1f{logical_id}".encode()).digest()
    suffix = base64.b32encode(digest).decode()[:_SUFFIX_LENGTH]
    limit = _MAX_LENGTH.get(cfn_type, 255)
    # SSM parameters are the one type CloudFormation names after itself, not the stack.
    head = (
        f"CFN-{logical_id}" if cfn_type == "AWS::SSM::Parameter" else f"{stack_name}-{logical_id}"
    )
    room = limit - len(suffix) - 1
    name = f"{head[:room]}-{suffix}"
    return name.lower() if cfn_type == "AWS::S3::Bucket" else name


def partition_of(region: str) -> str:
    """The partition a region belongs to (ARNs and the global endpoints differ by it)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def arn(partition: str, service: str, region: str, account: str, resource: str) -> str:
    """``arn:<partition>:<service>:<region>:<account>:<resource>``."""
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"
