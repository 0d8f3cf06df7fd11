"""The fault matrix's world: one seeded account, a fault-free baseline, and cheap fault runs.

A full collection of the shipped pack's plan takes seconds on moto (paced CloudTrail lookups,
log counts, a GetMetricData over the seeded series); six faults on fifty operations cannot
each pay that. So a fault run collects only the types whose collection makes the faulted
operation (learned, not listed: each collector's types are collected once, fault-free, and
the operations they make recorded), and its share of the snapshot replaces those types' share
of the baseline: resources, errors, coverage and collected keys. Collectors of other types
never see the fault, so their share is the baseline's; that the splice itself changes no
result is checked per group, fault-free. In a fault run every operation but the faulted one
is answered with moto's own recorded answer to the same request (``faults.Recording``).

Every rule of the shipped pack is evaluated on the spliced snapshot and compared, result by
result, with the baseline.
"""

from __future__ import annotations

import copy
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runbook_guard.collectors import Scope, collect, insights
from runbook_guard.collectors import logs as logs_collector
from runbook_guard.collectors import metrics as metrics_collector
from runbook_guard.collectors.registry import COLLECTORS, load_all
from runbook_guard.engine.loader import PolicySet
from runbook_guard.engine.plan import CollectionPlan, LogQuery
from runbook_guard.engine.planner import plan_collection
from runbook_guard.engine.reads import ALL
from runbook_guard.engine.results import build_results
from runbook_guard.engine.rules import CompiledRule, compile_rule
from runbook_guard.engine.snapshot import ACCESS_DENIED, Snapshot
from tests.hardening.faults import (
    ANSWERS,
    RETRIED,
    Injection,
    Recording,
    Target,
    absent_means_none,
    session_factory,
)

Document = dict[str, Any]
ResultKey = tuple[str, str]

#: Retries and timeouts small enough for 300 collections: two attempts (so a retry happens and
#: is outlasted), a read timeout of a twentieth of a second against the silent socket.
MAX_ATTEMPTS = 2
READ_TIMEOUT = 0.05

#: Operation sets that are no collector's: they add figures to listed resources, and a rule
#: needs them through its ``metrics`` or its ``logs`` (the matrix test checks the list).
ENRICHMENT = {
    metrics_collector.API.owner: "metrics",
    logs_collector.EVENTS_API.owner: "logs",
    insights.API.owner: "logs",
}

#: (operation, rule): a rule that needs the operation's data on some resources only, the one
#: status that may stand without it, and why that is right. Any other status a needy rule keeps
#: (a pass above all) is a defect.
DECIDED_WITHOUT: dict[tuple[str, str], tuple[str, str]] = {
    ("GetQueueAttributes", "sqs.visibility-timeout-covers-consumers"): (
        "note",
        "a queue no function consumes is a note ('no consumers') whatever its timeout",
    ),
    ("GetFunctionConcurrency", "sqs.work-queue-consumed"): (
        "fail",
        "a queue no enabled event source mapping names fails ('no stack function consumes the"
        " queue') whatever its would-be consumers' reserved concurrency; a queue with consumers"
        " whose Concurrency is unknown is error",
    ),
}


def brief_sleep(seconds: float) -> None:
    """Polls (the credential report, Logs Insights queries) wait a millisecond, not seconds."""
    time.sleep(min(seconds, 0.001))


def matrix_plan(policy_set: PolicySet) -> CollectionPlan:
    """The shipped pack's plan, widened so that every declared operation is made.

    Every registered type is requested and every key wanted (the pack reads no key of some
    detail calls, e.g. GetBucketEncryption, so its plan would never make them). CloudTrail
    lookups are narrowed to one event name: LookupEvents is paced at 2 a second by design
    (collectors/pool.py), and one lookup per run is all a fault on it needs. One log group
    gets a count whose pattern Logs Insights cannot express (a regular expression), so the
    FilterLogEvents fallback is made too (collectors/insights.py).
    """
    load_all()
    plan = plan_collection(policy_set, {})
    for resource_type in COLLECTORS:
        plan.request(resource_type)
    for request in plan.types.values():
        request.keys = None
    events = plan.types["aws.cloudtrail.event"].options
    events["event_names"] = sorted(events.get("event_names") or ["DeleteTable"])[:1]
    fallback = LogQuery("matrix-fallback", "%ERROR%", 86400)
    plan.types[logs_collector.LOG_GROUP].log_queries.append((fallback, _one_log_group))
    return plan


