"""Glue between the stages for the commands: config + options -> rules -> results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from runbook_guard.collectors import Scope
from runbook_guard.collectors.pool import DEFAULT_MAX_CONCURRENCY
from runbook_guard.collectors.registry import COLLECTORS, declared_keys
from runbook_guard.engine.attestations import (
    Attestation,
    check_against_rules,
    load_attestations,
)
from runbook_guard.engine.config import GATES, Config, load_config
from runbook_guard.engine.coverage import coverage_of
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import PolicySet, load_policy_set
from runbook_guard.engine.overrides import parse_overrides
from runbook_guard.engine.plan import CollectionPlan
from runbook_guard.engine.planner import build_plan
from runbook_guard.engine.reads import ALL
from runbook_guard.engine.results import build_results
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.selection import Candidate, Selection, severity_problem
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.engine.suggest import did_you_mean
from runbook_guard.engine.timeutil import parse_timestamp
from runbook_guard.engine.waivers import load_waivers


@dataclass
class Prepared:
    config: Config
    policy_set: PolicySet
    #: The selected rules: everything downstream (plan, IAM policy, results) sees only these.
    rules: list[CompiledRule]
    parameters: dict[str, Any]
    fail_on: str
    #: The results' ``selection`` record (engine/selection.py).
    selection: dict[str, Any] = field(default_factory=dict)
    fail_severity: str | None = None
    #: Ids (current and former) of the loaded rules the selection left out.
    left_out: frozenset[str] = frozenset()


def prepare(
    config_path: Path | None,
    policies: Sequence[Path] | None,
    params: Sequence[str] | None,
    fail_on: str | None = None,
    *,
    selection: Selection | None = None,
    fail_severity: str | None = None,
) -> Prepared:
    """Load config and policies and compile the rules with every override applied, keeping
    the rules the selection (options over the config file's) chooses."""
    config = load_config(config_path)
    policy_set = load_policy_set(list(policies or []) or config.policies or None)
    overrides = {**config.parameters, **parse_overrides(params or [])}
    parameters = policy_set.effective_parameters(overrides)
    gate = fail_on or config.fail_on
    if gate not in GATES:
        raise InputError([f"--fail-on must be one of {', '.join(GATES)}, not {gate!r}"])
    bad_floor = severity_problem(fail_severity, "--fail-severity") if fail_severity else None
    if bad_floor:
        raise InputError([bad_floor])
    floor = fail_severity or config.fail_severity
    compiled = policy_set.compile(overrides)
    config.owners.check_against_rules(compiled)  # every loaded rule: a selection is no typo
    chooser = (selection or Selection()).over(config.selection)
    chosen = set(chooser.choose([_candidate(rule) for rule in compiled]))
    rules = [rule for rule in compiled if rule.id in chosen]
    left_out = [rule for rule in compiled if rule.id not in chosen]
    return Prepared(
        config,
        policy_set,
        rules,
        parameters,
        gate,
        selection=chooser.record(list(chosen), [rule.id for rule in compiled]),
        fail_severity=floor,
        left_out=frozenset(n for rule in left_out for n in (rule.id, *rule.replaces)),
    )


def _candidate(rule: CompiledRule) -> Candidate:
    return Candidate(rule.id, tuple(rule.tags), rule.severity, rule.cadence, tuple(rule.replaces))


def collection_plan(prepared: Prepared) -> CollectionPlan:
    """The plan for the prepared rules, refusing a path no collection call can answer.

    A rule reading a key that no declared operation of its type fills would be collected
    without it and then be ``error`` on every run: a policy mistake (a typo in a path, a
    field of another type), reported at load time with the rule's file, line and path.
    """
    problems = unfilled_paths(prepared.rules)
    if problems:
        raise InputError(problems)
    return build_plan(prepared.rules, prepared.parameters)


def unfilled_paths(rules: Sequence[CompiledRule]) -> list[str]:
    """One line per (rule, type, key) the collectors' declarations cannot fill."""
    problems = []
    for rule in rules:
        for rtype, keys in sorted(rule.reads.items()):
            declared = declared_keys(rtype)
            if declared is None:  # no collector makes it: a typo ``validate`` also refuses
                hint = did_you_mean(rtype, COLLECTORS)
                problems.append(
                    f"{rule.source.file}:{rule.source.line}: {rule.id}: unknown resource type "
                    f"{rtype!r}{hint} (runbook-guard types lists them)"
                )
                continue
            for key in sorted(keys - declared - {ALL}):
                path = rule.read_by.get((rtype, key), key)
                problems.append(
                    f"{rule.source.file}:{rule.source.line}: {rule.id}: {path!r} reads '{key}' "
                    f"of {rtype}, which no collection call fills (see docs/resource-types.md)"
                )
    return problems


def evaluation_time(now: str | None, snapshot: Snapshot) -> datetime:
    """The injected 'now': the option, else the end of collection (so reruns are identical).

    ``--now`` may not precede the end of collection: ages would be counted from before the
    data was read (a runtime deprecated since would still pass), so it is refused.
    """
    finished = snapshot.metadata.get("finished_at")
    recorded = parse_timestamp(finished)
    if now is not None:
        moment = parse_timestamp(now)
        if moment is None:
            raise InputError([f"--now: {now!r} is not an ISO 8601 time"])
        if recorded is not None and moment < recorded:
            raise InputError(
                [
                    f"--now {moment.isoformat()} is before the snapshot was collected"
                    f" (metadata.finished_at {recorded.isoformat()}): evaluate as of the"
                    " collection or later"
                ]
            )
        return moment
    if recorded is None:
        # Never the wall clock: the same snapshot must give the same results tomorrow.
        raise InputError(
            [f"snapshot metadata.finished_at {finished!r} is not an ISO 8601 time; pass --now"]
        )
    return recorded


def evaluate(
    prepared: Prepared,
    snapshot: Snapshot,
    now: str | None,
    waivers: Path | None,
    attestations: Path | None = None,
) -> dict[str, Any]:
    """Evaluate a snapshot with the prepared rules, attestations and waivers applied, and
    every result's owner (the config's ``owners:``, else the rule's own)."""
    waiver_file = waivers or prepared.config.waivers
    waiver_list = load_waivers(waiver_file) if waiver_file else []
    # A waiver of a rule the selection left out waives nothing here: kept out of the register
    # rather than listed "unused" (as if its finding were gone) or warned about as unknown.
    waiver_list = [w for w in waiver_list if str(w.get("rule")) not in prepared.left_out]
    moment = evaluation_time(now, snapshot)
    attested = checked_attestations(prepared, attestations, moment)
    return build_results(
        prepared.policy_set,
        prepared.rules,
        snapshot,
        prepared.parameters,
        moment,
        waiver_list,
        fail_on=prepared.fail_on,
        coverage=coverage_of(prepared.policy_set),
        waiver_max_days=prepared.config.waiver_max_days,
        selection=prepared.selection,
        fail_severity=prepared.fail_severity,
        attestations=attested,
        owners=prepared.config.owners,
    )


def checked_attestations(
    prepared: Prepared, path: Path | None, moment: datetime
) -> list[Attestation]:
    """The attestations file (the option, else the config's), refused where one could not
    mean what it says (engine/attestations.py); those of rules the selection left out are
    dropped, as their waivers are: they attest nothing in this run."""
    source = path or prepared.config.attestations
    if source is None:
        return []
    kept = [a for a in load_attestations(source) if a.rule not in prepared.left_out]
    manual = {rule.id for rule in prepared.rules if rule.kind == "manual"}
    check_against_rules(kept, manual, {rule.id for rule in prepared.rules}, moment)
    return kept


def collection_scope(
    prepared: Prepared,
    profile: str | None,
    regions: Sequence[str] | None,
    role_arns: Sequence[str] | None,
    *,
    quiet: bool,
    max_attempts: int = 5,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> Scope:
    """Where to collect: command-line options first, then the config file, then boto3's own."""
    return Scope(
        profile=profile or prepared.config.profile,
        regions=list(regions or []) or prepared.config.regions,
        role_arns=list(role_arns or []) or prepared.config.role_arns,
        max_attempts=max_attempts,
        max_concurrency=max_concurrency,
        quiet=quiet,
    )
