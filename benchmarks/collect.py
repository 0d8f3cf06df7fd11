"""Collection at the limit of the API (issue 9): calls made against the plan's minimum, and time.

For each N of ``--copies``, one ThreadedMotoServer is seeded with the runbook's stack copied N
times (``demo.stack.seed_runbook_stack(copies=N)``; seeding is not timed). Then, for each
policy set (``five``: benchmarks/five-rules, ``pack``: the whole shipped pack) and each added
latency (``--latency``, ms per HTTP request), what a user runs is timed, as the separate
processes a user runs, with ``AWS_ENDPOINT_URL`` pointing at the server:

    runbook-guard collect -o snapshot.json [-p POLICIES] -q --max-attempts 1
    runbook-guard evaluate -s snapshot.json -o results.json [-p POLICIES] --fail-on never

Each runs through a wrapper (``collect.py wrap``) that registers three botocore handlers on
every boto3 session, then hands over to the CLI's own entry point: ``before-send`` sleeps the
added latency (every HTTP attempt; collect only), ``before-send``/``response-received`` count
HTTP requests in flight (the peak is printed), and ``before-call`` counts calls per operation
(``--explain``); at exit it writes those and the process's peak RSS (``VmHWM``). Wall time is
both processes from start to exit, interpreter start-up included.

The minimum is computed from the plan the CLI builds (``cli.pipeline.prepare`` and
``collection_plan``), the snapshot's resources and the collectors' declarations
(``OperationSet.fills``): see ``minimum_calls``. Also measured: moto's own cost per call
(``moto_cost``: trivial calls, and one GetMetricData of each shape the pack sends, at each
copies), and flatness (2,000 queues and 2,000 log groups no prefix of either policy set starts
with, added to the copies=10 stack). Prints Markdown tables; asserts nothing.

The server answers GetMetricData from an index (``metric_index``: moto's own answers, without
moto's scan of every datapoint per period, which at copies=50 was most of the pack's time);
``--moto-metrics`` measures with moto's own code instead.

Usage: python benchmarks/collect.py [--copies 1 10 50] [--latency 0 40] [--policies five pack]
       [--repeat 3] [--keep median|lowest] [--max-attempts 1] [--no-flatness] [--explain]
       [--moto-metrics]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from resource import RUSAGE_SELF, getrusage
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run by path: ``benchmarks`` is this script's package
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from runbook_guard.collectors.registry import Collector
    from runbook_guard.engine.plan import CollectionPlan

FIVE_RULES = Path(__file__).resolve().parent / "five-rules"
#: The policy sets, by name: the ``-p`` arguments (none: the shipped pack, as a user runs it).
POLICY_SETS: dict[str, list[str]] = {"five": ["-p", str(FIVE_RULES)], "pack": []}
REGION = "us-east-1"
UNRELATED = 2000
Resources = Mapping[str, list[dict[str, Any]]]

# --- the minimum the plan needs -------------------------------------------------------------

#: Listing operations and the most items one page answers: the page-size maximum in botocore's
#: model, else the API reference's (ListFunctions answers at most 50 whatever ``MaxItems``
#: says; ListQueues 1,000; ListDashboards 1,000; ListApplications and ListDeploymentGroups
#: 100; ECS listings 100). 0: not paged.
PAGE_SIZE: dict[str, int] = {
    "ListTables": 100,
    "ListBuckets": 10000,
    "ListQueues": 1000,
    "DescribeLogGroups": 50,
    "ListFunctions": 50,
    "GetAccountSettings": 0,
    "GetRestApis": 500,
    "DescribeBudgets": 1000,
    "DescribeTrails": 0,
    "LookupEvents": 50,
    "DescribeAlarms": 100,
    "ListDashboards": 1000,
    "ListApplications": 100,
    "ListDeploymentGroups": 100,
    "DescribeSecurityGroups": 1000,
    "ListClusters": 100,
    "ListServices": 100,
    "GetFreeTierUsage": 1000,
    "DescribeParameters": 50,
    "ListUsers": 1000,
    "ListAccessKeys": 1000,
}
#: Listings of a type other than their collector's first, needed only when it is planned.
LISTS = {"ListServices": "aws.ecs.service", "ListAccessKeys": "aws.iam.access_key"}
#: Listings that filter by name prefix on the server: one listing per pushed prefix.
PREFIX_LISTINGS = frozenset({"ListQueues", "DescribeLogGroups", "DescribeParameters"})
#: Detail operations made once per (account, region) when any resource of the type is
#: selected, and those made per batch of this many selected resources (per cluster).
ONCE = frozenset({"ListEventSourceMappings", "GenerateCredentialReport", "GetCredentialReport"})
BATCH = {"DescribeClusters": 100, "DescribeServices": 10}
#: DescribeExport runs per export of a selected table, for the newest 20 at most.
PER_EXPORT = 20
#: Until a collector declares fills, the type an undeclared detail operation serves.
OP_TYPE = {
    "DescribeClusters": "aws.ecs.cluster",
    "DescribeServices": "aws.ecs.service",
    "GenerateCredentialReport": "aws.iam.user",
    "GetCredentialReport": "aws.iam.user",
    "GetAccessKeyLastUsed": "aws.iam.access_key",
}


def _pages(count: int, size: int) -> int:
    return 1 if size <= 0 else max(1, math.ceil(count / size))


def minimum_calls(plan: CollectionPlan, snapshot: Mapping[str, Any]) -> Counter[str]:
    """Per operation, the fewest calls that answer the plan for the resources the snapshot has.

    Identity: one GetCallerIdentity per account. Listings, per (account, region; ``global`` for
    a global service) and listing operation of each planned collector: ceil(items / page size)
    pages, at least 1; per pushed prefix where the API filters by prefix and the plan has
    prefixes (items: the names starting with it); a nested listing once per parent (cluster,
    user, application), LookupEvents once per planned event name. Details: per planned type,
    per resource the plan selects (``TypeRequest.selects`` on its data), one call per operation
    whose declared fills for the type meet the keys the rules read (``TypeRequest.wants``);
    ``ONCE`` operations once per (account, region), ``BATCH`` ones per batch, DescribeExport per
    export. Details are judged on each resource's listing keys alone, as the collector judges
    them. Metrics: ceil(distinct series / 500) GetMetricData per (listing unit, region,
    window), a series two figures share asked for once. Log counts: per (listing unit, log
    query), one StartQuery and one GetQueryResults per 50 selected groups (Logs Insights), or
    one FilterLogEvents per group for a pattern Insights cannot express. Pages of GetMetricData
    and FilterLogEvents beyond the first, and polls of a query still running, are not counted
    (none here: moto completes a query at once).
    """
    from runbook_guard.collectors.registry import collectors_for, load_all

    load_all()
    resources: list[dict[str, Any]] = snapshot["resources"]
    accounts = [str(a) for a in snapshot["metadata"]["accounts"]]
    regions = [str(r) for r in snapshot["metadata"]["regions"]]
    need: Counter[str] = Counter({"GetCallerIdentity": len(accounts)})
    for collector in collectors_for(plan.types):
        for account in accounts:
            for region in ["global"] if collector.is_global else regions:
                here = {
                    rtype: [
                        r
                        for r in resources
                        if (r["type"], r["account"], r["region"]) == (rtype, account, region)
                    ]
                    for rtype in collector.resource_types
                }
                _listings(need, plan, collector, here)
                _details(need, plan, collector, here)
    _enrichment(need, plan, resources)
    return +need


def _by(items: Iterable[Mapping[str, Any]], key: str) -> Counter[str]:
    return Counter(str(item["data"].get(key)) for item in items)


def _listings(
    need: Counter[str], plan: CollectionPlan, collector: Collector, here: Resources
) -> None:
    for operation in collector.api.operations:
        size = PAGE_SIZE.get(operation)
        listed = LISTS.get(operation, collector.resource_types[0])
        if size is None or (operation in LISTS and listed not in plan.types):
            continue
        items = here.get(listed, [])
        request = plan.types.get(listed)
        prefixes = list(request.prefixes or []) if request is not None else []
        if operation == "ListServices":
            per_cluster = _by(items, "clusterName")
            empty = max(0, len(here.get("aws.ecs.cluster", [])) - len(per_cluster))
            need[operation] += sum(_pages(n, size) for n in per_cluster.values()) + empty
        elif operation == "ListAccessKeys":
            need[operation] += len(here.get("aws.iam.user", []))
        elif operation == "ListDeploymentGroups":
            need[operation] += sum(_pages(n, size) for n in _by(items, "applicationName").values())
        elif operation == "ListApplications":
            need[operation] += _pages(len(_by(items, "applicationName")), size)
        elif operation == "LookupEvents":
            per_name = Counter(str(item["name"]) for item in items)
            names = (request.options.get("event_names") if request is not None else None) or []
            need[operation] += sum(_pages(per_name[str(n)], size) for n in names)
        elif operation in PREFIX_LISTINGS and prefixes:
            names = [str(item["name"]) for item in items]
            for prefix in prefixes:
                need[operation] += _pages(sum(n.startswith(prefix) for n in names), size)
        else:
            need[operation] += _pages(len(items), size)


def _details(
    need: Counter[str], plan: CollectionPlan, collector: Collector, here: Resources
) -> None:
    api = collector.api
    #: Per operation, what each of its calls is about: one operation may fill two types in
    #: one call (a key's last use serves the key and its user's ``AccessKeys``).
    targets: dict[str, set[str]] = {}
    for rtype in collector.resource_types:
        request = plan.types.get(rtype)
        if request is None:
            continue
        listing_keys = api.listing_keys(rtype) if api.listings else frozenset()
        # Selection is judged on what the listing gave, as the collector judges it.
        selected = [
            r
            for r in here.get(rtype, [])
            if request.selects(r["name"], _listed(r["data"], listing_keys), listing_keys)
        ]
        for operation in api.operations:
            fills = api.filled(operation).get(rtype)
            if operation in PAGE_SIZE:
                continue
            if api.fills and fills is None:
                continue  # declared for another type
            if not api.fills and OP_TYPE.get(operation, rtype) != rtype:
                continue
            if fills is not None and not request.wants(fills):
                continue
            if operation in ONCE:
                targets.setdefault(operation, set()).update(["once"] if selected else [])
            elif operation == "GetAccessKeyLastUsed":
                targets.setdefault(operation, set()).update(_key_ids(selected))
            elif operation == "DescribeServices":
                per_cluster = _by(selected, "clusterName").values()
                need[operation] += sum(math.ceil(n / BATCH[operation]) for n in per_cluster)
            elif operation in BATCH:
                need[operation] += math.ceil(len(selected) / BATCH[operation])
            elif operation == "DescribeExport":
                exports = (len(r["data"].get("Exports") or []) for r in selected)
                need[operation] += sum(min(PER_EXPORT, n) for n in exports)
            else:
                targets.setdefault(operation, set()).update(str(r["id"]) for r in selected)
    need.update({operation: len(ids) for operation, ids in targets.items()})


def _listed(data: Mapping[str, Any], listing_keys: frozenset[str]) -> dict[str, Any]:
    """A resource's data as its listing had it (its listing keys only)."""
    return {key: value for key, value in data.items() if key in listing_keys}


