"""Values that levels classify: a field, a metric, a log count, a ratio, an age, a lookup.

Each compiles once per rule to a function giving a number (or text), NO_DATA (no datapoints,
a zero denominator, a key reference data does not list) or UNDECIDED (data that could not be
read), so that "no data" is reported as such and never becomes a silent zero.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from runbook_guard.engine.access import ABSENT_UNSET, CompileError, compile_at
from runbook_guard.engine.context import NO_DATA, UNDECIDED, EvalContext
from runbook_guard.engine.paths import MISSING
from runbook_guard.engine.reads import top_level_keys
from runbook_guard.engine.timeutil import days_between, parse_timestamp

Value = Callable[[EvalContext], Any]

VALUE_SOURCES = (
    "path", "metric", "logs", "ratio", "max_of", "days_since", "days_until", "lookup",
    "data_as_of", "const",
)  # fmt: skip


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
    elif source == "max_of":
        if not isinstance(spec["max_of"], list) or not spec["max_of"]:
            raise CompileError((*at, "max_of"), "max_of takes a non-empty list of values")
        base = _max_of(
            [
                compile_value((*at, "max_of", i), item, metric_keys, log_keys, tables)
                for i, item in enumerate(spec["max_of"])
            ]
        )
    elif source in ("days_since", "days_until"):
        inner = compile_value((*at, source), spec[source], metric_keys, log_keys, tables)
        base = _days(inner, since=source == "days_since")
    elif source == "lookup":
        base = _lookup(at, spec["lookup"], sub("key"), tables)
    elif source == "data_as_of":
        base = _as_of(at, str(spec["data_as_of"]), tables)
    else:
        constant = spec["const"]

        def base(_ctx: EvalContext) -> Any:
            return constant

    if scale == 1:
        return base
    return lambda ctx: _scaled(base(ctx), float(scale))


def _scaled(value: Any, factor: float) -> Any:
    number = _numeric(value)
    return value if number is None else number * factor


def _numeric(value: Any) -> float | None:
    """A number, or numeric text (SQS sends every attribute as text); None for anything else."""
    if value is UNDECIDED or value is NO_DATA or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _path_value(at: tuple[str | int, ...], spec: dict[str, Any]) -> Value:
    path = str(spec["path"])
    reader = compile_at(at, path)
    if_absent = spec.get("if_absent", ABSENT_UNSET)
    key = str(spec.get("label") or path)

    def read(ctx: EvalContext) -> Any:
        absent = reader.get(ctx.data) is MISSING
        value = reader.read(ctx, if_absent, False)
        if value is not UNDECIDED:  # a substitute is shown as one, not as what AWS said
            ctx.evidence[key] = f"not returned (taken as {value!r})" if absent else value
        return value

    return read


_EACH_IN_KEY = re.compile(r"\{each:(.+?)\}")


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
    # A dimension {each:PATH} names series from the resource's data (a table's indexes): data
    # a failed call left out would silently drop those series from the figure.
    each_roots = frozenset(
        root for path in _EACH_IN_KEY.findall(key) for root in top_level_keys(path)
    )

    def read(ctx: EvalContext) -> Any:
        stored = ctx.resource.get(field, {})
        if key not in stored:
            blocked = ctx.blocked(frozenset({field, f"{field}.{key}"}))
            ctx.causes.extend(blocked or [f"{source} '{name}' ({key}) was not collected"])
            return UNDECIDED
        absent = frozenset(r for r in each_roots if r not in (ctx.resource.get("data") or {}))
        blocked = ctx.blocked(absent) if absent else []
        if blocked:
            ctx.causes.extend(f"{source} '{name}' has series per {', '.join(sorted(absent))}: {why}"
                              for why in blocked)  # fmt: skip
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


def _max_of(values: list[Value]) -> Value:
    """The largest of several figures: undecided if any is, no data only if all are.

    Two counts of one thing that each can miss some of it (throttled requests, which skip
    partly throttled batches; throttle events, which count index writes) are judged by the
    larger, so neither blind spot passes.
    """

    def largest(ctx: EvalContext) -> Any:
        found = [value(ctx) for value in values]
        if any(v is UNDECIDED for v in found):
            return UNDECIDED
        numbers = []
        for item in found:
            if item is NO_DATA:
                continue
            number = _numeric(item)
            if number is None:
                ctx.causes.append(f"{item!r} is not a number")
                return UNDECIDED
            numbers.append(number)
        return max(numbers) if numbers else NO_DATA

    return largest


def _days(inner: Value, since: bool) -> Value:
    def days(ctx: EvalContext) -> Any:
        value = inner(ctx)
        if value is UNDECIDED or value is NO_DATA:
            return value
        stamp = parse_timestamp(value)
        if stamp is None:
            ctx.causes.append(f"{value!r} is not a timestamp")
            return UNDECIDED
        if since and stamp > ctx.now:  # no age yet: never "fresh" (a clock or a tampered file)
            ctx.causes.append(f"{value!r} is after the evaluation time {ctx.now.isoformat()}")
            return UNDECIDED
        return days_between(stamp, ctx.now) if since else days_between(ctx.now, stamp)

    return days


def _as_of(at: tuple[str | int, ...], name: str, tables: Mapping[str, Mapping[str, Any]]) -> Value:
    """The date a data file says its facts are true as of: stale reference data warns."""
    if name not in tables:
        raise CompileError((*at, "data_as_of"), f"no data table named {name!r}")
    as_of = getattr(tables[name], "as_of", None)
    if as_of is None:
        raise CompileError((*at, "data_as_of"), f"data table {name!r} records no as_of date")
    stamp = str(as_of)

    def read(ctx: EvalContext) -> Any:
        ctx.evidence[f"{name} as of"] = stamp
        return stamp

    return read


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
