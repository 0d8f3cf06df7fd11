"""Organisation scale (issue 14): one machine collecting 10 to 1,000 accounts, and the merge of
1,000 shards, measuring the tool, not an emulator.

moto costs milliseconds of CPU per call and holds every account's state in one process, so
the accounts are served by a fake (``org_fake``) in another process: the answers one account's
collection of the demo stack got from moto, recorded once (``org_record``), given to any
account with that account's id in them, after 40 ms of added latency per request (slept in an
asyncio loop, no CPU held). Each account is one copy of the runbook's stack in one region,
collected with the shipped pack, as a user runs it:

    runbook-guard collect --accounts accounts.yaml -o snapshot.json -q

``accounts.yaml`` lists N accounts with the role ``RunbookGuardReadOnly`` and ``us-east-1``.
Timed: the whole process, start-up to exit (wall), through ``collect.py wrap`` (which counts
HTTP requests in flight and calls per operation, and writes the process's CPU time and peak
RSS, ``VmHWM``); meanwhile this script samples its RSS, threads and open file descriptors
every 0.2 s and the load average every second. Every account's resources must equal the
recorded collection's (account ids aside): the row says so.

The merge: ``plan --accounts accounts.yaml --shards 1000`` writes the manifest; the 1,000 shard
snapshots are cut from the 1,000-account snapshot by the manifest's split and stamped by
``engine.shards.stamp_shard`` (``org_shards``; a few shards are also collected for real,
``collect --manifest M --shard K/1000``, and compared with their cut); then, timed the same
way, each its own process:

    runbook-guard evaluate --manifest manifest.json -s 'shards/*.json' -o results.json \
        --fail-on never
    runbook-guard report -r results.json -d out -q

One machine, several processes (``org_processes``): each size also collected as P shards of
one manifest at once (``--processes 1 2``: one process, then two, this machine's cores), as
the CI examples run them on P machines.

Usage: python benchmarks/org.py [--accounts 10 100 1000] [--latency-ms 40] [--merge 1000]
       [--check-shards 1 500 1000] [--processes 1 2] [--work DIR]
Prints Markdown tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run by path: ``benchmarks`` is this script's package
    sys.path.insert(0, str(ROOT))

from benchmarks import org_processes, org_shards  # noqa: E402
from benchmarks.org_fake import serve  # noqa: E402
from benchmarks.org_record import accounts_file, cli_env, record, runbook_guard, summary  # noqa: E402
from benchmarks.org_wire import RECORDED_ACCOUNT, save  # noqa: E402

WRAPPER = Path(__file__).resolve().parent / "collect.py"
FIRST_ACCOUNT = 200_000_000_000
SAMPLE_SECONDS = 0.2


def account_ids(count: int) -> list[str]:
    return [f"{FIRST_ACCOUNT + index:012d}" for index in range(count)]


# --- one process, measured ---------------------------------------------------------------------


@dataclass
class Measured:
    """One CLI process: wall time, what the wrapper saw, what the sampler saw."""

    seconds: float
    stats: dict[str, Any]
    rss_kib: list[int] = field(default_factory=list)
    threads: int = 0
    fds: int = 0
    loads: list[float] = field(default_factory=list)

    @property
    def peak_mib(self) -> float:
        return float(self.stats["rss_kib"]) / 1024

    @property
    def cpu(self) -> float:
        return float(self.stats["cpu"])

    def rss_through_run(self) -> str:
        """RSS (MiB) at a quarter, half and three quarters of the run: flat, or growing."""
        samples = self.rss_kib
        if not samples:
            return "-"
        picks = [samples[len(samples) * k // 4] // 1024 for k in (1, 2, 3)]
        return " / ".join(str(p) for p in picks)

    @property
    def load(self) -> str:
        return f"{min(self.loads):.1f} to {max(self.loads):.1f}" if self.loads else "-"


def measured(command: Sequence[str], env: Mapping[str, str], cwd: Path) -> Measured:
    """``runbook-guard COMMAND`` through ``collect.py wrap`` (no latency added there), sampled."""
    stats = cwd / f"stats-{command[0]}.json"
    args = [sys.executable, str(WRAPPER), "wrap", str(stats), "0", "--", *command]
    started = time.perf_counter()
    process = subprocess.Popen(args, env=dict(env), cwd=cwd, stderr=subprocess.PIPE, text=True)
    result = Measured(0.0, {})
    sampler = threading.Thread(target=_sample, args=(process, result), daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    result.seconds = time.perf_counter() - started
    sampler.join()
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{command[0]}: exit {process.returncode}\n{stderr[-3000:]}")
    result.stats = json.loads(stats.read_text())
    return result


def _sample(process: subprocess.Popen[str], into: Measured) -> None:
    proc = Path(f"/proc/{process.pid}")
    last_load = 0.0
    while process.poll() is None:
        try:
            status = dict(line.split(":", 1) for line in (proc / "status").read_text().splitlines())
            into.rss_kib.append(int(status["VmRSS"].split()[0]))
            into.threads = max(into.threads, int(status["Threads"]))
            into.fds = max(into.fds, len(os.listdir(proc / "fd")))
        except (OSError, KeyError, ValueError):
            pass  # the process ended between two reads
        if time.monotonic() - last_load >= 1.0:
            last_load = time.monotonic()
            into.loads.append(os.getloadavg()[0])
        time.sleep(SAMPLE_SECONDS)


# --- collecting N accounts ---------------------------------------------------------------------


@dataclass
class Collection:
    accounts: int
    process: Measured
    snapshot: dict[str, Any]
    fake: dict[str, Any]
    faithful: int

    @property
    def calls(self) -> int:
        return int(self.snapshot["metadata"]["api_calls"])

    def row(self) -> str:
        metadata, process = self.snapshot["metadata"], self.process
        span = [datetime.fromisoformat(str(metadata[k])) for k in ("started_at", "finished_at")]
        collecting = (span[1] - span[0]).total_seconds()
        missed = sum(self.fake["missed"].values())
        return (
            f"| {self.accounts:,} | {self.calls:,} | {len(self.snapshot['resources']):,} "
            f"| {len(self.snapshot['errors'])} | {missed} | {self.faithful:,} "
            f"| **{process.seconds:.1f}** | {collecting:.1f} | {self.calls / process.seconds:.0f} "
            f"| {process.cpu:.1f} | **{process.peak_mib:.0f}** | {process.rss_through_run()} "
            f"| {process.threads:,} "
            f"| {process.fds:,} | {process.stats['peak']} | {self.fake['cpu']:.1f} "
            f"| {process.load} |"
        )


COLLECTION_HEADER = (
    "| accounts | API calls | resources | errors | fake misses | accounts equal to the "
    "recording | wall s | collecting s | calls/s | CPU s | peak RSS MiB | RSS MiB at 1/4, 1/2, "
    "3/4 of the run | threads (max) | open fds (max) | HTTP in flight (max) | fake CPU s "
    "| load average |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
)


def collect_accounts(
    count: int, recording: Path, reference: list[dict[str, Any]], latency_ms: float, work: Path
) -> Collection:
    """``collect --accounts`` of ``count`` accounts against the fake, measured."""
    folder = work / f"accounts-{count}"
    folder.mkdir(parents=True, exist_ok=True)
    accounts = accounts_file(folder / "accounts.yaml", account_ids(count))
    fake_stats = folder / "fake-stats.json"
    with serve(recording, latency_ms, fake_stats) as endpoint:
        command = ["collect", "--accounts", str(accounts), "-o", "snapshot.json", "-q"]
        process = measured(command, cli_env(endpoint), folder)
    snapshot = json.loads((folder / "snapshot.json").read_text())
    fake = json.loads(fake_stats.read_text())
    return Collection(count, process, snapshot, fake, faithful(snapshot, reference))


def faithful(snapshot: Mapping[str, Any], reference: list[dict[str, Any]]) -> int:
    """How many accounts' resources equal the recorded collection's, their id aside."""
    expected = json.dumps(reference, sort_keys=True)
    by_account: dict[str, list[dict[str, Any]]] = {}
    for resource in snapshot["resources"]:
        by_account.setdefault(str(resource["account"]), []).append(resource)
    return sum(
        json.dumps(mine, sort_keys=True).replace(account, RECORDED_ACCOUNT) == expected
        for account, mine in by_account.items()
    )


# --- merging shards ------------------------------------------------------------------------------


def merge(
    collection: Collection,
    shards: int,
    check: Sequence[int],
    recording: Path,
    latency_ms: float,
    work: Path,
) -> None:
    folder = work / f"merge-{shards}"
    folder.mkdir(parents=True, exist_ok=True)
    accounts = work / f"accounts-{collection.accounts}" / "accounts.yaml"
    with serve(recording, latency_ms) as endpoint:
        plan = ["plan", "--accounts", str(accounts), "--shards", str(shards), "-o", "manifest.json"]
        runbook_guard(plan, endpoint, folder)
        manifest = json.loads((folder / "manifest.json").read_text())
        started = time.perf_counter()
        written = org_shards.write_all(collection.snapshot, manifest, folder / "shards")
        print(f"{written} shards cut in {time.perf_counter() - started:.1f} s", flush=True)
        for index in check:
            real = folder / f"collected-{index}.json"
            shard = ["collect", "--manifest", "manifest.json", "--shard", f"{index}/{shards}"]
            runbook_guard([*shard, "-o", str(real), "-q"], endpoint, folder)
            made = json.loads((folder / "shards" / f"shard-{index:04d}.json").read_text())
            found = org_shards.differences(json.loads(real.read_text()), made)
            said = "; ".join(found) if found else "the same but for times and calls"
            print(f"shard {index}/{shards} collected vs cut: {said}", flush=True)
    env = cli_env("http://127.0.0.1:9")  # evaluate and report make no call
    evaluate = ["evaluate", "--manifest", "manifest.json", "-s", "shards/*.json"]
    evaluated = measured([*evaluate, "-o", "results.json", "--fail-on", "never"], env, folder)
    reported = measured(["report", "-r", "results.json", "-d", "out", "-q"], env, folder)
    results = json.loads((folder / "results.json").read_text())
    statuses = Counter(str(r["status"]) for r in results["results"])
    size = sum(p.stat().st_size for p in (folder / "shards").glob("*.json")) / 2**20
    print(
        f"\nMerge of {shards} shards ({size:.0f} MiB of shard snapshots), "
        f"{len(results['results']):,} results: {dict(sorted(statuses.items()))}\n"
    )
    print("| step | wall s | CPU s | peak RSS MiB | load average |\n|---|---:|---:|---:|---|")
    for name, step in (("evaluate", evaluated), ("report (all formats)", reported)):
        figures = f"{step.seconds:.1f} | {step.cpu:.1f} | {step.peak_mib:.0f}"
        print(f"| {name} | {figures} | {step.load} |")
    total = evaluated.seconds + reported.seconds
    peak = max(evaluated.peak_mib, reported.peak_mib)
    print(f"| **both** | **{total:.1f}** | | **{peak:.0f}** | |")


# --- the run -------------------------------------------------------------------------------------


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description="Organisation-scale benchmark (issue 14).")
    parser.add_argument("--accounts", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--merge", type=int, default=1000, help="shards to merge; 0: no merge")
    parser.add_argument("--check-shards", type=int, nargs="*", default=[1, 500, 1000])
    parser.add_argument("--work", type=Path, help="keep every file here (default: a temp dir)")
    parser.add_argument(
        "--processes",
        type=int,
        nargs="*",
        default=[1, 2],
        help="1: one `collect --accounts` process; P > 1: P shards collected at once",
    )
    options = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="org-bench-") as temporary:
        work = options.work or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        recorded, reference_path = record(work)
        recording = work / "recording.json"
        save(str(recording), recorded.answers)
        reference = json.loads(reference_path.read_text())["resources"]
        took = time.perf_counter() - started
        print(f"recorded in {took:.1f} s: {summary(recorded)}, {len(reference)} resources")
        collections = []
        for count in options.accounts if 1 in options.processes else []:
            done = collect_accounts(count, recording, reference, options.latency_ms, work)
            collections.append(done)
            print(done.row(), flush=True)
        sharded = []
        for count in options.accounts:
            for processes in (p for p in options.processes if p > 1):
                done_sharded = org_processes.collect_in_processes(
                    account_ids(count), processes, recording, options.latency_ms, work,
                    measured, faithful, reference,
                )  # fmt: skip
                sharded.append(done_sharded)
                print(done_sharded.row(), flush=True)
        if collections:
            print(f"\n{COLLECTION_HEADER}")
            print("\n".join(c.row() for c in collections))
        if sharded:
            print(f"\n{org_processes.HEADER}")
            print("\n".join(s.row() for s in sharded))
        largest = max(collections, key=lambda c: c.accounts, default=None)
        if options.merge and largest is not None and largest.accounts >= options.merge:
            check = [k for k in options.check_shards if 1 <= k <= options.merge]
            merge(largest, options.merge, check, recording, options.latency_ms, work)
    print(f"\nload average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
