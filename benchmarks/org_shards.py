"""Shard snapshots cut from one collection of every account, as the manifest's split gives them.

Collecting a thousand shards one process each (``collect --manifest M --shard K/1000``) costs a
thousand interpreter start-ups and a thousand CloudTrail floors on this 2-core machine, for
nothing the merge benchmark measures. So the merge's input is cut from the one 1,000-account
collection: shard K holds exactly the units ``engine.shards.split`` gives it (its resources,
errors and coverage, the per-account record of its accounts) and is stamped by
``engine.shards.stamp_shard``, the function ``collect --shard`` stamps with. ``differences``
compares a cut shard with one really collected through the CLI, so the benchmark can show
that the cut is what a shard job writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from runbook_guard.engine.fileio import write_json_atomic
from runbook_guard.engine.shards import GLOBAL, WHOLE_ACCOUNT, split, stamp_shard

#: What differs between any two collections of the same answers: when they ran, and how many
#: calls (a shard's own AssumeRole and identity calls are not the whole collection's share).
RUN_FIELDS = frozenset({"started_at", "finished_at", "api_calls"})


def cut(snapshot: Mapping[str, Any], manifest: Mapping[str, Any], index: int) -> dict[str, Any]:
    """Shard ``index`` of the manifest, cut from ``snapshot`` (a collection of every account)."""
    count = int(manifest["shards"])
    units = set(split(manifest, index, count))
    accounts = sorted({account for account, _ in units})

    def mine(entry: Mapping[str, Any]) -> bool:
        account = str(entry.get("account", ""))
        region = str(entry.get("region", GLOBAL))
        return (account, region) in units or (account, WHOLE_ACCOUNT) in units

    metadata = dict(snapshot["metadata"])
    per_account = metadata.get("per_account") or {}
    metadata["accounts"] = accounts
    metadata["per_account"] = {a: per_account[a] for a in accounts if a in per_account}
    metadata["regions"] = sorted({r for _, r in units if r not in (GLOBAL, WHOLE_ACCOUNT)})
    metadata["api_calls"] = round(int(metadata["api_calls"]) * len(units) / _unit_count(manifest))
    shard = {
        "schema_version": snapshot["schema_version"],
        "metadata": metadata,
        "resources": [r for r in snapshot["resources"] if mine(r)],
        "errors": [e for e in snapshot["errors"] if mine(e)],
        "coverage": [c for c in snapshot["coverage"] if mine(c)],
    }
    return stamp_shard(shard, manifest, index, count)


def _unit_count(manifest: Mapping[str, Any]) -> int:
    every = [a["regions"] for a in manifest["accounts"]]
    return sum(1 if regions is None else 1 + len(regions) for regions in every) or 1


def write_all(snapshot: Mapping[str, Any], manifest: Mapping[str, Any], folder: Path) -> int:
    """Every shard of the manifest into ``folder`` (``shard-KKKK.json``); how many."""
    folder.mkdir(parents=True, exist_ok=True)
    count = int(manifest["shards"])
    for index in range(1, count + 1):
        write_json_atomic(folder / f"shard-{index:04d}.json", cut(snapshot, manifest, index))
    return count


def differences(collected: Mapping[str, Any], made: Mapping[str, Any]) -> list[str]:
    """Where a cut shard differs from a collected one, beyond when it ran and its call count."""
    parts = ("resources", "errors", "coverage")
    found = [f"{part} differ" for part in parts if collected[part] != made[part]]
    keys = (set(collected["metadata"]) | set(made["metadata"])) - RUN_FIELDS
    found += [
        f"metadata.{key} differs"
        for key in sorted(keys)
        if collected["metadata"].get(key) != made["metadata"].get(key)
    ]
    return found


def paths(folder: Path) -> Iterator[Path]:
    return iter(sorted(folder.glob("shard-*.json")))
