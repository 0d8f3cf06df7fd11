"""SQS queues: ``QueueUrl`` and ``Attributes``, typed as the collector types them (numbers,
booleans, a parsed ``RedrivePolicy``: collectors/sqs.py), with SQS's defaults for a new queue.

``Attributes`` is built from many properties, so its ``keys`` entries are per attribute
(``Attributes.VisibilityTimeout``), and ``collected_keys`` lists them the same way: what a
template says of a queue's configuration, never of its depth.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runbook_guard.template.mapping_base import (
    ABSENT,
    Ctx,
    Field,
    Props,
    Table,
    get,
    physical_name,
)
from runbook_guard.template.mapping_values import boolean, integer

# SQS -----------------------------------------------------------------------------------------

_URL_SUFFIX = {"aws-cn": "amazonaws.com.cn"}


def _fifo(props: Props, ctx: Ctx) -> bool:
    return boolean(props.get("FifoQueue")) is True


def _queue_name(ctx: Ctx) -> Any:
    """QueueName, else CloudFormation's name, with ``.fifo`` that a FIFO queue's name needs."""
    name = physical_name(ctx, "QueueName", ctx.resource.type)
    if get(ctx.props, "QueueName") is ABSENT and _fifo(ctx.props, ctx) and isinstance(name, str):
        return f"{name}.fifo"
    return name


def _queue_url(props: Props, ctx: Ctx) -> Any:
    suffix = _URL_SUFFIX.get(ctx.template.partition, "amazonaws.com")
    return ctx.named(lambda name: f"https://sqs.{ctx.region}.{suffix}/{ctx.account}/{name}")


def _json(value: Any, ctx: Ctx) -> Any:
    """A JSON attribute as the collector stores it: parsed; text that is not JSON as written."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _redrive(value: Any, ctx: Ctx) -> Any:
    parsed = _json(value, ctx)
    if isinstance(parsed, Mapping) and "maxReceiveCount" in parsed:
        return {**parsed, "maxReceiveCount": integer(parsed["maxReceiveCount"])}
    return parsed


def _attribute(name: str, default: Any = ABSENT, convert: Any = integer, **more: Any) -> Field:
    """One queue attribute: the API's name is CloudFormation's property name."""
    return Field(f"Attributes.{name}", name, default, convert, **more)


def _kms(props: Props, ctx: Ctx) -> bool:
    return "KmsMasterKeyId" in props


SQS_QUEUE = Table(
    "aws.sqs.queue",
    "AWS::SQS::Queue",
    fields=(
        Field("QueueUrl", "QueueName", derive=_queue_url),
        Field(
            "Attributes.QueueArn",
            "QueueName",
            derive=lambda props, ctx: ctx.named(lambda name: ctx.arn("sqs", name)),
        ),
        _attribute("VisibilityTimeout", 30),
        # CreateQueue (botocore model): "Default: 1,048,576 bytes (1 MiB)".
        _attribute("MaximumMessageSize", 1048576),
        _attribute("MessageRetentionPeriod", 345600),
        _attribute("DelaySeconds", 0),
        _attribute("ReceiveMessageWaitTimeSeconds", 0),
        # SSE-SQS is on for every new queue unless a KMS key is chosen.
        _attribute(
            "SqsManagedSseEnabled",
            lambda props, ctx: not _kms(props, ctx),
            boolean,
        ),
        _attribute("KmsMasterKeyId", convert=lambda value, ctx: value),
        _attribute("KmsDataKeyReusePeriodSeconds", 300, when=_kms),
        _attribute("RedrivePolicy", convert=_redrive),
        _attribute("RedriveAllowPolicy", convert=_json),
        _attribute("FifoQueue", True, boolean, when=_fifo),
        _attribute("ContentBasedDeduplication", False, boolean, when=_fifo),
        _attribute("DeduplicationScope", "queue", lambda value, ctx: value, when=_fifo),
        _attribute("FifoThroughputLimit", "perQueue", lambda value, ctx: value, when=_fifo),
    ),
    identity=lambda ctx: ctx.arn("sqs", ctx.display_name()),
    name=_queue_name,
)

TABLES = (SQS_QUEUE,)
