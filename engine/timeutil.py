"""Timestamps as the snapshot holds them (ISO 8601 text or epoch seconds), and day counts.

All arithmetic is against an injected "now", so evaluation never reads the clock.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

SECONDS_PER_DAY = 86_400.0
#: Epoch numbers above this are milliseconds: as seconds they would lie past the year 5000.
EPOCH_MILLISECONDS_ABOVE = 1e11


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO text, a date, or epoch seconds; None if it is none."""
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, date):
        stamp = datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
        if abs(seconds) > EPOCH_MILLISECONDS_ABOVE:  # CloudWatch Logs counts milliseconds
            seconds /= 1000
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            return None
    elif isinstance(value, str) and value:
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    try:
        return stamp.astimezone(timezone.utc)
    except (OverflowError, ValueError):  # 0001-01-01T00:00+01:00 lies before year 1 in UTC
        return None


def days_between(earlier: datetime, later: datetime) -> float:
    """Days from ``earlier`` to ``later`` (negative when ``earlier`` is in the future)."""
    return (later - earlier).total_seconds() / SECONDS_PER_DAY


def iso(moment: datetime) -> str:
    """The one text form of a moment in every output: UTC, seconds, with offset."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()
