"""The accounts a collection covers: units of (account, role, regions, parameters).

An organisation's accounts come from AWS Organizations (``collectors/organization.py``) or
from an accounts file written here: YAML validated by ``schemas/accounts.schema.json``, each
problem named by file, line and field (exit 2). Either way they become ``AccountUnit``s, the
one shape the collection context, the shard manifest and the snapshot's per-account record
share.

Per-account parameters (that environment's stack prefix) change what a collection must ask
for: the names a listing is limited to, which resources get detail calls. ``plan_for_accounts``
builds the plan of every distinct parameter set and collects their union, so each account's
resources are there for its own rules; each unit records the effective parameters and the rule
fingerprints it was planned for, so the engine can evaluate the account with its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import PolicySet, load_schema
from runbook_guard.engine.plan import CollectionPlan, TypeRequest
from runbook_guard.engine.planner import build_plan
from runbook_guard.engine.schema_errors import schema_findings
from runbook_guard.engine.snapshot import VIEW_PAYER, held_payer
from runbook_guard.engine.yamlsafe import Located, load_yaml

#: Beyond this many server-side name prefixes, a union plan lists a type whole: one paginated
#: listing is cheaper than a call per prefix for every account's stack prefix.
MAX_UNION_PREFIXES = 16


@dataclass(frozen=True)
class AccountUnit:
    """One account to collect, and how.

    ``role``: a role name (path allowed) or ARN to assume; ``None``: the caller's own
    credentials (the identity check still makes sure they are this account's). ``regions``:
    where to collect regional services; ``None``: the run's regions, or those discovered.
    ``all_regions``: every region of the account's collection when shards split them, so that
    exactly one shard records a CloudTrail trail homed outside its own regions.
    """

    id: str
    role: str | None = None
    external_id: str | None = None
    regions: tuple[str, ...] | None = None
    global_services: bool = True
    all_regions: tuple[str, ...] | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    name: str = ""
    #: The organisation's payer (management) account: facts it holds for every account (the
    #: free tier, consolidated budgets) are judged there (``held_by: payer``).
    payer: bool = False
    #: Rule id -> fingerprint this account's collection was planned for (its parameters').
    planned_rules: Mapping[str, str] | None = None


def role_arn(unit: AccountUnit, partition: str) -> str | None:
    """The ARN to assume in ``unit``'s account; a name becomes ``arn:P:iam::ID:role/NAME``."""
    if unit.role is None:
        return None
    if unit.role.startswith("arn:") or not unit.id:
        return unit.role  # an ARN, or a --role-arn value passed through as given
    return f"arn:{partition}:iam::{unit.id}:role/{unit.role.strip('/')}"


def arn_account(arn: str) -> str:
    """The account id field of an ARN ("" when it has none)."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else ""


@dataclass
class AccountsFile:
    """A validated accounts file and where each of its values was written."""

    units: list[AccountUnit]
    located: Located

    def parameter_problems(self, declared: Iterable[str]) -> list[str]:
        """A positioned problem per parameter name no loaded policy declares."""
        known = set(declared)
        problems = []
        for index, entry in enumerate(self.located.data.get("accounts") or []):
            for name in entry.get("parameters") or {}:
                if name not in known:
                    at = ("accounts", index, "parameters", name)
                    problems.append(self.located.problem(at, f"no policy declares {name!r}"))
        for name in (self.located.data.get("defaults") or {}).get("parameters") or {}:
            if name not in known:
                where = ("defaults", "parameters", name)
                problems.append(self.located.problem(where, f"no policy declares {name!r}"))
        return problems


def load_accounts(
    path: Path, default_role: str | None = None, default_external_id: str | None = None
) -> AccountsFile:
    """Read and validate an accounts file; every problem at once, each with its position.

    An account's role is its own, else the file's ``defaults``, else ``default_role`` (the
    command line's ``--role-name``); likewise its external id.
    """
    located = load_yaml(path)
    if not isinstance(located.data, dict):
        raise InputError([located.problem((), "an accounts file is a mapping with 'accounts'")])
    problems = _numeric_ids(located)
    hinted = {at for at, _ in _numeric_id_paths(located)}
    for at, message in schema_findings(located.data, load_schema("accounts")):
        if at not in hinted:
            problems.append(located.problem(at, message))
    if problems:
        raise InputError(problems)
    defaults = located.data.get("defaults") or {}
    units: list[AccountUnit] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(located.data["accounts"]):
        account_id = entry["id"]
        if account_id in seen:
            at = ("accounts", index, "id")
            problems.append(located.problem(at, f"account {account_id} is listed twice"))
        seen[account_id] = index
        if entry.get("payer") and any(u.payer for u in units):
            at = ("accounts", index, "payer")
            problems.append(located.problem(at, "only one account can be the payer"))
        unit = _unit(entry, defaults, default_role, default_external_id)
        problems += _role_problems(located, index, entry, unit)
        units.append(unit)
    if problems:
        raise InputError(problems)
    return AccountsFile(units, located)


def _unit(
    entry: Mapping[str, Any],
    defaults: Mapping[str, Any],
    default_role: str | None,
    default_external_id: str | None,
) -> AccountUnit:
    regions = entry.get("regions", defaults.get("regions"))
    return AccountUnit(
        id=str(entry["id"]),
        role=entry.get("role") or defaults.get("role") or default_role,
        external_id=(
            entry.get("external_id") or defaults.get("external_id") or default_external_id
        ),
        regions=tuple(regions) if regions is not None else None,
        parameters={**(defaults.get("parameters") or {}), **(entry.get("parameters") or {})},
        tags=dict(entry.get("tags") or {}),
        name=str(entry.get("name") or ""),
        payer=bool(entry.get("payer", False)),
    )


def _role_problems(
    located: Located, index: int, entry: Mapping[str, Any], unit: AccountUnit
) -> list[str]:
    problems = []
    if unit.role is not None and unit.role.startswith("arn:"):
        owner = arn_account(unit.role)
        if owner != unit.id:
            at = ("accounts", index, "role" if "role" in entry else "id")
            message = f"role {unit.role} is in account {owner}, not {unit.id}"
            problems.append(located.problem(at, message))
    if unit.external_id is not None and unit.role is None:
        at = ("accounts", index, "external_id" if "external_id" in entry else "id")
        problems.append(located.problem(at, "an external id needs a role to assume"))
    return problems


def _numeric_id_paths(located: Located) -> list[tuple[tuple[str | int, ...], Any]]:
    entries = located.data.get("accounts")
    if not isinstance(entries, list):
        return []
    return [
        (("accounts", index, "id"), entry["id"])
        for index, entry in enumerate(entries)
        if isinstance(entry, dict) and isinstance(entry.get("id"), int)
    ]


def _numeric_ids(located: Located) -> list[str]:
    """An unquoted id is read as a number, and one with leading zeros loses them (or is read
    as octal): say so, rather than "is not of type 'string'"."""
    return [
        located.problem(at, f"quote the account id ('{value}'): YAML read it as a number")
        for at, value in _numeric_id_paths(located)
    ]


def account_view(
    document: Mapping[str, Any], account: str, part: Mapping[str, list[Any]] | None = None
) -> dict[str, Any]:
    """One account's part of a snapshot document, as a snapshot of its own.

    Its resources, coverage and errors (errors naming no account apply to every account),
    and metadata scoped to it: its regions, and, where ``per_account`` records them, the
    parameters and rule fingerprints its collection was planned for. Evaluating each view
    with rules compiled from its own parameters judges every account by its own settings,
    with completeness and "expected resources" scoped to it.
    """
    metadata = dict(document["metadata"])
    own = (metadata.get("per_account") or {}).get(account)
    metadata["accounts"] = [account]
    payer = held_payer(document)
    if payer is not None and payer != account:
        # A member's view is excused from a payer-held fact only for a payer the whole
        # snapshot holds, where that fact is judged (the view itself does not hold it).
        metadata[VIEW_PAYER] = payer
    if own is not None:
        metadata["regions"] = list(own["regions"])
        metadata["per_account"] = {account: own}
        for key in ("parameters", "planned_rules"):
            if key in own:
                metadata[key] = own[key]
    if part is None:  # ``part``: this account's resources, coverage and errors, if grouped
        part = {
            "resources": [r for r in document["resources"] if r["account"] == account],
            "coverage": [c for c in document["coverage"] if c["account"] == account],
            "errors": [e for e in document["errors"] if e.get("account", account) == account],
        }
    return {**document, "metadata": metadata, **part}


def plan_for_accounts(
    policy_set: PolicySet,
    rule_ids: Iterable[str],
    overrides: Mapping[str, Any],
    base: CollectionPlan,
    units: Sequence[AccountUnit],
) -> tuple[CollectionPlan, list[AccountUnit]]:
    """One plan serving every account with its own parameters, and the units planned.

    ``overrides`` are the run's (config, ``--param``); an account's parameters go over them.
    ``base`` is the run's own plan (its selected ``rule_ids`` compiled with ``overrides``). Each
    distinct parameter set is compiled and planned once; the returned plan is the union, and
    each returned unit with parameters of its own carries its effective parameters and rule
    fingerprints (a unit without is judged by the run's: the snapshot's top-level record).
    """
    chosen = set(rule_ids)
    plans: dict[str, tuple[CollectionPlan, dict[str, Any]]] = {}
    planned: list[AccountUnit] = []
    for unit in units:
        if not unit.parameters:  # judged by the run's own parameters: nothing of its own
            planned.append(unit)
            continue
        merged = {**overrides, **unit.parameters}
        key = json.dumps(merged, sort_keys=True, default=str)
        if key not in plans:
            rules = [r for r in policy_set.compile(merged) if r.id in chosen]
            parameters = policy_set.effective_parameters(merged)
            plans[key] = (build_plan(rules, parameters), parameters)
        plan, parameters = plans[key]
        planned.append(replace(unit, parameters=parameters, planned_rules=dict(plan.rules)))
    return union_plan(base, [plan for plan, _ in plans.values()]), planned


def union_plan(base: CollectionPlan, others: Sequence[CollectionPlan]) -> CollectionPlan:
    """A plan asking for everything any of the plans asks for (``base``'s parameters and rules).

    Listings take the union of the name prefixes (or the whole listing, past
    ``MAX_UNION_PREFIXES``), keys the union (or every key), metric and log queries each once
    with their selections or'ed, options the union of their values.
    """
    union = CollectionPlan(parameters=dict(base.parameters), rules=dict(base.rules))
    for plan in (base, *others):
        for resource_type, request in plan.types.items():
            if resource_type not in union.types:
                union.types[resource_type] = _copy(request)
            else:
                _absorb(union.types[resource_type], request)
    union.types = dict(sorted(union.types.items()))
    return union


def _copy(request: TypeRequest) -> TypeRequest:
    return TypeRequest(
        request.resource_type,
        metrics=list(request.metrics),
        log_queries=list(request.log_queries),
        options={k: list(v) for k, v in request.options.items()},
        keys=None if request.keys is None else set(request.keys),
        selectors=list(request.selectors),
        prefixes=None if request.prefixes is None else list(request.prefixes),
        planned=request.planned,
    )


def _absorb(into: TypeRequest, other: TypeRequest) -> None:
    into.keys = None if into.keys is None or other.keys is None else into.keys | other.keys
    into.selectors.extend(other.selectors)
    into.planned = into.planned or other.planned
    for option, values in other.options.items():
        merged = into.options.setdefault(option, [])
        merged.extend(v for v in values if v not in merged)
    into.metrics = _either_by_key(into.metrics, other.metrics)
    into.log_queries = _either_by_key(into.log_queries, other.log_queries)
    if into.prefixes is None or other.prefixes is None:
        into.prefixes = None
    else:
        prefixes = sorted(set(into.prefixes) | set(other.prefixes))
        minimal = [p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)]
        into.prefixes = minimal if len(minimal) <= MAX_UNION_PREFIXES else None


def _either_by_key(first: list[Any], second: list[Any]) -> list[Any]:
    """(query, predicate) pairs, one per query key: a resource is selected if either selects.

    A query's key encodes all of it (metric, statistic, dimensions, window, period), so one
    key is one query whichever parameters produced it.
    """
    by_key: dict[str, tuple[Any, Any]] = {query.key: (query, p) for query, p in first}
    for query, predicate in second:
        if query.key not in by_key:
            by_key[query.key] = (query, predicate)
            continue
        known, previous = by_key[query.key]
        by_key[query.key] = (known, _or(previous, predicate))
    return [by_key[key] for key in sorted(by_key)]


def _or(first: Any, second: Any) -> Any:
    if first is second:
        return first
    return lambda resource: first(resource) or second(resource)
