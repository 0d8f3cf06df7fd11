"""Account names from the snapshot reach the reports: the engine copies the names recorded in
``metadata.per_account`` (an accounts file's, or Organizations') into the results'
``scope.account_names`` (schema 5), and every place a report of several accounts names an
account shows the name beside the id. Results written before (schema 4, no names) still
render, and a single account's reports print what they printed before."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from junitparser import JUnitXml, TestCase
from referencing import Registry, Resource
from rich.console import Console

from runbook_guard.engine.results import RESULTS_SCHEMA_VERSION, build_results
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.reporters import ALL_FORMATS, print_summary, render, validate_results
from tests.engine.builders import NOW, compile_text, resource, snapshot_doc
from tests.org.per_account_support import POLICY, per_account_document, queue

from .checks import (
    html_headings,
    html_parse,
    html_tables,
    inline_text,
    junit_schema,
    parser,
    tables,
)
from .factory import ACCOUNTS

A, B, C = ACCOUNTS
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
#: As in test_by_account: A has its queue; B lacks its own (one fail); C has its own and a
#: stray one (one fail). A's and B's "no stray queue" are account-level results.
PREFIXES = {A: "team-a", B: "team-b", C: "team-c"}
QUEUES = (("team-a-work", A), ("team-a-work", B), ("team-c-work", C), ("stray-1", C))


def evaluated(tmp_path: Path, names: dict[str, str]) -> dict[str, Any]:
    """Results through the engine of the three accounts, each in ``names`` recorded with that
    name in the snapshot's ``per_account`` (the others with none)."""
    snapshot = per_account_document(PREFIXES, [queue(a, name) for name, a in QUEUES])
    for account, name in names.items():
        snapshot["metadata"]["per_account"][account]["name"] = name
    policy_set, rules = compile_text(tmp_path, POLICY)
    return build_results(policy_set, rules, Snapshot(snapshot), {"prefix": "agenticai"}, NOW)


def without_names(results: dict[str, Any]) -> dict[str, Any]:
    """The same results as this version wrote them before it carried names (schema 4)."""
    older: dict[str, Any] = copy.deepcopy(results)
    del older["scope"]["account_names"]
    older["schema_version"] = 4
    return older


def schema_validator() -> Draft202012Validator:
    """The results schema as shipped in schemas/, read as a file (the snapshot schema it
    refers to registered under its id)."""
    results, snapshot = (
        json.loads((SCHEMAS / f"{name}.schema.json").read_text())
        for name in ("results", "snapshot")
    )
    registry: Registry[Any] = Registry().with_resources(
        [(snapshot["$id"], Resource.from_contents(snapshot))]
    )
    return Draft202012Validator(results, registry=registry)


def account_table(markdown: str) -> list[dict[str, str]]:
    """The first table of accounts (the first screen's), one dict per row."""
    found = next(t for t in tables(markdown) if t[0][0] == "Account" and "Score" in t[0])
    return [dict(zip(found[0], row, strict=True)) for row in found[1:]]


def h3_headings(markdown: str) -> list[str]:
    tokens = parser().parse(markdown)
    return [
        inline_text(tokens[i + 1])
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and t.tag == "h3"
    ]


def account_headings(markdown: str) -> list[str]:
    """The headings of the "Findings by account" sections, in order."""
    return [text for text in h3_headings(markdown) if text.startswith("Account ")]


def junit_details(text: str) -> dict[str, str]:
    """Each test case's name and the text of its failure, skip, error or output."""
    details = {}
    for suite in JUnitXml.fromstring(text):
        for case in suite:
            assert isinstance(case, TestCase)
            texts = [result.text or "" for result in case.result]
            details[str(case.name)] = "".join(texts) or str(case.system_out or "")
    return details


def test_results_carry_the_names_and_validate(tmp_path: Path) -> None:
    results = evaluated(tmp_path, {A: "prod", B: "staging"})
    schema_validator().validate(results)
    validate_results(results)  # as `report` loads it
    assert results["schema_version"] == RESULTS_SCHEMA_VERSION == 5
    assert results["scope"]["account_names"] == {A: "prod", B: "staging"}
    assert list(results["scope"]["account_names"]) == [A, B]  # by id


def test_an_account_without_a_name_gets_no_entry(tmp_path: Path) -> None:
    results = evaluated(tmp_path, {B: "staging", C: "  "})  # A: none; C: a blank one
    assert results["scope"]["account_names"] == {B: "staging"}
    none = evaluated(tmp_path, {C: ""})
    assert "account_names" not in none["scope"]
    assert none["schema_version"] == 4  # what it wrote before names existed
    schema_validator().validate(none)


