"""Metric figures for every (resource, metric query) the plan selects, in few GetMetricData calls.

GetMetricData takes up to 500 queries but one time window, so the runner groups the pairs by
(account, region, window) and this module sends their series 500 to a call. Only
``MetricStat`` queries are sent, one per CloudWatch series: sums across series and ratios are
computed here, period by period (``periods``), because metric math is not evaluated by moto
and an auditor cannot re-run it by hand. A figure may need many series (one per ``Operation``
of a table, a numerator and a denominator), so one pair may straddle two calls: its figure is
decided only once every call of the group has answered.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.journal import Problem
from runbook_guard.collectors.periods import figure, fold
from runbook_guard.collectors.registry import OperationSet, declare
from runbook_guard.engine.plan import MetricQuery

__all__ = ["API", "MAX_QUERIES", "Wanted", "attribution", "fetch", "fold", "series_key"]

API = declare(
    OperationSet(
        "cloudwatch.metrics",
        "cloudwatch",
        ("GetMetricData",),
        answers={"GetMetricData": ("MetricDataResults",)},
    )
)
MAX_QUERIES = 500

#: One selected (resource, query) pair; the resource is the snapshot envelope, mutated in place.
Wanted = tuple[dict[str, Any], MetricQuery]


@dataclass
class Series:
    """One MetricStat query of one pair, and what GetMetricData answered for it."""

    pair: int
    metric: str
    dimensions: list[dict[str, str]]
    denominator: bool = False
    status: str = "Missing"
    #: The call carrying it failed; that failure is already recorded against the pair's key.
    failed: bool = False
    timestamps: list[Any] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


def series_of(pair: int, resource: dict[str, Any], query: MetricQuery) -> list[Series]:
    """The series a figure needs: every numerator part's, then every denominator part's.

    A simple query (no parts) is its one part, so it sends the request it always sent; a
    dimension value ``{each:PATH}`` may still make it several series, and a part whose
    ``{each:PATH}`` finds nothing contributes none.
    """
    sides = ((False, query.numerator), (True, query.denominator))
    return [
        Series(pair, part.metric, dimensions, denominator)
        for denominator, parts in sides
        for part in parts
        for dimensions in part.series(resource)
    ]


def _query(qid: str, query: MetricQuery, series: Series) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": query.namespace,
                "MetricName": series.metric,
                "Dimensions": series.dimensions,
            },
            "Period": query.period_seconds,
            "Stat": query.stat,
        },
        "ReturnData": True,
    }


def series_key(query: MetricQuery, series: Series) -> str:
    """What makes two series one CloudWatch query (the window is the batch's)."""
    dimensions = sorted((d["Name"], d["Value"]) for d in series.dimensions)
    parts = (query.namespace, series.metric, dimensions, query.period_seconds, query.stat)
    return json.dumps(parts)


def fetch(call: Call, window_seconds: int, wanted: Sequence[Wanted]) -> None:
    """Fill ``resource["metrics"][key]`` for every pair, in ceil(series/500) calls (plus pages).

    A series two figures need (a function's daily Errors, alone and as a ratio's numerator) is
    asked for once and answers both.
    """
    end = call.now.replace(second=0, microsecond=0)
    start = end - timedelta(seconds=window_seconds)
    series = [one for i, pair in enumerate(wanted) for one in series_of(i, *pair)]
    shared: dict[str, list[Series]] = {}
    for one in series:
        shared.setdefault(series_key(wanted[one.pair][1], one), []).append(one)
    queries = list(shared.values())
    for offset in range(0, len(queries), MAX_QUERIES):
        _batch(call, start, end, wanted, queries[offset : offset + MAX_QUERIES])
    by_pair: dict[int, list[Series]] = {i: [] for i in range(len(wanted))}
    for one in series:
        by_pair[one.pair].append(one)
    for index, (resource, query) in enumerate(wanted):
        _store(call, resource, query, by_pair[index])


def attribution(batch: Sequence[Wanted]) -> list[tuple[str, list[str]]]:
    """Per resource type, the ``metrics.<key>`` data keys a failed batch leaves undecided."""
    keys: dict[str, set[str]] = {}
    for resource, query in batch:
        keys.setdefault(resource["type"], set()).add(f"metrics.{query.key}")
    return [(rtype, sorted(k)) for rtype, k in sorted(keys.items())]


def _batch(
    call: Call,
    start: datetime,
    end: datetime,
    wanted: Sequence[Wanted],
    batch: list[list[Series]],
) -> None:
    """One call for up to 500 queries, each answering every series that shares it."""
    queries = [_query(f"q{n}", wanted[same[0].pair][1], same[0]) for n, same in enumerate(batch)]
    served = [wanted[pair] for pair in sorted({s.pair for same in batch for s in same})]
    pages = call.pages(
        "GetMetricData",
        MetricDataQueries=queries,
        StartTime=start,
        EndTime=end,
        attribution=attribution(served),
    )
    if pages is None:
        for same in batch:
            for one in same:
                one.failed = True
        return
    by_id = {f"q{n}": same for n, same in enumerate(batch)}
    for page in pages:
        for result in page.get("MetricDataResults") or []:
            answered = by_id.get(result["Id"])
            for one in answered or []:
                one.values.extend(result.get("Values") or [])
                one.timestamps.extend(result.get("Timestamps") or [])
                one.status = str(result.get("StatusCode", "Complete"))


def _store(call: Call, resource: dict[str, Any], query: MetricQuery, series: list[Series]) -> None:
    """The pair's figure, or one error against its key (never a figure from partial series)."""
    if any(s.failed for s in series):
        return
    try:
        unfinished = next((s for s in series if s.status != "Complete"), None)
        if unfinished is not None:
            raise Problem(
                f"MetricStatus{unfinished.status}",
                f"{query.namespace}/{unfinished.metric} {query.stat} did not complete",
            )
        numerator = [s for s in series if not s.denominator]
        if len(numerator) == 1 and not query.denominator:
            # One series has one value per period: fold them as they come, as always.
            value = fold(numerator[0].values, query.reduce)
        else:
            value = figure(
                query,
                [(s.timestamps, s.values) for s in numerator],
                [(s.timestamps, s.values) for s in series if s.denominator],
            )
    except Problem as problem:
        call.record(
            "GetMetricData",
            problem,
            resource=resource["id"],
            resource_type=resource["type"],
            data_keys=[f"metrics.{query.key}"],
        )
        return
    resource.setdefault("metrics", {})[query.key] = value