def _one_log_group(resource: Mapping[str, Any]) -> bool:
    return str(resource["name"]).startswith("/aws/lambda/agenticai-stack-ApiHandler")


def restricted(plan: CollectionPlan, types: Iterable[str]) -> CollectionPlan:
    kept = set(types)
    narrowed = copy.copy(plan)
    narrowed.types = {t: r for t, r in plan.types.items() if t in kept}
    return narrowed


def splice(baseline: Document, part: Document, types: frozenset[str]) -> Document:
    """``baseline`` with the share of ``types`` taken from ``part`` (collected for them alone)."""

    def mine(items: list[Document], key: str, inside: bool) -> list[Document]:
        return [item for item in items if (item.get(key) in types) == inside]

    metadata = dict(baseline["metadata"])
    if "collected_keys" in metadata:
        keys = {t: k for t, k in metadata["collected_keys"].items() if t not in types}
        keys.update(part["metadata"].get("collected_keys") or {})
        metadata["collected_keys"] = dict(sorted(keys.items()))
    return {
        **baseline,
        "metadata": metadata,
        **{
            name: mine(baseline[name], key, False) + mine(part[name], key, True)
            for name, key in (
                ("resources", "type"),
                ("errors", "resource_type"),
                ("coverage", "type"),
            )
        },
    }


def statuses(results: Document) -> dict[ResultKey, str]:
    return {
        (r["rule"], (r["resource"] or {}).get("id", "")): r["status"] for r in results["results"]
    }


def per_rule(found: Mapping[ResultKey, str]) -> dict[str, dict[str, str]]:
    rules: dict[str, dict[str, str]] = defaultdict(dict)
    for (rule, resource), status in found.items():
        rules[rule][resource] = status
    return rules


def decision_reads(policy_set: PolicySet) -> dict[str, dict[str, set[str]]]:
    """Per rule, the keys it decides on: its reads less those only its evidence reads.

    Evidence is shown, not judged: a failed call leaves it null and the status stands, so a
    rule needs an operation only for what it decides on. Computed by compiling each rule
    again without its ``evidence``.
    """
    parameters = policy_set.effective_parameters({})
    reads: dict[str, dict[str, set[str]]] = {}
    for entry in policy_set.entries:
        spec = {k: v for k, v in entry.spec.items() if k != "evidence"}
        rule = compile_rule(spec, parameters, policy_set.tables, entry.source, entry.pack)
        reads[rule.id] = rule.reads
    return reads


def needs(
    rule: CompiledRule, reads: Mapping[str, set[str]], target: Target, types: frozenset[str]
) -> bool:
    """Whether the rule decides on what ``target`` answers, by the declarations alone.

    It does when the operation lists a type the rule judges or reads, or fills a key the rule
    decides on beyond what the listing already gave; it needs GetMetricData when it has
    metric queries, the log counts when it counts log events, on a type collected here.
    """
    enrichment = ENRICHMENT.get(target.api.owner)
    if enrichment is not None:
        return bool(getattr(rule, enrichment)) and rule.resource_type in types
    for resource_type in ({rule.resource_type} | set(reads)) & types:
        api = COLLECTORS[resource_type].api
        if api is not target.api:
            continue
        if target.operation in api.listings:
            return True
        filled = api.filled(target.operation).get(resource_type, frozenset())
        read = reads.get(resource_type, set())
        if ALL in read or read & (filled - api.listing_keys(resource_type)):
            return True
    return False


