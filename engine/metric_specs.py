"""A rule's ``metrics`` entries compiled into the CloudWatch queries the collector runs.

Kept apart from the rest of rule compilation: the windows, periods, statistics and dimension
placeholders are CloudWatch's vocabulary, checked here against CloudWatch's own limits.
"""

from __future__ import annotations

import json
import re
import string
from typing import Any

from runbook_guard.engine.access import CompileError, compile_at
from runbook_guard.engine.plan import MetricPart, MetricQuery

_DEFAULT_REDUCE = {"Sum": "sum", "SampleCount": "sum", "Maximum": "max", "Minimum": "min"}
_METRIC_STAT = re.compile(r"^(Sum|Average|Maximum|Minimum|SampleCount|p\d{1,2}(\.\d+)?)$")


#: CloudWatch keeps metrics 455 days (15 months); no window can look further back.
MAX_WINDOW_HOURS = 455 * 24


def window_seconds(at: tuple[str | int, ...], value: Any, default: float) -> int:
    hours = default if value is None else value
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not hours > 0:
        raise CompileError(at, f"window must be a positive number of hours, not {hours!r}")
    if not hours <= MAX_WINDOW_HOURS:  # also refuses infinity, NaN having failed above
        raise CompileError(
            at, f"window of {hours!r} hours is beyond the {MAX_WINDOW_HOURS} hours CloudWatch keeps"
        )
    return int(float(hours) * 3600)


_PLACEHOLDERS = frozenset({"name", "id", "region", "account"})


def _check_placeholders(at: tuple[str | int, ...], value: str) -> None:
    """Only what the collector can fill: {name} {id} {region} {account}, or a whole {each:PATH}."""
    if value.startswith("{each:") and value.endswith("}") and value.count("{") == 1:
        compile_at(at, value[len("{each:") : -1])
        return
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as error:
        raise CompileError(at, f"dimension value {value!r}: {error}") from None
    for name in fields:
        if name not in _PLACEHOLDERS:
            known = ", ".join(f"{{{n}}}" for n in sorted(_PLACEHOLDERS))
            raise CompileError(
                at, f"dimension value {value!r}: {{{name}}} is not one of {known} or {{each:PATH}}"
            )


def _dimensions(at: tuple[str | int, ...], spec: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if spec is None:
        return ()
    if not isinstance(spec, dict):
        raise CompileError(at, "dimensions must be a mapping of name to value(s)")
    dims = []
    for name, value in sorted(spec.items()):
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) and v for v in values):
            raise CompileError((*at, name), "a dimension value is text or a non-empty list of text")
        for item in values:
            _check_placeholders((*at, name), item)
        dims.append((str(name), tuple(values)))
    return tuple(dims)


def _parts(at: tuple[str | int, ...], spec: dict[str, Any]) -> tuple[MetricPart, ...]:
    if "sum_of" in spec:  # series with different dimensions, summed period by period
        if "metric" in spec or "dimensions" in spec:
            raise CompileError(at, "sum_of replaces metric and dimensions")
        items = spec["sum_of"]
        if not isinstance(items, list) or not items:
            raise CompileError((*at, "sum_of"), "sum_of takes a non-empty list")
        return tuple(p for i, item in enumerate(items) for p in _parts((*at, "sum_of", i), item))
    if "metric" not in spec:
        raise CompileError(at, "a metric needs 'metric' (or 'sum_of')")
    names = spec["metric"] if isinstance(spec["metric"], list) else [spec["metric"]]
    dims = _dimensions((*at, "dimensions"), spec.get("dimensions"))
    return tuple(MetricPart(str(name), dims) for name in names)


def _part_text(parts: tuple[MetricPart, ...]) -> str:
    """The parts as canonical JSON: two different queries never share a stored key."""
    return json.dumps(
        [[p.metric, [[k, list(v)] for k, v in p.dimensions]] for p in parts],
        separators=(",", ":"),
    )


def metric_query(at: tuple[str | int, ...], spec: dict[str, Any]) -> MetricQuery:
    stat = str(spec["stat"])
    if not _METRIC_STAT.match(stat):
        raise CompileError((*at, "stat"), f"unknown statistic {stat!r}")
    window = window_seconds((*at, "window_hours"), spec.get("window_hours"), 24)
    period = window
    if spec.get("period_minutes") is not None:
        minutes = spec["period_minutes"]
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
            raise CompileError((*at, "period_minutes"), "period must be a positive whole number")
        period = minutes * 60
        if window % period:
            raise CompileError((*at, "period_minutes"), "period must divide the window evenly")
    reduce = str(
        spec.get("reduce") or _DEFAULT_REDUCE.get(stat, "max" if stat[0] == "p" else "avg")
    )
    parts = _parts(at, spec)
    per = spec.get("per")
    denominator: tuple[MetricPart, ...] = ()
    at_least = 0.0
    if per is not None:
        denominator = _parts((*at, "per"), per)
        floor = per.get("at_least", 0)
        if isinstance(floor, bool) or not isinstance(floor, (int, float)) or floor < 0:
            raise CompileError((*at, "per", "at_least"), "at_least must be a number >= 0")
        at_least = float(floor)
    simple = len(parts) == 1 and all(len(v) == 1 for _, v in parts[0].dimensions) and not per
    namespace = str(spec["namespace"])
    if simple:
        dims = ",".join(f"{k}={v[0]}" for k, v in parts[0].dimensions)
        key = f"{namespace}/{parts[0].metric}:{stat}:{dims}:{window}s/{period}s:{reduce}"
    else:
        key = f"{namespace}/{_part_text(parts)}:{stat}"
        if denominator:
            key += f"/per:{_part_text(denominator)}>={at_least!r}"
        key += f":{window}s/{period}s:{reduce}"
    first = parts[0]
    return MetricQuery(
        key, namespace, first.metric, stat, tuple((k, v[0]) for k, v in first.dimensions),
        window, period, reduce,
        parts=() if simple else parts, denominator=denominator, min_denominator=at_least,
    )  # fmt: skip