def test_the_account_table_and_headings_show_the_name_beside_the_id(tmp_path: Path) -> None:
    results = evaluated(tmp_path, {A: "prod", B: "staging"})
    markdown = render(results, "markdown")
    rows = account_table(markdown)
    assert [(row["Account"], row["Name"]) for row in rows] == [
        (B, "staging"), (C, "-"), (A, "prod"),
    ]  # fmt: skip
    assert account_headings(markdown) == [f"Account {B} (staging)", f"Account {C}"]  # A: none
    root = html_parse(render(results, "html"))
    assert html_headings(root, "h3") == h3_headings(markdown)
    assert html_tables(root) == tables(markdown)
    summary = render(results, "markdown-summary")
    assert account_table(summary) == rows


def test_the_console_names_each_account(tmp_path: Path) -> None:
    buffer = io.StringIO()
    results = evaluated(tmp_path, {A: "prod", B: "staging"})
    print_summary(results, Console(file=buffer, width=200, color_system=None))
    lines = buffer.getvalue().splitlines()
    start = lines.index("3 accounts, the most blocking (fail-on fail) first:")
    assert lines[start + 1 : start + 4] == [
        f"  {B} (staging): 1 blocking; 1 fail; score 50%",
        f"  {C}: 1 blocking; 1 fail; score 50%",
        f"  {A} (prod): 0 blocking; no findings; score 100%",
    ]


def test_junit_names_the_account_in_each_cases_text_and_keeps_the_case_names(
    tmp_path: Path,
) -> None:
    """The case name (what CI keeps a test's history by) stays ``id: resource``; the
    ``account:`` line of the text a reader expands has the name."""
    results = evaluated(tmp_path, {A: "prod", B: "staging"})
    text = render(results, "junit")
    junit_schema().validate(text)
    details = junit_details(text)
    assert render(without_names(results), "junit") != text
    assert set(details) == set(junit_details(render(without_names(results), "junit")))
    expected = {A: f"account: {A} (prod)\n", B: f"account: {B} (staging)\n", C: f"account: {C}\n"}
    assert len(details) == len(results["results"])
    for name, detail in details.items():
        account = name.split(": ")[0]
        assert expected[account] in detail, name
    assert not [name for name in details if "(prod)" in name or "(staging)" in name]


def test_names_in_the_scope_come_before_an_account_results_name(tmp_path: Path) -> None:
    """A file written before schema 5 names an account only by an account-level result's
    resource (``aws.account``); the scope's names win over it, and without them it is kept."""
    results = evaluated(tmp_path, {A: "prod"})
    for res in results["results"]:
        if res["resource"]["type"] == "aws.account" and res["resource"]["account"] in (A, B):
            res["resource"]["name"] = "from-the-result"
    names = {row["Account"]: row["Name"] for row in account_table(render(results, "markdown"))}
    assert (names[A], names[B], names[C]) == ("prod", "from-the-result", "-")
    older = without_names(results)
    names = {row["Account"]: row["Name"] for row in account_table(render(older, "markdown"))}
    assert (names[A], names[B], names[C]) == ("from-the-result", "from-the-result", "-")


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_a_schema_4_document_without_names_still_renders(tmp_path: Path, fmt: str) -> None:
    older = without_names(evaluated(tmp_path, {A: "prod", B: "staging"}))
    validate_results(older)
    schema_validator().validate(older)
    text = render(older, fmt)
    assert "staging" not in text
    if fmt == "markdown":
        assert "Name" not in next(t for t in tables(text) if t[0][0] == "Account")[0]
        assert account_headings(text) == [f"Account {B}", f"Account {C}"]


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_the_order_names_are_given_in_never_shows(tmp_path: Path, fmt: str) -> None:
    results = evaluated(tmp_path, {A: "prod", B: "staging", C: "dev"})
    shuffled = copy.deepcopy(results)
    shuffled["scope"]["account_names"] = dict(reversed(results["scope"]["account_names"].items()))
    assert render(shuffled, fmt) == render(results, fmt)


def _single_account(tmp_path: Path, name: str | None) -> dict[str, Any]:
    snapshot = snapshot_doc([resource("aws.sqs.queue", "agenticai-work", {"QueueUrl": "u"})])
    if name is not None:
        snapshot["metadata"]["per_account"] = {
            snapshot["metadata"]["accounts"][0]: {"regions": ["us-east-1"], "name": name}
        }
    policy_set, rules = compile_text(tmp_path, POLICY)
    return build_results(policy_set, rules, Snapshot(snapshot), {}, NOW)


def test_single_account_results_have_no_names_and_print_as_before(tmp_path: Path) -> None:
    plain = _single_account(tmp_path, None)
    assert "account_names" not in plain["scope"]
    assert plain["schema_version"] == 4
    named = _single_account(tmp_path, "prod")  # one account given by an accounts file
    assert named["scope"]["account_names"] == {named["scope"]["accounts"][0]: "prod"}
    validate_results(named)
    # Only the formats that copy the scope itself (the JSON document, SARIF's run
    # properties) change; every other prints what it printed before.
    for fmt in ALL_FORMATS:
        if fmt not in ("json", "sarif"):
            assert render(named, fmt) == render(without_names(named), fmt), fmt
            assert "prod" not in render(named, fmt), fmt
