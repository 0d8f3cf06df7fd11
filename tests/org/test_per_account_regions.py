"""An account collected in its own regions is complete there, and only there."""

from __future__ import annotations

from typing import Any

from runbook_guard.engine.snapshot import Snapshot
from tests.engine.builders import snapshot_doc

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