def _key_ids(selected: list[dict[str, Any]]) -> set[str]:
    """The access keys of selected keys, and of selected users (their ``AccessKeys``)."""
    ids = set()
    for resource in selected:
        data = resource["data"]
        for key in data.get("AccessKeys") or [data]:
            ids.add(str(key.get("AccessKeyId")))
    return ids


def _enrichment(need: Counter[str], plan: CollectionPlan, resources: list[dict[str, Any]]) -> None:
    """Metric batches and log-event counts, grouped as the runner groups them: per listing
    unit (collector, account, region), since each unit's enrichment starts as its listing
    ends, then per metric (region, window) or per log query."""
    from runbook_guard.collectors import insights
    from runbook_guard.collectors.metrics import MAX_QUERIES, series_key, series_of
    from runbook_guard.collectors.partitions import global_region
    from runbook_guard.collectors.registry import COLLECTORS
    from runbook_guard.collectors.runner import metric_region

    series: dict[tuple[str, str, str, str, int], set[str]] = {}
    groups: Counter[tuple[str, str, str, Any]] = Counter()
    for resource in resources:
        request = plan.types.get(resource["type"])
        if request is None:
            continue
        owner = COLLECTORS[resource["type"]].api.owner
        account, where = str(resource["account"]), str(resource["region"])
        for query, selects in request.metrics:
            region = metric_region(resource, global_region("aws")) if selects(resource) else None
            if region is not None:
                at = (owner, account, where, region, query.window_seconds)
                keys = {series_key(query, one) for one in series_of(0, resource, query)}
                series.setdefault(at, set()).update(keys)
        for log_query, selects in request.log_queries:
            if selects(resource):
                groups[(owner, account, where, log_query)] += 1
    need["GetMetricData"] += sum(math.ceil(len(n) / MAX_QUERIES) for n in series.values())
    for (_, _, _, log_query), count in groups.items():
        if insights.query_string(log_query.pattern) is None:
            need["FilterLogEvents"] += count
        else:  # a start and at least one poll per query of up to 50 groups
            queries = math.ceil(count / insights.MAX_GROUPS)
            need["StartQuery"] += queries
            need["GetQueryResults"] += queries


