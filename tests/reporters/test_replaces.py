"""A renamed or merged rule (``replaces``) keeps its findings' identity: waivers, the previous
run's results and SARIF fingerprints written for the old id follow the new one."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any

from runbook_guard.engine.waivers import apply_waivers
from runbook_guard.reporters import compare_documents, render
from runbook_guard.reporters.model import fingerprint

from .checks import sarif_schema_errors
from .factory import RULES, TABLE, document, result


def _renamed_document(status: str = "warn") -> dict[str, Any]:
    rules = copy.deepcopy(RULES)
    rule = next(r for r in rules if r["id"] == "dynamodb-pitr-enabled")
    rule["id"] = "dynamodb.pitr-window"
    rule["replaces"] = ["dynamodb-pitr-enabled"]
    results = [result("dynamodb.pitr-window", TABLE, status, "DISABLED", "ENABLED", "PITR off")]
    doc = document(results, rules)
    doc["schema_version"] = 2
    return doc


def _old_document() -> dict[str, Any]:
    results = [result("dynamodb-pitr-enabled", TABLE, "fail", "DISABLED", "ENABLED", "PITR off")]
    return document(results, [r for r in RULES if r["id"] == "dynamodb-pitr-enabled"])


def test_a_waiver_for_the_old_id_covers_the_renamed_rule() -> None:
    results = [{"rule": "dynamodb.pitr-window", "resource": TABLE, "status": "fail"}]
    waiver = {"id": "W1", "rule": "dynamodb-pitr-enabled", "resource": TABLE["name"],
              "owner": "ops", "reason": "migrating", "expires": "2027-01-31"}  # fmt: skip
    now = datetime(2026, 12, 2, tzinfo=timezone.utc)
    register = apply_waivers(
        results, [waiver], now, {"dynamodb-pitr-enabled": "dynamodb.pitr-window"}
    )
    assert results[0]["status"] == "waived"
    assert register[0]["status"] == "active"
    untouched = [{"rule": "dynamodb.pitr-window", "resource": TABLE, "status": "fail"}]
    apply_waivers(untouched, [waiver], now)  # without the rename it does not apply
    assert untouched[0]["status"] == "fail"


def test_the_previous_run_under_the_old_id_is_the_same_finding_not_new_and_resolved() -> None:
    changes = compare_documents(_renamed_document("fail"), _old_document())
    assert changes.new == ()
    assert changes.resolved == ()
    assert changes.unchanged == 1


def test_sarif_keeps_the_old_fingerprint_and_names_the_deprecated_id() -> None:
    sarif = json.loads(render(_renamed_document(), "sarif"))
    assert sarif_schema_errors(sarif) == []
    run = sarif["runs"][0]
    descriptor = next(
        r for r in run["tool"]["driver"]["rules"] if r["id"] == "dynamodb.pitr-window"
    )
    assert descriptor["deprecatedIds"] == ["dynamodb-pitr-enabled"]
    prints = run["results"][0]["partialFingerprints"]
    key = ("dynamodb-pitr-enabled", TABLE["account"], TABLE["region"], TABLE["type"], TABLE["name"])
    assert prints["runbookGuard/v2"] == fingerprint(key)
