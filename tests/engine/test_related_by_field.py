"""Related resources found by a field: ``from``, ``referenced_by`` (+ ``key``), ``where``.

Every test here tries to make the engine pass wrongly (another account's queue standing in for
this one's, a blocked call read as "no consumers", an absent field read as equal) and asserts
that it does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runbook_guard.engine.errors import InputError
from tests.engine.builders import ACCOUNT, REGION, resource, run, snapshot_doc, statuses

OTHER_ACCOUNT = "210987654321"
OTHER_REGION = "eu-west-1"

HEAD = """
rules:
  - id: rel
    title: related resources
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
    rid: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = data if data is not None else {"Attributes": attributes or {}}
    return resource(
        "aws.sqs.queue",
        name,
        body,
        id=rid or queue_arn(name, account, region),
        account=account,
        region=region,
    )


def redriving(name: str, target: Any, **extra: Any) -> dict[str, Any]:
    """A queue whose RedrivePolicy names ``target`` (None: a null RedrivePolicy)."""
    policy = None if target is None else {"deadLetterTargetArn": target, "maxReceiveCount": 5}
    return queue(name, {"RedrivePolicy": policy, "VisibilityTimeout": "30"}, **extra)


def dlq(name: str, retention: int = 1209600, **extra: Any) -> dict[str, Any]:
    return queue(name, {"MessageRetentionPeriod": str(retention)}, **extra)


def function(
    name: str,
    data: dict[str, Any] | None = None,
    *,
    account: str = ACCOUNT,
    region: str = REGION,
) -> dict[str, Any]:
    return resource(
        "aws.lambda.function",
        name,
        data if data is not None else {},
        id=function_arn(name, account, region),
        account=account,
        region=region,
    )


def consumer(
    name: str,
    source_arn: str,
    *,
    timeout: int | None = 30,
    state: str = "Enabled",
    account: str = ACCOUNT,
    region: str = REGION,
) -> dict[str, Any]:
    """A function with one event source mapping reading ``source_arn``."""
    data: dict[str, Any] = {
        "EventSourceMappings": [
            {
                "EventSourceArn": source_arn,
                "State": state,
                "FunctionArn": function_arn(name, account, region) + ":live",
            }
        ]
    }
    if timeout is not None:
        data["Timeout"] = timeout
    return function(name, data, account=account, region=region)


def alarm(
    name: str,
    queue_name: str | None,
    *,
    actions: list[str] | None = None,
    enabled: bool = True,
    account: str = ACCOUNT,
    region: str = REGION,
) -> dict[str, Any]:
    dimensions = [] if queue_name is None else [{"Name": "QueueName", "Value": queue_name}]
    return resource(
        "aws.cloudwatch.alarm",
        name,
        {
            "Namespace": "AWS/SQS",
            "Dimensions": dimensions,
            "ActionsEnabled": enabled,
            "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:alerts"]
            if actions is None
            else actions,
        },
        id=f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
        account=account,
        region=region,
    )


def call_failed(rid: str, keys: list[str], *, rtype: str, operation: str) -> dict[str, Any]:
    """A collection error for one resource, leaving ``keys`` of its data absent."""
    return {
        "service": rtype.split(".")[1],
        "operation": operation,
        "region": REGION,
        "account": ACCOUNT,
        "resource": rid,
        "resource_type": rtype,
        "data_keys": keys,
        "iam_action": f"{rtype.split('.')[1]}:{operation}",
        "code": "AccessDenied",
        "message": "not authorized",
    }


def incomplete(rtype: str, *also: str) -> list[dict[str, Any]]:
    """Coverage with ``rtype`` listed incompletely and the other types complete."""
    return [
        {"type": t, "account": ACCOUNT, "region": REGION, "complete": t != rtype}
        for t in sorted({rtype, *also})
    ]