@dataclass
class World:
    """The seeded account's fault-free collection, and what each group of types calls."""

    policy_set: PolicySet
    now: datetime
    rules: list[CompiledRule] = field(default_factory=list)
    plan: CollectionPlan = field(default_factory=CollectionPlan)
    baseline: Document = field(default_factory=dict)
    results: Document = field(default_factory=dict)
    #: Per collector owner, its types and the (service, operation) their collection made.
    groups: dict[str, tuple[frozenset[str], frozenset[tuple[str, str]]]] = field(
        default_factory=dict
    )
    recording: Recording = field(default_factory=Recording)
    reads: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    #: Per group of types, its fault-free collection as moto answered it.
    recorded: dict[frozenset[str], Document] = field(default_factory=dict)
    _clean: dict[frozenset[str], Document] = field(default_factory=dict)

    def scope(self, factory: Any) -> Scope:
        return Scope(
            max_attempts=MAX_ATTEMPTS,
            read_timeout=READ_TIMEOUT,
            connect_timeout=1.0,
            quiet=True,
            now=self.now,
            session_factory=factory,
            sleep=brief_sleep,
        )

    def evaluate(self, document: Document) -> Document:
        return build_results(self.policy_set, self.rules, Snapshot(document), {}, self.now)

    def prepare(self) -> None:
        """The baseline, then each collector's types alone (recording what they call)."""
        self.rules = self.policy_set.compile()
        self.plan = matrix_plan(self.policy_set)
        self.reads = decision_reads(self.policy_set)
        factory = session_factory(*self.recording.hooks())
        self.baseline = collect(self.plan, self.scope(factory))
        self.results = self.evaluate(self.baseline)
        owners: dict[str, set[str]] = defaultdict(set)
        for resource_type, collector in COLLECTORS.items():
            owners[collector.api.owner].add(resource_type)
        for owner, types in sorted(owners.items()):
            self.recording.operations = set()
            self.recorded[frozenset(types)] = collect(
                restricted(self.plan, types), self.scope(factory)
            )
            self.groups[owner] = (frozenset(types), frozenset(self.recording.operations))

    def types_calling(self, target: Target) -> frozenset[str]:
        """The types whose collection makes ``target`` (empty: no group made it)."""
        call = (target.service, target.operation)
        return frozenset(t for types, made in self.groups.values() if call in made for t in types)

    def collect_part(self, types: frozenset[str], factory: Any) -> Document:
        return collect(restricted(self.plan, types), self.scope(factory))

    def clean(self, types: frozenset[str]) -> Document:
        """The fault-free collection of ``types`` alone, every answer replayed."""
        if types not in self._clean:
            replay = ("before-call", self.recording.replay())
            self._clean[types] = self.collect_part(types, session_factory(replay))
        return self._clean[types]


@dataclass
class Outcome:
    """One fault run: the faulted operation's errors, and the spliced results."""

    injection: Injection
    types: frozenset[str]
    part: Document
    errors: list[Document]
    results: Document
    #: The results when the operation answers "none" explicitly, for a fault whose missing
    #: fields AWS documents as left out when there is nothing (``calls.MAY_BE_ABSENT``).
    as_none: Document | None = None


def run_case(world: World, injection: Injection) -> Outcome:
    target = injection.target
    types = world.types_calling(target)
    replay = ("before-call", world.recording.replay(target))
    part = world.collect_part(types, session_factory(*injection.hooks(), replay))
    errors = [e for e in part["errors"] if e["operation"] == target.operation]
    outcome = Outcome(
        injection, types, part, errors, world.evaluate(splice(world.baseline, part, types))
    )
    if not errors and injection.kind in ANSWERS and absent_means_none(target):
        explicit = Injection(target, "none", injection.blackhole, injection.template)
        part = world.collect_part(types, session_factory(*explicit.hooks(), replay))
        outcome.as_none = world.evaluate(splice(world.baseline, part, types))
    return outcome


