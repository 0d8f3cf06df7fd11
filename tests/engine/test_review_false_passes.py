"""An adversarial review of the last two commits: inputs that try to make the engine pass wrongly.

Each ``xfail(strict=True)`` test is a defect found: the rule text and snapshot give ``pass`` (or
a silent miss) where the data does not support it; the test asserts the fail-closed answer and
turns into an unexpected pass (a failure, being strict) once the defect is fixed. Every other
test is an attack that the code resists, kept so the file documents what was tried.

Scope: related resources (name/from/referenced_by/where, account and region), quantifiers and
operands over related resources, per-account names and when_none, the collected_keys refusal,
prefix-limited listings, the planner's selectors and prefixes, what reads.py attributes to a
rule, values (max_of, scale on numeric text, levels) and ``replaces``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.planner import build_plan
from runbook_guard.engine.reads import ALL, top_level_keys
from runbook_guard.engine.results import build_results
from runbook_guard.engine.snapshot import Snapshot
from tests.engine.builders import (
    ACCOUNT,
    NOW,
    REGION,
    compile_text,
    resource,
    run,
    snapshot_doc,
    statuses,
)

OTHER_ACCOUNT = "210987654321"
OTHER_REGION = "eu-west-1"
QUEUE = "aws.sqs.queue"
FUNCTION = "aws.lambda.function"
ALARM = "aws.cloudwatch.alarm"

HEAD = """
rules:
  - id: review
    title: adversarial review
    covers: [RB-I08]
    section: Incident
    cadence: daily
    severity: high
"""


def rule(body: str) -> str:
    """One rule: the shared header plus the given body (indented four spaces)."""
    return HEAD + body


# --- envelopes ------------------------------------------------------------------------------


def queue_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"


def function_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def queue(
    name: str,
    attributes: dict[str, Any] | None = None,
    *,
    account: str = ACCOUNT,
    region: str = REGION,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = data if data is not None else {"Attributes": attributes or {}}
    return resource(
        QUEUE, name, body, id=queue_arn(name, account, region), account=account, region=region
    )


def function(
    name: str, data: dict[str, Any], *, account: str = ACCOUNT, region: str = REGION
) -> dict[str, Any]:
    return resource(
        FUNCTION, name, data, id=function_arn(name, account, region), account=account, region=region
    )


def consumer(name: str, source_arn: str, **data: Any) -> dict[str, Any]:
    """A function with one event source mapping reading ``source_arn``."""
    return function(name, {"EventSourceMappings": [{"EventSourceArn": source_arn}], **data})


def alarm(
    name: str, queue_name: str, *, enabled: bool = True, region: str = REGION
) -> dict[str, Any]:
    return resource(
        ALARM,
        name,
        {"Dimensions": [{"Name": "QueueName", "Value": queue_name}], "ActionsEnabled": enabled},
        id=f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{name}",
        region=region,
    )


def call_failed(rid: str, keys: list[str], rtype: str, operation: str) -> dict[str, Any]:
    """A collection error for one resource, leaving ``keys`` of its data absent."""
    service = rtype.split(".")[1]
    return {
        "service": service,
        "operation": operation,
        "region": REGION,
        "account": ACCOUNT,
        "resource": rid,
        "resource_type": rtype,
        "data_keys": keys,
        "iam_action": f"{service}:{operation}",
        "code": "AccessDenied",
        "message": "not authorized",
    }


def schema_2(
    doc: dict[str, Any],
    *,
    keys: dict[str, list[str]] | None = None,
    prefixes: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A field-level (schema 2) snapshot: collected keys per type, prefix-limited listings."""
    doc["schema_version"] = 2
    if keys is not None:
        doc["metadata"]["collected_keys"] = keys
    for entry in doc["coverage"]:
        if prefixes and entry["type"] in prefixes:
            entry["prefixes"] = prefixes[entry["type"]]
    return doc


def plan_of(tmp_path: Path, text: str) -> Any:
    policy_set, rules = compile_text(tmp_path, text)
    return build_plan(rules, policy_set.effective_parameters({}))


def selecting(pattern: str) -> str:
    return rule(f"""
    resource: aws.sqs.queue
    select: {{name_matches: {json.dumps(pattern)}}}
    expect: {{path: Attributes.VisibilityTimeout, ge: 30}}
""")


# =============================================================================================
# DEFECTS (strict xfail: each turns into a failure once fixed, so the marker must then go)
# =============================================================================================

# --- D1. planner: a "literal prefix" that the pattern does not require ----------------------


