"""Issue 11, defects 9 and 14: operand types are the policy's error at load time; a value of
the wrong kind is undecided for every operator, negative ones included; SQS decimals are
numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runbook_guard.collectors.sqs import typed_attributes
from runbook_guard.engine.errors import InputError
from tests.engine.builders import compile_text, resource, run, snapshot_doc, statuses

RULE = """
parameters:
  word: {default: abc}
  five: {default: 5}
rules:
  - id: t.rule
    title: t
    covers: [RB-B01]
    section: test
    cadence: daily
    severity: low
    resource: aws.test.thing
    expect: {path: Value, %s: %s}
"""


@pytest.mark.parametrize(
    ("operator", "operand", "says"),
    [
        ("lt", '"abc"', "lt needs a number"),
        ("ge", '"${word}"', "ge needs a number"),
        ("lt", ".nan", "lt needs a finite number"),
        ("older_than", "soon", "older_than needs a number"),
        ("in", '"pm"', "in needs a list"),
        ("not_in", '"${word}"', "not_in needs a list"),
    ],
)
def test_a_bad_constant_operand_is_a_load_error_at_the_rule(
    tmp_path: Path, operator: str, operand: str, says: str
) -> None:
    with pytest.raises(InputError) as caught:
        compile_text(tmp_path, RULE % (operator, operand))
    (problem,) = caught.value.problems
    assert problem.startswith(f"{tmp_path / 'rules.yaml'}:")
    assert f"rules[0].expect.{operator}:" in problem
    assert says in problem


@pytest.mark.parametrize(
    ("operator", "operand"), [("lt", "10"), ("lt", '"10"'), ("ge", '"${five}"'), ("in", "[a]")]
)
def test_a_good_constant_operand_loads(tmp_path: Path, operator: str, operand: str) -> None:
    compile_text(tmp_path, RULE % (operator, operand))


CASES: list[tuple[str, str, Any, str]] = [
    # (operator, operand as YAML, value at the path, expected status)
    ("not_in", "[a, b]", ["c"], "error"),  # a list is never "one of" the items: not a pass
    ("not_in", "[a, b]", {"c": 1}, "error"),
    ("in", "[a, b]", ["a"], "error"),
    ("not_in", "[a, b]", "c", "pass"),
    ("not_in", "[a, b]", None, "pass"),  # null is a single value
    ("not_equals", "Active", ["Active"], "error"),
    ("not_equals", "Active", {"Mode": "Active"}, "error"),
    ("equals", "Active", ["Active"], "error"),
    ("not_equals", "[a]", "a", "error"),
    ("equals", "[a, b]", ["a", "b"], "pass"),
    ("not_equals", "[a, b]", ["a"], "pass"),
    ("not_equals", "Active", None, "pass"),
    ("not_empty", "true", 5, "error"),  # a number is neither empty nor full
    ("empty", "true", False, "error"),
    ("not_empty", "true", "x", "pass"),
    ("empty", "true", None, "pass"),
]


@pytest.mark.parametrize(("operator", "operand", "value", "expected"), CASES)
def test_a_value_of_the_wrong_kind_is_undecided(
    tmp_path: Path, operator: str, operand: str, value: Any, expected: str
) -> None:
    doc = snapshot_doc([resource("aws.test.thing", "thing", {"Value": value})])
    assert statuses(run(tmp_path, RULE % (operator, operand), doc)) == {"thing": expected}


def test_a_negated_undecided_comparison_stays_undecided(tmp_path: Path) -> None:
    text = RULE.replace("expect: {path: Value, %s: %s}", "expect: {not: {path: Value, in: [a]}}")
    doc = snapshot_doc([resource("aws.test.thing", "thing", {"Value": ["a"]})])
    assert statuses(run(tmp_path, text, doc)) == {"thing": "error"}


def test_sqs_decimal_attributes_are_numbers() -> None:
    typed = typed_attributes(
        {
            "CreatedTimestamp": "1700000000.123",
            "LastModifiedTimestamp": "1700000000",
            "ApproximateNumberOfMessages": "3",
            "QueueArn": "arn:aws:sqs:us-east-1:123456789012:q.fifo",
            "FifoQueue": "true",
        }
    )
    assert typed["CreatedTimestamp"] == 1700000000.123
    assert isinstance(typed["CreatedTimestamp"], float)
    assert typed["LastModifiedTimestamp"] == 1700000000
    assert typed["ApproximateNumberOfMessages"] == 3
    assert typed["QueueArn"] == "arn:aws:sqs:us-east-1:123456789012:q.fifo"
    assert typed["FifoQueue"] is True


def test_a_timestamp_after_now_has_no_age_and_is_never_fresh(tmp_path: Path) -> None:
    """Issue 11 defect 13: a future timestamp gave a negative age that counted as fresh."""
    from tests.engine.builders import resource, run, snapshot_doc

    text = """
rules:
  - id: t.fresh
    title: rotated recently
    covers: [RB-S01]
    section: s
    cadence: monthly
    severity: high
    resource: aws.ssm.parameter
    expect: {path: LastModifiedDate, newer_than: 90}
  - id: t.age
    title: age in days
    covers: [RB-S01]
    section: s
    cadence: monthly
    severity: high
    resource: aws.ssm.parameter
    value: {days_since: {path: LastModifiedDate}, unit: days}
    levels: {warn: "> 90"}
"""
    doc = snapshot_doc(
        [resource("aws.ssm.parameter", "p", {"LastModifiedDate": "2099-01-01T00:00:00Z"})]
    )
    found = {(r["rule"], r["status"]) for r in run(tmp_path, text, doc)}
    assert found == {("t.fresh", "error"), ("t.age", "error")}
