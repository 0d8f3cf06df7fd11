"""Collection at scale: the runbook's stack copied N times into a moto server, then collected.

For each N, a fresh ThreadedMotoServer is seeded with N copies of the stack (distinct
prefixes), and the whole plan (every resource type, the runbook's metrics, ERROR counts) is
collected through the server's endpoint, as ``runbook-guard collect`` would with
``AWS_ENDPOINT_URL``. Prints wall time, API calls, calls per resource, and the GetMetricData
calls against their bound ceil(metric queries / 500).

Usage: python benchmarks/collect.py [N ...]   (default: 1 10 50)
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections import Counter
from typing import Any

import boto3

from runbook_guard.collectors import Scope, collect
from runbook_guard.demo.plans import everything_plan
from runbook_guard.demo.server import DUMMY_ENV, moto_server, reset
from runbook_guard.demo.stack import seed_runbook_stack


def measure(copies: int) -> dict[str, Any]:
    """Seed a fresh server with ``copies`` stacks and collect them once."""
    with moto_server() as endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        reset(endpoint)  # moto's state is per process, not per server
        started = time.perf_counter()
        seed_runbook_stack(boto3.Session(), endpoint_url=endpoint, copies=copies)
        seeded = time.perf_counter() - started
        calls: Counter[str] = Counter()

        def session(profile: str | None) -> boto3.Session:
            created = boto3.Session(profile_name=profile)
            created.events.register("before-call", lambda model, **_: calls.update([model.name]))
            return created

        scope = Scope(max_attempts=2, quiet=True, session_factory=session)
        started = time.perf_counter()
        snapshot = collect(everything_plan("agenticai"), scope)
        wall = time.perf_counter() - started
    resources = len(snapshot["resources"])
    queries = sum(len(r.get("metrics", {})) for r in snapshot["resources"])
    metric_errors = [e for e in snapshot["errors"] if e["operation"] == "GetMetricData"]
    return {
        "copies": copies,
        "seed_s": seeded,
        "wall_s": wall,
        "resources": resources,
        "api_calls": snapshot["metadata"]["api_calls"],
        "per_resource": snapshot["metadata"]["api_calls"] / max(1, resources),
        "metric_queries": queries,
        "get_metric_data": calls["GetMetricData"],
        "bound": math.ceil(queries / 500),
        "errors": len(snapshot["errors"]),
        "metric_errors": len(metric_errors),
    }


def main(sizes: list[int]) -> None:
    os.environ.update(DUMMY_ENV)
    header = (
        "| copies | resources | API calls | calls/resource | wall s | seed s "
        "| metric queries | GetMetricData (bound) | errors |"
    )
    print(header)
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for copies in sizes:
        row = measure(copies)
        print(
            f"| {row['copies']} | {row['resources']} | {row['api_calls']} "
            f"| {row['per_resource']:.2f} | {row['wall_s']:.1f} | {row['seed_s']:.1f} "
            f"| {row['metric_queries']} | {row['get_metric_data']} ({row['bound']}) "
            f"| {row['errors']} |",
            flush=True,
        )
        if row["get_metric_data"] > row["bound"] or row["metric_errors"]:
            sys.exit(f"GetMetricData calls {row['get_metric_data']} exceed {row['bound']}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1, 10, 50])
