"""Log-event counts through CloudWatch Logs Insights: translation, batching, failing closed.

The translation is checked on every pattern the shipped pack uses and on each form of the
subset it carries over; the collection against moto (with ``demo.insights``, which teaches
moto the counting query: moto ignores ``filter`` and ``stats``), where counts must equal what
FilterLogEvents finds for the patterns moto's FilterLogEvents understands, queries hold at most
50 groups, a pattern outside the subset is counted with FilterLogEvents, and a denied query is
an error on each of its groups, never a count.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from runbook_guard.collectors import Scope, collect, insights
from runbook_guard.collectors.logs import LOG_GROUP
from runbook_guard.collectors.pool import Limits
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.plan import CollectionPlan, LogQuery
from tests.collectors.pushdown import Calls
from tests.collectors.test_faults import denied

REGION = "eu-west-1"  # apart from the seeded stack's us-east-1 in other modules
NOW = datetime.now(timezone.utc).replace(microsecond=250_000)
DAY = 86400
#: One stream of events per group: (seconds before NOW, message).
EVENTS = [
    (60, "ERROR timeout calling Gemini"),
    (120, "INFO ok"),
    (180, "error in lower case"),
    (240, "ERRORS in the plural"),
    (300, "WARN disk at 91 %"),
    (360, "ERROR 401 denied"),
    (420, "Exception in the ERROR handler"),
    (2 * DAY, "ERROR two days ago, outside the window"),
]
#: Groups the counting rules select (``/aws/lambda/agenticai*``), and others.
COUNTED = [f"/aws/lambda/agenticai-f{i:03d}" for i in range(120)]
OTHERS = ["/aws/lambda/other", "/ecs/agenticai-websocket"]

#: pattern -> the Insights query that counts it (None: not translated, FilterLogEvents counts).
QUERIES: dict[str, str | None] = {
    "ERROR": "filter @message like /ERROR/ | stats count(*) as events by @log",
    "": "stats count(*) as events by @log",
    "ERROR Exception": (
        "filter @message like /ERROR/ and @message like /Exception/ "
        "| stats count(*) as events by @log"
    ),
    "?ERROR ?WARN": (
        "filter @message like /ERROR/ or @message like /WARN/ | stats count(*) as events by @log"
    ),
    '"ERROR 401"': "filter @message like /ERROR 401/ | stats count(*) as events by @log",
    '"disk at 9/1.5"': (
        "filter @message like /disk at 9\\/1\\.5/ | stats count(*) as events by @log"
    ),
    "-INFO": None,
    "ERROR -INFO": None,
    "?ERROR WARN": None,
    '{ $.level = "ERROR" }': None,
    "[level=ERROR, message]": None,
    "%ERR(OR)?%": None,
    "ERROR!": None,
    '"ERROR': None,
    '"a \\" b"': None,
    '"x"y': None,
}


@pytest.mark.parametrize("pattern", list(QUERIES))
def test_each_pattern_translates_to_its_query_or_to_none(pattern: str) -> None:
    assert insights.query_string(pattern) == QUERIES[pattern]


def test_every_pattern_the_shipped_pack_uses_is_counted_by_insights() -> None:
    patterns = {
        query.pattern for rule in load_policy_set().compile() for query in rule.logs.values()
    }
    assert patterns == {"ERROR"}
    for pattern in patterns:
        assert insights.query_string(pattern) == QUERIES[pattern]


def test_group_names_come_back_from_the_log_field() -> None:
    assert insights.group_name("123456789012:/aws/lambda/f") == "/aws/lambda/f"
    assert insights.group_name("/aws/lambda/f") == "/aws/lambda/f"


@pytest.fixture(scope="module")
def groups(mocked: None) -> None:
    logs = boto3.client("logs", region_name=REGION)
    stamp = int(NOW.timestamp() * 1000)
    for name in [*COUNTED, *OTHERS]:
        logs.create_log_group(logGroupName=name)
        logs.create_log_stream(logGroupName=name, logStreamName="s")
        oldest_first = sorted(EVENTS, reverse=True)  # PutLogEvents wants time order
        events: list[Any] = [
            {"timestamp": stamp - ago * 1000, "message": text} for ago, text in oldest_first
        ]
        logs.put_log_events(logGroupName=name, logStreamName="s", logEvents=events)


def counting_plan(*patterns: str) -> CollectionPlan:
    """Log groups, and per pattern a count over the selected ones (a plan made by hand)."""
    plan = CollectionPlan()
    request = plan.request(LOG_GROUP)
    for index, pattern in enumerate(patterns):
        query = LogQuery(f"q{index}", pattern, DAY)
        request.log_queries.append(
            (query, lambda r: str(r["name"]).startswith("/aws/lambda/agenticai"))
        )
    return plan


Observed = tuple[dict[str, Any], Calls]


def observe(plan: CollectionPlan, hooked: Callable[..., Any], *hooks: Any) -> Observed:
    """Collect the plan in REGION with every call's parameters recorded (waits are instant)."""
    calls = Calls()
    factory = hooked(("before-parameter-build", calls.record), *hooks)
    scope = Scope(
        regions=[REGION],
        now=NOW,
        max_attempts=1,
        quiet=True,
        sleep=lambda _: None,
        session_factory=factory,
    )
    return collect(plan, scope), calls


