"""A snapshot of several accounts, each with a stack prefix of its own, and rules judging it:
shared by the engine's per-account tests and the reports' by-account tests."""

from __future__ import annotations

from typing import Any

from tests.engine.builders import resource, snapshot_doc

QUEUE = "aws.sqs.queue"
POLICY = """
parameters:
  prefix: {default: agenticai}
rules:
  - id: t.work-queue
    title: the stack's work queue exists
    severity: high
    resource: aws.sqs.queue
    select: {names: ["${prefix}-work"]}
    expect: {path: QueueUrl, exists: true}
  - id: t.no-stray-queue
    title: no queue named stray
    severity: low
    resource: aws.sqs.queue
    select: {name_matches: "^stray"}
    expect: {path: QueueUrl, exists: false}
    when_none: pass
"""


def queue(account: str, name: str) -> dict[str, Any]:
    made = resource(QUEUE, name, {"QueueUrl": f"https://sqs/{account}/{name}"})
    made.update(account=account, id=f"arn:aws:sqs:us-east-1:{account}:{name}")
    return made


def per_account_document(prefixes: dict[str, str], queues: list[dict[str, Any]]) -> dict[str, Any]:
    """Every account listed completely in us-east-1, each with its own recorded prefix."""
    doc = snapshot_doc(
        queues,
        coverage=[{"type": QUEUE, "account": a, "region": "us-east-1", "complete": True}
                  for a in prefixes],
    )  # fmt: skip
    doc["metadata"].update(accounts=sorted(prefixes), regions=["us-east-1"])
    doc["metadata"]["per_account"] = {
        a: {"regions": ["us-east-1"], "parameters": {"prefix": p}} for a, p in prefixes.items()
    }
    return doc
