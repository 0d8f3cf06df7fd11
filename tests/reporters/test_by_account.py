"""Results of several accounts: the Markdown and HTML open with a table of the accounts (counts
by status, score, blocking count, worst finding), list each account's findings under it and
name the account on every finding; JUnit names the account in each test case and still
validates; the console lists the most blocking accounts. A single account's report is left as
it was (tests/test_examples.py holds the committed examples to the byte)."""

from __future__ import annotations

import copy
import csv
import io
import random
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from markdown_it.token import Token
from rich.console import Console

from runbook_guard.engine.results import build_results
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.reporters import ALL_FORMATS, print_summary, render, validate_results
from runbook_guard.reporters.model import Score
from tests.engine.builders import NOW, compile_text
from tests.org.per_account_support import POLICY, per_account_document, queue

from .checks import (
    html_headings,
    html_parse,
    html_tables,
    inline_text,
    junit_schema,
    parser,
    table_problems,
    tables,
    unexpected_html,
)
from .factory import (
    ACCOUNTS,
    accounts_document,
    bulk_document,
    document,
    result,
    spread_over_accounts,
)

FIRST_SCREEN = 40
A, B, C = ACCOUNTS
STATUS_COLUMNS = ("fail", "error", "warn", "note", "waived", "manual", "pass", "not applicable")


def _sections(markdown: str) -> list[tuple[str, str, int, list[list[list[str]]]]]:
    """(tag, heading text, heading's last line, tables up to the next heading) in order."""
    tokens = parser().parse(markdown)
    out: list[tuple[str, str, int, list[list[list[str]]]]] = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.map is not None:
            out.append((token.tag, tokens[index + 1].content, token.map[1], []))
        elif token.type == "table_open" and out:
            out[-1][3].append(_table(tokens[index:]))
    return out


def _table(tokens: list[Token]) -> list[list[str]]:
    rows: list[list[str]] = []
    for index, token in enumerate(tokens):
        if token.type == "table_close":
            break
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and tokens[index - 1].type in ("th_open", "td_open"):
            rows[-1].append(inline_text(token))
    return rows


def _records(table: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(table[0], row, strict=True)) for row in table[1:]]


def _section(markdown: str, heading: str) -> tuple[int, list[list[list[str]]]]:
    found = [(line, found) for _, text, line, found in _sections(markdown) if text == heading]
    assert found, f"no heading {heading!r}"
    return found[0]


def _account_table_end(markdown: str) -> int:
    """The last line of the first table after the "Accounts" heading."""
    tokens = parser().parse(markdown)
    start = next(
        i
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and tokens[i + 1].content.startswith("Accounts (")
    )
    table = next(t for t in tokens[start:] if t.type == "table_open")
    assert table.map is not None
    return table.map[1]


def _expected_counts(doc: dict[str, Any], account: str) -> Counter[str]:
    """Counted from the document itself, not from the report."""
    return Counter(
        r["status"] for r in doc["results"] if (r["resource"] or {}).get("account") == account
    )


def test_the_first_screen_ranks_accounts_with_counts_score_blocking_and_worst() -> None:
    doc = accounts_document()
    validate_results(doc)  # the contract's shape, as `report` would load it
    markdown = render(doc, "markdown")
    assert table_problems(markdown) == []
    assert unexpected_html(markdown) == []
    _, found = _section(markdown, "Accounts (3)")
    assert _account_table_end(markdown) <= FIRST_SCREEN
    rows = _records(found[0])
    assert [row["Account"] for row in rows] == [A, B, C]  # most blocking first: 4, 1, 0
    for row in rows:
        counts = _expected_counts(doc, row["Account"])
        status = row["Account"]
        assert [int(row[s]) for s in STATUS_COLUMNS] == [
            counts[s.replace(" ", "_")] for s in STATUS_COLUMNS
        ], status
        assert int(row["total"]) == sum(counts.values())
        decided = sum(counts[s] for s in ("pass", "note", "warn", "fail"))
        assert row["Score"] == Score(counts["pass"], decided, ()).text
        assert int(row["Blocking (fail-on fail)"]) == counts["fail"] + counts["error"]
    assert [row["Score"] for row in rows] == ["25%", "67%", "100%"]  # 2/8, 2/3, 2/2
    assert [row["Worst finding"] for row in rows] == [
        "fail (critical): iam-unused-access-keys on agenticai-deployer/AKIAEXAMPLE",
        "fail (high): sqs-dlq-empty on agenticai-dev-dlq",
        "-",
    ]
    assert "Name" not in found[0][0]  # the results carry no account names


