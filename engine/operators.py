"""The comparison operators: one table drives evaluation, the policy schema and the docs.

Each operator compares the value found at a rule's path with the operand the rule gives.
Absence is decided before an operator runs (see ``conditions``); operators only ever see a
present value, which may be ``null``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runbook_guard.engine.regexes import PatternError, PatternTimeout, compile_pattern
from runbook_guard.engine.timeutil import days_between, parse_timestamp


class NotComparable(Exception):
    """The value cannot be compared this way (text against a number, a bad timestamp)."""


@dataclass(frozen=True)
class Operator:
    """One row of the table."""

    name: str
    symbol: str
    description: str
    #: JSON Schema of the operand, as it appears in the policy schema.
    operand: dict[str, Any]
    test: Callable[[Any, Any, datetime], bool]
    #: True where the operator itself gives absence a meaning (exists, absent).
    decides_absence: bool = False


def _number(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise NotComparable(f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise NotComparable(f"{value!r} is not a number") from None
    raise NotComparable(f"{type(value).__name__} is not a number")


def _ordered(compare: Callable[[float, float], bool]) -> Callable[[Any, Any, datetime], bool]:
    return lambda value, operand, _now: compare(_number(value), _number(operand))


def _scalar(value: Any) -> bool:
    return not isinstance(value, (list, dict))


def _same_shape(value: Any, operand: Any, name: str) -> None:
    """A list or mapping compared with a single value (or the reverse) is not comparable.

    Without this, ``not_equals: Active`` on a list would pass because a list is never the
    text ``Active``; the comparison is undecided instead (an ``error``, never a pass).
    """
    if _scalar(value) != _scalar(operand):
        shape = "a single value" if _scalar(value) else f"a {type(value).__name__}"
        raise NotComparable(f"{name} compares a single value; the value is {shape}")


def _equals(value: Any, operand: Any) -> bool:
    _same_shape(value, operand, "equals")
    return _equal(value, operand)


def _not_equals(value: Any, operand: Any) -> bool:
    _same_shape(value, operand, "not_equals")
    return not _equal(value, operand)


def _member(value: Any, operand: Any, name: str) -> bool:
    """Whether a single value is one of the operand's items (``in`` / ``not_in``)."""
    if not _scalar(value):
        raise NotComparable(f"{name} takes a single value; the value is a {type(value).__name__}")
    if not isinstance(operand, list):
        raise NotComparable(f"{name} needs a list operand, not {operand!r}")
    return any(_equal(value, item) for item in operand)


def _equal(value: Any, operand: Any) -> bool:
    """Equality that lets SQS-style numeric strings equal numbers, and nothing looser."""
    if type(value) is str and type(operand) is str:  # the common case, decided at once
        return value == operand
    if isinstance(value, bool) or isinstance(operand, bool):
        return value is operand or (value == operand and type(value) is type(operand))
    if isinstance(operand, (int, float)) and isinstance(value, str):
        try:
            return float(value) == float(operand)
        except ValueError:
            return False
    return bool(value == operand)


def _contains(value: Any, operand: Any, _now: datetime) -> bool:
    if isinstance(value, str):
        return isinstance(operand, str) and operand in value
    if isinstance(value, list):
        return any(_equal(item, operand) for item in value)
    if isinstance(value, dict):
        return operand in value
    raise NotComparable(f"{type(value).__name__} has no members")


def _matches(value: Any, operand: Any, _now: datetime) -> bool:
    if not isinstance(value, str):
        raise NotComparable(f"{value!r} is not text")
    try:
        return compile_pattern(operand).search(value) is not None
    except PatternTimeout as timeout:  # a pattern that backtracks without end: undecided
        raise NotComparable(timeout.problems[0]) from None
    except PatternError as error:
        raise NotComparable(f"invalid regular expression {operand!r}: {error}") from None


def _is_empty(value: Any) -> bool:
    if value is None or isinstance(value, (str, list, dict)):
        return value is None or len(value) == 0
    # A number or a boolean is neither empty nor full: `not_empty` must not pass on it.
    raise NotComparable(f"{value!r} is not text, a list or a mapping")


def _age_days(value: Any, now: datetime) -> float:
    stamp = parse_timestamp(value)
    if stamp is None:
        raise NotComparable(f"{value!r} is not a timestamp")
    age = days_between(stamp, now)
    if age < 0:  # a time after "now" has no age: "newer than 7 days" must not pass on it
        raise NotComparable(f"{value!r} is after the evaluation time {now.isoformat()}")
    return age