@pytest.mark.parametrize(
    ("pattern", "selected_name"),
    [
        ("^agenticai-workers?$", "agenticai-worker"),
        ("^ab?", "a-queue"),
        ("^ab*", "a-queue"),
        ("^ab{0,1}", "a-queue"),
        (r"^agenticai\.?dlq", "agenticaidlq"),
        ("^prod-api|^prod-worker", "prod-worker-1"),
        ("^abc|xyz", "my-xyz"),
    ],
)
def test_prefixes_cover_every_name_the_pattern_selects(
    tmp_path: Path, pattern: str, selected_name: str
) -> None:
    plan = plan_of(tmp_path, selecting(pattern))
    prefixes = plan.types[QUEUE].prefixes
    _, (compiled,) = compile_text(tmp_path, selecting(pattern))
    assert compiled.name_selected(selected_name)  # the rule selects it ...
    # ... so the listing must include it: no prefixes (list all), or one it starts with.
    assert prefixes is None or any(selected_name.startswith(p) for p in prefixes)


# --- D2. engine: a prefix-limited listing judged by a rule it was not limited for -----------


@pytest.mark.parametrize("select", ["", 'select: {name_matches: "^other-"}'])
def test_a_prefix_limited_listing_does_not_answer_a_wider_selection(
    tmp_path: Path, select: str
) -> None:
    text = rule(f"""
    resource: aws.sqs.queue
    {select}
    expect: {{path: Attributes.RedrivePolicy, exists: true}}
""")
    doc = schema_2(
        snapshot_doc([queue("agenticai-a", {"RedrivePolicy": "{}"})]),
        keys={QUEUE: ["Attributes"]},
        prefixes={QUEUE: ["agenticai-"]},
    )
    found = statuses(run(tmp_path, text, doc))
    # other-b (no redrive policy) may exist: the listing never asked for it.
    assert "error" in found.values()
    assert "pass" not in found.values()


def test_referenced_by_over_a_prefix_limited_listing_is_not_the_whole_set(tmp_path: Path) -> None:
    text = rule("""
    resource: aws.sqs.queue
    related:
      consumers: {type: aws.lambda.function, referenced_by: "EventSourceMappings[].EventSourceArn"}
    expect:
      related: consumers
      all_items: {path: Timeout, le: 30}
""")
    doc = schema_2(
        snapshot_doc(
            [
                queue("agenticai-q", {"VisibilityTimeout": "60"}),
                consumer("agenticai-fn", queue_arn("agenticai-q"), Timeout=10),
            ]
        ),
        prefixes={FUNCTION: ["agenticai-"]},
    )
    found = statuses(run(tmp_path, text, doc))
    assert "error" in found.values()
    assert "pass" not in found.values()


# --- D3. a resource listed but never detailed: collected_keys is per type, not per resource --


def test_a_resource_the_collection_did_not_detail_does_not_pass_on_absence(
    tmp_path: Path,
) -> None:
    text = rule("""
    resource: aws.sqs.queue
    select: {name_matches: "^other-"}
    expect: {path: Attributes.Policy, absent: true, message: the queue has a resource policy}
""")
    doc = schema_2(
        snapshot_doc(
            [
                queue("app-a", data={"QueueUrl": "https://q/app-a", "Attributes": {}}),
                queue("other-b", data={"QueueUrl": "https://q/other-b"}),  # listed only
            ]
        ),
        keys={QUEUE: ["Attributes", "QueueUrl"]},
    )
    found = statuses(run(tmp_path, text, doc))
    assert "error" in found.values()
    assert "pass" not in found.values()


# --- D4. a rule reading the whole resource (@) is never refused -----------------------------


def test_a_rule_reading_every_key_is_refused_on_a_partial_collection(tmp_path: Path) -> None:
    text = rule("""
    resource: aws.sqs.queue
    expect: {not: {path: "keys(@)", contains: Attributes}}
""")
    doc = schema_2(
        snapshot_doc([queue("q", data={"QueueUrl": "https://q/q"})]), keys={QUEUE: ["QueueUrl"]}
    )
    assert statuses(run(tmp_path, text, doc)) == {"(rule)": "error"}


# --- D5. a related operand with a default ignores the target's failed call ------------------

OPERAND_WITH_DEFAULT = rule("""
    resource: aws.sqs.queue
    related:
      consumers: {type: aws.lambda.function, referenced_by: "EventSourceMappings[].EventSourceArn"}
    expect:
      path: Attributes.VisibilityTimeout
      ge: {related: consumers, path: "data.Timeout || `3`"}
""")


