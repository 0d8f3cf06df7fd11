"""The stack's past, which AWS knows and moto cannot: its CloudTrail history and this month's
Free Tier usage, seeded into the demo's stand-ins (``standins``) after the stack itself.

The history holds two destructive calls in the month the monthly security review reads, for a
person to confirm (cloudtrail.destructive-events, RB-M04): the deployer user deleted the
table's previous weekly backup nine days ago, and on-call purged the dev DLQ two days ago
rather than redrive it (the three failures in it arrived since). An older DeleteTable (the
table's first version, replaced 45 days ago) is in the 90 days CloudTrail keeps but outside
the month, so it is not reported; the everyday calls around them are not destructive.

The Free Tier usage is the month so far of a small stack: everything well inside its
allowance except Lambda compute, which the long-running agent workers have taken to 74 % of
its 400,000 GB-seconds (a note: above the runbook's normal 70 %, under its 80 % warning), with
the month's forecast past the allowance.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import boto3

from runbook_guard.demo.standins import seed

if TYPE_CHECKING:
    from runbook_guard.demo.stack import Seeded

#: Names the event ids are derived from, so the same story gets the same ids.
_IDS = uuid.UUID("8f0c2a52-5d1e-4c4f-9a59-3f1f3f6c9b0e")


@dataclass(frozen=True)
class Call:
    """One API call of the history: what, when (days ago), who, and what it touched.

    ``role`` names the role ``who`` had assumed (a person signed in through SSO); without it
    ``who`` is an IAM user.
    """

    name: str
    days_ago: float
    who: str
    source: str
    resource_type: str
    resource: str
    role: str | None = None


def history(seeded: Seeded, account: str, region: str, now: datetime) -> list[Call]:
    """The account's calls worth telling, oldest first."""
    prefix = seeded.prefixes[0]
    table = f"{prefix}-data"
    # The backup deleted is the one the weekly job had made a week before the latest.
    made = int((now - timedelta(days=16)).timestamp() * 1000)
    backup = f"arn:aws:dynamodb:{region}:{account}:table/{table}/backup/{made:014d}-5e1f0a2b"
    dlq = f"https://sqs.{region}.amazonaws.com/{account}/{prefix}-dev-dlq"
    [api] = [name for name in seeded.functions if name.startswith(f"{prefix}-stack-ApiHandler")]
    deployer, oncall = f"{prefix}-deployer", "maria@example.com"
    ddb, sqs, lam = "dynamodb.amazonaws.com", "sqs.amazonaws.com", "lambda.amazonaws.com"
    operators = "AWSReservedSSO_Operations_5f2e0c8a1b3d4e6f"
    return [
        # The table's first version, replaced: inside CloudTrail's 90 days, outside the month.
        Call("DeleteTable", 45, deployer, ddb, "AWS::DynamoDB::Table", f"{table}-v1"),
        Call("CreateBackup", 9.1, deployer, ddb, "AWS::DynamoDB::Table", table),
        # RB-M04: the previous weekly backup deleted: intended? A person confirms.
        Call("DeleteBackup", 9, deployer, ddb, "AWS::DynamoDB::Table", backup),
        Call("UpdateFunctionCode20150331v2", 3, deployer, lam, "AWS::Lambda::Function", api),
        # RB-M04: the dev DLQ purged instead of redriven; its three failures came since.
        Call("PurgeQueue", 2, oncall, sqs, "AWS::SQS::Queue", dlq, role=operators),
    ]


