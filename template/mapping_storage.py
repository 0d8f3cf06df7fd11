"""DynamoDB tables, S3 buckets and SQS queues, in the shapes their collectors store.

DynamoDB: DescribeTable's fields plus ``ContinuousBackupsDescription``,
``TimeToLiveDescription`` and ``ContributorInsights`` (collectors/dynamodb.py); what only a
running table has (backups taken, exports, item count, size, status) is never declared, so the
rules reading it are not applicable before deploy. A global table is the same table in each of
its regions, with that region's replica settings (PITR, Contributor Insights); the gate judges
the replica in the template's region. S3: the four Get* answers, ``null`` where
AWS answers "not configured" (collectors/s3.py). SQS: ``Attributes`` typed as the collector
types them: numbers, booleans and a parsed ``RedrivePolicy`` (collectors/sqs.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from runbook_guard.template.mapping_base import (
    ABSENT,
    EMPTY,
    Ctx,
    Field,
    Props,
    Table,
    constant,
    each,
    shape,
    the_name,
)
from runbook_guard.template.mapping_values import boolean, integer, status
from runbook_guard.template.model import ReadTemplate, TemplateResource, Unresolved

# DynamoDB ------------------------------------------------------------------------------------


def _table_arn(props: Props, ctx: Ctx) -> Any:
    return ctx.named(lambda name: ctx.arn("dynamodb", f"table/{name}"))


def _index_arn(props: Props, ctx: Ctx) -> Any:
    index = props.get("IndexName")
    if not isinstance(index, str):
        return index
    return ctx.named(lambda name: ctx.arn("dynamodb", f"table/{name}/index/{index}"))


THROUGHPUT = (
    Field("ReadCapacityUnits", "ReadCapacityUnits", convert=integer),
    Field("WriteCapacityUnits", "WriteCapacityUnits", convert=integer),
)
INDEX = (
    Field("IndexName", "IndexName"),
    Field("IndexArn", derive=_index_arn),
    Field("KeySchema", "KeySchema"),
    Field("Projection", "Projection"),
    Field("ProvisionedThroughput", "ProvisionedThroughput", convert=shape(THROUGHPUT)),
)
SSE = (
    Field("Status", "SSEEnabled", convert=status("ENABLED", "DISABLED")),
    Field("SSEType", "SSEType", default="KMS"),
    Field("KMSMasterKeyArn", "KMSMasterKeyId"),
)


def _sse(value: Any, ctx: Ctx) -> Any:
    """DescribeTable shows ``SSEDescription`` only for a KMS key: the AWS-owned key that
    encrypts every table by default (``SSEEnabled`` false or left out) shows nothing."""
    if isinstance(value, Mapping) and boolean(value.get("SSEEnabled", False)) is False:
        return ABSENT
    return shape(SSE)(value, ctx)


def _enabled(props: Props, ctx: Ctx) -> bool:
    return boolean(props.get("Enabled")) is True


PITR = (
    Field("ContinuousBackupsStatus", derive=constant("ENABLED")),
    Field(
        "PointInTimeRecoveryDescription.PointInTimeRecoveryStatus",
        "PointInTimeRecoveryEnabled",
        default="DISABLED",
        convert=status("ENABLED", "DISABLED"),
    ),
    # Absent unless written: DynamoDB's documented default is 35 days, which the pack applies.
    Field(
        "PointInTimeRecoveryDescription.RecoveryPeriodInDays",
        "RecoveryPeriodInDays",
        convert=integer,
    ),
)
TTL = (
    Field("TimeToLiveStatus", "Enabled", default="DISABLED", convert=status("ENABLED", "DISABLED")),
    Field("AttributeName", "AttributeName", when=lambda props, ctx: _enabled(props, ctx)),
)
INSIGHTS = (
    Field("TableName", derive=lambda props, ctx: ctx.name),
    Field(
        "ContributorInsightsStatus",
        "Enabled",
        default="DISABLED",
        convert=status("ENABLED", "DISABLED"),
    ),
    Field("ContributorInsightsMode", "Mode"),
)
DYNAMODB_TABLE = Table(
    "aws.dynamodb.table",
    "AWS::DynamoDB::Table",
    fields=(
        Field("TableName", "TableName", derive=the_name),
        Field("TableArn", "TableName", derive=_table_arn),
        Field("KeySchema", "KeySchema"),
        Field("AttributeDefinitions", "AttributeDefinitions"),
        Field(
            "BillingModeSummary",
            "BillingMode",
            default={"BillingMode": "PROVISIONED"},
            convert=lambda value, ctx: {"BillingMode": value},
        ),
        Field(
            "ProvisionedThroughput",
            "ProvisionedThroughput",
            default={"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
            convert=shape(THROUGHPUT),
        ),
        Field(
            "StreamSpecification",
            "StreamSpecification",
            convert=shape(
                (
                    Field("StreamEnabled", derive=constant(True)),
                    Field("StreamViewType", "StreamViewType"),
                )
            ),
        ),
        Field("SSEDescription", "SSESpecification", convert=_sse),
        Field("TableClassSummary", "TableClass", convert=lambda value, ctx: {"TableClass": value}),
        Field("DeletionProtectionEnabled", "DeletionProtectionEnabled", False, boolean),
        Field("GlobalSecondaryIndexes", "GlobalSecondaryIndexes", convert=each(shape(INDEX))),
        Field(
            "ContinuousBackupsDescription",
            "PointInTimeRecoverySpecification",
            default=EMPTY,
            convert=shape(PITR),
        ),
        Field("TimeToLiveDescription", "TimeToLiveSpecification", EMPTY, shape(TTL)),
        Field("ContributorInsights", "ContributorInsightsSpecification", EMPTY, shape(INSIGHTS)),
    ),
    identity=lambda ctx: ctx.arn("dynamodb", f"table/{ctx.display_name()}"),
    name_prop="TableName",
)

#: What a global table sets per replica rather than for the whole table (and its tags).
_REPLICA_SETTINGS = (
    "PointInTimeRecoverySpecification",
    "ContributorInsightsSpecification",
    "DeletionProtectionEnabled",
    "TableClass",
)


def _this_region(resource: TemplateResource, template: ReadTemplate) -> tuple[Any, int | None]:
    """The replica in the template's region and its index; an ``Unresolved`` when the template
    cannot say which replica that is, or none is (CloudFormation requires one there). None
    without ``Replicas`` at all: a table CloudFormation refuses, read with AWS's defaults."""
    replicas = resource.properties.get("Replicas")
    if replicas is None or isinstance(replicas, Unresolved):
        return replicas, None
    unknown = None
    for index, replica in enumerate(replicas if isinstance(replicas, list) else []):
        region = replica.get("Region") if isinstance(replica, Mapping) else replica
        if region == template.region:
            return replica, index
        unknown = unknown or (region if isinstance(region, Unresolved) else None)
    return unknown or Unresolved(
        "unresolvable",
        f"a replica in {template.region}: Replicas has none (CloudFormation requires one in "
        "the stack's region)",
        resource.position,
    ), None


