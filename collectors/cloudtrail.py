"""CloudTrail trails with their logging status, and destructive events in a window.

Trails are listed with their shadow copies (``includeShadowTrails``, AWS's default): without
them an organization trail is invisible in a member account, and a multi-region trail is
invisible unless its home region is collected. Each trail becomes one resource, recorded in its
home region (the region of its ARN, where its status is asked), whichever collected region saw
it. Events keep who/what/when but drop ``CloudTrailEvent``: it holds request parameters, which
may include values nobody wants in a report.
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


def home_region(trail: Mapping[str, Any], seen_in: str) -> str:
    """A trail's home region: ``HomeRegion``, else the region of its ARN, else where seen."""
    home = trail.get("HomeRegion")
    if home:
        return str(home)
    parts = str(trail.get("TrailARN", "")).split(":")
    return parts[3] if len(parts) > 3 and parts[3] else seen_in


def records_here(call: Call, home: str) -> bool:
    """Whether this region's listing is the one that records a trail homed in ``home``.

    DescribeTrails in every region answers the region's own trails and the shadow copies of
    multi-region and organization trails homed elsewhere, so a trail is seen once per region.
    Its home region records it; a trail homed in a region not collected is recorded by the
    first collected region, so exactly one listing of the collection keeps it.
    """
    regions = call.regions
    return home == call.region or (home not in regions and call.region == regions[0])


@register(TRAILS_API, TRAIL)
def collect_trails(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    """One resource per trail, in its home region, with ``Status`` from that region.

    ``GetTrailStatus`` is asked of the trail's home region by ARN (the model: "To get the
    status of a shadow trail ... you must specify its ARN"; for an organization trail seen from
    a member account, "you must provide the full ARN"). Any failure there, a member account
    denied an organization trail's status included, is an error on ``Status``: never "not
    logging".
    """
    response = call.request("DescribeTrails", includeShadowTrails=True)
    if response is None:
        call.incomplete(TRAIL)
        return []
    resources = []
    kept: set[str] = set()
    for trail in response.get("trailList") or []:
        arn = str(trail["TrailARN"])
        home = home_region(trail, call.region)
        if arn in kept or not records_here(call, home):
            continue
        kept.add(arn)
        at_home = call.in_region(home)
        data = dict(trail)
        status = at_home.request("GetTrailStatus", Name=arn, resource=arn, data_keys=["Status"])
        if status is not None:
            data["Status"] = status
        resources.append(at_home.resource(TRAIL, arn, str(trail["Name"]), data))
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
            arn = call.arn("cloudtrail", f"event/{event['EventId']}")
            resources.append(call.resource(EVENT, arn, str(event.get("EventName", name)), data))
    return resources
