"""The demo stack seeds the near misses of issue 8 ("No false pass") on purpose.

Each violation is read back through plain boto3 from in-process moto, not through the
project's collectors, so these tests prove what the demo's AWS holds, whatever the collectors
or the rule pack make of it: PITR on with a 1-day window, a budget alert at 80 % with its
operator reversed, a work queue no function consumes while every worker has a mapping, a
one-hour outage hidden in a quiet day, queue alarms that cannot fire in time, and the account
past 10 concurrent executions while every function stays under 5; and, for the custom-rules
example, one dead-letter queue keeping messages no longer than the queue that feeds it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from moto import mock_aws

from runbook_guard.demo import observability
from runbook_guard.demo.stack import DEFAULT_SECRET, Seeded, seed_runbook_stack

PREFIX = "agenticai"
ACCOUNT = "123456789012"
#: The seeding moment; readers look back 24 hours from it (or from a little later).
NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
DAY = timedelta(hours=24)
WORK_QUEUES = ("pm", "dev", "qa", "ops")
#: The pack's error_rate_min_requests: a period counts only with this many requests.
MIN_REQUESTS = 20
#: The runbook's warning depth for a work queue (Key Metrics and Thresholds).
QUEUE_DEPTH_WARN = 500.0
ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
UNSET = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE")


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    """One mocked account holding the demo's stack, seeded once for the module."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ENV.items():
            patch.setenv(name, value)
        for name in UNSET:
            patch.delenv(name, raising=False)
        with mock_aws():
            yield seed_runbook_stack(now=NOW)


def client(service: str, region: str = "us-east-1") -> Any:
    return boto3.client(service, region_name=region)  # type: ignore[call-overload]


def function(seeded: Seeded, kind: str) -> str:
    [name] = [f for f in seeded.functions if f"-stack-{kind}-" in f]
    return name


def queue_arn(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:sqs:{region}:{ACCOUNT}:{name}"


def metric(
    namespace: str,
    name: str,
    dimensions: dict[str, str],
    stat: str,
    period: int,
    end: datetime = NOW,
) -> list[float]:
    """One series' values over the 24 hours before ``end``, oldest period first."""
    query = {
        "Id": "m",
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            },
            "Period": period,
            "Stat": stat,
        },
    }
    answer = client("cloudwatch").get_metric_data(
        MetricDataQueries=[query],
        StartTime=end - DAY,
        EndTime=end,
        ScanBy="TimestampAscending",
    )
    [result] = answer["MetricDataResults"]
    assert result["StatusCode"] == "Complete"
    return [float(v) for v in result["Values"]]


# --- 1. PITR on, with a 1-day window ---------------------------------------------------------


