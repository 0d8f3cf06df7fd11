"""The merge fails closed: a missing, duplicated or foreign shard makes its units' rules error.

Three accounts (one region each, so six units: each account's global part and its region) are
collected by four shards from one manifest with moto, shard by shard as a CI matrix would.
Then the merged snapshot is evaluated in-process (the CLI's ``prepare`` + ``evaluate``): every
rule on a unit whose shard is unusable is ``error`` naming the cause, never ``pass``, and the
other units are judged as usual.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from runbook_guard.cli.pipeline import Prepared, collection_plan, evaluate, prepare
from runbook_guard.collectors import Scope, collect
from runbook_guard.collectors.organization import type_scopes
from runbook_guard.engine.accounts import AccountUnit, plan_for_accounts
from runbook_guard.engine.documents import load_document
from runbook_guard.engine.loader import load_schema
from runbook_guard.engine.selection import Selection
from runbook_guard.engine.shards import (
    build_manifest,
    manifest_now,
    merge_shards,
    shard_accounts,
    split,
    stamp_shard,
)
from runbook_guard.engine.snapshot import Snapshot
from tests.org.conftest import ACCOUNTS, QUEUES, ROLE, seed_account

A, B, C = ACCOUNTS
N = 4
SQS_RULE = "sqs.work-queues-exist"
IAM_RULE = "iam.deployer-single-active-key"
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)

Write = Callable[[dict[str, Any], int, int], Path]


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    return prepare(None, None, None, selection=Selection.from_options(rules=[SQS_RULE, IAM_RULE]))


def make_manifest(
    prepared: Prepared, now: datetime = NOW, payer: str | None = None
) -> dict[str, Any]:
    plan = collection_plan(prepared)
    accounts = [
        AccountUnit(a, role=ROLE, regions=("us-east-1",), payer=a == payer) for a in ACCOUNTS
    ]
    return build_manifest(
        accounts,
        now=now,
        policies_digest=prepared.policy_set.digest,
        parameters=prepared.parameters,
        planned_rules=plan.rules,
        resource_types=type_scopes(plan),
        shards=N,
    )


def collect_shard(prepared: Prepared, manifest: dict[str, Any], index: int) -> dict[str, Any]:
    """What ``collect --shard K/N --manifest M`` does."""
    units = shard_accounts(manifest, index, N)
    plan, planned = plan_for_accounts(
        prepared.policy_set, [r.id for r in prepared.rules], {}, collection_plan(prepared), units
    )
    scope = Scope(
        accounts=planned,
        discover_regions=True,
        now=manifest_now(manifest),
        max_attempts=1,
        quiet=True,
    )
    return stamp_shard(collect(plan, scope), manifest, index, N)


@pytest.fixture(scope="module")
def world(
    mocked: None, prepared: Prepared, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], dict[int, Path]]:
    for account in ACCOUNTS:
        seed_account(account)
    manifest = make_manifest(prepared)
    folder = tmp_path_factory.mktemp("shards")
    paths = {}
    for index in range(1, N + 1):
        paths[index] = folder / f"shard-{index}.json"
        paths[index].write_text(json.dumps(collect_shard(prepared, manifest, index)))
    return manifest, paths


def statuses(prepared: Prepared, merged: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = evaluate(prepared, Snapshot(merged), None, None)["results"]
    return results


def judged(results: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    """(rule, account) -> the statuses of its results there."""
    found: dict[tuple[str, str], set[str]] = {}
    for result in results:
        account = (result["resource"] or {}).get("account", "")
        found.setdefault((result["rule"], account), set()).add(result["status"])
    return found


def valid(document: dict[str, Any]) -> None:
    jsonschema.validate(document, load_schema("snapshot"))


def test_the_split_gives_accounts_to_several_shards(world: tuple[dict[str, Any], Any]) -> None:
    manifest, _ = world
    assert [split(manifest, k, N) for k in range(1, N + 1)] == [
        [(A, "global")],
        [(A, "us-east-1"), (B, "global")],
        [(B, "us-east-1")],
        [(C, "global"), (C, "us-east-1")],
    ]


def test_all_shards_merge_into_the_whole_and_pass(
    world: tuple[dict[str, Any], dict[int, Path]], prepared: Prepared
) -> None:
    manifest, paths = world
    merged = merge_shards(paths.values(), manifest)
    valid(merged)
    assert merged["errors"] == []
    assert merged["metadata"]["accounts"] == sorted(ACCOUNTS)
    assert [s["status"] for s in merged["metadata"]["shard"]["shards"]] == ["ok"] * N
    assert len(merged["resources"]) == 3 * (len(QUEUES) + 1)
    # A's units were in shards 1 (global) and 2 (us-east-1): the merge sees the whole account.
    second = load_document(paths[2], "snapshot")["metadata"]["per_account"]
    arn = f"arn:aws:iam::{A}:role/{ROLE}"
    assert second[A] == {"regions": ["us-east-1"], "global_services": False, "role": arn}
    assert merged["metadata"]["per_account"][A] == {"regions": ["us-east-1"], "role": arn}
    results = statuses(prepared, merged)
    assert {r["status"] for r in results} == {"pass"}
    assert len(results) == 3 * (len(QUEUES) + 1)


def units_fail_closed(
    results: list[dict[str, Any]], broken: dict[tuple[str, str], str], words: str
) -> None:
    """Every (rule, account) on a broken unit is error naming ``words``; the rest pass."""
    seen = judged(results)
    for (rule, account), rule_statuses in seen.items():
        if (rule, account) in broken:
            assert rule_statuses == {"error"}, (rule, account, rule_statuses)
        else:
            assert rule_statuses == {"pass"}, (rule, account, rule_statuses)
    assert set(broken) <= set(seen)
    for result in results:
        account = (result["resource"] or {}).get("account", "")
        if (result["rule"], account) in broken:
            assert words in result["message"], result["message"]


def test_a_missing_shard_errors_its_units(
    world: tuple[dict[str, Any], dict[int, Path]], prepared: Prepared
) -> None:
    manifest, paths = world
    merged = merge_shards([p for k, p in paths.items() if k != 2], manifest)
    valid(merged)
    assert merged["metadata"]["shard"]["shards"][1] == {
        "index": 2,
        "status": "missing",
        "files": [],
    }
    assert not [
        r for r in merged["resources"] if r["type"] == "aws.sqs.queue" and r["account"] == A
    ]
    results = statuses(prepared, merged)
    # Shard 2 held A's region (its queues) and B's global part (its deployer).
    broken = {(SQS_RULE, A): "", (IAM_RULE, B): ""}
    units_fail_closed(results, broken, f"ShardMissing: shard 2/{N} of manifest {manifest['id']}")


def test_a_duplicated_shard_uses_neither_copy(
    world: tuple[dict[str, Any], dict[int, Path]], prepared: Prepared, tmp_path: Path
) -> None:
    manifest, paths = world
    copy = tmp_path / "shard-3-again.json"
    shutil.copy(paths[3], copy)
    merged = merge_shards([*paths.values(), copy], manifest)
    valid(merged)
    report = merged["metadata"]["shard"]["shards"][2]
    assert (report["status"], sorted(report["files"])) == (
        "duplicated",
        sorted([str(paths[3]), str(copy)]),
    )
    assert not [
        r for r in merged["resources"] if r["type"] == "aws.sqs.queue" and r["account"] == B
    ]
    units_fail_closed(statuses(prepared, merged), {(SQS_RULE, B): ""}, "was given twice")


def test_a_shard_of_another_manifest_is_refused(
    world: tuple[dict[str, Any], dict[int, Path]], prepared: Prepared, tmp_path: Path
) -> None:
    manifest, paths = world
    other = make_manifest(prepared, now=datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc))
    assert other["id"] != manifest["id"]
    stranger = tmp_path / "shard-4-of-yesterday.json"
    stranger.write_text(json.dumps(collect_shard(prepared, other, 4)))
    merged = merge_shards([*(p for k, p in paths.items() if k != 4), stranger], manifest)
    valid(merged)
    [foreign] = merged["metadata"]["shard"]["foreign"]
    assert foreign == {
        "file": str(stranger),
        "reason": f"a shard of manifest {other['id']}, not {manifest['id']}",
    }
    assert merged["metadata"]["shard"]["shards"][3]["status"] == "foreign"
    broken = {(SQS_RULE, C): "", (IAM_RULE, C): ""}
    units_fail_closed(statuses(prepared, merged), broken, f"ShardForeign: shard 4/{N}")


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (
            lambda m: m["shard"]["units"].append(["111111111111", "us-east-1"]),
            "its units are not",
        ),
        (lambda m: m["shard"].update(fingerprint={"rules": "x"}), "other policies, parameters"),
        (lambda m: m["shard"].update(count=5), "not one of 4 shards"),
        (lambda m: m.pop("shard"), "not a shard"),
    ],
)
def test_a_shard_that_does_not_match_its_manifest_is_foreign(
    world: tuple[dict[str, Any], dict[int, Path]],
    prepared: Prepared,
    tmp_path: Path,
    edit: Callable[[dict[str, Any]], Any],
    reason: str,
) -> None:
    manifest, paths = world
    document = load_document(paths[1], "snapshot")
    edit(document["metadata"])
    tampered = tmp_path / "shard-1.json"
    tampered.write_text(json.dumps(document))
    merged = merge_shards([tampered, *(p for k, p in paths.items() if k != 1)], manifest)
    valid(merged)
    [foreign] = merged["metadata"]["shard"]["foreign"]
    assert reason in foreign["reason"]
    # Shard 1 held A's global part: the deployer rule in A cannot pass.
    units_fail_closed(statuses(prepared, merged), {(IAM_RULE, A): ""}, "shard 1/4")


def test_a_shard_listing_units_it_was_not_given_is_foreign(
    world: tuple[dict[str, Any], dict[int, Path]], tmp_path: Path
) -> None:
    manifest, paths = world
    document = load_document(paths[3], "snapshot")
    claim = {"type": "aws.sqs.queue", "account": A, "region": "us-east-1", "complete": True}
    document["coverage"].append(claim)  # would hide shard 2's absence
    tampered = tmp_path / "shard-3.json"
    tampered.write_text(json.dumps(document))
    merged = merge_shards([paths[1], tampered, paths[4]], manifest)
    [foreign] = merged["metadata"]["shard"]["foreign"]
    assert f"lists {A}/us-east-1 complete" in foreign["reason"]
    assert {s["status"] for s in merged["metadata"]["shard"]["shards"][1:3]} == {
        "missing",
        "foreign",
    }
    incomplete = {(c["account"], c["region"]) for c in merged["coverage"] if not c["complete"]}
    assert {(A, "us-east-1"), (B, "global"), (B, "us-east-1")} <= incomplete


def test_the_merge_is_the_same_whatever_the_order_of_the_files(
    world: tuple[dict[str, Any], dict[int, Path]],
) -> None:
    manifest, paths = world
    forward = merge_shards(list(paths.values()), manifest)
    backward = merge_shards(list(reversed(paths.values())), manifest)
    assert forward == backward


def test_resources_slipped_into_another_shard_cannot_pass_for_a_missing_one(
    world: tuple[dict[str, Any], dict[int, Path]], prepared: Prepared, tmp_path: Path
) -> None:
    """Shard 2 (A's queues) is missing; shard 3 carries copies of A's queues but lists no
    coverage for them: they are dropped, and A's queue rule is still error."""
    manifest, paths = world
    missing = load_document(paths[2], "snapshot")
    document = load_document(paths[3], "snapshot")
    document["resources"] += [r for r in missing["resources"] if r["type"] == "aws.sqs.queue"]
    smuggled = tmp_path / "shard-3.json"
    smuggled.write_text(json.dumps(document))
    merged = merge_shards([paths[1], smuggled, paths[4]], manifest)
    assert not [
        r for r in merged["resources"] if r["type"] == "aws.sqs.queue" and r["account"] == A
    ]
    broken = {(SQS_RULE, A): "", (IAM_RULE, B): ""}
    units_fail_closed(statuses(prepared, merged), broken, "ShardMissing: shard 2/4")


def test_the_payer_comes_from_the_manifest_even_when_its_shard_is_missing(
    world: tuple[dict[str, Any], dict[int, Path]], prepared: Prepared, tmp_path: Path
) -> None:
    """A manifest naming A the payer: the merge records it whatever shards arrive, so A's
    missing units error the payer-held facts rather than excusing nobody or everybody."""
    plain, paths = world
    manifest = make_manifest(prepared, payer=A)
    assert [a.get("payer") for a in manifest["accounts"]] == [True, None, None]
    assert manifest["id"] != plain["id"]
    restamped = {}
    for index, path in paths.items():  # the same units: only the manifest they name differs
        shard = json.loads(path.read_text())
        restamped[index] = tmp_path / path.name
        restamped[index].write_text(json.dumps(stamp_shard(shard, manifest, index, N)))
    whole = merge_shards(list(restamped.values()), manifest)
    valid(whole)
    assert whole["metadata"]["payer_account"] == A
    assert whole["schema_version"] == 4
    without_a = merge_shards([p for k, p in restamped.items() if k != 2], manifest)
    valid(without_a)
    assert without_a["metadata"]["payer_account"] == A
    assert Snapshot(without_a).accounts_with_gaps("aws.sqs.queue") == {A}
    # Against the manifest that names no payer, the merge records none.
    assert "payer_account" not in merge_shards(list(paths.values()), plain)["metadata"]
