"""Partitions: ARNs and global-service clients follow the collected regions' partition.

China regions are partition ``aws-cn`` (ARNs ``arn:aws-cn:...``, endpoints
``*.amazonaws.com.cn``) and GovCloud ``aws-us-gov``; each partition's global services answer
in its own region (the credential scope of IAM's partition endpoint in botocore's
``endpoints.json``: us-east-1, cn-north-1, us-gov-west-1). Nothing here reaches AWS: Stubber
or a ``before-call`` hook answers every call, each answer validated against the model.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.loaders import create_loader
from botocore.validate import validate_parameters

from runbook_guard.collectors import Scope, collect, sqs
from runbook_guard.collectors.context import Account, Context
from runbook_guard.collectors.journal import Journal
from runbook_guard.collectors.partitions import GLOBAL_REGIONS, global_region, partition_of
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.plan import CollectionPlan
from tests.collectors.fidelity import ACCOUNT, bind, stubbed
from tests.collectors.test_faults import Body

CREATED = datetime(2026, 1, 1, tzinfo=timezone.utc)


def session(region: str = "cn-north-1") -> boto3.Session:
    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=region)


def test_each_partitions_global_region_is_botocores() -> None:
    data = create_loader().load_data("endpoints")
    signing = {
        p["partition"]: p["services"]["iam"]["endpoints"][p["services"]["iam"]["partitionEndpoint"]]
        for p in data["partitions"]
        if "partitionEndpoint" in p["services"].get("iam", {})
    }
    for partition, region in GLOBAL_REGIONS.items():
        assert signing[partition]["credentialScope"]["region"] == region
        assert global_region(partition) == region
    assert global_region("aws-no-such-partition") == "us-east-1"


def test_the_partition_of_the_regions() -> None:
    assert partition_of(session(), ["cn-north-1", "cn-northwest-1"]) == "aws-cn"
    assert partition_of(session(), ["us-gov-west-1"]) == "aws-us-gov"
    assert partition_of(session(), ["eu-west-1", "us-east-1"]) == "aws"
    assert partition_of(session(), ["xx-newregion-1"]) == "aws"  # unknown to botocore yet
    with pytest.raises(InputError, match="span several AWS partitions"):
        partition_of(session(), ["us-east-1", "cn-north-1"])


def test_a_china_context_asks_global_services_in_cn_north_1(aws_env: None) -> None:
    context = Context(Scope(regions=["cn-north-1"], session_factory=lambda _: session()), Journal())
    assert (context.partition, context.global_region) == ("aws-cn", "cn-north-1")
    account = Account(context.base, ACCOUNT, "default")
    for service in ("s3", "cloudwatch", "budgets", "iam"):
        made = context.client(account, service, "global")
        assert made.meta.partition == "aws-cn", service
        assert made.meta.endpoint_url.endswith(".amazonaws.com.cn"), made.meta.endpoint_url
    assert context.client(account, "s3", "global").meta.region_name == "cn-north-1"
    reach = context.reach(account, "cloudtrail")
    assert (reach.partition, reach.global_client_region) == ("aws-cn", "cn-north-1")
    assert reach.client_for is not None
    assert reach.client_for("cn-northwest-1").meta.region_name == "cn-northwest-1"


def test_a_queue_id_built_from_its_url_is_in_the_china_partition() -> None:
    """A queue whose attributes were denied gets its id from its URL: in cn-north-1 that id
    must read ``arn:aws-cn:sqs:...``, or rules relating queues by ARN would never match."""
    url = f"https://sqs.cn-north-1.amazonaws.com.cn/{ACCOUNT}/agenticai-pm-queue"
    with stubbed("sqs", "cn-north-1") as clients:
        _, stub = clients["cn-north-1"]
        stub.add_response("list_queues", {"QueueUrls": [url]}, {"MaxResults": 1000})
        stub.add_client_error(
            "get_queue_attributes",
            "AccessDenied",
            "no",
            403,
            {"QueueUrl": url, "AttributeNames": ["All"]},
        )
        call = bind(sqs.API, clients, "cn-north-1", sqs.QUEUE, partition="aws-cn")
        [queue] = sqs.collect_queues(call, {})
    assert queue["id"] == f"arn:aws-cn:sqs:cn-north-1:{ACCOUNT}:agenticai-pm-queue"
    assert call.journal.errors[0]["resource"] == queue["id"]


# --- a whole collection of cn-north-1, every answer from a before-call hook -----------------

ANSWERS: dict[str, Any] = {
    "GetCallerIdentity": {
        "UserId": "AIDAEXAMPLE000000000",
        "Account": ACCOUNT,
        "Arn": f"arn:aws-cn:iam::{ACCOUNT}:user/auditor",
    },
    "GetAccountSettings": {
        "AccountLimit": {"ConcurrentExecutions": 1000},
        "AccountUsage": {"FunctionCount": 5},
    },
    "ListBuckets": {
        "Buckets": [
            {"Name": "agenticai-cn", "CreationDate": CREATED, "BucketRegion": "cn-northwest-1"}
        ]
    },
    "GetBucketVersioning": {"Status": "Enabled"},
    "GetBucketLifecycleConfiguration": "NoSuchLifecycleConfiguration",
    "GetBucketReplication": "ReplicationConfigurationNotFoundError",
    "GetBucketEncryption": "ServerSideEncryptionConfigurationNotFoundError",
    "ListUsers": {
        "Users": [
            {
                "Path": "/",
                "UserName": "deployer",
                "UserId": "AIDAEXAMPLE000000001",
                "Arn": f"arn:aws-cn:iam::{ACCOUNT}:user/deployer",
                "CreateDate": CREATED,
            }
        ],
        "IsTruncated": False,
    },
    "ListAccessKeys": {
        "AccessKeyMetadata": [
            {"UserName": "deployer", "AccessKeyId": "AKIAEXAMPLE000000001", "Status": "Active"}
        ],
        "IsTruncated": False,
    },
    "GetAccessKeyLastUsed": {
        "UserName": "deployer",
        "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"},
    },
    "ListDashboards": {"DashboardEntries": []},
}


def answering(hosts: list[str]) -> Callable[..., Any]:
    def answer(model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        hosts.append(str(params["url"]).split("/")[2])
        known = ANSWERS.get(model.name)
        if isinstance(known, dict):
            validate_parameters(known, model.output_shape)  # as Stubber would
            return AWSResponse(params["url"], 200, HTTPHeaders(), Body(b"")), dict(known)
        code = known or f"Unexpected{model.name}"  # a call the test did not plan fails it
        parsed = {"Error": {"Code": code, "Message": "not configured"}}
        return AWSResponse(params["url"], 404, HTTPHeaders(), Body(b"")), parsed

    return answer


def test_a_china_collection_builds_aws_cn_arns_and_stays_in_china(aws_env: None) -> None:
    hosts: list[str] = []

    def factory(_: str | None) -> boto3.Session:
        made = session()
        made.events.register_first("before-call", answering(hosts))
        return made

    plan = CollectionPlan()
    for resource_type in (
        "aws.lambda.account",
        "aws.s3.bucket",
        "aws.iam.access_key",
        "aws.cloudwatch.dashboard",
    ):
        plan.request(resource_type)
    snapshot = collect(
        plan, Scope(regions=["cn-north-1"], session_factory=factory, max_attempts=1, quiet=True)
    )
    assert snapshot["errors"] == []
    ids = {r["type"]: r["id"] for r in snapshot["resources"]}
    assert ids == {
        "aws.lambda.account": f"arn:aws-cn:lambda:cn-north-1:{ACCOUNT}:account-settings",
        "aws.s3.bucket": "arn:aws-cn:s3:::agenticai-cn",
        "aws.iam.access_key": (
            f"arn:aws-cn:iam::{ACCOUNT}:user/deployer/accesskey/AKIAEXAMPLE000000001"
        ),
    }
    assert hosts, "no call was answered"
    assert all(host.endswith(".amazonaws.com.cn") for host in hosts), hosts
    assert "s3.cn-north-1.amazonaws.com.cn" in hosts  # the global listing, from cn-north-1
    assert "monitoring.cn-north-1.amazonaws.com.cn" in hosts