def test_each_accounts_findings_are_grouped_under_it() -> None:
    doc = accounts_document()
    markdown = render(doc, "markdown")
    sections = _sections(markdown)
    start = next(i for i, s in enumerate(sections) if s[1].startswith("Findings by account"))
    assert sections[start][1] == "Findings by account (2)"  # the third account has none
    under = []
    for tag, text, _, found in sections[start + 1 :]:
        if tag != "h3":
            break
        under.append((text, found))
    assert [text for text, _ in under] == [f"Account {A}", f"Account {B}"]
    for text, found in under:
        account = text.removeprefix("Account ")
        expected = Counter(
            (r["rule"], r["resource"]["name"], r["status"])
            for r in doc["results"]
            if r["resource"]["account"] == account and r["status"] in ("fail", "error", "warn")
        )
        listed = Counter((r["Rule"], r["Resource"], r["Status"]) for r in _records(found[0]))
        assert listed == expected, account
        statuses = [r["Status"] for r in _records(found[0])]
        assert statuses == sorted(statuses, key=["fail", "error", "warn"].index)  # worst first


def test_every_finding_names_its_account() -> None:
    doc = accounts_document()
    markdown = render(doc, "markdown")
    by_id = {
        (r["resource"]["id"], r["resource"]["account"]) for r in doc["results"] if r["resource"]
    }
    rule_tables = [t for t in tables(markdown) if t[0][:3] == ["Status", "Account", "Resource"]]
    assert rule_tables
    listed = [(row["Resource id"], row["Account"]) for t in rule_tables for row in _records(t)]
    assert len(listed) == 7  # every fail, error and warn of the three accounts
    assert set(listed) <= by_id  # each with the account its result is in
    top = _records(next(t for t in tables(markdown) if t[0][0] == "#"))
    assert [row["Account"] for row in top].count(B) == 1  # B's DLQ, beside A's of one name
    overview = _records(next(t for t in tables(markdown) if t[0][:2] == ["Rule", "Severity"]))
    assert {row["Rule"]: row["Accounts"] for row in overview}["sqs-dlq-empty"] == "2"


def test_a_single_account_report_has_no_account_table_or_column() -> None:
    doc = document()
    markdown = render(doc, "markdown")
    headings = [text for _, text, _, _ in _sections(markdown)]
    assert not [h for h in headings if h.startswith(("Accounts", "Findings by account"))]
    with_account = [t[0] for t in tables(markdown) if "Account" in t[0]]
    assert with_account == [t[0] for t in tables(markdown) if t[0][0] == "Service"]  # errors'
    junit = ET.fromstring(render(doc, "junit"))
    names = [case.get("name") for case in junit.iter("testcase")]
    assert all(not name.startswith(doc["scope"]["accounts"][0] + ": ") for name in names if name)
    assert "accounts" not in {p.get("name") for p in junit.iter("property")}


def _many_accounts(results: int = 600, accounts: int = 12) -> dict[str, Any]:
    return spread_over_accounts(bulk_document(results), accounts)


def test_beyond_eight_accounts_the_first_screen_has_the_top_and_a_section_all() -> None:
    doc = _many_accounts()
    markdown = render(doc, "markdown")
    assert table_problems(markdown) == []
    _, found = _section(markdown, "Accounts (8 of 12)")
    assert _account_table_end(markdown) <= FIRST_SCREEN
    top = _records(found[0])
    assert "…and 4 more accounts" in markdown
    _, in_section = _section(markdown, "Findings by account (12)")
    every = _records(in_section[0])
    assert len(every) == 12
    assert top == every[:8]
    blocking = [int(row["Blocking (fail-on fail)"]) for row in every]
    assert blocking == sorted(blocking, reverse=True)
    assert sum(blocking) == sum(r["status"] in ("fail", "error") for r in doc["results"])
    ranked = [(-int(row["Blocking (fail-on fail)"]), -sum(int(row[s]) for s in STATUS_COLUMNS[:3]),
               row["Account"]) for row in every]  # fmt: skip
    assert ranked == sorted(ranked)  # then the most findings, then by id
    scope = markdown.split("\n")[2]
    assert scope.startswith("12 accounts (listed in the appendix), regions us-east-1")