def test_a_defaulting_related_operand_does_not_hide_a_failed_call(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [queue("q", {"VisibilityTimeout": 30}), consumer("fn", queue_arn("q"))],
        errors=[call_failed(function_arn("fn"), ["Timeout"], FUNCTION, "GetFunctionConfiguration")],
    )
    assert statuses(run(tmp_path, OPERAND_WITH_DEFAULT, doc)) == {"q": "error"}


# --- D6. reads.py misses keys a rule reads (the planner skips the call; no refusal follows) --


def test_an_operand_path_inside_a_function_is_planned_and_refused(tmp_path: Path) -> None:
    text = rule("""
    resource: aws.sqs.queue
    related:
      consumers: {type: aws.lambda.function, referenced_by: "EventSourceMappings[].EventSourceArn"}
    expect:
      path: Attributes.VisibilityTimeout
      ge: {related: consumers, path: "not_null(data.Timeout, `3`)"}
""")
    doc = schema_2(
        snapshot_doc([queue("q", {"VisibilityTimeout": 30}), consumer("fn", queue_arn("q"))]),
        keys={QUEUE: ["Attributes"], FUNCTION: ["EventSourceMappings", "FunctionName"]},
    )
    with pytest.raises(InputError, match="a related path is id, name, region, account or data"):
        run(tmp_path, text, doc)


@pytest.mark.parametrize(
    ("expect", "target", "key"),
    [
        (
            "{path: Triggers, all_items: {path: Seconds, ge: {related: fn, path: data.Timeout}}}",
            FUNCTION,
            "Timeout",
        ),
        (
            "{path: Triggers, all_items: {related: alarms, any_item: {path: ActionsEnabled, equals: true}}}",
            ALARM,
            "ActionsEnabled",
        ),
    ],
)
def test_reads_attributes_nested_related_reads_to_the_target(
    tmp_path: Path, expect: str, target: str, key: str
) -> None:
    text = rule(f"""
    resource: aws.sqs.queue
    related:
      fn: {{type: aws.lambda.function, referenced_by: "EventSourceMappings[].EventSourceArn"}}
      alarms: {{type: aws.cloudwatch.alarm, referenced_by: "Dimensions[].Value", key: name}}
    expect: {expect}
""")
    _, (compiled,) = compile_text(tmp_path, text)
    assert key in compiled.reads.get(target, set())


# --- D7. when_missing of the first alias decides, whatever the others say -------------------


def two_aliases(consumers_first: bool) -> str:
    consumers = (
        "      consumers: {type: aws.lambda.function, "
        'referenced_by: "EventSourceMappings[].EventSourceArn", when_missing: pass}\n'
    )
    dlq = '      dlq: {type: aws.sqs.queue, name: "app-dlq"}\n'
    aliases = consumers + dlq if consumers_first else dlq + consumers
    return rule(
        """
    resource: aws.sqs.queue
    select: {names: [app-queue]}
    related:
"""
        + aliases
        + """    expect:
      all:
        - {related: dlq, all_items: {path: Attributes.MessageRetentionPeriod, ge: 1209600}}
        - {path: Attributes.VisibilityTimeout, ge: {related: consumers, path: data.Timeout}}
"""
    )


def test_the_status_of_missing_aliases_does_not_depend_on_their_order(tmp_path: Path) -> None:
    doc = snapshot_doc([queue("app-queue", {"VisibilityTimeout": 30})], types=[FUNCTION])
    first = statuses(run(tmp_path, two_aliases(consumers_first=True), doc))
    second = statuses(run(tmp_path, two_aliases(consumers_first=False), doc))
    assert second == {"app-queue": "fail"}  # today's answer with the DLQ first
    assert first == second


# --- D8. replaces naming a live rule takes its waivers --------------------------------------

REPLACES_LIVE = """
rules:
  - id: a.new
    title: a rule claiming to replace a rule that still exists
    covers: [RB-I08]
    section: Incident
    cadence: daily
    severity: high
    replaces: [b.live]
    resource: aws.sqs.queue
    expect: {path: Attributes.A, equals: "1"}
  - id: b.live
    title: the rule the waiver was written for
    covers: [RB-I08]
    section: Incident
    cadence: daily
    severity: high
    resource: aws.sqs.queue
    expect: {path: Attributes.B, equals: "1"}
"""


