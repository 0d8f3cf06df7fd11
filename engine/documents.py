"""Reading the JSON documents that pass between stages (snapshot, results), validated.

A document that does not match its schema is refused with the file, the line and the field,
so a truncated upload or a hand-edited snapshot can never be evaluated as if it were whole.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import orjson

from runbook_guard.engine.errors import InputError, problem
from runbook_guard.engine.fastcheck import Check, compile_schema
from runbook_guard.engine.loader import load_schema
from runbook_guard.engine.yamlsafe import dotted, parse_yaml

#: Above this size, finding the line of a schema error (a second, slower parse) is skipped.
_POSITION_LIMIT = 5_000_000


def read_json(path: Path) -> tuple[Any, str]:
    """Parse a JSON file, naming the line and column of a syntax error."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError([problem(str(path), 1, 1, "", f"cannot read: {error.strerror}")]) from None
    except UnicodeDecodeError:
        raise InputError([problem(str(path), 1, 1, "", "file is not UTF-8 text")]) from None
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise InputError(
            [problem(str(path), error.lineno, error.colno, "", f"invalid JSON: {error.msg}")]
        ) from None
    _refuse_duplicate_keys(text, path)
    return document, text


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return found


def _refuse_duplicate_keys(text: str, path: Path) -> None:
    """Refuse an object with a key twice: orjson keeps the last, which would let a tampered
    snapshot hide an earlier ``errors`` or ``coverage``. orjson cannot see duplicates, so the
    text is parsed a second time by the standard library (see docs/benchmarks.md for the
    cost)."""
    collecting = gc.isenabled()
    gc.disable()  # the parse builds no cycles; tracking its million objects doubled its cost
    try:
        json.loads(text, object_pairs_hook=_unique)
    except _DuplicateKey as duplicate:
        line = _second_occurrence_line(text, duplicate.key)
        raise InputError(
            [
                problem(
                    str(path),
                    line,
                    1,
                    "",
                    f"duplicate key {json.dumps(duplicate.key)} in a JSON object: refused, since"
                    " only one of the two values could be read",
                )
            ]
        ) from None
    except RecursionError:  # orjson accepts 1,024 levels, the stdlib somewhat fewer
        message = "nested too deeply to check for duplicate keys"
        raise InputError([problem(str(path), 1, 1, "", message)]) from None
    except ValueError:  # what orjson accepted and the stdlib does not: orjson's verdict holds
        return
    finally:
        if collecting:
            gc.enable()


def _second_occurrence_line(text: str, key: str) -> int:
    """The line of the duplicate when the key is written exactly twice in the file, else 1
    (a key like ``type`` recurs in every resource: any other line would mislead)."""
    pattern = re.compile(re.escape(json.dumps(key, ensure_ascii=False)) + r"\s*:")
    found = [m.start() for m in itertools.islice(pattern.finditer(text), 3)]
    return text.count("\n", 0, found[1]) + 1 if len(found) == 2 else 1


#: Per document kind, the large array whose items a compiled check can vouch for.
_BULK = {"snapshot": ("resources", "resource")}


@cache
def _bulk_check(schema_name: str) -> Check | None:
    schema = load_schema(schema_name)
    return compile_schema(schema["$defs"][_BULK[schema_name][1]], schema["$defs"])


def _valid_in_bulk(document: Any, schema_name: str) -> bool:
    """True when every item of the big array passes the compiled check and the rest of the
    document passes jsonschema: the same verdict as jsonschema on the whole, in a tenth of
    the time. Anything the check does not accept goes to jsonschema for its messages."""
    if schema_name not in _BULK or not isinstance(document, dict):
        return False
    key = _BULK[schema_name][0]
    items, check = document.get(key), _bulk_check(schema_name)
    if check is None or not isinstance(items, list) or not all(check(item) for item in items):
        return False
    envelope = {**document, key: []}
    validator = jsonschema.Draft202012Validator(load_schema(schema_name), registry=_registry())
    return validator.is_valid(envelope)


def validate_document(document: Any, text: str, path: Path, schema_name: str) -> None:
    """Validate against a shipped schema; raise the first problems with their positions."""
    if _valid_in_bulk(document, schema_name):
        return
    schema = load_schema(schema_name)
    registry_schema = {**schema}
    validator = jsonschema.Draft202012Validator(
        registry_schema, registry=_registry(), format_checker=None
    )
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.path])[:20]
    if not errors:
        return
    located = None
    if len(text) <= _POSITION_LIMIT:
        try:
            located = parse_yaml(text, str(path))
        except InputError:
            located = None
    problems = []
    for error in errors:
        at = tuple(error.absolute_path)
        message = error.message if len(error.message) < 200 else error.message[:197] + "..."
        if located is not None:
            problems.append(located.problem(at, message))
        else:
            problems.append(problem(str(path), 1, 1, dotted(at), message))
    raise InputError(problems)


def _registry() -> Any:
    """Lets results.schema.json refer to definitions in snapshot.schema.json."""
    from referencing import Registry, Resource

    resources = []
    for name in ("snapshot", "results", "waivers", "config"):
        try:
            schema = load_schema(name)
        except FileNotFoundError:
            continue
        resources.append((schema["$id"], Resource.from_contents(schema)))
        resources.append((f"{name}.schema.json", Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def digest_of(document: Any) -> str:
    """sha256 of a canonical JSON form: independent of key order and whitespace.

    orjson's compact form hashes a snapshot of a hundred thousand resources in a tenth of a
    second; the standard library takes five times as long.
    """
    return (
        "sha256:" + hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
    )


def load_document(path: Path, schema_name: str) -> Any:
    """Read and validate one stage document."""
    document, text = read_json(path)
    validate_document(document, text, path, schema_name)
    return document
