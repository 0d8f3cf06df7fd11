"""Metric queries (keys, series, window words) and the values built on them.

Each test tries to make a figure pass wrongly: two different queries sharing one stored value,
a list of dimension values quietly reduced to one, a low figure hiding a high one in max_of, a
zero denominator shown as 0 %, an evidence figure that changes the verdict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.loader import load_policy_set, load_schema
from runbook_guard.engine.plan import MetricPart
from runbook_guard.engine.results import build_results
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.snapshot import Snapshot
from tests.engine.builders import (
    ACCOUNT,
    NOW,
    REGION,
    compile_text,
    resource,
    run,
    snapshot_doc,
)

HEAD = """
rules:
  - id: m
    title: metric rule
    covers: [RB-D01]
    section: Daily
    cadence: daily
    severity: medium
"""


def metric_rule(spec: str, resource_type: str = "aws.dynamodb.table") -> str:
    """A rule with one metric ``q`` (a YAML flow mapping) whose value is judged."""
    return (
        HEAD
        + f"""    resource: {resource_type}
    metrics:
      q: {spec}
    value: {{metric: q}}
    levels: {{normal: "< 1", warn: ">= 1", fail: "> 10"}}
"""
    )


def compiled(tmp_path: Path, text: str, **overrides: Any) -> CompiledRule:
    _, rules = compile_text(tmp_path, text, **overrides)
    (rule,) = rules
    return rule


def key_of(tmp_path: Path, spec: str) -> str:
    return compiled(tmp_path, metric_rule(spec)).metrics["q"].key


# --- 5. metric specs ------------------------------------------------------------------------

THROTTLES = (
    "{namespace: AWS/DynamoDB, metric: WriteThrottleEvents, stat: Sum, "
    'dimensions: {TableName: "{name}"}, window_hours: 24, period_minutes: 5, reduce: max}'
)


def test_a_simple_metric_keeps_its_key_shape(tmp_path: Path) -> None:
    assert (
        key_of(tmp_path, THROTTLES)
        == "AWS/DynamoDB/WriteThrottleEvents:Sum:TableName={name}:86400s/300s:max"
    )


def test_a_simple_metric_with_defaults_keeps_its_key_shape(tmp_path: Path) -> None:
    spec = (
        '{namespace: AWS/Lambda, metric: Errors, stat: Sum, dimensions: {FunctionName: "{name}"}}'
    )
    assert key_of(tmp_path, spec) == "AWS/Lambda/Errors:Sum:FunctionName={name}:86400s/86400s:sum"


def test_a_one_item_list_is_the_same_query_as_the_plain_metric(tmp_path: Path) -> None:
    listed = THROTTLES.replace("metric: WriteThrottleEvents", "metric: [WriteThrottleEvents]")
    listed = listed.replace('TableName: "{name}"', 'TableName: ["{name}"]')
    assert key_of(tmp_path, listed) == key_of(tmp_path, THROTTLES)
    query = compiled(tmp_path, metric_rule(listed)).metrics["q"]
    assert query.parts == ()  # stored and collected as the single series it is


def test_a_simple_metric_has_one_numerator_part(tmp_path: Path) -> None:
    query = compiled(tmp_path, metric_rule(THROTTLES)).metrics["q"]
    assert query.numerator == (MetricPart("WriteThrottleEvents", (("TableName", ("{name}",)),)),)
    assert query.resolved_dimensions({"name": "t"}) == [{"Name": "TableName", "Value": "t"}]


SUMMED = (
    "{namespace: AWS/DynamoDB, metric: [ReadThrottleEvents, WriteThrottleEvents], stat: Sum, "
    'dimensions: {TableName: "{name}", GlobalSecondaryIndexName: ["{each:GlobalSecondaryIndexes[].IndexName}", by-date]}, '
    'per: {metric: ConsumedWriteCapacityUnits, dimensions: {TableName: "{name}"}, at_least: 100}, '
    "window_hours: 168, period_minutes: 60, reduce: max}"
)


def test_a_composite_key_names_every_part(tmp_path: Path) -> None:
    key = key_of(tmp_path, SUMMED)
    gsi = '["GlobalSecondaryIndexName",["{each:GlobalSecondaryIndexes[].IndexName}","by-date"]]'
    table = '["TableName",["{name}"]]'
    assert key == (
        "AWS/DynamoDB/"
        f'[["ReadThrottleEvents",[{gsi},{table}]],["WriteThrottleEvents",[{gsi},{table}]]]'
        f':Sum/per:[["ConsumedWriteCapacityUnits",[{table}]]]>=100.0:604800s/3600s:max'
    )
    query = compiled(tmp_path, metric_rule(SUMMED)).metrics["q"]
    assert [p.metric for p in query.parts] == ["ReadThrottleEvents", "WriteThrottleEvents"]
    assert [p.metric for p in query.denominator] == ["ConsumedWriteCapacityUnits"]
    assert query.min_denominator == 100.0


# Each mutation changes exactly one part of SUMMED; every one must give another key.
MUTATIONS = {
    "namespace": ("namespace: AWS/DynamoDB", "namespace: AWS/DAX"),
    "one metric dropped": (
        "metric: [ReadThrottleEvents, WriteThrottleEvents]",
        "metric: [WriteThrottleEvents]",
    ),
    "metrics reordered": (
        "metric: [ReadThrottleEvents, WriteThrottleEvents]",
        "metric: [WriteThrottleEvents, ReadThrottleEvents]",
    ),
    "stat": ("stat: Sum", "stat: Maximum"),
    "one dimension value dropped": (
        '["{each:GlobalSecondaryIndexes[].IndexName}", by-date]',
        '["{each:GlobalSecondaryIndexes[].IndexName}"]',
    ),
    "each path": ("GlobalSecondaryIndexes[].IndexName", "LocalSecondaryIndexes[].IndexName"),
    "per metric": (
        "per: {metric: ConsumedWriteCapacityUnits",
        "per: {metric: ConsumedReadCapacityUnits",
    ),
    "per dimension": (
        'per: {metric: ConsumedWriteCapacityUnits, dimensions: {TableName: "{name}"}',
        'per: {metric: ConsumedWriteCapacityUnits, dimensions: {TableName: "{name}", Operation: PutItem}',
    ),
    "at_least": ("at_least: 100}", "at_least: 101}"),
    "at_least fraction": ("at_least: 100}", "at_least: 100.5}"),
    "no per": (
        'per: {metric: ConsumedWriteCapacityUnits, dimensions: {TableName: "{name}"}, at_least: 100}, ',
        "",
    ),
    "window": ("window_hours: 168", "window_hours: 720"),
    "period": ("period_minutes: 60", "period_minutes: 5"),
    "reduce": ("reduce: max", "reduce: avg"),
}


def test_every_part_of_a_composite_query_is_in_its_key(tmp_path: Path) -> None:
    keys = {"base": key_of(tmp_path, SUMMED)}
    for label, (old, new) in MUTATIONS.items():
        assert old in SUMMED, label
        keys[label] = key_of(tmp_path, SUMMED.replace(old, new))
    duplicates = {k: v for k, v in keys.items() if list(keys.values()).count(v) > 1}
    assert duplicates == {}


def test_list_names_list_values_and_per_each_give_a_key_of_their_own(tmp_path: Path) -> None:
    plain = THROTTLES
    variants = {
        "plain": plain,
        "two metrics": plain.replace(
            "metric: WriteThrottleEvents", "metric: [WriteThrottleEvents, ReadThrottleEvents]"
        ),
        "two values": plain.replace('TableName: "{name}"', 'TableName: ["{name}", other]'),
        "each": plain.replace(
            'TableName: "{name}"',
            'TableName: "{name}", GlobalSecondaryIndexName: "{each:GlobalSecondaryIndexes[].IndexName}"',
        ),
        "per": plain.replace(
            "window_hours",
            'per: {metric: ConsumedWriteCapacityUnits, dimensions: {TableName: "{name}"}}, window_hours',
        ),
        "per at least": plain.replace(
            "window_hours",
            'per: {metric: ConsumedWriteCapacityUnits, dimensions: {TableName: "{name}"}, at_least: 5}, window_hours',
        ),
    }
    keys = {label: key_of(tmp_path, spec) for label, spec in variants.items()}
    assert len(set(keys.values())) == len(keys), keys
    assert "ReadThrottleEvents" in keys["two metrics"]
    assert '["{name}","other"]' in keys["two values"]
    assert "{each:GlobalSecondaryIndexes[].IndexName}" in keys["each"]
    assert '/per:[["ConsumedWriteCapacityUnits",[["TableName",["{name}"]]]]]>=0.0' in keys["per"]
    assert ">=5.0:" in keys["per at least"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            SUMMED.replace("at_least: 100}", "at_least: 1234567}"),
            SUMMED.replace("at_least: 100}", "at_least: 1234568}"),
        ),
        (
            SUMMED.replace('["{each:GlobalSecondaryIndexes[].IndexName}", by-date]', '"a|b"'),
            SUMMED.replace('["{each:GlobalSecondaryIndexes[].IndexName}", by-date]', "[a, b]"),
        ),
    ],
    ids=["at_least-precision", "pipe-in-a-value"],
)
def test_two_different_composite_queries_never_share_a_key(
    tmp_path: Path, first: str, second: str
) -> None:
    assert first != second
    assert key_of(tmp_path, first) != key_of(tmp_path, second)


@pytest.mark.parametrize(
    ("dimension", "problem"),
    [
        ("TableName: []", "a dimension value is text or a non-empty list of text"),
        ('TableName: ["{name}", ""]', "a dimension value is text or a non-empty list of text"),
    ],
)
def test_an_empty_dimension_value_list_is_refused(
    tmp_path: Path, dimension: str, problem: str
) -> None:
    text = metric_rule(THROTTLES.replace('TableName: "{name}"', dimension))
    with pytest.raises(InputError, match=problem):
        compile_text(tmp_path, text)


@pytest.mark.parametrize(
    ("at_least", "problem"),
    [("-1", "at_least must be a number >= 0"), ("true", "per.at_least: True is not of type")],
)
def test_a_negative_or_boolean_at_least_is_refused(
    tmp_path: Path, at_least: str, problem: str
) -> None:
    spec = THROTTLES.replace(
        "window_hours",
        f"per: {{metric: ConsumedWriteCapacityUnits, at_least: {at_least}}}, window_hours",
    )
    with pytest.raises(InputError, match=problem):
        compile_text(tmp_path, metric_rule(spec))


# MetricPart.series

TABLE = {
    "name": "app-table",
    "id": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/app-table",
    "region": REGION,
    "account": ACCOUNT,
}


def table(data: Any) -> dict[str, Any]:
    return {**TABLE, "data": data}


def dims(*pairs: tuple[str, tuple[str, ...]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(pairs)


def test_series_fills_placeholders_from_the_resource() -> None:
    part = MetricPart(
        "M", dims(("A", ("{account}",)), ("R", ("{region}",)), ("T", ("{name}",)), ("I", ("{id}",)))
    )
    assert part.series(table({})) == [
        [
            {"Name": "A", "Value": ACCOUNT},
            {"Name": "R", "Value": REGION},
            {"Name": "T", "Value": "app-table"},
            {"Name": "I", "Value": TABLE["id"]},
        ]
    ]


def test_series_expands_every_combination_of_listed_values() -> None:
    part = MetricPart(
        "ThrottledRequests",
        dims(("Operation", ("PutItem", "UpdateItem")), ("TableName", ("{name}", "archive"))),
    )
    assert part.series(table({})) == [
        [{"Name": "Operation", "Value": o}, {"Name": "TableName", "Value": t}]
        for o in ("PutItem", "UpdateItem")
        for t in ("app-table", "archive")
    ]


EACH_GSI = "{each:GlobalSecondaryIndexes[].IndexName}"


def test_series_each_takes_every_value_the_path_finds() -> None:
    part = MetricPart(
        "WriteThrottleEvents",
        dims(("GlobalSecondaryIndexName", (EACH_GSI,)), ("TableName", ("{name}",))),
    )
    data = {"GlobalSecondaryIndexes": [{"IndexName": "by-date"}, {"IndexName": "by-user"}]}
    assert part.series(table(data)) == [
        [
            {"Name": "GlobalSecondaryIndexName", "Value": "by-date"},
            {"Name": "TableName", "Value": "app-table"},
        ],
        [
            {"Name": "GlobalSecondaryIndexName", "Value": "by-user"},
            {"Name": "TableName", "Value": "app-table"},
        ],
    ]


@pytest.mark.parametrize(
    "data",
    [{}, {"GlobalSecondaryIndexes": []}, {"GlobalSecondaryIndexes": None}, None],
    ids=["absent", "empty", "null", "no-data"],
)
def test_series_each_finding_nothing_gives_no_series_not_an_unfilled_one(data: Any) -> None:
    part = MetricPart(
        "WriteThrottleEvents",
        dims(("GlobalSecondaryIndexName", (EACH_GSI,)), ("TableName", ("{name}",))),
    )
    assert part.series(table(data)) == []


def test_series_each_drops_null_values_and_keeps_duplicates_once() -> None:
    part = MetricPart("M", dims(("Queue", ("{each:Names}", "{name}", "b"))))
    data = {"Names": ["b", None, "a", "b", "app-table"]}
    assert part.series(table(data)) == [
        [{"Name": "Queue", "Value": v}] for v in ("b", "a", "app-table")
    ]


def test_series_each_of_a_scalar_is_one_value_and_numbers_become_text() -> None:
    part = MetricPart("M", dims(("Name", ("{each:TableName}",)), ("Shard", ("{each:Shards}",))))
    data = {"TableName": "t", "Shards": [1, 2]}
    assert part.series(table(data)) == [
        [{"Name": "Name", "Value": "t"}, {"Name": "Shard", "Value": "1"}],
        [{"Name": "Name", "Value": "t"}, {"Name": "Shard", "Value": "2"}],
    ]


@pytest.mark.parametrize(
    "value", ["{nmae}", "prefix-{each:TableName}"], ids=["typo", "each-inside-text"]
)
def test_a_dimension_placeholder_the_collector_cannot_fill_is_refused(
    tmp_path: Path, value: str
) -> None:
    spec = SUMMED.replace('TableName: "{name}", Global', f'TableName: "{value}", Global')
    assert value in spec
    with pytest.raises(InputError):
        compile_and_fill(tmp_path, spec)


def compile_and_fill(tmp_path: Path, spec: str) -> None:
    """Compile a metric rule, then fill its series as the collector does."""
    rule = compiled(tmp_path, metric_rule(spec))
    for part in rule.metrics["q"].parts:
        part.series(table({"TableName": "t"}))


def test_series_of_a_compiled_rule_reads_the_resources_own_indexes(tmp_path: Path) -> None:
    query = compiled(tmp_path, metric_rule(SUMMED)).metrics["q"]
    data = {"GlobalSecondaryIndexes": [{"IndexName": "by-user"}, {"IndexName": "by-date"}]}
    series = query.parts[1].series(table(data))
    assert [s[0]["Value"] for s in series] == ["by-user", "by-date"]  # by-date once
    assert all(s[1] == {"Name": "TableName", "Value": "app-table"} for s in series)
    assert query.denominator[0].series(table(data)) == [
        [{"Name": "TableName", "Value": "app-table"}]
    ]


# describe_window, the expected text and the rule's metadata


def window_words(tmp_path: Path, window: int, period: int | None, reduce: str = "max") -> str:
    period_text = f", period_minutes: {period}" if period is not None else ""
    spec = (
        "{namespace: AWS/DynamoDB, metric: WriteThrottleEvents, stat: Sum, "
        f'dimensions: {{TableName: "{{name}}"}}, window_hours: {window}{period_text}, reduce: {reduce}}}'
    )
    return compiled(tmp_path, metric_rule(spec)).metrics["q"].describe_window()


@pytest.mark.parametrize(
    ("window", "period", "reduce", "words"),
    [
        (24, None, "sum", "over the last day"),
        (24, 1440, "sum", "over the last day"),
        (168, None, "sum", "over the last 7 days"),
        (720, None, "max", "over the last 30 days"),
        (1, None, "sum", "over the last hour"),
        (168, 5, "max", "worst 5-minute period of the last 7 days"),
        (720, 60, "max", "worst 1-hour period of the last 30 days"),
        (24, 60, "min", "lowest 1-hour period of the last day"),
        (24, 60, "avg", "average 1-hour period of the last day"),
        (24, 60, "sum", "sum of each 1-hour period of the last day"),
    ],
)
def test_describe_window_words(
    tmp_path: Path, window: int, period: int | None, reduce: str, words: str
) -> None:
    assert window_words(tmp_path, window, period, reduce) == words


def test_the_expected_text_and_the_rules_metadata_state_the_window(tmp_path: Path) -> None:
    spec = THROTTLES.replace(
        "window_hours: 24, period_minutes: 5", "window_hours: 168, period_minutes: 5"
    )
    rule = compiled(tmp_path, metric_rule(spec))
    window = "worst 5-minute period of the last 7 days"
    assert rule.expected.endswith("; " + window)
    assert rule.metadata()["window"] == window


def test_the_results_document_states_the_window_of_each_rule(tmp_path: Path) -> None:
    spec = THROTTLES.replace(
        "window_hours: 24, period_minutes: 5", "window_hours: 720, period_minutes: 60"
    )
    policy_set, rules = compile_text(tmp_path, metric_rule(spec))
    key = rules[0].metrics["q"].key
    doc = snapshot_doc([resource("aws.dynamodb.table", "t", {}, metrics={key: 0})])
    document = build_results(policy_set, rules, Snapshot(doc), {}, NOW)
    jsonschema.validate(document, load_schema("results"))
    (meta,) = document["rules"]
    assert meta["window"] == "worst 1-hour period of the last 30 days"
    assert meta["expected"].endswith("; worst 1-hour period of the last 30 days")
    assert document["results"][0]["expected"] == meta["expected"]


def test_the_metadata_window_lists_every_metric_once(tmp_path: Path) -> None:
    text = (
        HEAD
        + """    resource: aws.lambda.function
    metrics:
      errors: {namespace: AWS/Lambda, metric: Errors, stat: Sum, dimensions: {FunctionName: "{name}"}, window_hours: 168}
      calls: {namespace: AWS/Lambda, metric: Invocations, stat: Sum, dimensions: {FunctionName: "{name}"}, window_hours: 168}
      worst: {namespace: AWS/Lambda, metric: Errors, stat: Sum, dimensions: {FunctionName: "{name}"}, window_hours: 24, period_minutes: 60, reduce: max}
    value: {ratio: {numerator: {metric: errors}, denominator: {metric: calls}}, unit: "%"}
    levels: {normal: "< 1%", warn: ">= 1%", fail: "> 5%"}
