"""CloudWatch alarms (state and actions) and dashboards (global, with their bodies parsed).

Alarms of every kind are asked for by name: DescribeAlarms without ``AlarmTypes`` returns only
metric alarms, so a composite or log alarm in ALARM would go unseen. Dashboard bodies are
parsed here so that rules can ask "is there a widget for AWS/SQS" with a path, not with a
substring search over escaped JSON.

Both listings filter by name prefix on the server (``AlarmNamePrefix``,
``DashboardNamePrefix``): when every rule names what it selects, only those prefixes are
listed, and the coverage says the listing is complete for them alone. A dashboard's body is
asked for only when some rule reads it, and only for the dashboards some rule selects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.fills import Shape
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

ALARM = "aws.cloudwatch.alarm"
DASHBOARD = "aws.cloudwatch.dashboard"
#: (AlarmType, the DescribeAlarms response key listing that kind).
ALARM_KINDS = (
    ("MetricAlarm", "MetricAlarms"),
    ("CompositeAlarm", "CompositeAlarms"),
    ("LogAlarm", "LogAlarms"),
)
#: What a dashboard's ListDashboards entry carries (DashboardEntry), all it keeps of it.
ENTRY_KEYS = ("DashboardName", "DashboardArn", "LastModified", "Size")
ALARMS_API = OperationSet(
    "cloudwatch.alarms",
    "cloudwatch",
    ("DescribeAlarms",),
    fills={
        "DescribeAlarms": {
            ALARM: [
                *(Shape("cloudwatch", "DescribeAlarms", (f"{key}[]",)) for _, key in ALARM_KINDS),
                "AlarmType",
            ]
        }
    },
    answers={"DescribeAlarms": tuple(key for _, key in ALARM_KINDS)},
    listings=("DescribeAlarms",),
)
DASHBOARDS_API = OperationSet(
    "cloudwatch.dashboards",
    "cloudwatch",
    ("ListDashboards", "GetDashboard"),
    fills={
        "ListDashboards": {DASHBOARD: ENTRY_KEYS},
        "GetDashboard": {DASHBOARD: ["DashboardBody"]},
    },
    answers={"ListDashboards": ("DashboardEntries",), "GetDashboard": ("DashboardBody",)},
    listings=("ListDashboards",),
)


@register(ALARMS_API, ALARM)
def collect_alarms(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    kinds = [kind for kind, _ in ALARM_KINDS]

    def listing(prefix: str | None) -> list[Any] | None:
        named: dict[str, Any] = {"AlarmNamePrefix": prefix} if prefix else {}
        return call.pages("DescribeAlarms", AlarmTypes=kinds, listing=True, **named)

    pages = call.by_prefix(listing, ALARM)
    if pages is None:
        return []
    resources: dict[str, dict[str, Any]] = {}
    for page in pages:
        for alarm_type, key in ALARM_KINDS:
            for alarm in page.get(key) or []:
                data = {**alarm, "AlarmType": alarm_type}
                arn = str(alarm["AlarmArn"])
                resources[arn] = call.resource(ALARM, arn, str(alarm["AlarmName"]), data)
    return list(resources.values())


def _dashboard(call: Call, entry: Mapping[str, Any], detailed: bool) -> dict[str, Any]:
    """A dashboard's envelope: its listing entry, and its parsed body when ``detailed``."""
    name = str(entry["DashboardName"])
    arn = str(entry.get("DashboardArn") or call.arn("cloudwatch", f"dashboard/{name}"))
    data: dict[str, Any] = {k: entry[k] for k in ENTRY_KEYS if k in entry}
    if detailed:
        response = call.request(
            "GetDashboard", DashboardName=name, resource=arn, data_keys=["DashboardBody"]
        )
        if response is not None:
            try:
                data["DashboardBody"] = json.loads(response.get("DashboardBody") or "{}")
            except ValueError as exc:
                call.record("GetDashboard", exc, resource=arn, data_keys=["DashboardBody"])
    return call.resource(DASHBOARD, arn, name, data)


@register(DASHBOARDS_API, DASHBOARD, is_global=True)
def collect_dashboards(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    """Dashboards, once per account: they are global (CloudWatch model, PutDashboard: "All
    dashboards in your account are global, not region-specific"), so ListDashboards answers
    the same in every region and a per-region listing would report each one once per region.
    """

    def listing(prefix: str | None) -> list[Any] | None:
        named: dict[str, Any] = {"DashboardNamePrefix": prefix} if prefix else {}
        return call.items("ListDashboards", "DashboardEntries", listing=True, **named)

    entries = call.by_prefix(listing, DASHBOARD)
    if entries is None:
        return []
    unique = list({str(entry["DashboardName"]): entry for entry in entries}.values())
    body = call.wants("GetDashboard")

    def envelope(entry: Mapping[str, Any]) -> dict[str, Any]:
        detailed = body and call.selects(str(entry["DashboardName"]), entry)
        return _dashboard(call, entry, detailed)

    return call.each(unique, envelope)
