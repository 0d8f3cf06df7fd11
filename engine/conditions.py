"""Compiles expectations into closures, once per rule, for fast evaluation.

Three-valued logic throughout: a condition is True, False or UNDECIDED. UNDECIDED (data
absent with no ``if_absent``, absent because a call failed, a value that cannot be compared)
never becomes a pass: it turns the result into ``error``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from runbook_guard.engine.access import ABSENT_UNSET, Attempts, CompileError, compile_at
from runbook_guard.engine.context import UNDECIDED, EvalContext
from runbook_guard.engine.operators import (
    OPERATORS,
    QUANTIFIERS,
    NotComparable,
    Operator,
    operand_problem,
)
from runbook_guard.engine.paths import MISSING
from runbook_guard.engine.reads import top_level_keys

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
    path = (
        spec.get("label")
        or spec.get("path")
        or (f"related {spec['related']}" if "related" in spec else "")
    )
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
    """The related set an operand refers to is empty: nothing to compare with (undecided)."""

    def __init__(self, alias: str) -> None:
        super().__init__(alias)
        self.alias = alias


_ENVELOPE_FIELDS = frozenset({"id", "name", "region", "account", "type"})


def envelope_roots(at: tuple[str | int, ...], path: str) -> frozenset[str]:
    """The data keys a path into a related resource's envelope reads (none for id, name...).

    Only ``id``, ``name``, ``region``, ``account``, ``type`` or ``data.<JMESPath>``: a richer
    expression over the envelope would hide which data keys it reads, and with them which
    failed calls could explain an absence.
    """
    if path in _ENVELOPE_FIELDS:
        return frozenset()
    if not path.startswith("data.") or len(path) <= len("data."):
        raise CompileError(at, "a related path is id, name, region, account or data.<path>")
    return top_level_keys(path[len("data.") :])


def _operand_getter(at: tuple[str | int, ...], operand: Any) -> Callable[[EvalContext], Any]:
    """A constant, or a field of the related resources (``{related: dlq, path: id}``).

    A related operand gives one value per related resource; the comparison must hold against
    every one of them ("the visibility timeout is at least each consumer's timeout").
    """
    if isinstance(operand, dict) and "related" in operand:
        if set(operand) - {"related", "path"}:
            raise CompileError(at, "a related operand takes only 'related' and 'path'")
        alias = str(operand["related"])
        envelope_path = str(operand.get("path", "id"))
        get = compile_at(at, envelope_path).get
        roots = envelope_roots((*at, "path"), envelope_path)

        def related(ctx: EvalContext) -> list[Any]:
            targets = ctx.related.get(alias) or []
            if not targets:
                # Nothing to compare with is undecided, never a comparison with None (which
                # an absent value would meet) and never a False that a `not` could flip.
                raise RelatedMissing(alias)
            values = []
            for target in targets:
                found = get(target)
                data = target.get("data") or {}
                # A default (``data.X || `3```) must not stand in for a failed call either.
                absent = frozenset(k for k in roots if k not in data)
                blocked = ctx.blocked_of(target)(absent) if absent else []
                if blocked or found is MISSING:
                    why = "; ".join(blocked) or f"{envelope_path} is absent from its data"
                    raise NotComparable(f"related {alias} {target.get('name')}: {why}")
                values.append(found)
            return values

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
    problem = operand_problem(op.name, constant)  # a bad regex, `lt: "abc"`, `in: "x"`
    if problem is not None:
        raise CompileError((*at, op.name), problem)
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
            if dynamic:
                operands = operand_of(ctx)
                ok = all(test(value, operand, ctx.now) for operand in operands)
                ctx.evidence[f"{words} (against)"] = operands if len(operands) > 1 else operands[0]
            else:
                ok = test(value, constant, ctx.now)
        except NotComparable as error:
            ctx.causes.append(f"{path}: {error}")
            return UNDECIDED
        except RelatedMissing as missing:
            ctx.causes.append(
                f"no {missing.alias} to compare {path} with (the rule's related "
                f"'{missing.alias}' found none; when_missing says what that means)"
            )
            return UNDECIDED
        if not ok:
            ctx.failures.append(message or f"{path} is {_short(value)}; expected {words}")
        return ok

    return leaf


def _quantifier(at: tuple[str | int, ...], spec: dict[str, Any], name: str) -> Condition:
    if "related" in spec:
        return _over_related(at, spec, name)
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
        result = quantify(verdicts, need_all)
        if result is False:
            ctx.failures.append(
                message or f"{matched} of {len(items)} items of {path} match; expected {words}"
            )
        return result

    return quantified


def quantify(verdicts: list[Any], need_all: bool) -> Any:
    """All or any of three-valued verdicts: one False breaks "all", one True makes "any";
    otherwise an undecided item leaves the whole undecided (never a pass)."""
    if need_all:
        return False if False in verdicts else UNDECIDED if UNDECIDED in verdicts else True
    return True if True in verdicts else UNDECIDED if UNDECIDED in verdicts else False


def _over_related(at: tuple[str | int, ...], spec: dict[str, Any], name: str) -> Condition:
    """``{related: alarms, any_item: {...}}``: a condition on each related resource's data.

    Each target is read with its own collection errors, so an alarm whose actions a failed call
    left absent makes the answer undecided, never a match or a miss.
    """
    if "path" in spec or "if_absent" in spec:
        raise CompileError(at, "a condition on 'related' resources takes no path or if_absent")
    alias = str(spec["related"])
    inner = compile_condition((*at, name), spec[name])
    need_all = name == "all_items"
    words = describe(spec)
    message = spec.get("message")

    def quantified(ctx: EvalContext) -> Any:
        targets = ctx.related.get(alias) or []
        verdicts = []
        for target in targets:
            child = ctx.of_target(target)
            verdicts.append(inner(child))
            ctx.causes.extend(f"{target['name']}: {cause}" for cause in child.causes)
        matched = [t["name"] for t, v in zip(targets, verdicts, strict=True) if v is True]
        ctx.evidence[f"{alias} (matching)"] = f"{len(matched)} of {len(targets)}" + (
            f": {', '.join(matched[:5])}" if matched else ""
        )
        result = quantify(verdicts, need_all)
        if result is False:
            ctx.failures.append(
                message or f"{len(matched)} of {len(targets)} {alias} match; expected {words}"
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
        attempts = Attempts()  # every broken branch at once, not the first
        compiled = [
            attempts.run(partial(compile_condition, (*at, key, i), s))
            for i, s in enumerate(spec[key])
        ]
        attempts.check()
        parts = [part for part in compiled if part is not None]
        return _all(parts) if key == "all" else _any(parts)
    if "related" in spec and len(operators) == 1 and operators[0] in QUANTIFIERS:
        return _over_related(at, spec, operators[0])
    if "related" in spec:
        raise CompileError(at, "a condition on 'related' resources takes all_items or any_item")
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