"""
    )
    rule = compiled(tmp_path, text)
    assert rule.metadata()["window"] == "over the last 7 days; worst 1-hour period of the last day"
    assert "over the last 7 days" in rule.expected
    assert "worst 1-hour period of the last day" in rule.expected


def test_a_rule_without_metrics_has_no_window(tmp_path: Path) -> None:
    text = (
        HEAD
        + """    resource: aws.sqs.queue
    value: {path: Attributes.ApproximateNumberOfMessages}
    levels: {normal: "< 1", warn: ">= 1", fail: "> 10"}
"""
    )
    rule = compiled(tmp_path, text)
    assert "window" not in rule.metadata()
    assert "last" not in rule.expected


# --- 6. max_of, data_as_of, evidence values -------------------------------------------------

MAX_OF = (
    HEAD
    + """    resource: aws.dynamodb.table
    metrics:
      requests: {namespace: AWS/DynamoDB, metric: ThrottledRequests, stat: Sum, dimensions: {TableName: "{name}"}}
      events: {namespace: AWS/DynamoDB, metric: WriteThrottleEvents, stat: Sum, dimensions: {TableName: "{name}"}}
    value: {max_of: [{metric: requests}, {metric: events}]}
    levels: {normal: "< 1", warn: ">= 1", fail: "> 10"}
    no_data: NO_DATA