def _regional_table(resource: TemplateResource, template: ReadTemplate) -> TemplateResource:
    """A global table as the table DescribeTable shows in this region: the table-wide
    properties, with this region's replica's own settings (PITR, Contributor Insights, ...)
    in their places, located where the replica writes them."""
    replica, index = _this_region(resource, template)
    properties = {k: v for k, v in resource.properties.items() if k != "Replicas"}
    positions = dict(resource.positions)
    if isinstance(replica, Unresolved):
        properties.update(dict.fromkeys(_REPLICA_SETTINGS, replica))
    elif isinstance(replica, Mapping):
        own = [*_REPLICA_SETTINGS, "Tags"]
        properties.update({key: replica[key] for key in own if key in replica})
        encryption = replica.get("SSESpecification")
        if isinstance(encryption, Mapping) and "KMSMasterKeyId" in encryption:
            table_wide = properties.get("SSESpecification")
            merged = dict(table_wide) if isinstance(table_wide, Mapping) else {}
            merged["KMSMasterKeyId"] = encryption["KMSMasterKeyId"]
            properties["SSESpecification"] = merged
        prefix = f"Properties.Replicas[{index}]."
        for path, at in resource.positions.items():
            if path.startswith(prefix):
                positions["Properties." + path.removeprefix(prefix)] = at
    return replace(resource, properties=properties, positions=positions)


# S3 ------------------------------------------------------------------------------------------


def _tag(tag: Any) -> Any:
    if isinstance(tag, Mapping):
        return {k: tag[k] for k in ("Key", "Value") if k in tag}
    return tag


def _filter(props: Props, ctx: Ctx) -> Any:
    """The rule's ``Filter`` as S3 answers it: one condition alone, several under ``And``."""
    parts: dict[str, Any] = {}
    if "Prefix" in props:
        parts["Prefix"] = props["Prefix"]
    tags = props.get("TagFilters")
    if isinstance(tags, list) and tags:
        parts["Tags"] = [_tag(tag) for tag in tags]
    elif tags is not None and not isinstance(tags, list):
        parts["Tags"] = tags
    for size in ("ObjectSizeGreaterThan", "ObjectSizeLessThan"):
        if size in props:
            parts[size] = integer(props[size])
    if not parts:
        return {"Prefix": ""}
    if len(parts) == 1:
        (key, value), *_ = parts.items()
        if key == "Tags" and isinstance(value, list) and len(value) == 1:
            return {"Tag": value[0]}
        if key != "Tags":
            return {key: value}
    return {"And": parts}


def _transitions(single: str, many: str, fields: tuple[Field, ...]) -> Any:
    """``Transitions`` from CloudFormation's list and its older one-item form, together."""

    def derive(props: Props, ctx: Ctx) -> Any:
        found = []
        for key in (many, single):
            value = props.get(key)
            if isinstance(value, Unresolved):
                return value
            items = value if isinstance(value, list) else [] if value is None else [value]
            found.extend(each(shape(fields))(items, ctx))
        return found or ABSENT

    return derive


