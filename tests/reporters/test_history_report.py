"""A history of three runs in the report: the trend per status, how long each finding has been
open, and what is new, resolved or persisting since the newest kept run. Findings are matched
by rule and (account, region, type, name): a resource recreated under a new ARN persists, the
same name in another account is another finding, in the report and in SARIF alike."""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

from runbook_guard.engine.history import Run
from runbook_guard.reporters import render

from .checks import html_parse, html_tables, sarif_schema_errors, table_problems, tables
from .factory import ACCOUNT, RULES, base_results, document, queue, result

WEEK_1, WEEK_2 = "2026-11-13T10:00:00+00:00", "2026-11-20T10:00:00+00:00"
OTHER_ACCOUNT = "210987654321"
LOG_GROUP = "/aws/lambda/agenticai-pm"


def _named(results: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for r in results if r["resource"] and r["resource"]["name"] == name)


def _rules() -> list[dict[str, Any]]:
    """The factory's rules, the access-key rule renamed since week 1 (``replaces``)."""
    rules = copy.deepcopy(RULES)
    next(r for r in rules if r["id"] == "iam-unused-access-keys")["replaces"] = ["iam-old-keys"]
    return rules


def _week(number: int) -> list[dict[str, Any]]:
    """Weeks 1 and 2 as they were kept; week 3 is ``current()``."""
    results = base_results()
    results.remove(_named(results, "agenticai-dev-dlq"))  # new in week 3
    _named(results, "agenticai-pm-queue")["status"] = "warn" if number == 1 else "pass"
    if number == 1:
        _named(results, "agenticai-data")["status"] = "pass"  # failing from week 2 on
        _named(results, "agenticai-deployer/AKIAEXAMPLE")["rule"] = "iam-old-keys"
    else:
        _named(results, "agenticai-qa-queue")["status"] = "fail"  # a warn again in week 3
        results.append(result("sqs-queue-depth", queue("agenticai-old-queue"), "fail", 2000,
                               "< 100", "2000 deep"))  # resolved in week 3  # fmt: skip
    log = _named(results, LOG_GROUP)
    log["resource"]["id"] = "arn:aws:logs:us-east-1:123456789012:log-group:old"
    return results


def current() -> dict[str, Any]:
    results = base_results()
    _named(results, LOG_GROUP)["resource"]["id"] = "arn:aws:logs:us-east-1:123456789012:new"
    elsewhere = {**queue("agenticai-ops-queue"), "account": OTHER_ACCOUNT,
                 "id": f"arn:aws:sqs:us-east-1:{OTHER_ACCOUNT}:agenticai-ops-queue"}  # fmt: skip
    results.append(result("sqs-queue-depth", elsewhere, "fail", 2000, "< 100", "2000 deep"))
    doc = document(results, _rules())
    doc["scope"]["accounts"].append(OTHER_ACCOUNT)
    return doc


def history() -> list[Run]:
    return [Run(WEEK_1, _week(1)), Run(WEEK_2, _week(2))]


def _finding_rows(markdown: str) -> dict[tuple[str, str], list[str]]:
    """(rule, resource id) -> row of the findings-needing-action tables."""
    out = {}
    for table in tables(markdown):
        if table[0][:3] == ["Status", "Resource", "Owner"]:
            for row in table[1:]:
                out[(row[0], row[-1])] = dict(zip(table[0], row, strict=True))
    return {key: [value["Status"], value["Open since"]] for key, value in out.items()}