"""
)
REQUESTS_KEY = "AWS/DynamoDB/ThrottledRequests:Sum:TableName={name}:86400s/86400s:sum"
EVENTS_KEY = "AWS/DynamoDB/WriteThrottleEvents:Sum:TableName={name}:86400s/86400s:sum"


def throttled(metrics: dict[str, Any], name: str = "app-table") -> dict[str, Any]:
    return resource("aws.dynamodb.table", name, {}, metrics=metrics)


def judged(
    tmp_path: Path, metrics: dict[str, Any], no_data: str = "error", **kw: Any
) -> dict[str, Any]:
    doc = snapshot_doc([throttled(metrics)], **kw)
    (result,) = run(tmp_path, MAX_OF.replace("NO_DATA", no_data), doc)
    return result


def test_the_keys_this_module_stores_metrics_under_are_the_rules_keys(tmp_path: Path) -> None:
    rule = compiled(tmp_path, MAX_OF.replace("NO_DATA", "error"))
    assert rule.metrics["requests"].key == REQUESTS_KEY
    assert rule.metrics["events"].key == EVENTS_KEY


@pytest.mark.parametrize(
    ("requests", "events", "status", "observed"),
    [
        (0, 12, "fail", 12),
        (12, 0, "fail", 12),
        (0.0, 1, "warn", 1),
        (0, 0, "pass", 0),
        (None, 12, "fail", 12),
        (12, None, "fail", 12),
        (None, 0, "pass", 0),
    ],
)
def test_max_of_is_the_largest_figure_and_ignores_one_without_data(
    tmp_path: Path, requests: float | None, events: float | None, status: str, observed: float
) -> None:
    result = judged(tmp_path, {REQUESTS_KEY: requests, EVENTS_KEY: events})
    assert (result["status"], result["observed"]) == (status, observed)


@pytest.mark.parametrize("no_data", ["error", "note", "pass"])
def test_max_of_is_no_data_only_when_every_figure_has_none(tmp_path: Path, no_data: str) -> None:
    result = judged(tmp_path, {REQUESTS_KEY: None, EVENTS_KEY: None}, no_data)
    assert (result["status"], result["observed"]) == (no_data, "no data")


@pytest.mark.parametrize(
    "metrics",
    [{EVENTS_KEY: 0}, {REQUESTS_KEY: 0}, {REQUESTS_KEY: None}, {}],
    ids=[
        "requests-uncollected",
        "events-uncollected",
        "one-none-one-uncollected",
        "none-collected",
    ],
)
def test_max_of_is_undecided_when_any_figure_is(tmp_path: Path, metrics: dict[str, Any]) -> None:
    # Even no_data: pass must not turn an uncollected figure into a pass.
    result = judged(tmp_path, metrics, "pass")
    assert result["status"] == "error"
    assert "was not collected" in result["message"]


def test_max_of_is_undecided_when_a_figure_was_blocked(tmp_path: Path) -> None:
    table = throttled({EVENTS_KEY: 0})
    error = {
        "service": "cloudwatch",
        "operation": "GetMetricData",
        "region": REGION,
        "account": ACCOUNT,
        "resource": table["id"],
        "resource_type": "aws.dynamodb.table",
        "data_keys": [f"metrics.{REQUESTS_KEY}"],
        "iam_action": "cloudwatch:GetMetricData",
        "code": "AccessDenied",
        "message": "no",
    }
    doc = snapshot_doc([table], errors=[error])
    (result,) = run(tmp_path, MAX_OF.replace("NO_DATA", "pass"), doc)
    assert result["status"] == "error"
    assert result["missing_permissions"] == ["cloudwatch:GetMetricData"]


MAX_OF_PATHS = (
    HEAD
    + """    resource: aws.sqs.queue
    value: {max_of: [{path: A, if_absent: 0}, {path: B, if_absent: 0}], scale: 2}
    levels: {normal: "< 1", warn: ">= 1", fail: "> 10"}
