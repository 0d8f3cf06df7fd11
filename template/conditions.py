"""The template's ``Conditions``, decided with three values: true, false, or undecidable.

A condition that reads a value the template does not determine (a parameter with no value, an
SSM-backed parameter) is neither true nor false: ``None``. ``Fn::And``/``Fn::Or``/``Fn::Not``
follow Kleene's logic, so ``Fn::Or [undecidable, true]`` is still true and only what truly
depends on the unknown stays unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from runbook_guard.template.decode import Marks, fail
from runbook_guard.template.model import Position, Unresolved

#: Resolves an operand of ``Fn::Equals`` (a Ref, FindInMap, Select, ...) to a plain value.
Resolve = Callable[[Any, Position], Any]


class Conditions:
    """Evaluates named conditions once each; a cycle or an unknown name is a template error."""

    def __init__(self, section: Mapping[str, Any], resolve: Resolve, marks: Marks) -> None:
        self._section = {str(name): (name, body) for name, body in section.items()}
        self._resolve = resolve
        self._marks = marks
        self._decided: dict[str, bool | None] = {}
        self._deciding: list[str] = []

    def __contains__(self, name: object) -> bool:
        return name in self._section

    def decide(self, name: Any, at: Position) -> bool | None:
        """True, False, or None when it reads a value the template does not determine."""
        if not isinstance(name, str):
            fail(
                self._marks.file,
                self._marks.at(name, at),
                "Condition",
                "a condition name must be a string",
            )
        if name in self._decided:
            return self._decided[name]
        if name not in self._section:
            fail(
                self._marks.file,
                self._marks.at(name, at),
                "Condition",
                f"no condition named {name!r}",
            )
        if name in self._deciding:
            chain = " -> ".join([*self._deciding, name])
            fail(
                self._marks.file,
                self._marks.at(name, at),
                "Conditions",
                f"circular conditions: {chain}",
            )
        key, body = self._section[name]
        self._deciding.append(name)
        try:
            decided = self._test(body, self._marks.at(key, at), f"Conditions.{name}")
        finally:
            self._deciding.pop()
        self._decided[name] = decided
        return decided

    def _test(self, node: Any, at: Position, field: str) -> bool | None:
        here = self._marks.at(node, at)
        if not isinstance(node, Mapping) or len(node) != 1:
            fail(
                self._marks.file,
                here,
                field,
                "a condition must be one Fn::Equals/And/Or/Not or Condition",
            )
        ((function, argument),) = node.items()
        if function == "Condition":
            return self.decide(argument, here)
        if function == "Fn::Equals":
            if not isinstance(argument, list) or len(argument) != 2:
                fail(self._marks.file, here, field, "Fn::Equals takes a list of two values")
            left, right = (self._resolve(item, here) for item in argument)
            if _unresolved(left) or _unresolved(right):
                return None
            return bool(_comparable(left) == _comparable(right))
        if function in ("Fn::And", "Fn::Or", "Fn::Not"):
            if not isinstance(argument, list) or not argument:
                fail(self._marks.file, here, field, f"{function} takes a list of conditions")
            tests = [self._test(item, here, field) for item in argument]
            return _combine(
                function,
                tests,
                lambda: fail(self._marks.file, here, field, "Fn::Not takes one condition"),
            )
        fail(self._marks.file, here, field, f"{function} is not a condition function")


def _combine(function: str, tests: list[bool | None], refuse: Callable[[], None]) -> bool | None:
    """Kleene's three-valued And/Or/Not: an unknown operand matters only if nothing settles it."""
    if function == "Fn::Not":
        if len(tests) != 1:
            refuse()
        return None if tests[0] is None else not tests[0]
    decisive = function == "Fn::Or"  # the value that settles the whole expression
    if decisive in tests:
        return decisive
    return None if None in tests else not decisive


def _unresolved(value: Any) -> bool:
    if isinstance(value, Unresolved):
        return True
    if isinstance(value, list):
        return any(_unresolved(item) for item in value)
    if isinstance(value, Mapping):
        return any(_unresolved(item) for item in value.values())
    return False


def _comparable(value: Any) -> Any:
    """CloudFormation compares the string forms: ``!Equals [!Ref Count, 3]`` holds for "3"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value
