"""Parameter values for a run: defaults, then config, then ``--param``, then references.

Every override is read in the shape of the parameter's default, so ``--param prefix=null``
is the text "null" (not a JSON null), ``--param unused_key_days=30`` a number, and
``--param queues=pm,dev`` a list; NaN and infinities are refused, since every comparison
with them is false and a ``not`` would turn that into a pass.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.params import (
    ParameterError,
    is_pattern_parameter,
    references,
    substitute,
)


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """``--param key=value`` words into a mapping of raw text (typed later, by default)."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise InputError([f"--param expects key=value, got {pair!r}"])
        overrides[key.strip()] = raw
    return overrides


def _number(name: str, value: Any) -> int | float:
    if isinstance(value, bool):
        raise InputError([f"parameter {name!r} must be a number, got {value!r}"])
    if isinstance(value, (int, float)):
        number: int | float = value
    else:
        text = str(value).strip()
        try:
            number = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise InputError([f"parameter {name!r} must be a number, got {value!r}"]) from None
    if isinstance(number, float) and not math.isfinite(number):
        raise InputError([f"parameter {name!r} must be a finite number, got {value!r}"])
    return number


def _list(name: str, value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    text = str(value).strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text, parse_constant=lambda c: _refuse(name, c))
        except ValueError:
            raise InputError([f"parameter {name!r}: {text!r} is not a JSON list"]) from None
        if isinstance(parsed, list):
            return parsed
    return [item.strip() for item in text.split(",") if item.strip()]


def _refuse(name: str, constant: str) -> Any:
    raise InputError([f"parameter {name!r} must be finite, got {constant}"])


def coerce(name: str, value: Any, default: Any) -> Any:
    """An override in the shape of the parameter's default."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in ("true", "false"):
            raise InputError([f"parameter {name!r} must be true or false, got {value!r}"])
        return text == "true"
    if isinstance(default, (int, float)):
        return _number(name, value)
    if isinstance(default, list):
        return _list(name, value)
    if isinstance(default, str):
        if isinstance(value, (dict, list)):
            raise InputError([f"parameter {name!r} takes text, got {value!r}"])
        return value if isinstance(value, str) else json.dumps(value)
    return value


def effective(defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overridden and references resolved; an undeclared name is refused."""
    values = dict(defaults)
    unknown = sorted(set(overrides) - set(values))
    if unknown:
        known = ", ".join(sorted(values)) or "none"
        raise InputError(
            [
                f"parameter {name!r} is not declared by any policy (declared: {known})"
                for name in unknown
            ]
        )
    for name, value in overrides.items():
        values[name] = coerce(name, value, values[name])
    return resolve_references(values)


def resolve_references(values: dict[str, Any]) -> dict[str, Any]:
    """Let a parameter build on others (``dashboard: "${prefix}-dashboard"``).

    Resolved after overrides, so overriding ``prefix`` moves every name built on it. A
    reference to an unknown parameter, or a cycle, is refused with the names involved.
    """
    resolved: dict[str, Any] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> Any:
        if name in resolved:
            return resolved[name]
        if name in chain:
            cycle = " -> ".join((*chain, name))
            raise InputError([f"parameters refer to each other in a cycle: {cycle}"])
        value = values[name]
        needed = {ref for _, ref in references(value)}
        unknown = sorted(needed - set(values))
        if unknown:
            raise InputError([f"parameter {name!r} refers to undeclared {', '.join(unknown)}"])
        context = {ref: resolve(ref, (*chain, name)) for ref in needed}
        try:
            resolved[name] = (
                substitute(value, context, pattern=is_pattern_parameter(name)) if needed else value
            )
        except ParameterError as error:
            raise InputError([f"parameter {name!r}: {error}"]) from None
        return resolved[name]

    for name in values:
        resolve(name, ())
    return resolved
