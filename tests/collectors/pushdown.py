"""What the field-level collection tests share: a call recorder, plans and verdicts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runbook_guard.collectors import Scope, collect
from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.loader import PolicySet, load_policy_set
from runbook_guard.engine.plan import CollectionPlan, TypeRequest
from runbook_guard.engine.snapshot import Snapshot


@dataclass
class Calls:
    """Every API call of a collection: (service, operation, parameters), in any order."""

    made: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        """``before-parameter-build``: the caller's parameters, before serialization (which
        ``before-call`` sees), once per request, pages included."""
        with self.lock:
            self.made.append((model.service_model.service_name, model.name, dict(params)))

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [params for _, name, params in self.made if name == operation]

    def operations(self) -> set[str]:
        return {name for _, name, _ in self.made}


def policy(tmp_path: Path, rules: list[str]) -> PolicySet:
    (tmp_path / "rules.yaml").write_text("rules:\n" + "\n".join(rules) + "\n")
    return load_policy_set([tmp_path / "rules.yaml"])


def everything(plan: CollectionPlan) -> CollectionPlan:
    """The same types with every key wanted, every resource selected, nothing limited."""
    return replace(plan, types={t: TypeRequest(t, keys=None, prefixes=None) for t in plan.types})


def run(plan: CollectionPlan, hooked: Callable[..., Any]) -> tuple[dict[str, Any], Calls]:
    calls = Calls()
    factory = hooked(("before-parameter-build", calls.record))
    snapshot = collect(plan, Scope(max_attempts=1, quiet=True, session_factory=factory))
    return snapshot, calls


def statuses(policy_set: PolicySet, snapshot: dict[str, Any]) -> dict[tuple[str, str], str]:
    now = datetime.now(timezone.utc)
    results = evaluate_rules(policy_set.compile(), Snapshot(snapshot), now, policy_set.tables)
    return {(r["rule"], (r["resource"] or {}).get("name", "")): r["status"] for r in results}


def rule(rule_id: str, body: str, covers: str = "RB-T01") -> str:
    """One rule of the policy language: the required fields, then ``body`` (YAML lines)."""
    head = [f"  - id: {rule_id}", f"    title: {rule_id}", f"    covers: [{covers}]"]
    head += ["    section: Test", "    cadence: daily", "    severity: low"]
    return "\n".join([*head, *("    " + line for line in body.strip().splitlines())])
