"""Rules that compare a resource with another one (a queue with its own DLQ)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook_guard.engine.errors import InputError
from tests.engine.builders import (
    ACCOUNT,
    REGION,
    compile_text,
    resource,
    run,
    snapshot_doc,
    statuses,
)

REDRIVE = """
parameters:
  prefix: {default: agenticai}
  queues: {default: [pm, ops]}
rules:
  - id: sqs.redrive
    title: each queue redrives to its own DLQ
    covers: [RB-I08]
    section: Incident
    cadence: daily
    severity: high
    resource: aws.sqs.queue
    select: {names: ["${prefix}-${queues}-queue"]}
    related:
      dlq: {type: RELATED_TYPE, name: "${prefix}-${queues}-dlq"}
    expect:
      path: Attributes.RedrivePolicy.deadLetterTargetArn
      if_absent: null
      equals: {related: dlq, path: id}
"""
RULE = REDRIVE.replace("RELATED_TYPE", "aws.sqs.queue")


def queue(name: str, target: str | None) -> dict[str, object]:
    attributes = {} if target is None else {"RedrivePolicy": {"deadLetterTargetArn": target}}
    return resource(
        "aws.sqs.queue",
        name,
        {"Attributes": attributes},
        id=f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
    )


def dlq(name: str) -> dict[str, object]:
    return queue(name, None)


def arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def test_own_dlq_passes_and_another_fails_with_the_related_id_as_evidence(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [
            queue("agenticai-pm-queue", arn("agenticai-pm-dlq")),
            queue("agenticai-ops-queue", arn("agenticai-pm-dlq")),
            dlq("agenticai-pm-dlq"),
            dlq("agenticai-ops-dlq"),
        ]
    )
    results = run(tmp_path, RULE, doc)
    assert statuses(results) == {"agenticai-pm-queue": "pass", "agenticai-ops-queue": "fail"}
    ops = next(r for r in results if r["resource"]["name"] == "agenticai-ops-queue")
    assert ops["evidence"]["related.dlq"] == arn("agenticai-ops-dlq")


def test_no_redrive_and_no_dlq_is_a_fail_not_an_equal_pair_of_nothings(tmp_path: Path) -> None:
    doc = snapshot_doc([queue("agenticai-ops-queue", None)])
    results = run(tmp_path, RULE, doc, queues=["ops"])
    assert statuses(results) == {"agenticai-ops-queue": "fail"}
    assert results[0]["message"] == "the related dlq agenticai-ops-dlq does not exist"
    assert results[0]["evidence"]["related.dlq"] == "agenticai-ops-dlq (does not exist)"


def test_a_missing_related_resource_behind_an_incomplete_listing_is_an_error(
    tmp_path: Path,
) -> None:
    coverage = [{"type": "aws.sqs.queue", "account": ACCOUNT, "region": REGION, "complete": False}]
    doc = snapshot_doc([queue("agenticai-ops-queue", arn("agenticai-ops-dlq"))], coverage=coverage)
    results = run(tmp_path, RULE, doc, queues=["ops"])
    assert statuses(results)["agenticai-ops-queue"] == "error"


def test_a_related_type_that_was_not_collected_is_an_error(tmp_path: Path) -> None:
    text = REDRIVE.replace("RELATED_TYPE", "aws.sqs.dlq_typo").replace("equals:", "not_equals:")
    doc = snapshot_doc([queue("agenticai-ops-queue", None)])
    results = run(tmp_path, text, doc, queues=["ops"])
    assert statuses(results) == {"agenticai-ops-queue": "error"}
    assert "aws.sqs.dlq_typo was not collected" in results[0]["message"]


def test_a_list_parameter_in_a_related_name_must_be_bound_by_the_selection(tmp_path: Path) -> None:
    text = RULE.replace(
        'select: {names: ["${prefix}-${queues}-queue"]}', 'select: {name_matches: "-queue$"}'
    )
    with pytest.raises(
        InputError, match=r"related.dlq.name: list parameter '\$\{queues\}' is not bound"
    ):
        compile_text(tmp_path, text)


def test_a_not_around_the_comparison_cannot_turn_a_missing_dlq_into_a_pass(tmp_path: Path) -> None:
    text = RULE.replace(
        "    expect:\n      path: Attributes.RedrivePolicy.deadLetterTargetArn\n      if_absent: null\n      equals: {related: dlq, path: id}\n",
        "    expect:\n      not: {path: Attributes.RedrivePolicy.deadLetterTargetArn, if_absent: null, equals: {related: dlq, path: id}}\n",
    )
    assert "not:" in text
    for target in (None, arn("agenticai-ops-dlq")):
        results = run(
            tmp_path, text, snapshot_doc([queue("agenticai-ops-queue", target)]), queues=["ops"]
        )
        assert statuses(results) == {"agenticai-ops-queue": "fail"}
