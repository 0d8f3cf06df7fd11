"""A fast acceptance test compiled from a JSON Schema, for 100,000 results or resources.

jsonschema spends about 50 microseconds on one result (keyword dispatch, ``$ref`` lookups),
8 s for 100,000. ``compile_schema`` turns a schema that uses only a small set of keywords
into a plain Python predicate that is **at least as strict** as the schema: whatever it
accepts, the schema accepts. It never rejects for the reader, though: ``loading`` runs
jsonschema on every result the predicate does not accept, so error messages (and any valid
result the predicate is too strict for) still come from jsonschema, and nothing is weakened.

Supported: ``type`` (stricter than the spec: an integer is an ``int``, not ``1.0``; a bool is
never a number), ``enum`` (type-exact), ``required``, ``properties``, ``additionalProperties``
(false or a schema), ``items``, ``minimum``, ``oneOf`` whose branches have disjoint ``type``
(so at most one can match), ``pattern`` (re.search, as JSON Schema), ``minLength``, local
``$ref`` into ``$defs``; annotations (``description``,
``title``) are ignored. Any other keyword makes ``compile_schema`` return None, and the
caller validates everything with jsonschema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) is int or type(v) is float,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
}
_ANNOTATIONS = frozenset({"description", "title", "$comment", "examples", "default"})
_SUPPORTED = frozenset(
    {"type", "enum", "required", "properties", "additionalProperties", "items", "minimum",
     "oneOf", "$ref", "pattern", "minLength"}
) | _ANNOTATIONS  # fmt: skip


class Unsupported(Exception):
    pass


def _types(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> frozenset[str]:
    """The JSON types a oneOf branch allows (through a ``$ref``), which must be declared."""
    kind = schema.get("type")
    if kind is None and str(schema.get("$ref", "")).startswith("#/$defs/"):
        kind = defs[schema["$ref"].removeprefix("#/$defs/")].get("type")
    if kind is None:
        raise Unsupported("oneOf branch without a type")
    return frozenset([kind] if isinstance(kind, str) else kind)


def _compile(schema: Any, defs: Mapping[str, Any], depth: int) -> Check:
    if depth > 20:
        raise Unsupported("too deep (recursive $ref?)")
    if schema is True or schema == {}:
        return lambda v: True
    if not isinstance(schema, Mapping) or not set(schema) <= _SUPPORTED:
        raise Unsupported(str(schema)[:80])
    checks: list[Check] = []
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/$defs/"):
            raise Unsupported(ref)
        checks.append(_compile(defs[ref.removeprefix("#/$defs/")], defs, depth + 1))
    if "type" in schema:
        kinds = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        tests = [_TYPES[kind] for kind in kinds]
        checks.append(lambda v: any(test(v) for test in tests))
    if "enum" in schema:
        members = [(type(m), m) for m in schema["enum"]]
        checks.append(lambda v: any(type(v) is kind and v == m for kind, m in members))
    if "pattern" in schema:
        search = re.compile(schema["pattern"]).search
        checks.append(lambda v: type(v) is not str or search(v) is not None)
    if "minLength" in schema:
        shortest = schema["minLength"]
        # JSON Schema counts code points, as len() does
        checks.append(lambda v: type(v) is not str or len(v) >= shortest)
    if "minimum" in schema:
        low = schema["minimum"]
        checks.append(lambda v: (type(v) is not int and type(v) is not float) or v >= low)
    if "oneOf" in schema:
        branches = schema["oneOf"]
        kinds = [_types(branch, defs) for branch in branches]
        if sum(len(k) for k in kinds) != len(frozenset().union(*kinds)):
            raise Unsupported("oneOf branches share a type")
        compiled = [_compile(branch, defs, depth + 1) for branch in branches]
        checks.append(lambda v: any(check(v) for check in compiled))
    if "items" in schema:
        item = _compile(schema["items"], defs, depth + 1)
        checks.append(lambda v: type(v) is not list or all(item(x) for x in v))
    if {"required", "properties", "additionalProperties"} & set(schema):
        checks.append(_object(schema, defs, depth))
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(check(v) for check in checks)


def _object(schema: Mapping[str, Any], defs: Mapping[str, Any], depth: int) -> Check:
    required = tuple(schema.get("required", ()))
    properties = {
        name: _compile(sub, defs, depth + 1) for name, sub in schema.get("properties", {}).items()
    }
    extra = schema.get("additionalProperties", True)
    closed = extra is False
    other = None if extra is True or closed else _compile(extra, defs, depth + 1)

    def check(value: Any) -> bool:
        if type(value) is not dict:
            return True  # "type" decides; these keywords only constrain objects
        for name in required:
            if name not in value:
                return False
        for name, item in value.items():
            test = properties.get(name)
            if test is not None:
                if not test(item):
                    return False
            elif closed or (other is not None and not other(item)):
                return False
        return True

    return check


def compile_schema(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Check | None:
    """A predicate at least as strict as ``schema``, or None if it uses other keywords."""
    try:
        return _compile(schema, defs, 0)
    except Unsupported:
        return None
