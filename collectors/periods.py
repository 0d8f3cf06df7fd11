"""Per-period arithmetic over GetMetricData series: sums, ratios, and the fold to one figure.

Kept apart from the calls so the rules of the arithmetic (``MetricQuery``'s contract) can be
read, and tested, on plain numbers. A ratio is taken per period and only where the
denominator is large enough, never as total/total over the window: one failed call out of one
in a quiet hour is not an outage, and an outage hour is not diluted by a quiet day.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runbook_guard.collectors.journal import Problem
from runbook_guard.engine.plan import MetricQuery

#: One series as GetMetricData returns it: ``Timestamps`` and ``Values``, index-aligned.
Points = tuple[Sequence[Any], Sequence[float]]


def fold(values: Sequence[float], reduce: str) -> float | None:
    """Fold datapoints into one value; ``None`` is "no data", never zero."""
    if not values:
        return None
    if reduce == "sum":
        return float(sum(values))
    if reduce == "max":
        return float(max(values))
    if reduce == "min":
        return float(min(values))
    if reduce == "avg":
        return float(sum(values) / len(values))
    raise ValueError(f"unknown reduce {reduce!r}")


def per_period(series: Sequence[Points]) -> dict[Any, float]:
    """The series summed period by period; a period no series has is absent, not 0.

    GetMetricData labels each value with its period's start, the same for every series of
    one call's window and period, so equal timestamps are the same period.
    """
    sums: dict[Any, float] = {}
    for timestamps, values in series:
        if len(timestamps) != len(values):
            raise Problem(
                "UnexpectedShape",
                f"GetMetricData returned {len(values)} values for {len(timestamps)} timestamps",
            )
        for timestamp, value in zip(timestamps, values, strict=True):
            sums[timestamp] = sums.get(timestamp, 0.0) + float(value)
    return sums


def figure(
    query: MetricQuery, numerator: Sequence[Points], denominator: Sequence[Points]
) -> float | None:
    """The query's one figure from its numerator (and denominator) series; ``None``: no data."""
    num = per_period(numerator)
    if not query.denominator:
        return fold([num[t] for t in sorted(num)], query.reduce)
    den = per_period(denominator)
    kept = [t for t in sorted(den) if den[t] > 0 and den[t] >= query.min_denominator]
    return fold([num.get(t, 0.0) / den[t] for t in kept], query.reduce)
