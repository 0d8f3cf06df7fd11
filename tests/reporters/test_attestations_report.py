"""An attestation shows in every format: who checked, when, the evidence and until when for an
attested manual rule (a pass resting on a person's word); "attestation expired" for one that
is manual again; "not attested" for one nobody has checked. The score counts the attested
pass and leaves the expired manual out."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

from runbook_guard.reporters import render

from .checks import html_parse, html_tables, junit_schema, sarif_schema_errors, tables
from .factory import ATTESTED, EXPIRED, attested_document, document

MANUAL_HEADER = [
    "Rule", "Title", "Cadence", "Resource", "Status", "Attestation", "Checked by", "On",
    "Evidence", "Holds until", "Message",
]  # fmt: skip


def test_markdown_manual_checks_say_who_when_evidence_and_until_when() -> None:
    markdown = render(attested_document(), "markdown")
    manual = next(t for t in tables(markdown) if t[0] == MANUAL_HEADER)
    rows = {row[0]: dict(zip(MANUAL_HEADER, row, strict=True)) for row in manual[1:]}
    restore = rows["restore-tested"]
    assert (restore["Status"], restore["Attestation"]) == ("pass", "attested")
    assert (restore["Checked by"], restore["On"], restore["Holds until"]) == (
        "ana@example.com", "2026-11-02", "2027-02-01",
    )  # fmt: skip
    # the link is shown to copy, not made live (it is the team's text, quoted as code)
    assert restore["Evidence"] == f"{ATTESTED['evidence']} ({ATTESTED['note']})"
    assert "`https://wiki.example/drill-42 (restored" in markdown
    dr = rows["dr-documentation-updated"]
    assert (dr["Status"], dr["Attestation"], dr["Checked by"]) == (
        "manual", "attestation expired", "bob",
    )  # fmt: skip
    assert dr["Message"].startswith("attestation expired on 2026-10-01")
    assert "## Manual checks (2)" in markdown


def test_an_unattested_manual_rule_says_so() -> None:
    manual = next(t for t in tables(render(document(), "markdown")) if t[0] == MANUAL_HEADER)
    assert manual[1][4:10] == ["manual", "not attested", "-", "-", "-", "-"]


def test_the_attested_pass_counts_in_the_score_and_the_expired_one_does_not() -> None:
    markdown = render(attested_document(), "markdown")
    score = next(line for line in markdown.split("\n") if line.startswith("**Compliance"))
    assert "3 of 9 decided results pass" in score  # 2 checks + the attested drill
    assert "1 manual (awaiting a person's attestation)" in score


def test_junit_carries_the_attestation() -> None:
    text = render(attested_document(), "junit")
    junit_schema().validate(text)
    root = ET.fromstring(text)
    cases = {case.get("classname"): case for case in root.iter("testcase")}
    out = cases["restore-tested"].findtext("system-out") or ""
    assert (
        "attestation: attested by ana@example.com on 2026-11-02, holds until 2027-02-01; "
        "evidence: https://wiki.example/drill-42; note: restored into agenticai-data-restored"
    ) in out
    skipped = cases["dr-documentation-updated"].find("skipped")
    assert skipped is not None
    assert (skipped.get("message") or "").startswith(
        "manual attestation required (attestation expired on 2026-10-01 (checked by bob on "
        "2026-07-01); evidence: TICKET-7)"
    )


def test_sarif_carries_the_attestations() -> None:
    sarif = json.loads(render(attested_document(), "sarif"))
    assert sarif_schema_errors(sarif) == []
    run = sarif["runs"][0]
    attested = {a["ruleId"]: a for a in run["properties"]["attestations"]}
    assert attested["restore-tested"]["by"] == "ana@example.com"
    assert attested["restore-tested"]["status"] == "pass"
    assert attested["dr-documentation-updated"]["expired"] is True
    assert run["properties"]["score"] == {"passed": 3, "decided": 9, "text": "33%"}


def test_json_report_keeps_the_attestation_as_evaluated() -> None:
    out = json.loads(render(attested_document(), "json"))
    by_rule = {r["rule"]: r for r in out["results"]}
    assert by_rule["restore-tested"]["attestation"] == ATTESTED
    assert by_rule["dr-documentation-updated"]["attestation"] == EXPIRED


def test_csv_and_html_carry_the_attestation() -> None:
    text = render(attested_document(), "csv").removeprefix("\ufeff")
    rows = {r["rule"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["restore-tested"]["attested_by"] == "ana@example.com"
    assert rows["dr-documentation-updated"]["attestation"] == "attestation expired"
    page = html_parse(render(attested_document(), "html"))
    manual = next(t for t in html_tables(page) if t[0] == MANUAL_HEADER)
    assert [row[5] for row in manual[1:]] == ["attestation expired", "attested"]
