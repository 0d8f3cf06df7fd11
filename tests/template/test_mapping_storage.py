"""DynamoDB tables and S3 buckets: the collectors' shapes from template properties."""

from __future__ import annotations

from typing import Any

from tests.template.test_mapping_fixtures import (
    FILE,
    after_deploy,
    mapped,
    one,
    only,
    resource,
    unresolvable,
    where,
)

KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}]
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/k1"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/agenticai-data"


def test_a_table_with_every_property_set_maps_to_describe_table_and_its_details() -> None:
    table = only(
        "aws.dynamodb.table",
        "AWS::DynamoDB::Table",
        {
            "TableName": "agenticai-data",
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": KEY_SCHEMA,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "SSESpecification": {"SSEEnabled": True, "KMSMasterKeyId": KMS_KEY},
            "TableClass": "STANDARD_INFREQUENT_ACCESS",
            "DeletionProtectionEnabled": "true",
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by-day",
                    "KeySchema": KEY_SCHEMA,
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            "PointInTimeRecoverySpecification": {
                "PointInTimeRecoveryEnabled": True,
                "RecoveryPeriodInDays": "35",
            },
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            "ContributorInsightsSpecification": {"Enabled": "True"},
        },
    )
    assert table["id"] == TABLE_ARN
    assert table["name"] == "agenticai-data"
    assert table["region"] == "us-east-1"
    assert table["data"] == {
        "TableName": "agenticai-data",
        "TableArn": TABLE_ARN,
        "KeySchema": KEY_SCHEMA,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "SSEDescription": {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": KMS_KEY},
        "TableClassSummary": {"TableClass": "STANDARD_INFREQUENT_ACCESS"},
        "DeletionProtectionEnabled": True,
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-day",
                "IndexArn": f"{TABLE_ARN}/index/by-day",
                "KeySchema": KEY_SCHEMA,
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {
                "PointInTimeRecoveryStatus": "ENABLED",
                "RecoveryPeriodInDays": 35,
            },
        },
        "TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"},
        "ContributorInsights": {
            "TableName": "agenticai-data",
            "ContributorInsightsStatus": "ENABLED",
        },
    }
    assert table["defaults"] == ["ProvisionedThroughput"]
    assert "unknown" not in table
    # Each key points at the property it was read from (properties on lines 11, 12, ...).
    keys = table["template"]["keys"]
    assert keys["TableName"] == where(11, "Properties.TableName")
    assert keys["TableArn"] == where(11, "Properties.TableName")
    assert keys["BillingModeSummary"] == where(12, "Properties.BillingMode")
    assert keys["ContinuousBackupsDescription"] == where(
        20, "Properties.PointInTimeRecoverySpecification"
    )
    assert keys["ContributorInsights"] == where(22, "Properties.ContributorInsightsSpecification")
    assert set(keys) == set(table["data"]) - {"ProvisionedThroughput"}


def test_a_table_that_sets_nothing_takes_aws_defaults_and_cloudformations_name() -> None:
    table = only("aws.dynamodb.table", "AWS::DynamoDB::Table", {"KeySchema": KEY_SCHEMA})
    name = table["data"]["TableName"]
    assert name.startswith("agenticai-stack-Res-")
    assert len(name) == len("agenticai-stack-Res-") + 13
    assert table["name"] == name
    assert table["data"]["TableArn"] == f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}"
    assert {k: v for k, v in table["data"].items() if k not in ("TableName", "TableArn")} == {
        "KeySchema": KEY_SCHEMA,
        "BillingModeSummary": {"BillingMode": "PROVISIONED"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
        "DeletionProtectionEnabled": False,
        "ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
        },
        "TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"},
        "ContributorInsights": {"TableName": name, "ContributorInsightsStatus": "DISABLED"},
    }
    assert table["defaults"] == [
        "BillingModeSummary",
        "ContinuousBackupsDescription",
        "ContributorInsights",
        "DeletionProtectionEnabled",
        "ProvisionedThroughput",
        "TableArn",
        "TableName",
        "TimeToLiveDescription",
    ]
    assert table["template"]["keys"] == {"KeySchema": where(11, "Properties.KeySchema")}


