"""``${parameter}`` substitution: data in, data out, no template language.

A string that is exactly ``${name}`` takes the parameter's value with its type (a number
stays a number, a list stays a list); inside longer text the value is written as text.
``$${`` writes a literal ``${``. Names that no parameter declares are refused at load time.

Inside a regular expression (the text of a ``matches``, ``select.name_matches`` or
``select.name_not_matches``) a parameter's value is pasted as literal text, escaped, so
``--param prefix=a.b`` selects the names starting with ``a.b`` and ``prefix=x|.*`` cannot
widen the selection. A parameter whose name ends in ``_matches`` (the shipped
``budget_name_matches``) is declared a pattern by that name and pasted as a regular expression.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from runbook_guard.engine.regexes import escape

_REFERENCE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WHOLE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")

#: The keys whose text is a regular expression: parameters inside them are escaped.
PATTERN_KEYS = frozenset({"matches", "name_matches", "name_not_matches"})
#: A parameter named ``..._matches`` holds a regular expression and is pasted unescaped.
PATTERN_SUFFIX = "_matches"


def is_pattern_parameter(name: str) -> bool:
    """Whether the parameter is declared (by its name) to hold a regular expression."""
    return name.endswith(PATTERN_SUFFIX)


class ParameterError(ValueError):
    """A reference to an undeclared parameter, or a value of the wrong shape."""


def references(value: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every (location, parameter name) referenced anywhere inside a value."""

    def walk(node: Any, at: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
        if isinstance(node, str):
            for match in _REFERENCE.finditer(node):
                yield at, match.group(1)
        elif isinstance(node, dict):
            for key, child in node.items():
                yield from walk(child, (*at, key))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                yield from walk(child, (*at, index))

    return walk(value, ())


def _as_text(name: str, value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise ParameterError(f"parameter {name!r} holds a {type(value).__name__}; it can only "
                             "stand alone as '${" + name + "}', not inside text")  # fmt: skip
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _in_pattern(name: str, value: Any) -> str:
    text = _as_text(name, value)
    return text if is_pattern_parameter(name) else escape(text)


def substitute(value: Any, parameters: Mapping[str, Any], *, pattern: bool = False) -> Any:
    """A copy of ``value`` with every reference replaced.

    ``pattern``: ``value`` is a regular expression, so parameters are pasted as escaped text
    (a pattern parameter as it is); under a mapping, the text of ``matches`` and
    ``name_matches`` keys is treated so.
    """
    if isinstance(value, str) and pattern:
        text = _REFERENCE.sub(lambda m: _in_pattern(m.group(1), parameters[m.group(1)]), value)
        return text.replace("$${", "${")
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole:
            return parameters[whole.group(1)]
        text = _REFERENCE.sub(lambda m: _as_text(m.group(1), parameters[m.group(1)]), value)
        return text.replace("$${", "${")
    if isinstance(value, dict):
        return {
            key: substitute(child, parameters, pattern=key in PATTERN_KEYS)
            for key, child in value.items()
        }
    if isinstance(value, list):
        return [substitute(child, parameters) for child in value]
    return value


def expand_names(template: str, parameters: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Expand a name template; each list parameter in it yields one name per item.

    Returns (name, bindings) pairs, the bindings holding the item each list parameter took,
    so a related resource's template can use the same item (queue ``pm`` -> DLQ ``pm``).
    """
    names = list(dict.fromkeys(m.group(1) for m in _REFERENCE.finditer(template)))
    lists = [n for n in names if isinstance(parameters[n], list)]
    expanded: list[tuple[str, dict[str, Any]]] = []
    for items in itertools.product(*(parameters[n] for n in lists)):
        bindings = dict(zip(lists, items, strict=True))
        expanded.append((str(substitute(template, {**parameters, **bindings})), bindings))
    return expanded
