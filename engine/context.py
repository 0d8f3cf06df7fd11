"""What a compiled condition or value sees while one (rule, resource) is evaluated."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any


class _Undecided:
    """The third truth value: the data could not settle the question."""

    def __repr__(self) -> str:
        return "UNDECIDED"

    def __bool__(self) -> bool:
        raise TypeError("UNDECIDED has no truth value; compare with `is`")


class _NoData:
    """A metric with no datapoints, a ratio over zero, a key not in reference data."""

    def __repr__(self) -> str:
        return "NO_DATA"


UNDECIDED: Any = _Undecided()
NO_DATA: Any = _NoData()

#: Returns the causes (collection errors) that explain why these data keys are absent.
BlockedLookup = Callable[[frozenset[str]], list[str]]
_NO_CAUSES: list[str] = []


def nothing_blocked(_roots: frozenset[str]) -> list[str]:
    """The lookup of a resource no collection error touched (the common case)."""
    return _NO_CAUSES


class EvalContext:
    """Per (rule, resource) state; a plain slotted class because one is made per evaluation."""

    __slots__ = ("blocked", "blocked_of", "causes", "data", "evidence", "failures", "now",
                 "related", "resource", "tables")  # fmt: skip

    def __init__(
        self,
        resource: Mapping[str, Any],
        data: Any,
        now: datetime,
        blocked: BlockedLookup,
        related: Mapping[str, list[Mapping[str, Any]]] | None = None,
        tables: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.resource = resource
        self.data = data
        self.now = now
        self.blocked = blocked
        #: Per alias, the related resources found (see engine/related.py).
        self.related: Mapping[str, list[Mapping[str, Any]]] = related or _EMPTY
        #: The blocked lookup of another resource (a related target's own collection errors).
        self.blocked_of: Callable[[Mapping[str, Any]], BlockedLookup] = _nothing_for
        self.tables: Mapping[str, Mapping[str, Any]] = tables or _EMPTY
        self.evidence: dict[str, Any] = {}
        self.causes: list[str] = []
        self.failures: list[str] = []

    def child(self, data: Any) -> EvalContext:
        """A context for one list item: same resource and clock, its own bookkeeping."""
        child = EvalContext(self.resource, data, self.now, self.blocked, self.related, self.tables)
        child.blocked_of = self.blocked_of
        return child

    def of_target(self, target: Mapping[str, Any]) -> EvalContext:
        """A context reading a related resource: its data, its own collection errors."""
        child = EvalContext(target, target["data"], self.now, self.blocked_of(target), None,
                            self.tables)  # fmt: skip
        child.blocked_of = self.blocked_of
        return child


def _nothing_for(_resource: Mapping[str, Any]) -> BlockedLookup:
    return nothing_blocked


_EMPTY: Mapping[str, Any] = {}