def test_what_only_a_running_table_has_is_never_mapped() -> None:
    table = only("aws.dynamodb.table", "AWS::DynamoDB::Table", {"TableName": "t"})
    for key in ("Backups", "Exports", "ItemCount", "TableStatus", "TableSizeBytes"):
        assert key not in table["data"]
        assert key not in table.get("unknown", {})


def test_an_unresolved_pitr_flag_makes_the_description_unknown_never_disabled() -> None:
    hole = unresolvable("Ref PitrFlag (a parameter with no value)", line=40)
    table = only(
        "aws.dynamodb.table",
        "AWS::DynamoDB::Table",
        {
            "TableName": "t",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": hole},
        },
    )
    assert "ContinuousBackupsDescription" not in table["data"]
    assert table["unknown"] == {
        "ContinuousBackupsDescription": {
            "kind": "unresolvable",
            "reason": hole.reason(),
            "file": FILE,
            "line": 40,
            "column": 20,
        }
    }
    assert "ContinuousBackupsDescription" not in table.get("defaults", [])
    assert table["template"]["keys"]["ContinuousBackupsDescription"] == where(
        12, "Properties.PointInTimeRecoverySpecification"
    )


def test_an_unresolved_table_name_leaves_name_and_arn_unknown_and_a_stand_in_name() -> None:
    hole = unresolvable("Fn::ImportValue shared-table-name")
    table = only("aws.dynamodb.table", "AWS::DynamoDB::Table", {"TableName": hole})
    assert table["name"] == "agenticai-stack.Res"
    assert table["id"] == "arn:aws:dynamodb:us-east-1:123456789012:table/agenticai-stack.Res"
    assert {"TableName", "TableArn", "ContributorInsights"} <= set(table["unknown"])
    assert table["unknown"]["TableArn"]["reason"] == hole.reason()
    assert not {"TableName", "TableArn"} & set(table["data"])


