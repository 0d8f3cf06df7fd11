"""moto's GetMetricData answers, from an index instead of moto's scan (benchmark server only).

moto 5.2 answers a ``MetricStat`` query by scanning every datapoint of the window once per
period of the query (``CloudWatchBackend.get_metric_data``): one call costs queries x periods
x datapoints held, whatever series it asks. At copies=50 the shipped pack's GetMetricData work
is about 40 s of moto's time, so the benchmark's figure for the pack measured the emulator,
not the tool. ``install()`` replaces that method, in this process only (the benchmark's
``ThreadedMotoServer`` runs in it), with one that indexes the stored datapoints once (then
only the new ones) by series and buckets the asked series' datapoints by period: a query
costs the datapoints of its own series.

The answers are moto's own, not AWS's: where moto's semantics differ from CloudWatch's, the
stand-in keeps moto's, so that swapping it in changes the time and nothing else:

- a query with dimensions matches datapoints by metric name and dimensions, in any namespace
  (moto does not compare the namespace then); one without dimensions matches by namespace
  and name, whatever the datapoints' dimensions;
- dimensions compare as moto's ``sorted(...) == sorted(...)`` does (its ``Dimension`` order,
  applied to the same lists);
- periods start at ``StartTime`` (microseconds dropped) and step by ``Period``; a period is
  answered only when it holds a datapoint; values are moto's ``Statistics`` of the period's
  datapoints in moto's order (stored ones in arrival order, then the ones moto computes on
  the fly, S3's bucket sizes), so floating-point sums are the same;
- ``Unit``, ``Label``, ``ReturnData`` and ``ScanBy`` as moto reads them.

Anything else (metric math or Metrics Insights expressions, a period that is not a positive
number of seconds, a dimension without a string name and value, a stored datapoint whose
dimension has no value, StartTime not before EndTime) is answered by moto's own code, never
differently. ``tests/test_benchmark_metric_index.py`` proves the answers equal moto's for
every GetMetricData the shipped pack's collection sends to the demo stack.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

__all__ = ["ANSWERED", "answerable", "indexed", "install", "installed", "moto_own", "uninstall"]

#: Per way a call was answered, how many: ``index`` (this module) or ``moto`` (its own code).
ANSWERED: Counter[str] = Counter()
_MARK = "_runbook_guard_metric_index"
_LOCK = threading.Lock()
#: The series a datapoint belongs to, as a query with dimensions finds it: (metric name,
#: dimensions as moto sorts them); and as one without dimensions does: (namespace, name).
ByDimensions = tuple[str, tuple[tuple[str, str], ...]]
ByName = tuple[str, str]
GetMetricData = Callable[..., list[dict[str, Any]]]


@dataclass
class _Index:
    """The datapoints of a list, by series, in the list's order; extended as the list grows."""

    data: list[Any]
    indexed: int = 0
    by_dimensions: dict[ByDimensions, list[Any]] = field(default_factory=dict)
    by_name: dict[ByName, list[Any]] = field(default_factory=dict)
    #: A datapoint whose dimension has no value: moto's ``Dimension`` equality treats it as a
    #: wildcard, which a key cannot; queries with dimensions then go to moto's code.
    wildcard: bool = False

    def extend(self) -> None:
        for datum in self.data[self.indexed :]:
            pairs = _dimension_key(datum.dimensions)
            if pairs is None:
                self.wildcard = True
            else:
                self.by_dimensions.setdefault((datum.name, pairs), []).append(datum)
            self.by_name.setdefault((datum.namespace, datum.name), []).append(datum)
        self.indexed = len(self.data)

    def series(self, namespace: str, name: str, dimensions: Sequence[Any]) -> list[Any]:
        """The datapoints a query of (namespace, name, dimensions) reads, in list order."""
        if dimensions:
            key = _dimension_key(dimensions)
            return list(self.by_dimensions.get((name, key), ())) if key is not None else []
        return list(self.by_name.get((namespace, name), ()))


def _dimension_key(dimensions: Sequence[Any]) -> tuple[tuple[str, str], ...] | None:
    """Dimensions in moto's sorted order as (name, value) pairs; ``None`` if one has no value.

    moto compares ``sorted(a) == sorted(b)`` with its own ``Dimension.__lt__``; sorting the
    same lists with the same comparison gives the same order, so equal keys are equal lists.
    """
    ordered = sorted(dimensions)
    if any(not isinstance(d.name, str) or not isinstance(d.value, str) for d in ordered):
        return None
    return tuple((d.name, d.value) for d in ordered)


def _stored_index(backend: Any) -> _Index:
    """The backend's stored datapoints, indexed once and then only the new ones (append-only)."""
    data: list[Any] = backend.metric_data
    index: _Index | None = getattr(backend, _MARK, None)
    stale = (
        index is None
        or index.data is not data
        or index.indexed > len(data)
        or (index.indexed and data[index.indexed - 1] is not index.data[index.indexed - 1])
    )
    if index is None or stale:
        index = _Index(data)
        setattr(backend, _MARK, index)
    index.extend()
    return index


