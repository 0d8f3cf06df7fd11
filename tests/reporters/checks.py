"""Validators the reporter tests share: the official schemas, GitHub's rules, table shapes."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path
from typing import Any

import html5lib
import xmlschema
from jsonschema import Draft4Validator
from markdown_it import MarkdownIt
from markdown_it.token import Token

from runbook_guard.reporters.escape import unvisible

STANDARDS = Path(__file__).resolve().parent.parent / "data" / "standards"
FINGERPRINT_PATTERN = re.compile(r"^[0-9a-f]{16}:[0-9]+$")
ALLOWED_HTML = {"<br>", "<details>", "</details>"}


@lru_cache(maxsize=1)
def sarif_validator() -> Draft4Validator:
    schema = json.loads((STANDARDS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


@lru_cache(maxsize=1)
def junit_schema() -> Any:
    return xmlschema.XMLSchema10(str(STANDARDS / "junit-10.xsd"))


def sarif_schema_errors(document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in sarif_validator().iter_errors(document)
    ]


def _text(value: Any) -> str:
    return value.get("text", "") if isinstance(value, dict) else ""


def github_problems(sarif: dict[str, Any]) -> list[str]:
    """GITHUB_SARIF_NOTES.md, one check per requirement, as readable problem lines."""
    out: list[str] = []
    if sarif.get("version") != "2.1.0":
        out.append("version must be 2.1.0")
    if not sarif.get("$schema"):
        out.append("$schema is required (docs)")
    runs = sarif.get("runs")
    if not isinstance(runs, list) or not 1 <= len(runs) <= 20:
        return [*out, "runs must hold 1..20 runs"]
    drivers = [run["tool"]["driver"]["name"] for run in runs]
    if len(set(drivers)) != len(drivers):
        out.append("a run may hold results of only one tool; one run per tool")
    for n, run in enumerate(runs):
        out.extend(f"runs[{n}]: {p}" for p in _run_problems(run))
    return out


def _run_problems(run: dict[str, Any]) -> list[str]:
    out: list[str] = []
    driver = run.get("tool", {}).get("driver", {})
    if not driver.get("name"):
        out.append("tool.driver.name is required")
    rules = driver.get("rules")
    results = run.get("results")
    if not isinstance(rules, list) or not isinstance(results, list):
        return [*out, "tool.driver.rules and results arrays are required"]
    if len(results) > 25_000:
        out.append(f"{len(results)} results: over the hard limit of 25,000")
    carrying = {"suppressions" in result for result in results}
    if len(carrying) > 1:
        out.append("suppressions must be on every result or on none (SARIF 2.1.0 3.27.23)")
    if len(rules) > 25_000:
        out.append("over 25,000 rules")
    if not run.get("automationDetails", {}).get("id"):
        out.append("automationDetails.id missing (category)")
    ids = [rule.get("id") for rule in rules]
    for n, rule in enumerate(rules):
        out.extend(f"rules[{n}]: {p}" for p in _rule_problems(rule))
    security = {
        rule.get("id") for rule in rules if "security-severity" in rule.get("properties", {})
    }
    seen: set[str] = set()
    for n, result in enumerate(results):
        out.extend(f"results[{n}]: {p}" for p in _result_problems(result, ids))
        if result.get("level") == "note" and result.get("ruleId") in security:
            out.append(
                f"results[{n}]: a note on a rule with security-severity would show as a "
                "security alert of that severity (GitHub shows it instead of the level)"
            )
        fingerprint = result.get("partialFingerprints", {}).get("primaryLocationLineHash", "")
        if fingerprint in seen:
            out.append(f"results[{n}]: duplicate primaryLocationLineHash (alerts would merge)")
        seen.add(fingerprint)
    return out


def _rule_problems(rule: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if not rule.get("id"):
        out.append("id is required")
    for field in ("shortDescription", "fullDescription"):
        text = _text(rule.get(field))
        if not text or len(text) > 1024:
            out.append(f"{field}.text must be 1..1024 characters")
    if not _text(rule.get("help")):
        out.append("help.text is required")
    if len(rule.get("name", "")) > 255:
        out.append("name longer than 255")
    level = rule.get("defaultConfiguration", {}).get("level", "warning")
    if level not in ("note", "warning", "error"):
        out.append(f"defaultConfiguration.level {level!r}")
    properties = rule.get("properties", {})
    tags = properties.get("tags", [])
    if len(tags) > 10 or len(set(tags)) != len(tags):
        out.append("at most 10 distinct tags")
    if "security-severity" in properties:
        score = properties["security-severity"]
        if not isinstance(score, str) or not 0.0 < float(score) <= 10.0:
            out.append(f"security-severity must be a string number in (0, 10]: {score!r}")
        if "security" not in tags:
            out.append("security-severity is meant for rules tagged security")
    return out


def _result_problems(result: dict[str, Any], rule_ids: list[Any]) -> list[str]:
    out: list[str] = []
    if not _text(result.get("message")):
        out.append("message.text is required")
    rule_id = result.get("ruleId")
    if rule_id not in rule_ids:
        out.append(f"ruleId {rule_id!r} is not a driver rule")
    elif result.get("ruleIndex") != rule_ids.index(rule_id):
        out.append("ruleIndex does not point at ruleId")
    if result.get("level") not in ("note", "warning", "error"):
        out.append(f"level {result.get('level')!r}")
    locations = result.get("locations") or []
    if not 1 <= len(locations) <= 1000:
        return [*out, "at least one location is required (GitHub rejects the whole file)"]
    physical = locations[0].get("physicalLocation", {})
    uri = physical.get("artifactLocation", {}).get("uri", "")
    if not uri or uri.startswith("/") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri):
        out.append(f"artifactLocation.uri must be non-empty and relative: {uri!r}")
    if ".." in uri.split("/"):
        out.append("artifactLocation.uri leaves the repository")
    start = physical.get("region", {}).get("startLine")
    if not isinstance(start, int) or start < 1:
        out.append("region.startLine must be a positive integer")
    if not locations[0].get("logicalLocations"):
        out.append("a logical location (the resource) is expected")
    fingerprint = result.get("partialFingerprints", {}).get("primaryLocationLineHash", "")
    if not FINGERPRINT_PATTERN.match(fingerprint):
        out.append(f"partialFingerprints.primaryLocationLineHash malformed: {fingerprint!r}")
    return out


# Markdown ------------------------------------------------------------------------------

_PIPE = re.compile(r"(?<!\\)(?:\\\\)*\|")


def parser() -> MarkdownIt:
    """GFM-like: CommonMark plus tables and strikethrough ("gfm-like" also wants linkify-it,
    which is not installed; GitHub's bare-URL autolinking is out of the test's reach)."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def source_cells(line: str) -> int:
    """Cells in a table source line: unescaped pipes, minus the outer ones."""
    stripped = line.strip()
    pipes = len(_PIPE.findall(stripped))
    return pipes - 1 if stripped.startswith("|") and stripped.endswith("|") else pipes + 1


