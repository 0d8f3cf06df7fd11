"""Hostile resource names and messages through all four formats (hypothesis).

Whoever can name a queue writes into every report. Each output must still parse (and
validate), and the name and message must be recoverable from the parsed output exactly:
escaping may change how text is spelled, never what it says.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from runbook_guard.reporters import render, validate_results
from runbook_guard.reporters.escape import unvisible, visible

from .checks import (
    github_problems,
    junit_schema,
    sarif_schema_errors,
    table_problems,
    tables,
    unexpected_html,
)
from .factory import with_hostile_text

FRAGMENTS = [
    "|", "||", "\\|", "`", "```", "<script>alert(1)</script>", "]]>", "<![CDATA[", "\n",
    "\r\n", "\r", "\x00", "\x1b[31m", "\x0b", "\x7f", "\x85", "\u2028", "\u202e", "\ufffe",
    "\ud800", "*", "**", "_", "~~", "[x](http://evil.example)", "![i](x)", "&amp;", "&#32;",
    "\\", "\\u0041", "\\\\", " ", "\t", "# h", "---", "<!--", "-->", "$x$", "😀", "é", "<br>",
    '"', "'", "<", ">", "&", "\xa0", "1.", "- [ ]", "<details>",
]  # fmt: skip

hostile = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=8).map("".join),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=8).map("".join),
)
names = hostile.filter(bool)  # a resource always has a name


@given(text=hostile)
def test_visible_round_trips(text: str) -> None:
    assert unvisible(visible(text)) == text


def _check_json(doc: dict[str, Any], name: str, message: str) -> None:
    text = render(doc, "json")
    text.encode("utf-8")
    out = json.loads(text)
    validate_results(out)
    mine = [r for r in out["results"] if r["resource"] and r["resource"]["id"] == f"arn:{name}"]
    assert len(mine) == 5
    assert {r["resource"]["name"] for r in mine} == {name}
    assert {r["message"] for r in mine} == {message}


def _check_sarif(doc: dict[str, Any], name: str, message: str) -> None:
    text = render(doc, "sarif")
    text.encode("utf-8")
    sarif = json.loads(text)
    assert sarif_schema_errors(sarif) == []
    assert github_problems(sarif) == []
    mine = [
        r
        for r in sarif["runs"][0]["results"]
        if r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == f"arn:{name}"
    ]
    assert len(mine) == 4  # fail, warn, error, waived; pass is not a finding
    for result in mine:
        assert result["locations"][0]["logicalLocations"][0]["name"] == name
        assert message in result["message"]["text"]


def _check_junit(doc: dict[str, Any], name: str, message: str) -> None:
    text = render(doc, "junit")
    junit_schema().validate(text)
    root = ET.fromstring(text.encode("utf-8"))
    cases = [c for c in root.iter("testcase") if unvisible(c.get("name", "")) == f"arn:{name}"]
    assert len(cases) == 5
    failure = next(c.find("failure") for c in cases if c.get("classname") == "sqs-queue-depth")
    assert failure is not None
    assert unvisible(failure.get("message", "")) == f"fail: {message}"
    assert f"message: {message}\n" in unvisible(failure.text or "")


def _check_markdown(doc: dict[str, Any], name: str, message: str) -> None:
    markdown = render(doc, "markdown")
    assert table_problems(markdown) == []
    assert unexpected_html(markdown) == []
    all_tables = tables(markdown)
    rows = [r for t in all_tables if t[0][:2] == ["Status", "Resource"] for r in t[1:]]
    mine = [r for r in rows if r[6] == f"arn:{name}"]
    assert sorted(r[0] for r in mine) == ["error", "fail", "warn"]
    for row in mine:
        assert row[1:3] == [name, name]  # resource, and observed (the name too)
        assert row[4] == message
    passing = next(t for t in all_tables if t[0] == ["Rule", "Resource", "Observed", "Expected"])
    assert ["logs-retention-7-days", name, name, "< 100"] in passing


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names, message=hostile)
@example(name="a|b`c<script>x</script>]]>\x00\n\x1b", message="| --- |\n\n# h\r\n*x*")
@example(name=" leading and trailing ", message="\\u0000\\")
@example(name="\ud800\ufffe\u202e", message="")
def test_hostile_text_survives_every_format(name: str, message: str) -> None:
    doc = with_hostile_text(name, message)
    _check_json(doc, name, message)
    _check_sarif(doc, name, message)
    _check_junit(doc, name, message)
    _check_markdown(doc, name, message)