_NUMBER = {"type": ["number", "string"], "description": "a number, or ${parameter}"}
_DAYS = {"type": ["number", "string"], "description": "days, or ${parameter}"}
_ANY = {"description": "any JSON value, a ${parameter}, or {related: NAME, path: P}"}
_LIST = {"type": ["array", "string"], "description": "a list, or a ${parameter} holding one"}

OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in [
        Operator("equals", "==", "value equals the operand", _ANY,
                 lambda v, o, _n: _equals(v, o)),
        Operator("not_equals", "!=", "value differs from the operand", _ANY,
                 lambda v, o, _n: _not_equals(v, o)),
        Operator("lt", "<", "number less than the operand", _NUMBER, _ordered(lambda a, b: a < b)),
        Operator("le", "<=", "number at most the operand", _NUMBER, _ordered(lambda a, b: a <= b)),
        Operator("gt", ">", "number greater than the operand", _NUMBER,
                 _ordered(lambda a, b: a > b)),
        Operator("ge", ">=", "number at least the operand", _NUMBER, _ordered(lambda a, b: a >= b)),
        Operator("in", "in", "value is one of the operand's items", _LIST,
                 lambda v, o, _n: _member(v, o, "in")),
        Operator("not_in", "not in", "value is none of the operand's items", _LIST,
                 lambda v, o, _n: not _member(v, o, "not_in")),
        Operator("contains", "contains", "text contains the operand, or a list holds it, "
                 "or a mapping has it as a key", _ANY, _contains),
        Operator("matches", "=~", "text matches the regular expression (Python re.search)",
                 {"type": "string", "format": "regex"}, _matches),
        Operator("exists", "exists", "the path is present and not null (operand true), or "
                 "is absent or null (operand false)", {"type": "boolean"},
                 lambda v, o, _n: (v is not None) is bool(o), decides_absence=True),
        Operator("absent", "absent", "the path is absent or null (operand true)",
                 {"type": "boolean"}, lambda v, o, _n: (v is None) is bool(o),
                 decides_absence=True),
        Operator("empty", "empty", "value is null, an empty text, list or mapping (operand true)",
                 {"type": "boolean"}, lambda v, o, _n: _is_empty(v) is bool(o)),
        Operator("not_empty", "not empty", "value has content (operand true)",
                 {"type": "boolean"}, lambda v, o, _n: (not _is_empty(v)) is bool(o)),
        Operator("older_than", "older than", "timestamp is more than N days before now", _DAYS,
                 lambda v, o, n: _age_days(v, n) > _number(o)),
        Operator("newer_than", "newer than", "timestamp is at most N days before now", _DAYS,
                 lambda v, o, n: _age_days(v, n) <= _number(o)),
    ]
}  # fmt: skip

#: List quantifiers: the operand is a condition applied to each item of the list at the path.
QUANTIFIERS: dict[str, str] = {
    "all_items": "every item of the list satisfies the condition (true for an empty list)",
    "any_item": "at least one item of the list satisfies the condition",
}


#: Operators whose constant operand must be a number (or a ${parameter} holding one).
NUMERIC_OPERANDS = frozenset({"lt", "le", "gt", "ge", "older_than", "newer_than"})


def operand_problem(name: str, operand: Any) -> str | None:
    """Why a rule's constant operand (parameters substituted) cannot work, or ``None``.

    Checked when the policy loads, so ``lt: "abc"`` is the policy's error at its position,
    not a run-time ``error`` that seems to blame the data.
    """
    if isinstance(operand, dict) and "related" in operand:
        return None  # one value per related resource, read at run time
    if name in NUMERIC_OPERANDS:
        try:
            number = _number(operand)
        except NotComparable:
            return f"{name} needs a number (or a ${{parameter}} holding one), not {operand!r}"
        if not math.isfinite(number):
            return f"{name} needs a finite number, not {operand!r}"
    elif name in ("in", "not_in") and not isinstance(operand, list):
        return f"{name} needs a list (or a ${{parameter}} holding one), not {operand!r}"
    elif name == "matches":
        if not isinstance(operand, str):
            return f"invalid regular expression: {operand!r} is not text"
        try:
            compile_pattern(operand)
        except PatternError as error:
            return f"invalid regular expression: {error}"
    return None
