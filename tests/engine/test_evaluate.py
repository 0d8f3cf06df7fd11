"""Statuses, the note band, derived values and every fail-closed path of the engine."""

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

HEADER = """
parameters:
  prefix: {default: agenticai}
  queues: {default: [pm, dev]}
rules:
"""

DEPTH = (
    HEADER
    + """
  - id: sqs.depth
    title: queue depth
    covers: [RB-D06]
    section: Daily
    cadence: daily
    severity: medium
    resource: aws.sqs.queue
    select: {names: ["${prefix}-${queues}-queue"]}
    value: {path: Attributes.ApproximateNumberOfMessages, unit: messages}
    levels: {normal: "< 100", warn: "> 500", fail: "> 1000"}
"""
)


def queues(*depths: object) -> list[dict[str, object]]:
    return [
        resource(
            "aws.sqs.queue",
            f"agenticai-{name}-queue",
            {"Attributes": {"ApproximateNumberOfMessages": d}},
        )
        for name, d in zip(["pm", "dev"], depths, strict=False)
    ]


@pytest.mark.parametrize(
    ("depth", "expected"),
    [
        (0, "pass"),
        (99, "pass"),
        (100, "note"),
        (300, "note"),
        (500, "note"),
        (501, "warn"),
        (1000, "warn"),
        (1001, "fail"),
        ("300", "note"),
    ],
)
def test_three_levels_and_the_note_band(tmp_path: Path, depth: object, expected: str) -> None:
    results = run(tmp_path, DEPTH, snapshot_doc(queues(depth, 0)))
    assert statuses(results)["agenticai-pm-queue"] == expected
    assert results[1]["observed"] == float(depth)  # type: ignore[arg-type]
    assert results[1]["expected"] == "normal < 100, warn > 500, fail > 1000"


def test_a_named_resource_that_does_not_exist_fails(tmp_path: Path) -> None:
    results = run(tmp_path, DEPTH, snapshot_doc(queues(0), types=["aws.sqs.queue"]))
    assert statuses(results) == {"agenticai-pm-queue": "pass", "agenticai-dev-queue": "fail"}
    missing = next(r for r in results if r["status"] == "fail")
    assert "does not exist" in missing["message"]


def test_parameters_can_be_overridden(tmp_path: Path) -> None:
    results = run(tmp_path, DEPTH, snapshot_doc(queues(0)), queues=["pm"], prefix="agenticai")
    assert statuses(results) == {"agenticai-pm-queue": "pass"}


RATIO = (
    HEADER
    + """
  - id: lambda.rate
    title: error rate
    covers: [RB-T02]
    section: Monitoring
    cadence: daily
    severity: high
    resource: aws.lambda.function
    metrics:
      errors: {namespace: AWS/Lambda, metric: Errors, stat: Sum, dimensions: {FunctionName: "{name}"}}
      calls: {namespace: AWS/Lambda, metric: Invocations, stat: Sum, dimensions: {FunctionName: "{name}"}}
    value:
      ratio: {numerator: {metric: errors}, denominator: {metric: calls}}
      unit: "%"
    levels: {normal: "< 0.5%", warn: "> 2%", fail: "> 5%"}
    no_data: NO_DATA
"""
)
ERRORS_KEY = "AWS/Lambda/Errors:Sum:FunctionName={name}:86400s/86400s:sum"
CALLS_KEY = "AWS/Lambda/Invocations:Sum:FunctionName={name}:86400s/86400s:sum"


def function(name: str, errors: float | None, calls: float | None) -> dict[str, object]:
    return resource("aws.lambda.function", name, {}, metrics={ERRORS_KEY: errors, CALLS_KEY: calls})


def test_ratio_levels(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [
            function("a", 1, 1000),
            function("b", 10, 1000),
            function("c", 30, 1000),
            function("d", 60, 1000),
        ]
    )
    results = run(tmp_path, RATIO.replace("NO_DATA", "note"), doc)
    assert statuses(results) == {"a": "pass", "b": "note", "c": "warn", "d": "fail"}
    assert results[3]["observed"] == 6.0
    assert results[3]["evidence"] == {"metric.errors": 60, "metric.calls": 1000}


@pytest.mark.parametrize("no_data", ["note", "pass", "warn", "error"])
def test_zero_denominator_is_no_data_never_a_crash(tmp_path: Path, no_data: str) -> None:
    doc = snapshot_doc([function("idle", 0, 0), function("silent", None, None)])
    results = run(tmp_path, RATIO.replace("NO_DATA", no_data), doc)
    assert statuses(results) == {"idle": no_data, "silent": no_data}
    assert all(r["observed"] == "no data" for r in results)
    assert "no data" in results[0]["message"]