def test_replaces_cannot_take_over_a_live_rules_waiver(tmp_path: Path) -> None:
    try:
        policy_set, rules = compile_text(tmp_path, REPLACES_LIVE)
    except InputError:
        return  # refused at load time: fixed
    doc = snapshot_doc([queue("q", {"A": "0", "B": "0"})])
    waiver = {
        "id": "w1",
        "rule": "b.live",
        "resource": "q",
        "owner": "team",
        "reason": "accepted for b.live only",
        "expires": "2027-12-31",
    }
    report = build_results(policy_set, rules, Snapshot(doc), {}, NOW, [waiver])
    by_rule = {r["rule"]: r["status"] for r in report["results"]}
    assert by_rule["a.new"] == "fail"


# --- D9. a value that is not a number is classified as one ----------------------------------


@pytest.mark.parametrize(
    ("value", "levels"),
    [
        ("NaN", '{warn: "> 100", fail: "> 1000"}'),
        (float("nan"), '{warn: "> 100", fail: "> 1000"}'),
        (False, '{normal: "< 1", fail: "> 1000"}'),
    ],
)
def test_a_value_that_is_not_a_number_is_an_error(tmp_path: Path, value: Any, levels: str) -> None:
    text = rule(f"""
    resource: aws.sqs.queue
    value: {{path: Attributes.ApproximateNumberOfMessages, unit: messages}}
    levels: {levels}
""")
    doc = snapshot_doc([queue("q", {"ApproximateNumberOfMessages": value})])
    assert statuses(run(tmp_path, text, doc)) == {"q": "error"}


# =============================================================================================
# ATTACKS RESISTED
# =============================================================================================

# --- related by name: another account's or region's DLQ -------------------------------------

DLQ_BY_NAME = rule("""
    resource: aws.sqs.queue
    select: {names: [app-queue]}
    related:
      dlq: {type: aws.sqs.queue, name: app-dlq}
    expect:
      related: dlq
      all_items: {path: Attributes.MessageRetentionPeriod, ge: 1209600}
""")


@pytest.mark.parametrize(
    ("account", "region"),
    [(OTHER_ACCOUNT, REGION), (ACCOUNT, OTHER_REGION)],
    ids=["account", "region"],
)
def test_a_dlq_of_another_account_or_region_does_not_count(
    tmp_path: Path, account: str, region: str
) -> None:
    good = queue("app-dlq", {"MessageRetentionPeriod": 1209600}, account=account, region=region)
    doc = snapshot_doc([queue("app-queue"), good])
    assert statuses(run(tmp_path, DLQ_BY_NAME, doc)) == {"app-queue": "fail"}


def test_when_missing_is_not_undone_by_not(tmp_path: Path) -> None:
    text = rule("""
    resource: aws.sqs.queue
    select: {names: [app-queue]}
    related:
      dlq: {type: aws.sqs.queue, name: app-dlq}
    expect:
      not: {related: dlq, any_item: {path: Attributes.MessageRetentionPeriod, lt: 1209600}}
""")
    doc = snapshot_doc([queue("app-queue")])
    assert statuses(run(tmp_path, text, doc)) == {"app-queue": "fail"}


# --- from: odd values and ARN prefixes ------------------------------------------------------

REDRIVE_FROM = rule("""
    resource: aws.sqs.queue
    select: {names: [app-queue]}
    related:
      target: {type: aws.sqs.queue, from: Attributes.RedrivePolicy.deadLetterTargetArn}
    expect:
      related: target
      all_items: {path: Attributes.MessageRetentionPeriod, ge: 1209600}
""")


@pytest.mark.parametrize(
    "target",
    [
        queue_arn("queue-1"),  # only queue-10 exists
        queue_arn("queue-10"),  # only queue-1 exists
        queue_arn("queue-1", account=OTHER_ACCOUNT),
        123,
        "",
        None,
        [],
        [None],
        [queue_arn("good-dlq"), None],
        {"arn": queue_arn("good-dlq")},
    ],
    ids=repr,
)
def test_from_with_an_odd_or_near_miss_target_fails(tmp_path: Path, target: Any) -> None:
    doc = snapshot_doc(
        [
            queue("app-queue", {"RedrivePolicy": {"deadLetterTargetArn": target}}),
            queue("queue-10" if target == queue_arn("queue-1") else "queue-1"),
            queue("good-dlq", {"MessageRetentionPeriod": 1209600}),
            queue("queue-1", {"MessageRetentionPeriod": 1209600}, account=OTHER_ACCOUNT),
        ]
    )
    found = statuses(run(tmp_path, REDRIVE_FROM, doc))["app-queue"]
    assert found != "pass"


