"""Fuzzing the small parsers the rules rest on: thresholds, levels and timestamps.

Each either answers or refuses with its own error (``ThresholdError``; ``None`` for a
timestamp), never another exception, and what it answers means what was written: a
threshold read back is the one written, levels classify a value the way their thresholds
say, a timestamp written by ``iso`` reads back as the same moment. Windows (``window_hours``)
are fuzzed through the policy loader (test_fuzz_policies.py), where they are parsed.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import assume, example, given
from hypothesis import strategies as st

from runbook_guard.engine.thresholds import (
    LEVELS,
    ThresholdError,
    parse_levels,
    parse_threshold,
)
from runbook_guard.engine.timeutil import (
    EPOCH_MILLISECONDS_ABOVE,
    days_between,
    iso,
    parse_timestamp,
)
from tests.hardening.fuzzing import fuzz

OPERATORS = ["<", "<=", ">", ">=", "==", "=", ""]
UNITS = ["", "%", "/5min", "/ 1 h", "ms", "executions"]
numbers = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(-1e9, 1e9, allow_nan=False).map(repr),
    st.sampled_from(["0", "-0", "+1", ".5", "5.", "1e3", "1E-3", "1e999", "0.1"]),
)
threshold_texts = st.one_of(
    st.builds(
        lambda op, space, number, unit: f"{op}{space}{number}{unit}",
        st.sampled_from(OPERATORS),
        st.sampled_from(["", " ", "  "]),
        numbers,
        st.sampled_from(UNITS),
    ),
    st.text(max_size=12),
    st.text(alphabet="<>=!%/ .-+eE0123456789abcmin\t\n", max_size=12),
)


@fuzz(300)
@given(
    text=threshold_texts | st.integers() | st.floats() | st.none() | st.booleans(),
    unit=st.sampled_from(UNITS),
)
@example(text="> 1e999", unit="")
@example(text="=", unit="")
@example(text="> 5 %", unit="%")
def test_a_threshold_parses_or_is_refused(text: Any, unit: str) -> None:
    try:
        threshold = parse_threshold(text, unit)
    except ThresholdError as error:
        assert str(error)  # noqa: PT017
        return
    assert threshold.op in ("<", "<=", ">", ">=", "==")
    assert not math.isnan(threshold.number)
    assert threshold.holds(threshold.number) == (threshold.op in ("<=", ">=", "==")) or math.isinf(
        threshold.number
    )


@fuzz(200)
@given(op=st.sampled_from(OPERATORS), number=numbers, unit=st.sampled_from(UNITS))
def test_a_written_threshold_reads_back_as_written(op: str, number: str, unit: str) -> None:
    threshold = parse_threshold(f"{op} {number}{unit}", unit)
    assert threshold.op == {"": "==", "=": "=="}.get(op, op)
    assert threshold.number == float(number)
    assert threshold.text == f"{op} {number}{unit}".strip()


SEVERITY = {"pass": 0, "note": 1, "warn": 2, "fail": 3}


@fuzz(300)
@given(
    spec=st.dictionaries(st.sampled_from([*LEVELS, "other"]), threshold_texts, max_size=4),
    values=st.lists(st.floats(allow_nan=False), min_size=2, max_size=6),
)
@example(spec={"normal": "< 1", "warn": "> 5", "fail": "> 10"}, values=[0.0, 3.0, 7.0, 11.0])
@example(spec={"warn": "< 50", "fail": "< 10"}, values=[5.0, 20.0, 60.0])
def test_levels_parse_or_are_refused_and_classify_in_order(
    spec: dict[str, Any], values: list[float]
) -> None:
    """Parsed levels put every value in one band, and past the worse threshold is never better
    than past the milder one: with thresholds pointing up (``>``), a larger value is at least
    as severe; pointing down (``<``), a smaller one."""
    try:
        levels = parse_levels(spec)
    except ThresholdError as error:
        assert str(error)  # noqa: PT017
        return
    worst = levels.fail or levels.warn
    assert worst is not None
    for value in values:
        status = levels.classify(value)
        assert status in SEVERITY
        if levels.fail is not None and levels.fail.holds(value):
            assert status == "fail"
    if worst.upward is None:
        return
    ordered = sorted(values, reverse=not worst.upward)
    ranks = [SEVERITY[levels.classify(v)] for v in ordered]
    # Only the warn/fail bands must be monotone; "note" versus "pass" depends on normal.
    severe = [max(rank, 2) if rank >= 2 else 0 for rank in ranks]
    assert severe == sorted(severe), (spec, ordered, ranks)


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=40),
    st.sampled_from(
        ["2026-11-27", "2026-11-27T12:00:00Z", "2026-11-27T12:00:00z", "0001-01-01T00:00+01:00",
         "9999-12-31T23:59:59-01:00", "2026-02-30T00:00:00Z", "Z", "  2026-11-27  ", "1e3"]
    ),
    st.datetimes(),
    st.dates(),
    st.lists(st.integers(), max_size=2),
)  # fmt: skip


@fuzz(400)
@given(value=anything)
@example(value=1e300)
@example(value=-1e300)
@example(value=float("nan"))
@example(value=2**64)
def test_a_timestamp_parses_to_aware_utc_or_none(value: Any) -> None:
    parsed = parse_timestamp(value)
    if parsed is None:
        return
    assert parsed.utcoffset() == timedelta(0)
    assert parse_timestamp(iso(parsed)) == parsed.replace(microsecond=0)


@fuzz(200)
@given(
    moment=st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(9998, 1, 1), timezones=st.timezones()
    )
)
def test_a_written_moment_reads_back_as_the_same_moment(moment: datetime) -> None:
    assume(moment.utcoffset() is not None)
    written = iso(moment)
    assert parse_timestamp(written) == moment.astimezone(timezone.utc).replace(microsecond=0)
    seconds = moment.timestamp()
    if seconds < EPOCH_MILLISECONDS_ABOVE:  # beyond, a number is milliseconds (CloudWatch Logs)
        assert parse_timestamp(seconds) == datetime.fromtimestamp(seconds, tz=timezone.utc)
    else:
        as_milliseconds = parse_timestamp(seconds * 1000)
        assert as_milliseconds is not None
        assert math.isclose(as_milliseconds.timestamp(), seconds, abs_tol=1e-3)
    assert parse_timestamp(written.replace("+00:00", "Z")) == parse_timestamp(written)


@fuzz(200)
@given(
    earlier=st.datetimes(timezones=st.just(timezone.utc), max_value=datetime(9000, 1, 1)),
    days=st.floats(-1000, 1000, allow_nan=False),
)
def test_days_between_undoes_adding_days(earlier: datetime, days: float) -> None:
    later = earlier + timedelta(days=days)
    assert math.isclose(days_between(earlier, later), days, abs_tol=1e-6)


def test_a_date_reads_as_its_midnight_in_utc() -> None:
    assert parse_timestamp(date(2026, 11, 27)) == datetime(2026, 11, 27, tzinfo=timezone.utc)
