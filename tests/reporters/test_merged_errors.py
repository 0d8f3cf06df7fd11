"""Identical collection errors are one entry with a count and its resources, in every format;
the console ends with them grouped by cause and IAM action, one line each with counts."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

from rich.console import Console

from runbook_guard.reporters import print_summary, render, validate_results
from runbook_guard.reporters.collection import merge_errors

from .checks import (
    github_problems,
    html_parse,
    html_tables,
    junit_schema,
    sarif_schema_errors,
    table_problems,
    tables,
)
from .factory import ACCOUNT, REGION, document

TABLES = [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t{i}" for i in (3, 1, 2)]
DENIED = "User: arn:aws:sts::123456789012:assumed-role/ci is not authorized to perform this"
SERVER = "500 Internal Server Error"


def _error(**fields: Any) -> dict[str, Any]:
    base = {"service": "dynamodb", "operation": "DescribeContinuousBackups", "region": REGION,
            "account": ACCOUNT, "iam_action": "dynamodb:DescribeContinuousBackups",
            "code": "AccessDeniedException", "message": DENIED,
            "resource_type": "aws.dynamodb.table", "data_keys": ["ContinuousBackupsDescription"]}  # fmt: skip
    return {**base, **fields}


def errors() -> list[dict[str, Any]]:
    """Three tables denied alike, eleven identical 500s listing events, and near misses that
    must stay apart: another region, another account, another code."""
    return [
        *(_error(resource=arn) for arn in TABLES),
        *(
            {
                "service": "cloudtrail",
                "operation": "LookupEvents",
                "region": REGION,
                "account": ACCOUNT,
                "iam_action": "cloudtrail:LookupEvents",
                "code": "500",
                "message": SERVER,
                "resource_type": "aws.cloudtrail.event",
            }
            for _ in range(11)
        ),
        _error(resource=TABLES[0].replace(REGION, "eu-west-1"), region="eu-west-1"),
        _error(resource=TABLES[0], account="210987654321"),
        _error(resource=TABLES[0], code="ThrottlingException", message="Rate exceeded"),
    ]


def _document() -> dict[str, Any]:
    doc = document()
    doc["collection_errors"] = errors()
    return doc


def test_merging_keeps_apart_what_differs() -> None:
    merged = merge_errors(errors())
    assert [(m.service, m.region, m.account, m.code, m.count) for m in merged] == [
        ("cloudtrail", REGION, ACCOUNT, "500", 11),
        ("dynamodb", "eu-west-1", ACCOUNT, "AccessDeniedException", 1),
        ("dynamodb", REGION, ACCOUNT, "AccessDeniedException", 3),
        ("dynamodb", REGION, ACCOUNT, "ThrottlingException", 1),
        ("dynamodb", REGION, "210987654321", "AccessDeniedException", 1),
    ]
    denied = merged[2]
    assert denied.resources == tuple(sorted(TABLES))
    assert denied.document()["count"] == 3
    assert merged[0].resources == ()


def test_markdown_and_html_list_each_cause_once_with_count_and_resources() -> None:
    doc = _document()
    markdown = render(doc, "markdown")
    assert table_problems(markdown) == []
    appendix = next(t for t in tables(markdown) if t[0][:2] == ["Service", "Operation"])
    rows = {(r[0], r[3], r[2], r[4]): dict(zip(appendix[0], r, strict=True)) for r in appendix[1:]}
    assert len(rows) == 5
    denied = rows[("dynamodb", REGION, ACCOUNT, "AccessDeniedException")]
    assert denied["Times"] == "3"
    assert denied["Resources"] == ", ".join(sorted(TABLES))
    assert denied["Missing permission"] == "dynamodb:DescribeContinuousBackups"
    assert rows[("cloudtrail", REGION, ACCOUNT, "500")]["Times"] == "11"
    assert "## Appendix: collection errors (5)" in markdown
    assert "Calls that failed during collection (17;" in markdown
    page = html_parse(render(doc, "html"))
    assert next(t for t in html_tables(page) if t[0][:2] == ["Service", "Operation"]) == appendix


def test_json_report_carries_merged_entries() -> None:
    out = json.loads(render(_document(), "json"))
    validate_results(out)
    entries = out["collection_errors"]
    assert len(entries) == 5
    denied = next(e for e in entries if e["count"] == 3)
    assert denied["resources"] == sorted(TABLES)
    assert denied["iam_action"] == "dynamodb:DescribeContinuousBackups"
    assert "resource" not in denied
    assert sum(e["count"] for e in entries) == 17


def test_sarif_notifications_one_per_merged_error() -> None:
    sarif = json.loads(render(_document(), "sarif"))
    assert sarif_schema_errors(sarif) == []
    assert github_problems(sarif) == []
    notes = [
        n
        for n in sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        if n["message"]["text"].startswith("collection:")
    ]
    assert len(notes) == 5
    denied = next(n for n in notes if n["properties"]["count"] == 3)
    assert denied["properties"]["resources"] == sorted(TABLES)
    text = denied["message"]["text"]
    assert text.startswith(
        f"collection: dynamodb.DescribeContinuousBackups {ACCOUNT}/{REGION}: AccessDeniedException:"
    )
    assert "(needs dynamodb:DescribeContinuousBackups) \u00d73; resources: " in text


def test_junit_has_one_line_per_merged_error_and_stays_valid() -> None:
    text = render(_document(), "junit")
    junit_schema().validate(text)
    root = ET.fromstring(text)
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "collection errors")
    assert suite.get("tests") == "0"
    lines = (suite.findtext("system-err") or "").split("\n")
    assert len(lines) == 5
    assert lines[0] == (
        f"11 \u00d7 cloudtrail.LookupEvents {ACCOUNT}/{REGION}: 500: {SERVER} "
        "(needs cloudtrail:LookupEvents)"
    )
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {"count": "17", "merged": "5"}


def test_csv_has_a_row_per_merged_error() -> None:
    text = render(_document(), "csv").removeprefix("\ufeff")
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["record"] == "collection error"]
    assert len(rows) == 5
    denied = next(r for r in rows if r["count"] == "3")
    assert denied["id"].split("\n") == sorted(TABLES)
    assert denied["expected"] == "needs dynamodb:DescribeContinuousBackups"
    assert denied["message"].startswith("AccessDeniedException: User")


def _console(doc: dict[str, Any]) -> list[str]:
    buffer = io.StringIO()
    print_summary(doc, Console(file=buffer, width=200, color_system=None))
    return buffer.getvalue().rstrip("\n").split("\n")


def test_console_ends_with_one_line_per_cause_and_iam_action() -> None:
    doc = _document()
    doc["scope"]["accounts"] = [ACCOUNT]
    lines = _console(doc)
    tail = lines[lines.index("17 collection errors, by cause and IAM action:") :]
    assert tail[1:] == [
        f"  11 \u00d7 500 on cloudtrail:LookupEvents ({REGION}): listing events",
        f"  3 \u00d7 AccessDeniedException on dynamodb:DescribeContinuousBackups ({REGION}): "
        "3 tables",
        "  1 \u00d7 AccessDeniedException on dynamodb:DescribeContinuousBackups (eu-west-1): "
        "1 table",
        "  1 \u00d7 AccessDeniedException on dynamodb:DescribeContinuousBackups (us-east-1): "
        "1 table",
        f"  1 \u00d7 ThrottlingException on dynamodb:DescribeContinuousBackups ({REGION}): 1 table",
    ]
    assert not any("see the report" in line for line in lines)


def test_console_names_the_account_when_several_are_in_scope() -> None:
    doc = _document()
    doc["scope"]["accounts"] = [ACCOUNT, "210987654321"]
    lines = _console(doc)
    assert (
        "  1 \u00d7 AccessDeniedException on dynamodb:DescribeContinuousBackups "
        f"(210987654321/{REGION}): 1 table"
    ) in lines


def test_messages_that_differ_only_in_the_arn_are_one_console_line() -> None:
    doc = document()
    doc["collection_errors"] = [
        _error(resource=arn, message=f"not authorized on {arn}") for arn in TABLES
    ]
    lines = _console(doc)
    assert lines[-2:] == [
        "3 collection errors, by cause and IAM action:",
        f"  3 \u00d7 AccessDeniedException on dynamodb:DescribeContinuousBackups ({REGION}): "
        "3 tables",
    ]
    # the report keeps each message (they differ), with its resource
    appendix = next(t for t in tables(render(doc, "markdown")) if t[0][0] == "Service")
    assert len(appendix) == 1 + 3


def test_a_json_report_read_back_merges_to_itself() -> None:
    """``report --results report.json``: merged entries keep their counts and resources."""
    once = json.loads(render(_document(), "json"))
    twice = json.loads(render(once, "json"))
    assert twice["collection_errors"] == once["collection_errors"]
    assert merge_errors(once["collection_errors"]) == merge_errors(errors())