def test_from_control_the_queues_own_good_dlq_passes(tmp_path: Path) -> None:
    # The attacks above differ from this only in the target: they fail for the right reason.
    doc = snapshot_doc(
        [
            queue("app-queue", {"RedrivePolicy": {"deadLetterTargetArn": queue_arn("good-dlq")}}),
            queue("good-dlq", {"MessageRetentionPeriod": 1209600}),
        ]
    )
    assert statuses(run(tmp_path, REDRIVE_FROM, doc)) == {"app-queue": "pass"}


# --- referenced_by: ARN prefixes, the index cache across regions and rules ------------------


def test_a_mapping_of_queue_10_is_not_a_consumer_of_queue_1(tmp_path: Path) -> None:
    text = rule("""
    resource: aws.sqs.queue
    select: {names: [queue-1]}
    related:
      consumers: {type: aws.lambda.function, referenced_by: "EventSourceMappings[].EventSourceArn"}
    expect:
      related: consumers
      any_item: {path: Timeout, le: 30}
""")
    doc = snapshot_doc(
        [queue("queue-1"), queue("queue-10"), consumer("fn", queue_arn("queue-10"), Timeout=10)]
    )
    assert statuses(run(tmp_path, text, doc)) == {"queue-1": "fail"}


ALARMED = """
  - id: {id}
    title: an alarm watches the queue
    covers: [RB-I08]
    section: Incident
    cadence: daily
    severity: high
    resource: aws.sqs.queue
    related:
      alarms: {{type: aws.cloudwatch.alarm, referenced_by: "Dimensions[].Value", key: name{where}}}
    expect:
      related: alarms
      any_item: {{path: Dimensions, not_empty: true}}
"""


def test_the_referenced_by_index_is_per_region_and_each_rule_keeps_its_where(
    tmp_path: Path,
) -> None:
    text = (
        "rules:"
        + ALARMED.format(id="a.any", where="")
        + ALARMED.format(id="b.enabled", where=", where: {path: ActionsEnabled, equals: true}")
    )
    doc = snapshot_doc(
        [
            queue("q"),
            queue("q", region=OTHER_REGION),
            alarm("q-depth", "q", enabled=False),  # us-east-1 only, actions disabled
        ]
    )
    policy_set, rules = compile_text(tmp_path, text)
    results = evaluate_rules(rules, Snapshot(doc), NOW, policy_set.tables)
    found = {(r["rule"], r["resource"]["region"]): r["status"] for r in results}
    assert found == {
        ("a.any", REGION): "pass",
        ("a.any", OTHER_REGION): "fail",  # the us-east-1 alarm does not watch eu-west-1's q
        ("b.enabled", REGION): "fail",  # the cached index does not carry a.any's answer
        ("b.enabled", OTHER_REGION): "fail",
    }


# --- quantifiers and operands over related resources with undecided targets -----------------

CONSUMERS = """
    resource: aws.sqs.queue
    related:
      consumers: {type: aws.lambda.function, referenced_by: "EventSourceMappings[].EventSourceArn"}
    expect: %s
"""


@pytest.mark.parametrize(
    "expect",
    [
        "{related: consumers, any_item: {path: Timeout, gt: 60}}",
        "{not: {related: consumers, any_item: {path: Timeout, gt: 60}}}",
        "{related: consumers, all_items: {path: Timeout, le: 60}}",
        "{path: Attributes.VisibilityTimeout, ge: {related: consumers, path: data.Timeout}}",
        "{not: {path: Attributes.VisibilityTimeout, lt: {related: consumers, path: data.Timeout}}}",
    ],
)
def test_a_consumer_whose_timeout_was_denied_leaves_the_answer_undecided(
    tmp_path: Path, expect: str
) -> None:
    doc = snapshot_doc(
        [
            queue("q", {"VisibilityTimeout": 90}),
            consumer("fast", queue_arn("q"), Timeout=10),
            consumer("denied", queue_arn("q")),
        ],
        errors=[
            call_failed(function_arn("denied"), ["Timeout"], FUNCTION, "GetFunctionConfiguration")
        ],
    )
    assert statuses(run(tmp_path, rule(CONSUMERS % expect), doc)) == {"q": "error"}


def test_an_operand_over_no_consumers_is_undecided_even_under_not(tmp_path: Path) -> None:
    expect = (
        "{not: {path: Attributes.VisibilityTimeout, lt: {related: consumers, path: data.Timeout}}}"
    )
    doc = snapshot_doc([queue("q", {"VisibilityTimeout": 90})], types=[FUNCTION])
    assert statuses(run(tmp_path, rule(CONSUMERS % expect), doc)) == {"q": "error"}


