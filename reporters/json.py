"""Canonical JSON: the results document itself, in the order every other format uses.

Machines diff it, so only order changes; no field is added, dropped or reformatted and the
output stays valid against ``schemas/results.schema.json``.
"""

from __future__ import annotations

from typing import Any

from runbook_guard.engine.fileio import canonical_json
from runbook_guard.reporters.escape import json_surrogates
from runbook_guard.reporters.model import Report, fields_key, stable_sorted


def normalised(report: Report) -> dict[str, Any]:
    """The document with every list that is a set in meaning sorted."""
    document = dict(report.document)
    scope = dict(document["scope"])
    scope["accounts"] = sorted(scope["accounts"])
    scope["regions"] = sorted(scope["regions"])
    policies = dict(document["policies"])
    policies["packs"] = stable_sorted(policies["packs"], fields_key("name", "version"))
    document.update(
        scope=scope,
        policies=policies,
        rules=[dict(row) for row in stable_sorted(document["rules"], fields_key("id"))],
        results=[row.raw for row in report.rows],
        waivers=[dict(w) for w in stable_sorted(document["waivers"], fields_key("id"))],
        collection_errors=list(report.collection_errors),
    )
    return document


def render_json(report: Report) -> str:
    return json_surrogates(canonical_json(normalised(report)))