def table_problems(markdown: str) -> list[str]:
    """Each table's rows in the source have the header's cell count, and none was lost."""
    lines = markdown.split("\n")
    out: list[str] = []
    tokens = parser().parse(markdown)
    for index, token in enumerate(tokens):
        if token.type != "table_open" or token.map is None:
            continue
        start, end = token.map
        header = source_cells(lines[start])
        for number in range(start, end):
            cells = source_cells(lines[number])
            if cells != header:
                out.append(f"line {number + 1}: {cells} cells, header has {header}")
        rows = 0
        for inner in tokens[index:]:
            if inner.type == "table_close":
                break
            rows += inner.type == "tr_open"
        if rows != end - start - 1:
            out.append(f"line {start + 1}: table has {rows} rows, source {end - start - 1} lines")
    return out


WORD_JOINER = "\u2060"
# What GitHub would autolink, mention or emojify in text (linkify-it is not installed, so
# the parser cannot show it): none may survive unbroken outside code.
LINKISH = re.compile(
    r"https?://|(?i:www\.)|(?<![\w`])@[A-Za-z0-9]|(?<!\w):[a-z0-9_+-]*[a-z][a-z0-9_+-]*:|#\d"
)


def inline_text(token: Token) -> str:
    """The text a reader sees in an inline token; raises on markup that text must not make.

    WORD JOINERs (which the report inserts to break links and mentions) are invisible, so
    they are dropped here; a literal one in the input is escaped, so nothing is lost."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak") or (
            child.type == "html_inline" and child.content == "<br>"
        ):
            parts.append("\n")
        elif child.type in ("strong_open", "strong_close"):
            continue
        else:
            raise AssertionError(f"unexpected markup {child.type} {child.content!r}")
    return "".join(parts).replace(WORD_JOINER, "")


def live_links(markdown: str) -> list[str]:
    """Text outside code that GitHub would turn into a link, mention, emoji or reference."""
    found: list[str] = []
    for token in parser().parse(markdown):
        for child in token.children or []:
            if child.type == "text":
                found.extend(m.group() for m in LINKISH.finditer(child.content))
    return found


def tables(markdown: str) -> list[list[list[str]]]:
    """Every table as rows of cell texts (header row first), visible escapes undone."""
    out: list[list[list[str]]] = []
    row: list[str] = []
    in_table = False
    for token in parser().parse(markdown):
        if token.type in ("table_open", "table_close"):
            in_table = token.type == "table_open"
            if in_table:
                out.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and in_table:
            row.append(unvisible(inline_text(token)))
        elif token.type == "tr_close":
            out[-1].append(row)
    return out


def unexpected_html(markdown: str) -> list[str]:
    """Raw HTML the report did not write itself (ours: <br>, <details>, <summary>)."""
    found: list[str] = []
    for token in parser().parse(markdown):
        if token.type == "html_block":
            for line in token.content.strip().split("\n"):
                if line not in ALLOWED_HTML and not re.fullmatch(
                    r"<summary>\d+ passing checks</summary>", line
                ):
                    found.append(line)
        for child in token.children or []:
            if child.type == "html_inline" and child.content != "<br>":
                found.append(child.content)
            if child.type in ("link_open", "image", "s_open", "em_open"):
                found.append(child.type)
    return found


# HTML ----------------------------------------------------------------------------------


def html_parse(text: str) -> ET.Element:
    """The page as an HTML5 parser builds it; strict: any parse error (a stray tag, a missing
    doctype, an unclosed element) raises instead of being repaired silently."""
    parser_ = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    root: ET.Element = parser_.parse(text)
    return root


def html_text(element: ET.Element) -> str:
    """What a reader sees in an element: its text with ``<br>`` as a line break, the visible
    escapes undone (as for the other formats)."""
    parts: list[str] = []

    def walk(node: ET.Element) -> None:
        parts.append(node.text or "")
        for child in node:
            if child.tag == "br":
                parts.append("\n")
            else:
                walk(child)
            parts.append(child.tail or "")

    walk(element)
    return unvisible("".join(parts))


def html_tables(root: ET.Element) -> list[list[list[str]]]:
    """Every table as rows of cell texts (header row first)."""
    return [
        [[html_text(cell) for cell in row if cell.tag in ("th", "td")] for row in table.iter("tr")]
        for table in root.iter("table")
    ]


def html_headings(root: ET.Element, tag: str) -> list[str]:
    return [html_text(element) for element in root.iter(tag)]