def test_pitr_is_enabled_with_a_one_day_recovery_window(seeded: Seeded) -> None:
    answer = client("dynamodb").describe_continuous_backups(TableName=f"{PREFIX}-data")
    pitr = answer["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"  # a status-only check passes
    assert pitr["RecoveryPeriodInDays"] == 1  # the runbook restores within 35 days


# --- 2. A budget alert at 80 % with its operator reversed -------------------------------------


def notifications(budget: str) -> list[dict[str, Any]]:
    answer = client("budgets").describe_notifications_for_budget(
        AccountId=ACCOUNT, BudgetName=budget
    )
    found: list[dict[str, Any]] = answer["Notifications"]
    return found


def test_the_budget_alerts_at_80_percent_the_wrong_way_round(seeded: Seeded) -> None:
    [alert] = notifications(f"{PREFIX}-monthly")
    assert (alert["ComparisonOperator"], alert["Threshold"]) == ("LESS_THAN", 80.0)
    # Everything else is right: only the operator makes it useless.
    assert (alert["ThresholdType"], alert["NotificationType"]) == ("PERCENTAGE", "ACTUAL")


def test_no_budget_of_the_stack_alerts_correctly(seeded: Seeded) -> None:
    """The pack asks for at least one stack budget alerting correctly: there is none."""
    budgets = client("budgets").describe_budgets(AccountId=ACCOUNT)["Budgets"]
    names = [b["BudgetName"] for b in budgets if b["BudgetName"].startswith(PREFIX)]
    assert names == [f"{PREFIX}-monthly"]
    assert [b["BudgetType"] for b in budgets if b["BudgetName"] in names] == ["COST"]
    for name in names:
        operators = {n["ComparisonOperator"] for n in notifications(name)}
        assert "GREATER_THAN" not in operators, name


# --- 3. A work queue nobody consumes, while every worker has a mapping ------------------------


def mappings(**where: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client("lambda").list_event_source_mappings(**where)[
        "EventSourceMappings"
    ]
    return found


def test_the_ops_queue_has_no_event_source_mapping(seeded: Seeded) -> None:
    assert queue_arn(f"{PREFIX}-ops-queue") in {queue_arn(q) for q in seeded.queues}
    assert mappings(EventSourceArn=queue_arn(f"{PREFIX}-ops-queue")) == []
    every = mappings()
    assert all(not m["EventSourceArn"].endswith(":agenticai-ops-queue") for m in every)


def test_the_pm_queue_has_two_consumers(seeded: Seeded) -> None:
    consumers = mappings(EventSourceArn=queue_arn(f"{PREFIX}-pm-queue"))
    names = sorted(m["FunctionArn"].rsplit(":", 1)[1] for m in consumers)
    assert names == sorted(function(seeded, k) for k in ("PmAgentWorker", "OpsAgentWorker"))
    assert {m["State"] for m in consumers} == {"Enabled"}


def test_every_worker_has_an_enabled_mapping_so_a_function_side_check_passes(
    seeded: Seeded,
) -> None:
    for kind in ("PmAgentWorker", "DevAgentWorker", "QaAgentWorker", "OpsAgentWorker"):
        own = mappings(FunctionName=function(seeded, kind))
        assert [m["State"] for m in own] == ["Enabled"], kind
        assert own[0]["EventSourceArn"].endswith("-queue"), kind  # a work queue, not a DLQ
    consumed = [w for w in WORK_QUEUES if mappings(EventSourceArn=queue_arn(f"{PREFIX}-{w}-queue"))]
    assert consumed == ["pm", "dev", "qa"]  # the queue side is what tells the ops queue apart


# --- 4. A one-hour outage in a quiet day ------------------------------------------------------


def hourly_rates(errors: list[float], calls: list[float]) -> list[tuple[float, float]]:
    assert len(errors) == len(calls) == 24  # a datapoint in every hour, zero errors included
    return list(zip(errors, calls, strict=True))


@pytest.mark.parametrize("late", [0, 7, 29], ids=lambda m: f"read {m} min later")
def test_the_api_handler_has_one_outage_hour_in_a_quiet_day(seeded: Seeded, late: int) -> None:
    """However a reader aligns its hourly periods (it may run up to half an hour after the
    seeding), the worst hour is 40 errors of 100 calls while the day is under 2 %."""
    end = NOW + timedelta(minutes=late)
    by_name = {"FunctionName": function(seeded, "ApiHandler")}
    errors = metric("AWS/Lambda", "Errors", by_name, "Sum", 3600, end)
    calls = metric("AWS/Lambda", "Invocations", by_name, "Sum", 3600, end)
    hours = hourly_rates(errors, calls)
    worst = max(hours, key=lambda h: h[0] / h[1])
    assert worst == (40.0, 100.0)
    assert min(calls) >= MIN_REQUESTS  # every hour counts toward the worst period
    assert sum(errors) / sum(calls) < 0.02  # the whole day: under the 2 % warning
    assert all(e / c <= 0.005 for e, c in hours if (e, c) != worst)  # the quiet hours


def test_the_api_has_the_same_outage_hour_on_its_prod_stage(seeded: Seeded) -> None:
    by_stage = {"ApiName": f"{PREFIX}-api", "Stage": "prod"}
    errors = metric("AWS/ApiGateway", "5XXError", by_stage, "Sum", 3600)
    calls = metric("AWS/ApiGateway", "Count", by_stage, "Sum", 3600)
    hours = hourly_rates(errors, calls)
    assert max(hours, key=lambda h: h[0] / h[1]) == (40.0, 100.0)
    assert sum(errors) / sum(calls) < 0.01  # the whole day: under the API's 1 % warning


def test_a_whole_day_reading_dilutes_the_outage(seeded: Seeded) -> None:
    by_name = {"FunctionName": function(seeded, "ApiHandler")}
    [errors] = metric("AWS/Lambda", "Errors", by_name, "Sum", 86400)
    [calls] = metric("AWS/Lambda", "Invocations", by_name, "Sum", 86400)
    assert (errors, calls) == (46.0, 4700.0)  # 0.98 %: a note at most, never critical


# --- 5. Queue alarms that cannot fire in time -------------------------------------------------


def depth_alarms() -> dict[str, dict[str, Any]]:
    alarms = client("cloudwatch").describe_alarms(AlarmNamePrefix=PREFIX)["MetricAlarms"]
    found = {}
    for alarm in alarms:
        if alarm["MetricName"] != "ApproximateNumberOfMessagesVisible":
            continue
        [dimension] = alarm["Dimensions"]
        assert dimension["Name"] == "QueueName"
        found[dimension["Value"]] = alarm
    return found


def test_work_queue_alarms_with_useless_thresholds(seeded: Seeded) -> None:
    alarms = depth_alarms()
    qa = alarms[f"{PREFIX}-qa-queue"]
    assert (qa["ComparisonOperator"], qa["Threshold"]) == ("GreaterThanThreshold", 100000.0)
    dev = alarms[f"{PREFIX}-dev-queue"]
    assert dev["ComparisonOperator"] == "LessThanThreshold"  # fires on a short queue
    for alarm in (qa, dev):
        assert alarm["AlarmActions"]  # present, with an action
        assert alarm["ActionsEnabled"]
    pm = alarms[f"{PREFIX}-pm-queue"]  # the correct one stays correct
    assert pm["ComparisonOperator"] == "GreaterThanThreshold"
    assert pm["Threshold"] <= QUEUE_DEPTH_WARN
    assert f"{PREFIX}-ops-queue" not in alarms


# --- 6. The account past 10 concurrent executions, every function under 5 ---------------------


def test_account_concurrency_peaks_at_12_in_a_five_minute_period(seeded: Seeded) -> None:
    peaks = metric("AWS/Lambda", "ConcurrentExecutions", {}, "Maximum", 300)
    assert max(peaks) == 12.0
    assert sorted(peaks)[-2] < 10  # one bad period, not a bad day
    assert len(peaks) == 24  # one datapoint an hour


def test_each_function_stays_under_5(seeded: Seeded) -> None:
    peaks = {
        name: max(metric("AWS/Lambda", "ConcurrentExecutions", {"FunctionName": name}, "Maximum", 300))
        for name in seeded.functions
    }  # fmt: skip
    assert len(peaks) == 5
    assert max(peaks.values()) < 5  # a per-function check passes
    assert sum(peaks.values()) == 12.0  # together they are the account's peak


def test_the_account_series_is_the_only_one_without_dimensions(seeded: Seeded) -> None:
    """moto answers a query without dimensions with every series of the metric: seeding only
    exact series keeps each rule's reading what CloudWatch would answer."""
    listed = client("cloudwatch").list_metrics(Namespace="AWS/Lambda")["Metrics"]
    undimensioned = {m["MetricName"] for m in listed if not m.get("Dimensions")}
    assert undimensioned == {"ConcurrentExecutions"}
    shapes = {frozenset(d["Name"] for d in m["Dimensions"]) for m in listed if m["Dimensions"]}
    assert shapes == {frozenset({"FunctionName"})}


# --- 7. One DLQ keeping messages no longer than its queue (examples/custom-rules) -------------


def queue_attributes(name: str) -> dict[str, str]:
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    found: dict[str, str] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"
    ]
    return found


def test_the_qa_dlq_keeps_messages_exactly_as_long_as_its_queue(seeded: Seeded) -> None:
    """The near miss of sqs-dlq-outlives-source: equal retention, not longer; every other DLQ
    keeps messages longer than its queue. The ops queue, without redrive (RB-I08), is the one
    work queue sqs-redrive-max-receive fails; every redrive keeps maxReceiveCount at 3."""
    for worker in WORK_QUEUES:
        queue = queue_attributes(f"{PREFIX}-{worker}-queue")
        dlq = queue_attributes(f"{PREFIX}-{worker}-dlq")
        kept, parked = int(queue["MessageRetentionPeriod"]), int(dlq["MessageRetentionPeriod"])
        if worker == "ops":
            assert "RedrivePolicy" not in queue
            continue
        redrive = json.loads(queue["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
        assert int(redrive["maxReceiveCount"]) <= 5
        if worker == "qa":
            assert parked == kept == 4 * 86400
        else:
            assert parked > kept


# --- What must not change ---------------------------------------------------------------------


def test_the_canary_secret_is_still_seeded(seeded: Seeded) -> None:
    config = client("lambda").get_function_configuration(
        FunctionName=function(seeded, "ApiHandler")
    )
    assert config["Environment"]["Variables"]["GEMINI_API_KEY"] == DEFAULT_SECRET


def test_copies_stay_cheap_and_repeat_the_violations(seeded: Seeded) -> None:
    """N copies (the benchmark) in another Region: few PutMetricData requests, the account's
    series once, and each copy with its own unconsumed ops queue."""
    region = "eu-west-1"
    session = boto3.Session(region_name=region)
    sent: list[int] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        sent.append(len(params["MetricData"]))

    session.events.register("provide-client-params.cloudwatch.PutMetricData", count)
    copies = 2
    done = seed_runbook_stack(session, region=region, copies=copies, prefix="bench", now=NOW)
    assert done.prefixes == ["bench", "bench1"]
    assert len(sent) == 3 * copies + 1  # Lambda, API Gateway, DynamoDB per copy; the account
    assert max(sent) <= observability.PUT_METRIC_DATA_MAX
    for prefix in done.prefixes:
        ops = queue_arn(f"{prefix}-ops-queue", region)
        lam = client("lambda", region)
        assert lam.list_event_source_mappings(EventSourceArn=ops)["EventSourceMappings"] == []
    peaks = client("cloudwatch", region).get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/Lambda", "MetricName": "ConcurrentExecutions"},
                    "Period": 86400,
                    "Stat": "SampleCount",
                },
            }
        ],
        StartTime=NOW - DAY,
        EndTime=NOW,
    )["MetricDataResults"][0]["Values"]
    # moto counts every series here: 24 account datapoints + 5 functions x 3 copies.
    assert sum(peaks) == 24 + 5 * copies