def event(call: Call, account: str, region: str, now: datetime) -> dict[str, Any]:
    """The call as LookupEvents answers it, with the CloudTrail record it summarises."""
    when = (now - timedelta(days=call.days_ago)).replace(microsecond=0)
    event_id = str(uuid.uuid5(_IDS, f"{account}/{region}/{call.name}/{call.resource}"))
    identity: dict[str, Any] = {"type": "IAMUser", "accountId": account, "userName": call.who}
    if call.role:
        identity = {
            "type": "AssumedRole",
            "accountId": account,
            "arn": f"arn:aws:sts::{account}:assumed-role/{call.role}/{call.who}",
        }
    record = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": call.source,
        "eventName": call.name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.24",
        "userAgent": "aws-cli/2.17.0",
        "requestParameters": {"resource": call.resource},
        "responseElements": None,
        "eventID": event_id,
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    return {
        "EventId": event_id,
        "EventName": call.name,
        "ReadOnly": "false",
        "EventTime": when,
        "EventSource": call.source,
        "Username": call.who,
        "Resources": [{"ResourceType": call.resource_type, "ResourceName": call.resource}],
        "CloudTrailEvent": json.dumps(record),
    }


#: (service, usage type, month so far, forecast for the month, allowance, unit, free tier
#: type, what the offer is), as GetFreeTierUsage lists them.
OFFERS = (
    ("AWS Lambda", "Global-Request", 41_250, 96_000, 1_000_000, "Requests", "Always Free",
     "1,000,000 free requests per month for AWS Lambda"),
    # The agent workers run for minutes at 1 GB: the one offer past the runbook's normal 70 %.
    ("AWS Lambda", "Global-Lambda-GB-Second", 297_600, 520_000, 400_000, "GB-Seconds",
     "Always Free", "400,000 GB-seconds of compute time per month for AWS Lambda"),
    ("Amazon DynamoDB", "Global-TimedStorage-ByteHrs", 0.42, 0.6, 25, "GB-Mo", "Always Free",
     "25 GB of storage per month for Amazon DynamoDB"),
    ("Amazon Simple Queue Service", "Global-Requests-Tier1", 212_000, 480_000, 1_000_000,
     "Requests", "Always Free", "1,000,000 free requests per month for Amazon SQS"),
    ("AmazonCloudWatch", "Global-DataProcessing-Bytes", 1.35, 3.1, 5, "GB", "Always Free",
     "5 GB of log data ingestion per month for Amazon CloudWatch Logs"),
    ("Amazon Simple Storage Service", "Global-TimedStorage-ByteHrs", 1.8, 2.2, 5, "GB-Mo",
     "12 Months Free", "5 GB of Amazon S3 standard storage for 12 months"),
    ("Amazon API Gateway", "Global-ApiGatewayRequest", 141_000, 330_000, 1_000_000,
     "Requests", "12 Months Free", "1,000,000 API Gateway REST API calls for 12 months"),
)  # fmt: skip


def usages() -> list[dict[str, Any]]:
    """``OFFERS`` as GetFreeTierUsage's ``freeTierUsages`` items."""
    return [
        {
            "service": service,
            "operation": "",
            "usageType": usage_type,
            "region": "global",
            "actualUsageAmount": float(actual),
            "forecastedUsageAmount": float(forecast),
            "limit": float(limit),
            "unit": unit,
            "description": description,
            "freeTierType": kind,
        }
        for service, usage_type, actual, forecast, limit, unit, kind, description in OFFERS
    ]


def seed_story(
    endpoint: str,
    seeded: Seeded,
    *,
    region: str = "us-east-1",
    now: datetime | None = None,
    session: boto3.Session | None = None,
) -> None:
    """Seed the history of the first copy of the stack, and the account's Free Tier usage,
    into a server with stand-ins (``moto_server(stand_ins=True)``); ``ValueError`` when the
    server refuses them."""
    moment = now or datetime.now(timezone.utc)
    sts = (session or boto3.Session()).client("sts", region_name=region, endpoint_url=endpoint)
    account = str(sts.get_caller_identity()["Account"])
    calls = history(seeded, account, region, moment)
    events = [event(call, account, region, moment) for call in calls]
    seed(endpoint, "cloudtrail/events", {"account": account, "region": region, "items": events})
    seed(endpoint, "freetier/usages", {"account": account, "items": usages()})
