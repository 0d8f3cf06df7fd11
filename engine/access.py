"""Reading a rule's paths out of a resource, shared by conditions and values.

One place decides what an absent field means: a collection error that could explain it makes
the answer UNDECIDED (an ``error`` result), an operator or ``if_absent`` may give it a value,
and otherwise it is UNDECIDED too. Nothing here ever turns absence into a pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runbook_guard.engine.context import UNDECIDED, EvalContext
from runbook_guard.engine.paths import MISSING, PathError, compile_path

#: The default of ``if_absent``: distinct from every value a rule can write, null included.
ABSENT_UNSET: Any = object()


class CompileError(ValueError):
    """A condition or value that cannot be compiled; ``at`` locates it inside the rule."""

    def __init__(self, at: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.at = at


def compile_at(
    at: tuple[str | int, ...], expression: Any
) -> tuple[Callable[[Any], Any], frozenset[str]]:
    if not isinstance(expression, str) or not expression:
        raise CompileError((*at, "path"), "path must be a non-empty JMESPath expression")
    try:
        return compile_path(expression)
    except PathError as error:
        raise CompileError((*at, "path"), str(error)) from None


def read_path(
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
    if if_absent is not ABSENT_UNSET:
        return if_absent
    ctx.causes.append(f"{path} is absent from the resource's data")
    return UNDECIDED