def test_no_data_defaults_to_error(tmp_path: Path) -> None:
    text = (RATIO.replace("NO_DATA", "note")).replace("    no_data: note\n", "")
    assert statuses(run(tmp_path, text, snapshot_doc([function("idle", 0, 0)]))) == {
        "idle": "error"
    }


AGE = (
    HEADER
    + """
  - id: ssm.rotation
    title: rotated
    covers: [RB-S01]
    section: Security
    cadence: monthly
    severity: medium
    resource: aws.ssm.parameter
    value: {days_since: {path: LastModifiedDate}, unit: days}
    levels: {warn: "> 90", fail: "> 365"}
"""
)


def test_age_in_days_against_the_injected_now(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [
            resource("aws.ssm.parameter", "fresh", {"LastModifiedDate": "2026-11-01T00:00:00Z"}),
            resource("aws.ssm.parameter", "stale", {"LastModifiedDate": "2026-06-01T00:00:00Z"}),
            resource("aws.ssm.parameter", "ancient", {"LastModifiedDate": 1577836800}),
        ]
    )
    assert statuses(run(tmp_path, AGE, doc)) == {
        "fresh": "pass",
        "stale": "warn",
        "ancient": "fail",
    }


# ---- fail closed -------------------------------------------------------------------------

PITR = (
    HEADER
    + """
  - id: pitr
    title: pitr
    covers: [RB-B01]
    section: Backup
    cadence: daily
    severity: high
    resource: aws.dynamodb.table
    select: {names: [agenticai-data]}
    expect: {path: ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus, equals: ENABLED}
  - id: billing
    title: billing
    covers: [RB-I02]
    section: Incident
    cadence: daily
    severity: high
    resource: aws.dynamodb.table
    select: {names: [agenticai-data]}
    expect: {path: BillingModeSummary.BillingMode, equals: PAY_PER_REQUEST}
"""
)
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/agenticai-data"
DENIED = {
    "service": "dynamodb",
    "operation": "DescribeContinuousBackups",
    "region": REGION,
    "resource": TABLE_ARN,
    "resource_type": "aws.dynamodb.table",
    "data_keys": ["ContinuousBackupsDescription"],
    "iam_action": "dynamodb:DescribeContinuousBackups",
    "code": "AccessDeniedException",
    "message": "User is not authorized",
}