# --- the collect process's wrapper, and moto's own cost per call -----------------------------


def wrap(stats_path: str, latency_ms: float, cli_args: list[str]) -> None:
    """``runbook-guard CLI_ARGS`` with the latency and counting hooks on every boto3 session."""
    import boto3.session

    lock = threading.Lock()
    state = {"now": 0, "peak": 0, "attempts": 0}
    calls: Counter[str] = Counter()
    #: Per operation: [first start, last end, seconds in calls], from the wrapper's start.
    spans: dict[str, list[float]] = {}
    origin = time.perf_counter()

    def before_send(**_: Any) -> None:
        with lock:
            state["now"] += 1
            state["attempts"] += 1
            state["peak"] = max(state["peak"], state["now"])
        if latency_ms:
            time.sleep(latency_ms / 1000.0)

    def received(**_: Any) -> None:
        with lock:
            state["now"] -= 1

    def before_call(model: Any, context: dict[str, Any], **_: Any) -> None:
        context["benchmark"] = (str(model.name), time.perf_counter() - origin)
        with lock:
            calls[str(model.name)] += 1

    def after_call(context: Any = None, **_: Any) -> None:
        if not isinstance(context, dict) or "benchmark" not in context:
            return
        operation, started = context.pop("benchmark")
        ended = time.perf_counter() - origin
        with lock:
            span = spans.setdefault(operation, [started, ended, 0.0])
            span[0], span[1] = min(span[0], started), max(span[1], ended)
            span[2] += ended - started

    original = boto3.session.Session.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.events.register("before-send", before_send)
        self.events.register("response-received", received)
        self.events.register("before-call", before_call)
        self.events.register("after-call", after_call)
        self.events.register("after-call-error", after_call)

    setattr(boto3.session.Session, "__init__", init)  # noqa: B010 (mypy refuses a method assignment)
    from runbook_guard.cli.app import main as cli_main

    sys.argv = ["runbook-guard", *cli_args]
    try:
        cli_main()
    finally:
        stats = {"peak": state["peak"], "http_requests": state["attempts"], "calls": calls}
        stats |= {"spans": spans, "exit": time.perf_counter() - origin}
        usage = getrusage(RUSAGE_SELF)
        stats |= {"rss_kib": _peak_rss_kib(), "cpu": usage.ru_utime + usage.ru_stime}
        Path(stats_path).write_text(json.dumps(stats))