def test_three_runs_show_trend_ages_and_what_changed() -> None:
    markdown = render(current(), "markdown", history=history())
    assert table_problems(markdown) == []
    since = next(line for line in markdown.split("\n")[:40] if line.startswith("**Since"))
    assert since == (
        f"**Since the previous run** ({WEEK_2}, the newest kept in the history): 2 new, "
        "1 resolved, 7 persisting (1 of them changed status)."
    )
    trend = next(t for t in tables(markdown) if t[0][0] == "Run")
    assert [row[0] for row in trend[1:]] == [WEEK_1, WEEK_2, "2026-11-27T10:00:00+00:00 (this run)"]
    header = trend[0]
    week_1 = dict(zip(header, trend[1], strict=True))
    assert (week_1["fail"], week_1["warn"], week_1["pass"], week_1["total"]) == (
        "1",
        "3",
        "2",
        "10",
    )
    now = dict(zip(header, trend[3], strict=True))
    assert (now["fail"], now["warn"], now["total"], now["score"]) == ("4", "2", "12", "22%")
    ages = {row[0]: row[1] for row in _ages(markdown)}
    at_least = "at least since 2026-11-13 (14+ days)"
    assert ages["agenticai-qa-queue"] == at_least  # open in every kept run
    assert ages["agenticai-deployer/AKIAEXAMPLE"] == at_least  # under its old rule id then
    assert ages[LOG_GROUP] == at_least  # recreated under a new ARN: the same finding
    assert ages["agenticai-data"] == "2026-11-20 (7 days)"
    assert ages["agenticai-dev-dlq"] == "this run"


def _ages(markdown: str) -> list[tuple[str, str]]:
    """(resource, open since) from the top findings and the findings by owner and account
    (looked up by column name: the run spans two accounts, so tables have an account column)."""
    listed = [t for t in tables(markdown) if t[0][0] == "#" or t[0][:2] == ["Status", "Severity"]]
    assert listed
    return [
        (row[table[0].index("Resource")], row[table[0].index("Open since")])
        for table in listed
        for row in table[1:]
    ]


def test_new_resolved_and_persisting_by_name_not_by_arn() -> None:
    markdown = render(current(), "markdown", history=history())
    change_tables = [
        [dict(zip(t[0], row, strict=True)) for row in t[1:]]
        for t in tables(markdown)
        if "Before \u2192 now" in t[0]
    ]
    new, resolved, changed = change_tables

    def moves(rows: list[dict[str, str]]) -> list[tuple[str, str]]:
        return [(row["Resource"], row["Before \u2192 now"]) for row in rows]

    assert set(moves(new)) == {
        ("agenticai-dev-dlq", "no result \u2192 fail"),
        ("agenticai-ops-queue", "no result \u2192 fail"),  # the other account's: new
    }
    other = next(row for row in new if row["Resource"] == "agenticai-ops-queue")
    assert OTHER_ACCOUNT in other["Resource id"]
    assert other["Account"] == OTHER_ACCOUNT  # two accounts: every change names its account
    assert moves(resolved) == [("agenticai-old-queue", "fail \u2192 no result")]
    assert resolved[0]["Account"] == ACCOUNT
    assert LOG_GROUP not in {row["Resource"] for rows in change_tables for row in rows}
    assert moves(changed) == [("agenticai-qa-queue", "fail \u2192 warn")]


def test_sarif_fingerprints_follow_the_same_key() -> None:
    week_2 = document(_week(2), _rules())
    week_2["evaluated_at"] = WEEK_2
    before = json.loads(render(week_2, "sarif"))["runs"][0]["results"]
    now_doc = current()
    now = json.loads(render(now_doc, "sarif", history=history()))["runs"][0]
    assert sarif_schema_errors({"version": "2.1.0", "runs": [now], "$schema": "x"}) == []

    def prints(results: list[dict[str, Any]], name: str) -> list[str]:
        return [
            r["partialFingerprints"]["runbookGuard/v2"]
            for r in results
            if r["locations"][0]["logicalLocations"][0]["name"] == name
        ]

    # recreated under a new ARN: the same alert, marked unchanged
    assert prints(before, LOG_GROUP) == prints(now["results"], LOG_GROUP)
    log = next(r for r in now["results"]
               if r["locations"][0]["logicalLocations"][0]["name"] == LOG_GROUP)  # fmt: skip
    assert log["baselineState"] == "unchanged"
    # the same name in another account: two alerts
    ops = prints(now["results"], "agenticai-ops-queue")
    assert len(ops) == len(set(ops)) == 2
    states = {
        r["properties"]["resource"]["account"]: r["baselineState"]
        for r in now["results"]
        if r["locations"][0]["logicalLocations"][0]["name"] == "agenticai-ops-queue"
    }
    assert states == {"123456789012": "unchanged", OTHER_ACCOUNT: "new"}
    assert now["properties"]["baseline"]["compared"] is True


