"""JMESPath lookups that can tell an absent field from a null one.

Fail-closed evaluation needs that difference: ``retentionInDays`` absent means "never
expire", ``LifecycleConfiguration: null`` means "not configured", and a key absent because
its API call was denied means "unknown". Plain dotted paths (most of them) are walked by
hand, which is also several times faster than a JMESPath search; anything richer goes to
jmespath, where a ``None`` result counts as absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jmespath
from jmespath import exceptions as jmespath_errors


class _Missing:
    """The sentinel for 'no such field'; distinct from a JSON null."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
Getter = Callable[[Any], Any]
_SIMPLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*$")


class PathError(ValueError):
    """An expression that is not valid JMESPath."""


def _walker(keys: list[str]) -> Getter:
    def get(data: Any) -> Any:
        for key in keys:
            if data is None:
                return None  # a null parent: the field is known to be empty, not unknown
            if not isinstance(data, dict) or key not in data:
                return MISSING
            data = data[key]
        return data

    return get


def _field_names(node: dict[str, Any]) -> list[str]:
    names = [node["value"]] if node.get("type") == "field" else []
    for child in node.get("children", []):
        if isinstance(child, dict):
            names.extend(_field_names(child))
    return names


def is_simple(expression: str) -> bool:
    """A plain dotted path of identifiers, walked by hand (absent and null kept apart)."""
    return bool(_SIMPLE.match(expression)) and "-" not in expression


def compile_path(expression: str) -> tuple[Getter, frozenset[str]]:
    """A getter for the expression and the top-level data keys it may read.

    The keys let the engine ask whether a failed collection call could explain an absence.
    """
    if is_simple(expression):
        keys = expression.split(".")
        return _walker(keys), frozenset(keys[:1])
    try:
        parsed = jmespath.compile(expression)
    except jmespath_errors.JMESPathError as error:
        raise PathError(f"invalid JMESPath {expression!r}: {error}") from None

    def search(data: Any) -> Any:
        try:
            found = parsed.search(data)
        except jmespath_errors.JMESPathError:
            return MISSING
        return MISSING if found is None else found

    tree: dict[str, Any] = dict(parsed.parsed)
    return search, frozenset(_field_names(tree))