"""
)


@pytest.mark.parametrize(
    "data",
    [{"A": True, "B": 0}, {"A": 0, "B": False}, {"A": {"n": 1}, "B": 0}, {"A": [20], "B": 0}],
    ids=["true", "false", "mapping", "list"],
)
def test_max_of_refuses_values_that_are_not_numbers(tmp_path: Path, data: dict[str, Any]) -> None:
    doc = snapshot_doc([resource("aws.sqs.queue", "q", data)])
    (result,) = run(tmp_path, MAX_OF_PATHS, doc)
    assert result["status"] == "error"
    assert "is not a number" in result["message"]


def test_max_of_reads_sqs_numeric_text_like_a_plain_value_does(tmp_path: Path) -> None:
    doc = snapshot_doc([resource("aws.sqs.queue", "q", {"A": "3", "B": "6"})])
    (result,) = run(tmp_path, MAX_OF_PATHS, doc)
    assert (result["status"], result["observed"]) == ("fail", 12)


RETENTION_DAYS = (
    HEAD
    + """    resource: aws.sqs.queue
    value: {path: Attributes.MessageRetentionPeriod, scale: 0.000011574074074074073, unit: days}
    levels: {normal: ">= 14", warn: "< 14", fail: "< 7"}
"""
)


def test_scale_applies_to_numeric_text(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [resource("aws.sqs.queue", "q", {"Attributes": {"MessageRetentionPeriod": "345600"}})]
    )
    (result,) = run(tmp_path, RETENTION_DAYS, doc)
    assert (result["status"], result["observed"]) == ("fail", 4)


def test_scale_applies_to_a_number(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [resource("aws.sqs.queue", "q", {"Attributes": {"MessageRetentionPeriod": 345600}})]
    )
    (result,) = run(tmp_path, RETENTION_DAYS, doc)
    assert (result["status"], result["observed"]) == ("fail", 4)


def test_max_of_scale_applies_to_the_largest(tmp_path: Path) -> None:
    doc = snapshot_doc([resource("aws.sqs.queue", "q", {"A": 3, "B": 6})])
    (result,) = run(tmp_path, MAX_OF_PATHS, doc)
    assert (result["status"], result["observed"]) == ("fail", 12)


def test_max_of_must_list_something(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        compile_text(
            tmp_path,
            MAX_OF_PATHS.replace("[{path: A, if_absent: 0}, {path: B, if_absent: 0}]", "[]"),
        )


STALENESS = """
data:
  runtimes: data/runtimes.yaml