TRANSLATED = ["ERROR", "", "ERROR Exception", "?ERROR ?WARN", '"ERROR 401"']


@pytest.fixture(scope="module")
def counted(groups: None, hooked: Callable[..., Any]) -> Observed:
    return observe(counting_plan(*TRANSLATED), hooked)


def filter_log_events(group: str, pattern: str) -> int:
    """What moto's FilterLogEvents counts in the window (moto reads plain and quoted terms)."""
    logs = boto3.client("logs", region_name=REGION)
    start = NOW - timedelta(seconds=DAY)
    answer = logs.filter_log_events(
        logGroupName=group,
        filterPattern=pattern,
        startTime=int(start.timestamp() * 1000),
        endTime=int(NOW.timestamp() * 1000),
    )
    return len(answer["events"])


def test_counts_equal_filter_log_events_where_moto_reads_the_pattern(counted: Observed) -> None:
    snapshot, _ = counted
    by_name = {r["name"]: r for r in snapshot["resources"]}
    group = by_name[COUNTED[0]]
    # Case-sensitive; "ERRORS" contains the text; two days ago is outside the window.
    assert group["logs"] == {"q0": 4, "q1": 7, "q2": 1, "q3": 5, "q4": 1}
    for index, pattern in enumerate(TRANSLATED):
        if pattern.startswith("?"):
            continue  # moto's FilterLogEvents returns every event for "?A ?B"
        assert group["logs"][f"q{index}"] == filter_log_events(COUNTED[0], pattern), pattern
    assert all(by_name[name]["logs"] == group["logs"] for name in COUNTED)
    assert all("logs" not in by_name[name] for name in OTHERS)
    assert snapshot["errors"] == []


def test_one_query_per_fifty_groups_and_no_filter_log_events(counted: Observed) -> None:
    _, calls = counted
    starts = calls.of("StartQuery")
    per_pattern = math.ceil(len(COUNTED) / insights.MAX_GROUPS)
    assert len(starts) == per_pattern * len(TRANSLATED)
    assert sorted(len(s["logGroupNames"]) for s in starts) == sorted([50, 50, 20] * len(TRANSLATED))
    for text in {s["queryString"] for s in starts}:
        assert text in {QUERIES[p] for p in TRANSLATED}
    queried = sorted(name for s in starts for name in s["logGroupNames"])
    assert queried == sorted(COUNTED * len(TRANSLATED))
    assert len(calls.of("GetQueryResults")) == len(starts)  # moto completes at once
    assert calls.of("FilterLogEvents") == []


def test_the_window_is_whole_seconds_and_never_shorter(counted: Observed) -> None:
    _, calls = counted
    start = NOW - timedelta(seconds=DAY)
    for params in calls.of("StartQuery"):
        assert params["startTime"] == math.floor(start.timestamp())
        assert params["endTime"] == math.ceil(NOW.timestamp())
        assert params["endTime"] > NOW.timestamp()  # NOW has a quarter of a second


def test_a_pattern_insights_cannot_express_is_counted_with_filter_log_events(
    groups: None, hooked: Callable[..., Any]
) -> None:
    snapshot, calls = observe(counting_plan("ERROR -INFO"), hooked)
    assert calls.of("StartQuery") == []
    filtered = calls.of("FilterLogEvents")
    assert sorted(p["logGroupName"] for p in filtered) == COUNTED
    assert {p["filterPattern"] for p in filtered} == {"ERROR -INFO"}
    assert all("q0" in r["logs"] for r in snapshot["resources"] if r["name"] in COUNTED)


def test_a_denied_query_is_an_error_on_each_of_its_groups(
    groups: None, hooked: Callable[..., Any], valid: Callable[[dict[str, Any]], None]
) -> None:
    snapshot, calls = observe(
        counting_plan("ERROR"), hooked, ("before-call.logs.StartQuery", denied())
    )
    valid(snapshot)
    assert len(calls.of("StartQuery")) == 3
    assert calls.of("GetQueryResults") == []
    errors = snapshot["errors"]
    ids = {r["name"]: r["id"] for r in snapshot["resources"]}
    assert sorted(e["resource"] for e in errors) == sorted(ids[name] for name in COUNTED)
    for error in errors:
        assert error["operation"] == "StartQuery"
        assert error["iam_action"] == "logs:StartQuery"
        assert error["code"] == "AccessDeniedException"
        assert error["data_keys"] == ["logs.q0"]
        assert error["resource_type"] == LOG_GROUP
    assert all("logs" not in r for r in snapshot["resources"])


def test_queries_held_at_once_are_bounded_per_account_and_region() -> None:
    limits = Limits()
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def query() -> None:
        with limits.held("LogsInsightsQuery", "1", "us-east-1", 2):
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            time.sleep(0.05)
            with lock:
                state["now"] -= 1

    threads = [threading.Thread(target=query) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert state["peak"] == 2