def test_access_denied_makes_only_the_rules_needing_that_call_error(tmp_path: Path) -> None:
    table = resource(
        "aws.dynamodb.table",
        "agenticai-data",
        {"BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}},
        id=TABLE_ARN,
    )
    results = run(tmp_path, PITR, snapshot_doc([table], errors=[DENIED]))
    by_rule = {r["rule"]: r for r in results}
    assert by_rule["pitr"]["status"] == "error"
    assert by_rule["pitr"]["missing_permissions"] == ["dynamodb:DescribeContinuousBackups"]
    assert "grant dynamodb:DescribeContinuousBackups" in by_rule["pitr"]["message"]
    assert by_rule["billing"]["status"] == "pass"


def test_an_error_without_data_keys_blocks_every_absent_path(tmp_path: Path) -> None:
    table = resource("aws.dynamodb.table", "agenticai-data", {}, id=TABLE_ARN)
    error = {k: v for k, v in DENIED.items() if k != "data_keys"}
    results = run(tmp_path, PITR, snapshot_doc([table], errors=[error]))
    assert {r["status"] for r in results} == {"error"}


def test_a_type_that_was_not_collected_is_an_error(tmp_path: Path) -> None:
    results = run(tmp_path, PITR, snapshot_doc([resource("aws.sqs.queue", "q")]))
    assert [(r["rule"], r["status"], r["resource"]) for r in results] == [
        ("billing", "error", None),
        ("pitr", "error", None),
    ]
    assert "not collected" in results[0]["message"]


def test_an_incomplete_listing_cannot_prove_a_resource_missing(tmp_path: Path) -> None:
    coverage = [
        {"type": "aws.dynamodb.table", "account": ACCOUNT, "region": REGION, "complete": False}
    ]
    listing_error = {
        "service": "dynamodb",
        "operation": "ListTables",
        "region": REGION,
        "resource_type": "aws.dynamodb.table",
        "iam_action": "dynamodb:ListTables",
        "code": "ThrottlingException",
        "message": "Rate exceeded",
    }
    results = run(tmp_path, PITR, snapshot_doc([], errors=[listing_error], coverage=coverage))
    assert {r["status"] for r in results} == {"error"}
    assert "ThrottlingException" in results[0]["message"]


def test_an_incomplete_listing_adds_an_error_to_pattern_rules(tmp_path: Path) -> None:
    coverage = [
        {"type": "aws.sqs.queue", "account": ACCOUNT, "region": REGION, "complete": True},
        {"type": "aws.sqs.queue", "account": ACCOUNT, "region": "eu-west-1", "complete": False},
    ]
    text = DEPTH.replace(
        'select: {names: ["${prefix}-${queues}-queue"]}', 'select: {name_matches: "-queue$"}'
    )
    results = run(tmp_path, text, snapshot_doc(queues(0, 0), coverage=coverage))
    assert sorted(r["status"] for r in results) == ["error", "pass", "pass"]


def test_where_that_cannot_be_decided_is_an_error_not_a_skip(tmp_path: Path) -> None:
    text = DEPTH.replace(
        'select: {names: ["${prefix}-${queues}-queue"]}',
        "select: {where: {path: Kind, equals: work}}",
    )
    results = run(tmp_path, text, snapshot_doc(queues(0)))
    assert statuses(results) == {"agenticai-pm-queue": "error"}


def test_metric_missing_with_a_cloudwatch_error_names_it(tmp_path: Path) -> None:
    fn = resource("aws.lambda.function", "f", {})
    error = {
        "service": "cloudwatch",
        "operation": "GetMetricData",
        "region": REGION,
        "resource_type": "aws.lambda.function",
        "data_keys": ["metrics"],
        "iam_action": "cloudwatch:GetMetricData",
        "code": "AccessDenied",
        "message": "no",
    }
    results = run(tmp_path, RATIO.replace("NO_DATA", "note"), snapshot_doc([fn], errors=[error]))
    assert results[0]["status"] == "error"
    assert results[0]["missing_permissions"] == ["cloudwatch:GetMetricData"]


def test_zero_matching_resources_use_when_none(tmp_path: Path) -> None:
    text = DEPTH.replace(
        'select: {names: ["${prefix}-${queues}-queue"]}', 'select: {name_matches: "^nothing"}'
    )
    results = run(tmp_path, text, snapshot_doc(queues(0)))
    assert [(r["status"], r["resource"]) for r in results] == [("note", None)]


def test_manual_rules_are_attestation_items(tmp_path: Path) -> None:
    text = (
        HEADER
        + """
  - id: restore.tested
    kind: manual
    title: restore tested
    covers: [RB-M07]
    section: Monthly
    cadence: monthly
    severity: medium
    attestation: Restore the table and record the result.
"""
    )
    results = run(tmp_path, text, snapshot_doc([]))
    assert [(r["status"], r["expected"]) for r in results] == [
        ("manual", "Restore the table and record the result.")
    ]


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


# ---- informational values, extra evidence, parameters built on parameters -----------------

INFORMATIONAL = (
    HEADER
    + """
  - id: table.size
    title: table size is reported
    covers: [RB-W05]
    section: Weekly
    cadence: weekly
    severity: info
    resource: aws.dynamodb.table
    informational: true
    value: {path: TableSizeBytes, unit: bytes}
    evidence: {items: ItemCount, created: CreationDateTime}
    no_data: note
"""
)


def test_an_informational_value_passes_with_the_value_and_extra_evidence(tmp_path: Path) -> None:
    table = resource(
        "aws.dynamodb.table", "agenticai-data", {"TableSizeBytes": 2048.0, "ItemCount": 12}
    )
    (result,) = run(tmp_path, INFORMATIONAL, snapshot_doc([table]))
    assert (result["status"], result["observed"]) == ("pass", 2048)
    assert result["message"] == "2048 bytes (informational)"
    assert result["evidence"] == {"TableSizeBytes": 2048, "items": 12, "created": None}
    assert "informational" in result["expected"]


def test_an_informational_value_that_is_absent_is_still_an_error(tmp_path: Path) -> None:
    (result,) = run(
        tmp_path, INFORMATIONAL, snapshot_doc([resource("aws.dynamodb.table", "t", {})])
    )
    assert result["status"] == "error"


def test_an_informational_rule_takes_no_levels(tmp_path: Path) -> None:
    text = INFORMATIONAL.replace(
        "    no_data: note\n", '    no_data: note\n    levels: {warn: "> 1"}\n'
    )
    with pytest.raises(InputError, match="informational rule has a 'value' and no 'levels'"):
        compile_text(tmp_path, text)


QUANTIFIER_MESSAGE = (
    HEADER
    + """
  - id: fn.alias
    title: live alias
    covers: [RB-I01]
    section: Incident
    cadence: daily
    severity: high
    resource: aws.lambda.function
    expect:
      path: Aliases
      any_item: {path: Name, equals: live}
      message: no live alias to roll back with
"""
)


def test_a_quantifier_speaks_its_own_message(tmp_path: Path) -> None:
    doc = snapshot_doc([resource("aws.lambda.function", "f", {"Aliases": []})])
    (result,) = run(tmp_path, QUANTIFIER_MESSAGE, doc)
    assert (result["status"], result["message"]) == ("fail", "no live alias to roll back with")


BUILT = """
parameters:
  prefix: {default: agenticai}
  dashboard: {default: "${prefix}-dashboard"}
rules:
  - id: dash.exists
    title: dashboard
    covers: [RB-D03]
    section: Daily
    cadence: daily
    severity: medium
    resource: aws.cloudwatch.dashboard
    select: {names: ["${dashboard}"]}
    expect: {path: DashboardBody, exists: true}
"""


def test_parameters_can_build_on_parameters_and_follow_overrides(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [resource("aws.cloudwatch.dashboard", "acme-dashboard", {"DashboardBody": {}})]
    )
    assert statuses(run(tmp_path, BUILT, doc, prefix="acme")) == {"acme-dashboard": "pass"}
    assert statuses(run(tmp_path, BUILT, doc)) == {"agenticai-dashboard": "fail"}


def test_parameter_cycles_and_unknown_references_are_refused_with_a_position(
    tmp_path: Path,
) -> None:
    cyclic = BUILT.replace("prefix: {default: agenticai}", 'prefix: {default: "${dashboard}"}')
    with pytest.raises(InputError, match="cycle"):
        compile_text(tmp_path, cyclic)
    unknown = BUILT.replace('"${prefix}-dashboard"', '"${prefx}-dashboard"')
    with pytest.raises(InputError) as caught:
        compile_text(tmp_path, unknown)
    assert caught.value.problems == [
        f"{tmp_path / 'rules.yaml'}:4:15: parameters.dashboard.default: unknown parameter '${{prefx}}'"
    ]


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


def test_a_richer_path_cannot_turn_a_denied_key_into_a_default(tmp_path: Path) -> None:
    text = (
        HEADER
        + """
  - id: s3.versioning
    title: versioning
    covers: [RB-B03]
    section: Backup
    cadence: daily
    severity: high
    resource: aws.s3.bucket
    expect: {path: "Versioning.Status || 'Enabled'", equals: Enabled}
"""
    )
    bucket = resource("aws.s3.bucket", "code", {"Name": "code"})
    denied = {
        "service": "s3",
        "operation": "GetBucketVersioning",
        "region": REGION,
        "resource": bucket["id"],
        "resource_type": "aws.s3.bucket",
        "data_keys": ["Versioning"],
        "code": "AccessDenied",
        "message": "no",
    }
    (result,) = run(tmp_path, text, snapshot_doc([bucket], errors=[denied]))
    assert result["status"] == "error"
    # without the error, the expression's own default applies
    (result,) = run(tmp_path, text, snapshot_doc([bucket]))
    assert result["status"] == "pass"


def test_warn_unless_alone_and_a_custom_when_none_message(tmp_path: Path) -> None:
    text = (
        HEADER
        + """
  - id: fn.tracing
    title: tracing
    covers: [RB-I07]
    section: Incident
    cadence: daily
    severity: low
    resource: aws.lambda.function
    select: {name_matches: "^agenticai"}
    warn_unless: {path: TracingConfig.Mode, equals: Active}
    when_none: warn
    when_none_message: no stack function found; is the prefix right?
"""
    )
    doc = snapshot_doc(
        [
            resource("aws.lambda.function", "agenticai-a", {"TracingConfig": {"Mode": "Active"}}),
            resource(
                "aws.lambda.function", "agenticai-b", {"TracingConfig": {"Mode": "PassThrough"}}
            ),
            resource("aws.lambda.function", "agenticai-c", {}),
        ]
    )
    assert statuses(run(tmp_path, text, doc)) == {
        "agenticai-a": "pass",
        "agenticai-b": "warn",
        "agenticai-c": "error",
    }
    (none,) = run(tmp_path, text, snapshot_doc([], types=["aws.lambda.function"]))
    assert (none["status"], none["message"]) == (
        "warn",
        "no stack function found; is the prefix right?",
    )


def test_an_error_result_keeps_the_evidence_that_could_be_read(tmp_path: Path) -> None:
    text = INFORMATIONAL.replace("    informational: true\n", "").replace(
        "    value: {path: TableSizeBytes, unit: bytes}\n",
        "    expect: {path: TableStatus, equals: ACTIVE}\n",
    )
    (result,) = run(
        tmp_path, text, snapshot_doc([resource("aws.dynamodb.table", "t", {"ItemCount": 3})])
    )
    assert result["status"] == "error"
    assert result["evidence"] == {"items": 3, "created": None}


EVENTS = (
    HEADER
    + """
  - id: trail.destructive
    title: destructive events
    covers: [RB-M04]
    section: Security
    cadence: monthly
    severity: high
    resource: aws.cloudtrail.event
    collect: {event_names: [DeleteTable, DeleteBucket], window_hours: 168}
    expect: {path: EventName, not_in: [DeleteTable, DeleteBucket]}
    when_none: pass
"""
)


@pytest.mark.parametrize(
    ("options", "status", "fragment"),
    [
        (
            {
                "event_names": ["DeleteBucket", "DeleteTable", "StopLogging"],
                "window_hours": [24, 168],
            },
            "pass",
            "nothing to check",
        ),
        (
            {"event_names": ["DeleteBucket", "DeleteTable"], "window_hours": [24]},
            "error",
            "collected with window_hours 24; this rule needs 168",
        ),
        (
            {"event_names": ["DeleteTable"], "window_hours": [168]},
            "error",
            "without event_names ['DeleteBucket']",
        ),
        ({"window_hours": [168]}, "error", "without 'event_names'"),
        (None, "error", "does not record the options"),
    ],
)
def test_a_snapshot_collected_with_narrower_options_cannot_pass(
    tmp_path: Path, options: dict[str, list[object]] | None, status: str, fragment: str
) -> None:
    doc = snapshot_doc([], types=["aws.cloudtrail.event"])
    if options is not None:
        doc["metadata"]["options"] = {"aws.cloudtrail.event": options}
    (result,) = run(tmp_path, EVENTS, doc)
    assert result["status"] == status
    assert fragment in result["message"]


LABELLED = (
    HEADER
    + """
  - id: fn.reserved
    title: reserved concurrency
    covers: [RB-I04]
    section: Incident
    cadence: daily
    severity: medium
    resource: aws.lambda.function
    value: {path: Concurrency.ReservedConcurrentExecutions, if_absent: 0, label: reserved executions}
    levels:
      warn: "< 1"
      messages: {warn: "only {value} reserved; the runbook sets 5 ({abs} {unit}, {value.__class__})"}
"""
)


def test_labels_substitutes_and_rule_messages_read_as_written(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [
            resource(
                "aws.lambda.function", "set", {"Concurrency": {"ReservedConcurrentExecutions": 5}}
            ),
            resource("aws.lambda.function", "unset", {"Concurrency": {}}),
        ]
    )
    text = LABELLED.replace(
        "    levels:",
        "    value: {path: Concurrency.ReservedConcurrentExecutions, if_absent: 0, label: reserved executions, unit: executions}\n    levels:",
        1,
    ).replace(
        "    value: {path: Concurrency.ReservedConcurrentExecutions, if_absent: 0, label: reserved executions}\n",
        "",
        1,
    )
    by_name = {r["resource"]["name"]: r for r in run(tmp_path, text, doc)}
    assert by_name["set"]["evidence"] == {"reserved executions": 5}
    assert by_name["unset"]["status"] == "warn"
    assert by_name["unset"]["evidence"] == {"reserved executions": "not returned (taken as 0)"}
    # plain substitution: {value.__class__} stays text, nothing is interpreted
    assert (
        by_name["unset"]["message"]
        == "only 0 reserved; the runbook sets 5 (0 executions, {value.__class__})"
    )


def test_a_label_names_a_condition_in_evidence_and_expected(tmp_path: Path) -> None:
    text = QUANTIFIER_MESSAGE.replace(
        "      message: no live alias", "      label: live alias\n      message: no live alias"
    )
    (result,) = run(
        tmp_path,
        text,
        snapshot_doc([resource("aws.lambda.function", "f", {"Aliases": [{"Name": "dev"}]})]),
    )
    assert result["evidence"] == {"live alias (items matching)": "0 of 1"}
    assert result["expected"].startswith("any item of live alias")
