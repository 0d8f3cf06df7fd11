"""The runbook's stack, written into moto with ordinary boto3 calls.

Mostly compliant, with the violations a real account drifts into (a DLQ holding messages, a
queue at 300, a log group that never expires, a python3.9 function, a queue without redrive, a
plain-String parameter, a second active deployer key, ...), so that every status a rule can
give shows up in the demo. Some are near misses that a shallow check passes (issue 8): PITR on
with a 1-day window, a budget alert at 80 % whose operator is LESS_THAN, a work queue no
function consumes while every worker has a mapping, a one-hour outage in a quiet day, queue
alarms that can never fire in time, and the account past 10 concurrent executions while each
function stays under 5. Each is marked, with the rule it trips, where it is written.

One module per service group writes its part (``governance``, ``storage``, ``compute``,
``observability``); this one holds the names and the order. Works against in-process
``mock_aws`` and against a moto server (pass ``endpoint_url``); ``copies=N`` repeats the stack
under distinct prefixes for benchmarks.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import boto3

from runbook_guard.demo import compute, governance, observability, storage

#: Stands in for a real secret; tests assert it never reaches a snapshot or report.
DEFAULT_SECRET = "canary-7f3c-do-not-leak"


@dataclass
class Seeded:
    """What was created, for tests and benchmarks to assert against."""

    prefixes: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Stack:
    """Clients and names for one copy of the stack."""

    session: boto3.Session
    region: str
    endpoint_url: str | None
    prefix: str
    secret: str
    now: datetime
    account: str

    def client(self, service: str) -> Any:
        region = "us-east-1" if service in ("iam", "budgets") else self.region
        return self.session.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.endpoint_url,
        )

    def function_name(self, kind: str) -> str:
        """CloudFormation-style physical name, stable across runs (no random suffix)."""
        return f"{self.prefix}-stack-{kind}-{zlib.crc32(kind.encode()):08X}"


def seed_runbook_stack(
    session: boto3.Session | None = None,
    *,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    copies: int = 1,
    prefix: str = "agenticai",
    secret: str = DEFAULT_SECRET,
    now: datetime | None = None,
) -> Seeded:
    """Create ``copies`` copies of the stack; copy 0 uses ``prefix``, copy k ``prefix`` + k."""
    session = session or boto3.Session(region_name=region)
    moment = now or datetime.now(timezone.utc)
    seeded = Seeded()
    sts = session.client("sts", region_name=region, endpoint_url=endpoint_url)
    account = str(sts.get_caller_identity()["Account"])
    for k in range(copies):
        name = f"{prefix}{k or ''}"
        stack = Stack(session, region, endpoint_url, name, secret, moment, account)
        seeded.prefixes.append(stack.prefix)
        _seed_copy(stack, seeded)
    if copies:  # the account's own series: once per account and Region, not per copy
        observability.account_metrics(stack)
    return seeded


def _seed_copy(stack: Stack, seeded: Seeded) -> None:
    role_arn = governance.identities(stack)
    storage.buckets(stack)  # before DynamoDB: the weekly export writes to the backups bucket
    storage.table(stack)
    queues = dict(compute.queues(stack))
    seeded.queues.extend(queues)
    functions = compute.functions(stack, role_arn, queues)
    seeded.functions.extend(functions)
    storage.parameters(stack)
    compute.ecs_service(stack)
    governance.trail(stack)
    governance.budget(stack)
    observability.seed(stack, functions)
