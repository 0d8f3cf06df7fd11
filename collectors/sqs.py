"""SQS queues: depth, in-flight and redrive, with attributes typed the way rules compare them.

SQS returns every attribute as a string; a threshold like "> 100" on ``"300"`` would compare
text, so numbers become numbers, booleans booleans and JSON policies objects here, once.

ListQueues is the listing (URLs only), filtered on the server by ``QueueNamePrefix``: with the
rules' fixed name prefixes it lists once per prefix, so the account's other queues are not even
listed. GetQueueAttributes is the one detail, made only for a queue some rule selects and only
when some rule reads ``Attributes``; the queue's id comes from its URL, whatever ran.
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
API = OperationSet(
    "sqs.queues",
    "sqs",
    ("ListQueues", "GetQueueAttributes"),
    fills={
        "ListQueues": {QUEUE: ("QueueUrl",)},
        "GetQueueAttributes": {QUEUE: ("Attributes",)},
    },
    answers={"ListQueues": ("QueueUrls",), "GetQueueAttributes": ("Attributes",)},
    listings=("ListQueues",),
)
JSON_ATTRIBUTES = frozenset({"RedrivePolicy", "RedriveAllowPolicy", "Policy"})
_INTEGER = re.compile(r"-?\d+\Z")
#: A decimal (``CreatedTimestamp`` may carry a fraction of a second): a number, not text.
_DECIMAL = re.compile(r"-?\d+\.\d+\Z")


def typed_attributes(raw: Mapping[str, str]) -> dict[str, Any]:
    """Numbers (integers and decimals), booleans and parsed JSON; JSON that does not parse
    stays a string."""
    typed: dict[str, Any] = {}
    for name, value in raw.items():
        if name in JSON_ATTRIBUTES:
            try:
                typed[name] = json.loads(value)
            except ValueError:
                typed[name] = value
        elif _INTEGER.match(value):
            typed[name] = int(value)
        elif _DECIMAL.match(value):
            typed[name] = float(value)
        elif value in ("true", "false"):
            typed[name] = value == "true"
        else:
            typed[name] = value
    return typed


def queue_arn(call: Call, url: str) -> str:
    """The ARN from the URL alone (AWS's ``QueueArn``), so the id never depends on whether
    the attributes were asked for or denied."""
    path = urlparse(url).path.strip("/").split("/")
    account, name = (path[-2], path[-1]) if len(path) >= 2 else ("", path[-1])
    return call.arn("sqs", name, account=account)


@register(API, QUEUE)
def collect_queues(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    urls = _list(call)
    if urls is None:
        return []
    attributes = call.wants("GetQueueAttributes")
    return call.each(urls, lambda url: _queue(call, url, attributes))


def _list(call: Call) -> list[str] | None:
    """Every queue URL, or those of the rules' prefixes (one listing per prefix, merged)."""

    def listing(prefix: str | None) -> list[Any] | None:
        named: dict[str, Any] = {"QueueNamePrefix": prefix} if prefix else {}
        return call.items("ListQueues", "QueueUrls", listing=True, page_size=1000, **named)

    urls = call.by_prefix(listing, QUEUE)
    return None if urls is None else list(dict.fromkeys(str(url) for url in urls))


def _queue(call: Call, url: str, attributes: bool) -> dict[str, Any]:
    """One queue's envelope: its URL, and its attributes when selected and read."""
    arn = queue_arn(call, url)
    data: dict[str, Any] = {"QueueUrl": url}
    if attributes and call.selects(arn.rsplit(":", 1)[-1], data):
        response = call.request(
            "GetQueueAttributes",
            QueueUrl=url,
            AttributeNames=["All"],
            resource=arn,
            data_keys=["Attributes"],
        )
        if response is not None:
            data["Attributes"] = typed_attributes(response.get("Attributes", {}))
    return call.resource(QUEUE, arn, arn.rsplit(":", 1)[-1], data)
