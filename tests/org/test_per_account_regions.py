"""An account collected in its own regions is complete there, and only there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.snapshot import Snapshot
from tests.engine.builders import NOW, REGION, compile_text, resource, snapshot_doc

A, B = "111111111111", "222222222222"
QUEUE = "aws.sqs.queue"


def document(per_account: dict[str, Any], covered: list[tuple[str, str]]) -> dict[str, Any]:
    doc = snapshot_doc(
        [],
        coverage=[{"type": QUEUE, "account": a, "region": r, "complete": True} for a, r in covered],
    )
    doc["metadata"].update(accounts=[A, B], regions=["eu-west-1", "us-east-1"])
    if per_account:
        doc["metadata"]["per_account"] = per_account
    return doc


def test_an_account_with_its_own_regions_is_judged_complete_over_those() -> None:
    covered = [(A, "eu-west-1"), (A, "us-east-1"), (B, "eu-west-1")]
    snapshot = Snapshot(document({B: {"regions": ["eu-west-1"]}}, covered))
    assert snapshot.incomplete(QUEUE) == []


def test_without_the_record_the_missing_region_is_a_gap() -> None:
    covered = [(A, "eu-west-1"), (A, "us-east-1"), (B, "eu-west-1")]
    [gap] = Snapshot(document({}, covered)).incomplete(QUEUE)
    assert f"{B}/us-east-1" in gap


def test_a_region_of_its_own_that_was_not_listed_is_still_a_gap() -> None:
    covered = [(A, "eu-west-1"), (A, "us-east-1")]
    [gap] = Snapshot(document({B: {"regions": ["eu-west-1"]}}, covered)).incomplete(QUEUE)
    assert f"{B}/eu-west-1" in gap
    assert f"{B}/us-east-1" not in gap


RELATED = """
rules:
  - id: t.dlq-retention
    title: a queue's DLQ keeps messages two weeks
    severity: high
    resource: aws.sqs.queue
    select: {names: [app-queue]}
    related:
      target: {type: aws.sqs.queue, from: Attributes.RedrivePolicy.deadLetterTargetArn}
    expect:
      related: target
      all_items: {path: Attributes.MessageRetentionPeriod, ge: 1209600}
"""


def test_another_accounts_incomplete_listing_leaves_a_missing_related_target_decided(
    tmp_path: Path,
) -> None:
    """One account's gap hides only its own resources: B's queue points at a DLQ that B's
    complete listing proves missing, so it fails, whatever A's failed listing might hold."""

    def queue(account: str, name: str, attributes: dict[str, Any]) -> dict[str, Any]:
        made = resource(QUEUE, name, {"Attributes": attributes}, id=arn(account, name))
        made["account"] = account
        return made

    def arn(account: str, name: str) -> str:
        return f"arn:aws:sqs:{REGION}:{account}:{name}"

    redrive = {"deadLetterTargetArn": arn(B, "app-dlq")}
    queues = [queue(B, "app-queue", {"RedrivePolicy": redrive})]
    doc = document({}, [(A, REGION), (B, REGION)])
    doc["metadata"]["regions"] = [REGION]
    doc["resources"] = queues
    doc["coverage"][0]["complete"] = False  # A's listing failed
    policy_set, rules = compile_text(tmp_path, RELATED)
    results = evaluate_rules(rules, Snapshot(doc), NOW, policy_set.tables)
    by_account = {r["resource"]["account"]: r["status"] for r in results}
    assert by_account[B] == "fail"  # decided on B's own complete listing
    assert by_account[A] == "error"  # A's app-queue may exist: its listing failed
