"""JSON: canonical, schema-valid, the same document in the shared order."""

from __future__ import annotations

import json
import random
from typing import Any

from runbook_guard.reporters import render, validate_results

from .factory import document


def test_json_is_schema_valid_and_keeps_every_result(results: dict[str, Any]) -> None:
    out = json.loads(render(results, "json"))
    validate_results(out)
    key = lambda r: json.dumps(r, sort_keys=True)  # noqa: E731
    assert sorted(map(key, out["results"])) == sorted(map(key, results["results"]))
    assert out["waivers"]
    assert out["collection_errors"]
    assert out["summary"] == results["summary"]


def test_json_has_sorted_keys_and_one_result_per_line(results: dict[str, Any]) -> None:
    text = render(results, "json")
    out = json.loads(text)
    assert list(out) == sorted(out)
    lines = text.split("\n")
    first = lines.index('  "results": [') + 1
    result_lines = lines[first : first + len(out["results"])]
    assert [json.loads(line.strip().rstrip(",")) for line in result_lines] == out["results"]
    assert lines[first + len(out["results"])] == "  ],"
    keys = [(r["rule"], (r["resource"] or {}).get("id", "")) for r in out["results"]]
    assert keys == sorted(keys)
    assert [rule["id"] for rule in out["rules"]] == sorted(rule["id"] for rule in out["rules"])


def test_json_order_does_not_depend_on_input_order() -> None:
    first = document()
    shuffled = document()
    rng = random.Random(7)
    for field in ("results", "rules", "waivers", "collection_errors"):
        rng.shuffle(shuffled[field])
    assert render(first, "json") == render(shuffled, "json")
