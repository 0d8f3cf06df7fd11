"""DynamoDB tables: the runbook's PITR, TTL, backup, export and Contributor Insights checks.

ListTables is the listing (names only: it has no server-side name filter, so a selection by
name is applied here, after it). Every other call is a per-table detail, made only for a table
some rule selects and only when some rule reads a key it fills; DescribeTable included, so a
table's id is built from its name (``arn:<partition>:dynamodb:<region>:<account>:table/<name>``,
which is AWS's ``TableArn``) and never depends on which details ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.fills import Shape
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
    fills={
        "ListTables": {TABLE: ("TableName",)},
        "DescribeTable": {TABLE: (Shape("dynamodb", "DescribeTable", ("Table",)),)},
        "DescribeContinuousBackups": {TABLE: ("ContinuousBackupsDescription",)},
        "DescribeTimeToLive": {TABLE: ("TimeToLiveDescription",)},
        "DescribeContributorInsights": {TABLE: ("ContributorInsights",)},
        "ListBackups": {TABLE: ("Backups",)},
        "ListExports": {TABLE: ("Exports",)},
        "DescribeExport": {TABLE: ("Exports",)},
    },
    # DescribeContributorInsights is stored whole; its status is in every answer (DISABLED
    # when off), the rest only once Contributor Insights has been enabled.
    answers={
        "ListTables": ("TableNames",),
        "DescribeTable": ("Table",),
        "DescribeContinuousBackups": ("ContinuousBackupsDescription",),
        "DescribeTimeToLive": ("TimeToLiveDescription",),
        "DescribeContributorInsights": ("ContributorInsightsStatus",),
        "ListBackups": ("BackupSummaries",),
        "ListExports": ("ExportSummaries",),
        "DescribeExport": ("ExportDescription",),
    },
    listings=("ListTables",),
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
    since = call.now - timedelta(days=int(call.option("backup_days", 7)))
    return call.each([str(name) for name in names], lambda name: _table(call, name, since))


def table_arn(call: Call, name: str) -> str:
    """The table's ARN from its name, as DescribeTable's ``TableArn`` spells it."""
    return call.arn("dynamodb", f"table/{name}")


def _table(call: Call, name: str, since: datetime) -> dict[str, Any]:
    """One table's envelope, with the details some rule reads (errors as data).

    A table no rule selects keeps its name alone and gets no call: it stays in the snapshot,
    so a named table missing from the listing is still provable.
    """
    arn = table_arn(call, name)
    table: dict[str, Any] = {"TableName": name}
    if not call.selects(name, table):
        return call.resource(TABLE, arn, name, table)
    if call.wants("DescribeTable", beyond_listing=True):
        # What DescribeTable fills beyond the listing: a failure leaves exactly those undecided.
        keys = call.api.keys_of(TABLE, ["DescribeTable"]) - call.api.listing_keys(TABLE)
        described = call.request("DescribeTable", TableName=name, resource=arn, data_keys=keys)
        if described is not None:
            table = dict(described["Table"])
    for operation, data_key, response_key in DETAILS:
        if not call.wants(operation, beyond_listing=True):
            continue
        response = call.request(operation, TableName=name, resource=arn, data_keys=[data_key])
        if response is not None:
            table[data_key] = response.get(response_key) if response_key else response
    if call.wants("ListBackups", beyond_listing=True):
        call.fill_items(
            table,
            "Backups",
            "ListBackups",
            "BackupSummaries",
            resource=arn,
            TableName=name,
            TimeRangeLowerBound=since,
        )
    if call.wants("ListExports", beyond_listing=True):
        exports = call.items(
            "ListExports", "ExportSummaries", TableArn=arn, resource=arn, data_keys=["Exports"]
        )
        if exports is not None:
            table["Exports"] = _describe_exports(call, arn, exports)
    return call.resource(TABLE, arn, name, table)


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