def test_the_account_table_fits_the_first_screen_at_its_tallest() -> None:
    """A selection, what changed and all five severities above it, eight accounts in it."""
    doc = _many_accounts(3000)
    doc["schema_version"] = 4
    doc["selection"] = {
        "rules": ["sqs-*"], "exclude_rules": [], "tags": ["queues"], "severity": [],
        "cadence": [], "selected": len(doc["rules"]), "not_selected": ["other.rule"],
    }  # fmt: skip
    previous = copy.deepcopy(doc)
    previous["evaluated_at"] = "2026-11-20T10:00:00+00:00"
    previous["results"] = previous["results"][:2500]
    markdown = render(doc, "markdown", previous=previous)
    assert markdown.split("\n")[6].startswith("**Selection:")
    assert any(line.startswith("**Since the previous run**") for line in markdown.split("\n")[:12])
    assert _account_table_end(markdown) <= FIRST_SCREEN


def test_html_has_the_same_account_table_and_sections() -> None:
    for doc in (accounts_document(), _many_accounts()):
        markdown = render(doc, "markdown")
        root = html_parse(render(doc, "html"))  # strict HTML5: any parse error raises
        tokens = parser().parse(markdown)
        for tag in ("h2", "h3"):
            expected = [
                inline_text(tokens[i + 1])
                for i, t in enumerate(tokens)
                if t.type == "heading_open" and t.tag == tag
            ]
            assert html_headings(root, tag) == expected
        assert html_tables(root) == tables(markdown)
    accounts = next(t for t in html_tables(root) if t[0][:2] == ["Account", "fail"])
    assert len(accounts) == 1 + 8  # the top eight in the first screen


