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
        "DescribeExport",
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
        call.fill_items(
            table,
            "Backups",
            "ListBackups",
            "BackupSummaries",
            resource=arn,
            TableName=name,
            TimeRangeLowerBound=since,
        )
        exports = call.items(
            "ListExports", "ExportSummaries", TableArn=arn, resource=arn, data_keys=["Exports"]
        )
        if exports is not None:
            table["Exports"] = _describe_exports(call, arn, exports)
        resources.append(call.resource(TABLE, arn, name, table))
    return resources


#: Exports described per table, newest first (their ARNs end in an id that starts with a
#: millisecond timestamp): the weekly-export rule looks back days, not years, so older exports
#: are not worth a call each.
MAX_DESCRIBED_EXPORTS = 20
EXPORT_FIELDS = ("ExportTime", "StartTime", "EndTime", "S3Bucket", "S3Prefix", "ExportFormat")


def _describe_exports(call: Call, arn: str, summaries: list[Any]) -> list[dict[str, Any]]:
    """Summaries merged with DescribeExport's time and bucket, which ListExports lacks.

    A failed describe leaves that export without the fields (and records the error), so a
    rule that needs them decides ``error``, never pass.
    """
    exports = sorted(
        (dict(s) for s in summaries), key=lambda e: str(e.get("ExportArn")), reverse=True
    )
    for export in exports[:MAX_DESCRIBED_EXPORTS]:
        described = call.request(
            "DescribeExport", ExportArn=export["ExportArn"], resource=arn, data_keys=["Exports"]
        )
        if described is not None:
            details = described.get("ExportDescription", {})
            export.update({k: details[k] for k in EXPORT_FIELDS if k in details})
    return exports
