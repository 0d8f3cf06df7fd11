"""CloudTrail trails with their logging status, and destructive events in a window.

Trails are listed with their shadow copies (``includeShadowTrails``, AWS's default): without
them an organization trail is invisible in a member account, and a multi-region trail is
invisible unless its home region is collected. Each trail becomes one resource, recorded in its
home region (the region of its ARN, where its status is asked), whichever collected region saw
it. Events keep who/what/when but drop ``CloudTrailEvent``: it holds request parameters, which
may include values nobody wants in a report.

``GetTrailStatus`` runs only for trails some rule selects, when a rule reads ``Status``.
``LookupEvents`` is paced at the rate AWS documents for it (CloudTrail API Reference,
LookupEvents: "The rate of lookup requests is limited to two per second, per account, per
Region"), page by page, and looks back at most the 90 days CloudTrail's event history keeps.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.fills import Shape
from runbook_guard.collectors.journal import Problem
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

TRAIL = "aws.cloudtrail.trail"
EVENT = "aws.cloudtrail.event"
EVENT_FIELDS = ("EventId", "EventName", "EventTime", "EventSource", "Username", "Resources")
TRAILS_API = OperationSet(
    "cloudtrail.trails",
    "cloudtrail",
    ("DescribeTrails", "GetTrailStatus"),
    fills={
        "DescribeTrails": {TRAIL: [Shape("cloudtrail", "DescribeTrails", ("trailList[]",))]},
        "GetTrailStatus": {TRAIL: ["Status"]},
    },
    # The whole status is stored; IsLogging is the member every answer carries.
    answers={"DescribeTrails": ("trailList",), "GetTrailStatus": ("IsLogging",)},
    listings=("DescribeTrails",),
)
#: Lookups a second per account and region (see the module's docstring).
LOOKUPS_PER_SECOND = 2.0
EVENTS_API = OperationSet(
    "cloudtrail.events",
    "cloudtrail",
    ("LookupEvents",),
    fills={"LookupEvents": {EVENT: EVENT_FIELDS}},
    answers={"LookupEvents": ("Events",)},
    listings=("LookupEvents",),
    rates={"LookupEvents": LOOKUPS_PER_SECOND},
)
#: How far back LookupEvents can see: CloudTrail's event history keeps the last 90 days.
HISTORY_HOURS = 90 * 24


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


def _trail(call: Call, trail: Mapping[str, Any], status_read: bool) -> dict[str, Any]:
    """One trail's resource in its home region, with ``Status`` when a rule reads it."""
    arn = str(trail["TrailARN"])
    at_home = call.in_region(home_region(trail, call.region))
    data = dict(trail)
    if status_read and call.selects(str(trail["Name"]), trail):
        status = at_home.request("GetTrailStatus", Name=arn, resource=arn, data_keys=["Status"])
        if status is not None:
            data["Status"] = status
    return at_home.resource(TRAIL, arn, str(trail["Name"]), data)


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
    kept: dict[str, Mapping[str, Any]] = {}
    for trail in response.get("trailList") or []:
        arn = str(trail["TrailARN"])
        if arn not in kept and records_here(call, home_region(trail, call.region)):
            kept[arn] = trail
    status_read = call.wants("GetTrailStatus")
    return call.each(list(kept.values()), lambda trail: _trail(call, trail, status_read))


def _lookup(call: Call, name: str, start: datetime) -> list[dict[str, Any]] | None:
    """Every event named ``name`` since ``start``; ``None`` when a page failed.

    Page by page through ``Call.request`` rather than a paginator, so that every page (not
    only the first) waits for its slot at the documented rate.
    """
    params: dict[str, Any] = {
        "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
        "StartTime": start,
        "EndTime": call.now,
    }
    if call.page_size:
        params["MaxResults"] = call.page_size
    events: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        paged: dict[str, Any] = {**params, **({"NextToken": token} if token else {})}
        page = call.request("LookupEvents", **paged)
        if page is None:
            call.incomplete(EVENT)
            return None
        events.extend(page.get("Events") or [])
        token = page.get("NextToken")
        if not token:
            return events


def _window_start(call: Call) -> datetime:
    """The start of the widest window asked for, never before CloudTrail's 90 days.

    A wider window cannot be looked up: the listing is then incomplete, with an error saying
    why, so a rule needing the older events is an error rather than a pass on the 90 days.
    """
    hours = int(call.option("window_hours", 168))
    if hours > HISTORY_HOURS:
        problem = Problem(
            "WindowBeyondEventHistory",
            f"a window of {hours} hours was asked for; CloudTrail's event history (what "
            f"LookupEvents reads) keeps the last {HISTORY_HOURS} hours (90 days)",
        )
        call.record("LookupEvents", problem, resource_type=EVENT)
        call.incomplete(EVENT)
        hours = HISTORY_HOURS
    return call.now - timedelta(hours=hours)


@register(EVENTS_API, EVENT)
def collect_events(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    """One lookup per event name: LookupEvents accepts a single attribute per call."""
    start = _window_start(call)
    names = call.option_list("event_names")
    found = call.each(names, lambda name: _lookup(call, str(name), start))
    resources = []
    for name, events in zip(names, found, strict=True):
        for event in events or []:
            data = {k: event[k] for k in EVENT_FIELDS if k in event}
            arn = call.arn("cloudtrail", f"event/{event['EventId']}")
            resources.append(call.resource(EVENT, arn, str(event.get("EventName", name)), data))
    return resources
