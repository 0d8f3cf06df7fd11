"""Reading a results file: the only input the report stage trusts, so it is checked first.

A report an auditor reads must not quietly render a half-valid document, so anything the
schema or the document's own cross-references reject is an ``InputError`` (exit 2) naming the
file and the field.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from runbook_guard.engine.errors import InputError, problem

MAX_PROBLEMS = 20


def _schema(name: str) -> dict[str, Any]:
    text = resources.files("runbook_guard.schemas").joinpath(name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@lru_cache(maxsize=1)
def results_validator() -> Draft202012Validator:
    """The results schema, with the snapshot schema registered for its collection_error $ref."""
    results = _schema("results.schema.json")
    snapshot = _schema("snapshot.schema.json")
    registry: Registry[Any] = Registry().with_resources(
        [(schema["$id"], Resource.from_contents(schema)) for schema in (results, snapshot)]
    )
    return Draft202012Validator(results, registry=registry)


def field_path(parts: Any) -> str:
    """``results[3].status`` from a jsonschema path: what a person searches the file for."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _schema_problems(source: str, document: Any) -> list[str]:
    errors = sorted(
        results_validator().iter_errors(document),
        key=lambda e: (field_path(e.absolute_path), e.message),
    )
    return [_describe(source, error) for error in errors[:MAX_PROBLEMS]]


def _describe(source: str, error: ValidationError) -> str:
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return problem(source, None, None, field_path(error.absolute_path), message)


def _reference_problems(source: str, document: Mapping[str, Any]) -> list[str]:
    """What the schema cannot say: results point at known rules, the summary adds up."""
    problems: list[str] = []
    rule_ids = {rule["id"] for rule in document["rules"]}
    for index, result in enumerate(document["results"]):
        if result["rule"] not in rule_ids:
            field = f"results[{index}].rule"
            problems.append(problem(source, None, None, field, f"unknown rule {result['rule']!r}"))
        if result["status"] == "waived" and "original_status" not in result:
            field = f"results[{index}].original_status"
            problems.append(problem(source, None, None, field, "a waived result must keep it"))
        if len(problems) >= MAX_PROBLEMS:
            return problems
    summary = document["summary"]
    if summary["total"] != len(document["results"]):
        message = f"says {summary['total']}, the document has {len(document['results'])} results"
        problems.append(problem(source, None, None, "summary.total", message))
    counted = Counter(result["status"] for result in document["results"])
    for status in sorted(set(counted) | set(summary["by_status"])):
        claimed, actual = summary["by_status"].get(status, 0), counted.get(status, 0)
        if claimed != actual:
            field = f"summary.by_status.{status}"
            problems.append(problem(source, None, None, field, f"says {claimed}, found {actual}"))
    return problems


def validate_results(document: Any, source: str = "<results>") -> None:
    """Raise ``InputError`` unless ``document`` is a results document reporters can trust."""
    problems = _schema_problems(source, document)
    if not problems:
        problems = _reference_problems(source, document)
    if problems:
        raise InputError(problems)


def load_results(path: Path | str) -> dict[str, Any]:
    """Read, parse and validate a results file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError([problem(source, None, None, "", f"cannot read: {reason}")]) from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        where = problem(source, error.lineno, error.colno, "", f"not JSON: {error.msg}")
        raise InputError([where]) from error
    validate_results(document, source)
    loaded: dict[str, Any] = document
    return loaded