def test_junit_validates_names_the_account_and_keeps_one_suite_per_rule(tmp_path: Path) -> None:
    doc = accounts_document()
    text = render(doc, "junit")
    junit_schema().validate(text)
    root = ET.fromstring(text)
    suites = [s for s in root.findall("testsuite") if s.get("name") != "collection errors"]
    assert [s.get("name") for s in suites] == sorted({r["rule"] for r in doc["results"]})
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    assert len(cases) == len(doc["results"])  # two accounts' DLQs of one name: two tests
    for res in doc["results"]:
        account, rid = res["resource"]["account"], res["resource"]["id"]
        name = f"{account}: (rule-level)" if rid == account else f"{account}: {rid}"
        case = cases[(res["rule"], name)]
        detail = "".join(case.itertext())
        assert f"\naccount: {account}\n" in detail
    dlq = next(s for s in suites if s.get("name") == "sqs-dlq-empty")
    assert [c.get("name", "").split(": ")[0] for c in dlq.iter("testcase")] == [A, A, B]
    properties = {p.get("name"): p.get("value") for p in dlq.iter("property")}
    assert properties["accounts"] == "2"
    failed = [c for c in dlq.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == [
        f"{A}: arn:aws:sqs:us-east-1:{A}:agenticai-dev-dlq",
        f"{B}: arn:aws:sqs:us-east-1:{B}:agenticai-dev-dlq",
    ]


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_shuffled_input_gives_the_same_bytes(fmt: str) -> None:
    reference = render(accounts_document(), fmt)
    for seed in range(3):
        doc = accounts_document()
        rng = random.Random(seed)
        for field in ("results", "rules", "waivers", "collection_errors"):
            rng.shuffle(doc[field])
        rng.shuffle(doc["scope"]["accounts"])
        assert render(doc, fmt) == reference, f"{fmt} changed with input order (seed {seed})"


def test_results_without_an_account_are_listed_last() -> None:
    doc = accounts_document()
    doc["results"].append(
        result("s3-bucket-lifecycle", None, "fail", 3, "0", "3 buckets across the run")
    )
    markdown = render(doc, "markdown")
    _, found = _section(markdown, "Accounts (4)")
    rows = _records(found[0])
    assert rows[-1]["Account"] == "(no account)"
    assert (rows[-1]["fail"], rows[-1]["Blocking (fail-on fail)"]) == ("1", "1")
    assert "### (no account)" in markdown
    names = [c.get("name") for c in ET.fromstring(render(doc, "junit")).iter("testcase")]
    assert "(rule-level)" in names  # judged over every account: no account to name


@pytest.mark.parametrize(
    ("fail_on", "header", "blocking"),
    [
        ("warn", "Blocking (fail-on warn)", ["6", "1", "0"]),
        ("never", "Would block (fail-on fail)", ["4", "1", "0"]),
    ],
)
def test_the_blocking_column_follows_the_gate(
    fail_on: str, header: str, blocking: list[str]
) -> None:
    markdown = render(accounts_document(), "markdown", fail_on=fail_on)
    _, found = _section(markdown, "Accounts (3)")
    assert [row[header] for row in _records(found[0])] == blocking


def test_account_names_the_results_carry_are_shown() -> None:
    doc = accounts_document()
    for res in doc["results"]:
        if res["resource"]["type"] == "aws.account" and res["resource"]["account"] == B:
            res["resource"]["name"] = "prod"
    markdown = render(doc, "markdown")
    _, found = _section(markdown, "Accounts (3)")
    assert [(r["Account"], r["Name"]) for r in _records(found[0])] == [
        (A, "-"), (B, "prod"), (C, "-"),
    ]  # fmt: skip
    assert f"### Account {B} (prod)" in markdown


def test_console_lists_the_most_blocking_accounts() -> None:
    buffer = io.StringIO()
    print_summary(accounts_document(), Console(file=buffer, width=200, color_system=None))
    lines = buffer.getvalue().splitlines()
    start = lines.index("3 accounts, the most blocking (fail-on fail) first:")
    assert lines[start + 1 : start + 4] == [
        f"  {A}: 4 blocking; 3 fail, 1 error, 2 warn; score 25%",
        f"  {B}: 1 blocking; 1 fail; score 67%",
        f"  {C}: 0 blocking; no findings; score 100%",
    ]
    buffer = io.StringIO()
    print_summary(_many_accounts(), Console(file=buffer, width=200, color_system=None))
    lines = buffer.getvalue().splitlines()
    start = lines.index("12 accounts, the most blocking (fail-on fail) first:")
    assert len([line for line in lines[start + 1 : start + 11] if " blocking; " in line]) == 10
    assert lines[start + 11] == "  and 2 more accounts: see the report's table"


def test_csv_has_every_results_account() -> None:
    doc = accounts_document()
    rows = list(csv.DictReader(io.StringIO(render(doc, "csv").removeprefix("\ufeff"))))
    results = [row for row in rows if row["record"] == "result"]
    assert Counter(row["account"] for row in results) == Counter(
        r["resource"]["account"] for r in doc["results"]
    )


def test_results_the_engine_judged_per_account_read_back_per_account(tmp_path: Path) -> None:
    """Three accounts with prefixes of their own, through ``build_results``: A has its queue,
    B lacks its own, C has its own and a stray one."""
    prefixes = {A: "team-a", B: "team-b", C: "team-c"}
    queues = [queue(A, "team-a-work"), queue(B, "team-a-work"), queue(C, "team-c-work"),
              queue(C, "stray-1")]  # fmt: skip
    snapshot = per_account_document(prefixes, queues)
    policy_set, rules = compile_text(tmp_path, POLICY)
    results = build_results(policy_set, rules, Snapshot(snapshot), {"prefix": "agenticai"}, NOW)
    markdown = render(results, "markdown")
    _, found = _section(markdown, "Accounts (3)")
    rows = {row["Account"]: row for row in _records(found[0])}
    assert list(rows) == [B, C, A]  # one blocking each for B and C (then by id), none for A
    assert [(rows[a]["fail"], rows[a]["pass"], rows[a]["Score"]) for a in (B, C, A)] == [
        ("1", "1", "50%"), ("1", "1", "50%"), ("0", "2", "100%"),
    ]  # fmt: skip
    assert rows[B]["Worst finding"] == "fail (high): t.work-queue on team-b-work"
    assert rows[C]["Worst finding"] == "fail (low): t.no-stray-queue on stray-1"
    junit = render(results, "junit")
    junit_schema().validate(junit)
    assert f'name="{A}: (rule-level)"' in junit  # A's "no stray queue", judged in A alone


def test_an_account_without_results_is_listed_and_never_scores_100() -> None:
    """An account in the scope that no result names (nothing collected, nothing judged) is a
    row of zeros with no score: it must not vanish, nor read as compliant."""
    doc = accounts_document()
    doc["scope"]["accounts"].append("444444444444")
    markdown = render(doc, "markdown")
    _, found = _section(markdown, "Accounts (4)")
    last = _records(found[0])[-1]
    assert (last["Account"], last["total"], last["Score"]) == ("444444444444", "0", "n/a")


def test_the_compact_summary_has_the_account_table() -> None:
    markdown = render(_many_accounts(), "markdown-summary")
    assert table_problems(markdown) == []
    _, found = _section(markdown, "Accounts (8 of 12)")
    assert len(found[0]) == 1 + 8
    assert '"Findings by account" in the full report (report.md)' in markdown
    findings = next(t for t in tables(markdown) if t[0][:3] == ["Status", "Rule", "Account"])
    assert all(row[2] for row in findings[1:])
