"""One machine, several processes: an organisation collected as P shards at once.

One collecting process is CPU-bound on one core (botocore's cost per account: its session's
clients, signing, parsing), so a machine with P cores collects faster as P shards of one
manifest, each its own process, exactly as the CI examples run them on P machines:

    runbook-guard plan --accounts accounts.yaml --shards P -o manifest.json
    runbook-guard collect --manifest manifest.json --shard K/P -o snapshot.json -q  # all K at once

Timed: from the first shard's start to the last one's exit (wall); CPU is the shards' sum, and
the peak is the largest shard's RSS and the sum of all of them (what the machine held). The
shards are then merged (``evaluate --manifest``) to check that every unit arrived: the row
says how many shards the merge used and how many accounts equal the recording.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.org_fake import serve
from benchmarks.org_record import accounts_file, cli_env, runbook_guard


@dataclass
class Sharded:
    accounts: int
    processes: int
    seconds: float
    shards: list[Any]  # org.Measured, one per shard
    snapshots: list[dict[str, Any]]
    merged_ok: int
    faithful: int
    fake_cpu: float

    def row(self) -> str:
        calls = sum(int(s["metadata"]["api_calls"]) for s in self.snapshots)
        resources = sum(len(s["resources"]) for s in self.snapshots)
        errors = sum(len(s["errors"]) for s in self.snapshots)
        cpu = sum(shard.cpu for shard in self.shards)
        peaks = [shard.peak_mib for shard in self.shards]
        loads = [load for shard in self.shards for load in shard.loads]
        load = f"{min(loads):.1f} to {max(loads):.1f}" if loads else "-"
        return (
            f"| {self.accounts:,} | {self.processes} | {calls:,} | {resources:,} | {errors} "
            f"| {self.merged_ok} of {self.processes} | {self.faithful:,} "
            f"| **{self.seconds:.1f}** | {cpu:.1f} | {max(peaks):.0f} / **{sum(peaks):.0f}** "
            f"| {self.fake_cpu:.1f} | {load} |"
        )


HEADER = (
    "| accounts | processes (shards) | API calls | resources | errors | shards merged "
    "| accounts equal to the recording | wall s | CPU s (all) | peak RSS MiB (largest / all) "
    "| fake CPU s | load average |\n"
    "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|"
)


#: ``org.measured``: one CLI process run and measured (passed in: ``org`` imports this module).
Measure = Callable[[Sequence[str], Mapping[str, str], Path], Any]
#: ``org.faithful``: how many accounts' resources equal the recording's.
Faithful = Callable[[Mapping[str, Any], list[dict[str, Any]]], int]


def collect_in_processes(
    ids: list[str],
    processes: int,
    recording: Path,
    latency_ms: float,
    work: Path,
    measured: Measure,
    faithful: Faithful,
    reference: list[dict[str, Any]],
) -> Sharded:
    """The accounts ``ids`` as ``processes`` shards collected at once against the fake."""
    count = len(ids)
    folder = work / f"accounts-{count}-x{processes}"
    folder.mkdir(parents=True, exist_ok=True)
    accounts = accounts_file(folder / "accounts.yaml", ids)
    fake_stats = folder / "fake-stats.json"
    with serve(recording, latency_ms, fake_stats) as endpoint:
        plan = ["plan", "--accounts", str(accounts), "--shards", str(processes)]
        runbook_guard([*plan, "-o", "manifest.json"], endpoint, folder)
        env = cli_env(endpoint)
        results: dict[int, Any] = {}

        def shard(index: int) -> None:
            cwd = folder / f"shard-{index}"
            cwd.mkdir(exist_ok=True)
            command = ["collect", "--manifest", str(folder / "manifest.json")]
            command += ["--shard", f"{index}/{processes}", "-o", "snapshot.json", "-q"]
            results[index] = measured(command, env, cwd)

        started = time.perf_counter()
        threads = [threading.Thread(target=shard, args=(k,)) for k in range(1, processes + 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
    snapshots = [
        json.loads((folder / f"shard-{k}" / "snapshot.json").read_text())
        for k in range(1, processes + 1)
    ]
    merged = _merge(folder, processes)
    everything = {"resources": [r for s in snapshots for r in s["resources"]]}
    return Sharded(
        count,
        processes,
        seconds,
        [results[k] for k in range(1, processes + 1)],
        snapshots,
        merged,
        faithful(everything, reference),
        float(json.loads(fake_stats.read_text())["cpu"]),
    )


def _merge(folder: Path, processes: int) -> int:
    """How many shards the merge used: those no merge error (``ShardMissing`` and the rest,
    each naming ``shard K/N``) speaks of."""
    evaluate = ["evaluate", "--manifest", "manifest.json", "-s", "shard-*/snapshot.json"]
    unused = "http://127.0.0.1:9"  # evaluate makes no call
    runbook_guard([*evaluate, "-o", "merged.json", "--fail-on", "never"], unused, folder)
    results: Mapping[str, Any] = json.loads((folder / "merged.json").read_text())
    broken = {
        found.group(0)
        for error in results["collection_errors"]
        if error.get("operation") == "MergeShards"
        and (found := re.search(r"shard \d+/\d+", str(error["message"])))
    }
    return processes - len(broken)
