"""SQS queues: depth, in-flight and redrive, with attributes typed the way rules compare them.

SQS returns every attribute as a string; a threshold like "> 100" on ``"300"`` would compare
text, so numbers become numbers, booleans booleans and JSON policies objects here, once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

QUEUE = "aws.sqs.queue"
API = OperationSet("sqs.queues", "sqs", ("ListQueues", "GetQueueAttributes"))
JSON_ATTRIBUTES = frozenset({"RedrivePolicy", "RedriveAllowPolicy", "Policy"})
_INTEGER = re.compile(r"-?\d+\Z")


def typed_attributes(raw: Mapping[str, str]) -> dict[str, Any]:
    """Numbers, booleans and parsed JSON; a JSON attribute that does not parse stays a string."""
    typed: dict[str, Any] = {}
    for name, value in raw.items():
        if name in JSON_ATTRIBUTES:
            try:
                typed[name] = json.loads(value)
            except ValueError:
                typed[name] = value
        elif _INTEGER.match(value):
            typed[name] = int(value)
        elif value in ("true", "false"):
            typed[name] = value == "true"
        else:
            typed[name] = value
    return typed


def queue_arn(call: Call, url: str) -> str:
    """The ARN from the URL alone, so a queue whose attributes were denied still has an id."""
    path = urlparse(url).path.strip("/").split("/")
    account, name = (path[-2], path[-1]) if len(path) >= 2 else ("", path[-1])
    return call.arn("sqs", name, account=account)


@register(API, QUEUE)
def collect_queues(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    urls = call.items("ListQueues", "QueueUrls", listing=True, page_size=1000)
    if urls is None:
        return []
    resources = []
    for url in urls:
        arn = queue_arn(call, url)
        data: dict[str, Any] = {"QueueUrl": url}
        response = call.request(
            "GetQueueAttributes",
            QueueUrl=url,
            AttributeNames=["All"],
            resource=arn,
            data_keys=["Attributes"],
        )
        if response is not None:
            data["Attributes"] = typed_attributes(response.get("Attributes", {}))
            arn = str(data["Attributes"].get("QueueArn", arn))
        name = arn.rsplit(":", 1)[-1]
        resources.append(call.resource(QUEUE, arn, name, data))
    return resources