def test_a_first_run_is_a_note_not_an_error() -> None:
    for fmt in ("markdown", "markdown-summary"):
        text = render(current(), fmt, history=[])
        assert "**First run in this history:** no earlier run is kept yet" in text
        assert "What changed since" not in text
    page = html_parse(render(current(), "html", history=[]))
    since = page.find(".//p[@id='since']")
    assert since is not None
    assert "".join(since.itertext()).startswith("First run in this history:")
    assert "Open since" not in [c for t in html_tables(page) for c in t[0]]


def test_without_history_there_is_no_age_column_and_no_note() -> None:
    markdown = render(current(), "markdown")
    assert "Open since" not in markdown
    assert "First run" not in markdown


def test_an_explicit_previous_is_the_baseline_and_history_still_gives_the_trend() -> None:
    rules = copy.deepcopy(RULES)  # as week 1 had them: the access-key rule's old id
    next(r for r in rules if r["id"] == "iam-unused-access-keys")["id"] = "iam-old-keys"
    week_1 = document(_week(1), rules)
    week_1["evaluated_at"] = WEEK_1
    markdown = render(current(), "markdown", previous=week_1, history=history())
    since = next(line for line in markdown.split("\n") if line.startswith("**Since"))
    assert since.startswith(f"**Since the previous run** ({WEEK_1}):")
    assert any(t[0][0] == "Run" for t in tables(markdown))
    # a previous file is a whole document: its digests are shown
    comparison = next(t for t in tables(markdown) if t[0] == ["Item", "Previous run", "This run"])
    assert "Snapshot digest" in [row[0] for row in comparison]


def test_history_from_results_alone_says_what_it_lacks() -> None:
    markdown = render(current(), "markdown", history=history())
    assert "(only its results were kept" in markdown
    comparison = next(t for t in tables(markdown) if t[0] == ["Item", "Previous run", "This run"])
    assert ["Snapshot, policies, scope", "not kept", "as in the appendix"] in comparison


def test_ages_in_every_format_that_lists_findings() -> None:
    doc = current()
    text = render(doc, "csv", history=history()).removeprefix("\ufeff")
    rows = {(r["rule"], r["name"], r["account"]): r for r in csv.DictReader(io.StringIO(text))}
    assert rows[("sqs-queue-depth", "agenticai-qa-queue", "123456789012")]["first_seen"] == (
        "at least since 2026-11-13 (14+ days)"
    )
    assert rows[("dynamodb-pitr-enabled", "agenticai-data", "123456789012")]["first_seen"] == (
        "2026-11-20 (7 days)"
    )
    assert rows[("s3-bucket-lifecycle", "agenticai-backups", "123456789012")]["first_seen"] == ""
    page = html_parse(render(doc, "html", history=history()))
    top = next(t for t in html_tables(page) if t[0][0] == "#")
    assert top[0][-1] == "Open since"
    assert "2026-11-20 (7 days)" in [row[-1] for row in top[1:]]


def test_this_run_kept_already_is_not_its_own_previous_run() -> None:
    """A history recorded before the reports are rendered holds this run too: it is not
    counted twice in the trend, nor compared with itself."""
    doc = current()
    kept = [*history(), Run(doc["evaluated_at"], doc["results"])]
    assert render(doc, "markdown", history=kept) == render(doc, "markdown", history=history())
