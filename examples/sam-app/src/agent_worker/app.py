"""The agent workers' handler (pm, dev, qa, ops: one code, four functions): one SQS batch at a
time; failed messages go back to the queue and, after maxReceiveCount receives, to its DLQ."""

import json


def handler(event, context):
    failures = []
    for record in event.get("Records", []):
        try:
            json.loads(record["body"])
        except ValueError:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
