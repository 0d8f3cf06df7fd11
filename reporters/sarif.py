"""SARIF 2.1.0 for GitHub code scanning (see docs/reports.md for every choice made here).

Findings only: fail, warn and error results, plus waived ones as suppressed results so a
waiver is visible where the alert would be. Passing checks would be noise in an alert list, a
manual attestation is not something a code change can close, and a note (above normal, under
the warning threshold) passes every gate but ``note``: all three stay in JUnit/Markdown/JSON
and are counted in ``run.properties.counts``.

``security-severity`` makes GitHub show a result as a security alert with that label *in
place of* its level, for every result of the rule. It is therefore set only for rules whose
metadata ``tags`` include ``security`` (a critical backup rule is not a security finding),
and never shown on a note, which is not emitted at all.

GitHub anchors every alert at a file in the repository. A compliance finding has none, so
it points at the rule's YAML (the line of its expectation): stable across runs, and the place
a reader goes to see what was checked. Alerts are told apart by ``partialFingerprints``
derived from the finding's identity, the key history and "what changed" use: the rule and the
resource's (account, region, type, name), so a queue recreated under the same name keeps its
alert and the same name in another account has its own; without fingerprints every result
of a rule would share one location and collapse into one alert. (``runbookGuard/v2``: v1 was
rule and resource id, so the first upload after the change reopens each alert once.)

Given a previous run of the same category, every result carries ``baselineState`` (new,
updated when its status changed, unchanged). Resolved findings are not emitted as
``absent`` results: GitHub ignores baselineState and would show them as open alerts, where
leaving them out is what closes them. They are counted in ``run.properties.baseline``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from runbook_guard.engine.selection import OPTIONS, is_active
from runbook_guard.reporters.appendix import resources_text
from runbook_guard.reporters.changes import Changes
from runbook_guard.reporters.escape import json_surrogates, md_fence, md_inline
from runbook_guard.reporters.model import STATUSES, Report, Row, Rule, fingerprint, merge_repeats

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 25_000  # GitHub rejects the whole file above this
MAX_TAGS = 10
MAX_DESCRIPTION = 1024
MAX_NAME = 255
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "runbookGuard/v2"
BASELINE_STATES = ("new", "updated", "unchanged")  # "absent" is never emitted (docs/reports.md)

LEVEL = {"fail": "error", "error": "error", "warn": "warning", "note": "note"}
FINDINGS = frozenset({"fail", "error", "warn", "waived"})  # note: counted, not emitted
_LEVEL_RANK = {"error": 0, "warning": 1, "note": 2}
# CVSS-style bands GitHub maps to critical/high/medium/low, for rules tagged ``security``
# only; info rules get none, so GitHub shows them by level instead of as "low" security issues.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
PROBLEM_SEVERITY = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "recommendation",
    "info": "recommendation",
}
DEFAULT_LEVEL = {"critical": "error", "high": "error", "medium": "warning"}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


@lru_cache(maxsize=1024)
def _uri(path: str) -> str:
    """A relative URI reference for a repository path (percent-encoded, never absolute)."""
    return quote(path.lstrip("/"), safe="/-._~") or "policies"


def _name(rule: Rule) -> str:
    words = "".join(c if c.isalnum() else " " for c in rule.title).split()
    return _clip("".join(w[:1].upper() + w[1:] for w in words) or rule.id, MAX_NAME)


def is_security(rule: Rule) -> bool:
    """Whether the rule's own metadata tags it ``security`` (the only rules GitHub should
    show as security alerts)."""
    return "security" in rule.tags


def security_severity(rule: Rule) -> str | None:
    return SECURITY_SEVERITY.get(rule.severity) if is_security(rule) else None


def _tags(rule: Rule) -> list[str]:
    candidates = ["compliance", rule.cadence, *rule.covers, *rule.tags]
    if is_security(rule):
        candidates.insert(0, "security")  # first, so the 10-tag limit never drops it
    unique = list(dict.fromkeys(tag for tag in candidates if tag))
    return unique[:MAX_TAGS]


def _help_text(rule: Rule) -> str:
    parts = [rule.description or rule.title]
    if rule.expected:
        parts.append(f"Expected: {rule.expected}")
    parts.append(f"Runbook section: {rule.section} (covers {', '.join(rule.covers) or '-'})")
    if rule.remediation:
        parts.append(f"Remediation:\n{rule.remediation}")
    return "\n\n".join(parts)


def _help_markdown(rule: Rule) -> str:
    parts = [md_inline(rule.description or rule.title)]
    if rule.expected:
        parts.append(f"**Expected:** {md_inline(rule.expected)}")
    covers = md_inline(", ".join(rule.covers) or "-")
    parts.append(f"**Runbook section:** {md_inline(rule.section)} (covers {covers})")
    if rule.remediation:
        parts.append("**Remediation:**\n\n" + md_fence(rule.remediation, "bash"))
    return "\n\n".join(parts)


def _rule(rule: Rule) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "tags": _tags(rule),
        "precision": "very-high",
        "problem.severity": PROBLEM_SEVERITY[rule.severity],
        "severity": rule.severity,
        "cadence": rule.cadence,
        "covers": list(rule.covers),
        "runbookSection": rule.section,
        "kind": rule.kind,
    }
    score = security_severity(rule)
    if score is not None:
        properties["security-severity"] = score
    full = rule.description or (f"{rule.title}. Expected: {rule.expected}" if rule.expected else "")
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": _name(rule),
        "shortDescription": {"text": _clip(rule.title, MAX_DESCRIPTION)},
        "fullDescription": {"text": _clip(full or rule.title, MAX_DESCRIPTION)},
        "help": {"text": _help_text(rule), "markdown": _help_markdown(rule)},
        "defaultConfiguration": {"level": DEFAULT_LEVEL.get(rule.severity, "note")},
        "properties": properties,
    }
    if rule.replaces:  # SARIF 2.1.0 3.49.4: the ids this rule had in earlier versions
        descriptor["deprecatedIds"] = list(rule.replaces)
    return descriptor


def _level(row: Row) -> str:
    status = row.original_status if row.status == "waived" and row.original_status else row.status
    return LEVEL.get(status, "warning")


def _logical(row: Row) -> dict[str, Any]:
    if row.resource_id is None:
        return {"name": row.label, "fullyQualifiedName": f"rule/{row.rule.id}", "kind": "module"}
    return {
        "name": row.resource_name or row.resource_id,
        "fullyQualifiedName": row.resource_id,
        "kind": "resource",
    }


def _message(row: Row) -> str:
    text = (
        f"{row.rule.title}: {row.message} (resource {row.label}; observed {row.observed_text}; "
        f"expected {row.expected})"
    )
    if row.status == "error" and row.missing_permissions:
        text += f"; missing permissions: {', '.join(row.missing_permissions)}"
    if row.drift:
        text += f". Drift: {row.drift['message']}"
    return text


def _location(row: Row) -> dict[str, Any]:
    """The line a user owns when one is known (a template's property), else the rule's own
    definition, said to be that: code scanning annotates only files of the repository."""
    where = row.location
    if where is not None:
        region = {"startLine": where.line, "startColumn": where.column}
        return {
            "physicalLocation": {
                "artifactLocation": {"uri": _uri(where.file), "uriBaseId": SRCROOT},
                "region": region,
            },
            "logicalLocations": [_logical(row)],
            **(
                {"message": {"text": f"{where.logical_id}: {where.property_path or 'resource'}"}}
                if where.logical_id
                else {}
            ),
        }
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(row.rule.path), "uriBaseId": SRCROOT},
            "region": {"startLine": row.rule.line},
        },
        "logicalLocations": [_logical(row)],
        "message": {"text": "where the rule is defined (no template line is known)"},
    }


def _result(row: Row, changes: Changes | None, key: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "status": row.status,
        "observed": row.observed,
        "expected": row.expected,
        "evidence": row.evidence,
    }
    if row.resource_id is not None:
        properties["resource"] = {
            "type": row.resource_type,
            "region": row.region,
            "account": row.account,
        }
    if row.original_status:
        properties["originalStatus"] = row.original_status
    if row.causes:
        properties["causes"] = list(row.causes)
    if row.missing_permissions:
        properties["missingPermissions"] = list(row.missing_permissions)
    if row.owner:
        properties["owner"] = row.owner
    if row.attestation is not None:
        properties["attestation"] = _attestation(row)
    result: dict[str, Any] = {
        "ruleId": row.rule.id,
        "ruleIndex": row.rule.index,
        "level": _level(row),
        "message": {"text": _message(row)},
        "locations": [_location(row)],
        "partialFingerprints": {
            "primaryLocationLineHash": f"{key[:16]}:1",
            FINGERPRINT_KEY: key,
        },
        "properties": properties,
    }
    # SARIF 2.1.0 section 3.27.23: once one result of a run carries suppressions, every result
    # must, an empty list meaning "not suppressed" (GitHub shows those as open alerts).
    result["suppressions"] = [_suppression(row)] if row.status == "waived" else []
    if changes is not None:
        result["baselineState"] = changes.baseline_state(row.identity)
    return result


def _attestation(row: Row) -> dict[str, Any]:
    found = row.attestation
    assert found is not None
    record: dict[str, Any] = {
        "by": found.by, "at": found.at, "evidence": found.evidence, "expires": found.expires,
        "expired": found.expired, "text": found.text,
    }  # fmt: skip
    if found.note:
        record["note"] = found.note
    return record


def _attestations(report: Report) -> list[dict[str, Any]]:
    """Every attested result (a pass or an expired manual, neither emitted as an alert)."""
    return [
        {
            "ruleId": row.rule.id,
            "resource": row.label,
            "status": row.status,
            **_attestation(row),
        }
        for row in report.rows
        if row.attestation is not None
    ]


def fingerprints(rows: Iterable[Row]) -> list[str]:
    """Each emitted row's fingerprint. Two results of one run with the same identity (a
    document that names two resources alike) would merge into one alert, so a repeated
    identity is told apart by the resource id."""
    out: list[str] = []
    seen: set[str] = set()
    for row in rows:
        value = row.fingerprint
        if value in seen:
            value = fingerprint((value, row.resource_id or ""))
        seen.add(value)
        out.append(value)
    return out


def _suppression(row: Row) -> dict[str, Any]:
    waiver = row.waiver
    if waiver is None:
        return {
            "kind": "external",
            "status": "accepted",
            "justification": f"waiver {row.waiver_id or 'unknown'}",
            "properties": {"waiverId": row.waiver_id or ""},
        }
    properties: dict[str, Any] = {"waiverId": waiver.id, "owner": waiver.owner}
    if waiver.expires:
        properties["expiry"] = waiver.expires
    if waiver.days_left is not None:
        properties["daysLeft"] = waiver.days_left
    return {
        # A skip written in the template's own Metadata is in source (SARIF 3.35.2).
        "kind": "inSource" if waiver.id.startswith("template:") else "external",
        "status": "accepted",
        "justification": waiver.reason,
        "properties": properties,
    }


def _severity_key(row: Row) -> tuple[int, int, int, str, str]:
    """Which findings to keep when over the limit: unsuppressed, worst level, worst severity."""
    suppressed = 1 if row.status == "waived" else 0
    return (suppressed, _LEVEL_RANK[_level(row)], row.severity_rank, row.rule.id, row.label)


def select_findings(report: Report, limit: int = MAX_RESULTS) -> tuple[list[Row], int]:
    """The findings to emit (in report order) and how many were dropped for the limit."""
    findings = [row for row in report.rows if row.status in FINDINGS]
    if len(findings) <= limit:
        return findings, 0
    kept = {id(row) for row in sorted(findings, key=_severity_key)[:limit]}
    return [row for row in findings if id(row) in kept], len(findings) - limit


def _notifications(report: Report, emitted: Iterable[Row], dropped: int) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    for row in emitted:
        if row.status != "error":
            continue
        reason = "; ".join(row.causes) or row.message
        text = f"{row.rule.id} could not be checked for {row.label}: {reason}"
        if row.missing_permissions:
            text += f" (missing permissions: {', '.join(row.missing_permissions)})"
        notes.append(
            {
                "level": "error",
                "message": {"text": text},
                "associatedRule": {"id": row.rule.id, "index": row.rule.index},
                "locations": [{"logicalLocations": [_logical(row)]}],
            }
        )
    for error in report.merged_errors:
        where = f"{error.account}/{error.region}" if error.account else error.region
        permission = f" (needs {error.iam_action})" if error.iam_action else ""
        times = f" \u00d7{error.count}" if error.count > 1 else ""
        resources = f"; resources: {resources_text(error.resources)}" if error.resources else ""
        text = (
            f"collection: {error.service}.{error.operation} {where}: {error.code}: "
            f"{merge_repeats(error.message)}{permission}{times}{resources}"
        )
        notes.append(
            {"level": "warning", "message": {"text": text}, "properties": error.document()}
        )
    if dropped:
        text = (
            f"{dropped} findings were left out to stay within GitHub's limit of {MAX_RESULTS} "
            "results per run (the least severe first); the JSON and Markdown reports list all."
        )
        notes.append(
            {"level": "warning", "message": {"text": text}, "descriptor": {"id": "truncated"}}
        )
    return notes


def category(
    tool_name: str,
    policies: Mapping[str, Any],
    scope: Mapping[str, Any] | None = None,
    selection: Mapping[str, Any] | None = None,
) -> str:
    """``tool/packs``, and ``/template`` for the pre-deploy gate: stable while the scope changes.

    The template gate and the live gate are two analyses of one repository: in one category,
    each upload would close the other's alerts.

    The upload action keeps a file's own ``automationDetails.id`` (its ``category:`` input is
    then ignored), and a later upload of the same tool and category replaces the earlier
    one. Were accounts or regions part of it, narrowing the scope would start a new category
    and leave the old one's alerts open for ever; with tool and packs only, a resource that
    leaves the scope closes its alert like a fixed one. Accounts and regions are in
    ``run.properties``.

    A selection is the exception: a run of part of the pack (``/selection-`` and a digest of
    the criteria) must not replace the whole pack's analysis, which would close the alerts of
    every rule it did not evaluate as if they were fixed.
    """
    packs = "+".join(sorted(str(p["name"]) for p in policies["packs"])) or "default"
    phase = "/template" if ((scope or {}).get("source") or {}).get("kind") == "template" else ""
    return f"{tool_name}/{packs}{phase}{_selection_part(selection)}"


def _selection_part(selection: Mapping[str, Any] | None) -> str:
    """``/selection-1a2b3c4d``: the same criteria give the same category, run after run."""
    if not is_active(selection):
        return ""
    criteria: list[dict[str, Any]] = []
    while selection:  # the criteria only, not the rule counts (a pack upgrade keeps it)
        criteria.append({key: selection.get(key) for key in OPTIONS})
        selection = selection.get("within")
    digest = hashlib.sha256(json.dumps(criteria, sort_keys=True).encode("utf-8")).hexdigest()
    return f"/selection-{digest[:8]}"


def _automation_id(report: Report) -> str:
    """``category/run-id``: the run id is the evaluation time."""
    where = category(report.tool_name, report.policies, report.scope, report.selection)
    return f"{where}/{report.evaluated_at}"


def baseline(report: Report) -> Changes | None:
    """The comparison to mark results with, or None.

    A previous run is a baseline only if it is of the same category (tool and packs): that
    is the series GitHub itself compares uploads within. A finding outside the previous
    run's scope is then ``new``, as it is to GitHub.
    """
    changes = report.changes
    if changes is None:
        return None
    previous = changes.previous
    before = category(
        previous["tool"]["name"],
        previous["policies"],
        previous.get("scope"),
        previous.get("selection"),
    )
    now = category(report.tool_name, report.policies, report.scope, report.selection)
    return changes if before == now else None


def _baseline_properties(
    changes: Changes, compared: bool, results: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the run was compared with, and the counts GitHub will not compute from it
    (resolved findings are not emitted as results, so they are only counted here)."""
    properties: dict[str, Any] = {
        "previousEvaluatedAt": changes.evaluated_at,
        "previousSnapshotDigest": changes.snapshot_digest,
        "previousPolicyDigest": changes.policy_digest,
        "compared": compared,
    }
    if compared:
        states = Counter(str(result["baselineState"]) for result in results)
        properties["baselineStates"] = {state: states.get(state, 0) for state in BASELINE_STATES}
        properties["resolved"] = len(changes.resolved)
        properties["noLongerEvaluated"] = changes.no_longer_evaluated
    else:
        properties["reason"] = (
            "the previous run has another category (tool or policy packs), so it is "
            "not a baseline for this one"
        )
    return properties