rules:
  - id: data.fresh
    title: the runtime table is fresh
    covers: [RB-X03]
    section: Maintenance
    cadence: monthly
    severity: low
    resource: aws.lambda.function
    value: {days_since: {data_as_of: runtimes}, unit: days}
    levels: {normal: "<= 90", warn: "> 90", fail: "> 365"}
"""


def staleness(tmp_path: Path, as_of: str | None, text: str = STALENESS) -> list[dict[str, Any]]:
    (tmp_path / "data").mkdir(exist_ok=True)
    head = "" if as_of is None else f"as_of: {as_of}\n"
    (tmp_path / "data" / "runtimes.yaml").write_text(
        head + 'entries:\n  "python3.12": {deprecated: "2028-10-31"}\n'
    )
    (tmp_path / "rules.yaml").write_text(text)
    policy_set = load_policy_set([tmp_path / "rules.yaml"])
    doc = snapshot_doc([resource("aws.lambda.function", "f")])
    return evaluate_rules(policy_set.compile(), Snapshot(doc), NOW, policy_set.tables)


@pytest.mark.parametrize(
    ("as_of", "status", "days"),
    [
        ('"2026-11-20"', "pass", 7.5),
        ("2026-08-30", "pass", 89.5),  # still normal
        ("2026-08-29", "warn", 90.5),  # half a day past the threshold
        ('"2026-06-02"', "warn", 178.5),
        ('"2025-06-01"', "fail", 544.5),
    ],
)
def test_data_as_of_ages_the_data_file_and_a_stale_one_warns(
    tmp_path: Path, as_of: str, status: str, days: float
) -> None:
    (result,) = staleness(tmp_path, as_of)
    assert (result["status"], result["observed"]) == (status, days)
    assert result["evidence"]["runtimes as of"] == as_of.strip('"')


def test_data_as_of_that_is_not_a_date_is_an_error(tmp_path: Path) -> None:
    (result,) = staleness(tmp_path, '"June 2026"')
    assert result["status"] == "error"
    assert "is not a timestamp" in result["message"]


def test_data_as_of_a_table_without_as_of_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="records no as_of date"):
        staleness(tmp_path, None)


def test_data_as_of_an_inline_table_or_an_unknown_one_is_refused(tmp_path: Path) -> None:
    inline = STALENESS.replace(
        "runtimes: data/runtimes.yaml", "runtimes: {python3.12: {deprecated: x}}"
    )
    with pytest.raises(InputError, match="records no as_of date"):
        staleness(tmp_path, '"2026-06-02"', inline)
    unknown = STALENESS.replace("data_as_of: runtimes", "data_as_of: runtime")
    with pytest.raises(InputError, match="no data table named 'runtime'"):
        staleness(tmp_path, '"2026-06-02"', unknown)


ERRORS_KEY = "AWS/Lambda/Errors:Sum:FunctionName={name}:86400s/86400s:sum"
CALLS_KEY = "AWS/Lambda/Invocations:Sum:FunctionName={name}:86400s/86400s:sum"
WORST_KEY = "AWS/Lambda/Errors:Sum:FunctionName={name}:86400s/3600s:max"

WITH_EVIDENCE = (
    HEAD
    + """    resource: aws.lambda.function
    metrics:
      worst: {namespace: AWS/Lambda, metric: Errors, stat: Sum, dimensions: {FunctionName: "{name}"}, period_minutes: 60, reduce: max}
      errors: {namespace: AWS/Lambda, metric: Errors, stat: Sum, dimensions: {FunctionName: "{name}"}}
      calls: {namespace: AWS/Lambda, metric: Invocations, stat: Sum, dimensions: {FunctionName: "{name}"}}
    value: {metric: worst}
    levels: {normal: "< 1", warn: ">= 1", fail: "> 10"}