def one(results: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [r for r in results if (r["resource"] or {}).get("name") == name]
    return found


# --- 1. from --------------------------------------------------------------------------------

REDRIVE_FROM = rule("""
    resource: aws.sqs.queue
    select: {name_matches: "-queue$"}
    related:
      target: {type: aws.sqs.queue, from: Attributes.RedrivePolicy.deadLetterTargetArn}
    expect:
      related: target
      all_items: {path: Attributes.MessageRetentionPeriod, ge: 1209600}
""")


def test_from_finds_the_queues_own_redrive_target_and_passes(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [redriving("app-queue", queue_arn("app-dlq")), dlq("app-dlq"), dlq("other-dlq", 60)]
    )
    results = run(tmp_path, REDRIVE_FROM, doc)
    assert statuses(results) == {"app-queue": "pass"}
    assert results[0]["evidence"]["related.target"] == queue_arn("app-dlq")


def test_from_judges_the_target_it_names_not_another_queue(tmp_path: Path) -> None:
    # The good DLQ exists too; the queue names the one with a short retention.
    doc = snapshot_doc(
        [redriving("app-queue", queue_arn("short-dlq")), dlq("app-dlq"), dlq("short-dlq", 60)]
    )
    assert statuses(run(tmp_path, REDRIVE_FROM, doc)) == {"app-queue": "fail"}


def test_from_an_arn_naming_a_queue_that_does_not_exist_fails(tmp_path: Path) -> None:
    doc = snapshot_doc([redriving("app-queue", queue_arn("gone-dlq")), dlq("app-dlq")])
    (result,) = run(tmp_path, REDRIVE_FROM, doc)
    assert result["status"] == "fail"
    assert result["message"] == f"the related target {queue_arn('gone-dlq')} does not exist"
    assert result["evidence"]["related.target"] == f"{queue_arn('gone-dlq')} (does not exist)"


@pytest.mark.parametrize(
    "attributes",
    [
        {"RedrivePolicy": None},
        {},
        {"RedrivePolicy": {"deadLetterTargetArn": None}},
        {"RedrivePolicy": {"deadLetterTargetArn": ""}},
    ],
    ids=["null-policy", "no-policy", "null-arn", "empty-arn"],
)
def test_from_no_redrive_target_fails_whatever_the_all_items_condition_says(
    tmp_path: Path, attributes: dict[str, Any]
) -> None:
    # all_items over an empty set is true: the missing target must fail before it is asked.
    doc = snapshot_doc([queue("app-queue", attributes), dlq("app-dlq")])
    (result,) = run(tmp_path, REDRIVE_FROM, doc)
    assert result["status"] == "fail", result["message"]


def test_from_no_target_gives_when_missing_status(tmp_path: Path) -> None:
    text = REDRIVE_FROM.replace("deadLetterTargetArn}", "deadLetterTargetArn, when_missing: warn}")
    doc = snapshot_doc([redriving("app-queue", None), dlq("app-dlq")])
    (result,) = run(tmp_path, text, doc)
    assert result["status"] == "warn"
    assert result["message"].startswith("no target: ")


def test_from_the_queues_attributes_call_failed_is_an_error(tmp_path: Path) -> None:
    blocked = queue("app-queue", data={})
    error = call_failed(
        blocked["id"], ["Attributes"], rtype="aws.sqs.queue", operation="GetQueueAttributes"
    )
    doc = snapshot_doc([blocked, dlq("app-dlq")], errors=[error])
    (result,) = run(tmp_path, REDRIVE_FROM, doc)
    assert result["status"] == "error"
    assert "GetQueueAttributes" in result["message"]
    assert result["missing_permissions"] == ["sqs:GetQueueAttributes"]


def test_from_an_error_on_another_data_key_does_not_block_the_redrive_policy(
    tmp_path: Path,
) -> None:
    source = redriving("app-queue", queue_arn("gone-dlq"))
    error = call_failed(source["id"], ["Tags"], rtype="aws.sqs.queue", operation="ListQueueTags")
    doc = snapshot_doc([source, dlq("app-dlq")], errors=[error])
    assert statuses(run(tmp_path, REDRIVE_FROM, doc)) == {"app-queue": "fail"}


def test_from_a_missing_target_behind_an_incomplete_listing_is_an_error(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [redriving("app-queue", queue_arn("app-dlq"))], coverage=incomplete("aws.sqs.queue")
    )
    results = run(tmp_path, REDRIVE_FROM, doc)
    assert statuses(results)["app-queue"] == "error"
    assert "cannot tell which target exist" in one(results, "app-queue")["message"]


def test_from_a_target_found_despite_an_incomplete_listing_is_still_judged(
    tmp_path: Path,
) -> None:
    # Existence is proven by the listing that did return it; its data decides.
    doc = snapshot_doc(
        [redriving("app-queue", queue_arn("app-dlq")), dlq("app-dlq", 60)],
        coverage=incomplete("aws.sqs.queue"),
    )
    assert statuses(run(tmp_path, REDRIVE_FROM, doc))["app-queue"] == "fail"


def test_from_a_target_type_not_collected_is_an_error(tmp_path: Path) -> None:
    text = REDRIVE_FROM.replace("{type: aws.sqs.queue, from", "{type: aws.sqs.dlq, from")
    doc = snapshot_doc([redriving("app-queue", queue_arn("app-dlq")), dlq("app-dlq")])
    (result,) = run(tmp_path, text, doc)
    assert result["status"] == "error"
    assert "aws.sqs.dlq was not collected" in result["message"]


SECURITY_GROUPS = rule("""
    resource: aws.ecs.service
    related:
      groups: {type: aws.ec2.security_group, from: networkConfiguration.awsvpcConfiguration.securityGroups}
    expect:
      related: groups
      all_items:
        path: IpPermissions
        all_items: {not: {path: "IpRanges[].CidrIp", if_absent: [], contains: "0.0.0.0/0"}}
""")


def service(groups: list[str] | None) -> dict[str, Any]:
    network = {"awsvpcConfiguration": {"securityGroups": groups}}
    return resource("aws.ecs.service", "app-service", {"networkConfiguration": network})


def group(group_id: str, cidr: str = "10.0.0.0/8", **extra: Any) -> dict[str, Any]:
    account = extra.get("account", ACCOUNT)
    return resource(
        "aws.ec2.security_group",
        group_id,
        {"GroupId": group_id, "IpPermissions": [{"IpRanges": [{"CidrIp": cidr}]}]},
        id=f"arn:aws:ec2:{REGION}:{account}:security-group/{group_id}",
        **extra,
    )


def test_from_a_list_with_every_group_present_and_closed_passes(tmp_path: Path) -> None:
    doc = snapshot_doc([service(["sg-1", "sg-2"]), group("sg-1"), group("sg-2")])
    (result,) = run(tmp_path, SECURITY_GROUPS, doc)
    assert result["status"] == "pass"
    assert result["evidence"]["related.groups"] == [
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-1",
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-2",
    ]


def test_from_a_list_where_one_of_two_groups_is_missing_fails(tmp_path: Path) -> None:
    doc = snapshot_doc([service(["sg-1", "sg-2"]), group("sg-1")], types=["aws.ec2.security_group"])
    (result,) = run(tmp_path, SECURITY_GROUPS, doc)
    assert result["status"] == "fail"
    assert result["message"] == "the related groups sg-2 does not exist"


def test_from_a_list_where_the_second_group_is_open_fails(tmp_path: Path) -> None:
    doc = snapshot_doc([service(["sg-1", "sg-2"]), group("sg-1"), group("sg-2", "0.0.0.0/0")])
    assert statuses(run(tmp_path, SECURITY_GROUPS, doc)) == {"app-service": "fail"}


@pytest.mark.parametrize("groups", [[], None], ids=["empty-list", "null"])
def test_from_an_empty_or_null_list_of_groups_fails(
    tmp_path: Path, groups: list[str] | None
) -> None:
    doc = snapshot_doc([service(groups), group("sg-1")])
    assert statuses(run(tmp_path, SECURITY_GROUPS, doc)) == {"app-service": "fail"}


def test_from_a_list_where_the_missing_group_exists_in_another_account_fails(
    tmp_path: Path,
) -> None:
    doc = snapshot_doc(
        [service(["sg-1", "sg-2"]), group("sg-1"), group("sg-2", account=OTHER_ACCOUNT)]
    )
    assert statuses(run(tmp_path, SECURITY_GROUPS, doc)) == {"app-service": "fail"}


LAMBDA_FROM = rule("""
    resource: aws.sns.subscription
    related:
      fn: {type: aws.lambda.function, from: Endpoint}
    expect:
      related: fn
      all_items: {path: Timeout, le: 30}
""")


def subscription(endpoint: str) -> dict[str, Any]:
    return resource("aws.sns.subscription", "alerts-sub", {"Endpoint": endpoint})


def test_from_a_qualified_lambda_arn_resolves_to_the_unqualified_function(tmp_path: Path) -> None:
    doc = snapshot_doc([subscription(function_arn("f") + ":live"), function("f", {"Timeout": 10})])
    (result,) = run(tmp_path, LAMBDA_FROM, doc)
    assert result["status"] == "pass"
    assert result["evidence"]["related.fn"] == function_arn("f")


def test_from_a_qualified_arn_judges_the_function_it_names(tmp_path: Path) -> None:
    doc = snapshot_doc([subscription(function_arn("f") + ":live"), function("f", {"Timeout": 300})])
    assert statuses(run(tmp_path, LAMBDA_FROM, doc)) == {"alerts-sub": "fail"}


@pytest.mark.parametrize(
    "endpoint",
    [
        function_arn("f2") + ":live",  # f is a prefix of f2, not f2 itself
        function_arn("f-live"),  # names another function
        function_arn("f").replace("function:", "function:x"),
    ],
)
def test_from_an_arn_that_only_resembles_the_function_does_not_resolve(
    tmp_path: Path, endpoint: str
) -> None:
    doc = snapshot_doc([subscription(endpoint), function("f", {"Timeout": 10})])
    (result,) = run(tmp_path, LAMBDA_FROM, doc)
    assert result["status"] == "fail"
    assert "does not exist" in result["message"]


@pytest.mark.parametrize(
    ("account", "region"),
    [(OTHER_ACCOUNT, REGION), (ACCOUNT, OTHER_REGION), (OTHER_ACCOUNT, "global")],
    ids=["other-account", "other-region", "global-in-other-account"],
)
def test_from_a_target_with_the_same_arn_outside_the_scope_does_not_resolve(
    tmp_path: Path, account: str, region: str
) -> None:
    # The envelope carries this queue's very ARN and name, but lives elsewhere.
    stranger = dlq("app-dlq", rid=queue_arn("app-dlq"), account=account, region=region)
    doc = snapshot_doc([redriving("app-queue", queue_arn("app-dlq")), stranger])
    (result,) = run(tmp_path, REDRIVE_FROM, doc)
    assert result["status"] == "fail"
    assert "does not exist" in result["message"]


def test_from_a_name_found_only_in_another_account_does_not_resolve(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [service(["sg-1"]), group("sg-1", account=OTHER_ACCOUNT)],
    )
    assert statuses(run(tmp_path, SECURITY_GROUPS, doc)) == {"app-service": "fail"}


def test_from_an_arn_in_another_region_does_not_resolve_to_the_local_namesake(
    tmp_path: Path,
) -> None:
    doc = snapshot_doc(
        [
            redriving("app-queue", queue_arn("app-dlq", region=OTHER_REGION)),
            dlq("app-dlq"),
            dlq("app-dlq", region=OTHER_REGION),
        ]
    )
    assert statuses(run(tmp_path, REDRIVE_FROM, doc)) == {"app-queue": "fail"}


ROLE_FROM = rule("""
    resource: aws.lambda.function
    related:
      role: {type: aws.iam.role, from: Role}
    expect:
      related: role
      all_items: {path: PermissionsBoundary, exists: true}
""")


def role(account: str = ACCOUNT, boundary: bool = True) -> dict[str, Any]:
    data = {"PermissionsBoundary": {"PermissionsBoundaryArn": "arn:b"}} if boundary else {}
    return resource(
        "aws.iam.role",
        "app-role",
        data,
        id=f"arn:aws:iam::{account}:role/app-role",
        account=account,
        region="global",
    )


def test_from_a_global_target_in_the_same_account_resolves(tmp_path: Path) -> None:
    fn = function("f", {"Role": f"arn:aws:iam::{ACCOUNT}:role/app-role"})
    doc = snapshot_doc([fn, role()])
    assert statuses(run(tmp_path, ROLE_FROM, doc)) == {"f": "pass"}
    doc = snapshot_doc([fn, role(boundary=False)])
    assert statuses(run(tmp_path, ROLE_FROM, doc)) == {"f": "fail"}


def test_from_a_global_target_in_another_account_does_not_resolve(tmp_path: Path) -> None:
    fn = function("f", {"Role": f"arn:aws:iam::{OTHER_ACCOUNT}:role/app-role"})
    doc = snapshot_doc([fn, role(OTHER_ACCOUNT)])
    (result,) = run(tmp_path, ROLE_FROM, doc)
    assert result["status"] == "fail"
    assert "does not exist" in result["message"]


# --- 2. referenced_by and where -------------------------------------------------------------

CONSUMED = rule("""
    resource: aws.sqs.queue
    select: {name_matches: "-queue$"}
    related:
      consumers: {type: aws.lambda.function, referenced_by: "EventSourceMappings[?State=='Enabled'].EventSourceArn"}
    expect:
      related: consumers
      QUANTIFIER: {path: Timeout, le: 60}
""")
ANY_CONSUMER = CONSUMED.replace("QUANTIFIER", "any_item")
ALL_CONSUMERS = CONSUMED.replace("QUANTIFIER", "all_items")


def test_referenced_by_finds_the_functions_whose_mapping_reads_the_queue(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [
            queue("app-queue"),
            consumer("reader", queue_arn("app-queue")),
            consumer("stranger", queue_arn("other-queue")),
        ]
    )
    (result,) = run(tmp_path, ANY_CONSUMER, doc)
    assert result["status"] == "pass"
    assert result["evidence"]["related.consumers"] == [function_arn("reader")]
    assert result["evidence"]["consumers (matching)"] == "1 of 1: reader"


def test_referenced_by_only_a_disabled_mapping_is_no_consumer(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [queue("app-queue"), consumer("r", queue_arn("app-queue"), state="Disabled")]
    )
    assert statuses(run(tmp_path, ANY_CONSUMER, doc)) == {"app-queue": "fail"}


def test_referenced_by_an_empty_set_fails_any_item_and_passes_all_items(tmp_path: Path) -> None:
    doc = snapshot_doc([queue("app-queue")], types=["aws.lambda.function"])
    assert statuses(run(tmp_path, ANY_CONSUMER, doc)) == {"app-queue": "fail"}
    assert statuses(run(tmp_path, ALL_CONSUMERS, doc)) == {"app-queue": "pass"}


def test_referenced_by_all_items_fails_on_the_one_consumer_that_breaks_it(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [
            queue("app-queue"),
            consumer("a-fast", queue_arn("app-queue"), timeout=30),
            consumer("b-slow", queue_arn("app-queue"), timeout=900),
        ]
    )
    (result,) = run(tmp_path, ALL_CONSUMERS, doc)
    assert result["status"] == "fail"
    assert result["evidence"]["consumers (matching)"] == "1 of 2: a-fast"


def test_referenced_by_when_missing_note_gives_note(tmp_path: Path) -> None:
    text = ANY_CONSUMER.replace('EventSourceArn"}', 'EventSourceArn", when_missing: note}')
    assert "when_missing: note" in text
    doc = snapshot_doc([queue("app-queue")], types=["aws.lambda.function"])
    (result,) = run(tmp_path, text, doc)
    assert result["status"] == "note"
    assert result["message"].startswith("no consumers: ")


@pytest.mark.parametrize(
    ("account", "region"),
    [(OTHER_ACCOUNT, REGION), (ACCOUNT, OTHER_REGION)],
    ids=["other-account", "other-region"],
)
def test_referenced_by_a_consumer_outside_the_scope_is_ignored(
    tmp_path: Path, account: str, region: str
) -> None:
    remote = consumer("remote", queue_arn("app-queue"), account=account, region=region)
    doc = snapshot_doc([queue("app-queue"), remote])
    (result,) = run(tmp_path, ANY_CONSUMER, doc)
    assert result["status"] == "fail"
    assert result["evidence"]["related.consumers"] == []


def test_referenced_by_a_blocked_candidate_makes_the_result_error(tmp_path: Path) -> None:
    blocked = function("blind", {"Timeout": 30})
    error = call_failed(
        blocked["id"],
        ["EventSourceMappings"],
        rtype="aws.lambda.function",
        operation="ListEventSourceMappings",
    )
    doc = snapshot_doc([queue("app-queue"), blocked], errors=[error])
    for text in (ANY_CONSUMER, ALL_CONSUMERS):
        (result,) = run(tmp_path, text, doc)
        assert result["status"] == "error", text
        assert "cannot tell whether blind refers to it" in result["message"]


def test_referenced_by_a_blocked_candidate_errors_even_beside_a_good_consumer(
    tmp_path: Path,
) -> None:
    # all_items: the blocked function may be a consumer with a 900 s timeout.
    blocked = function("blind", {"Timeout": 900})
    error = call_failed(
        blocked["id"],
        ["EventSourceMappings"],
        rtype="aws.lambda.function",
        operation="ListEventSourceMappings",
    )
    doc = snapshot_doc(
        [queue("app-queue"), consumer("good", queue_arn("app-queue")), blocked], errors=[error]
    )
    assert statuses(run(tmp_path, ALL_CONSUMERS, doc)) == {"app-queue": "error"}


def test_referenced_by_an_error_on_another_key_of_a_candidate_does_not_block(
    tmp_path: Path,
) -> None:
    # An undecryptable environment says nothing about the function's mappings.
    fn = consumer("reader", queue_arn("app-queue"), timeout=900)
    fn["data"]["Environment"] = {"Error": {"ErrorCode": "KMSAccessDeniedException"}}
    error = call_failed(
        fn["id"], ["Environment"], rtype="aws.lambda.function", operation="GetFunction"
    )
    doc = snapshot_doc([queue("app-queue"), fn], errors=[error])
    assert statuses(run(tmp_path, ALL_CONSUMERS, doc)) == {"app-queue": "fail"}


def test_referenced_by_a_blocked_candidate_in_another_account_does_not_matter(
    tmp_path: Path,
) -> None:
    remote = function("blind", {"Timeout": 900}, account=OTHER_ACCOUNT)
    error = {
        **call_failed(
            remote["id"],
            ["EventSourceMappings"],
            rtype="aws.lambda.function",
            operation="ListEventSourceMappings",
        ),
        "account": OTHER_ACCOUNT,
    }
    doc = snapshot_doc([queue("app-queue"), consumer("good", queue_arn("app-queue")), remote])
    doc["errors"] = [error]
    assert statuses(run(tmp_path, ALL_CONSUMERS, doc)) == {"app-queue": "pass"}


@pytest.mark.parametrize("found", [True, False], ids=["consumer-listed", "none-listed"])
def test_referenced_by_an_incomplete_listing_of_the_target_type_is_an_error(
    tmp_path: Path, found: bool
) -> None:
    listed = [consumer("good", queue_arn("app-queue"))] if found else []
    doc = snapshot_doc(
        [queue("app-queue"), *listed],
        coverage=incomplete("aws.lambda.function", "aws.sqs.queue"),
    )
    for text in (ANY_CONSUMER, ALL_CONSUMERS) if not found else (ALL_CONSUMERS,):
        (result,) = run(tmp_path, text, doc)
        assert result["status"] == "error"
        assert "cannot tell which consumers exist" in result["message"]


def test_referenced_by_a_qualified_arn_of_the_selected_resource_refers_to_it(
    tmp_path: Path,
) -> None:
    text = rule("""
    resource: aws.lambda.function
    select: {names: [f]}
    related:
      subscriptions: {type: aws.sns.subscription, referenced_by: Endpoint}
    expect:
      related: subscriptions
      any_item: {path: Protocol, equals: lambda}
""")
    subscribed = resource(
        "aws.sns.subscription",
        "sub",
        {"Endpoint": function_arn("f") + ":live", "Protocol": "lambda"},
    )
    doc = snapshot_doc([function("f"), function("f2"), subscribed])
    assert statuses(run(tmp_path, text, doc)) == {"f": "pass"}
    doc = snapshot_doc(
        [
            function("f"),
            resource(
                "aws.sns.subscription",
                "sub",
                {"Endpoint": function_arn("f2") + ":live", "Protocol": "lambda"},
            ),
        ]
    )
    assert statuses(run(tmp_path, text, doc)) == {"f": "fail"}


QUEUE_ALARMS = rule("""
    resource: aws.sqs.queue
    select: {name_matches: "-queue$"}
    related:
      alarms: {type: aws.cloudwatch.alarm, referenced_by: "Dimensions[?Name=='QueueName'].Value", key: name}
    expect:
      related: alarms
      any_item: {path: AlarmActions, not_empty: true}
""")


def test_referenced_by_name_finds_alarms_by_dimension_value(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [queue("app-queue"), alarm("depth", "app-queue"), alarm("other", "app-queue-2")]
    )
    (result,) = run(tmp_path, QUEUE_ALARMS, doc)
    assert result["status"] == "pass"
    assert result["evidence"]["related.alarms"] == [
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:depth"
    ]


@pytest.mark.parametrize(
    "decoy",
    [
        alarm("similar", "app-queue-2"),
        alarm("by-arn", queue_arn("app-queue")),  # key: name does not match the ARN
        alarm("remote", "app-queue", account=OTHER_ACCOUNT),
        alarm("elsewhere", "app-queue", region=OTHER_REGION),
        alarm("silent", "app-queue", actions=[]),
        alarm("no-dimension", None),
    ],
    ids=["similar-name", "arn-not-name", "other-account", "other-region", "no-action", "none"],
)
def test_referenced_by_name_a_decoy_alarm_does_not_count(
    tmp_path: Path, decoy: dict[str, Any]
) -> None:
    doc = snapshot_doc([queue("app-queue"), decoy])
    assert statuses(run(tmp_path, QUEUE_ALARMS, doc)) == {"app-queue": "fail"}


def test_referenced_by_name_a_namesake_queue_in_another_account_has_its_own_alarms(
    tmp_path: Path,
) -> None:
    doc = snapshot_doc(
        [
            queue("app-queue"),
            queue("app-queue", account=OTHER_ACCOUNT),
            alarm("remote", "app-queue", account=OTHER_ACCOUNT),
        ]
    )
    results = run(tmp_path, QUEUE_ALARMS, doc)
    by_account = {r["resource"]["account"]: r["status"] for r in results}
    assert by_account == {ACCOUNT: "fail", OTHER_ACCOUNT: "pass"}


def test_referenced_by_where_filters_the_targets(tmp_path: Path) -> None:
    text = QUEUE_ALARMS.replace(
        "key: name}", "key: name, where: {path: ActionsEnabled, equals: true}}"
    )
    assert "where:" in text
    doc = snapshot_doc([queue("app-queue"), alarm("disabled", "app-queue", enabled=False)])
    assert statuses(run(tmp_path, text, doc)) == {"app-queue": "fail"}
    doc = snapshot_doc([queue("app-queue"), alarm("enabled", "app-queue")])
    assert statuses(run(tmp_path, text, doc)) == {"app-queue": "pass"}


def test_referenced_by_where_undecided_on_a_candidate_is_an_error(tmp_path: Path) -> None:
    text = QUEUE_ALARMS.replace(
        "key: name}", "key: name, where: {path: ActionsEnabled, equals: true}}"
    )
    unknown = alarm("unknown", "app-queue")
    del unknown["data"]["ActionsEnabled"]
    error = call_failed(
        unknown["id"], ["ActionsEnabled"], rtype="aws.cloudwatch.alarm", operation="DescribeAlarms"
    )
    doc = snapshot_doc([queue("app-queue"), unknown], errors=[error])
    assert statuses(run(tmp_path, text, doc)) == {"app-queue": "error"}


ACCOUNT_ALARMS = rule("""
    resource: aws.sqs.queue
    select: {name_matches: "-queue$"}
    related:
      account_alarms: {type: aws.cloudwatch.alarm, where: {path: "length(Dimensions)", equals: 0}}
    expect:
      related: account_alarms
      any_item: {path: AlarmActions, not_empty: true}
""")


def test_where_alone_finds_account_wide_alarms_of_the_same_scope_only(tmp_path: Path) -> None:
    doc = snapshot_doc([queue("app-queue"), alarm("account-wide", None)])
    assert statuses(run(tmp_path, ACCOUNT_ALARMS, doc)) == {"app-queue": "pass"}
    for account, region in ((OTHER_ACCOUNT, REGION), (ACCOUNT, OTHER_REGION)):
        remote = alarm("account-wide", None, account=account, region=region)
        doc = snapshot_doc([queue("app-queue"), remote, alarm("q", "app-queue")])
        assert statuses(run(tmp_path, ACCOUNT_ALARMS, doc)) == {"app-queue": "fail"}


def test_where_alone_an_incomplete_listing_is_an_error_even_with_a_match(tmp_path: Path) -> None:
    doc = snapshot_doc(
        [queue("app-queue"), alarm("account-wide", None)],
        coverage=incomplete("aws.cloudwatch.alarm", "aws.sqs.queue"),
    )
    assert statuses(run(tmp_path, ACCOUNT_ALARMS, doc)) == {"app-queue": "error"}


def test_a_condition_over_an_undeclared_alias_is_refused(tmp_path: Path) -> None:
    text = ALL_CONSUMERS.replace("related: consumers\n", "related: consumer\n")
    assert "related: consumer\n" in text
    slow = consumer("slow", queue_arn("app-queue"), timeout=900)
    doc = snapshot_doc([queue("app-queue"), slow])
    answer = outcome(tmp_path, text, doc)
    assert answer in ("fail", "error") or (answer.startswith("refused") and "consumer" in answer)


def outcome(tmp_path: Path, text: str, doc: dict[str, Any]) -> str:
    """The queue's status, or 'refused: PROBLEMS' when the policy does not compile."""
    try:
        results = run(tmp_path, text, doc)
    except InputError as error:
        return "refused: " + "\n".join(error.problems)
    return statuses(results).get("app-queue", "not checked")


def test_a_related_condition_in_select_where_does_not_silently_select_nothing(
    tmp_path: Path,
) -> None:
    text = rule("""
    resource: aws.sqs.queue
    related:
      consumers: {type: aws.lambda.function, referenced_by: "EventSourceMappings[].EventSourceArn"}
    select:
      where: {related: consumers, any_item: {path: Timeout, exists: true}}
    expect: {path: Attributes.VisibilityTimeout, ge: 60}
""")
    doc = snapshot_doc(
        [queue("app-queue", {"VisibilityTimeout": "30"}), consumer("r", queue_arn("app-queue"))]
    )
    answer = outcome(tmp_path, text, doc)
    assert answer == "fail" or answer.startswith("refused")  # refusing it is fine too


# --- 3. related operands with ordered operators ---------------------------------------------

VISIBILITY = rule("""
    resource: aws.sqs.queue
    select: {name_matches: "-queue$"}
    related:
      consumers: {type: aws.lambda.function, referenced_by: "EventSourceMappings[].EventSourceArn"}
    expect:
      path: Attributes.VisibilityTimeout
      OPERATOR: {related: consumers, path: data.Timeout}
""")

# operator, the queue's value, consumers' timeouts in snapshot order, the status.
ORDERED = [
    ("ge", "30", [10, 30], "pass"),
    ("ge", "30", [10, 31], "fail"),
    ("ge", "30", [31, 10], "fail"),
    ("gt", "30", [10, 29], "pass"),
    ("gt", "30", [10, 30], "fail"),
    ("gt", "30", [30, 10], "fail"),
    ("le", "30", [30, 40], "pass"),
    ("le", "30", [40, 29], "fail"),
    ("le", "30", [29, 40], "fail"),
    ("lt", "30", [31, 40], "pass"),
    ("lt", "30", [40, 30], "fail"),
    ("lt", "30", [30, 40], "fail"),
]


def consumers_with(timeouts: list[int | None]) -> list[dict[str, Any]]:
    return [
        consumer(f"fn-{chr(ord('a') + i)}", queue_arn("app-queue"), timeout=t)
        for i, t in enumerate(timeouts)
    ]


@pytest.mark.parametrize(("op", "value", "timeouts", "expected"), ORDERED)
def test_a_related_operand_must_hold_against_every_target(
    tmp_path: Path, op: str, value: str, timeouts: list[int], expected: str
) -> None:
    text = VISIBILITY.replace("OPERATOR", op)
    doc = snapshot_doc(
        [queue("app-queue", {"VisibilityTimeout": value}), *consumers_with(list(timeouts))]
    )
    (result,) = run(tmp_path, text, doc)
    assert result["status"] == expected, result["message"]
    (against,) = [v for k, v in result["evidence"].items() if k.endswith("(against)")]
    assert against == timeouts


@pytest.mark.parametrize("op", ["ge", "gt", "le", "lt"])
@pytest.mark.parametrize("order", ["missing-first", "missing-last"])
def test_a_target_missing_the_compared_field_is_an_error_not_a_pass(
    tmp_path: Path, op: str, order: str
) -> None:
    # 30 against 30 would fail gt/lt: use a value that holds against the present target.
    present = {"ge": 10, "gt": 10, "le": 50, "lt": 50}[op]
    timeouts: list[int | None] = [None, present] if order == "missing-first" else [present, None]
    text = VISIBILITY.replace("OPERATOR", op)
    doc = snapshot_doc([queue("app-queue", {"VisibilityTimeout": "30"}), *consumers_with(timeouts)])
    (result,) = run(tmp_path, text, doc)
    assert result["status"] == "error", result["message"]


@pytest.mark.parametrize("op", ["ge", "gt", "le", "lt"])
def test_a_related_operand_with_no_targets_is_an_error_not_a_comparison(
    tmp_path: Path, op: str
) -> None:
    text = VISIBILITY.replace("OPERATOR", op)
    doc = snapshot_doc(
        [queue("app-queue", {"VisibilityTimeout": "30"})], types=["aws.lambda.function"]
    )
    (result,) = run(tmp_path, text, doc)
    assert result["status"] == "error"
    assert "no consumers to compare" in result["message"]


def test_a_not_around_a_related_operand_with_no_targets_does_not_pass(tmp_path: Path) -> None:
    negated = VISIBILITY.replace(
        "      path: Attributes.VisibilityTimeout\n      OPERATOR: {related: consumers, path: data.Timeout}\n",
        "      not: {path: Attributes.VisibilityTimeout, lt: {related: consumers, path: data.Timeout}}\n",
    )
    assert "not:" in negated
    doc = snapshot_doc(
        [queue("app-queue", {"VisibilityTimeout": "30"})], types=["aws.lambda.function"]
    )
    plain = statuses(run(tmp_path, VISIBILITY.replace("OPERATOR", "ge"), doc))
    assert plain == {"app-queue": "error"}  # nothing to compare with is undecided
    assert statuses(run(tmp_path, negated, doc)) == plain


def test_a_related_operand_reads_the_target_not_the_selected_resource(tmp_path: Path) -> None:
    # The queue itself carries a Timeout that would satisfy the comparison.
    text = VISIBILITY.replace("OPERATOR", "ge")
    doc = snapshot_doc(
        [
            queue("app-queue", data={"Attributes": {"VisibilityTimeout": "30"}, "Timeout": 1}),
            *consumers_with([900]),
        ]
    )
    assert statuses(run(tmp_path, text, doc)) == {"app-queue": "fail"}


ENCRYPTED_LIKE_DLQ = rule("""
    resource: aws.sqs.queue
    select: {name_matches: "-queue$"}
    related:
      dlq: {type: aws.sqs.queue, from: Attributes.RedrivePolicy.deadLetterTargetArn}
    expect:
      path: Attributes.KmsMasterKeyId
      if_absent: null
      OPERATOR: {related: dlq, path: data.Attributes.KmsMasterKeyId}
""")


@pytest.mark.parametrize("op", ["equals", "not_equals"])
def test_a_related_operand_blocked_on_the_target_is_an_error(tmp_path: Path, op: str) -> None:
    source = redriving("app-queue", queue_arn("app-dlq"))
    if op == "not_equals":  # "the DLQ uses another key than the queue": unknown, not true
        source["data"]["Attributes"]["KmsMasterKeyId"] = "alias/app"
    target = queue("app-dlq", data={})
    error = call_failed(
        target["id"], ["Attributes"], rtype="aws.sqs.queue", operation="GetQueueAttributes"
    )
    doc = snapshot_doc([source, target], errors=[error])
    (result,) = run(tmp_path, ENCRYPTED_LIKE_DLQ.replace("OPERATOR", op), doc)
    assert result["status"] == "error", result["message"]


TARGET_QUANTIFIER = rule("""
    resource: aws.sqs.queue
    select: {name_matches: "-queue$"}
    related:
      consumers: {type: aws.lambda.function, referenced_by: "EventSourceMappings[].EventSourceArn"}
    expect:
      related: consumers
      QUANTIFIER: {path: Timeout, if_absent: 3, le: 60}
""")


def blocked_consumer(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    fn = consumer(name, queue_arn("app-queue"), timeout=None)
    error = call_failed(
        fn["id"], ["Timeout"], rtype="aws.lambda.function", operation="GetFunctionConfiguration"
    )
    return fn, error


@pytest.mark.parametrize("quantifier", ["any_item", "all_items"])
def test_a_quantifier_over_targets_reads_each_target_with_its_own_errors(
    tmp_path: Path, quantifier: str
) -> None:
    # any_item: the other consumer misses, so only the blind one could match; all_items: the
    # other one holds, so only the blind one could break it. Either way: unknown.
    text = TARGET_QUANTIFIER.replace("QUANTIFIER", quantifier)
    blind, error = blocked_consumer("blind")
    other = consumer(
        "other", queue_arn("app-queue"), timeout=900 if quantifier == "any_item" else 30
    )
    doc = snapshot_doc([queue("app-queue"), blind, other], errors=[error])
    (result,) = run(tmp_path, text, doc)
    assert result["status"] == "error", result["message"]
    assert "GetFunctionConfiguration" in result["message"]


def test_an_absent_target_field_without_an_error_takes_if_absent(tmp_path: Path) -> None:
    text = TARGET_QUANTIFIER.replace("QUANTIFIER", "all_items")
    quiet = consumer("quiet", queue_arn("app-queue"), timeout=None)
    doc = snapshot_doc([queue("app-queue"), quiet])
    assert statuses(run(tmp_path, text, doc)) == {"app-queue": "pass"}


def test_an_error_on_the_selected_resource_does_not_block_a_targets_field(
    tmp_path: Path,
) -> None:
    # The error names the data key Timeout, but on the queue: the consumer's own absent
    # Timeout is decided by if_absent, as without any error.
    text = TARGET_QUANTIFIER.replace("QUANTIFIER", "all_items")
    source = queue("app-queue")
    error = call_failed(source["id"], ["Timeout"], rtype="aws.sqs.queue", operation="Odd")
    quiet = consumer("quiet", queue_arn("app-queue"), timeout=None)
    doc = snapshot_doc([source, quiet], errors=[error])
    assert statuses(run(tmp_path, text, doc)) == {"app-queue": "pass"}


def test_any_item_over_targets_still_passes_on_a_readable_match_beside_a_blocked_one(
    tmp_path: Path,
) -> None:
    text = TARGET_QUANTIFIER.replace("QUANTIFIER", "any_item")
    blind, error = blocked_consumer("blind")
    good = consumer("good", queue_arn("app-queue"), timeout=30)
    doc = snapshot_doc([queue("app-queue"), blind, good], errors=[error])
    assert statuses(run(tmp_path, text, doc)) == {"app-queue": "pass"}
