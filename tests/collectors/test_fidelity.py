"""Fidelity: what real AWS answers and moto does not, fed through Stubber, judged by the pack.

Each test names the AWS behaviour and its source (the botocore model's documentation string,
or the API reference page), feeds the collector that answer through botocore's Stubber (which
validates it against the service model), and asserts the data, the errors and, where a shipped
rule decides on it, that rule's status.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from runbook_guard.collectors import awslambda, cloudtrail, s3
from runbook_guard.collectors.journal import Journal
from runbook_guard.engine.snapshot import Snapshot, blocked_lookup
from tests.collectors.fidelity import ACCOUNT, NOW, bind, document, judge, stubbed

FUNCTION_PREFIX = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
MANAGEMENT = "111111111111"  # the organization's management account, owner of the org trail
ORG_TRAIL = f"arn:aws:cloudtrail:eu-west-1:{MANAGEMENT}:trail/org-trail"


# --- A. Lambda function state ---------------------------------------------------------------


def listed(name: str, **extra: Any) -> dict[str, Any]:
    """A ListFunctions entry as AWS sends it: no State, no LastUpdateStatus."""
    return {
        "FunctionName": name,
        "FunctionArn": f"{FUNCTION_PREFIX}{name}",
        "Runtime": "python3.12",
        "Environment": {"Variables": {"TABLE_NAME": "agenticai-data"}},
        **extra,
    }


def configuration(name: str, **state: Any) -> dict[str, Any]:
    """A GetFunctionConfiguration answer: the same shape, with the state fields and the
    environment's values in clear (which must never be stored)."""
    return {
        "FunctionName": name,
        "FunctionArn": f"{FUNCTION_PREFIX}{name}",
        "Environment": {"Variables": {"TABLE_NAME": "agenticai-data", "API_KEY": "hunter2"}},
        **state,
    }


def after_listing(stub: Any, name: str, state: dict[str, Any] | None, denied: bool = False) -> None:
    arn = {"FunctionName": f"{FUNCTION_PREFIX}{name}"}
    if denied:
        stub.add_client_error(
            "get_function_configuration", "AccessDeniedException", "not authorized", 403, arn
        )
    else:
        stub.add_response("get_function_configuration", configuration(name, **(state or {})), arn)
    stub.add_response("list_aliases", {"Aliases": []}, {"FunctionName": name})
    stub.add_response("get_function_concurrency", {}, {"FunctionName": name})


def test_function_state_comes_from_get_function_configuration() -> None:
    """Lambda's ListFunctions "returns a subset of the FunctionConfiguration fields. To get the
    additional fields (State, StateReasonCode, StateReason, LastUpdateStatus,
    LastUpdateStatusReason, LastUpdateStatusReasonCode, RuntimeVersionConfig) for a function
    or version, use GetFunction" (botocore model, lambda ListFunctions documentation; Lambda
    API Reference, ListFunctions). GetFunctionConfiguration answers the same
    FunctionConfiguration shape with them. moto's ListFunctions does return ``State``; the
    stored value must be GetFunctionConfiguration's even where the listing carries one."""
    functions = [
        listed("agenticai-ok"),
        listed("agenticai-idle", State="Active"),  # a listing that says Active (as moto's)
        listed("agenticai-broken"),
        listed("agenticai-unknown"),
    ]
    with stubbed("lambda", "us-east-1") as clients:
        _, stub = clients["us-east-1"]
        stub.add_response("list_functions", {"Functions": functions}, {})
        stub.add_response("list_event_source_mappings", {"EventSourceMappings": []}, {})
        after_listing(stub, "agenticai-ok", {"State": "Active", "LastUpdateStatus": "Successful"})
        idle = {
            "State": "Inactive",
            "StateReason": "The function is inactive because it has not been invoked recently.",
            "StateReasonCode": "Idle",
            "LastUpdateStatus": "Successful",
        }
        after_listing(stub, "agenticai-idle", idle)
        broken = {
            "State": "Active",
            "LastUpdateStatus": "Failed",
            "LastUpdateStatusReason": "The security group sg-1 does not exist.",
            "LastUpdateStatusReasonCode": "InvalidSecurityGroup",
        }
        after_listing(stub, "agenticai-broken", broken)
        after_listing(stub, "agenticai-unknown", None, denied=True)
        call = bind(awslambda.API, clients, "us-east-1", awslambda.FUNCTION)
        resources = awslambda.collect_functions(call, {})
    data = {r["name"]: r["data"] for r in resources}
    assert data["agenticai-ok"]["State"] == "Active"
    assert data["agenticai-ok"]["StateReasonCode"] is None  # answered without a reason
    assert data["agenticai-idle"]["State"] == "Inactive"  # not the listing's "Active"
    assert data["agenticai-idle"]["StateReasonCode"] == "Idle"
    assert data["agenticai-broken"]["LastUpdateStatusReasonCode"] == "InvalidSecurityGroup"
    assert not set(awslambda.STATE_KEYS) & set(data["agenticai-unknown"])
    assert "hunter2" not in repr(resources)  # GetFunctionConfiguration's values never kept
    assert data["agenticai-ok"]["Environment"] == {"Variables": {"TABLE_NAME": "<redacted>"}}
    [error] = call.journal.errors
    assert (error["operation"], error["resource"]) == (
        "GetFunctionConfiguration",
        f"{FUNCTION_PREFIX}agenticai-unknown",
    )
    assert error["iam_action"] == "lambda:GetFunctionConfiguration"
    assert error["data_keys"] == sorted(awslambda.STATE_KEYS)
    results = judge(document(resources, call.journal, [awslambda.FUNCTION]))
    state = {name: results[("lambda.function-state", name)]["status"] for name in data}
    assert state == {
        "agenticai-ok": "pass",
        "agenticai-idle": "fail",
        "agenticai-broken": "fail",
        "agenticai-unknown": "error",
    }
    assert results[("lambda.function-state", "agenticai-unknown")]["missing_permissions"] == [
        "lambda:GetFunctionConfiguration"
    ]


