"""A results file the reporters cannot trust is an InputError naming file and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.fastcheck import compile_schema
from runbook_guard.reporters import load_results, validate_results
from runbook_guard.reporters.loading import result_precheck, result_validator

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


# The compiled precheck (reporters/fastcheck.py) -------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = ["rule", "resource", "status", "original_status", "observed", "expected", "message",
          "evidence", "waiver", "causes", "missing_permissions", "extra"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    base=st.sampled_from(bulk_document(12)["results"] + document()["results"]),
    edits=st.dictionaries(st.sampled_from(FIELDS), json_values | st.sampled_from(
        ["fail", "warn", "waived", None, [], {}, 1.0, True, {"type": "t", "id": "i", "name": "n",
         "region": "r", "account": "a"}]), max_size=3),
    drop=st.sets(st.sampled_from(FIELDS), max_size=2),
)  # fmt: skip
def test_precheck_is_at_least_as_strict_as_the_schema(
    base: dict[str, Any], edits: dict[str, Any], drop: set[str]
) -> None:
    candidate = {k: v for k, v in {**base, **edits}.items() if k not in drop}
    precheck = result_precheck()
    assert precheck is not None  # the results schema only uses keywords it compiles
    if precheck(candidate):
        assert list(result_validator().iter_errors(candidate)) == []


def test_precheck_accepts_valid_results_and_load_still_names_errors(tmp_path: Path) -> None:
    precheck = result_precheck()
    assert precheck is not None
    assert all(precheck(r) for r in bulk_document(200)["results"])
    doc = bulk_document(200)
    doc["results"][150]["resource"]["region"] = 5
    with pytest.raises(InputError) as caught:
        load_results(_write(tmp_path, doc))
    assert ": results[150].resource: " in caught.value.problems[0]


def test_compile_schema_refuses_keywords_it_does_not_implement() -> None:
    assert compile_schema({"type": "string", "maxLength": 3}, {}) is None
    assert compile_schema({"type": "string", "format": "date-time"}, {}) is None
    assert compile_schema({"oneOf": [{"type": "string"}, {"type": "string"}]}, {}) is None
    check = compile_schema({"type": "integer", "minimum": 0}, {})
    assert check is not None
    assert (check(3), check(-1), check(True), check(1.0)) == (True, False, False, False)
