"""``collect(plan, scope)``: the collection stage from a plan to a snapshot document.

Every (collector, account, region) lists its resources as one unit on a thread pool, the paced
CloudTrail lookups first, since at 2 a second they set the floor of the whole run. There is no
barrier between listing and enrichment: as soon as a unit's listing ends, the per-resource
extras the rules asked for of what it found (metric batches per (account, region, window),
log-event counts per query of up to 50 log groups) are queued on the same pool, so they overlap
the listings still running instead of waiting for the slowest. Nothing a unit raises takes the
others down with it: a listing unit that crashes is recorded and marks its types incomplete;
an enrichment task that crashes is recorded against the metric or log keys it would have
filled (``metrics.<key>`` per type, ``logs.<key>`` per log group), so only the rules reading
those keys become ``error``. The snapshot does not depend on which task ended first: resources
and errors are sorted, and each task writes only its own resources' keys.

Accounts given as units (an organisation's, an accounts file's, a shard's) are collected a
window at a time, each released when done (``windows``); within ``spill.spilling()`` resources
past a bound wait on disk in sorted runs (``spill``), so memory does not grow with accounts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import Any

from runbook_guard import __version__
from runbook_guard.collectors import insights, logs, metrics
from runbook_guard.collectors.calls import GLOBAL_REGION, Call, jsonable
from runbook_guard.collectors.context import Account, Context, Scope
from runbook_guard.collectors.journal import Attribution, Journal, Problem
from runbook_guard.collectors.preflight import require_a_readable_account
from runbook_guard.collectors.progress import progress
from runbook_guard.collectors.registry import (
    COLLECTORS,
    Collector,
    OperationSet,
    collectors_for,
    load_all,
)
from runbook_guard.collectors.spill import Kept
from runbook_guard.collectors.windows import each_account
from runbook_guard.engine.plan import CollectionPlan, LogQuery, MetricQuery
from runbook_guard.engine.snapshot import SNAPSHOT_SCHEMA_VERSION

Task = Callable[[], list[dict[str, Any]]]


def collect(plan: CollectionPlan, scope: Scope) -> dict[str, Any]:
    """Collect what ``plan`` asks for in ``scope``; a snapshot valid against its schema.

    Its ``resources`` are a list, or, within ``spilling()`` past ``SPILL_AFTER`` resources, a
    ``Spilled`` iterable that ``engine.fileio.write_json_atomic`` writes item by item.
    """
    load_all()
    started = datetime.now(timezone.utc)
    now = scope.moment()
    journal = Journal()
    context = Context(scope, journal)
    opened: list[Account] | None = None
    if not scope.accounts or scope.role_arns:  # one context; identity first, as always
        opened = context.accounts()
        known = [a for a in opened if a.id is not None]
        require_a_readable_account(len(known), journal.errors, len(opened))
    kept = Kept.in_spill_folder()
    with progress(scope, journal) as advance, ThreadPoolExecutor(scope.max_concurrency) as calls:
        part = partial(_collect_part, plan, now=now, calls=calls, advance=advance, kept=kept)
        parts = each_account(context, part) if opened is None else [part(context, opened)]
    accounts = [a for p in parts for a in p.accounts]
    require_a_readable_account(len(accounts), journal.errors, sum(p.opened for p in parts))
    regions = list(dict.fromkeys(r for p in parts for r in p.regions)) or context.regions
    per_account = {k: v for p in parts for k, v in p.metadata.get("per_account", {}).items()}
    payer = [unit.id for unit in scope.accounts if unit.payer]
    return {
        "schema_version": SNAPSHOT_SCHEMA_VERSION if payer else 2,
        "metadata": {
            "tool_version": __version__,
            "started_at": started.isoformat(),
            "finished_at": datetime.now(timezone.utc).isoformat(),
            "accounts": sorted(set(accounts)),
            "regions": regions,
            "parameters": jsonable(plan.parameters),
            "resource_types": sorted(plan.types),
            "api_calls": journal.api_calls,
            "options": collected_options(plan),
            # A field-level plan records what it asked for and for which rules; a plan made by
            # hand collects everything, and any rule may judge its snapshot.
            **(
                {
                    "collected_keys": {t: sorted(k) for t, k in sorted(journal.keys.items())},
                    "planned_rules": dict(sorted(plan.rules.items())),
                }
                if plan.field_level
                else {}
            ),
            "max_concurrency": scope.max_concurrency,
            **({"per_account": dict(sorted(per_account.items()))} if scope.accounts else {}),
            **({"payer_account": payer[0]} if len(payer) == 1 else {}),
        },
        "resources": kept.resources(),
        "errors": sorted(journal.errors, key=_error_key),
        "coverage": _coverage(journal),
    }


@dataclass
class _Part:
    """What one context collected, once its sessions are gone: the ids of its readable
    accounts, how many it opened, where it collected and its per-account record."""

    accounts: list[str]
    opened: int
    regions: list[str]
    metadata: dict[str, Any]


def _collect_part(
    plan: CollectionPlan,
    context: Context,
    opened: list[Account] | None = None,
    *,
    now: datetime,
    calls: ThreadPoolExecutor,
    advance: Callable[[str, int], None],
    kept: Kept,
) -> _Part:
    """Open the context's accounts (unless ``opened``), list and enrich what they hold."""
    accounts = context.accounts() if opened is None else opened
    known = [a for a in accounts if a.id is not None]
    for failed in (a for a in accounts if a.id is None):
        for resource_type in plan.types:
            context.journal.listed(resource_type, failed.fallback_id, GLOBAL_REGION, False)
    units = _listing_units(plan, context, known, now)
    enrich = partial(_enrichment_units, plan, context, known, now=now)
    # Every listing starts at once (each mostly waits on its calls, which the limits bound).
    with ThreadPoolExecutor(max(context.scope.max_workers, len(units))) as pool:
        context.executor = calls  # per-resource calls of every listing share this pool
        try:
            kept.add(_run_all(pool, units, enrich, advance))
        finally:
            context.executor = None
    regions = list(dict.fromkeys(r for a in known for r in context.regions_for(a, False)))
    return _Part([str(a.id) for a in known], len(accounts), regions, context.metadata())


