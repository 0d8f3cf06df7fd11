"""Builders for small snapshots and policy sets, shared by the engine tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.loader import PolicySet, load_policy_set
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.snapshot import Snapshot

ACCOUNT = "123456789012"
REGION = "us-east-1"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def resource(
    rtype: str, name: str, data: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """A snapshot resource envelope with test defaults."""
    region = extra.pop("region", REGION)
    return {
        "type": rtype,
        "id": extra.pop("id", f"arn:aws:test:{region}:{ACCOUNT}:{rtype}/{name}"),
        "name": name,
        "region": region,
        "account": ACCOUNT,
        "data": data or {},
        **extra,
    }


def snapshot_doc(
    resources: Iterable[dict[str, Any]],
    *,
    errors: Iterable[dict[str, Any]] = (),
    coverage: Iterable[dict[str, Any]] | None = None,
    types: Iterable[str] = (),
) -> dict[str, Any]:
    """A schema-valid snapshot; every type present (or named) is listed completely."""
    items = list(resources)
    all_types = sorted({r["type"] for r in items} | set(types))
    return {
        "schema_version": 1,
        "metadata": {
            "tool_version": "0.1.0",
            "started_at": "2026-11-27T11:59:00+00:00",
            "finished_at": "2026-11-27T12:00:00+00:00",
            "accounts": [ACCOUNT],
            "regions": [REGION],
            "parameters": {},
        },
        "resources": items,
        "errors": list(errors),
        "coverage": list(coverage)
        if coverage is not None
        else [
            {"type": t, "account": ACCOUNT, "region": REGION, "complete": True} for t in all_types
        ],
    }


def write_policy(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def compile_text(
    tmp_path: Path, text: str, **overrides: Any
) -> tuple[PolicySet, list[CompiledRule]]:
    policy_set = load_policy_set([write_policy(tmp_path, text)])
    return policy_set, policy_set.compile(overrides)


def run(tmp_path: Path, text: str, doc: dict[str, Any], **overrides: Any) -> list[dict[str, Any]]:
    """Evaluate policy text against a snapshot document at NOW."""
    policy_set, rules = compile_text(tmp_path, text, **overrides)
    return evaluate_rules(rules, Snapshot(doc), NOW, policy_set.tables)


def statuses(results: list[dict[str, Any]]) -> dict[str, str]:
    return {(r["resource"] or {}).get("name", "(rule)"): r["status"] for r in results}
