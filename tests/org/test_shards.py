"""Shards: a deterministic, balanced split; the shard index from the engine; the manifest.

The merge's fail-closed behaviour, through evaluation, is in ``test_merge``.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runbook_guard.engine.accounts import AccountUnit
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.shards import (
    build_manifest,
    load_manifest,
    parse_shard,
    shard_accounts,
    shard_index_from_env,
    split,
    units,
)

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
REGIONS = ("eu-west-1", "us-east-1", "us-west-2", "ap-south-1")


def manifest_of(accounts: list[AccountUnit], shards: int = 4) -> dict[str, object]:
    return build_manifest(
        accounts,
        now=NOW,
        policies_digest="sha256:" + "0" * 64,
        parameters={"prefix": "agenticai"},
        planned_rules={"sqs.work-queues-exist": "f" * 64},
        resource_types={"aws.sqs.queue": "regional", "aws.iam.user": "global"},
        shards=shards,
    )


def org_of(sizes: list[int]) -> list[AccountUnit]:
    """Accounts with 0..4 regions each (0: regions discovered, one whole-account unit)."""
    return [
        AccountUnit(f"{100000000000 + i:012d}", role="audit", regions=REGIONS[:n] or None)
        for i, n in enumerate(sizes)
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=40))
def test_every_unit_is_in_exactly_one_shard_for_n_1_to_16(sizes: list[int]) -> None:
    manifest = manifest_of(org_of(sizes))
    every = units(manifest)
    for count in range(1, 17):
        parts = [split(manifest, k, count) for k in range(1, count + 1)]
        seen = Counter(unit for part in parts for unit in part)
        assert set(seen) == set(every)
        assert set(seen.values()) == {1}
        sizes_of = [len(part) for part in parts]
        assert max(sizes_of) - min(sizes_of) <= 1  # balanced
        assert parts == [split(manifest, k, count) for k in range(1, count + 1)]  # deterministic


def test_units_are_an_accounts_global_part_and_each_region_or_the_whole_account() -> None:
    manifest = manifest_of(org_of([2, 0]))
    assert units(manifest) == [
        ("100000000000", "global"),
        ("100000000000", "eu-west-1"),
        ("100000000000", "us-east-1"),
        ("100000000001", "*"),
    ]


def test_a_shard_collects_its_units_and_knows_the_accounts_other_regions() -> None:
    manifest = manifest_of(org_of([2, 0]), shards=2)
    first, second = shard_accounts(manifest, 1, 2), shard_accounts(manifest, 2, 2)
    assert [(u.id, u.regions, u.global_services) for u in first] == [
        ("100000000000", ("eu-west-1",), True)
    ]
    assert [(u.id, u.regions, u.global_services) for u in second] == [
        ("100000000000", ("us-east-1",), False),
        ("100000000001", None, True),  # regions discovered when collecting
    ]
    assert second[0].all_regions == ("eu-west-1", "us-east-1")
    with pytest.raises(InputError, match="planned for 2 shards"):
        shard_accounts(manifest, 1, 3)


def test_the_manifest_id_is_the_digest_of_its_content(tmp_path: Path) -> None:
    manifest = manifest_of(org_of([1, 1]))
    again = manifest_of(list(reversed(org_of([1, 1]))))
    assert again["id"] == manifest["id"]  # account order does not matter
    assert manifest_of(org_of([1, 2]))["id"] != manifest["id"]
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    assert load_manifest(path) == manifest
    edited = json.loads(path.read_text())
    edited["accounts"][0]["regions"] = ["eu-west-1", "us-east-1"]  # a unit slipped in
    path.write_text(json.dumps(edited))
    with pytest.raises(InputError, match="does not match its id"):
        load_manifest(path)


def test_a_manifest_is_validated_with_positions(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    broken = dict(manifest_of(org_of([1])))
    broken["shards"] = 0
    path.write_text(json.dumps(broken, indent=2))
    with pytest.raises(InputError) as raised:
        load_manifest(path)
    [problem] = raised.value.problems
    assert problem.startswith(f"{path}:")
    assert "shards" in problem


@pytest.mark.parametrize(
    ("environ", "index"),
    [
        ({"JOB_COMPLETION_INDEX": "0"}, 1),
        ({"AWS_BATCH_JOB_ARRAY_INDEX": "7"}, 8),
        ({"RUNBOOK_GUARD_SHARD_INDEX": "3"}, 4),
        ({"JOB_COMPLETION_INDEX": "2", "RUNBOOK_GUARD_SHARD_INDEX": "2"}, 3),
    ],
)
def test_the_index_comes_from_the_engines_variable(environ: dict[str, str], index: int) -> None:
    assert shard_index_from_env(8, environ) == index
    assert parse_shard("auto/8", environ) == (index, 8)


@pytest.mark.parametrize(
    ("value", "environ", "words"),
    [
        ("auto/8", {}, "none of JOB_COMPLETION_INDEX"),
        ("auto/8", {"JOB_COMPLETION_INDEX": "8"}, "not an index 0 to 7"),
        ("auto/8", {"JOB_COMPLETION_INDEX": "1", "AWS_BATCH_JOB_ARRAY_INDEX": "2"}, "disagree"),
        ("0/8", {}, "from 1 to 8"),
        ("9/8", {}, "from 1 to 8"),
        ("3", {}, "not K/N"),
        ("1/0", {}, "not K/N"),
    ],
)
def test_bad_shard_values_are_bad_input(value: str, environ: dict[str, str], words: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_shard(value, environ)
    assert words in raised.value.problems[0]


def test_k_of_n_is_one_based() -> None:
    assert parse_shard("1/8", {}) == (1, 8)
    assert parse_shard("8/8", {}) == (8, 8)
