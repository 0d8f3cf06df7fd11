"""Thresholds written the way the runbook writes them: ``"< 0.1%"``, ``"> 5/5min"``, ``"0"``.

A tiny grammar, parsed with one regular expression and never eval'd:

    threshold := [op] number [unit]
    op        := "<" | "<=" | ">" | ">=" | "==" | "="      (no op means "==")
    unit      := "%" | "/" [digits] word | word            (must match the value's unit)
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

_GRAMMAR = re.compile(
    r"""^\s*(?P<op><=|>=|==|=|<|>)?\s*
        (?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*
        (?P<unit>%|/\s*\d*\s*[A-Za-z]+|[A-Za-z]+)?\s*$""",
    re.VERBOSE,
)
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}
LEVELS = ("normal", "warn", "fail")
_SPACES = re.compile(r"\s+")


class ThresholdError(ValueError):
    """A threshold string outside the grammar, or levels that contradict each other."""


@dataclass(frozen=True)
class Threshold:
    op: str
    number: float
    unit: str
    text: str

    def holds(self, value: float) -> bool:
        return _COMPARE[self.op](value, self.number)

    @property
    def upward(self) -> bool | None:
        """True for > / >=, False for < / <=, None for ==: which way 'worse' points."""
        return True if self.op in (">", ">=") else False if self.op in ("<", "<=") else None


def parse_threshold(text: str, unit: str = "") -> Threshold:
    """Parse one threshold; its unit, if written, must be the value's unit."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ThresholdError(f"threshold must be text like '> 5', not {text!r}")
    match = _GRAMMAR.match(str(text))
    if not match:
        raise ThresholdError(f"cannot parse threshold {text!r}: expected e.g. '> 5', '< 0.1%'")
    op = match["op"] or "=="
    op = "==" if op == "=" else op
    written_unit = _SPACES.sub("", match["unit"] or "")
    if written_unit and written_unit != _SPACES.sub("", unit):
        expected = f"'{unit}'" if unit else "no unit (declare one in value.unit)"
        raise ThresholdError(
            f"threshold {text!r} is in '{written_unit}' but the value has {expected}"
        )
    return Threshold(op, float(match["number"]), unit, str(text).strip())


@dataclass(frozen=True)
class Levels:
    """The runbook's three-level table for one value: normal / warning / critical."""

    normal: Threshold | None
    warn: Threshold | None
    fail: Threshold | None

    def classify(self, value: float) -> str:
        """fail past critical, warn past warning, pass in the normal range, else note."""
        if self.fail is not None and self.fail.holds(value):
            return "fail"
        if self.warn is not None and self.warn.holds(value):
            return "warn"
        if self.normal is None or self.normal.holds(value):
            return "pass"
        return "note"

    def describe(self) -> str:
        parts = [
            f"{name} {t.text}"
            for name, t in zip(LEVELS, self.thresholds(), strict=True)
            if t is not None
        ]
        return ", ".join(parts)

    def texts(self) -> dict[str, str]:
        """Each level's threshold as written, '' where the level is not set."""
        return {
            name: t.text if t else "" for name, t in zip(LEVELS, self.thresholds(), strict=True)
        }

    def thresholds(self) -> tuple[Threshold | None, Threshold | None, Threshold | None]:
        return (self.normal, self.warn, self.fail)


def parse_levels(spec: dict[str, object], unit: str = "") -> Levels:
    """Parse and check the order: worse levels must lie further in the same direction."""
    parsed = {name: parse_threshold(str(spec[name]), unit) for name in LEVELS if name in spec}
    warn, fail = parsed.get("warn"), parsed.get("fail")
    if warn is None and fail is None:
        raise ThresholdError("levels need at least one of warn or fail")
    directions = {t.upward for t in (warn, fail) if t is not None} - {None}
    if len(directions) > 1:
        raise ThresholdError("warn and fail point in different directions (one '>' one '<')")
    if warn is not None and fail is not None and directions:
        up = directions.pop()
        if (warn.number > fail.number) if up else (warn.number < fail.number):
            word = "above" if up else "below"
            raise ThresholdError(
                f"thresholds out of order: warn '{warn.text}' is {word} fail '{fail.text}'"
            )
    normal = parsed.get("normal")
    worst = warn or fail
    if normal is not None and worst is not None and worst.upward is not None:
        if worst.upward and normal.upward is True:
            raise ThresholdError(f"normal '{normal.text}' must bound from above, like '< N'")
        if worst.upward is False and normal.upward is False:
            raise ThresholdError(f"normal '{normal.text}' must bound from below, like '> N'")
        out_of_order = (
            normal.number > worst.number if worst.upward else normal.number < worst.number
        )
        if out_of_order:
            raise ThresholdError(
                f"thresholds out of order: normal '{normal.text}' lies past '{worst.text}'"
            )
    return Levels(normal, warn, fail)
