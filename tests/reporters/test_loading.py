"""A results file the reporters cannot trust is an InputError naming file and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runbook_guard.engine.errors import InputError
from runbook_guard.reporters import load_results, validate_results

from .factory import bulk_document, document, with_hostile_text


def _write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "results.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return path


def test_a_valid_file_loads(tmp_path: Path, results: dict[str, Any]) -> None:
    assert load_results(_write(tmp_path, results)) == results


def test_not_json_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, '{\n  "tool": ,\n}')
    with pytest.raises(InputError) as caught:
        load_results(path)
    assert caught.value.problems[0].startswith(f"{path}:2:11: <document>: not JSON")


def test_schema_violation_names_the_field(tmp_path: Path, results: dict[str, Any]) -> None:
    results["results"][2]["status"] = "broken"
    del results["scope"]["snapshot_digest"]
    with pytest.raises(InputError) as caught:
        load_results(_write(tmp_path, results))
    problems = caught.value.problems
    assert any(
        p.startswith(f"{tmp_path / 'results.json'}:1:1: results[2].status:") for p in problems
    )
    assert any(": scope: 'snapshot_digest' is a required property" in p for p in problems)


def test_unknown_rule_and_wrong_summary(tmp_path: Path, results: dict[str, Any]) -> None:
    results["results"][0]["rule"] = "no-such-rule"
    results["summary"]["by_status"]["fail"] = 99
    with pytest.raises(InputError) as caught:
        load_results(_write(tmp_path, results))
    text = "\n".join(caught.value.problems)
    assert "results[0].rule: unknown rule 'no-such-rule'" in text
    assert "summary.by_status.fail: says 99, found 3" in text


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_results(tmp_path / "absent.json")


def test_factory_documents_are_valid() -> None:
    """The factory is what every other test trusts; keep it honest."""
    validate_results(document())
    validate_results(with_hostile_text("a|b", "c`d"))
    validate_results(bulk_document(50))
