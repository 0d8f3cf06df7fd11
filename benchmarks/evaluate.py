"""Evaluation at scale: N resources over 10 types against 50 rules.

Rules mix equality, regular expressions, three-level thresholds, ratios of metrics and ages
in days, five per type, each applying to every resource of its type, so the work is
resources x applicable rules. Prints wall time, evaluations per second and peak memory for
each size. Usage: python benchmarks/evaluate.py [N ...]   (default: 10000 50000 100000)
"""

from __future__ import annotations

import gc
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.results import build_results
from runbook_guard.engine.snapshot import Snapshot

TYPES = [f"aws.bench.kind{i}" for i in range(10)]
NOW = datetime(2026, 11, 27, tzinfo=timezone.utc)
ERRORS = "AWS/Bench/Errors:Sum:Name={name}:86400s/86400s:sum"
CALLS = "AWS/Bench/Calls:Sum:Name={name}:86400s/86400s:sum"

RULES = """
  - id: {t}.status
    title: status is active
    covers: [RB-B01]
    section: bench
    cadence: daily
    severity: high
    resource: {rtype}
    expect: {{path: Config.Status, equals: ACTIVE}}
  - id: {t}.name
    title: name follows the convention
    covers: [RB-D07]
    section: bench
    cadence: daily
    severity: low
    resource: {rtype}
    expect: {{path: Name, matches: '^svc-[a-z]+-\\d+$'}}
  - id: {t}.depth
    title: depth thresholds
    covers: [RB-D06]
    section: bench
    cadence: daily
    severity: medium
    resource: {rtype}
    value: {{path: Stats.Depth}}
    levels: {{normal: "< 100", warn: "> 500", fail: "> 1000"}}
  - id: {t}.rate
    title: error rate
    covers: [RB-T02]
    section: bench
    cadence: daily
    severity: high
    resource: {rtype}
    metrics:
      errors: {{namespace: AWS/Bench, metric: Errors, stat: Sum, dimensions: {{Name: "{{name}}"}}}}
      calls: {{namespace: AWS/Bench, metric: Calls, stat: Sum, dimensions: {{Name: "{{name}}"}}}}
    value:
      ratio: {{numerator: {{metric: errors}}, denominator: {{metric: calls}}}}
      unit: "%"
    levels: {{normal: "< 0.5%", warn: "> 2%", fail: "> 5%"}}
    no_data: note
  - id: {t}.age
    title: rotated recently
    covers: [RB-S01]
    section: bench
    cadence: monthly
    severity: medium
    resource: {rtype}
    expect: {{path: LastRotated, newer_than: 90}}
"""


def policy_text() -> str:
    return "rules:" + "".join(RULES.format(t=f"kind{i}", rtype=t) for i, t in enumerate(TYPES))


def snapshot(count: int) -> dict[str, Any]:
    resources = []
    for i in range(count):
        rtype = TYPES[i % len(TYPES)]
        name = f"svc-{'abcdefgh'[i % 8]}x-{i}" if i % 13 else f"legacy_{i}"
        resources.append({
            "type": rtype,
            "id": f"arn:aws:bench:us-east-1:123456789012:{rtype}/{name}",
            "name": name,
            "region": "us-east-1",
            "account": "123456789012",
            "data": {
                "Name": name,
                "Config": {"Status": "ACTIVE" if i % 17 else "FAILED", "Size": i},
                "Stats": {"Depth": (i * 37) % 1500},
                "LastRotated": (NOW - timedelta(days=i % 200)).isoformat(),
            },
            "metrics": {ERRORS: float(i % 9), CALLS: float(100 + i % 50) if i % 11 else 0.0},
        })  # fmt: skip
    coverage = [{"type": t, "account": "123456789012", "region": "us-east-1", "complete": True}
                for t in TYPES]  # fmt: skip
    return {
        "schema_version": 1,
        "metadata": {"tool_version": "bench", "started_at": NOW.isoformat(),
                     "finished_at": NOW.isoformat(), "accounts": ["123456789012"],
                     "regions": ["us-east-1"], "parameters": {}},
        "resources": resources, "errors": [], "coverage": coverage,
    }  # fmt: skip


def measure(count: int, policy_dir: Path) -> None:
    """One size, in a fresh process so that peak RSS belongs to this size alone."""
    policy_set = load_policy_set([policy_dir])
    rules = policy_set.compile()
    document = snapshot(count)
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    results = build_results(policy_set, rules, Snapshot(document), {}, NOW)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    evaluations = len(results["results"])
    grown = (peak - before) / 1024
    print(
        f"{count:>8} resources  {len(rules)} rules  {evaluations:>8} results  "
        f"{elapsed:6.2f} s  {evaluations / elapsed:>10,.0f} evaluations/s  "
        f"peak RSS {peak / 1024:6.0f} MiB (+{grown:.0f} MiB in evaluation)"
    )


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "bench.yaml").write_text(policy_text())
        for size in sizes:
            if len(sizes) == 1:
                measure(size, Path(folder))
            else:
                subprocess.run([sys.executable, __file__, str(size)], check=True)


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [10_000, 50_000, 100_000])