BUCKET_FULL: dict[str, Any] = {
    "BucketName": "agenticai-backups",
    "VersioningConfiguration": {"Status": "Enabled"},
    "LifecycleConfiguration": {
        "Rules": [
            {
                "Id": "tiering",
                "Status": "Enabled",
                "Transitions": [{"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 30}],
                "NoncurrentVersionExpiration": {"NoncurrentDays": "90"},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            },
            {
                "Id": "logs",
                "Status": "Disabled",
                "Prefix": "logs/",
                "ExpirationInDays": 365,
                "NoncurrentVersionExpirationInDays": 30,
                "NoncurrentVersionTransition": {"StorageClass": "GLACIER", "TransitionInDays": 10},
            },
            {
                "Status": "Enabled",
                "Prefix": "tmp/",
                "TagFilters": [{"Key": "kind", "Value": "scratch"}],
                "ExpirationInDays": 1,
            },
        ]
    },
    "ReplicationConfiguration": {
        "Role": "arn:aws:iam::123456789012:role/replication",
        "Rules": [
            {
                "Id": "to-dr",
                "Status": "Enabled",
                "Priority": 1,
                "Filter": {"Prefix": ""},
                "Destination": {"Bucket": "arn:aws:s3:::agenticai-dr", "StorageClass": "STANDARD"},
                "DeleteMarkerReplication": {"Status": "Disabled"},
            }
        ],
    },
    "BucketEncryption": {
        "ServerSideEncryptionConfiguration": [
            {
                "ServerSideEncryptionByDefault": {
                    "SSEAlgorithm": "aws:kms",
                    "KMSMasterKeyID": KMS_KEY,
                },
                "BucketKeyEnabled": True,
            }
        ]
    },
}


def test_a_bucket_with_every_property_set_maps_to_the_get_bucket_answers() -> None:
    bucket = only("aws.s3.bucket", "AWS::S3::Bucket", BUCKET_FULL)
    assert (bucket["id"], bucket["name"], bucket["region"]) == (
        "arn:aws:s3:::agenticai-backups",
        "agenticai-backups",
        "global",
    )
    assert bucket["data"] == {
        "Name": "agenticai-backups",
        "BucketRegion": "us-east-1",
        "Versioning": {"Status": "Enabled"},
        "LifecycleConfiguration": {
            "Rules": [
                {
                    "ID": "tiering",
                    "Filter": {"Prefix": ""},
                    "Status": "Enabled",
                    "Transitions": [{"Days": 30, "StorageClass": "INTELLIGENT_TIERING"}],
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                },
                {
                    "ID": "logs",
                    "Filter": {"Prefix": "logs/"},
                    "Status": "Disabled",
                    "Expiration": {"Days": 365},
                    "NoncurrentVersionTransitions": [
                        {"NoncurrentDays": 10, "StorageClass": "GLACIER"}
                    ],
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                },
                {
                    "Filter": {
                        "And": {"Prefix": "tmp/", "Tags": [{"Key": "kind", "Value": "scratch"}]}
                    },
                    "Status": "Enabled",
                    "Expiration": {"Days": 1},
                },
            ]
        },
        "ReplicationConfiguration": {
            "Role": "arn:aws:iam::123456789012:role/replication",
            "Rules": [
                {
                    "ID": "to-dr",
                    "Priority": 1,
                    "Filter": {"Prefix": ""},
                    "Status": "Enabled",
                    "Destination": {
                        "Bucket": "arn:aws:s3:::agenticai-dr",
                        "StorageClass": "STANDARD",
                    },
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                }
            ],
        },
        "ServerSideEncryptionConfiguration": {
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": KMS_KEY,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    }
    assert "defaults" not in bucket
    assert bucket["template"]["keys"]["Versioning"] == where(
        12, "Properties.VersioningConfiguration"
    )
    assert bucket["template"]["keys"]["ServerSideEncryptionConfiguration"] == where(
        15, "Properties.BucketEncryption"
    )


def test_a_bucket_that_sets_nothing_is_unversioned_unconfigured_and_sse_s3_encrypted() -> None:
    bucket = only("aws.s3.bucket", "AWS::S3::Bucket")
    name = bucket["name"]
    assert name == name.lower()
    assert name.startswith("agenticai-stack-res-")
    assert bucket["data"] == {
        "Name": name,
        "BucketRegion": "us-east-1",
        "Versioning": {},
        "LifecycleConfiguration": None,
        "ReplicationConfiguration": None,
        "ServerSideEncryptionConfiguration": {
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                    "BucketKeyEnabled": False,
                }
            ]
        },
    }
    assert bucket["defaults"] == [
        "LifecycleConfiguration",
        "Name",
        "ReplicationConfiguration",
        "ServerSideEncryptionConfiguration",
        "Versioning",
    ]
    assert bucket["template"]["keys"] == {}


def test_a_lifecycle_rule_with_an_open_value_makes_the_whole_configuration_unknown() -> None:
    hole = after_deploy("Fn::GetAtt Other.Days")
    rules = [{"Id": "x", "Status": "Enabled", "ExpirationInDays": hole}]
    bucket = only("aws.s3.bucket", "AWS::S3::Bucket", {"LifecycleConfiguration": {"Rules": rules}})
    assert "LifecycleConfiguration" not in bucket["data"]
    assert bucket["unknown"]["LifecycleConfiguration"]["kind"] == "after_deploy"


def test_arns_and_urls_are_in_the_templates_partition() -> None:
    envelopes = mapped(
        resource("Queue", "AWS::SQS::Queue", {"QueueName": "q"}),
        resource("Table", "AWS::DynamoDB::Table", {"TableName": "t"}),
        resource("Bucket", "AWS::S3::Bucket", {"BucketName": "b"}),
        region="cn-north-1",
        partition="aws-cn",
    )
    queue = one(envelopes, "aws.sqs.queue", "Queue")
    assert queue["id"] == "arn:aws-cn:sqs:cn-north-1:123456789012:q"
    assert queue["data"]["QueueUrl"] == "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q"
    table = one(envelopes, "aws.dynamodb.table", "Table")
    assert table["id"] == "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/t"
    assert one(envelopes, "aws.s3.bucket", "Bucket")["id"] == "arn:aws-cn:s3:::b"
