"""Selection per rule: a resource gets a detail call only for a rule that reads past its listing.

The flatness case of issue 9: rules that find queues ``from`` a mapping's ARN, or by a related
``where`` on ``QueueUrl``, used to select every queue of the account, so each unrelated queue
got a ``GetQueueAttributes``. A selector now carries the keys its rule reads of the type, and a
queue whose listing holds all of them (its URL) needs no call for that rule; a related ``where``
is applied to the listing before any detail, unless it reads a key only a detail fills or
compares ages (then the target is kept). The collection runs against moto (the runbook's stack
plus twenty queues of another workload) with every call recorded, and the rules must decide
exactly as on a full collection.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from runbook_guard.collectors import s3, sqs
from runbook_guard.demo.stack import Seeded
from runbook_guard.engine.loader import PolicySet
from runbook_guard.engine.planner import build_plan
from tests.collectors.pushdown import Calls, everything, policy, run, statuses
from tests.collectors.pushdown import rule as shared_rule

OTHER_QUEUES = [f"other-workload-{i:02d}" for i in range(20)]
WORK = r"/agenticai-[^/]+-queue$"


def rule(rule_id: str, body: str) -> str:
    return shared_rule(rule_id, body, "RB-T01")


RULES = [
    # Found from the workers' mappings; reads only each queue's URL (a listing key).
    rule(
        "t.worker-consumes",
        f"""
resource: aws.lambda.function
select: {{name_matches: "^agenticai.*Worker"}}
related:
  queues:
    type: aws.sqs.queue
    from: "EventSourceMappings[?State=='Enabled'].EventSourceArn | [?contains(@, ':sqs:')]"
expect:
  related: queues
  any_item: {{path: QueueUrl, matches: "{WORK}"}}
""",
    ),
    # Found by a where on the URL (a listing key), then judged on their attributes (a detail).
    rule(
        "t.dashboard-queues",
        f"""
resource: aws.cloudwatch.dashboard
select: {{names: [agenticai-dashboard]}}
related:
  work_queues:
    type: aws.sqs.queue
    where: {{path: QueueUrl, matches: "{WORK}"}}
    when_missing: note
expect:
  related: work_queues
  all_items: {{path: Attributes.ApproximateNumberOfMessages, lt: 1000}}
""",
    ),
    rule(
        "t.dlq-depth",
        """
resource: aws.sqs.queue
select: {name_matches: "-dlq$"}
expect: {path: Attributes.ApproximateNumberOfMessages, equals: 0}
""",
    ),
]

Observed = tuple[PolicySet, dict[str, Any], Calls, dict[str, Any], Calls]


@pytest.fixture(scope="module")
def observed(
    seeded: Seeded, tmp_path_factory: pytest.TempPathFactory, hooked: Callable[..., Any]
) -> Observed:
    client = boto3.client("sqs")
    for name in OTHER_QUEUES:
        client.create_queue(QueueName=name)
    policy_set = policy(tmp_path_factory.mktemp("related"), RULES)
    plan = build_plan(policy_set.compile(), {})
    return (policy_set, *run(plan, hooked), *run(everything(plan), hooked))


def queue_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def test_only_queues_a_rule_reads_attributes_of_get_the_call(
    observed: Observed, seeded: Seeded
) -> None:
    _, snapshot, calls, _, full_calls = observed
    asked = sorted(queue_name(p["QueueUrl"]) for p in calls.of("GetQueueAttributes"))
    assert asked == sorted(seeded.queues)  # the four work queues and the four DLQs
    assert len(asked) == 8
    listed = {r["name"] for r in snapshot["resources"] if r["type"] == sqs.QUEUE}
    assert set(OTHER_QUEUES) <= listed  # still listed: a name missing stays provable
    # A full collection asks for every queue, the other workload's included.
    assert len(full_calls.of("GetQueueAttributes")) == len(seeded.queues) + len(OTHER_QUEUES)


def test_the_rules_decide_as_on_a_full_collection(observed: Observed) -> None:
    policy_set, limited, _, full, _ = observed
    assert limited["errors"] == full["errors"] == []
    decided = statuses(policy_set, limited)
    assert decided == statuses(policy_set, full)
    assert {decided[("t.dashboard-queues", "agenticai-dashboard")]} <= {"pass", "fail"}
    # Every worker has a mapping from a work queue (the queue nobody consumes is another rule's).
    workers = [s for (r, _), s in decided.items() if r == "t.worker-consumes"]
    assert workers == ["pass"] * 4


# --- the planner's selectors, on listing data alone ------------------------------------------

QUEUE_KEYS = frozenset({"QueueUrl"})
BUCKET_KEYS = s3.API.listing_keys(s3.BUCKET)


def queue(name: str) -> dict[str, Any]:
    return {"QueueUrl": f"https://sqs.us-east-1.amazonaws.com/123456789012/{name}"}


def related_rule(target: str, where: str, expect: str) -> str:
    return rule(
        "t.related",
        f"""
