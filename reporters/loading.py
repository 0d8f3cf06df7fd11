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
from referencing import Registry, Resource

from runbook_guard.engine.errors import InputError, problem
from runbook_guard.engine.fastcheck import Check, compile_schema
from runbook_guard.engine.yamlsafe import dotted

MAX_PROBLEMS = 20


def _schema(name: str) -> dict[str, Any]:
    text = resources.files("runbook_guard.schemas").joinpath(name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@lru_cache(maxsize=1)
def _registry() -> tuple[dict[str, Any], Registry[Any]]:
    results = _schema("results.schema.json")
    snapshot = _schema("snapshot.schema.json")
    registry: Registry[Any] = Registry().with_resources(
        [(schema["$id"], Resource.from_contents(schema)) for schema in (results, snapshot)]
    )
    return results, registry


@lru_cache(maxsize=1)
def results_validator() -> Draft202012Validator:
    """The results schema, with the snapshot schema registered for its collection_error $ref."""
    results, registry = _registry()
    return Draft202012Validator(results, registry=registry)


@lru_cache(maxsize=1)
def result_precheck() -> Check | None:
    """``$defs/result`` compiled to a predicate at least as strict (``fastcheck``)."""
    results, _ = _registry()
    return compile_schema(results["$defs"]["result"], results["$defs"])


@lru_cache(maxsize=1)
def result_validator() -> Draft202012Validator:
    """One result (``$defs/result`` of the same schema, its own ``$ref``s resolved there)."""
    results, registry = _registry()
    return Draft202012Validator({"$ref": f"{results['$id']}#/$defs/result"}, registry=registry)


def field_path(parts: Any) -> str:
    """``results[3].status`` from a jsonschema path: what a person searches the file for
    (any key quoted as the engine's readers quote it, so the field stays one word)."""
    return dotted(tuple(parts))


def _schema_errors(document: Any) -> list[tuple[str, str]]:
    """(field, message) of every schema error, up to MAX_PROBLEMS per part.

    The envelope (everything but the results) is validated against the whole schema, then
    each result against one pre-built validator for ``$defs/result``: the same rules as
    validating the whole document at once, without walking 100,000 results through the
    top-level schema's ``$ref`` resolution, and the results' errors are drawn lazily, so a
    broken file stops after MAX_PROBLEMS of them. A result the compiled precheck accepts
    (``fastcheck``: at least as strict as the schema) is valid and skips jsonschema; every
    other result goes through jsonschema, which gives the errors.
    """
    results = document.get("results") if isinstance(document, dict) else None
    if not isinstance(results, list):
        errors = results_validator().iter_errors(document)
        return [(field_path(e.absolute_path), e.message) for e in errors]
    envelope = {**document, "results": []}
    found = [
        (field_path(e.absolute_path), e.message) for e in results_validator().iter_errors(envelope)
    ]
    validator = result_validator()
    precheck = result_precheck() or (lambda result: False)
    in_results = 0
    for index, result in enumerate(results):
        if precheck(result):
            continue  # at least as strict as the schema: certainly valid
        for error in validator.iter_errors(result):
            found.append((field_path(["results", index, *error.absolute_path]), error.message))
            in_results += 1
        if in_results >= MAX_PROBLEMS:
            break
    return found


def _schema_problems(source: str, document: Any) -> list[str]:
    errors = sorted(_schema_errors(document))
    return [_describe(source, field, message) for field, message in errors[:MAX_PROBLEMS]]


def _describe(source: str, field: str, message: str) -> str:
    message = message if len(message) <= 300 else message[:297] + "..."
    return problem(source, None, None, field, message)


def _reference_problems(source: str, document: Mapping[str, Any]) -> list[str]:
    """What the schema cannot say: results point at known rules, the summary adds up."""
    problems: list[str] = []
    # What every report names: a blank one makes SARIF that GitHub refuses (a driver and each
    # rule need a name and a short description) and empty headings elsewhere.
    if not document["tool"]["name"].strip():
        problems.append(problem(source, None, None, "tool.name", "is blank"))
    for index, rule in enumerate(document["rules"]):
        if not rule["title"].strip():
            problems.append(problem(source, None, None, f"rules[{index}].title", "is blank"))
    rule_ids = {rule["id"] for rule in document["rules"]}
    seen: dict[tuple[str, ...], int] = {}
    for index, result in enumerate(document["results"]):
        resource = result["resource"]
        # A resource's id is unique only within its account: two accounts each missing the
        # same named queue are two results, keyed by the name they lack.
        where = (resource["account"], resource["region"], resource["type"]) if resource else ()
        key = (result["rule"], resource["id"] if resource else "", *where)
        first = seen.setdefault(key, index)
        if first != index:
            what = f"resource {key[1]!r}" if resource else "no resource (rule-level)"
            message = (
                f"duplicate result for rule {key[0]!r} and {what}: results[{first}] is the same "
                "(rule, resource); the contract has one result per pair"
            )
            problems.append(problem(source, None, None, f"results[{index}]", message))
        if result["rule"] not in rule_ids:
            field = f"results[{index}].rule"
            problems.append(problem(source, None, None, field, f"unknown rule {result['rule']!r}"))
        if result["status"] == "waived" and "original_status" not in result:
            field = f"results[{index}].original_status"
            problems.append(problem(source, None, None, field, "a waived result must keep it"))
        if len(problems) >= MAX_PROBLEMS:
            return problems
    problems += _selection_problems(source, document, rule_ids)
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


def _selection_problems(source: str, document: Mapping[str, Any], rule_ids: set[str]) -> list[str]:
    """A selection must agree with the rules: a rule both evaluated and "not selected" would
    let a report show results for what the run says it left out, or the reverse."""
    selection = document.get("selection")
    if not selection:
        return []
    problems = []
    both = sorted(rule_ids & set(selection["not_selected"]))
    if both:
        message = f"names rule(s) the document evaluated: {', '.join(map(repr, both))}"
        problems.append(problem(source, None, None, "selection.not_selected", message))
    if selection["selected"] != len(rule_ids):
        message = f"says {selection['selected']}, the document has {len(rule_ids)} rules"
        problems.append(problem(source, None, None, "selection.selected", message))
    return problems


def validate_results(document: Any, source: str = "<results>") -> None:
    """Raise ``InputError`` unless ``document`` is a results document reporters can trust."""
    problems = _schema_problems(source, document)
    if not problems:
        problems = _reference_problems(source, document)
    if problems:
        raise InputError(problems)


class _NonStandardNumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    """``json.loads`` accepts NaN, Infinity and -Infinity, which are not JSON."""
    raise _NonStandardNumber(name)


def load_results(path: Path | str) -> dict[str, Any]:
    """Read, parse and validate a results file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError([problem(source, None, None, "", f"cannot read: {reason}")]) from error
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        where = problem(source, error.lineno, error.colno, "", f"not JSON: {error.msg}")
        raise InputError([where]) from error
    except RecursionError:
        # The standard library's parser recurses per level: a few thousand "[" end it.
        message = "not JSON a report can come from: nested too deeply to read"
        raise InputError([problem(source, None, None, "", message)]) from None
    except _NonStandardNumber as error:
        message = (
            f"not JSON: {error.args[0]} is not a JSON number (NaN and Infinity are refused: "
            "no report format can carry them)"
        )
        raise InputError([problem(source, None, None, "", message)]) from None
    validate_results(document, source)
    loaded: dict[str, Any] = document
    return loaded