def _coverage(journal: Journal) -> list[dict[str, Any]]:
    """Per listing, whether it was complete, and for which name prefixes when it was limited."""
    entries = []
    for (rtype, account, region), complete in sorted(journal.coverage.items()):
        entry: dict[str, Any] = {"type": rtype, "account": account, "region": region}
        entry["complete"] = complete
        if (rtype, account, region) in journal.prefixes:
            entry["prefixes"] = journal.prefixes[(rtype, account, region)]
        entries.append(entry)
    return entries


def collected_options(plan: CollectionPlan) -> dict[str, dict[str, list[Any]]]:
    """``{type: {option: [values...]}}`` exactly as planned, for every type with options.

    What the snapshot was collected for: the engine refuses to decide a rule asking for wider
    options (a longer window, another event name) than these. Values are sorted numbers
    first (by value), then text, then anything else by its JSON, so the bytes do not depend
    on the order rules were loaded in.
    """
    return {
        resource_type: {
            option: sorted(jsonable(values), key=_option_order)
            for option, values in sorted(request.options.items())
        }
        for resource_type, request in sorted(plan.types.items())
        if request.options
    }


def _option_order(value: Any) -> tuple[int, float, str]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value), "")
    if isinstance(value, str):
        return (1, 0.0, value)
    return (2, 0.0, json.dumps(value, sort_keys=True, default=str))


def _error_key(error: dict[str, Any]) -> tuple[str, ...]:
    fields = ("account", "region", "service", "operation", "resource_type", "resource", "code")
    return (*(str(error.get(f, "")) for f in fields), str(error.get("data_keys")))


def _listing_units(
    plan: CollectionPlan, context: Context, accounts: list[Account], now: datetime
) -> list[tuple[str, Task]]:
    units: list[tuple[str, Task]] = []
    for account in accounts:
        for collector in collectors_for(plan.types):
            regions = context.regions_for(account, collector.is_global)
            for region in regions:
                label = f"{collector.api.owner} {region}"
                units.append((label, _unit(plan, context, account, collector, region, now)))
    # Paced operations (CloudTrail LookupEvents at 2 a second) set the floor of a collection's
    # wall time: start them first so everything else overlaps them.
    units.sort(key=lambda unit: not unit[0].startswith("cloudtrail"))
    return units