def test_a_referenced_by_field_a_failed_call_left_absent_is_not_no_consumer(
    tmp_path: Path,
) -> None:
    expect = "{not: {related: consumers, any_item: {path: Timeout, gt: 60}}}"
    doc = snapshot_doc(
        [queue("q", {"VisibilityTimeout": 90}), function("hidden", {"Timeout": 900})],
        errors=[
            call_failed(
                function_arn("hidden"), ["EventSourceMappings"], FUNCTION, "ListEventSourceMappings"
            )
        ],
    )
    assert statuses(run(tmp_path, rule(CONSUMERS % expect), doc)) == {"q": "error"}


def test_an_account_level_alarm_of_another_account_does_not_count(tmp_path: Path) -> None:
    text = rule("""
    resource: aws.sqs.queue
    related:
      account_alarms: {type: aws.cloudwatch.alarm, where: {path: "length(Dimensions)", equals: 0}}
    expect: {related: account_alarms, any_item: {path: ActionsEnabled, equals: true}}
""")
    other = resource(
        ALARM,
        "global-alarm",
        {"Dimensions": [], "ActionsEnabled": True},
        account=OTHER_ACCOUNT,
        region="global",
    )
    doc = snapshot_doc([queue("q"), other])
    assert statuses(run(tmp_path, text, doc)) == {"q": "fail"}


# --- values ---------------------------------------------------------------------------------

MAX_OF = rule("""
    resource: aws.sqs.queue
    metrics:
      a: {namespace: AWS/SQS, metric: NumberOfMessagesSent, stat: Sum, dimensions: {QueueName: "{name}"}}
      b: {namespace: AWS/SQS, metric: NumberOfMessagesDeleted, stat: Sum, dimensions: {QueueName: "{name}"}}
    value: {max_of: [{metric: a}, {metric: b}], unit: messages}
    levels: {warn: "> 100", fail: "> 1000"}
""")


def _metric_keys(tmp_path: Path) -> dict[str, str]:
    _, (compiled,) = compile_text(tmp_path, MAX_OF)
    return {name: query.key for name, query in compiled.metrics.items()}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(None, 5000, "fail"), (5000, None, "fail"), (None, None, "error"), ("5000", 3, "fail")],
)
def test_max_of_does_not_let_no_data_hide_a_real_value(
    tmp_path: Path, a: Any, b: Any, expected: str
) -> None:
    keys = _metric_keys(tmp_path)
    envelope = resource(QUEUE, "q", {}, id=queue_arn("q"), metrics={keys["a"]: a, keys["b"]: b})
    doc = snapshot_doc([envelope])
    assert statuses(run(tmp_path, MAX_OF, doc)) == {"q": expected}


@pytest.mark.parametrize(("text", "expected"), [("5", "fail"), ("0.5", "pass"), ("lots", "error")])
def test_scale_applies_to_numeric_text_and_refuses_other_text(
    tmp_path: Path, text: str, expected: str
) -> None:
    body = rule("""
    resource: aws.sqs.queue
    value: {path: Attributes.Ratio, unit: "%", scale: 100}
    levels: {warn: "> 100", fail: "> 200"}
""")
    doc = snapshot_doc([queue("q", {"Ratio": text})])
    assert statuses(run(tmp_path, body, doc)) == {"q": expected}


# --- reads: every place a key can hide is attributed to the right type ----------------------


def test_reads_finds_keys_in_every_documented_place(tmp_path: Path) -> None:
    text = """
data:
  ages: {as_of: "2026-01-01", source: review, entries: {python3.12: {eol: "2028-10-01"}}}
rules:
  - id: review
    title: adversarial review
    covers: [RB-I08]
    section: Incident
    cadence: daily
    severity: high
    resource: aws.lambda.function
    select: {where: {path: Tags.env, equals: prod, label: environment}}
    related:
      alarms:
        type: aws.cloudwatch.alarm
        referenced_by: "Dimensions[].Value"
        key: name
        where: {path: ActionsEnabled, equals: true}
      role: {type: aws.iam.user, from: Owner.Arn}
    metrics:
      m:
        namespace: AWS/Lambda
        metric: Errors
        stat: Sum
        dimensions: {FunctionName: "{name}", Alias: "{each:Aliases[].Name}"}
        per: {metric: Invocations, dimensions: {FunctionName: "{name}", V: "{each:Versions[].Version}"}}
        period_minutes: 60
    expect:
      all:
        - {path: Layers, not_empty: true, if_absent: [], label: layers}
        - {related: alarms, any_item: {path: Threshold, le: 5}}
    value:
      max_of:
        - {days_since: {path: LastModified}}
        - {days_until: {lookup: {table: ages, key: {path: Runtime}, field: eol}}}
    levels: {fail: "> 365"}
    evidence:
      who: Owner.Name
      rate: {ratio: {numerator: {path: Counts.errors}, denominator: {metric: m}}}
      thresholds: {related: alarms, path: data.AlarmActions}
"""
    _, (compiled,) = compile_text(tmp_path, text)
    assert {
        "Tags",
        "Owner",
        "Aliases",
        "Versions",
        "Layers",
        "LastModified",
        "Runtime",
        "Counts",
    } <= compiled.reads[FUNCTION]
    assert {"Dimensions", "ActionsEnabled", "Threshold", "AlarmActions"} <= compiled.reads[ALARM]


