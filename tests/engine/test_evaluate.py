"""Statuses, the note band, derived values, informational values, labels and messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook_guard.engine.errors import InputError
from tests.engine.builders import (
    compile_text,
    resource,
    run,
    snapshot_doc,
    statuses,
)
from tests.engine.rule_texts import (
    DEPTH,
    HEADER,
    RATIO,
    function,
    queues,
)


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
        f"{tmp_path / 'rules.yaml'}:4:15: parameters.dashboard.default: unknown parameter '${{prefx}}' "
        "(did you mean 'prefix'?)"
    ]


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