EVIDENCE"""
)
EVIDENCE = """    evidence:
      whole-window rate: {ratio: {numerator: {metric: errors}, denominator: {metric: calls}}, unit: "%"}
      runtime: Runtime
"""


def lambda_fn(metrics: dict[str, Any], data: dict[str, Any] | None = None) -> dict[str, Any]:
    return resource("aws.lambda.function", "f", data or {"Runtime": "python3.12"}, metrics=metrics)


def with_and_without_evidence(
    tmp_path: Path, fn: dict[str, Any], **kw: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    doc = snapshot_doc([fn], **kw)
    (shown,) = run(tmp_path, WITH_EVIDENCE.replace("EVIDENCE", EVIDENCE), doc)
    (plain,) = run(tmp_path, WITH_EVIDENCE.replace("EVIDENCE", ""), doc)
    return shown, plain


def test_an_evidence_value_appears_as_the_ratio_in_percent(tmp_path: Path) -> None:
    shown, plain = with_and_without_evidence(
        tmp_path, lambda_fn({WORST_KEY: 0, ERRORS_KEY: 5, CALLS_KEY: 200})
    )
    assert shown["evidence"]["whole-window rate"] == 2.5
    assert shown["evidence"]["runtime"] == "python3.12"
    assert (
        (shown["status"], shown["message"], shown["observed"])
        == (
            plain["status"],
            plain["message"],
            plain["observed"],
        )
        == ("pass", "0 is in the normal range", 0)
    )


def test_an_evidence_ratio_over_a_zero_denominator_is_no_data(tmp_path: Path) -> None:
    shown, plain = with_and_without_evidence(
        tmp_path, lambda_fn({WORST_KEY: 12, ERRORS_KEY: 12, CALLS_KEY: 0})
    )
    assert shown["evidence"]["whole-window rate"] == "no data"
    assert (shown["status"], shown["message"]) == (plain["status"], plain["message"])
    assert shown["status"] == "fail"


@pytest.mark.parametrize(
    "metrics",
    [
        {WORST_KEY: 0},  # errors and calls not collected
        {WORST_KEY: 0, ERRORS_KEY: None, CALLS_KEY: 10},
        {WORST_KEY: 0, ERRORS_KEY: 1e9, CALLS_KEY: 1},
    ],
    ids=["uncollected", "no-data", "huge"],
)
def test_an_evidence_value_never_changes_the_status(
    tmp_path: Path, metrics: dict[str, Any]
) -> None:
    shown, plain = with_and_without_evidence(tmp_path, lambda_fn(metrics))
    assert (
        (shown["status"], shown["message"])
        == (plain["status"], plain["message"])
        == (
            "pass",
            "0 is in the normal range",
        )
    )
    assert "whole-window rate" in shown["evidence"]


def test_an_evidence_value_is_kept_beside_an_undecided_result(tmp_path: Path) -> None:
    # The judged figure was not collected: error, with the evidence figure still shown.
    shown, plain = with_and_without_evidence(tmp_path, lambda_fn({ERRORS_KEY: 1, CALLS_KEY: 4}))
    assert shown["status"] == plain["status"] == "error"
    assert shown["message"] == plain["message"]
    assert shown["evidence"]["whole-window rate"] == 25


def test_an_evidence_value_cannot_rescue_no_data(tmp_path: Path) -> None:
    shown, plain = with_and_without_evidence(
        tmp_path, lambda_fn({WORST_KEY: None, ERRORS_KEY: 0, CALLS_KEY: 100})
    )
    assert shown["status"] == plain["status"] == "error"
    assert shown["observed"] == "no data"
    assert shown["evidence"]["whole-window rate"] == 0
