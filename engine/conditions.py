"""Compiles expectations and values into closures, once per rule, for fast evaluation.

Three-valued logic throughout: a condition is True, False or UNDECIDED. UNDECIDED (data
absent with no ``if_absent``, absent because a call failed, a value that cannot be compared)
never becomes a pass: it turns the result into ``error``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from runbook_guard.engine.context import NO_DATA, UNDECIDED, EvalContext
from runbook_guard.engine.operators import OPERATORS, QUANTIFIERS, NotComparable, Operator
from runbook_guard.engine.paths import MISSING, PathError, compile_path
from runbook_guard.engine.timeutil import days_between, parse_timestamp

Condition = Callable[[EvalContext], Any]
Value = Callable[[EvalContext], Any]
_ABSENT_OK = object()


class CompileError(ValueError):
    """A condition or value that cannot be compiled; ``at`` locates it inside the rule."""

    def __init__(self, at: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.at = at


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


def describe(spec: Any) -> str:
    """The condition in words, for the `expected` column of every report."""
    if not isinstance(spec, dict):
        return str(spec)
    if "all" in spec:
        return " and ".join(f"({describe(s)})" for s in spec["all"])
    if "any" in spec:
        return " or ".join(f"({describe(s)})" for s in spec["any"])
    if "not" in spec:
        return f"not ({describe(spec['not'])})"
    path = spec.get("path", "")
    for name in QUANTIFIERS:
        if name in spec:
            return f"{name.replace('_', ' ')} of {path}: {describe(spec[name])}"
    for op in OPERATORS.values():
        if op.name in spec:
            operand = spec[op.name]
            if op.decides_absence or op.name in ("empty", "not_empty"):
                return f"{path} {op.symbol}" if operand else f"not {path} {op.symbol}"
            if isinstance(operand, dict) and "related" in operand:
                operand = f"{operand['related']}.{operand.get('path', 'id')}"
            suffix = " days" if op.name in ("older_than", "newer_than") else ""
            return f"{path} {op.symbol} {_short(operand)}{suffix}"
    return str(spec)


def _operand_getter(at: tuple[str | int, ...], operand: Any) -> Callable[[EvalContext], Any]:
    """A constant, or a field of a related resource (``{related: dlq, path: id}``)."""
    if isinstance(operand, dict) and "related" in operand:
        if set(operand) - {"related", "path"}:
            raise CompileError(at, "a related operand takes only 'related' and 'path'")
        alias = str(operand["related"])
        get, _ = _path(at, str(operand.get("path", "id")))

        def related(ctx: EvalContext) -> Any:
            target = ctx.related.get(alias)
            if target is None:
                ctx.evidence[f"related.{alias}"] = None
                return None
            found = get(target)
            ctx.evidence[f"related.{alias}"] = target.get("id")
            return None if found is MISSING else found

        return related
    return lambda _ctx: operand


def _path(
    at: tuple[str | int, ...], expression: Any
) -> tuple[Callable[[Any], Any], frozenset[str]]:
    if not isinstance(expression, str) or not expression:
        raise CompileError((*at, "path"), "path must be a non-empty JMESPath expression")
    try:
        return compile_path(expression)
    except PathError as error:
        raise CompileError((*at, "path"), str(error)) from None


def _read(
    ctx: EvalContext,
    get: Callable[[Any], Any],
    roots: frozenset[str],
    path: str,
    if_absent: Any,
    absence_is_value: bool,
) -> Any:
    """The value at a path, or UNDECIDED with the cause recorded."""  # fmt: skip
    value = get(ctx.data)
    if value is not MISSING:
        return value
    blocked = ctx.blocked(roots)
    if blocked:
        ctx.causes.extend(blocked)
        return UNDECIDED
    if absence_is_value:
        return None
    if if_absent is not _ABSENT_OK:
        return if_absent
    ctx.causes.append(f"{path} is absent from the resource's data")
    return UNDECIDED


def _leaf(at: tuple[str | int, ...], spec: dict[str, Any], op: Operator) -> Condition:
    path = spec.get("path")
    get, roots = _path(at, path)
    if_absent = spec.get("if_absent", _ABSENT_OK)
    operand_of = _operand_getter((*at, op.name), spec[op.name])
    dynamic = isinstance(spec[op.name], dict) and "related" in spec[op.name]
    constant = spec[op.name]
    test = op.test
    if op.name == "matches":
        try:
            re.compile(spec[op.name])
        except (re.error, TypeError) as error:
            raise CompileError((*at, op.name), f"invalid regular expression: {error}") from None
    message = spec.get("message")
    words = describe(spec)

    def leaf(ctx: EvalContext) -> Any:
        value = get(ctx.data)
        if value is MISSING:  # the rare path, kept out of line
            value = _read(ctx, get, roots, str(path), if_absent, op.decides_absence)
            if value is UNDECIDED:
                return UNDECIDED
        ctx.evidence[str(path)] = value
        try:
            ok = test(value, operand_of(ctx) if dynamic else constant, ctx.now)
        except NotComparable as error:
            ctx.causes.append(f"{path}: {error}")
            return UNDECIDED
        if not ok:
            ctx.failures.append(message or f"{path} is {_short(value)}; expected {words}")
        return ok

    return leaf


def _quantifier(at: tuple[str | int, ...], spec: dict[str, Any], name: str) -> Condition:
    path = spec.get("path")
    get, roots = _path(at, path)
    inner = compile_condition((*at, name), spec[name])
    if_absent = spec.get("if_absent", _ABSENT_OK)
    need_all = name == "all_items"
    words = describe(spec)
    message = spec.get("message")

    def quantified(ctx: EvalContext) -> Any:
        items = _read(ctx, get, roots, str(path), if_absent, False)
        if items is UNDECIDED:
            return UNDECIDED
        if not isinstance(items, list):
            ctx.causes.append(f"{path} is not a list")
            return UNDECIDED
        verdicts = []
        for item in items:
            child = ctx.child(item)
            verdicts.append(inner(child))
            ctx.causes.extend(child.causes)
        matched = sum(1 for v in verdicts if v is True)
        ctx.evidence[f"{path} (items matching)"] = f"{matched} of {len(items)}"
        if need_all:
            result: Any = (
                False if False in verdicts else UNDECIDED if UNDECIDED in verdicts else True
            )
        else:
            result = True if True in verdicts else UNDECIDED if UNDECIDED in verdicts else False
        if result is False:
            ctx.failures.append(
                message or f"{matched} of {len(items)} items of {path} match; expected {words}"
            )
        return result

    return quantified


def compile_condition(at: tuple[str | int, ...], spec: Any) -> Condition:
    """Compile one condition mapping (already parameter-substituted)."""
    if not isinstance(spec, dict):
        raise CompileError(at, "a condition must be a mapping")
    combinators = [k for k in ("all", "any", "not") if k in spec]
    operators = [k for k in spec if k in OPERATORS or k in QUANTIFIERS]
    if combinators:
        if len(spec) != 1:
            raise CompileError(at, f"'{combinators[0]}' must stand alone in its mapping")
        key = combinators[0]
        if key == "not":
            inner = compile_condition((*at, "not"), spec["not"])
            return lambda ctx: _negate(ctx, inner, spec["not"])
        parts = [compile_condition((*at, key, i), s) for i, s in enumerate(spec[key])]
        return _all(parts) if key == "all" else _any(parts)
    if "path" not in spec:
        raise CompileError(at, "a condition needs 'path' with one operator, or all/any/not")
    if len(operators) != 1:
        found = ", ".join(operators) or "none"
        raise CompileError(at, f"a condition needs exactly one operator (found {found})")
    name = operators[0]
    if name in QUANTIFIERS:
        return _quantifier(at, spec, name)
    return _leaf(at, spec, OPERATORS[name])


def _all(parts: list[Condition]) -> Condition:
    def every(ctx: EvalContext) -> Any:
        verdicts = [part(ctx) for part in parts]  # no short-circuit: evidence for all
        return False if False in verdicts else UNDECIDED if UNDECIDED in verdicts else True

    return every


def _any(parts: list[Condition]) -> Condition:
    def some(ctx: EvalContext) -> Any:
        verdicts = [part(ctx) for part in parts]
        if True in verdicts:
            return True
        return UNDECIDED if UNDECIDED in verdicts else False

    return some


def _negate(ctx: EvalContext, inner: Condition, spec: Any) -> Any:
    before = len(ctx.failures)
    verdict = inner(ctx)
    del ctx.failures[before:]
    if verdict is UNDECIDED:
        return UNDECIDED
    if verdict:
        ctx.failures.append(f"expected {describe({'not': spec})}")
    return not verdict


# ---- values ------------------------------------------------------------------------------

VALUE_SOURCES = ("path", "metric", "logs", "ratio", "days_since", "days_until", "lookup", "const")


def compile_value(
    at: tuple[str | int, ...],
    spec: Any,
    metric_keys: Mapping[str, str],
    log_keys: Mapping[str, str],
    tables: Mapping[str, Mapping[str, Any]],
) -> Value:
    """Compile a value definition to a function giving a number, text, NO_DATA or UNDECIDED."""
    if not isinstance(spec, dict):
        raise CompileError(at, "a value must be a mapping")
    sources = [k for k in VALUE_SOURCES if k in spec]
    if len(sources) != 1:
        raise CompileError(at, f"a value needs exactly one of {', '.join(VALUE_SOURCES)}")
    source = sources[0]
    scale = spec.get("scale", 1)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise CompileError((*at, "scale"), "scale must be a number")

    def sub(key: str) -> Value:
        return compile_value((*at, source, key), spec[source][key], metric_keys, log_keys, tables)

    base: Value
    if source == "path":
        base = _path_value(at, spec)
    elif source in ("metric", "logs"):
        base = _stored_value(at, spec, source, metric_keys if source == "metric" else log_keys)
    elif source == "ratio":
        base = _ratio(sub("numerator"), sub("denominator"))
    elif source in ("days_since", "days_until"):
        inner = compile_value((*at, source), spec[source], metric_keys, log_keys, tables)
        base = _days(inner, since=source == "days_since")
    elif source == "lookup":
        base = _lookup(at, spec["lookup"], sub("key"), tables)
    else:
        constant = spec["const"]

        def base(_ctx: EvalContext) -> Any:
            return constant

    if scale == 1:
        return base
    return lambda ctx: _scaled(base(ctx), float(scale))


def _scaled(value: Any, factor: float) -> Any:
    if value is UNDECIDED or value is NO_DATA or not isinstance(value, (int, float)):
        return value
    return value * factor


def _path_value(at: tuple[str | int, ...], spec: dict[str, Any]) -> Value:
    path = str(spec["path"])
    get, roots = _path(at, path)
    if_absent = spec.get("if_absent", _ABSENT_OK)

    def read(ctx: EvalContext) -> Any:
        value = _read(ctx, get, roots, path, if_absent, False)
        if value is not UNDECIDED:
            ctx.evidence[path] = value
        return value

    return read


def _stored_value(
    at: tuple[str | int, ...], spec: dict[str, Any], source: str, keys: Mapping[str, str]
) -> Value:
    name = spec[source]
    if name not in keys:
        declared = ", ".join(sorted(keys)) or "none"
        raise CompileError(
            (*at, source), f"{source} '{name}' is not declared (declared: {declared})"
        )
    key = keys[name]
    field = "metrics" if source == "metric" else "logs"

    def read(ctx: EvalContext) -> Any:
        stored = ctx.resource.get(field, {})
        if key not in stored:
            blocked = ctx.blocked(frozenset({field, f"{field}.{key}"}))
            ctx.causes.extend(blocked or [f"{source} '{name}' ({key}) was not collected"])
            return UNDECIDED
        value = stored[key]
        ctx.evidence[f"{source}.{name}"] = "no data" if value is None else value
        return NO_DATA if value is None else value

    return read


def _ratio(numerator: Value, denominator: Value) -> Value:
    def ratio(ctx: EvalContext) -> Any:
        top, bottom = numerator(ctx), denominator(ctx)
        if UNDECIDED in (top, bottom):
            return UNDECIDED
        if NO_DATA in (top, bottom):
            return NO_DATA
        try:
            top_number, bottom_number = float(top), float(bottom)
        except (TypeError, ValueError):
            ctx.causes.append(f"ratio of {top!r} and {bottom!r} is not numeric")
            return UNDECIDED
        if bottom_number == 0:
            ctx.evidence["ratio"] = "no data (denominator is 0)"
            return NO_DATA
        return top_number / bottom_number

    return ratio


def _days(inner: Value, since: bool) -> Value:
    def days(ctx: EvalContext) -> Any:
        value = inner(ctx)
        if value is UNDECIDED or value is NO_DATA:
            return value
        stamp = parse_timestamp(value)
        if stamp is None:
            ctx.causes.append(f"{value!r} is not a timestamp")
            return UNDECIDED
        return days_between(stamp, ctx.now) if since else days_between(ctx.now, stamp)

    return days


def _lookup(
    at: tuple[str | int, ...],
    spec: dict[str, Any],
    key_of: Value,
    tables: Mapping[str, Mapping[str, Any]],
) -> Value:
    table_name = str(spec["table"])
    if table_name not in tables:
        raise CompileError((*at, "lookup", "table"), f"no data table named {table_name!r}")
    table, field = tables[table_name], str(spec["field"])

    def lookup(ctx: EvalContext) -> Any:
        key = key_of(ctx)
        if key is UNDECIDED or key is NO_DATA:
            return key
        entry = table.get(str(key))
        found = entry.get(field) if isinstance(entry, dict) else None
        ctx.evidence[f"{table_name}[{key}].{field}"] = found if found is not None else "not listed"
        return NO_DATA if found is None else found

    return lookup
