"""The REST API's handler: /health answers the runbook's morning check; the rest is routed on."""

import json
import os


def handler(event, context):
    if event.get("path") == "/health":
        return {"statusCode": 200, "body": json.dumps({"status": "ok"})}
    return {
        "statusCode": 202,
        "body": json.dumps({"accepted": True, "table": os.environ["TABLE_NAME"]}),
    }
