"""Waivers, determinism whatever the input order, and dates at their edges."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.fileio import canonical_json
from runbook_guard.engine.results import build_results
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.engine.timeutil import parse_timestamp
from runbook_guard.engine.waivers import apply_waivers
from tests.engine.builders import (
    ACCOUNT,
    NOW,
    REGION,
    compile_text,
    resource,
    run,
    snapshot_doc,
    statuses,
)
from tests.engine.rule_texts import (
    DENIED,
    DEPTH,
    HEADER,
    PITR,
    RATIO,
    function,
    queues,
)

# ---- waivers and determinism --------------------------------------------------------------


def test_waivers_keep_the_original_status_and_expire(tmp_path: Path) -> None:
    results = run(tmp_path, DEPTH, snapshot_doc(queues(2000, 700)))
    waivers = [
        {
            "id": "W1",
            "rule": "sqs.depth",
            "resource": "*-pm-*",
            "owner": "ops",
            "reason": "migration",
            "expires": "2026-12-31",
        },
        {
            "id": "W2",
            "rule": "sqs.depth",
            "resource": "agenticai-dev-queue",
            "owner": "ops",
            "reason": "old",
            "expires": "2026-11-01",
        },
    ]
    register = apply_waivers(results, waivers, NOW)
    assert statuses(results) == {"agenticai-pm-queue": "waived", "agenticai-dev-queue": "warn"}
    waived = next(r for r in results if r["status"] == "waived")
    assert (waived["original_status"], waived["waiver"]) == ("fail", "W1")
    assert [(w["id"], w["status"], w["days_left"]) for w in register] == [
        ("W1", "active", 34),
        ("W2", "expired", -26),
    ]


def test_errors_cannot_be_waived(tmp_path: Path) -> None:
    results = run(tmp_path, PITR, snapshot_doc([resource("aws.sqs.queue", "q")]))
    register = apply_waivers(
        results,
        [
            {
                "id": "W",
                "rule": "pitr",
                "resource": "*",
                "owner": "o",
                "reason": "r",
                "expires": "2027-01-01",
            }
        ],
        NOW,
    )
    assert {r["status"] for r in results} == {"error"}
    assert register[0]["status"] == "unused"


def test_results_are_byte_identical_across_runs_and_input_orderings(tmp_path: Path) -> None:
    text = DEPTH + (RATIO.replace("NO_DATA", "note")).split("rules:\n", 1)[1]
    items = [*queues(300, 2000), function("f1", 3, 100), function("f2", 0, 0)]
    policy_set, rules = compile_text(tmp_path, text)
    outputs = set()
    for seed in range(5):
        shuffled = json.loads(json.dumps(items))
        random.Random(seed).shuffle(shuffled)
        doc = snapshot_doc(
            shuffled, errors=[DENIED, {**DENIED, "resource": "arn:x"}][:: 1 if seed % 2 else -1]
        )
        results = build_results(policy_set, rules, Snapshot(doc), policy_set.defaults(), NOW)
        outputs.add(canonical_json(results))
    assert len(outputs) == 1


# ---- review findings: ordering, dates, boundaries -----------------------------------------


def test_coverage_and_error_ties_in_any_order_give_the_same_bytes(tmp_path: Path) -> None:
    policy_set, rules = compile_text(
        tmp_path,
        DEPTH.replace(
            'select: {names: ["${prefix}-${queues}-queue"]}', 'select: {name_matches: "-queue$"}'
        ),
    )
    coverage = [
        {"type": "aws.sqs.queue", "account": ACCOUNT, "region": "eu-west-1", "complete": False},
        {"type": "aws.sqs.queue", "account": ACCOUNT, "region": REGION, "complete": False},
        {"type": "aws.sqs.queue", "account": "210987654321", "region": REGION, "complete": False},
    ]
    errors = [
        {
            "service": "sqs",
            "operation": "ListQueues",
            "region": REGION,
            "account": account,
            "resource_type": "aws.sqs.queue",
            "code": "AccessDenied",
            "message": f"denied in {account}",
        }
        for account in (ACCOUNT, "210987654321")
    ]
    outputs = set()
    for seed in range(6):
        order = random.Random(seed)
        shuffled_coverage, shuffled_errors = coverage[:], errors[:]
        order.shuffle(shuffled_coverage)
        order.shuffle(shuffled_errors)
        doc = snapshot_doc(queues(1, 2), errors=shuffled_errors, coverage=shuffled_coverage)
        outputs.add(canonical_json(build_results(policy_set, rules, Snapshot(doc), {}, NOW)))
    assert len(outputs) == 1
    (text,) = outputs
    # each listing's cause names only its own account's error
    assert (
        f"in {ACCOUNT}/{REGION} was incomplete: sqs:ListQueues failed in {REGION}: AccessDenied: denied in {ACCOUNT}"
        in text
    )


def test_two_resources_with_one_identity_are_refused(tmp_path: Path) -> None:
    twice = [*queues(1), *queues(1)]
    with pytest.raises(InputError, match="appears twice"):
        Snapshot(snapshot_doc(twice))


@pytest.mark.parametrize(
    ("expires", "status"),
    [("2026-11-27", "waived"), ("2026-11-26", "fail"), ("2026-11-28", "waived")],
)
def test_a_waiver_applies_through_its_expiry_day_in_utc(
    tmp_path: Path, expires: str, status: str
) -> None:
    waiver = {
        "id": "W",
        "rule": "sqs.depth",
        "resource": "agenticai-pm-queue",
        "owner": "o",
        "reason": "r",
        "expires": expires,
    }
    results = run(tmp_path, DEPTH, snapshot_doc(queues(5000, 0)))
    apply_waivers(results, [waiver], NOW)  # NOW is 2026-11-27 12:00 UTC
    assert statuses(results)["agenticai-pm-queue"] == status
    # 23:30 at UTC-5 on the 27th is already the 28th in UTC: the waiver ending the 27th is over
    late = datetime(2026, 11, 27, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    again = run(tmp_path, DEPTH, snapshot_doc(queues(5000, 0)))
    apply_waivers(again, [{**waiver, "expires": "2026-11-27"}], late)
    assert statuses(again)["agenticai-pm-queue"] == "fail"


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        (1_767_225_600_000, "2026-01-01"),
        (1_767_225_600, "2026-01-01"),
        (1e20, None),
        (float("inf"), None),
        ("2026-02-30", None),
    ],
)
def test_timestamps_in_seconds_or_milliseconds_and_nonsense(
    stamp: object, expected: str | None
) -> None:
    parsed = parse_timestamp(stamp)
    assert (parsed.date().isoformat() if parsed else None) == expected


def test_an_impossible_date_in_yaml_is_a_positioned_problem(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        compile_text(tmp_path, HEADER + "  - id: x\n    title: 2026-02-30\n")
    assert "rules.yaml:7:12: rules[0].title: invalid value '2026-02-30'" in caught.value.problems[0]


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_dates_at_the_edge_of_the_calendar_are_not_times_rather_than_crashes(stamp: str) -> None:
    assert parse_timestamp(stamp) is None
