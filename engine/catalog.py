"""``docs/rules.md``: every rule of a pack, generated from the rules themselves.

An auditor asks of each check what it reads, over which window, against which threshold, and
why that threshold: the catalog answers from the rule's own fields (``quote``, ``rationale``,
the compiled ``expected`` and window), never from prose kept beside it, so it cannot drift.
Regenerate with ``python -m runbook_guard.engine.catalog > docs/rules.md``; a test fails when
the committed file is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from runbook_guard.engine.loader import PolicySet, load_policy_set
from runbook_guard.engine.rules import CompiledRule


def _paths(node: Any) -> Iterator[str]:
    """Every data path a rule's text names (conditions, values, evidence, related fields)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("path", "from", "referenced_by") and isinstance(value, str):
                yield value
            elif key == "evidence" and isinstance(value, dict):
                for item in value.values():
                    yield from ([item] if isinstance(item, str) else _paths(item))
            elif key not in ("tests", "remediation"):
                yield from _paths(value)
    elif isinstance(node, list):
        for item in node:
            yield from _paths(item)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _metrics(rule: CompiledRule) -> list[str]:
    lines = []
    for name, query in sorted(rule.metrics.items()):
        parts = " + ".join(p.metric for p in query.numerator)
        per = " per " + " + ".join(p.metric for p in query.denominator) if query.denominator else ""
        floor = f" (periods with at least {query.min_denominator:g})" if query.denominator else ""
        lines.append(
            f"`{name}`: {query.namespace} {parts}{per} ({query.stat}){floor}, "
            f"{query.describe_window()}"
        )
    return lines


def _rule_section(rule: CompiledRule, spec: dict[str, Any]) -> list[str]:
    out = [f"### `{rule.id}`", "", f"**{_cell(rule.title)}**", ""]
    rows = [
        ("Covers", ", ".join(rule.covers)),
        ("Runbook section", rule.section),
        ("Cadence, severity", f"{rule.cadence}, {rule.severity}"),
    ]
    if rule.kind == "manual":
        rows.append(("Attested by a person", rule.expected))
    else:
        rows.append(("Resource type", f"`{rule.resource_type}`"))
        reads = sorted(dict.fromkeys(_paths(spec)))
        if reads:
            rows.append(("Reads", ", ".join(f"`{_cell(p)}`" for p in reads)))
        for alias, related in sorted(rule.related.items()):
            rows.append((f"Related `{alias}`", related.describe()))
        for line in _metrics(rule):
            rows.append(("Metric", line))
        rows.append(("Expected", rule.expected))
    if rule.replaces:
        rows.append(("Replaces", ", ".join(f"`{r}`" for r in rule.replaces)))
    tests = spec.get("tests", [])
    adversarial = sum(1 for t in tests if str(t.get("name", "")).startswith("adversarial:"))
    rows.append(("Test cases", f"{len(tests)} ({adversarial} adversarial)"))
    out += ["| | |", "|---|---|", *(f"| {k} | {_cell(str(v))} |" for k, v in rows), ""]
    if rule.quote:
        out += [*(f"> {line}" if line else ">" for line in rule.quote.splitlines()), ""]
    if rule.rationale:
        out += [f"Why: {' '.join(rule.rationale.split())}", ""]
    return out


def render(policy_set: PolicySet) -> str:
    """The catalog of every rule, grouped by policy file, with the pack's default parameters."""
    rules = {rule.id: rule for rule in policy_set.compile()}
    by_file: dict[str, list[tuple[CompiledRule, dict[str, Any]]]] = {}
    for entry in policy_set.entries:
        by_file.setdefault(entry.source.file, []).append((rules[entry.spec["id"]], entry.spec))
    lines = [
        "# Rules",
        "",
        "Generated from the rules by `python -m runbook_guard.engine.catalog > docs/rules.md`;",
        "a test fails when this file is stale. Names are shown with the pack's default parameters.",
        "Each rule quotes the runbook words it encodes and says why its thresholds, window and",
        "scope are what they are (where a number is this pack's choice, not the runbook's, it says",
        "so).",
        "",
        "| rule | covers | cadence | severity | title |",
        "|---|---|---|---|---|",
    ]
    for rule in sorted(rules.values(), key=lambda r: r.id):
        anchor = rule.id.replace(".", "")
        lines.append(
            f"| [`{rule.id}`](#{anchor}) | {', '.join(rule.covers)} | {rule.cadence} | "
            f"{rule.severity} | {_cell(rule.title)} |"
        )
    lines.append("")
    for file, entries in sorted(by_file.items()):
        lines += [f"## {file}", ""]
        for rule, spec in sorted(entries, key=lambda pair: pair[0].id):
            lines += _rule_section(rule, spec)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(load_policy_set([])))
