"""A results document narrowed to a selection: what ``report --tag ...`` renders.

The document keeps only the selected rules and their results; everything computed from the
results (summary, gate count, coverage, waiver register) is recomputed from what is left, so
no report counts or shows a result it does not list. Rules left out get no result at all,
never a pass: the record lists them as ``not_selected``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.engine.coverage import how_checked, narrow_coverage
from runbook_guard.engine.selection import Candidate, Selection
from runbook_guard.engine.summary import classes_of, summarise
from runbook_guard.engine.waivers import ANY_RULE

#: The version whose fields a narrowed document now carries (``selection``, gate severity).
SELECTION_SCHEMA_VERSION = 4


def select_results(document: Mapping[str, Any], selection: Selection) -> dict[str, Any]:
    """``document`` with only the rules ``selection`` keeps (``InputError`` as ``choose``)."""
    candidates = [Candidate.of_metadata(rule) for rule in document["rules"]]
    chosen = set(selection.choose(candidates, what="rule in the results"))
    rules = [rule for rule in document["rules"] if rule["id"] in chosen]
    results = [result for result in document["results"] if result["rule"] in chosen]
    gate = document["summary"].get("gate") or {}
    summary = summarise(
        results,
        classes_of(rules),
        str(gate.get("fail_on", "fail")),
        gate.get("fail_severity"),
    )
    earlier = document.get("selection")
    record = selection.record(list(chosen), [c.id for c in candidates], earlier)
    narrowed: dict[str, Any] = {
        **document,
        "schema_version": max(int(document["schema_version"]), SELECTION_SCHEMA_VERSION),
        "rules": rules,
        "results": results,
        "summary": summary,
        "waivers": _waivers(document["waivers"], rules, results),
        "selection": record,
    }
    coverage = document.get("coverage")
    if coverage is not None:
        left_out = {c.id for c in candidates} - chosen
        how = {str(rule["id"]): how_checked(rule) for rule in document["rules"]}
        narrowed["coverage"] = narrow_coverage(coverage, left_out, how)
    return narrowed


def _waivers(
    register: list[Mapping[str, Any]],
    rules: list[Mapping[str, Any]],
    results: list[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The register entries of the kept rules (by id or a former id) and ``*`` waivers, each
    counting only the results still in the document (an entry left with none is unused)."""
    names = {ANY_RULE} | {str(r["id"]) for r in rules}
    names |= {str(old) for r in rules for old in r.get("replaces", ())}
    applied: dict[str, int] = {}
    for result in results:
        if result.get("waiver"):
            applied[result["waiver"]] = applied.get(result["waiver"], 0) + 1
    kept = []
    for waiver in register:
        if waiver["rule"] not in names:
            continue
        entry = dict(waiver)
        if "applied_to" in entry:
            entry["applied_to"] = applied.get(entry["id"], 0)
        if entry.get("status") in ("active", "unused"):
            entry["status"] = "active" if applied.get(entry["id"]) else "unused"
        kept.append(entry)
    return kept
