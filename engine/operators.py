"""The comparison operators: one table drives evaluation, the policy schema and the docs.

Each operator compares the value found at a rule's path with the operand the rule gives.
Absence is decided before an operator runs (see ``conditions``); operators only ever see a
present value, which may be ``null``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
    return re.search(operand, value) is not None


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and len(value) == 0)


def _age_days(value: Any, now: datetime) -> float:
    stamp = parse_timestamp(value)
    if stamp is None:
        raise NotComparable(f"{value!r} is not a timestamp")
    return days_between(stamp, now)


_NUMBER = {"type": ["number", "string"], "description": "a number, or ${parameter}"}
_DAYS = {"type": ["number", "string"], "description": "days, or ${parameter}"}
_ANY = {"description": "any JSON value, a ${parameter}, or {related: NAME, path: P}"}
_LIST = {"type": ["array", "string"], "description": "a list, or a ${parameter} holding one"}

OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in [
        Operator("equals", "==", "value equals the operand", _ANY,
                 lambda v, o, _n: _equal(v, o)),
        Operator("not_equals", "!=", "value differs from the operand", _ANY,
                 lambda v, o, _n: not _equal(v, o)),
        Operator("lt", "<", "number less than the operand", _NUMBER, _ordered(lambda a, b: a < b)),
        Operator("le", "<=", "number at most the operand", _NUMBER, _ordered(lambda a, b: a <= b)),
        Operator("gt", ">", "number greater than the operand", _NUMBER,
                 _ordered(lambda a, b: a > b)),
        Operator("ge", ">=", "number at least the operand", _NUMBER, _ordered(lambda a, b: a >= b)),
        Operator("in", "in", "value is one of the operand's items", _LIST,
                 lambda v, o, _n: any(_equal(v, item) for item in o)),
        Operator("not_in", "not in", "value is none of the operand's items", _LIST,
                 lambda v, o, _n: not any(_equal(v, item) for item in o)),
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