resource: aws.cloudwatch.dashboard
select: {{names: [agenticai-dashboard]}}
related:
  targets:
    type: {target}
    where: {where}
expect:
  related: targets
  all_items: {expect}
""",
    )


def selects(tmp_path: Path, text: str, resource_type: str, name: str, listed: Any) -> bool:
    plan = build_plan(policy(tmp_path, [text]).compile(), {})
    keys = QUEUE_KEYS if resource_type == sqs.QUEUE else BUCKET_KEYS
    return plan.types[resource_type].selects(name, listed, keys)


DEPTH = "{path: Attributes.ApproximateNumberOfMessages, lt: 1000}"


def test_a_related_where_on_listing_keys_drops_targets_before_details(tmp_path: Path) -> None:
    text = related_rule(sqs.QUEUE, f'{{path: QueueUrl, matches: "{WORK}"}}', DEPTH)
    assert selects(tmp_path, text, sqs.QUEUE, "agenticai-pm-queue", queue("agenticai-pm-queue"))
    assert not selects(tmp_path, text, sqs.QUEUE, "other-x", queue("other-x"))


def test_a_related_where_reading_a_detail_key_keeps_every_target(tmp_path: Path) -> None:
    """``if_absent`` would read "not asked for yet" as 0: the where is not applied early."""
    where = "{path: Attributes.DelaySeconds, if_absent: 0, equals: 5}"
    text = related_rule(sqs.QUEUE, where, DEPTH)
    assert selects(tmp_path, text, sqs.QUEUE, "other-x", queue("other-x"))


def test_a_related_where_on_ages_keeps_every_target(tmp_path: Path) -> None:
    """ "Older than" may hold by the time the snapshot is evaluated: never decided early."""
    text = related_rule(
        s3.BUCKET, "{path: CreationDate, older_than: 10000}", "{path: Versioning, exists: true}"
    )
    listed = {"Name": "b", "CreationDate": "2026-11-01T00:00:00+00:00"}
    assert selects(tmp_path, text, s3.BUCKET, "b", listed)
    named = related_rule(
        s3.BUCKET, '{path: Name, matches: "^agenticai-"}', "{path: Versioning, exists: true}"
    )
    assert not selects(tmp_path, named, s3.BUCKET, "b", listed)


def test_a_rule_reading_only_listed_keys_needs_no_detail(tmp_path: Path) -> None:
    text = rule(
        "t.urls",
        f"""
resource: aws.sqs.queue
expect: {{path: QueueUrl, matches: "{WORK}"}}
""",
    )
    assert not selects(tmp_path, text, sqs.QUEUE, "other-x", queue("other-x"))
    # A listing that lacks a key the rule reads (AWS left it out) is completed by the detail.
    assert selects(tmp_path, text, sqs.QUEUE, "other-x", {})