def _data_of(part: Document, target: Target) -> dict[str, Any]:
    """Per resource id, what ``target`` fills of it (its keys, its metrics or log counts)."""
    enrichment = ENRICHMENT.get(target.api.owner)
    found: dict[str, Any] = {}
    for resource in part["resources"]:
        if enrichment is not None:
            found[resource["id"]] = resource.get(enrichment)
            continue
        keys = target.api.filled(target.operation).get(resource["type"], frozenset())
        found[resource["id"]] = {k: resource["data"].get(k) for k in sorted(keys)}
    return found


def judge(world: World, outcome: Outcome) -> list[str]:
    """Everything the fault did that it must not have; empty when it was survived."""
    injection, target = outcome.injection, outcome.injection.target
    before, now = statuses(world.results), statuses(outcome.results)
    if not outcome.errors:
        return _accepted(world, outcome, before, now)
    problems: list[str] = []
    action = target.api.iam_action(target.operation)
    named = sorted({str(e.get("iam_action")) for e in outcome.errors} - {action})
    if named:
        problems.append(f"the error names {named}, not {action}")
    codes = sorted({e["code"] for e in outcome.errors})
    if injection.kind == "access-denied" and not set(codes) <= ACCESS_DENIED:
        problems.append(f"a denial recorded as {codes}")
    if injection.kind in RETRIED and injection.sends != injection.calls * MAX_ATTEMPTS:
        problems.append(f"{injection.sends} attempts for {injection.calls} calls")
    problems += _decisions(world, outcome, before, now)
    gate = outcome.results["summary"]["gate"]["blocking"]
    errored = sum(status == "error" for status in now.values())
    if gate < max(errored, 1):
        problems.append(f"the gate blocks {gate} results, with {errored} errors")
    recorded = {json.dumps(e, sort_keys=True) for e in outcome.results["collection_errors"]}
    if not {json.dumps(e, sort_keys=True) for e in outcome.errors} <= recorded:
        problems.append("the results' collection_errors lack the fault's errors")
    return problems


def _decisions(
    world: World, outcome: Outcome, before: dict[ResultKey, str], now: dict[ResultKey, str]
) -> list[str]:
    """A result may only turn into ``error``; a rule needing the data is ``error`` throughout."""
    problems: list[str] = []
    target = outcome.injection.target
    after = per_rule(now)
    for key, status in sorted(now.items()):
        if before.get(key) != status and status != "error":
            problems.append(f"{key[0]} on {key[1] or 'the rule'}: {before.get(key)} -> {status}")
    for key in sorted(set(before) - set(now)):
        if "error" not in after.get(key[0], {}).values():
            problems.append(f"{key[0]} lost its result on {key[1]} without an error")
    for rule in world.rules:
        if not needs(rule, world.reads[rule.id], target, outcome.types):
            continue
        may_stand = DECIDED_WITHOUT.get((target.operation, rule.id), ("", ""))[0]
        kept = sorted(set(after.get(rule.id, {}).values()) - {"error", may_stand})
        if kept:
            problems.append(f"{rule.id} needed the data but is still {kept}")
    return problems


def _accepted(
    world: World, outcome: Outcome, before: dict[ResultKey, str], now: dict[ResultKey, str]
) -> list[str]:
    """No error recorded: right only for a 200 whose missing fields AWS documents as "none",
    or when the collector got the same data anyway (a poll asked again)."""
    injection, target = outcome.injection, outcome.injection.target
    if injection.kind not in ANSWERS:
        return [f"{injection.kind} on {target.operation} recorded no error"]
    if absent_means_none(target):
        assert outcome.as_none is not None
        if now != statuses(outcome.as_none):
            return ["an absent field did not read as the explicit 'none'"]
        return []
    changed = sorted({k[0] for k in set(before) | set(now) if before.get(k) != now.get(k)})
    clean, mine = _data_of(world.clean(outcome.types), target), _data_of(outcome.part, target)
    differs = sorted(r for r in set(clean) | set(mine) if clean.get(r) != mine.get(r))
    if changed or differs:
        return [
            f"the answer was taken as valid (no error): {len(differs)} resources' data"
            f" differ, rules changed: {changed}"
        ]
    return []
