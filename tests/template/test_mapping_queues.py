"""SQS queues: the URL and typed attributes the collector stores, with SQS's defaults."""

from __future__ import annotations

from tests.template.test_mapping_fixtures import only, unresolvable, where

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/agenticai-pm-queue"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:agenticai-pm-queue"
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:agenticai-pm-dlq"


def test_a_queue_with_every_property_set_maps_to_typed_attributes() -> None:
    queue = only(
        "aws.sqs.queue",
        "AWS::SQS::Queue",
        {
            "QueueName": "agenticai-pm-queue",
            "VisibilityTimeout": "180",
            "MaximumMessageSize": 262144,
            "MessageRetentionPeriod": 1209600,
            "DelaySeconds": 5,
            "ReceiveMessageWaitTimeSeconds": 20,
            "KmsMasterKeyId": "alias/aws/sqs",
            "KmsDataKeyReusePeriodSeconds": 600,
            # CloudFormation takes the policy as an object or as JSON text.
            "RedrivePolicy": f'{{"deadLetterTargetArn": "{DLQ_ARN}", "maxReceiveCount": "5"}}',
            "RedriveAllowPolicy": {"redrivePermission": "denyAll"},
        },
    )
    assert (queue["id"], queue["name"]) == (QUEUE_ARN, "agenticai-pm-queue")
    assert queue["data"] == {
        "QueueUrl": QUEUE_URL,
        "Attributes": {
            "QueueArn": QUEUE_ARN,
            "VisibilityTimeout": 180,
            "MaximumMessageSize": 262144,
            "MessageRetentionPeriod": 1209600,
            "DelaySeconds": 5,
            "ReceiveMessageWaitTimeSeconds": 20,
            "SqsManagedSseEnabled": False,
            "KmsMasterKeyId": "alias/aws/sqs",
            "KmsDataKeyReusePeriodSeconds": 600,
            "RedrivePolicy": {"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 5},
            "RedriveAllowPolicy": {"redrivePermission": "denyAll"},
        },
    }
    keys = queue["template"]["keys"]
    # Attributes has no line of its own: each attribute points at its property.
    assert "Attributes" not in keys
    assert keys["Attributes.VisibilityTimeout"] == where(12, "Properties.VisibilityTimeout")
    assert keys["Attributes.RedrivePolicy"] == where(19, "Properties.RedrivePolicy")
    assert queue["defaults"] == ["Attributes.SqsManagedSseEnabled"]


def test_a_queue_that_sets_nothing_has_sqs_defaults_for_a_new_queue() -> None:
    queue = only("aws.sqs.queue", "AWS::SQS::Queue")
    name = queue["name"]
    assert queue["data"] == {
        "QueueUrl": f"https://sqs.us-east-1.amazonaws.com/123456789012/{name}",
        "Attributes": {
            "QueueArn": f"arn:aws:sqs:us-east-1:123456789012:{name}",
            "VisibilityTimeout": 30,
            "MaximumMessageSize": 1048576,
            "MessageRetentionPeriod": 345600,
            "DelaySeconds": 0,
            "ReceiveMessageWaitTimeSeconds": 0,
            "SqsManagedSseEnabled": True,
        },
    }
    assert "Attributes" in queue["defaults"]
    assert "Attributes.VisibilityTimeout" in queue["defaults"]
    assert queue["template"]["keys"] == {}
    for key in ("ApproximateNumberOfMessages", "CreatedTimestamp", "LastModifiedTimestamp"):
        assert key not in queue["data"]["Attributes"]


def test_a_fifo_queue_gets_fifo_in_its_generated_name_and_its_fifo_attributes() -> None:
    queue = only("aws.sqs.queue", "AWS::SQS::Queue", {"FifoQueue": True})
    assert queue["name"].endswith(".fifo")
    assert queue["name"].startswith("agenticai-stack-Res-")
    attributes = queue["data"]["Attributes"]
    assert {k: attributes[k] for k in attributes if "Fifo" in k or "Dedup" in k} == {
        "FifoQueue": True,
        "ContentBasedDeduplication": False,
        "DeduplicationScope": "queue",
        "FifoThroughputLimit": "perQueue",
    }


def test_an_unresolved_attribute_makes_attributes_unknown_and_a_wrong_type_stays_as_written() -> (
    None
):
    hole = unresolvable("Ref Visibility (a parameter with no value)")
    queue = only("aws.sqs.queue", "AWS::SQS::Queue", {"QueueName": "q", "VisibilityTimeout": hole})
    assert "Attributes" not in queue["data"]
    assert queue["unknown"]["Attributes"]["kind"] == "unresolvable"
    assert queue["data"]["QueueUrl"].endswith("/q")
    wrong = only("aws.sqs.queue", "AWS::SQS::Queue", {"VisibilityTimeout": "thirty"})
    assert wrong["data"]["Attributes"]["VisibilityTimeout"] == "thirty"
