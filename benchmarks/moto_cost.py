"""moto's own cost per call: the floor under every figure of the collection benchmark.

Two measures, printed beside the figures by ``collect.py``:

- trivial calls (``sqs ListQueues`` with a prefix nothing has) from a separate process, one
  and 32 in flight (``python benchmarks/moto_cost.py probe CALLS THREADS`` against
  ``AWS_ENDPOINT_URL``): how many simple calls a second the one-process server answers;
- one GetMetricData of each shape the pack sends, answered by moto's own code and by the
  benchmark's index (``metric_index``), called in the server's process on the seeded backend
  (no HTTP): moto scans every datapoint of the window once per period of every query, so its
  cost grows with the copies seeded; the index's with the datapoints of the asked series.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

REGION = "us-east-1"
#: GetMetricData shapes the pack sends: (what, queries, window seconds, period seconds).
#: The functions' hourly error counts over a day, and the tables' five-minute throttles over
#: seven days; each query asks a seeded series (the copies' functions and tables in turn).
METRIC_SHAPES = (
    ("AWS/Lambda", "Errors", "FunctionName", 100, 86400, 3600),
    ("AWS/DynamoDB", "WriteThrottleEvents", "TableName", 10, 7 * 86400, 300),
)


def probe(calls: int, threads: int) -> None:
    """Print the seconds ``calls`` trivial ``sqs ListQueues`` calls take (a prefix nothing has)."""
    import boto3

    client = boto3.Session().client("sqs", region_name=REGION)
    client.list_queues(QueueNamePrefix="zz-probe")  # connection and model warm-up
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: client.list_queues(QueueNamePrefix="zz-probe"), range(calls)))
    print(json.dumps({"calls": calls, "seconds": time.perf_counter() - started}))


def simple_call_rates(env: Mapping[str, str], calls: int = 400) -> list[tuple[int, float]]:
    """(calls in flight, calls a second) of trivial calls, from a separate process."""
    rates = []
    for threads in (1, 32):
        answer = subprocess.run(
            [sys.executable, __file__, "probe", str(calls), str(threads)],
            env=dict(env),
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(answer.stdout)
        rates.append((threads, figures["calls"] / figures["seconds"]))
    return rates


def _series_values(backend: Any, namespace: str, metric: str, dimension: str) -> list[str]:
    """The values of ``dimension`` among the backend's stored datapoints of ``metric``."""
    return sorted(
        {
            str(d.value)
            for datum in backend.metric_data
            if (datum.namespace, datum.name) == (namespace, metric)
            for d in datum.dimensions
            if d.name == dimension
        }
    )


def metric_call_seconds() -> str:
    """Seconds of one GetMetricData per shape, moto's own code and the index, as words.

    Called in the process holding the server (the backend is this process's), after seeding.
    """
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.models import DEFAULT_ACCOUNT_ID

    from benchmarks import metric_index

    backend = cloudwatch_backends[DEFAULT_ACCOUNT_ID][REGION]
    # moto stores and parses timestamps as naive UTC.
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0, tzinfo=None)
    index = metric_index.indexed()
    started = time.perf_counter()
    index(backend, [], end - timedelta(hours=1), end)  # builds the index (once per server)
    words = [f"index built in {(time.perf_counter() - started) * 1000:.0f} ms"]
    for namespace, metric, dimension, count, window, period in METRIC_SHAPES:
        names = _series_values(backend, namespace, metric, dimension) or ["none"]
        queries: list[dict[str, Any]] = [
            {
                "Id": f"q{n}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": metric,
                        "Dimensions": [{"Name": dimension, "Value": names[n % len(names)]}],
                    },
                    "Period": period,
                    "Stat": "Sum",
                },
            }
            for n in range(count)
        ]
        start = end - timedelta(seconds=window)
        took = {}
        for how, answer in (("moto", metric_index.moto_own()), ("index", index)):
            started = time.perf_counter()
            answer(backend, queries, start, end)
            took[how] = time.perf_counter() - started
        words.append(
            f"{count} {metric} series of {window // 86400} d at {period} s: "
            f"moto {took['moto']:.2f} s, index {took['index'] * 1000:.1f} ms"
        )
    return f"{len(backend.metric_data)} datapoints stored; " + "; ".join(words)


if __name__ == "__main__" and sys.argv[1:2] == ["probe"]:
    probe(int(sys.argv[2]), int(sys.argv[3]))
