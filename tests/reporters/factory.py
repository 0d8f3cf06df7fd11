"""Realistic, schema-valid results documents for the reporter tests and the benchmark.

The rules mirror the runbook's (EXPECTATIONS.md) so reports read like the real thing; every
status, a waiver register with active/expired/unused entries, collection errors and manual
items are always present.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
EVALUATED_AT = "2026-11-27T10:00:00+00:00"
DIGEST = "sha256:" + "ab" * 32


def _rule(
    rule_id: str,
    title: str,
    *,
    kind: str = "check",
    severity: str,
    cadence: str,
    covers: Sequence[str],
    section: str,
    file: str,
    line: int,
    resource_type: str | None = None,
    expected: str | None = None,
    remediation: str | None = None,
    tags: Sequence[str] = (),
) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": rule_id,
        "title": title,
        "kind": kind,
        "severity": severity,
        "cadence": cadence,
        "covers": list(covers),
        "section": section,
        "pack": "agenticai",
        "source": {"file": file, "root": "policies", "line": line, "expect_line": line + 6},
    }
    if resource_type:
        rule["resource_type"] = resource_type
    if expected:
        rule["expected"] = expected
    if remediation:
        rule["remediation"] = remediation
    if tags:
        rule["tags"] = list(tags)
    return rule


RULES: list[dict[str, Any]] = [
    _rule(
        "dynamodb-pitr-enabled",
        "Point-in-time recovery is enabled on the data table",
        severity="high",
        cadence="daily",
        covers=["RB-B01"],
        section="Backup and Restore",
        file="agenticai/backup.yaml",
        line=4,
        resource_type="aws.dynamodb.table",
        expected="ContinuousBackupsDescription.PointInTimeRecoveryDescription"
        ".PointInTimeRecoveryStatus == ENABLED",
        remediation="aws dynamodb update-continuous-backups --table-name agenticai-data \\\n"
        "  --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true",
        tags=["backup", "dynamodb"],
    ),
    _rule(
        "sqs-queue-depth",
        "Work queue depth is within the runbook's thresholds",
        severity="medium",
        cadence="daily",
        covers=["RB-D06", "RB-T05"],
        section="Daily Operations > Morning Health Check",
        file="agenticai/daily.yaml",
        line=40,
        resource_type="aws.sqs.queue",
        expected="normal < 100, warn > 500, fail > 1000",
        remediation="aws lambda put-function-concurrency --function-name agenticai-dev-agent "
        "--reserved-concurrent-executions 10",
    ),
    _rule(
        "sqs-dlq-empty",
        "Dead-letter queues are empty",
        severity="high",
        cadence="weekly",
        covers=["RB-W02", "RB-T06"],
        section="Weekly Tasks",
        file="agenticai/weekly.yaml",
        line=12,
        resource_type="aws.sqs.queue",
        expected="normal 0, warn > 0, fail > 10",
    ),
    _rule(
        "logs-retention-7-days",
        "Stack log groups keep logs for exactly 7 days",
        severity="low",
        cadence="monthly",
        covers=["RB-X01"],
        section="Maintenance",
        file="agenticai/maintenance.yaml",
        line=3,
        resource_type="aws.logs.log_group",
        expected="retentionInDays == 7",
        remediation="aws logs put-retention-policy --log-group-name /aws/lambda/agenticai-pm "
        "--retention-in-days 7",
    ),
    _rule(
        "iam-unused-access-keys",
        "No active access key is unused for 90 days",
        severity="critical",
        cadence="monthly",
        covers=["RB-M01"],
        section="Monthly Tasks",
        file="agenticai/security.yaml",
        line=20,
        resource_type="aws.iam.access_key",
        expected="LastUsedDate within 90 days",
        remediation="aws iam update-access-key --access-key-id AKIA... --status Inactive",
        tags=["iam", "security", "credentials"],
    ),
    _rule(
        "s3-bucket-lifecycle",
        "Stack buckets have a lifecycle policy",
        severity="info",
        cadence="quarterly",
        covers=["RB-C02"],
        section="Cost Management",
        file="agenticai/cost.yaml",
        line=8,
        resource_type="aws.s3.bucket",
        expected="LifecycleConfiguration is set",
    ),
    _rule(
        "restore-tested",
        "A restore from backup was tested this month",
        kind="manual",
        severity="medium",
        cadence="monthly",
        covers=["RB-M07"],
        section="Monthly Tasks",
        file="agenticai/manual.yaml",
        line=2,
    ),
]


def resource(kind: str, name: str, arn: str | None = None) -> dict[str, str]:
    service = kind.split(".")[1]
    return {
        "type": kind,
        "id": arn or f"arn:aws:{service}:{REGION}:{ACCOUNT}:{name}",
        "name": name,
        "region": REGION,
        "account": ACCOUNT,
    }


def result(
    rule: str,
    res: Mapping[str, str] | None,
    status: str,
    observed: Any,
    expected: str,
    message: str,
    **extra: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": rule,
        "resource": dict(res) if res is not None else None,
        "status": status,
        "observed": observed,
        "expected": expected,
        "message": message,
        "evidence": extra.pop("evidence", {}),
    }
    out.update(extra)
    return out


TABLE = resource(
    "aws.dynamodb.table",
    "agenticai-data",
    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/agenticai-data",
)


def queue(name: str) -> dict[str, str]:
    return resource("aws.sqs.queue", name)


def base_results() -> list[dict[str, Any]]:
    """One or more results of each of the seven statuses."""
    return [
        result("dynamodb-pitr-enabled", TABLE, "fail", "DISABLED", "ENABLED",
               "Point-in-time recovery is DISABLED",
               evidence={"PointInTimeRecoveryStatus": "DISABLED"}),
        result("sqs-queue-depth", queue("agenticai-pm-queue"), "pass", 3, "< 100", "3 messages"),
        result("sqs-queue-depth", queue("agenticai-dev-queue"), "note", 300, "< 100",
               "300 messages: above normal", evidence={"ApproximateNumberOfMessages": 300}),
        result("sqs-queue-depth", queue("agenticai-qa-queue"), "warn", 650, "<= 500",
               "650 messages: past the warning threshold"),
        result("sqs-queue-depth", queue("agenticai-ops-queue"), "error", None, "< 100",
               "queue attributes could not be read",
               causes=["sqs.GetQueueAttributes AccessDenied"],
               missing_permissions=["sqs:GetQueueAttributes"]),
        result("sqs-dlq-empty", queue("agenticai-pm-dlq"), "waived", 4, "0",
               "4 messages in the DLQ", original_status="warn", waiver="W-001"),
        result("sqs-dlq-empty", queue("agenticai-dev-dlq"), "fail", 25, "<= 10",
               "25 messages in the DLQ"),
        result("logs-retention-7-days",
               resource("aws.logs.log_group", "/aws/lambda/agenticai-pm"), "warn", 30, "7",
               "retention is 30 days"),
        result("iam-unused-access-keys",
               resource("aws.iam.access_key", "agenticai-deployer/AKIAEXAMPLE",
                        f"arn:aws:iam::{ACCOUNT}:user/agenticai-deployer/accesskey/AKIAEXAMPLE"),
               "fail", "2026-01-02T00:00:00+00:00", "within 90 days",
               "unused for 329 days", evidence={"LastUsedDate": "2026-01-02T00:00:00+00:00"}),
        result("s3-bucket-lifecycle", resource("aws.s3.bucket", "agenticai-backups",
                                               "arn:aws:s3:::agenticai-backups"),
               "pass", {"Rules": 1}, "set", "lifecycle configured"),
        result("restore-tested", None, "manual", None, "attested monthly",
               "A person must attest that a restore from backup was tested this month"),
    ]  # fmt: skip


WAIVERS: list[dict[str, Any]] = [
    {"id": "W-001", "rule": "sqs-dlq-empty", "resource": "arn:aws:sqs:*:*:agenticai-pm-dlq",
     "owner": "ops-team@example.com", "reason": "Replaying messages after incident INC-42",
     "expires": "2026-12-15", "days_left": 18, "status": "active", "applied_to": 1},
    {"id": "W-002", "rule": "sqs-queue-depth", "resource": "*", "owner": "alice",
     "reason": "Load test", "expires": "2026-11-01", "days_left": -26, "status": "expired",
     "applied_to": 0},
    {"id": "W-003", "rule": "logs-retention-7-days", "resource": "*", "owner": "bob",
     "reason": "Legal hold | 30 days", "expires": "2027-03-01", "status": "unused"},
]  # fmt: skip

COLLECTION_ERRORS: list[dict[str, Any]] = [
    {"service": "sqs", "operation": "GetQueueAttributes", "region": REGION, "account": ACCOUNT,
     "resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:agenticai-ops-queue",
     "resource_type": "aws.sqs.queue", "data_keys": ["Attributes"],
     "iam_action": "sqs:GetQueueAttributes", "code": "AccessDenied",
     "message": "User is not authorized to perform sqs:GetQueueAttributes"},
    {"service": "budgets", "operation": "DescribeBudgets", "region": "global",
     "code": "ThrottlingException", "message": "Rate exceeded"},
]  # fmt: skip


def summarise(
    rules: Iterable[Mapping[str, Any]], results: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    meta = {rule["id"]: rule for rule in rules}
    by_severity: dict[str, Counter[str]] = {}
    by_cadence: dict[str, Counter[str]] = {}
    for res in results:
        rule = meta[res["rule"]]
        by_severity.setdefault(rule["severity"], Counter())[res["status"]] += 1
        by_cadence.setdefault(rule["cadence"], Counter())[res["status"]] += 1
    return {
        "total": len(results),
        "by_status": dict(Counter(res["status"] for res in results)),
        "by_severity": {k: dict(v) for k, v in by_severity.items()},
        "by_cadence": {k: dict(v) for k, v in by_cadence.items()},
    }


def document(
    results: Sequence[Mapping[str, Any]] | None = None,
    rules: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """A complete, schema-valid results document (deep copies: tests may mutate it)."""
    rules = copy.deepcopy(list(rules if rules is not None else RULES))
    results = copy.deepcopy(list(results if results is not None else base_results()))
    return {
        "schema_version": 1,
        "tool": {"name": "runbook-guard", "version": "0.1.0"},
        "evaluated_at": EVALUATED_AT,
        "scope": {
            "accounts": [ACCOUNT],
            "regions": [REGION],
            "collected_at": "2026-11-27T09:58:00+00:00",
            "collection_finished_at": "2026-11-27T09:59:30+00:00",
            "snapshot_digest": DIGEST,
            "collector_version": "0.1.0",
        },
        "policies": {
            "packs": [{"name": "agenticai", "version": "0.1.0",
                       "description": "The agenticai runbook pack"}],
            "digest": "sha256:" + "cd" * 32,
            "parameters": {"prefix": "agenticai", "queues": ["pm", "dev", "qa", "ops"],
                           "log_retention_days": 7},
        },
        "rules": rules,
        "results": results,
        "summary": summarise(rules, results),
        "waivers": copy.deepcopy(WAIVERS),
        "collection_errors": copy.deepcopy(COLLECTION_ERRORS),
    }  # fmt: skip


def with_hostile_text(name: str, message: str) -> dict[str, Any]:
    """The base document plus results of several statuses whose name, id and message are hostile."""
    hostile = {"type": "aws.sqs.queue", "id": f"arn:{name}", "name": name, "region": REGION,
               "account": ACCOUNT}  # fmt: skip
    extra = [
        result(rule, hostile, status, name, "< 100", message, **more)
        for rule, status, more in (
            ("sqs-queue-depth", "fail", {}),
            ("sqs-dlq-empty", "warn", {}),
            ("logs-retention-7-days", "pass", {}),
            ("s3-bucket-lifecycle", "error", {"causes": [message]}),
            ("iam-unused-access-keys", "waived", {"original_status": "fail", "waiver": "W-001"}),
        )
    ]
    return document(base_results() + extra)


STATUS_CYCLE = ("pass", "pass", "pass", "note", "warn", "fail", "error", "waived", "pass", "pass")


def bulk_document(count: int) -> dict[str, Any]:
    """``count`` results spread over the rules and statuses (for scale tests and benchmarks)."""
    checks = [rule for rule in RULES if rule["kind"] == "check"]
    results: list[dict[str, Any]] = []
    for index in range(count):
        rule = checks[index % len(checks)]
        status = STATUS_CYCLE[(index // len(checks)) % len(STATUS_CYCLE)]
        name = f"agenticai-{index:06d}"
        kind = rule["resource_type"]
        extra: dict[str, Any] = {"evidence": {"value": index % 1500}}
        if status == "waived":
            extra.update(original_status="warn", waiver="W-001")
        if status == "error":
            extra.update(causes=["AccessDenied"], missing_permissions=["sqs:GetQueueAttributes"])
        results.append(
            result(rule["id"], resource(kind, name), status, index % 1500, "< 100",
                   f"value {index % 1500} for {name}", **extra)
        )  # fmt: skip
    return document(results)


def bulk_previous(count: int) -> dict[str, Any]:
    """A week before ``bulk_document(count)``: every tenth non-waived result the other side of
    pass/fail, and the last 1 % not there yet (for measuring ``--previous`` at scale)."""
    previous = bulk_document(count)
    results = previous["results"][: count - count // 100]
    for index, res in enumerate(results):
        if index % 10 == 0 and res["status"] != "waived":
            res["status"] = "fail" if res["status"] == "pass" else "pass"
            res.pop("causes", None)
            res.pop("missing_permissions", None)
    return document(results) | {"evaluated_at": "2026-11-20T10:00:00+00:00"}


ATTESTED = {"by": "ana@example.com", "at": "2026-11-02", "evidence": "https://wiki.example/drill-42",
            "expires": "2027-02-01", "expired": False, "note": "restored into agenticai-data-restored"}  # fmt: skip
EXPIRED = {"by": "bob", "at": "2026-07-01", "evidence": "TICKET-7", "expires": "2026-10-01",
           "expired": True}  # fmt: skip

DR_RULE = _rule(
    "dr-documentation-updated",
    "The disaster recovery documentation was updated this quarter",
    kind="manual",
    severity="low",
    cadence="quarterly",
    covers=["RB-Q02"],
    section="Quarterly Tasks",
    file="agenticai/manual.yaml",
    line=30,
)


def attested_document() -> dict[str, Any]:
    """Two manual rules: one attested (a pass resting on it), one whose attestation expired
    (manual again, saying so), as ``engine.attestations.apply_attestations`` leaves them."""
    results = [r for r in base_results() if r["rule"] != "restore-tested"]
    results.append(
        result("restore-tested", None, "pass", None, "attested monthly",
               "attested by ana@example.com on 2026-11-02, holds until 2027-02-01; evidence: "
               "https://wiki.example/drill-42", attestation=dict(ATTESTED))
    )  # fmt: skip
    results.append(
        result("dr-documentation-updated", None, "manual", None, "attested quarterly",
               "attestation expired on 2026-10-01 (checked by bob on 2026-07-01): check it "
               "again; needs a person's attestation", attestation=dict(EXPIRED))
    )  # fmt: skip
    return document(results, [*RULES, DR_RULE])


OWNERS = {
    "dynamodb-pitr-enabled": "data-team",
    "sqs-dlq-empty": "platform@example.com",
    "sqs-queue-depth": "platform@example.com",
    "iam-unused-access-keys": "security",
}


def owned_document() -> dict[str, Any]:
    """The base document with an owner on every result of the rules ``OWNERS`` names (the
    log group's rule has none: its findings are "(no owner)")."""
    doc = document()
    for res in doc["results"]:
        if res["rule"] in OWNERS:
            res["owner"] = OWNERS[res["rule"]]
    return doc


# Several accounts --------------------------------------------------------------------------

ACCOUNTS = ("111111111111", "222222222222", "333333333333")


def in_account(res: Mapping[str, Any], account: str) -> dict[str, Any]:
    """A result copied into ``account``: its resource's account and ARN, or, for a rule-level
    result, the account itself as its resource (``aws.account``, as the engine judges rules
    per account)."""
    out = copy.deepcopy(dict(res))
    resource = out["resource"]
    if resource is None:
        out["resource"] = {"type": "aws.account", "id": account, "name": account, "region": "",
                           "account": account}  # fmt: skip
    else:
        resource["account"] = account
        resource["id"] = resource["id"].replace(ACCOUNT, account)
    return out


def accounts_document() -> dict[str, Any]:
    """Three accounts: the first holds every result of the base document (4 blocking), the
    second its passes and one failing DLQ (1 blocking), the third its passes only; each has
    its own manual rule-level result. The collection errors are the first account's."""
    first, second, third = ACCOUNTS
    base = base_results()
    passing = [res for res in base if res["status"] == "pass"]
    manual = next(res for res in base if res["status"] == "manual")
    dlq = next(
        res for res in base if res["resource"] and res["resource"]["name"].endswith("dev-dlq")
    )
    results = [in_account(res, first) for res in base]
    results += [
        in_account(res, account) for res in [*passing, manual] for account in (second, third)
    ]
    results.append(in_account(dlq, second))
    doc = document(results)
    doc["scope"]["accounts"] = list(ACCOUNTS)
    for error in doc["collection_errors"]:
        if error.get("account"):
            error["account"] = first
    return doc


def spread_over_accounts(doc: dict[str, Any], count: int) -> dict[str, Any]:
    """``doc`` with its results dealt round-robin over ``count`` accounts (benchmarks)."""
    accounts = [f"{100_000_000_000 + index:012d}" for index in range(count)]
    for index, res in enumerate(doc["results"]):
        if res["resource"] is not None:
            account = accounts[index % count]
            res["resource"]["account"] = account
            res["resource"]["id"] = res["resource"]["id"].replace(ACCOUNT, account)
    doc["scope"]["accounts"] = accounts
    return doc
