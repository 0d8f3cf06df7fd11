"""Reading a rule's paths out of a resource, shared by conditions and values.

One place decides what an absent field means: a collection error that could explain it makes
the answer UNDECIDED (an ``error`` result), an operator or ``if_absent`` may give it a value,
and otherwise it is UNDECIDED too. Nothing here ever turns absence into a pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from runbook_guard.engine.context import UNDECIDED, EvalContext, nothing_blocked
from runbook_guard.engine.paths import MISSING, PathError, compile_path, is_simple

T = TypeVar("T")

#: The default of ``if_absent``: distinct from every value a rule can write, null included.
ABSENT_UNSET: Any = object()
#: Said with every "absent" error: how the rule's author makes absence decide instead.
ABSENT_HINT = (
    " (to decide on absence, give the condition 'if_absent: VALUE', or test the path with"
    " 'exists: true' / 'exists: false')"
)


class CompileError(ValueError):
    """A condition or value that cannot be compiled; ``at`` locates it inside the rule."""

    def __init__(self, at: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.at = at


class CompileErrors(CompileError):
    """Several independent problems of one rule, reported together (one edit-run cycle)."""

    def __init__(self, errors: Sequence[CompileError]) -> None:
        flat = [single for error in errors for single in each_error(error)]
        super().__init__(flat[0].at, str(flat[0]))
        self.errors = flat


def each_error(error: CompileError) -> list[CompileError]:
    """The single problems an error stands for."""
    return list(error.errors) if isinstance(error, CompileErrors) else [error]


class Attempts:
    """Runs a rule's independent compile steps, keeping every problem instead of the first."""

    def __init__(self) -> None:
        self.errors: list[CompileError] = []

    def run(self, step: Callable[[], T]) -> T | None:
        try:
            return step()
        except CompileError as error:
            self.errors.append(error)
            return None

    def check(self) -> None:
        """Raise everything kept so far, if anything was."""
        if self.errors:
            raise CompileErrors(self.errors)


@dataclass(frozen=True)
class PathReader:
    """One compiled path and what an absence along it means."""

    path: str
    get: Callable[[Any], Any]
    roots: frozenset[str]
    #: A plain dotted path: absence shows as MISSING. Richer expressions (``A || B``,
    #: functions) can turn an absent key into a value, so their roots are checked for
    #: collection errors before the value is trusted.
    simple: bool

    def read(self, ctx: EvalContext, if_absent: Any, absence_is_value: bool) -> Any:
        """The value at the path, or UNDECIDED with the cause recorded."""
        value = self.get(ctx.data)
        if value is not MISSING:
            if self.simple or ctx.blocked is nothing_blocked or not isinstance(ctx.data, dict):
                return value
            absent = frozenset(root for root in self.roots if root not in ctx.data)
            blocked = ctx.blocked(absent) if absent else []
            if not blocked:
                return value
            ctx.causes.extend(blocked)
            return UNDECIDED
        blocked = ctx.blocked(self.roots)
        if blocked:
            ctx.causes.extend(blocked)
            return UNDECIDED
        if absence_is_value:
            return None
        if if_absent is not ABSENT_UNSET:
            return if_absent
        ctx.causes.append(f"{self.path} is absent from the resource's data{ABSENT_HINT}")
        return UNDECIDED


def compile_at(at: tuple[str | int, ...], expression: Any) -> PathReader:
    """Compile a rule's path, locating a bad expression inside the rule."""
    if not isinstance(expression, str) or not expression:
        raise CompileError((*at, "path"), "path must be a non-empty JMESPath expression")
    try:
        get, roots = compile_path(expression)
    except PathError as error:
        raise CompileError((*at, "path"), str(error)) from None
    return PathReader(expression, get, roots, is_simple(expression))
