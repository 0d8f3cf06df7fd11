"""JSON: the results document itself, in the order every other format uses.

Only order changes, with one exception: identical collection errors are merged into one
entry with ``count`` and ``resources`` (``collection.merge_errors``), as every format shows
them; every other field is kept as it is, and the output stays valid against
``schemas/results.schema.json``. The layout is "one item per line": sorted keys,
each top-level member on its own line and each rule, result, waiver and collection error on
its own line. A weekly diff then shows one changed line per changed result, and it is
written by the C JSON encoder: the indented form (``engine.fileio.canonical_json``) goes
through the pure-Python encoder and alone takes about 2 s for 100,000 results.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

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
        collection_errors=[error.document() for error in report.merged_errors],
    )
    return document


_ENCODER = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(", ", ": "), allow_nan=False
)


def line_json(document: Mapping[str, Any]) -> str:
    """Sorted keys, one top-level member per line, one item of a top-level list per line."""
    encode = _ENCODER.encode
    members = []
    for key in sorted(document):
        value = document[key]
        if isinstance(value, list) and value:
            items = ",\n".join(["    " + encode(item) for item in value])
            members.append(f"  {encode(key)}: [\n{items}\n  ]")
        else:
            members.append(f"  {encode(key)}: {encode(value)}")
    return json_surrogates("{\n" + ",\n".join(members) + "\n}\n")


def render_json(report: Report) -> str:
    return line_json(normalised(report))
