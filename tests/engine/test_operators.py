"""Every operator of the table, through the real policy loader and evaluator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runbook_guard.engine.operators import OPERATORS, QUANTIFIERS
from tests.engine.builders import resource, run, snapshot_doc, statuses

RULE = """
rules:
  - id: op.check
    title: operator check
    covers: [RB-B01]
    section: test
    cadence: daily
    severity: low
    resource: aws.test.thing
    expect: {path: %s, %s: %s}
"""

CASES: list[tuple[str, str, Any, str]] = [
    # (operator, operand as YAML, value at the path, expected status)
    ("equals", "ENABLED", "ENABLED", "pass"),
    ("equals", "ENABLED", "DISABLED", "fail"),
    ("equals", "3", "3", "pass"),  # SQS-style numeric text equals a number
    ("equals", "true", "true", "fail"),  # text 'true' is not the boolean
    ("not_equals", "PROVISIONED", "PAY_PER_REQUEST", "pass"),
    ("not_equals", "PROVISIONED", "PROVISIONED", "fail"),
    ("lt", "100", 99, "pass"),
    ("lt", "100", 100, "fail"),
    ("le", "100", 100, "pass"),
    ("le", "100", 101, "fail"),
    ("gt", "5", "6", "pass"),
    ("gt", "5", 5, "fail"),
    ("ge", "5", 5, "pass"),
    ("ge", "5", 4.9, "fail"),
    ("lt", "5", "many", "error"),  # not a number: undecidable, never a pass
    ("in", "[Active, Inactive]", "Active", "pass"),
    ("in", "[Active, Inactive]", "Gone", "fail"),
    ("not_in", "[python3.8, python3.9]", "python3.12", "pass"),
    ("not_in", "[python3.8, python3.9]", "python3.9", "fail"),
    ("contains", "agenticai", "agenticai-data", "pass"),
    ("contains", "agenticai", "other", "fail"),
    ("contains", "b", ["a", "b"], "pass"),
    ("contains", "c", ["a", "b"], "fail"),
    ("contains", "Key", {"Key": 1}, "pass"),
    ("contains", "x", 5, "error"),
    ("matches", "'^agenticai-(pm|dev)-queue$'", "agenticai-pm-queue", "pass"),
    ("matches", "'^agenticai-(pm|dev)-queue$'", "agenticai-qa-queue", "fail"),
    ("matches", "'x'", 5, "error"),
    ("exists", "true", "anything", "pass"),
    ("exists", "true", None, "fail"),
    ("absent", "true", None, "pass"),
    ("absent", "true", 1, "fail"),
    ("empty", "true", [], "pass"),
    ("empty", "true", [1], "fail"),
    ("not_empty", "true", {"a": 1}, "pass"),
    ("not_empty", "true", "", "fail"),
    ("older_than", "30", "2026-09-01T00:00:00Z", "pass"),
    ("older_than", "30", "2026-11-20T00:00:00Z", "fail"),
    ("newer_than", "30", "2026-11-20T00:00:00+00:00", "pass"),
    ("newer_than", "30", "2026-09-01", "fail"),
    ("newer_than", "30", "not a date", "error"),
]


def test_the_cases_cover_every_operator() -> None:
    assert {case[0] for case in CASES} == set(OPERATORS)


@pytest.mark.parametrize(("operator", "operand", "value", "expected"), CASES)
def test_operator(tmp_path: Path, operator: str, operand: str, value: Any, expected: str) -> None:
    doc = snapshot_doc([resource("aws.test.thing", "t1", {"Field": value})])
    results = run(tmp_path, RULE % ("Field", operator, operand), doc)
    assert statuses(results) == {"t1": expected}, results[0]["message"]


def test_exists_and_absent_decide_an_absent_path(tmp_path: Path) -> None:
    doc = snapshot_doc([resource("aws.test.thing", "t1", {})])
    assert statuses(run(tmp_path, RULE % ("Field", "exists", "true"), doc)) == {"t1": "fail"}
    assert statuses(run(tmp_path, RULE % ("Field", "absent", "true"), doc)) == {"t1": "pass"}


def test_other_operators_on_an_absent_path_are_errors(tmp_path: Path) -> None:
    doc = snapshot_doc([resource("aws.test.thing", "t1", {})])
    results = run(tmp_path, RULE % ("Field", "equals", "x"), doc)
    assert statuses(results) == {"t1": "error"}
    assert "Field is absent" in results[0]["message"]


QUANTIFIED = """
rules:
  - id: q.check
    title: quantifier check
    covers: [RB-I01]
    section: test
    cadence: daily
    severity: low
    resource: aws.test.thing
    expect:
      path: Aliases
      %s: {path: Name, equals: live}
"""


@pytest.mark.parametrize(
    ("quantifier", "aliases", "expected"),
    [
        ("any_item", [{"Name": "dev"}, {"Name": "live"}], "pass"),
        ("any_item", [{"Name": "dev"}], "fail"),
        ("any_item", [], "fail"),
        ("all_items", [{"Name": "live"}, {"Name": "live"}], "pass"),
        ("all_items", [{"Name": "live"}, {"Name": "dev"}], "fail"),
        ("all_items", [], "pass"),
        ("all_items", "not a list", "error"),
        ("any_item", [{"Other": 1}], "error"),
    ],
)
def test_list_quantifiers(tmp_path: Path, quantifier: str, aliases: Any, expected: str) -> None:
    assert set(QUANTIFIERS) == {"all_items", "any_item"}
    doc = snapshot_doc([resource("aws.test.thing", "f1", {"Aliases": aliases})])
    assert statuses(run(tmp_path, QUANTIFIED % quantifier, doc)) == {"f1": expected}


COMPOSED = """
rules:
  - id: c.check
    title: composition check
    covers: [RB-I03]
    section: test
    cadence: daily
    severity: low
    resource: aws.test.thing
    expect:
      all:
        - {path: Timeout, le: 900}
        - any:
            - {path: MemorySize, ge: 512}
            - {path: Tier, equals: small}
        - not: {path: Runtime, equals: python3.9}
"""


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"Timeout": 30, "MemorySize": 1024, "Runtime": "python3.12"}, "pass"),
        ({"Timeout": 30, "MemorySize": 128, "Tier": "small", "Runtime": "python3.12"}, "pass"),
        ({"Timeout": 901, "MemorySize": 1024, "Runtime": "python3.12"}, "fail"),
        ({"Timeout": 30, "MemorySize": 128, "Tier": "big", "Runtime": "python3.12"}, "fail"),
        ({"Timeout": 30, "MemorySize": 1024, "Runtime": "python3.9"}, "fail"),
        # one branch undecidable, the other already false: false wins (fail, not error)
        ({"MemorySize": 1024, "Runtime": "python3.9"}, "fail"),
        # undecidable and nothing false: error
        ({"MemorySize": 1024, "Runtime": "python3.12"}, "error"),
    ],
)
def test_all_any_not(tmp_path: Path, data: dict[str, Any], expected: str) -> None:
    doc = snapshot_doc([resource("aws.test.thing", "f1", data)])
    assert statuses(run(tmp_path, COMPOSED, doc)) == {"f1": expected}
