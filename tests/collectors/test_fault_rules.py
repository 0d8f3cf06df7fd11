"""A failed call makes exactly the shipped rules that needed its data ``error``, end to end.

Each test injects one fault into a collection planned from the shipped pack, then evaluates
the shipped pack on the snapshot with the real engine. One test per way a collector says which
data a failure leaves undecided: a per-resource call (``resource`` + ``data_keys``), a per-user
call inside a global collector, and a batched call across types (``GetMetricData``'s
``metrics.<key>`` attribution by type and region).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from runbook_guard.demo.stack import Seeded
from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.planner import plan_collection
from runbook_guard.engine.snapshot import Snapshot as IndexedSnapshot
from tests.collectors.test_faults import Body, denied

Snapshot = dict[str, Any]
Run = Callable[..., Snapshot]
Results = dict[tuple[str, str], dict[str, Any]]


def collect_and_evaluate(
    run: Run,
    factory: Any,
    *types: str,
    also_reads: Mapping[str, set[str]] | None = None,
    **scope: Any,
) -> tuple[Snapshot, Results]:
    """Collect what the shipped pack asks for ``types``; results by (rule id, resource name).

    ``also_reads``: keys per type the plan reads besides the pack's (as another rule would);
    ``scope``: more ``Scope`` fields (an instant ``sleep``).
    """
    policy_set = load_policy_set()
    plan = plan_collection(policy_set, {})
    plan.types = {t: r for t, r in plan.types.items() if t in types}
    for resource_type, keys in (also_reads or {}).items():
        read = plan.types[resource_type].keys
        assert read is not None
        read |= keys
    snapshot = run(plan, session_factory=factory, **scope)
    rules = [r for r in policy_set.compile() if r.resource_type in types]
    results = evaluate_rules(
        rules, IndexedSnapshot(snapshot), datetime.now(timezone.utc), policy_set.tables
    )
    by_key = {(r["rule"], (r["resource"] or {}).get("name", "")): r for r in results}
    return snapshot, by_key


def on(results: Results, name: str, prefix: str) -> dict[str, dict[str, Any]]:
    """The results of rules whose id starts with ``prefix`` on the resource called ``name``."""
    return {
        rule: r for (rule, res), r in results.items() if res == name and rule.startswith(prefix)
    }


def test_denied_list_access_keys_errors_the_iam_rules_on_that_user(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    factory = hooked(("before-call.iam.ListAccessKeys", denied("AccessDenied", 403)))
    snapshot, results = collect_and_evaluate(run, factory, "aws.iam.user", "aws.iam.access_key")
    [user] = [r for r in snapshot["resources"] if r["name"] == "agenticai-deployer"]
    assert "AccessKeys" not in user["data"]  # never an empty list: that would pass
    rules = on(results, "agenticai-deployer", "iam.")
    assert rules, "the pack has iam rules on the deployer"
    assert {rule: r["status"] for rule, r in rules.items()} == dict.fromkeys(rules, "error")
    single = rules["iam.deployer-single-active-key"]
    assert single["missing_permissions"] == ["iam:ListAccessKeys"]
    # The per-key rule finds no keys: the key listing is incomplete, so it cannot pass either.
    ages = [r for (rule, _), r in results.items() if rule == "iam.deployer-key-age"]
    assert ages
    assert {r["status"] for r in ages} == {"error"}


def test_denied_list_users_errors_the_key_rules_not_the_report(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    """The shipped pack reads no column of the credential report, so its plan no longer asks
    for the report (issue 9); a rule reading ``mfa_active`` does, and then the report's rows
    still arrive when ListUsers is denied."""
    factory = hooked(("before-call.iam.ListUsers", denied("AccessDenied", 403)))
    snapshot, results = collect_and_evaluate(
        run,
        factory,
        "aws.iam.user",
        "aws.iam.access_key",
        also_reads={"aws.iam.user": {"mfa_active"}},
    )
    [user] = [r for r in snapshot["resources"] if r["name"] == "agenticai-deployer"]
    assert "AccessKeys" not in user["data"]
    assert user["data"]["user"] == "agenticai-deployer"  # the credential report still arrived
    rules = on(results, "agenticai-deployer", "iam.")
    assert rules["iam.deployer-single-active-key"]["status"] == "error"
    assert rules["iam.deployer-single-active-key"]["missing_permissions"] == ["iam:ListUsers"]


def test_denied_bucket_versioning_errors_the_versioning_rule_only(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    factory = hooked(("before-call.s3.GetBucketVersioning", denied("AccessDenied", 403)))
    _snapshot, results = collect_and_evaluate(run, factory, "aws.s3.bucket")
    versioning = results[("s3.code-versioning", "agenticai-generated-code")]
    assert versioning["status"] == "error"
    assert versioning["missing_permissions"] == ["s3:GetBucketVersioning"]
    # The bucket's other settings were read: their rules still decide.
    decided = on(results, "agenticai-generated-code", "s3.")
    others = {rule: r["status"] for rule, r in decided.items() if rule != "s3.code-versioning"}
    assert others
    assert "error" not in others.values(), others


@pytest.mark.parametrize("rule", ["sqs.dlq-empty", "sqs.queue-depth"])
def test_denied_queue_attributes_error_the_queue_rules(
    seeded: Seeded, run: Run, hooked: Callable[..., Any], rule: str
) -> None:
    factory = hooked(("before-call.sqs.GetQueueAttributes", denied("AccessDenied", 403)))
    snapshot, results = collect_and_evaluate(run, factory, "aws.sqs.queue")
    assert sum(r["type"] == "aws.sqs.queue" for r in snapshot["resources"]) == 8  # still listed
    mine = [r for (rid, _), r in results.items() if rid == rule]
    assert len(mine) == 4  # one per worker queue or DLQ, found by name
    assert {r["status"] for r in mine} == {"error"}
    assert all(r["missing_permissions"] == ["sqs:GetQueueAttributes"] for r in mine)


def test_failed_metric_data_errors_the_lambda_error_rate(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    factory = hooked(("before-call.cloudwatch.GetMetricData", denied("AccessDenied", 403)))
    snapshot, results = collect_and_evaluate(run, factory, "aws.lambda.function")
    functions = [r for r in snapshot["resources"] if r["type"] == "aws.lambda.function"]
    assert len(functions) == 5
    assert all("metrics" not in f for f in functions)
    rates = [r for (rule, _), r in results.items() if rule == "lambda.error-rate"]
    assert len(rates) == 5
    assert {r["status"] for r in rates} == {"error"}
    assert all(r["missing_permissions"] == ["cloudwatch:GetMetricData"] for r in rates)
    # Rules reading the function's configuration still decide.
    runtime = [r for (rule, _), r in results.items() if rule.startswith("lambda.runtime")]
    assert runtime
    assert "error" not in {r["status"] for r in runtime}


def odd_answer(parsed: dict[str, Any]) -> Callable[..., tuple[AWSResponse, dict[str, Any]]]:
    """A 200 answer whose parsed body is not what the service model promises."""

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://x", 200, HTTPHeaders(), Body(b"")), parsed

    return answer


def test_an_odd_metric_answer_is_an_error_not_a_crash(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    """A metric result without ``Id`` used to raise KeyError and lose the whole snapshot."""
    odd = odd_answer({"MetricDataResults": [{"Values": [1.0]}]})
    factory = hooked(("before-call.cloudwatch.GetMetricData", odd))
    snapshot, results = collect_and_evaluate(run, factory, "aws.lambda.function", "aws.sqs.queue")
    [error] = [e for e in snapshot["errors"] if e["operation"] == "GetMetricData"]
    assert error["code"] == "UnexpectedShape"
    assert error["resource_type"] == "aws.lambda.function"
    metrics = {key.split(":")[0] for key in error["data_keys"]}
    assert {"metrics.AWS/Lambda/Errors", "metrics.AWS/Lambda/Invocations"} <= metrics
    # Everything else was kept: every function and queue, and the rules that need no metric.
    assert sum(r["type"] == "aws.lambda.function" for r in snapshot["resources"]) == 5
    assert sum(r["type"] == "aws.sqs.queue" for r in snapshot["resources"]) == 8
    rates = [r for (rule, _), r in results.items() if rule == "lambda.error-rate"]
    assert len(rates) == 5
    assert {r["status"] for r in rates} == {"error"}
    depth = [r for (rule, _), r in results.items() if rule == "sqs.queue-depth"]
    assert len(depth) == 4
    assert "error" not in {r["status"] for r in depth}


#: Logs Insights answers that are no counts: a row naming no queried group, a count that is
#: not a whole number, a query AWS ended without results, and one still running (partial).
ODD_QUERIES: dict[str, dict[str, Any]] = {
    "row of another group": {
        "status": "Complete",
        "results": [
            [{"field": "@log", "value": "123456789012:/other"}, {"field": "events", "value": "1"}]
        ],
    },
    "count not a number": {
        "status": "Complete",
        "results": [[{"field": "@log", "value": "x"}, {"field": "events", "value": "many"}]],
    },
    "failed": {"status": "Failed", "results": []},
    "cancelled": {"status": "Cancelled", "results": []},
    "running past the wait": {"status": "Running", "results": []},
}


@pytest.mark.parametrize("answer", list(ODD_QUERIES))
def test_an_odd_log_answer_is_an_error_on_every_group_of_the_query(
    seeded: Seeded, run: Run, hooked: Callable[..., Any], answer: str
) -> None:
    """Never a count of 0 from a query that did not complete or answered something else: an
    error on ``logs.<key>`` of each group it was asked about, so the ERROR-line rule is
    ``error`` on each of them and nothing else is touched."""
    factory = hooked(("before-call.logs.GetQueryResults", odd_answer(ODD_QUERIES[answer])))
    waits: list[float] = []
    snapshot, results = collect_and_evaluate(
        run, factory, "aws.logs.log_group", sleep=waits.append, max_wait_seconds=10.0
    )
    errors = [e for e in snapshot["errors"] if e["operation"] == "GetQueryResults"]
    groups = {r["id"]: r for r in snapshot["resources"]}
    counted = {r["id"] for r in groups.values() if r["name"].startswith("/aws/lambda/agenticai")}
    assert {e["resource"] for e in errors} == counted
    assert len(counted) == 5
    assert {e["code"] for e in errors} <= {
        "UnexpectedShape", "QueryFailed", "QueryCancelled", "QueryStillRunning"
    }  # fmt: skip
    for error in errors:
        [key] = error["data_keys"]
        assert key.startswith("logs.count(ERROR)")
        assert "logs" not in groups[error["resource"]]
    counts = [r for (rule, _), r in results.items() if rule == "logs.lambda-error-events"]
    assert len(counts) == 5
    assert {r["status"] for r in counts} == {"error"}
    assert all(c["complete"] for c in snapshot["coverage"])
    if answer == "running past the wait":  # polled with growing pauses, up to the bound
        assert waits[:4] == [0.5, 1.0, 2.0, 4.0]
        assert 10.0 <= sum(waits) < 20.0
