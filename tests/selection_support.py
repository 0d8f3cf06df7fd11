"""What the selection tests share: the shipped pack read as plain YAML, and format checks.

The expected rule sets are computed here from the pack's YAML with a few lines of plain
Python, not with ``engine.selection``: a test that asked the code under test what it should
have selected would agree with any mistake it makes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml
from junitparser import JUnitXml

from tests.reporters.checks import sarif_schema_errors

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "policies" / "agenticai"
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
#: The per-format files ``check --format ...`` writes for every format.
ALL_FORMAT_ARGS = [
    arg
    for fmt in ("junit", "sarif", "markdown", "json", "markdown-summary")
    for arg in ("--format", fmt)
]


@dataclass(frozen=True)
class PackRule:
    id: str
    tags: frozenset[str]
    severity: str
    cadence: str
    types: frozenset[str]
    metrics: bool
    logs: bool
    manual: bool


def pack_rules() -> dict[str, PackRule]:
    """Every rule of the shipped pack, from its YAML files."""
    found: dict[str, PackRule] = {}
    for path in sorted(PACK.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in document.get("rules") or []:
            types = {rule["resource"]} if rule.get("resource") else set()
            types |= {related["type"] for related in (rule.get("related") or {}).values()}
            found[rule["id"]] = PackRule(
                id=rule["id"],
                tags=frozenset(rule.get("tags") or ()),
                severity=rule["severity"],
                cadence=rule["cadence"],
                types=frozenset(types),
                metrics=bool(rule.get("metrics")),
                logs=bool(rule.get("logs")),
                manual=rule.get("kind") == "manual",
            )
    return found


def expected(
    rules: list[str] | None = None,
    exclude: list[str] | None = None,
    tags: list[str] | None = None,
    severity: str | None = None,
    cadence: list[str] | None = None,
) -> set[str]:
    """The ids the issue's words select: a glob of ``rules`` (if any), none of ``exclude``,
    any of ``tags`` (if any), at least ``severity``, one of ``cadence`` (if any)."""
    chosen = set()
    for rule in pack_rules().values():
        if rules and not any(fnmatchcase(rule.id, glob) for glob in rules):
            continue
        if exclude and any(fnmatchcase(rule.id, glob) for glob in exclude):
            continue
        if tags and not rule.tags & set(tags):
            continue
        if severity and RANK[rule.severity] < RANK[severity]:
            continue
        if cadence and rule.cadence not in cadence:
            continue
        chosen.add(rule.id)
    return chosen


def collected_for(ids: set[str]) -> set[str]:
    """The rules a collection plans for: all but attestations, which read nothing."""
    rules = pack_rules()
    return {rule_id for rule_id in ids if not rules[rule_id].manual}


def services_read(ids: set[str]) -> set[str]:
    """The AWS services a collection for these rules may call: the services of the types they
    read (``aws.<service>.<type>``), CloudWatch for metrics, Logs for log counts, and STS
    (who the account is)."""
    rules = pack_rules()
    services = {"sts"}
    for rule_id in ids:
        rule = rules[rule_id]
        services |= {t.split(".")[1] for t in rule.types}
        if rule.metrics:
            services.add("cloudwatch")
        if rule.logs:
            services.add("logs")
    return services


def _code_spans(text: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", text))


def check_formats(out: Path, chosen: set[str], left_out: set[str]) -> dict[str, Any]:
    """Every format in ``out`` holds results of ``chosen`` rules only, says what was selected,
    and shows no rule of ``left_out`` as evaluated; returns results.json."""
    results = json.loads((out / "results.json").read_text())
    for name in ("results.json", "report.json"):
        document = json.loads((out / name).read_text())
        assert {rule["id"] for rule in document["rules"]} == chosen, name
        assert {result["rule"] for result in document["results"]} <= chosen, name
        assert set(document["selection"]["not_selected"]) == left_out, name
        assert document["selection"]["selected"] == len(chosen), name

    junit = JUnitXml.fromfile(str(out / "junit.xml"))
    # One suite per selected rule, and the merged collection errors' suite (no test cases).
    suites = [suite for suite in junit if suite.name != "collection errors"]
    assert suites, "no testsuite"
    assert {suite.name for suite in suites} <= chosen
    for suite in suites:
        [selection] = [p.get("value") for p in suite._elem.iter("property")
                       if p.get("name") == "selection"]  # fmt: skip
        assert f"of {len(chosen) + len(left_out)} rules" in str(selection)

    sarif = json.loads((out / "results.sarif").read_text())
    assert sarif_schema_errors(sarif) == []
    [run] = sarif["runs"]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} == chosen
    assert {result["ruleId"] for result in run["results"]} <= chosen
    assert set(run["properties"]["selection"]["not_selected"]) == left_out
    assert "/selection-" in run["automationDetails"]["id"]

    for name in ("report.md", "summary.md"):
        text = (out / name).read_text()
        assert f"**Selection: {len(chosen)} of {len(chosen) + len(left_out)} rules**" in text
    report = (out / "report.md").read_text()
    evaluated, _, appendix = report.partition("## Appendix: rules not selected")
    assert not _code_spans(evaluated) & left_out, "a rule left out shows among the evaluated"
    listed = appendix.partition("## Appendix: runbook coverage")[0]
    assert _code_spans(listed) == left_out
    return dict(results)
