"""Shards: one collection split over N jobs of the engine a team already runs, merged fail-closed.

A plan step writes a **manifest** (``schemas/manifest.schema.json``): the accounts, each with
its regions (or none, to discover them when collecting), how many shards (N), the fingerprint
of the policies, parameters and selected rules, where each planned type is listed, and one
``now`` that every shard's windows end at. Its id is the sha256 of that content.

**Units.** An account with regions is one ``(account, "global")`` unit (its global services:
IAM, S3's listing, Budgets) plus one ``(account, region)`` unit per region; an account whose
regions are discovered is one ``(account, "*")`` unit. Units are sorted by account, then
``global`` first, then region.

**Split: balanced, contiguous.** Shard K of N (1-based) takes the K-th of N contiguous runs of
the sorted units, ``units[(K-1)*U//N : K*U//N]``: every unit is in exactly one shard, the sizes
differ by at most one, and an account's units stay together except where a run ends (so most
accounts are assumed by one shard only). We chose balance over stability when accounts are
added (rendezvous hashing would move few units then, but leaves shards uneven: 10 accounts
hashed onto 8 shards can give one shard 3 and another none): the slowest shard sets a run's
wall time, and
nothing is kept from one run's shards to the next (every run collects everything against its
own manifest), so a stable assignment would buy nothing.

**Merge, fail closed.** ``merge_shards`` reads the shard snapshots one at a time into one
snapshot document. A shard is used only when it names this manifest, this count, this
fingerprint and exactly the units the split gives its index. For the units of a shard that is
missing, given twice (neither copy is used), or replaced by a shard of another manifest, the
merged snapshot holds no resource in those units (not even one another shard carried), an
incomplete listing of every planned type listed there, and an error naming the cause on each:
every rule judging those units is ``error``, never ``pass``. A shard may list only its own
units complete.

``shard_index_from_env`` reads the index an engine gives each job: Kubernetes Indexed Jobs'
``JOB_COMPLETION_INDEX``, AWS Batch array jobs' ``AWS_BATCH_JOB_ARRAY_INDEX`` (both 0-based);
GitHub Actions has no such variable: pass ``strategy.job-index`` through
``RUNBOOK_GUARD_SHARD_INDEX`` (0-based too), or give ``--shard K/N`` with a 1-based matrix value.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from runbook_guard import __version__
from runbook_guard.engine.accounts import AccountUnit
from runbook_guard.engine.documents import digest_of, load_document
from runbook_guard.engine.errors import InputError, problem
from runbook_guard.engine.snapshot import SNAPSHOT_SCHEMA_VERSION, payer_held_by
from runbook_guard.engine.timeutil import parse_timestamp

MANIFEST_VERSION = 1
GLOBAL = "global"
#: The unit of an account whose regions the collecting shard discovers.
WHOLE_ACCOUNT = "*"
#: The engines' own index variables (0-based), and ours for engines without one.
INDEX_VARIABLES = ("JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "RUNBOOK_GUARD_SHARD_INDEX")
#: What a merge error names as its source: no AWS call failed, the run's own shards did.
MERGE_SERVICE = "runbook-guard"
MERGE_OPERATION = "MergeShards"

Unit = tuple[str, str]


def build_manifest(
    accounts: Sequence[AccountUnit],
    *,
    now: datetime,
    policies_digest: str,
    parameters: Mapping[str, Any],
    planned_rules: Mapping[str, str],
    resource_types: Mapping[str, str],
    shards: int,
) -> dict[str, Any]:
    """The manifest of a sharded collection into ``shards`` parts; ``id`` is the digest of all
    the rest.

    ``accounts``' parameters are their overrides as given (the accounts file's); a unit whose
    regions are ``None`` is discovered by the shard that collects it.
    """
    body: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "shards": shards,
        "now": now.isoformat(),
        "fingerprint": fingerprint(policies_digest, parameters, planned_rules),
        "resource_types": dict(sorted(resource_types.items())),
        "accounts": [_account_entry(unit) for unit in sorted(accounts, key=lambda u: u.id)],
    }
    return {**body, "id": digest_of(body)}


def fingerprint(
    policies_digest: str, parameters: Mapping[str, Any], planned_rules: Mapping[str, str]
) -> dict[str, str]:
    """What a collection was planned for: a shard collected for anything else is foreign."""
    return {
        "policies": policies_digest,
        "parameters": digest_of(dict(parameters)),
        "rules": digest_of(dict(planned_rules)),
    }


def _account_entry(unit: AccountUnit) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": unit.id,
        "role": unit.role,
        "external_id": unit.external_id,
        "regions": sorted(unit.regions) if unit.regions is not None else None,
    }
    if unit.parameters:
        entry["parameters"] = dict(unit.parameters)
    if unit.tags:
        entry["tags"] = dict(sorted(unit.tags.items()))
    if unit.name:
        entry["name"] = unit.name
    if unit.payer:
        entry["payer"] = True
    return entry


def load_manifest(path: Path) -> dict[str, Any]:
    """Read and validate a manifest; one whose content does not match its id is refused."""
    manifest: dict[str, Any] = load_document(path, "manifest")
    body = {key: value for key, value in manifest.items() if key not in ("id", "$schema")}
    if digest_of(body) != manifest["id"]:
        message = "the content does not match its id: the manifest was edited or damaged"
        raise InputError([problem(str(path), 1, 1, "id", message)])
    return manifest


def manifest_now(manifest: Mapping[str, Any]) -> datetime:
    moment = parse_timestamp(manifest["now"])
    if moment is None:
        raise InputError([f"manifest {manifest['id']}: now {manifest['now']!r} is not a time"])
    return moment


def require_fingerprint(manifest: Mapping[str, Any], found: Mapping[str, str]) -> None:
    """Refuse to collect a shard for other policies, parameters or rules than planned."""
    wanted = manifest["fingerprint"]
    differs = sorted(key for key in wanted if wanted[key] != found.get(key))
    if differs:
        raise InputError(
            [
                f"--manifest {manifest['id']}: planned for other {', '.join(differs)} than this"
                " run's: collect every shard with the plan step's policies, --param and rule"
                " selection, or plan again"
            ]
        )


def units(manifest: Mapping[str, Any]) -> list[Unit]:
    """Every unit of the manifest, in split order."""
    found: list[Unit] = []
    for account in sorted(manifest["accounts"], key=lambda a: str(a["id"])):
        regions = account["regions"]
        if regions is None:
            found.append((str(account["id"]), WHOLE_ACCOUNT))
        else:
            found.append((str(account["id"]), GLOBAL))
            found.extend((str(account["id"]), str(region)) for region in sorted(regions))
    return found


def parse_shard(value: str, environ: Mapping[str, str] | None = None) -> tuple[int, int]:
    """``K/N`` (1-based K) or ``auto/N`` (K from the engine's index variable)."""
    index, sep, count = value.partition("/")
    if not sep or not count.strip().isdigit() or int(count) < 1:
        raise InputError([f"--shard: {value!r} is not K/N or auto/N (N a whole number >= 1)"])
    n = int(count)
    if index.strip() == "auto":
        return shard_index_from_env(n, environ), n
    if not index.strip().isdigit() or not 1 <= int(index) <= n:
        raise InputError([f"--shard: {value!r}: K must be a whole number from 1 to {n}"])
    return int(index), n


def shard_index_from_env(count: int, environ: Mapping[str, str] | None = None) -> int:
    """The 1-based shard index from the engine's 0-based index variable."""
    env = os.environ if environ is None else environ
    found = {name: env[name].strip() for name in INDEX_VARIABLES if env.get(name, "").strip()}
    if not found:
        names = ", ".join(INDEX_VARIABLES)
        raise InputError([f"--shard auto/{count}: none of {names} is set: give --shard K/N"])
    if len(set(found.values())) > 1:
        shown = ", ".join(f"{k}={v}" for k, v in found.items())
        raise InputError([f"--shard auto/{count}: the index variables disagree ({shown})"])
    name, raw = next(iter(found.items()))
    if not raw.isdigit() or int(raw) >= count:
        raise InputError([f"--shard auto/{count}: {name}={raw!r} is not an index 0 to {count - 1}"])
    return int(raw) + 1


def split(manifest: Mapping[str, Any], index: int, count: int) -> list[Unit]:
    """The units of shard ``index`` of ``count`` (see the module's docstring)."""
    if not 1 <= index <= count:
        raise InputError([f"--shard {index}/{count}: K must be from 1 to {count}"])
    every = units(manifest)
    return every[(index - 1) * len(every) // count : index * len(every) // count]


def shard_accounts(manifest: Mapping[str, Any], index: int, count: int) -> list[AccountUnit]:
    """What shard ``index`` collects: one ``AccountUnit`` per account it holds units of.

    Collect them with ``Scope(accounts=..., discover_regions=True, now=manifest_now(m))``.
    """
    if count != manifest["shards"]:
        raise InputError(
            [f"--shard {index}/{count}: the manifest was planned for {manifest['shards']} shards"]
        )
    mine: dict[str, list[str]] = {}
    for account, region in split(manifest, index, count):
        mine.setdefault(account, []).append(region)
    by_id = {str(a["id"]): a for a in manifest["accounts"]}
    chosen = []
    for account, regions in mine.items():
        entry = by_id[account]
        whole = WHOLE_ACCOUNT in regions
        every = entry["regions"]
        chosen.append(
            AccountUnit(
                id=account,
                role=entry.get("role"),
                external_id=entry.get("external_id"),
                regions=None if whole else tuple(r for r in regions if r != GLOBAL),
                global_services=whole or GLOBAL in regions,
                all_regions=tuple(sorted(every)) if every is not None else None,
                parameters=dict(entry.get("parameters") or {}),
                tags=dict(entry.get("tags") or {}),
                name=str(entry.get("name") or ""),
                payer=bool(entry.get("payer", False)),
            )
        )
    return chosen


def stamp_shard(
    snapshot: dict[str, Any], manifest: Mapping[str, Any], index: int, count: int
) -> dict[str, Any]:
    """Record in a shard's snapshot which shard of which manifest it is (its units too)."""
    snapshot["metadata"]["shard"] = {
        "manifest": manifest["id"],
        "index": index,
        "count": count,
        "units": [list(unit) for unit in split(manifest, index, count)],
        "fingerprint": dict(manifest["fingerprint"]),
    }
    return snapshot


@dataclass
class _Slot:
    """What the files given said about one shard index."""

    used: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)


def merge_shards(paths: Iterable[Path], manifest: Mapping[str, Any]) -> dict[str, Any]:
    """One snapshot document from shard snapshots, read one at a time (see the docstring).

    A file that is not a valid snapshot is bad input (exit 2), as for any snapshot.
    """
    count = int(manifest["shards"])
    expected = {k: split(manifest, k, count) for k in range(1, count + 1)}
    slots = {k: _Slot() for k in expected}
    foreign: list[dict[str, str]] = []
    for path in sorted(paths, key=str):
        document = load_document(path, "snapshot")
        index, reason = _judge(document, manifest, count, expected)
        if reason is None:
            slots[index].used.append((str(path), _contribution(document)))
        else:
            foreign.append({"file": str(path), "reason": reason})
            if index in slots:
                slots[index].foreign.append(f"{path} ({reason})")
        del document  # one shard in memory at a time, besides what is kept of it
    return _assemble(manifest, count, expected, slots, foreign)


def _judge(
    document: Mapping[str, Any],
    manifest: Mapping[str, Any],
    count: int,
    expected: Mapping[int, list[Unit]],
) -> tuple[int, str | None]:
    """(index, why it cannot be used) of a shard file; ``None``: it belongs here."""
    shard = document["metadata"].get("shard")
    if not isinstance(shard, Mapping) or "index" not in shard:
        return 0, "not a shard (no metadata.shard)"
    index = int(shard["index"])
    if shard["manifest"] != manifest["id"]:
        return index, f"a shard of manifest {shard['manifest']}, not {manifest['id']}"
    if int(shard["count"]) != count or index not in expected:
        return index, f"shard {index}/{shard['count']}, not one of {count} shards"
    if shard.get("fingerprint") != manifest["fingerprint"]:
        return index, "collected for other policies, parameters or rules"
    units_given = [(str(a), str(r)) for a, r in shard.get("units") or []]
    if units_given != expected[index]:
        return index, "its units are not the ones the manifest gives this shard"
    own = set(units_given)
    for entry in document["coverage"]:
        where = (entry["account"], entry["region"])
        if entry["complete"] and where not in own and (where[0], WHOLE_ACCOUNT) not in own:
            return index, f"it lists {where[0]}/{where[1]} complete, a unit it was not given"
    return index, None


def _contribution(document: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "metadata": document["metadata"],
        "schema_version": document["schema_version"],
        "resources": document["resources"],
        "errors": document["errors"],
        "coverage": document["coverage"],
    }


def _assemble(
    manifest: Mapping[str, Any],
    count: int,
    expected: Mapping[int, list[Unit]],
    slots: Mapping[int, _Slot],
    foreign: list[dict[str, str]],
) -> dict[str, Any]:
    good = [slot.used[0] for slot in slots.values() if len(slot.used) == 1]
    merged = _merged_metadata(manifest, count, [c for _, c in good])
    report = []
    broken: dict[Unit, tuple[str, str]] = {}
    for index, slot in slots.items():
        status, cause = _verdict(index, count, manifest["id"], slot)
        report.append({"index": index, "status": status, "files": [f for f, _ in slot.used]})
        if cause is not None:
            broken.update(dict.fromkeys(expected[index], cause))
    resources: list[Any] = []
    errors: list[Any] = []
    coverage: list[Any] = []
    for _, contribution in good:
        # Nothing of a broken unit passes, even what another shard slipped in for it.
        resources += [r for r in contribution["resources"] if not _in(broken, r)]
        errors += contribution["errors"]
        coverage += contribution["coverage"]
    for (account, region), (code, text) in broken.items():
        merged["accounts"].add(account)
        for rtype, where in _listed_in(manifest, region):
            merged["regions"] |= {where} - {GLOBAL}
            coverage.append({"type": rtype, "account": account, "region": where, "complete": False})
            errors.append(
                {
                    "service": MERGE_SERVICE,
                    "operation": MERGE_OPERATION,
                    "region": where,
                    "account": account,
                    "resource_type": rtype,
                    "code": code,
                    "message": f"{text}: nothing collected for {account}/{region} can pass",
                }
            )
    shard: dict[str, Any] = {"manifest": manifest["id"], "count": count, "shards": report}
    if foreign:
        shard["foreign"] = foreign
    metadata = {
        **merged["metadata"],
        "accounts": sorted(merged["accounts"]),
        "regions": sorted(merged["regions"]),
        "shard": shard,
    }
    # From the manifest, not a shard: the payer's shard may be missing, and its units then
    # hold the errors that keep a payer-held fact from passing.
    named = [str(a["id"]) for a in manifest["accounts"] if a.get("payer")]
    payer = payer_held_by(named[0] if len(named) == 1 else None, metadata["accounts"], coverage)
    version = merged["schema_version"]
    if payer is not None:
        metadata["payer_account"] = payer
        version = max(version, SNAPSHOT_SCHEMA_VERSION)
    return {
        "schema_version": version,
        "metadata": metadata,
        "resources": sorted(resources, key=_resource_key),
        "errors": sorted(errors, key=_error_key),
        "coverage": sorted(coverage, key=_coverage_key),
    }


def _in(units: Mapping[Unit, Any], resource: Mapping[str, Any]) -> bool:
    account = str(resource["account"])
    return (account, str(resource["region"])) in units or (account, WHOLE_ACCOUNT) in units


def _verdict(index: int, count: int, manifest_id: str, slot: _Slot) -> tuple[str, Any]:
    """The shard's status and, when its units cannot be used, (error code, cause)."""
    name = f"shard {index}/{count} of manifest {manifest_id}"
    if len(slot.used) == 1:
        return "ok", None
    if len(slot.used) > 1:
        files = ", ".join(f for f, _ in slot.used)
        return "duplicated", ("ShardDuplicated", f"{name} was given twice ({files}): neither used")
    if slot.foreign:
        given = "; ".join(slot.foreign)
        return "foreign", ("ShardForeign", f"{name} is missing; in its place: {given}")
    return "missing", ("ShardMissing", f"{name} was not among the files given")


def _listed_in(manifest: Mapping[str, Any], region: str) -> list[tuple[str, str]]:
    """(type, region) of each listing a unit holds: a whole account's all at ``global``."""
    found = []
    for rtype, scope in sorted(manifest["resource_types"].items()):
        if region == WHOLE_ACCOUNT:
            found.append((rtype, GLOBAL))
        elif (scope == "global") == (region == GLOBAL):
            found.append((rtype, region))
    return found


def _merged_metadata(
    manifest: Mapping[str, Any], count: int, contributions: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The shards' metadata as one: times spanning them all, sums and unions."""
    metas = [c["metadata"] for c in contributions]
    now = manifest["now"]
    first = metas[0] if metas else {}
    collected: dict[str, set[str]] = {}
    per_account: dict[str, Any] = {}
    for meta in metas:
        for rtype, keys in (meta.get("collected_keys") or {}).items():
            collected.setdefault(rtype, set()).update(keys)
        for account, entry in (meta.get("per_account") or {}).items():
            known = per_account.setdefault(account, dict(entry))
            known["regions"] = sorted(set(known["regions"]) | set(entry["regions"]))
    for account in manifest["accounts"]:  # the whole account, its shards missing or not
        known = per_account.get(str(account["id"]))
        if known is not None:
            known.pop("global_services", None)
            known["regions"] = sorted(set(known["regions"]) | set(account["regions"] or []))
    metadata: dict[str, Any] = {
        "tool_version": first.get("tool_version", __version__),
        "started_at": min((m["started_at"] for m in metas), default=now),
        "finished_at": max((m["finished_at"] for m in metas), default=now),
        "parameters": first.get("parameters", {}),
        "resource_types": sorted(manifest["resource_types"]),
        "api_calls": sum(int(m.get("api_calls", 0)) for m in metas),
    }
    for key in ("options", "planned_rules"):
        if key in first:
            metadata[key] = first[key]
    if metas and all("collected_keys" in m for m in metas):
        metadata["collected_keys"] = {t: sorted(k) for t, k in sorted(collected.items())}
    if metas:
        metadata["max_concurrency"] = max(int(m.get("max_concurrency", 1)) for m in metas)
    if per_account:
        metadata["per_account"] = dict(sorted(per_account.items()))
    return {
        "metadata": metadata,
        "schema_version": max((int(c["schema_version"]) for c in contributions), default=2),
        "accounts": {str(a) for m in metas for a in m.get("accounts") or []},
        "regions": {str(r) for m in metas for r in m.get("regions") or []}
        | {str(r) for a in manifest["accounts"] for r in a["regions"] or []},
    }


def _resource_key(resource: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (resource["type"], resource["account"], resource["region"], resource["id"])


def _coverage_key(entry: Mapping[str, Any]) -> tuple[str, str, str, bool]:
    return (entry["type"], entry["account"], entry["region"], entry["complete"])


def _error_key(error: Mapping[str, Any]) -> tuple[str, ...]:
    fields = ("account", "region", "service", "operation", "resource_type", "resource", "code")
    return (*(str(error.get(f, "")) for f in fields), str(error.get("message", "")))
