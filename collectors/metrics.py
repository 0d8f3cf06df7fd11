"""Metric values for every (resource, metric query) the plan selects, in few GetMetricData calls.

GetMetricData takes up to 500 queries but one time window, so queries are grouped by
(account, region, window) and chunked by 500. Only ``MetricStat`` queries are sent: ratios
are the engine's job, and metric math is both unevaluated by moto and harder to audit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.journal import Problem
from runbook_guard.collectors.registry import OperationSet, declare
from runbook_guard.engine.plan import MetricQuery

API = declare(OperationSet("cloudwatch.metrics", "cloudwatch", ("GetMetricData",)))
MAX_QUERIES = 500

#: One selected (resource, query) pair; the resource is the snapshot envelope, mutated in place.
Wanted = tuple[dict[str, Any], MetricQuery]


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


def _query(index: int, resource: dict[str, Any], query: MetricQuery) -> dict[str, Any]:
    return {
        "Id": f"q{index}",
        "MetricStat": {
            "Metric": {
                "Namespace": query.namespace,
                "MetricName": query.metric,
                "Dimensions": query.resolved_dimensions(resource),
            },
            "Period": query.period_seconds,
            "Stat": query.stat,
        },
        "ReturnData": True,
    }


def fetch(call: Call, window_seconds: int, wanted: Sequence[Wanted]) -> None:
    """Fill ``resource["metrics"][key]`` for every pair, in ceil(len/500) batches (plus pages)."""
    end = call.now.replace(second=0, microsecond=0)
    start = end - timedelta(seconds=window_seconds)
    for offset in range(0, len(wanted), MAX_QUERIES):
        _batch(call, start, end, wanted[offset : offset + MAX_QUERIES])


def attribution(batch: Sequence[Wanted]) -> list[tuple[str, list[str]]]:
    """Per resource type, the ``metrics.<key>`` data keys a failed batch leaves undecided."""
    keys: dict[str, set[str]] = {}
    for resource, query in batch:
        keys.setdefault(resource["type"], set()).add(f"metrics.{query.key}")
    return [(rtype, sorted(k)) for rtype, k in sorted(keys.items())]


def _batch(call: Call, start: Any, end: Any, batch: Sequence[Wanted]) -> None:
    queries = [_query(i, resource, query) for i, (resource, query) in enumerate(batch)]
    pages = call.pages(
        "GetMetricData",
        MetricDataQueries=queries,
        StartTime=start,
        EndTime=end,
        attribution=attribution(batch),
    )
    if pages is None:
        return
    values: dict[str, list[float]] = {}
    status: dict[str, str] = {}
    for page in pages:
        for result in page.get("MetricDataResults") or []:
            values.setdefault(result["Id"], []).extend(result.get("Values") or [])
            status[result["Id"]] = str(result.get("StatusCode", "Complete"))
    for index, (resource, query) in enumerate(batch):
        qid = f"q{index}"
        if status.get(qid, "Missing") != "Complete":
            call.record(
                "GetMetricData",
                Problem(
                    f"MetricStatus{status.get(qid, 'Missing')}",
                    f"{query.namespace}/{query.metric} {query.stat} did not complete",
                ),
                resource=resource["id"],
                resource_type=resource["type"],
                data_keys=[f"metrics.{query.key}"],
            )
            continue
        resource.setdefault("metrics", {})[query.key] = fold(values[qid], query.reduce)
