"""Partitions: the ``arn:<partition>:`` of the ARNs collectors build, and where global services
answer in each partition.

AWS has several partitions (``aws``, ``aws-cn`` in China, ``aws-us-gov`` in GovCloud, ...),
each with its own ARNs and its own endpoint for global services (IAM, Budgets, S3 listing,
CloudWatch dashboards). Both come from botocore's endpoint data for the regions collected, so
a collection of ``cn-north-1`` builds ``arn:aws-cn:`` ids and asks ``cn-north-1`` for what is
global, never ``us-east-1`` with credentials it does not accept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import UnknownRegionError
from botocore.loaders import create_loader

from runbook_guard.engine.errors import InputError

DEFAULT_PARTITION = "aws"
#: Where each partition's global services answer: the credential scope of IAM's partition
#: endpoint in botocore's ``endpoints.json`` (``aws-global`` signs for us-east-1,
#: ``aws-cn-global`` for cn-north-1, ``aws-us-gov-global`` for us-gov-west-1). Read from that
#: data at run time; this table is the fallback should the data ever lack the entry, and a test
#: checks the two agree.
GLOBAL_REGIONS: Mapping[str, str] = {
    "aws": "us-east-1",
    "aws-cn": "cn-north-1",
    "aws-us-gov": "us-gov-west-1",
}


@cache
def _endpoints() -> dict[str, Any]:
    data: dict[str, Any] = create_loader().load_data("endpoints")
    return data


def global_region(partition: str) -> str:
    """The region a partition's global services answer in (IAM's signing region there)."""
    for entry in _endpoints().get("partitions", []):
        if entry.get("partition") != partition:
            continue
        iam = entry.get("services", {}).get("iam", {})
        endpoint = iam.get("endpoints", {}).get(iam.get("partitionEndpoint", ""), {})
        region = endpoint.get("credentialScope", {}).get("region")
        if region:
            return str(region)
    return GLOBAL_REGIONS.get(partition, GLOBAL_REGIONS[DEFAULT_PARTITION])


def partition_of(session: boto3.Session, regions: Iterable[str]) -> str:
    """The one partition the collected regions belong to.

    One set of credentials lives in one partition, so regions of two partitions cannot be
    collected together: that is unusable input (exit 2), not something to half-collect. A
    region botocore does not know yet (a new one) counts as ``aws``, as boto3 would sign it.
    """
    found: dict[str, list[str]] = {}
    for region in regions:
        try:
            partition = session.get_partition_for_region(region)
        except UnknownRegionError:
            partition = DEFAULT_PARTITION
        found.setdefault(partition, []).append(region)
    if len(found) > 1:
        parts = "; ".join(f"{p}: {', '.join(r)}" for p, r in sorted(found.items()))
        raise InputError([f"--region: the regions span several AWS partitions ({parts})"])
    return next(iter(found), DEFAULT_PARTITION)


def build_arn(partition: str, service: str, region: str, account: str, resource: str) -> str:
    """``arn:<partition>:<service>:<region>:<account>:<resource>`` (region or account may be "")."""
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"