@pytest.mark.parametrize(
    ("expression", "keys"),
    [
        ('"Attributes"."RedrivePolicy"', {"Attributes"}),
        ("Tags[?Key=='env'] | [0].Value", {"Tags"}),
        ("sort_by(Backups, &CreationDate)[-1].Status", {"Backups"}),
        ("[?State=='Enabled']", {ALL}),
        ("@.Timeout", {ALL}),
        ("!Enabled", {"Enabled"}),
        ("not_null(A, B.C, `1`)", {"A", "B"}),
    ],
)
def test_top_level_keys_of_tricky_expressions(expression: str, keys: set[str]) -> None:
    assert top_level_keys(expression) == keys


# --- the planner's selectors and prefixes ---------------------------------------------------


def test_a_where_on_a_detail_key_never_drops_a_listed_resource(tmp_path: Path) -> None:
    text = rule("""
    resource: aws.sqs.queue
    select: {where: {path: Attributes.FifoQueue, equals: "true"}}
    expect: {path: Attributes.ContentBasedDeduplication, equals: "true"}
""")
    (selector,) = plan_of(tmp_path, text).types[QUEUE].selectors
    listing = frozenset({"QueueUrl"})
    assert selector.accepts("orders.fifo", {"QueueUrl": "https://q/o"}, listing)


@pytest.mark.parametrize(
    ("where", "listed"),
    [
        ("{path: Tags.env, equals: prod}", {}),  # absent from this listing: undecided, kept
        ("{path: Tags.env, equals: prod}", {"Tags": {"env": "prod"}}),
        ("{path: CreatedTimestamp, older_than: 30}", {"CreatedTimestamp": "2099-01-01"}),
    ],
)
def test_a_listing_where_drops_only_what_it_decides_false(
    tmp_path: Path, where: str, listed: dict[str, Any]
) -> None:
    text = rule(f"""
    resource: aws.sqs.queue
    select: {{where: {where}}}
    expect: {{path: Attributes.VisibilityTimeout, ge: 30}}
""")
    (selector,) = plan_of(tmp_path, text).types[QUEUE].selectors
    assert selector.accepts("q", listed, frozenset({"Tags", "CreatedTimestamp"}))


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        ("^agenticai.*", "agenticai-x"),
        ("^(a|b)", "b-queue"),
        ("^a+", "aaa"),
        (r"^a\.b", "a.b-queue"),
        ("^a[bc]", "ac-queue"),
        ("(?i)^abc", "ABC-queue"),
        ("agenticai$", "my-agenticai"),
        ("^/aws/lambda/agenticai", "/aws/lambda/agenticai-fn"),
    ],
)
def test_prefixes_of_patterns_that_are_handled(tmp_path: Path, pattern: str, name: str) -> None:
    prefixes = plan_of(tmp_path, selecting(pattern)).types[QUEUE].prefixes
    assert prefixes is None or any(name.startswith(p) for p in prefixes)


def test_a_rule_without_a_name_selection_lists_everything(tmp_path: Path) -> None:
    text = (
        selecting("^agenticai")
        + """
  - id: review.all
    title: every queue
    covers: [RB-I08]
    section: Incident
    cadence: daily
    severity: high
    resource: aws.sqs.queue
    expect: {path: Attributes.VisibilityTimeout, ge: 30}
"""
    )
    assert plan_of(tmp_path, text).types[QUEUE].prefixes is None


def test_a_target_found_by_a_field_lists_its_whole_type(tmp_path: Path) -> None:
    text = rule("""
    resource: aws.sqs.queue
    select: {names: [agenticai-q]}
    related:
      target: {type: aws.sqs.queue, from: Attributes.RedrivePolicy.deadLetterTargetArn}
    expect: {related: target, all_items: {path: Attributes.MessageRetentionPeriod, ge: 1}}
""")
    assert plan_of(tmp_path, text).types[QUEUE].prefixes is None