def _unit(
    plan: CollectionPlan,
    context: Context,
    account: Account,
    collector: Collector,
    region: str,
    now: datetime,
) -> Task:
    requests = {t: plan.types[t] for t in collector.resource_types if t in plan.types}
    # One collector serving several types reads the union of their options (never the last
    # type's values in place of the first's).
    options: dict[str, list[Any]] = {}
    for request in requests.values():
        for key, values in request.options.items():
            merged = options.setdefault(key, [])
            merged.extend(v for v in values if v not in merged)

    def run() -> list[dict[str, Any]]:
        account_id = str(account.id)
        for resource_type in requests:
            context.journal.listed(resource_type, account_id, region, True)
        call = Call(
            collector.api,
            context.client(account, collector.api.service, region),
            context.journal,
            account_id,
            region,
            next(iter(requests)),
            options,
            now,
            context.scope.page_size,
            context.reach(account, collector.api.service),
            requests,
        )
        try:
            return collector.run(call, requests)
        except Exception as exc:
            call.record(
                call.last_operation,
                exc,
                attribution=[(t, []) for t in requests],
            )
            for resource_type in requests:
                context.journal.listed(resource_type, account_id, region, False)
            return []

    return run


def _enrichment_units(
    plan: CollectionPlan,
    context: Context,
    accounts: list[Account],
    resources: list[dict[str, Any]],
    now: datetime,
) -> list[tuple[str, Task]]:
    """For one listing's resources: metric batches per (account, region, window) and log-event
    counts, one Insights query per (query, 50 selected log groups), or one FilterLogEvents per
    group where a pattern has no Insights translation (see ``insights``)."""
    by_account = {str(a.id): a for a in accounts}
    wanted: dict[tuple[str, str, int], list[metrics.Wanted]] = {}
    counts: dict[tuple[str, str, LogQuery], list[dict[str, Any]]] = {}
    for resource in resources:
        request = plan.types.get(resource["type"])
        if request is None:
            continue
        account = by_account[resource["account"]]
        chosen = partial(_chosen, context, account, resource, now)
        for query, selects in request.metrics:
            if chosen(selects, metrics.API, "GetMetricData", f"metrics.{query.key}"):
                region = metric_region(resource, context.global_region)
                if region is None:
                    _unplaced(context, account, resource, query, now)
                    continue
                key = (resource["account"], region, query.window_seconds)
                wanted.setdefault(key, []).append((resource, query))
        for log_query, selects in request.log_queries:
            insightful = insights.query_string(log_query.pattern) is not None
            api, operation = (
                (insights.API, "StartQuery") if insightful else (logs.EVENTS_API, "FilterLogEvents")
            )
            if chosen(selects, api, operation, f"logs.{log_query.key}"):
                where = (resource["account"], resource["region"], log_query)
                counts.setdefault(where, []).append(resource)
    units: list[tuple[str, Task]] = []
    for (account_id, region, window), pairs in sorted(wanted.items(), key=lambda kv: kv[0]):
        call = _call(context, by_account[account_id], metrics.API, region, now)
        fetch = partial(metrics.fetch, call, window, pairs)
        task = _guarded(call, "GetMetricData", fetch, attribution=metrics.attribution(pairs))
        units.append((f"metrics {region}", task))
    for (account_id, region, log_query), groups in counts.items():
        units.extend(_log_counts(context, by_account[account_id], region, log_query, groups, now))
    return units


def _log_counts(
    context: Context,
    account: Account,
    region: str,
    query: LogQuery,
    groups: list[dict[str, Any]],
    now: datetime,
) -> list[tuple[str, Task]]:
    attribution = [(logs.LOG_GROUP, [f"logs.{query.key}"])]
    if insights.query_string(query.pattern) is None:
        tasks = []
        for group in groups:
            call = _call(context, account, logs.EVENTS_API, region, now)
            count = partial(logs.count_events, call, group, query)
            task = _guarded(call, "FilterLogEvents", count, attribution, resource=group["id"])
            tasks.append((f"logs {group['name']}", task))
        return tasks
    tasks = []
    for chunk in insights.chunks(groups):
        call = _call(context, account, insights.API, region, now)
        count = partial(insights.count_events, call, query, chunk)
        tasks.append((f"logs {region}", _guarded(call, "StartQuery", count, attribution)))
    return tasks


