"""Compiles expectations into closures, once per rule, for fast evaluation.

Three-valued logic throughout: a condition is True, False or UNDECIDED. UNDECIDED (data
absent with no ``if_absent``, absent because a call failed, a value that cannot be compared)
never becomes a pass: it turns the result into ``error``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from runbook_guard.engine.access import ABSENT_UNSET, CompileError, compile_at
from runbook_guard.engine.context import UNDECIDED, EvalContext
from runbook_guard.engine.operators import OPERATORS, QUANTIFIERS, NotComparable, Operator
from runbook_guard.engine.paths import MISSING

Condition = Callable[[EvalContext], Any]


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
    path = spec.get("label") or spec.get("path", "")
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


class RelatedMissing(Exception):
    """The related resource an operand refers to does not exist: the condition is unmet."""

    def __init__(self, alias: str) -> None:
        super().__init__(alias)
        self.alias = alias


def _operand_getter(at: tuple[str | int, ...], operand: Any) -> Callable[[EvalContext], Any]:
    """A constant, or a field of a related resource (``{related: dlq, path: id}``)."""
    if isinstance(operand, dict) and "related" in operand:
        if set(operand) - {"related", "path"}:
            raise CompileError(at, "a related operand takes only 'related' and 'path'")
        alias = str(operand["related"])
        get = compile_at(at, str(operand.get("path", "id"))).get

        def related(ctx: EvalContext) -> Any:
            target = ctx.related.get(alias)
            if target is None:
                # Never None: a comparison with a missing resource must not meet an absent
                # value (if_absent: null) and call it equal.
                raise RelatedMissing(alias)
            found = get(target)
            ctx.evidence[f"related.{alias}"] = target.get("id")
            return None if found is MISSING else found

        return related
    return lambda _ctx: operand


def _leaf(at: tuple[str | int, ...], spec: dict[str, Any], op: Operator) -> Condition:
    path = spec.get("path")
    reader = compile_at(at, path)
    get = reader.get
    if_absent = spec.get("if_absent", ABSENT_UNSET)
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
    key = str(spec.get("label") or path)
    substitutes = if_absent is not ABSENT_UNSET and not op.decides_absence

    def leaf(ctx: EvalContext) -> Any:
        value = get(ctx.data)
        if value is MISSING or not reader.simple:  # the rare paths, kept out of line
            absent = value is MISSING
            value = reader.read(ctx, if_absent, op.decides_absence)
            if value is UNDECIDED:
                return UNDECIDED
            if absent and substitutes:  # say so: AWS did not return this value
                ctx.evidence[key] = f"not returned (taken as {_short(value)})"
        ctx.evidence.setdefault(key, value)
        try:
            ok = test(value, operand_of(ctx) if dynamic else constant, ctx.now)
        except NotComparable as error:
            ctx.causes.append(f"{path}: {error}")
            return UNDECIDED
        except RelatedMissing as missing:
            ctx.failures.append(message or f"the related {missing.alias} does not exist")
            return False
        if not ok:
            ctx.failures.append(message or f"{path} is {_short(value)}; expected {words}")
        return ok

    return leaf


def _quantifier(at: tuple[str | int, ...], spec: dict[str, Any], name: str) -> Condition:
    path = spec.get("path")
    reader = compile_at(at, path)
    inner = compile_condition((*at, name), spec[name])
    if_absent = spec.get("if_absent", ABSENT_UNSET)
    need_all = name == "all_items"
    words = describe(spec)
    key = str(spec.get("label") or path)
    message = spec.get("message")

    def quantified(ctx: EvalContext) -> Any:
        items = reader.read(ctx, if_absent, False)
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
        if need_all:  # what a reader needs is the items that break the rule
            broken = sum(1 for v in verdicts if v is False)
            ctx.evidence[f"{key} (items failing)"] = f"{broken} of {len(items)}"
        else:
            ctx.evidence[f"{key} (items matching)"] = f"{matched} of {len(items)}"
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