def _peak_rss_kib() -> int:
    """This process's own peak RSS (``VmHWM``).

    Not ``ru_maxrss``: Linux starts a child's at the RSS of the parent it was forked from
    (here the benchmark, holding the moto server and its seeded state).
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# --- timing the two processes ------------------------------------------------------------------


@dataclass
class Process:
    seconds: float
    stats: dict[str, Any]

    @property
    def rss_mib(self) -> float:
        return float(self.stats["rss_kib"]) / 1024

    @property
    def cpu(self) -> float:
        """CPU seconds the process used (user + system): other work on a shared machine
        inflates it less than the process's wall time."""
        return float(self.stats["cpu"])


def timed(command: Sequence[str], latency_ms: float, env: Mapping[str, str], cwd: Path) -> Process:
    """Run ``runbook-guard COMMAND`` (wrapped) to its end: wall time, and what the wrapper saw."""
    stats = cwd / "stats.json"
    args = [sys.executable, __file__, "wrap", str(stats), str(latency_ms), "--", *command]
    started = time.perf_counter()
    done = subprocess.run(args, env=dict(env), cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.stderr.write(f"{command[0]} exit {done.returncode}: {done.stderr[-2000:]}\n")
    return Process(seconds, json.loads(stats.read_text()))


@dataclass(frozen=True)
class Settings:
    """What every measurement of one invocation shares."""

    env: Mapping[str, str]
    repeat: int
    #: Which sample stands for a figure: ``median`` wall time, or ``lowest`` (on a machine
    #: shared with other work, the run the others disturbed least).
    keep: str
    max_attempts: int


@dataclass
class Sample:
    """One collect + evaluate."""

    collect: Process
    evaluate: Process
    snapshot: dict[str, Any]

    @property
    def wall(self) -> float:
        return self.collect.seconds + self.evaluate.seconds

    @property
    def cpu(self) -> float:
        return self.collect.cpu + self.evaluate.cpu


def once(selection: list[str], latency_ms: float, settings: Settings, work: Path) -> Sample:
    """Collect and evaluate in ``work``, each in its own process (no latency in evaluate)."""
    collect = ["collect", "-o", "snapshot.json", *selection, "-q"]
    collect += ["--max-attempts", str(settings.max_attempts)]
    evaluate = ["evaluate", "-s", "snapshot.json", "-o", "results.json", *selection]
    collected = timed(collect, latency_ms, settings.env, work)
    evaluated = timed([*evaluate, "--fail-on", "never"], 0.0, settings.env, work)
    snapshot = json.loads((work / "snapshot.json").read_text())
    return Sample(collected, evaluated, snapshot)


@dataclass
class Run:
    """The figures of one configuration: the sample kept (median or lowest wall time)."""

    policies: str
    copies: int
    latency_ms: float
    sample: Sample
    minimum: Counter[str]
    walls: list[float] = field(default_factory=list)
    #: The 1-minute load average when its samples ended (the machine is shared).
    load: float = 0.0

    @property
    def calls(self) -> int:
        return int(self.sample.snapshot["metadata"]["api_calls"])

    @property
    def ratio(self) -> float:
        return self.calls / max(1, sum(self.minimum.values()))

    def row(self) -> str:
        sample, metadata = self.sample, self.sample.snapshot["metadata"]
        span = [datetime.fromisoformat(str(metadata[k])) for k in ("started_at", "finished_at")]
        collecting = (span[1] - span[0]).total_seconds()
        return (
            f"| {self.policies} | {self.copies} | {self.latency_ms:g} ms "
            f"| {len(sample.snapshot['resources'])} | {self.calls} | {sum(self.minimum.values())} "
            f"| {self.ratio:.2f} | {sample.wall:.2f} | {sample.collect.seconds:.2f} "
            f"({collecting:.2f}) | {sample.evaluate.seconds:.2f} "
            f"| {sample.collect.cpu:.2f} / {sample.evaluate.cpu:.2f} "
            f"| {sample.collect.rss_mib:.0f} / {sample.evaluate.rss_mib:.0f} "
            f"| {sample.collect.stats['peak']} / "
            f"{metadata.get('max_concurrency', '-')} | {len(sample.snapshot['errors'])} |"
        )

    def explain(self) -> str:
        """Per operation, calls made against the minimum, where they differ."""
        made: Counter[str] = Counter(self.sample.collect.stats["calls"])
        lines = [
            f"    {op}: made {made[op]}, minimum {self.minimum[op]}"
            for op in sorted(set(made) | set(self.minimum))
            if made[op] != self.minimum[op]
        ]
        walls = ", ".join(f"{w:.2f}" for w in self.walls)
        title = f"  {self.policies} copies={self.copies} {self.latency_ms:g} ms (walls {walls}):"
        stats = self.sample.collect.stats
        spans = sorted(stats["spans"].items(), key=lambda item: item[1][0])
        timeline = [
            f"    collect process exits at {stats['exit']:.2f} s; calls by first start:"
        ] + [
            f"      {op}: {made[op]} calls from {first:.2f} to {last:.2f} s, {busy:.2f} s in calls"
            for op, (first, last, busy) in spans
        ]
        errors = Counter(
            f"{e['operation']} {e['code']}" for e in self.sample.snapshot["errors"]
        ).most_common()
        failed = ["    errors: " + ", ".join(f"{k} x{n}" for k, n in errors)] if errors else []
        done = lines or ["    every operation at its minimum"]
        return "\n".join([title, *done, *failed, *timeline])

    def growth(self, more: Run) -> str:
        """Per operation, the calls ``more`` (with unrelated resources) made in addition."""
        base: Counter[str] = Counter(self.sample.collect.stats["calls"])
        grown = Counter(more.sample.collect.stats["calls"])
        grown.subtract(base)
        lines = [f"    {op}: +{n}" for op, n in sorted(grown.items()) if n]
        title = f"  {self.policies} {self.latency_ms:g} ms, +{UNRELATED} unrelated:"
        return "\n".join([title, *(lines or ["    no more calls"])])


HEADER = (
    "| policies | copies | latency | resources | calls | minimum | calls/min | wall s "
    "| collect s (collecting) | evaluate s | CPU s collect / evaluate "
    "| peak RSS MiB collect / evaluate | in flight peak / max | errors |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def measure(policies: str, copies: int, latency_ms: float, settings: Settings) -> Run:
    """``settings.repeat`` samples; the one kept (median or lowest wall), with its minimum."""
    from runbook_guard.cli.pipeline import collection_plan, prepare

    selection = POLICY_SETS[policies]
    with tempfile.TemporaryDirectory(prefix="collect-bench-") as folder:
        samples = [
            once(selection, latency_ms, settings, Path(folder)) for _ in range(settings.repeat)
        ]
    samples.sort(key=lambda sample: sample.wall)
    kept = samples[0] if settings.keep == "lowest" else samples[len(samples) // 2]
    plan = collection_plan(prepare(None, [Path(p) for p in selection[1::2]] or None, None))
    minimum = minimum_calls(plan, kept.snapshot)
    walls = [s.wall for s in samples]
    return Run(policies, copies, latency_ms, kept, minimum, walls, os.getloadavg()[0])


# --- the stack -----------------------------------------------------------------------------------


def seed(endpoint: str, copies: int) -> float:
    """Seed a fresh server with ``copies`` stacks; the seconds it took (in no figure)."""
    import boto3

    from runbook_guard.demo.server import reset
    from runbook_guard.demo.stack import seed_runbook_stack

    reset(endpoint)
    started = time.perf_counter()
    seed_runbook_stack(boto3.Session(), endpoint_url=endpoint, copies=copies)
    return time.perf_counter() - started


def add_unrelated(endpoint: str, count: int) -> None:
    """``count`` queues and ``count`` log groups that no prefix of either policy set starts."""
    import boto3

    session = boto3.Session()
    sqs = session.client("sqs", region_name=REGION, endpoint_url=endpoint)
    logs = session.client("logs", region_name=REGION, endpoint_url=endpoint)

    def one(index: int) -> None:
        sqs.create_queue(QueueName=f"other-workload-{index:04d}")
        logs.create_log_group(logGroupName=f"/other/workload-{index:04d}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(count)))


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description="Collection benchmark (issue 9).")
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 40.0])
    parser.add_argument(
        "--policies", nargs="+", choices=list(POLICY_SETS), default=["five", "pack"]
    )
    parser.add_argument("--repeat", type=int, default=3, help="samples per figure")
    parser.add_argument(
        "--keep",
        choices=["median", "lowest"],
        default="median",
        help="the sample a figure shows: median wall time, or the lowest (a shared machine)",
    )
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=1,
        help="collect --max-attempts; 1: moto's HTTP 500 for an action it does not implement "
        "is not retried with backoff (AWS answers those actions)",
    )
    parser.add_argument("--no-flatness", action="store_true", help="skip the unrelated check")
    parser.add_argument(
        "--explain", action="store_true", help="per-operation calls vs minimum, and when they ran"
    )
    parser.add_argument(
        "--moto-metrics",
        action="store_true",
        help="answer GetMetricData with moto's own code (its scan), not the benchmark's index",
    )
    options = parser.parse_args(argv)

    from benchmarks import metric_index
    from benchmarks.moto_cost import metric_call_seconds, simple_call_rates
    from runbook_guard.demo.server import DUMMY_ENV, moto_server

    os.environ.update(DUMMY_ENV)
    if options.moto_metrics:
        metric_index.uninstall()
    else:
        metric_index.install()
    print(
        f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs; collect --max-attempts "
        f"{options.max_attempts}; {options.keep} of {options.repeat} samples; GetMetricData "
        f"answered by {'moto' if options.moto_metrics else 'the index (metric_index)'}",
        flush=True,
    )
    runs: list[Run] = []
    flat: list[tuple[Run, Run]] = []
    for copies in options.copies:
        with moto_server() as endpoint:
            env = {**os.environ, "AWS_ENDPOINT_URL": endpoint}
            settings = Settings(env, options.repeat, options.keep, options.max_attempts)
            print(f"copies={copies}: seeded in {seed(endpoint, copies):.1f} s", flush=True)
            if copies == options.copies[0]:
                rates = simple_call_rates(env)
                words = ", ".join(f"{r:.0f} calls/s with {t} in flight" for t, r in rates)
                print(f"moto, sqs ListQueues: {words}", flush=True)
            print(f"one GetMetricData: {metric_call_seconds()}", flush=True)
            here = [
                measure(policies, copies, latency, settings)
                for policies in options.policies
                for latency in options.latency
            ]
            for run in here:
                print(run.row(), f"load {run.load:.2f}", flush=True)
            runs.extend(here)
            if copies == 10 and not options.no_flatness:
                add_unrelated(endpoint, UNRELATED)
                for run in here:
                    flat.append((run, measure(run.policies, copies, run.latency_ms, settings)))
                    more = flat[-1][1]
                    print(more.row(), f"+{UNRELATED} unrelated, load {more.load:.2f}", flush=True)
    print(f"\nload average {os.getloadavg()[0]:.2f}\n\n{HEADER}")
    print("\n".join(run.row() for run in runs))
    if flat:
        print(f"\ncopies=10, +{UNRELATED} unrelated queues and log groups:\n")
        print(
            "| policies | latency | calls | calls with | wall s | wall s with | change "
            "| CPU s | CPU s with | change |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for base, more in flat:
            change = (more.sample.wall / base.sample.wall - 1) * 100
            cpu_change = (more.sample.cpu / base.sample.cpu - 1) * 100
            print(
                f"| {base.policies} | {base.latency_ms:g} ms | {base.calls} | {more.calls} "
                f"| {base.sample.wall:.2f} | {more.sample.wall:.2f} | {change:+.0f} % "
                f"| {base.sample.cpu:.2f} | {more.sample.cpu:.2f} | {cpu_change:+.0f} % |"
            )
    if options.explain:
        print("\nCalls made against the minimum, per operation:")
        print("\n".join(run.explain() for run in runs + [more for _, more in flat]))
        print("\n".join(base.growth(more) for base, more in flat))


if __name__ == "__main__":
    if sys.argv[1:2] == ["wrap"]:
        wrap(sys.argv[2], float(sys.argv[3]), sys.argv[sys.argv.index("--") + 1 :])
    else:
        main(sys.argv[1:])
