"""CloudWatch Logs: log groups with their retention, and counts of matching events.

DescribeLogGroups is the listing and the only call for the type: its items carry everything
the rules read of a group (``retentionInDays`` included), so there is no per-group detail. It
filters on the server by ``logGroupNamePrefix``: with the rules' fixed name prefixes it lists
once per prefix, so an account's thousands of other groups are not even listed.

Counting events runs only for the groups a rule's log query selects, as soon as their listing
ends. It is made with CloudWatch Logs Insights, 50 groups to a query (``insights``); a filter
pattern Insights cannot express is counted here instead, one FilterLogEvents per group, paced
at AWS's rate for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from runbook_guard.collectors.calls import Call, unique_by
from runbook_guard.collectors.fills import Shape
from runbook_guard.collectors.registry import OperationSet, declare, register
from runbook_guard.engine.plan import LogQuery, TypeRequest

LOG_GROUP = "aws.logs.log_group"
API = OperationSet(
    "logs.groups",
    "logs",
    ("DescribeLogGroups",),
    fills={
        "DescribeLogGroups": {LOG_GROUP: (Shape("logs", "DescribeLogGroups", ("logGroups[]",)),)}
    },
    answers={"DescribeLogGroups": ("logGroups",)},
    listings=("DescribeLogGroups",),
)
#: FilterLogEvents is paced at AWS's quota for it: 5 transactions per second per account and
#: Region, which cannot be raised (AWS re:Post Knowledge Center, "How do I determine
#: throttling in my CloudWatch logs?").
EVENTS_API = declare(
    OperationSet(
        "logs.events",
        "logs",
        ("FilterLogEvents",),
        answers={"FilterLogEvents": ("events",)},
        rates={"FilterLogEvents": 5.0},
    )
)


@register(API, LOG_GROUP)
def collect_log_groups(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    groups = _list(call)
    if groups is None:
        return []
    resources = []
    for group in groups:
        name = str(group["logGroupName"])
        arn = str(group.get("arn") or "").removesuffix(":*") or (
            call.arn("logs", f"log-group:{name}")
        )
        resources.append(call.resource(LOG_GROUP, arn, name, group))
    return resources


def _list(call: Call) -> list[dict[str, Any]] | None:
    """Every group, or those of the rules' prefixes (one listing per prefix, merged)."""

    def listing(prefix: str | None) -> list[Any] | None:
        named: dict[str, Any] = {"logGroupNamePrefix": prefix} if prefix else {}
        return call.items("DescribeLogGroups", "logGroups", listing=True, **named)

    groups = call.by_prefix(listing, LOG_GROUP)
    if groups is None:
        return None
    return unique_by(groups, lambda group: str(group["logGroupName"]))


def count_events(call: Call, resource: dict[str, Any], query: LogQuery) -> None:
    """Store the number of events matching ``query`` in its window on the resource.

    Left unset (with an error naming ``logs.<key>``) when the call fails: a count of zero
    would be a silent pass of "no ERROR lines".
    """
    end = call.now
    start = end - timedelta(seconds=query.window_seconds)
    pages = call.pages(
        "FilterLogEvents",
        logGroupName=resource["name"],
        filterPattern=query.pattern,
        startTime=int(start.timestamp() * 1000),
        endTime=int(end.timestamp() * 1000),
        resource=resource["id"],
        resource_type=LOG_GROUP,
        data_keys=[f"logs.{query.key}"],
    )
    if pages is not None:
        count = sum(len(page.get("events") or []) for page in pages)
        resource.setdefault("logs", {})[query.key] = count
