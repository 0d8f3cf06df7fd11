"""CSV and HTML for auditors: the CSV round-trips through ``csv`` and cannot carry a formula;
the HTML is one self-contained, strictly valid HTML5 file with the Markdown's content,
escaped, and a real browser engine (Debian's chromium, headless) runs its sorting script and
refuses anything the escaping could have let through."""

from __future__ import annotations

import csv
import io
import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runbook_guard.reporters import build_report, render, write_reports
from runbook_guard.reporters.csv_report import COLUMNS, csv_rows, guard, unguard
from runbook_guard.reporters.html_report import SCRIPT, STYLE, content_security_policy

from .checks import html_headings, html_parse, html_tables, parser, tables
from .factory import attested_document, document, owned_document, queue, result

# CSV -----------------------------------------------------------------------------------


def _read(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")  # UTF-8 with a BOM: Excel reads the names as written
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def test_csv_round_trips_through_the_csv_module() -> None:
    doc = owned_document()
    text = render(doc, "csv")
    rows = _read(text)
    expected = [dict(zip(COLUMNS, row, strict=True)) for row in csv_rows(build_report(doc))]
    assert rows == expected
    assert len(rows) == len(doc["results"]) + 2  # and the two merged collection errors
    assert [r["record"] for r in rows].count("result") == len(doc["results"])
    assert text.count("\r\n") == len(rows) + 1  # RFC 4180 line ends, one per record
    pitr = next(r for r in rows if r["rule"] == "dynamodb-pitr-enabled")
    assert (pitr["status"], pitr["owner"], pitr["severity"]) == ("fail", "data-team", "high")
    assert (pitr["observed"], pitr["expected"]) == ("DISABLED", "ENABLED")
    assert pitr["name"] == "agenticai-data"
    assert pitr["id"] == "arn:aws:dynamodb:us-east-1:123456789012:table/agenticai-data"
    waived = next(r for r in rows if r["status"] == "waived")
    assert (waived["original_status"], waived["waiver"]) == ("warn", "W-001")


def test_csv_order_is_deterministic() -> None:
    reference = render(document(), "csv")
    shuffled = document()
    rng = random.Random(5)
    for field in ("results", "rules", "waivers", "collection_errors"):
        rng.shuffle(shuffled[field])
    assert render(shuffled, "csv") == reference


@pytest.mark.parametrize(
    ("cell", "guarded"),
    [
        ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tleading tab", "'\tleading tab"),
        ("\r=x", "\\u000d=x"),  # a CR is made visible first: no longer a formula start
        ("-5", "-5"),  # a plain number is no formula, and stays a number
        ("-0.25", "-0.25"),
        ("'=x", "''=x"),  # an apostrophe already there: prefixed too, so it reads back
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_evaluate_are_text(cell: str, guarded: str) -> None:
    assert guard(cell) == guarded
    assert unguard(guard(cell)) == cell


def test_a_hostile_name_cannot_become_a_formula_in_the_csv() -> None:
    evil = {**queue('=HYPERLINK("http://evil.example","open")'), "id": "@arn"}
    doc = document([result("sqs-queue-depth", evil, "fail", "-1+2", "< 100", "+1 deep")])
    row = _read(render(doc, "csv"))[0]
    assert row["name"].startswith("'=")
    assert row["id"] == "'@arn"
    assert row["observed"] == "'-1+2"
    assert row["message"] == "'+1 deep"
    assert unguard(row["name"]) == evil["name"]


def test_csv_carries_attestations_and_owners() -> None:
    rows = {r["rule"]: r for r in _read(render(attested_document(), "csv"))}
    restore = rows["restore-tested"]
    assert restore["status"] == "pass"
    assert (restore["attestation"], restore["attested_by"], restore["attested_on"]) == (
        "attested", "ana@example.com", "2026-11-02",
    )  # fmt: skip
    assert restore["attestation_expires"] == "2027-02-01"
    assert restore["attestation_evidence"] == "https://wiki.example/drill-42"
    expired = rows["dr-documentation-updated"]
    assert (expired["status"], expired["attestation"]) == ("manual", "attestation expired")


# HTML ----------------------------------------------------------------------------------

INJECTED = "<script>document.documentElement.setAttribute('data-pwned','1')</script>"


def _hostile_document() -> dict[str, Any]:
    doc = owned_document()
    doc["results"][0]["message"] = f"queue said {INJECTED} & <b>bold</b>"
    doc["results"][0]["resource"]["name"] = '"><img src=x onerror=alert(1)>'
    doc["waivers"][0]["reason"] = "<style>body{display:none}</style>"
    return doc


def test_html_is_strict_html5_self_contained_and_escaped() -> None:
    page = render(_hostile_document(), "html")
    root = html_parse(page)  # strict: any parse error raises
    assert [s.text for s in root.iter("script")] == [SCRIPT]  # only ours
    assert [s.text for s in root.iter("style")] == [STYLE]
    assert not list(root.iter("img"))
    assert not list(root.iter("link"))
    for element in root.iter():  # nothing loads from anywhere
        for attribute in ("src", "href", "action", "srcset"):
            assert element.get(attribute) is None, (element.tag, attribute)
    assert "url(" not in STYLE
    assert "@import" not in STYLE
    meta = next(m for m in root.iter("meta") if m.get("http-equiv"))
    assert meta.get("content") == content_security_policy()
    assert "default-src 'none'" in content_security_policy()
    cells = [cell for table in html_tables(root) for row in table for cell in row]
    assert any(cell.startswith(f"queue said {INJECTED} & <b>bold</b>") for cell in cells)
    assert '"><img src=x onerror=alert(1)>' in cells


def test_html_has_the_markdowns_content() -> None:
    """Same sections, same tables, cell for cell: one content, two spellings."""
    doc = _hostile_document()
    markdown = render(doc, "markdown")
    root = html_parse(render(doc, "html"))
    tokens = parser().parse(markdown)
    h2 = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"
          and t.tag == "h2"]  # fmt: skip
    assert html_headings(root, "h2") == [re.sub(r"\\(.)", r"\1", h) for h in h2]
    assert html_tables(root) == tables(markdown)
    assert root.find(".//main/h1") is not None
    verdict = root.find(".//p[@id='verdict']")
    assert verdict is not None
    assert verdict.get("class") == "verdict blocked"


def test_html_shows_attestations() -> None:
    root = html_parse(render(attested_document(), "html"))
    manual = next(t for t in html_tables(root) if t[0][:2] == ["Rule", "Title"])
    rows = {row[0]: row for row in manual[1:]}
    assert rows["restore-tested"][4:10] == [
        "pass", "attested", "ana@example.com", "2026-11-02", "https://wiki.example/drill-42 "
        "(restored into agenticai-data-restored)", "2027-02-01",
    ]  # fmt: skip
    assert rows["dr-documentation-updated"][4:6] == ["manual", "attestation expired"]


def test_html_and_csv_are_written_by_default(tmp_path: Path) -> None:
    from runbook_guard.reporters import default_paths

    written = write_reports(document(), default_paths(tmp_path))
    assert {"report.csv", "report.html"} <= {path.name for path in written}


# A real browser engine ---------------------------------------------------------------------


def chromium() -> str | None:
    """Debian's chromium (``apt-get install chromium``), by its executable path."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _dump_dom(browser: str, page: Path, *extra: str) -> str:
    run = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={page.parent / 'profile'}",
            *extra,
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


@pytest.mark.slow
@pytest.mark.skipif(chromium() is None, reason="no chromium here (apt-get install chromium)")
def test_headless_chromium_runs_our_script_and_nothing_else(tmp_path: Path) -> None:
    browser = chromium()
    assert browser is not None
    page = tmp_path / "report.html"
    page.write_text(render(_hostile_document(), "html"), encoding="utf-8")
    dom = _dump_dom(browser, page)
    root = html_parse(dom.replace("<html ", "<!DOCTYPE html><html ", 1) if "<!DOCTYPE" not in dom
                      else dom)  # fmt: skip
    html = root if root.tag == "html" else root.find("html")
    assert html is not None
    # the sorting script ran: the policy's hash matches it, so the page is sortable
    assert html.get("data-sortable") == "ready"
    # the message's <script> did not: it is text, shown as written
    assert html.get("data-pwned") is None
    cells = [cell for table in html_tables(root) for row in table for cell in row]
    assert any(cell.startswith(f"queue said {INJECTED}") for cell in cells)
    served = html_parse(page.read_text(encoding="utf-8"))
    assert [t[0] for t in html_tables(root)] == [t[0] for t in html_tables(served)]
    # every column header is a sort control
    headers = list(root.iter("th"))
    assert headers
    assert all(th.get("tabindex") == "0" for th in headers)


@pytest.mark.slow
@pytest.mark.skipif(chromium() is None, reason="no chromium here (apt-get install chromium)")
def test_headless_chromium_refuses_a_script_the_escaping_would_have_let_through(
    tmp_path: Path,
) -> None:
    """Defence in depth: were the escaping broken, the page's policy still runs only our
    script (by its hash); the same page without the policy would run the injected one."""
    browser = chromium()
    assert browser is not None
    page = render(_hostile_document(), "html")
    escaped = "&lt;script&gt;document.documentElement.setAttribute(&#x27;data-pwned&#x27;,&#x27;1&#x27;)&lt;/script&gt;"
    assert escaped in page
    broken = page.replace(escaped, INJECTED)  # what a missing escape would have written
    for name, text, policy in (("kept", broken, True), ("stripped", broken, False)):
        if not policy:
            text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
        path = tmp_path / name / "report.html"
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        head = _dump_dom(browser, path).split(">", 2)[1]  # the <html ...> start tag
        assert 'data-sortable="ready"' in head
        assert ('data-pwned="1"' in head) is not policy, name