# --- B. CloudTrail: shadow trails, one resource per trail, status from its home region ------


def trail(arn: str, home: str, **extra: Any) -> dict[str, Any]:
    return {
        "Name": arn.rsplit("/", 1)[1],
        "TrailARN": arn,
        "HomeRegion": home,
        "S3BucketName": "org-cloudtrail-logs",
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": True,
        "IsOrganizationTrail": False,
        "LogFileValidationEnabled": True,
        "HasCustomEventSelectors": False,
        "HasInsightSelectors": False,
        **extra,
    }


SHADOW = {"includeShadowTrails": True}
#: The trail rule relates each trail to the stack's table (a single-region trail must be homed
#: where the table is), so the table's type is collected beside the trails.
TRAIL_TYPES = [cloudtrail.TRAIL, "aws.dynamodb.table"]
TABLE = {
    "type": "aws.dynamodb.table",
    "id": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/agenticai-data",
    "name": "agenticai-data",
    "account": ACCOUNT,
    "region": "us-east-1",
    "data": {"TableName": "agenticai-data"},
}
LOGGING = {
    "IsLogging": True,
    "LatestDeliveryTime": NOW - timedelta(minutes=4),
    "StartLoggingTime": NOW - timedelta(days=300),
}


def test_an_organization_trail_seen_only_as_a_shadow_trail_passes_when_logging() -> None:
    """In a member account an organization trail exists only as a shadow trail: DescribeTrails'
    ``includeShadowTrails`` "Specifies whether to include shadow trails in the response. A
    shadow trail is the replication in a Region of a trail that was created in a different
    Region, or in the case of an organization trail, the replication of an organization trail
    in member accounts. If you do not include shadow trails, organization trails in a member
    account and Region replication trails will not be returned. The default is true." Its
    status is asked by ARN ("If the trail is an organization trail and you are a member
    account in the organization in Organizations, you must provide the full ARN of that
    trail", GetTrailStatus ``Name``), of its home region (botocore model, cloudtrail)."""
    org = trail(ORG_TRAIL, "eu-west-1", IsOrganizationTrail=True)
    with stubbed("cloudtrail", "us-east-1", "eu-west-1") as clients:
        clients["us-east-1"][1].add_response("describe_trails", {"trailList": [org]}, SHADOW)
        clients["eu-west-1"][1].add_response("get_trail_status", LOGGING, {"Name": ORG_TRAIL})
        call = bind(
            cloudtrail.TRAILS_API, clients, "us-east-1", cloudtrail.TRAIL, regions=["us-east-1"]
        )
        [resource] = cloudtrail.collect_trails(call, {})
    assert call.journal.errors == []
    assert (resource["id"], resource["region"], resource["account"]) == (
        ORG_TRAIL,
        "eu-west-1",  # its home region, whichever collected region saw it
        ACCOUNT,  # the member account it was collected in
    )
    assert resource["data"]["IsOrganizationTrail"] is True
    assert resource["data"]["Status"]["IsLogging"] is True
    results = judge(document([resource, TABLE], call.journal, TRAIL_TYPES))
    assert results[("cloudtrail.trail-logging", "org-trail")]["status"] == "pass"


