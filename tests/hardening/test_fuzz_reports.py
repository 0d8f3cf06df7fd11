"""Fuzzing the reporters' escaping: any string in any free-text field of a results document.

tests/reporters/test_hostile_text.py puts hostile text in resource names, messages, evidence,
waivers and collection errors, and reads it back exactly. Here every string field the schema
leaves free (rule titles, remediation, sections, observed and expected values, accounts,
regions, parameters, pack names, ...) takes its turn: every format must stay valid (JUnit
against the XSD and through junitparser, SARIF against its schema and GitHub's rules, JSON
against the results schema) and keep its shape (Markdown: no table loses or gains a cell,
no stray HTML, no live link; every format: as many test cases, results and tables as the
untouched document gives).
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from junitparser import JUnitXml

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.reporters import render, validate_results
from runbook_guard.reporters.loading import load_results
from tests.hardening.fuzzing import fuzz
from tests.reporters.checks import (
    github_problems,
    junit_schema,
    live_links,
    parser,
    sarif_schema_errors,
    table_problems,
    unexpected_html,
)
from tests.reporters.factory import base_results, document
from tests.reporters.test_hostile_text import hostile

FieldPath = tuple[str | int, ...]


def _strings(node: Any, at: FieldPath = ()) -> list[FieldPath]:
    if isinstance(node, str):
        return [at]
    if isinstance(node, dict):
        return [p for key, child in node.items() for p in _strings(child, (*at, key))]
    if isinstance(node, list):
        return [p for index, child in enumerate(node) for p in _strings(child, (*at, index))]
    return []


def _with(doc: dict[str, Any], at: FieldPath, text: str) -> dict[str, Any]:
    changed = copy.deepcopy(doc)
    node: Any = changed
    for part in at[:-1]:
        node = node[part]
    node[at[-1]] = text
    return changed


def _accepts(doc: dict[str, Any]) -> bool:
    try:
        validate_results(doc)
    except InputError:
        return False
    return True


BASE = document(base_results())


@cache
def free_fields() -> list[FieldPath]:
    """The string fields any text may fill: the schema and the document's own references
    (rule ids, statuses, dates) constrain the others, and hostile text there is refused
    before any reporter sees it."""
    return [at for at in _strings(BASE) if _accepts(_with(BASE, at, "a | <b> `c`\n@d"))]


def shape(doc: dict[str, Any]) -> dict[str, int]:
    """How many findings each format shows: escaping must never change it."""
    junit = ET.fromstring(render(doc, "junit").encode("utf-8"))
    sarif = json.loads(render(doc, "sarif"))
    markdown = parser().parse(render(doc, "markdown"))
    return {
        "testcases": len(list(junit.iter("testcase"))),
        "sarif results": len(sarif["runs"][0]["results"]),
        "tables": sum(t.type == "table_open" for t in markdown),
        "rows": sum(t.type == "tr_open" for t in markdown),
    }


@cache
def base_shape() -> dict[str, int]:
    return shape(BASE)


@cache
def plain_shape(at: FieldPath) -> dict[str, int]:
    """The shape with plain text in the field. Escaping must never change a shape, but a
    value may, by design: another account in ``resource.account`` makes the results span two
    accounts, which adds the table of accounts and the findings by account."""
    return shape(_with(BASE, at, "plain"))


def test_most_string_fields_are_free_text() -> None:
    """Guard against a vacuous fuzz: the schema leaves dozens of fields to any text."""
    assert len(free_fields()) >= 40


@fuzz(80)
@given(data=st.data(), text=hostile)
@example(data=None, text="| x |\n| --- |\n<script>@a :x: https://e.example")
def test_any_text_in_any_free_field_keeps_every_format_valid(
    data: st.DataObject | None, text: str
) -> None:
    fields = free_fields()
    at = data.draw(st.sampled_from(fields)) if data is not None else fields[0]
    doc = _with(BASE, at, text)
    if not _accepts(doc):
        return  # refused when loaded (a blank title or tool name): no reporter sees it

    junit = render(doc, "junit")
    junit_schema().validate(junit)
    suites = JUnitXml.fromstring(junit)
    assert sum(1 for suite in suites for _ in suite) == base_shape()["testcases"]

    sarif = json.loads(render(doc, "sarif"))
    assert sarif_schema_errors(sarif) == []
    assert github_problems(sarif) == []

    for fmt in ("markdown", "markdown-summary"):
        markdown = render(doc, fmt)
        assert table_problems(markdown) == [], (fmt, at)
        assert unexpected_html(markdown) == [], (fmt, at)
        assert live_links(markdown) == [], (fmt, at)

    validate_results(json.loads(render(doc, "json")))
    assert shape(doc) == plain_shape(at), at


@pytest.mark.parametrize("at", [("tool", "name"), ("rules", 0, "title")])
@pytest.mark.parametrize("blank", ["", " \t\n"])
def test_a_blank_title_or_tool_name_is_refused_when_loaded(
    tmp_path: Path, at: tuple[str | int, ...], blank: str
) -> None:
    """Regression (found by the fuzzing above): with an empty rule title or tool name every
    format rendered, but SARIF then fails GitHub's checks (shortDescription, driver name)."""
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_with(BASE, at, blank)))
    with pytest.raises(InputError) as refused:
        load_results(path)
    field = ".".join(str(p) for p in at).replace(".0.", "[0].")
    assert refused.value.problems == [f"{path}:1:1: {field}: is blank"]


def test_a_blank_rule_title_in_a_policy_is_refused_where_it_is_written(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "rules:\n  - id: t.x\n    title: '  '\n    covers: [RB-B01]\n    section: s\n"
        "    cadence: daily\n    severity: low\n    resource: aws.sqs.queue\n"
        "    expect: {path: QueueUrl, exists: true}\n"
    )
    with pytest.raises(InputError) as refused:
        load_policy_set([policy])
    assert refused.value.problems == [
        f"{policy}:3:5: rules[0].title: title is blank: say in one line what must hold"
    ]
