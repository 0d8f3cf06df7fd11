"""CSV: one row per result, for auditors who filter and pivot in a spreadsheet.

RFC 4180 as Python's ``csv`` module writes it (comma, double quotes doubled, CRLF line ends),
UTF-8 with a byte order mark so Excel reads non-ASCII names as they are. Rows in the order
every format uses (rule, resource id), then one row per merged collection error
(``record`` says which is which), so the same results always give the same bytes.

Control and bidirectional characters are made visible (``escape.visible``, reversibly) as in
every other format: a spreadsheet shows ``\u202e`` rather than a name that reads backwards.

Formula injection: a cell a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, or a tab or carriage return, which some spreadsheets skip before looking) is
prefixed with an apostrophe, which makes it text. Resource names and messages come from the
account being checked, so a queue named ``=HYPERLINK(...)`` must not become a live formula
on an auditor's machine. A plain number (``-5``, ``-0.25``) is left as it is: it is no
formula, and quoting it would turn it into text.

Values are the words the Markdown shows (``wording``); the exact observed value and the
expected text as evaluated are columns of their own.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from runbook_guard.reporters.audit import aged
from runbook_guard.reporters.collection import MergedError
from runbook_guard.reporters.escape import UNSAFE, unvisible, visible
from runbook_guard.reporters.model import Report, Row
from runbook_guard.reporters.wording import expected_words, observed_words

COLUMNS = (
    "record", "rule", "title", "severity", "status", "original_status", "owner", "account",
    "region", "type", "name", "id", "observed", "expected", "observed_value",
    "expected_as_evaluated", "message", "waiver", "attestation", "attested_by",
    "attested_on", "attestation_expires", "attestation_evidence", "first_seen", "count",
)  # fmt: skip
RESULT, COLLECTION_ERROR = "result", "collection error"
BOM = "\ufeff"
# A cell a spreadsheet would evaluate, or one that already starts with apostrophes before such
# a character (prefixed too, so that ``unguard`` can tell the two apart).
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$")


def guard(cell: str) -> str:
    """The cell as text a spreadsheet shows as it is and will not evaluate (see the module's
    docstring). ``unguard`` gives the original back."""
    cell = visible(cell)
    if _FORMULA.match(cell) and not _PLAIN_NUMBER.match(cell):
        return "'" + cell
    return cell


def unguard(cell: str) -> str:
    """Invert ``guard``: what a test, or a reader's script, uses to get the original text."""
    if cell.startswith("'") and _FORMULA.match(cell[1:]) and not _PLAIN_NUMBER.match(cell[1:]):
        cell = cell[1:]
    return unvisible(cell)


def _result_row(report: Report, row: Row) -> list[str]:
    attested = row.attestation
    age = report.timeline.age(row.identity) if report.timeline and aged(report) else None
    return [
        RESULT, row.rule.id, row.rule.title, row.rule.severity, row.status,
        row.original_status or "", row.owner, row.account, row.region, row.resource_type,
        row.resource_name, row.resource_id or "", observed_words(row),
        expected_words(row.expected), row.observed_text, row.expected, row.message,
        row.waiver_id or "", attested.state if attested else "", attested.by if attested else "",
        attested.at if attested else "", attested.expires if attested else "",
        attested.evidence if attested else "", age.text if age is not None else "", "",
    ]  # fmt: skip


def _error_row(error: MergedError) -> list[str]:
    message = f"{error.code}: {error.message}"
    needs = f"needs {error.iam_action}" if error.iam_action else ""
    return [
        COLLECTION_ERROR, "", f"{error.service}.{error.operation}", "", "error", "", "",
        error.account, error.region, " ".join(error.resource_types), "",
        "\n".join(error.resources), "", needs, "", error.iam_action, message, "", "", "", "",
        "", "", "", str(error.count),
    ]  # fmt: skip


# Anything ``guard`` could change, searched once per row in the cells joined by line breaks
# (a line break inside a cell only costs the per-cell check, never a wrong answer): a cell
# starting with a formula character or an apostrophe, an unsafe character or a backslash.
_CELL_START = re.compile(r"\n['=+\-@\t\r]")
_TO_ESCAPE = re.compile("[\\\\" + UNSAFE + "]")


def _guarded(cells: list[str]) -> list[str]:
    joined = "\n" + "\n".join(cells)
    if _CELL_START.search(joined) is None and _TO_ESCAPE.search(joined) is None:
        return cells
    return [guard(cell) for cell in cells]


def csv_rows(report: Report) -> Iterator[list[str]]:
    """Every data row, guarded, in the file's order (what a reader gets back)."""
    for row in report.rows:
        yield _guarded(_result_row(report, row))
    for error in report.merged_errors:
        yield _guarded(_error_row(error))


def render_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(csv_rows(report))
    return BOM + buffer.getvalue()
