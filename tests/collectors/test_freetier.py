"""Free Tier usage, through Stubber only: moto has no Free Tier API.

Stubber checks every request and answer against botocore's ``freetier`` model, so these tests
prove the collector sends valid parameters and reads the documented ``FreeTierUsage`` fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from runbook_guard.collectors import freetier
from runbook_guard.collectors.calls import GLOBAL_REGION, Call
from runbook_guard.collectors.journal import Journal
from runbook_guard.collectors.partitions import global_region
from runbook_guard.collectors.registry import COLLECTORS, load_all

ACCOUNT = "123456789012"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def offer(usage_type: str, free_tier_type: str = "Always Free", **extra: Any) -> dict[str, Any]:
    return {
        "service": "AWS Lambda",
        "operation": "",
        "usageType": usage_type,
        "region": "global",
        "actualUsageAmount": 410000.0,
        "forecastedUsageAmount": 820000.0,
        "limit": 1000000.0,
        "unit": "Requests",
        "description": "1,000,000 free requests per month for AWS Lambda",
        "freeTierType": free_tier_type,
        **extra,
    }


REQUESTS = offer("Global-Request")
SECONDS = offer("Global-Lambda-GB-Second", unit="Seconds", limit=400000.0)
TRIAL = offer("Global-Request", "Free Trial", limit=2000000.0)


@pytest.fixture
def stubbed() -> Iterator[tuple[Call, Stubber]]:
    client = boto3.client(
        "freetier",
        region_name=global_region("aws"),
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    with Stubber(client) as stub:
        call = Call(
            freetier.API, client, Journal(), ACCOUNT, GLOBAL_REGION, freetier.USAGE, None, NOW
        )
        yield call, stub
        stub.assert_no_pending_responses()


def test_is_global_and_declared_with_its_own_action() -> None:
    load_all()
    collector = COLLECTORS[freetier.USAGE]
    assert collector.is_global
    assert collector.api.iam_action("GetFreeTierUsage") == "freetier:GetFreeTierUsage"


def test_every_page_of_offers_becomes_a_resource(stubbed: tuple[Call, Stubber]) -> None:
    """GetFreeTierUsage pages with ``nextToken`` (AWS Billing and Cost Management API
    Reference, GetFreeTierUsage; botocore paginator ``nextToken``/``freeTierUsages``)."""
    call, stub = stubbed
    stub.add_response("get_free_tier_usage", {"freeTierUsages": [REQUESTS], "nextToken": "t1"}, {})
    stub.add_response("get_free_tier_usage", {"freeTierUsages": [SECONDS]}, {"nextToken": "t1"})
    resources = freetier.collect_usage(call, {})
    assert call.journal.errors == []
    assert [r["id"] for r in resources] == [
        f"freetier:{ACCOUNT}:AWS Lambda:Global-Request:global:",
        f"freetier:{ACCOUNT}:AWS Lambda:Global-Lambda-GB-Second:global:",
    ]
    first = resources[0]
    assert (first["type"], first["name"]) == (freetier.USAGE, "AWS Lambda Global-Request")
    assert (first["account"], first["region"]) == (ACCOUNT, GLOBAL_REGION)
    assert first["data"] == REQUESTS  # the API's own fields, nothing added


def test_two_offers_of_one_usage_type_get_ids_independent_of_order(
    stubbed: tuple[Call, Stubber],
) -> None:
    """AWS can list one usage type under two free tier types ("Always Free", "Free Trial";
    ``FreeTierUsage.freeTierType``), in any order."""
    call, stub = stubbed
    stub.add_response("get_free_tier_usage", {"freeTierUsages": [REQUESTS, TRIAL]}, {})
    stub.add_response("get_free_tier_usage", {"freeTierUsages": [TRIAL, REQUESTS]}, {})
    once = {r["id"]: r["data"]["freeTierType"] for r in freetier.collect_usage(call, {})}
    again = {r["id"]: r["data"]["freeTierType"] for r in freetier.collect_usage(call, {})}
    assert once == again
    assert len(once) == 2
    assert all(rid.endswith(("#1", "#2")) for rid in once)


def test_no_offers_is_a_complete_listing_of_nothing(stubbed: tuple[Call, Stubber]) -> None:
    """An account AWS tracks no offer for (an Organizations member account, an account past
    its free tier) gets a successful answer whose ``freeTierUsages`` list is empty (AWS Billing
    and Cost Management API Reference, GetFreeTierUsage: "The list of Free Tier usage objects
    that meet your filter expression"): a fact, not a failure. No AWS page found states the
    member-account case in so many words; it is the runbook team's observation."""
    call, stub = stubbed
    stub.add_response("get_free_tier_usage", {"freeTierUsages": []}, {})
    assert freetier.collect_usage(call, {}) == []
    assert call.journal.errors == []
    assert call.journal.coverage == {}  # nothing marked incomplete


def test_access_denied_is_recorded_and_the_listing_incomplete(
    stubbed: tuple[Call, Stubber],
) -> None:
    """Without ``freetier:GetFreeTierUsage`` the call is refused with ``AccessDeniedException``,
    one of the errors common to all AWS APIs (the GetFreeTierUsage reference points to "Common
    Errors" for it; its botocore model lists only the service's own errors)."""
    call, stub = stubbed
    stub.add_client_error("get_free_tier_usage", "AccessDeniedException", "not authorized", 400)
    assert freetier.collect_usage(call, {}) == []
    [error] = call.journal.errors
    assert (error["code"], error["iam_action"]) == (
        "AccessDeniedException",
        "freetier:GetFreeTierUsage",
    )
    assert error["resource_type"] == freetier.USAGE
    assert call.journal.coverage == {(freetier.USAGE, ACCOUNT, GLOBAL_REGION): False}