# --- prefix-limited listings: a name outside them is unknown, not missing -------------------


def test_a_named_resource_outside_the_listed_prefixes_is_an_error(tmp_path: Path) -> None:
    text = rule("""
    resource: aws.sqs.queue
    select: {names: [other-q]}
    expect: {path: Attributes.VisibilityTimeout, ge: 30}
""")
    doc = schema_2(snapshot_doc([queue("agenticai-q")]), prefixes={QUEUE: ["agenticai-"]})
    found = statuses(run(tmp_path, text, doc))
    assert set(found.values()) == {"error"}  # never "fail: does not exist"


def test_a_related_dlq_outside_the_listed_prefixes_is_an_error(tmp_path: Path) -> None:
    text = rule("""
    resource: aws.sqs.queue
    select: {names: [agenticai-q]}
    related:
      dlq: {type: aws.sqs.queue, name: other-dlq}
    expect: {not: {related: dlq, any_item: {path: Attributes.MessageRetentionPeriod, lt: 1}}}
""")
    doc = schema_2(snapshot_doc([queue("agenticai-q")]), prefixes={QUEUE: ["agenticai-"]})
    found = statuses(run(tmp_path, text, doc))
    assert "error" in found.values()
    assert "pass" not in found.values()


# --- collected_keys: a key the snapshot never asked for ------------------------------------


@pytest.mark.parametrize(
    "expect",
    [
        "{path: Attributes.Policy, absent: true}",
        "{path: Attributes.Policy, equals: x, if_absent: x}",
        "{not: {path: Attributes, exists: true}}",
    ],
)
def test_a_key_the_snapshot_never_collected_refuses_the_rule(tmp_path: Path, expect: str) -> None:
    text = rule(f"""
    resource: aws.sqs.queue
    expect: {expect}
""")
    doc = schema_2(snapshot_doc([queue("q", data={"QueueUrl": "u"})]), keys={QUEUE: ["QueueUrl"]})
    assert statuses(run(tmp_path, text, doc)) == {"(rule)": "error"}


def test_a_target_key_only_a_related_where_reads_is_refused(tmp_path: Path) -> None:
    text = rule("""
    resource: aws.sqs.queue
    related:
      alarms:
        type: aws.cloudwatch.alarm
        referenced_by: "Dimensions[].Value"
        key: name
        where: {not: {path: ActionsSuppressor, exists: true}}
    expect: {related: alarms, any_item: {path: Dimensions, not_empty: true}}
""")
    doc = schema_2(
        snapshot_doc([queue("q"), alarm("q-depth", "q")]),
        keys={QUEUE: ["Attributes"], ALARM: ["Dimensions", "ActionsEnabled"]},
    )
    assert statuses(run(tmp_path, text, doc)) == {"(rule)": "error"}


# --- per-account names and when_none --------------------------------------------------------


def two_accounts(doc: dict[str, Any]) -> dict[str, Any]:
    doc["metadata"]["accounts"] = [ACCOUNT, OTHER_ACCOUNT]
    doc["coverage"] += [{**c, "account": OTHER_ACCOUNT} for c in doc["coverage"]]
    return doc


def test_one_accounts_match_does_not_stand_in_for_another(tmp_path: Path) -> None:
    text = rule("""
    resource: aws.sqs.queue
    select: {name_matches: "-dlq$"}
    when_none: fail
    expect: {path: Attributes.MessageRetentionPeriod, ge: 1}
""")
    doc = two_accounts(snapshot_doc([queue("app-dlq", {"MessageRetentionPeriod": 5})]))
    results = run(tmp_path, text, doc)
    found = {(r["resource"]["account"], r["status"]) for r in results}
    assert found == {(ACCOUNT, "pass"), (OTHER_ACCOUNT, "fail")}


def test_a_named_resource_must_exist_in_every_account(tmp_path: Path) -> None:
    text = rule("""
    resource: aws.sqs.queue
    select: {names: [app-dlq]}
    expect: {path: Attributes.MessageRetentionPeriod, ge: 1}
""")
    doc = two_accounts(snapshot_doc([queue("app-dlq", {"MessageRetentionPeriod": 5})]))
    results = run(tmp_path, text, doc)
    found = {(r["resource"]["account"], r["status"]) for r in results}
    assert found == {(ACCOUNT, "pass"), (OTHER_ACCOUNT, "fail")}
