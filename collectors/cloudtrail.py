"""CloudTrail trails with their logging status, and destructive events in a window.

Trails are listed without shadow copies, so a multi-region trail appears once, in its home
region. Events keep who/what/when but drop ``CloudTrailEvent``: it holds request parameters,
which may include values nobody wants in a report.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

TRAIL = "aws.cloudtrail.trail"
EVENT = "aws.cloudtrail.event"
TRAILS_API = OperationSet("cloudtrail.trails", "cloudtrail", ("DescribeTrails", "GetTrailStatus"))
EVENTS_API = OperationSet("cloudtrail.events", "cloudtrail", ("LookupEvents",))
EVENT_FIELDS = ("EventId", "EventName", "EventTime", "EventSource", "Username", "Resources")


@register(TRAILS_API, TRAIL)
def collect_trails(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    response = call.request("DescribeTrails", includeShadowTrails=False)
    if response is None:
        call.incomplete(TRAIL)
        return []
    resources = []
    for trail in response.get("trailList") or []:
        arn = str(trail["TrailARN"])
        data = dict(trail)
        status = call.request("GetTrailStatus", Name=arn, resource=arn, data_keys=["Status"])
        if status is not None:
            data["Status"] = status
        resources.append(call.resource(TRAIL, arn, str(trail["Name"]), data))
    return resources


@register(EVENTS_API, EVENT)
def collect_events(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    """One lookup per event name: LookupEvents accepts a single attribute per call."""
    hours = int(call.option("window_hours", 168))
    start = call.now - timedelta(hours=hours)
    resources = []
    for name in call.option_list("event_names"):
        events = call.items(
            "LookupEvents",
            "Events",
            listing=True,
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}],
            StartTime=start,
            EndTime=call.now,
        )
        for event in events or []:
            data = {k: event[k] for k in EVENT_FIELDS if k in event}
            arn = f"arn:aws:cloudtrail:{call.region}:{call.account}:event/{event['EventId']}"
            resources.append(call.resource(EVENT, arn, str(event.get("EventName", name)), data))
    return resources