def answerable(queries: Iterable[Mapping[str, Any]]) -> bool:
    """Whether every query is a form the index answers (else the call goes to moto's code)."""
    for query in queries:
        stat = query.get("MetricStat")
        if "Expression" in query or not isinstance(stat, Mapping):
            return False
        try:
            if int(stat["Period"]) <= 0:
                return False
        except (KeyError, TypeError, ValueError):
            return False
        metric = stat.get("Metric")
        if not isinstance(metric, Mapping) or not isinstance(stat.get("Stat"), str):
            return False
        for dimension in metric.get("Dimensions") or []:
            if not isinstance(dimension, Mapping) or not all(
                isinstance(dimension.get(k), str) for k in ("Name", "Value")
            ):
                return False
    return True


def _answer(
    query: Mapping[str, Any],
    sources: Sequence[_Index],
    start: datetime,
    end: datetime,
    scan_by: str,
) -> dict[str, Any]:
    """One MetricStat query's result, as moto's loop over periods builds it."""
    from moto.cloudwatch.models import Dimension, Statistics

    metric_stat = query["MetricStat"]
    namespace, name = metric_stat["Metric"]["Namespace"], metric_stat["Metric"]["MetricName"]
    dimensions = [
        Dimension(name=d["Name"], value=d["Value"])
        for d in metric_stat["Metric"].get("Dimensions", [])
    ]
    delta = timedelta(seconds=int(metric_stat["Period"]))
    unit, stat = metric_stat.get("Unit"), metric_stat["Stat"]
    periods: dict[int, list[Any]] = {}
    for source in sources:
        for datum in source.series(namespace, name, dimensions):
            if start <= datum.timestamp < end and (not unit or datum.unit == unit):
                periods.setdefault((datum.timestamp - start) // delta, []).append(datum)
    values: list[Any] = []
    timestamps: list[datetime] = []
    for number in sorted(periods):
        stats = Statistics([stat], start + number * delta)
        stats.metric_data = periods[number]
        values.append(stats.get_statistics_for_type(stat))
        timestamps.append(stats.timestamp)
    if scan_by == "TimestampDescending":
        timestamps.reverse()
        values.reverse()
    return {
        "id": query["Id"],
        "label": query.get("Label") or f"{name} {stat}",
        "values": values,
        "timestamps": timestamps,
        "status_code": "Complete",
    }


def _indexed(original: GetMetricData) -> GetMetricData:
    def get_metric_data(
        self: Any,
        queries: list[dict[str, Any]],
        start_time: datetime,
        end_time: datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
        if start >= end or not answerable(queries):
            ANSWERED["moto"] += 1
            return original(self, queries, start_time, end_time, scan_by)
        with _LOCK:
            stored = _stored_index(self)
        # Computed on the fly at each call, as moto does (S3's bucket sizes): a few per bucket.
        live = _Index(list(self.aws_metric_data))
        live.extend()
        asks_dimensions = any(q["MetricStat"]["Metric"].get("Dimensions") for q in queries)
        if asks_dimensions and (stored.wildcard or live.wildcard):
            ANSWERED["moto"] += 1
            return original(self, queries, start_time, end_time, scan_by)
        with _LOCK:  # the stored lists grow only under it
            results = [
                _answer(query, (stored, live), start, end, scan_by)
                for query in queries
                if query.get("ReturnData", True)
            ]
        ANSWERED["index"] += 1
        return results

    setattr(get_metric_data, _MARK, original)
    return get_metric_data


def moto_own() -> GetMetricData:
    """moto's own ``CloudWatchBackend.get_metric_data``, whether the index is installed or not."""
    from moto.cloudwatch.models import CloudWatchBackend

    current: GetMetricData = CloudWatchBackend.get_metric_data
    original: GetMetricData = getattr(current, _MARK, current)
    return original


def indexed() -> GetMetricData:
    """The indexed ``get_metric_data`` (a backend method), without installing it."""
    return _indexed(moto_own())


def install() -> None:
    """Answer GetMetricData of this process's moto from the index (idempotent)."""
    from moto.cloudwatch.models import CloudWatchBackend

    if not installed():
        setattr(CloudWatchBackend, "get_metric_data", indexed())  # noqa: B010


def uninstall() -> None:
    """Give GetMetricData back to moto's own code (idempotent)."""
    from moto.cloudwatch.models import CloudWatchBackend

    original = getattr(CloudWatchBackend.get_metric_data, _MARK, None)
    if original is not None:
        setattr(CloudWatchBackend, "get_metric_data", original)  # noqa: B010


def installed() -> bool:
    from moto.cloudwatch.models import CloudWatchBackend

    return getattr(CloudWatchBackend.get_metric_data, _MARK, None) is not None
