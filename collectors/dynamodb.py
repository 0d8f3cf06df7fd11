"""DynamoDB tables: the runbook's PITR, TTL, backup, export and Contributor Insights checks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

TABLE = "aws.dynamodb.table"
API = OperationSet(
    "dynamodb.tables",
    "dynamodb",
    (
        "ListTables",
        "DescribeTable",
        "DescribeContinuousBackups",
        "DescribeTimeToLive",
        "DescribeContributorInsights",
        "ListBackups",
        "ListExports",
    ),
)

#: Per-table calls beyond DescribeTable: (operation, data key, response key or None for the
#: whole response). One table line each, so adding a call cannot forget its error keys.
DETAILS = (
    ("DescribeContinuousBackups", "ContinuousBackupsDescription", "ContinuousBackupsDescription"),
    ("DescribeTimeToLive", "TimeToLiveDescription", "TimeToLiveDescription"),
    ("DescribeContributorInsights", "ContributorInsights", None),
)


@register(API, TABLE)
def collect_tables(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    names = call.items("ListTables", "TableNames", listing=True)
    if names is None:
        return []
    days = int(call.option("backup_days", 7))
    since = call.now - timedelta(days=days)
    resources = []
    for name in names:
        described = call.request("DescribeTable", TableName=name, data_keys=["Table"])
        if described is None:
            call.incomplete(TABLE)
            continue
        table: dict[str, Any] = dict(described["Table"])
        arn = str(table["TableArn"])
        for operation, data_key, response_key in DETAILS:
            response = call.request(operation, TableName=name, resource=arn, data_keys=[data_key])
            if response is not None:
                table[data_key] = response.get(response_key) if response_key else response
        backups = call.items(
            "ListBackups",
            "BackupSummaries",
            TableName=name,
            TimeRangeLowerBound=since,
            resource=arn,
            data_keys=["Backups"],
        )
        if backups is not None:
            table["Backups"] = backups
        exports = call.items(
            "ListExports", "ExportSummaries", TableArn=arn, resource=arn, data_keys=["Exports"]
        )
        if exports is not None:
            table["Exports"] = exports
        resources.append(call.resource(TABLE, arn, name, table))
    return resources