TRANSITION = (
    Field("Date", "TransitionDate"),
    Field("Days", "TransitionInDays", convert=integer),
    Field("StorageClass", "StorageClass"),
)
NONCURRENT_TRANSITION = (
    Field("NoncurrentDays", "TransitionInDays", convert=integer),
    Field("StorageClass", "StorageClass"),
    Field("NewerNoncurrentVersions", "NewerNoncurrentVersions", convert=integer),
)
NONCURRENT_EXPIRATION = (
    Field("NoncurrentDays", "NoncurrentDays", convert=integer),
    Field("NewerNoncurrentVersions", "NewerNoncurrentVersions", convert=integer),
)
LIFECYCLE_RULE = (
    Field("ID", "Id"),
    Field("Filter", derive=_filter),
    Field("Status", "Status"),
    Field("Expiration.Date", "ExpirationDate"),
    Field("Expiration.Days", "ExpirationInDays", convert=integer),
    Field("Expiration.ExpiredObjectDeleteMarker", "ExpiredObjectDeleteMarker", convert=boolean),
    Field("Transitions", derive=_transitions("Transition", "Transitions", TRANSITION)),
    Field(
        "NoncurrentVersionTransitions",
        derive=_transitions(
            "NoncurrentVersionTransition", "NoncurrentVersionTransitions", NONCURRENT_TRANSITION
        ),
    ),
    Field(
        "NoncurrentVersionExpiration.NoncurrentDays",
        "NoncurrentVersionExpirationInDays",
        convert=integer,
    ),
    Field(
        "NoncurrentVersionExpiration",
        "NoncurrentVersionExpiration",
        convert=shape(NONCURRENT_EXPIRATION),
    ),
    Field(
        "AbortIncompleteMultipartUpload",
        "AbortIncompleteMultipartUpload",
        convert=shape((Field("DaysAfterInitiation", "DaysAfterInitiation", convert=integer),)),
    ),
)
REPLICATION_FILTER = (
    Field("Prefix", "Prefix"),
    Field("Tag", "TagFilter", convert=lambda value, ctx: _tag(value)),
    Field(
        "And",
        "And",
        convert=shape(
            (
                Field("Prefix", "Prefix"),
                Field("Tags", "TagFilters", convert=each(lambda tag, ctx: _tag(tag))),
            )
        ),
    ),
)
REPLICATION_RULE = (
    Field("ID", "Id"),
    Field("Priority", "Priority", convert=integer),
    Field("Prefix", "Prefix"),
    Field("Filter", "Filter", convert=shape(REPLICATION_FILTER)),
    Field("Status", "Status"),
    # CloudFormation's names below are the API's own.
    Field("Destination", "Destination"),
    Field("DeleteMarkerReplication", "DeleteMarkerReplication"),
    Field("SourceSelectionCriteria", "SourceSelectionCriteria"),
)
ENCRYPTION_RULE = (
    Field("ApplyServerSideEncryptionByDefault", "ServerSideEncryptionByDefault"),
    Field("BucketKeyEnabled", "BucketKeyEnabled", False, boolean),
)
#: S3 has encrypted every new bucket with SSE-S3 since January 2023; GetBucketEncryption
#: answers it as this rule.
DEFAULT_ENCRYPTION = {
    "Rules": [
        {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
            "BucketKeyEnabled": False,
        }
    ]
}
S3_BUCKET = Table(
    "aws.s3.bucket",
    "AWS::S3::Bucket",
    fields=(
        Field("Name", "BucketName", derive=the_name),
        Field("BucketRegion", derive=lambda props, ctx: ctx.region),
        Field(
            "Versioning",
            "VersioningConfiguration",
            default={},
            convert=shape((Field("Status", "Status"),)),
        ),
        Field(
            "LifecycleConfiguration",
            "LifecycleConfiguration",
            default=None,
            convert=shape((Field("Rules", "Rules", convert=each(shape(LIFECYCLE_RULE))),)),
        ),
        Field(
            "ReplicationConfiguration",
            "ReplicationConfiguration",
            default=None,
            convert=shape(
                (
                    Field("Role", "Role"),
                    Field("Rules", "Rules", convert=each(shape(REPLICATION_RULE))),
                )
            ),
        ),
        Field(
            "ServerSideEncryptionConfiguration",
            "BucketEncryption",
            default=DEFAULT_ENCRYPTION,
            convert=shape(
                (
                    Field(
                        "Rules",
                        "ServerSideEncryptionConfiguration",
                        convert=each(shape(ENCRYPTION_RULE)),
                    ),
                )
            ),
        ),
    ),
    identity=lambda ctx: ctx.arn("s3", ctx.display_name(), region="", account=""),
    name_prop="BucketName",
    is_global=True,
)

#: A global table is, in each region, a table the DynamoDB collector describes like any other.
DYNAMODB_GLOBAL_TABLE = replace(
    DYNAMODB_TABLE, cfn_type="AWS::DynamoDB::GlobalTable", normalize=_regional_table
)

TABLES = (DYNAMODB_TABLE, DYNAMODB_GLOBAL_TABLE, S3_BUCKET)
