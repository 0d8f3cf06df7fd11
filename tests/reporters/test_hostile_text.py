"""Hostile resource names and messages through every format (hypothesis).

Whoever can name a queue writes into every report. Each output must still parse (and
validate), and the name and message must be recoverable from the parsed output exactly:
escaping may change how text is spelled, never what it says.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from runbook_guard.reporters import render, validate_results
from runbook_guard.reporters.csv_report import unguard
from runbook_guard.reporters.escape import unvisible, visible
from runbook_guard.reporters.model import merge_repeats

from .checks import (
    github_problems,
    html_parse,
    html_tables,
    junit_schema,
    live_links,
    sarif_schema_errors,
    table_problems,
    tables,
    unexpected_html,
)
from .factory import RULES, base_results, document, with_hostile_text

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
    titles = {rule["id"]: rule["title"] for rule in RULES}
    for result in mine:
        assert result["locations"][0]["logicalLocations"][0]["name"] == name
        assert result["properties"]["observed"] == name
        assert result["message"]["text"] == (
            f"{titles[result['ruleId']]}: {message} (resource arn:{name}; observed {name}; "
            "expected < 100)"
        )


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
    _check_tables(tables(markdown), name, message)


def _check_tables(all_tables: list[list[list[str]]], name: str, message: str) -> None:
    """The finding and passing tables of the Markdown or the HTML report."""
    rows = [r for t in all_tables if t[0][:2] == ["Status", "Resource"] for r in t[1:]]
    mine = [r for r in rows if r[-1] == f"arn:{name}"]
    assert sorted(r[0] for r in mine) == ["error", "fail", "warn"]
    for row in mine:
        assert [row[1], row[3]] == [name, name]  # resource, and observed (the name too)
        assert row[5] == message
    passing = next(t for t in all_tables if t[0] == ["Rule", "Resource", "Observed", "Expected"])
    assert ["logs-retention-7-days", name, name, "< 100"] in passing


def _check_html(doc: dict[str, Any], name: str, message: str) -> None:
    page = render(doc, "html")
    root = html_parse(page)  # strict: a parse error raises
    assert not [s for s in root.iter("script") if s.get("src")]
    assert len(list(root.iter("script"))) == 1  # ours; none from the text
    _check_tables(html_tables(root), name, message)


def _check_csv(doc: dict[str, Any], name: str, message: str) -> None:
    text = render(doc, "csv")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    for row in rows:  # no cell a spreadsheet would evaluate
        assert not [c for c in row.values() if c.startswith(("=", "+", "@", "\t", "\r"))]
    mine = [r for r in rows if unguard(r["id"]) == f"arn:{name}"]
    assert sorted(r["status"] for r in mine) == ["error", "fail", "pass", "waived", "warn"]
    for row in mine:
        assert unguard(row["name"]) == name
        assert unguard(row["message"]) == message


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names, message=hostile)
@example(name="a|b`c<script>x</script>]]>\x00\n\x1b", message="| --- |\n\n# h\r\n*x*")
@example(name=" leading and trailing ", message="\\u0000\\")
@example(name="\ud800\ufffe\u202e", message="")
def test_hostile_text_survives_every_format(name: str, message: str) -> None:
    doc = with_hostile_text(name, message)
    _check_sarif(doc, name, message)
    _check_junit(doc, name, message)
    _check_markdown(doc, name, message)
    _check_html(doc, name, message)
    _check_csv(doc, name, message)
    _check_json(doc, name, message)


def _everywhere(name: str, message: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Hostile text in evidence keys and values, a waiver's owner and reason, a collection
    error's message and the manual item's message; and a previous run for "what changed"."""
    hostile = {"type": "aws.sqs.queue", "id": f"arn:{name}", "name": name, "region": "us-east-1",
               "account": "123456789012"}  # fmt: skip
    results = base_results()
    results.append(
        {"rule": "sqs-queue-depth", "resource": hostile, "status": "fail", "observed": 5,
         "expected": "< 1", "message": message, "evidence": {name: message, "n": 1}}
    )  # fmt: skip
    manual = next(r for r in results if r["status"] == "manual")
    manual["message"] = message
    doc = document(results)
    doc["waivers"][0].update(owner=name, reason=message)
    doc["collection_errors"][1]["message"] = message
    previous = document(base_results())
    previous["evaluated_at"] = "2026-11-20T10:00:00+00:00"
    return doc, previous


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names, message=hostile)
@example(name="@admin`|x", message="https://evil.example www.x.io @team :tada: #1 <b>|")
def test_hostile_text_in_every_other_field(name: str, message: str) -> None:
    assume(merge_repeats(message) == message)  # a repeated part is shown once, by design
    doc, previous = _everywhere(name, message)
    validate_results(doc)

    markdown = render(doc, "markdown", previous=previous)
    assert table_problems(markdown) == []
    assert unexpected_html(markdown) == []
    assert live_links(markdown) == []
    all_tables = tables(markdown)
    waiver = next(t for t in all_tables if t[0][:2] == ["Waiver", "Rule"])[1]
    assert waiver[3:5] == [name, message]
    gaps = next(t for t in all_tables if "Missing permission" in t[0])
    assert message in [row[7] for row in gaps[1:]]
    finding = next(
        r for t in all_tables if t[0][:2] == ["Status", "Resource"] for r in t[1:]
        if r[-1] == f"arn:{name}"
    )  # fmt: skip
    assert finding[5] == message
    assert json.loads(finding[6]) == {name: message, "n": 1}  # evidence reads back as JSON
    new = next(t for t in all_tables if t[0] == ["Rule", "Resource", "Before → now", "Message",
                                                  "Resource id"])  # fmt: skip
    assert [name, message, f"arn:{name}"] in [[r[1], r[3], r[4]] for r in new[1:]]
    manual = next(t for t in all_tables if t[0][:3] == ["Rule", "Title", "Cadence"])
    assert manual[1][0] == "restore-tested"
    assert manual[1][5] == "not attested"
    assert manual[1][-1] == message

    sarif = json.loads(render(doc, "sarif"))
    assert sarif_schema_errors(sarif) == []
    run = sarif["runs"][0]
    mine = next(
        r for r in run["results"]
        if r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == f"arn:{name}"
    )  # fmt: skip
    assert mine["properties"]["evidence"] == {name: message, "n": 1}
    waived = next(r for r in run["results"] if r["suppressions"])
    assert waived["suppressions"][0]["justification"] == message
    assert waived["suppressions"][0]["properties"]["owner"] == name
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert f"collection: budgets.DescribeBudgets global: ThrottlingException: {message}" in notes

    junit = render(doc, "junit")
    junit_schema().validate(junit)
    root = ET.fromstring(junit.encode("utf-8"))
    skipped = [unvisible(s.get("message", "")) for s in root.iter("skipped")]
    assert f"waived by W-001 (owner {name}, expires 2026-12-15): {message}" in skipped
    assert f"manual attestation required: {message}" in skipped

    out = json.loads(render(doc, "json"))
    validate_results(out)
    assert out["waivers"][0]["owner"] == name
    assert {e["message"] for e in out["collection_errors"]} >= {message}