def sarif_document(report: Report, limit: int = MAX_RESULTS) -> dict[str, Any]:
    emitted, dropped = select_findings(report, limit)
    changes = baseline(report)
    prints = fingerprints(emitted)
    results = [_result(row, changes, key) for row, key in zip(emitted, prints, strict=True)]
    notifications = _notifications(report, emitted, dropped)
    invocation = {
        "executionSuccessful": not any(n["level"] == "error" for n in notifications),
        "toolExecutionNotifications": notifications,
    }
    driver: dict[str, Any] = {
        "name": report.tool_name,
        "version": report.tool_version,
        "rules": [_rule(rule) for rule in report.rules],
    }
    document: dict[str, Any] = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "automationDetails": {"id": _automation_id(report)},
                "originalUriBaseIds": {SRCROOT: {"description": {"text": "The repository root."}}},
                "invocations": [invocation],
                "results": results,
                "properties": {
                    "evaluatedAt": report.evaluated_at,
                    "accounts": list(report.scope["accounts"]),
                    "regions": list(report.scope["regions"]),
                    "scope": report.scope,
                    "policies": {
                        "packs": list(report.policies["packs"]),
                        "digest": report.policies["digest"],
                    },
                    "counts": {status: report.counts.get(status, 0) for status in STATUSES},
                    "droppedResults": dropped,
                    "failOn": report.fail_on,
                },
            }
        ],
    }
    properties = document["runs"][0]["properties"]
    score = report.score
    properties["score"] = {"passed": score.passed, "decided": score.decided, "text": score.text}
    attested = _attestations(report)
    if attested:
        properties["attestations"] = attested
    if report.fail_severity is not None:
        properties["failSeverity"] = report.fail_severity
    if report.selection is not None:
        # Which rules ran; the ones left out have no result here, which is not a pass.
        properties["selection"] = {**report.selection, "text": report.selection_text}
    if report.changes is not None:
        compared = changes is not None
        properties["baseline"] = _baseline_properties(report.changes, compared, results)
    return document


def render_sarif(report: Report, limit: int = MAX_RESULTS) -> str:
    """Compact JSON with sorted keys: consumers are tools, and GitHub's limit is on size."""
    text = json.dumps(
        sarif_document(report, limit),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
    )
    return json_surrogates(text) + "\n"