@pytest.mark.parametrize(
    ("code", "status"), [("AccessDeniedException", 400), ("TrailNotFoundException", 400)]
)
def test_a_member_account_denied_the_org_trails_status_is_an_error_not_a_stopped_trail(
    code: str, status: int
) -> None:
    """A member account may be refused the organization trail's status (GetTrailStatus's
    modelled errors include TrailNotFoundException; IAM may deny it outright): the trail is
    listed, its ``Status`` unknown, so trail logging is ``error``, never "not logging"."""
    org = trail(ORG_TRAIL, "eu-west-1", IsOrganizationTrail=True)
    with stubbed("cloudtrail", "us-east-1", "eu-west-1") as clients:
        clients["us-east-1"][1].add_response("describe_trails", {"trailList": [org]}, SHADOW)
        clients["eu-west-1"][1].add_client_error(
            "get_trail_status", code, "not for member accounts", status, {"Name": ORG_TRAIL}
        )
        call = bind(
            cloudtrail.TRAILS_API, clients, "us-east-1", cloudtrail.TRAIL, regions=["us-east-1"]
        )
        [resource] = cloudtrail.collect_trails(call, {})
    assert "Status" not in resource["data"]
    [error] = call.journal.errors
    assert (error["operation"], error["region"], error["code"]) == (
        "GetTrailStatus",
        "eu-west-1",
        code,
    )
    assert (error["resource"], error["data_keys"]) == (ORG_TRAIL, ["Status"])
    results = judge(document([resource, TABLE], call.journal, TRAIL_TYPES))
    [verdict] = [r for (rule, _), r in results.items() if rule == "cloudtrail.trail-logging"]
    assert verdict["status"] == "error"
    assert "GetTrailStatus failed in eu-west-1" in verdict["message"]


def test_each_trail_is_recorded_once_across_the_collected_regions() -> None:
    """DescribeTrails with shadow trails answers, in every region, "all trails in the current
    Region and any associated shadow trails in other Regions" (botocore model, cloudtrail
    DescribeTrails ``trailNameList``): a multi-region trail is seen in each collected region.
    It is kept once: by its home region when collected, else by the first collected region,
    and its status is asked once, of its home region."""
    home = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/agenticai-trail"
    away = f"arn:aws:cloudtrail:ap-southeast-2:{ACCOUNT}:trail/audit"
    seen = [trail(home, "us-east-1"), trail(away, "ap-southeast-2")]
    regions = ["us-east-1", "eu-west-1"]
    with stubbed("cloudtrail", "us-east-1", "eu-west-1", "ap-southeast-2") as clients:
        for region in regions:
            clients[region][1].add_response("describe_trails", {"trailList": seen}, SHADOW)
        clients["us-east-1"][1].add_response("get_trail_status", LOGGING, {"Name": home})
        clients["ap-southeast-2"][1].add_response("get_trail_status", LOGGING, {"Name": away})
        journal = Journal()
        found = []
        for region in regions:  # the runner's two listing units, one per region
            call = bind(
                cloudtrail.TRAILS_API,
                clients,
                region,
                cloudtrail.TRAIL,
                journal=journal,
                regions=regions,
            )
            found.append(cloudtrail.collect_trails(call, {}))
    assert journal.errors == []
    us_east, eu_west = found
    assert eu_west == []  # it saw both, and records neither
    assert sorted((r["id"], r["region"]) for r in us_east) == [
        (away, "ap-southeast-2"),
        (home, "us-east-1"),
    ]
    results = judge(document([*us_east, TABLE], journal, TRAIL_TYPES, regions))
    assert {n: r["status"] for (rule, n), r in results.items() if rule.endswith("-logging")} == {
        "agenticai-trail": "pass",
        "audit": "pass",
    }


# --- E. ListBuckets in pages, with BucketRegion ---------------------------------------------


def settings(stub: Any, name: str) -> None:
    """The four per-bucket setting calls, answered "versioned, nothing else configured"."""
    bucket = {"Bucket": name}
    stub.add_response("get_bucket_versioning", {"Status": "Enabled"}, bucket)
    stub.add_client_error(
        "get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration", "none", 404, bucket
    )
    stub.add_client_error(
        "get_bucket_replication", "ReplicationConfigurationNotFoundError", "none", 404, bucket
    )
    stub.add_client_error(
        "get_bucket_encryption",
        "ServerSideEncryptionConfigurationNotFoundError",
        "none",
        404,
        bucket,
    )


