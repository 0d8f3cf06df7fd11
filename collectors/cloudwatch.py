"""CloudWatch alarms (state and actions) and dashboards (global, with their bodies parsed).

Alarms of every kind are asked for by name: DescribeAlarms without ``AlarmTypes`` returns only
metric alarms, so a composite or log alarm in ALARM would go unseen. Dashboard bodies are
parsed here so that rules can ask "is there a widget for AWS/SQS" with a path, not with a
substring search over escaped JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
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
ALARMS_API = OperationSet("cloudwatch.alarms", "cloudwatch", ("DescribeAlarms",))
DASHBOARDS_API = OperationSet(
    "cloudwatch.dashboards", "cloudwatch", ("ListDashboards", "GetDashboard")
)


@register(ALARMS_API, ALARM)
def collect_alarms(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    kinds = [kind for kind, _ in ALARM_KINDS]
    pages = call.pages("DescribeAlarms", AlarmTypes=kinds, listing=True)
    if pages is None:
        return []
    resources = []
    for page in pages:
        for alarm_type, key in ALARM_KINDS:
            for alarm in page.get(key) or []:
                data = {**alarm, "AlarmType": alarm_type}
                resources.append(
                    call.resource(ALARM, str(alarm["AlarmArn"]), str(alarm["AlarmName"]), data)
                )
    return resources


@register(DASHBOARDS_API, DASHBOARD, is_global=True)
def collect_dashboards(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    """Dashboards, once per account: they are global (CloudWatch model, PutDashboard: "All
    dashboards in your account are global, not region-specific"), so ListDashboards answers
    the same in every region and a per-region listing would report each one once per region.
    """
    entries = call.items("ListDashboards", "DashboardEntries", listing=True)
    if entries is None:
        return []
    resources = []
    for entry in entries:
        name = str(entry["DashboardName"])
        arn = str(entry.get("DashboardArn") or call.arn("cloudwatch", f"dashboard/{name}"))
        data: dict[str, Any] = {
            k: entry[k]
            for k in ("DashboardName", "DashboardArn", "LastModified", "Size")
            if k in entry
        }
        response = call.request(
            "GetDashboard", DashboardName=name, resource=arn, data_keys=["DashboardBody"]
        )
        if response is not None:
            try:
                data["DashboardBody"] = json.loads(response.get("DashboardBody") or "{}")
            except ValueError as exc:
                call.record("GetDashboard", exc, resource=arn, data_keys=["DashboardBody"])
        resources.append(call.resource(DASHBOARD, arn, name, data))
    return resources
