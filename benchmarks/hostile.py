"""Hostile and large inputs: each ends in a result or a clean error; how long, how much memory.

Every case builds its input, runs it the way the CLI would (load, validate, evaluate with the
shipped pack, render), and says what came out: ``result`` (with a count) or ``clean error``
(the first positioned problem line). Each case runs in a fresh process so that its peak RSS
is its own. tests/hardening/test_hostile_inputs.py asserts the same outcomes on the same
inputs (built by tests/hardening/hostile_inputs.py) and never a time.

Usage: python benchmarks/hostile.py            # every case
       python benchmarks/hostile.py CASE ...   # some (names as printed)
Each case's input is built first; the figures are those of reading it and what follows.
       python benchmarks/hostile.py --duplicate-keys   # the duplicate-key check's cost
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
from rich.console import Console

from runbook_guard.engine.config import load_config
from runbook_guard.engine.documents import _refuse_duplicate_keys, load_document
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.results import build_results
from runbook_guard.engine.snapshot import load_snapshot
from runbook_guard.engine.waivers import load_waivers
from runbook_guard.reporters import ALL_FORMATS, render_all
from runbook_guard.reporters.console import print_summary
from runbook_guard.reporters.loading import load_results

# The inputs are the hardening tests' own (they assert what each comes to).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.hardening.hostile_inputs import (
    MB,
    NOW,
    REDOS,
    alias_bomb,
    deep_json,
    deep_policy,
    evaluate_with_pack,
    large_snapshot,
    many_rules,
    many_scripts_snapshot,
    one_file_of_rules,
    queue,
    redos_policy,
    redos_snapshot,
    snapshot_document,
)

# --- cases ------------------------------------------------------------------------------------


def outcome(action: Callable[[], str]) -> str:
    """``result: ...`` or ``clean error: <first problem line>``; anything else propagates."""
    try:
        return f"result: {action()}"
    except InputError as error:
        return f"clean error: {error.problems[0]}"


def write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return path


def judged_and_rendered(path: Path, folder: Path) -> str:
    """``evaluate -s`` then ``report`` in every format, and the console summary."""
    results = evaluate_with_pack(load_snapshot(path), folder)
    texts = render_all(results, ALL_FORMATS)
    with (folder / "console.txt").open("w") as console:
        print_summary(results, Console(file=console, width=120))
    size = sum(map(len, texts)) / MB
    return f"{len(results['results'])} results, {size:.1f} MB of reports in every format"


def evaluated_by(policy: Path, snapshot: Path) -> str:
    policy_set = load_policy_set([policy])
    results = build_results(policy_set, policy_set.compile(), load_snapshot(snapshot), {}, NOW)
    return "; ".join(f"{r['status']}: {r['message'][:90]}" for r in results["results"])


@dataclass(frozen=True)
class Case:
    """``build`` writes the input files (in the parent: their cost is not the case's); ``run``
    reads them in a fresh process, as the CLI would, and answers what came of it."""

    description: str
    build: Callable[[Path], object]
    run: Callable[[Path], str]


def _rules_10000(folder: Path) -> str:
    policy_set = load_policy_set([folder / "rules"])
    snapshot = load_snapshot(folder / "snapshot.json")
    results = build_results(policy_set, policy_set.compile(), snapshot, {}, NOW)
    return f"{len(policy_set.entries)} rules, {len(results['results'])} results"


def _redos_inputs(pattern: str) -> Callable[[Path], object]:
    def build(folder: Path) -> None:
        write(folder, "redos.yaml", redos_policy(pattern))
        write(folder, "snapshot.json", orjson.dumps(redos_snapshot()))

    return build


def _hundred_queues() -> bytes:
    queues = [queue(f"agenticai-bench-{i:06d}", i) for i in range(100)]
    return orjson.dumps(snapshot_document(queues))


CASES: dict[str, Case] = {
    "snapshot-50mb": Case(
        "a 50 MB snapshot (79,000 queues): the pack, and 2 rules on 1,600 of them",
        lambda f: write(f, "snapshot.json", large_snapshot(50)),
        lambda f: judged_and_rendered(f / "snapshot.json", f),
    ),
    "rules-10000": Case(
        "10,000 rules in 25 files, evaluated on 100 queues",
        lambda f: (many_rules(f / "rules", 10_000), write(f, "snapshot.json", _hundred_queues())),
        _rules_10000,
    ),
    "rules-10000-one-file": Case(
        "10,000 rules in one 3.2 MB file",
        lambda f: one_file_of_rules(f / "rules.yaml", 10_000),
        lambda f: f"{len(load_policy_set([f / 'rules.yaml']).entries)} rules",
    ),
    "deep-policy": Case(
        "a policy nested 1,000 levels",
        lambda f: write(f, "deep.yaml", deep_policy(1_000)),
        lambda f: f"{len(load_policy_set([f / 'deep.yaml']).entries)} rules",
    ),
    "deep-snapshot": Case(
        "a snapshot nested 100,000 levels",
        lambda f: write(f, "deep.json", deep_json(100_000)),
        lambda f: f"{len(load_snapshot(f / 'deep.json').resources)} resources",
    ),
    "deep-results": Case(
        "a results file nested 100,000 levels (report, --previous)",
        lambda f: write(f, "results.json", deep_json(100_000)),
        lambda f: f"{len(load_results(f / 'results.json')['results'])} results",
    ),
    "alias-bomb-policy": Case(
        "a billion-laughs policy (9^9 values)",
        lambda f: write(f, "bomb.yaml", alias_bomb("rules")),
        lambda f: f"{len(load_policy_set([f / 'bomb.yaml']).entries)} rules",
    ),
    "alias-bomb-waivers": Case(
        "a billion-laughs waivers file",
        lambda f: write(f, "waivers.yaml", alias_bomb("waivers")),
        lambda f: f"{len(load_waivers(f / 'waivers.yaml'))} waivers",
    ),
    "alias-bomb-config": Case(
        "a billion-laughs config file",
        lambda f: write(f, "config.yaml", alias_bomb("regions")),
        lambda f: f"{len(load_config(f / 'config.yaml').regions)} regions",
    ),
    **{
        f"redos-{label}": Case(
            f"matches: {pattern} against 31 a's and a '!'",
            _redos_inputs(pattern),
            lambda f: evaluated_by(f / "redos.yaml", f / "snapshot.json"),
        )
        for label, pattern in REDOS.items()
    },
    "scripts-and-controls": Case(
        "10,000 queues named in 20 scripts with control characters: pack, every format",
        lambda f: write(f, "snapshot.json", orjson.dumps(many_scripts_snapshot(500))),
        lambda f: judged_and_rendered(f / "snapshot.json", f),
    ),
}


def peak_mib() -> float:
    """This process's peak resident memory. Linux keeps ``ru_maxrss`` across exec (a child
    would report its parent's peak), so its own high-water mark, VmHWM, is read first."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, folder: Path) -> None:
    """One case's run in this process: its outcome, wall time and peak RSS."""
    case = CASES[name]
    started = time.perf_counter()
    said = outcome(lambda: case.run(folder))
    elapsed = time.perf_counter() - started
    print(f"{name:22} {elapsed:7.2f} s  {peak_mib():6.0f} MiB  {case.description}")
    print(f"{'':22} -> {said[:160]!r}", flush=True)


LOADING = "load_document (read, parse, check, validate)"


def duplicate_keys() -> None:
    """What refusing duplicate keys costs on the 50 MB snapshot: the second, stdlib parse."""
    text = large_snapshot(50).decode()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "snapshot.json"
        path.write_text(text)
        timings = {}
        for label, action in (
            ("orjson parse", lambda: orjson.loads(text)),
            ("duplicate-key check", lambda: _refuse_duplicate_keys(text, path)),
            (
                "load_document (read, parse, check, validate)",
                lambda: load_document(path, "snapshot"),
            ),
        ):
            best = min(_timed(action) for _ in range(3))
            timings[label] = best
            print(f"{label:48} {best:6.2f} s (best of 3)")
    share = timings["duplicate-key check"] / timings[LOADING]
    print(f"{len(text) / MB:.1f} MB; the check is {share:.0%} of loading")


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main(arguments: list[str]) -> None:
    if arguments == ["--duplicate-keys"]:
        duplicate_keys()
        return
    if arguments[:1] == ["--build"]:  # a child, so that no run inherits its memory
        CASES[arguments[1]].build(Path(arguments[2]))
        return
    if arguments[:1] == ["--run"]:  # a child: one case, its input already built
        measure(arguments[1], Path(arguments[2]))
        return
    names = arguments or list(CASES)
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        sys.exit(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    for name in names:
        with tempfile.TemporaryDirectory() as folder:
            for step in ("--build", "--run"):
                subprocess.run([sys.executable, __file__, step, name, folder], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