def metric_region(resource: dict[str, Any], global_region: str) -> str | None:
    """Where a resource's CloudWatch metrics are published, so where to ask for them.

    A regional resource's own region. A global resource whose collector names a region key
    (an S3 bucket's ``BucketRegion``) is asked in the region that key holds: S3 publishes a
    bucket's metrics in the bucket's region, never in the first collected one. ``None`` when
    that key is absent (its location call failed): asking elsewhere would find no datapoints
    and pass as "no data". Any other global resource: the partition's global region (where
    AWS publishes account-wide figures such as billing).
    """
    region = str(resource["region"])
    if region != GLOBAL_REGION:
        return region
    collector = COLLECTORS.get(str(resource["type"]))
    if collector is None or collector.region_key is None:
        return global_region
    found = (resource.get("data") or {}).get(collector.region_key)
    return str(found) if found else None


def _chosen(
    context: Context,
    account: Account,
    resource: dict[str, Any],
    now: datetime,
    selects: Callable[[dict[str, Any]], bool],
    api: OperationSet,
    operation: str,
    key: str,
) -> bool:
    """Whether a rule's selection takes ``resource`` for an extra it reads (``key``).

    A selection that cannot be decided (a name pattern stopped at its time limit) is an error
    on that key of that resource: its rules are ``error``, the collection goes on, and the
    extra is neither skipped silently nor fetched for a resource no rule may have selected.
    """
    try:
        return bool(selects(resource))
    except Exception as exc:
        call = _call(context, account, api, str(resource["region"]), now)
        rtype, where = str(resource["type"]), str(resource["id"])
        call.record(operation, exc, resource=where, resource_type=rtype, data_keys=[key])
        return False


def _unplaced(
    context: Context,
    account: Account,
    resource: dict[str, Any],
    query: MetricQuery,
    now: datetime,
) -> None:
    """A metric whose region is unknown: an error on its key, never a query elsewhere."""
    call = _call(context, account, metrics.API, GLOBAL_REGION, now)
    collector = COLLECTORS[str(resource["type"])]
    problem = Problem(
        "RegionUnknown",
        f"the region of {resource['name']} ({collector.region_key}) is unknown, so its "
        f"{query.namespace} metrics cannot be asked for where they are published",
    )
    call.record(
        "GetMetricData",
        problem,
        resource=str(resource["id"]),
        resource_type=str(resource["type"]),
        data_keys=[f"metrics.{query.key}"],
    )


def _call(
    context: Context, account: Account, api: OperationSet, region: str, now: datetime
) -> Call:
    client = context.client(account, api.service, region)
    page_size = context.scope.page_size
    reach = context.reach(account, api.service)
    return Call(
        api, client, context.journal, str(account.id), region, "", None, now, page_size, reach
    )


def _guarded(
    call: Call,
    operation: str,
    action: Callable[[], None],
    attribution: Attribution,
    resource: str | None = None,
) -> Task:
    """An enrichment task that cannot crash the collection.

    An answer of a shape the code did not expect (a metric result without ``Id``) raises
    inside the collector; it becomes an error attributed to the keys the task would have
    filled (``metrics.<key>`` per type, or ``logs.<key>`` on one log group), so exactly the
    rules reading them are ``error``. Values already stored stay; so does everything else.
    """

    def run() -> list[dict[str, Any]]:
        try:
            action()
        except Exception as exc:
            call.record(operation, exc, resource=resource, attribution=attribution)
        return []

    return run


def _run_all(
    pool: ThreadPoolExecutor,
    units: list[tuple[str, Task]],
    enrich: Callable[[list[dict[str, Any]]], list[tuple[str, Task]]],
    advance: Callable[[str, int], None],
) -> list[dict[str, Any]]:
    """Every listing unit and, queued as each one ends, the enrichment of what it found.

    Resources come back in the units' order, so the snapshot does not depend on thread timing;
    the enrichment tasks are waited for after the last listing.
    """
    advance("", len(units))

    def listing(task: Task) -> tuple[list[dict[str, Any]], list[tuple[str, Future[Any]]]]:
        found = task()
        follow = enrich(found)
        advance("", len(follow))
        return found, [(label, pool.submit(work)) for label, work in follow]

    futures = [(label, pool.submit(listing, task)) for label, task in units]
    resources: list[dict[str, Any]] = []
    followers: list[tuple[str, Future[Any]]] = []
    for label, future in futures:
        found, follow = future.result()
        resources.extend(found)
        followers.extend(follow)
        advance(label, 0)
    for label, follower in followers:
        follower.result()
        advance(label, 0)
    return resources