def test_buckets_are_listed_in_pages_with_their_region() -> None:
    """ListBuckets: "Unpaginated ListBuckets requests are only supported for Amazon Web
    Services accounts set to the default general purpose bucket quota of 10,000 ... All
    unpaginated ListBuckets requests will be rejected for Amazon Web Services accounts with a
    general purpose bucket quota greater than 10,000"; ``ContinuationToken`` "is included in
    the response when there are more buckets"; ``BucketRegion`` "indicates the Amazon Web
    Services region where the bucket is located. If the request contains at least one valid
    parameter, it is included in the response" (botocore model, s3 ListBuckets, Bucket).
    moto, given MaxBuckets, returns the first page and no token, and no BucketRegion: the
    pages and the saved GetBucketLocation calls are proven here. Where BucketRegion is
    absent, GetBucketLocation's LocationConstraint gives it: "Buckets in Region us-east-1
    have a LocationConstraint of null. Buckets with a LocationConstraint of EU reside in
    eu-west-1" (GetBucketLocation output)."""
    first = {"MaxBuckets": s3.MAX_BUCKETS}
    page_one = {
        "Buckets": [
            {"Name": "agenticai-generated-code", "CreationDate": NOW, "BucketRegion": "eu-west-1"}
        ],
        "ContinuationToken": "next-1",
    }
    page_two = {
        "Buckets": [
            {"Name": "agenticai-legacy", "CreationDate": NOW},
            {"Name": "agenticai-old", "CreationDate": NOW},
        ]
    }
    with stubbed("s3", "us-east-1") as clients:
        _, stub = clients["us-east-1"]
        stub.add_response("list_buckets", page_one, first)
        stub.add_response("list_buckets", page_two, {**first, "ContinuationToken": "next-1"})
        settings(stub, "agenticai-generated-code")  # no GetBucketLocation: the page said
        stub.add_response(
            "get_bucket_location", {"LocationConstraint": "EU"}, {"Bucket": "agenticai-legacy"}
        )
        settings(stub, "agenticai-legacy")
        stub.add_response("get_bucket_location", {}, {"Bucket": "agenticai-old"})
        settings(stub, "agenticai-old")
        call = bind(s3.API, clients, "us-east-1", s3.BUCKET, recorded_as="global")
        resources = {r["name"]: r for r in s3.collect_buckets(call, {})}
    assert call.journal.errors == []
    code = resources["agenticai-generated-code"]
    assert (code["id"], code["region"]) == ("arn:aws:s3:::agenticai-generated-code", "global")
    assert code["data"]["BucketRegion"] == "eu-west-1"
    assert "LocationConstraint" not in code["data"]  # not asked: the listing said
    legacy = resources["agenticai-legacy"]["data"]
    assert (legacy["LocationConstraint"], legacy["BucketRegion"]) == ("EU", "eu-west-1")
    old = resources["agenticai-old"]["data"]
    assert (old["LocationConstraint"], old["BucketRegion"]) == (None, "us-east-1")
    results = judge(document(list(resources.values()), call.journal, [s3.BUCKET]))
    versioning = results[("s3.code-versioning", "agenticai-generated-code")]
    assert versioning["status"] == "pass"  # a bucket on the second page's kind still decides


def test_a_failed_location_leaves_the_region_undecided() -> None:
    """Without BucketRegion and with GetBucketLocation denied, the region is an error on both
    keys; the runner then refuses to ask for the bucket's metrics anywhere."""
    with stubbed("s3", "us-east-1") as clients:
        _, stub = clients["us-east-1"]
        stub.add_response(
            "list_buckets",
            {"Buckets": [{"Name": "agenticai-backups", "CreationDate": NOW}]},
            {"MaxBuckets": s3.MAX_BUCKETS},
        )
        stub.add_client_error(
            "get_bucket_location", "AccessDenied", "no", 403, {"Bucket": "agenticai-backups"}
        )
        settings(stub, "agenticai-backups")
        call = bind(s3.API, clients, "us-east-1", s3.BUCKET, recorded_as="global")
        [bucket] = s3.collect_buckets(call, {})
    assert "BucketRegion" not in bucket["data"]
    [error] = call.journal.errors
    assert error["data_keys"] == ["BucketRegion", "LocationConstraint"]
    snapshot = document([bucket], call.journal, [s3.BUCKET])
    blocked = blocked_lookup(Snapshot(snapshot).errors_for(bucket))
    assert blocked(frozenset({"BucketRegion"}))
    assert not blocked(frozenset({"Versioning"}))
