"""The least-privilege IAM policy for a collection, built from the declared operations.

Generated, never hand-written, so it cannot drift from what the collectors call: adding a call
without declaring it fails at run time, and declaring it adds it here.

``kms:Decrypt`` is never granted by default: with it, Lambda returns the *values* of
environment variables encrypted with a customer managed key to the collecting process (they are
redacted at once and never stored, but they did reach it). Without it, such a function's
environment is an error on its ``Environment`` key, never a pass. ``kms_keys`` is the opt-in,
scoped to exactly the keys named.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from runbook_guard.collectors.partitions import DEFAULT_PARTITION
from runbook_guard.collectors.registry import OPERATION_SETS, is_read_only, load_all
from runbook_guard.engine.errors import InputError

#: A KMS key ARN (not an alias: kms:Decrypt is authorised on the key itself).
KMS_KEY_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
DECRYPT_SID = "RunbookGuardDecryptLambdaEnvironments"
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


def iam_policy(kms_keys: Iterable[str] = (), partition: str = DEFAULT_PARTITION) -> dict[str, Any]:
    """One statement per (service, resource scope), actions sorted, for a stable diff.

    ``partition`` rewrites the ``arn:aws:`` of scoped resources (API Gateway's) for China
    (``aws-cn``) or GovCloud (``aws-us-gov``). ``kms_keys`` adds one statement allowing
    ``kms:Decrypt`` on exactly those key ARNs; a value that is not a key ARN of that partition
    is unusable input.
    """
    load_all()
    keys = _checked_keys(kms_keys, partition)
    grouped: dict[tuple[str, tuple[str, ...]], set[str]] = {}
    for api in OPERATION_SETS:
        for operation in api.operations:
            if not is_read_only(operation):
                raise RuntimeError(f"{api.owner} declares a non-read-only call {operation}")
            resources = tuple(_in_partition(r, partition) for r in api.iam_resources)
            grouped.setdefault((api.service, resources), set()).add(api.iam_action(operation))
    statements = []
    for (service, resources), actions in sorted(grouped.items()):
        statements.append(
            {
                "Sid": f"RunbookGuardRead{service.capitalize()}",
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": list(resources) if len(resources) > 1 else resources[0],
            }
        )
    if keys:
        statements.append(
            {
                "Sid": DECRYPT_SID,
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": keys if len(keys) > 1 else keys[0],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _in_partition(resource: str, partition: str) -> str:
    return (
        f"arn:{partition}:{resource[len('arn:aws:') :]}"
        if resource.startswith("arn:aws:")
        else resource
    )


def _checked_keys(kms_keys: Iterable[str], partition: str) -> list[str]:
    problems = []
    if partition not in PARTITIONS:
        problems.append(f"--partition: {partition!r} is not one of {', '.join(PARTITIONS)}")
    keys = sorted(set(kms_keys))
    for key in keys:
        match = KMS_KEY_ARN.match(key)
        if match is None:
            problems.append(
                f"--kms-key: {key!r} is not a KMS key ARN "
                "(arn:aws:kms:REGION:ACCOUNT:key/KEY-ID; an alias cannot be granted Decrypt)"
            )
        elif match["partition"] != partition:
            problems.append(f"--kms-key: {key!r} is not in the {partition} partition")
    if problems:
        raise InputError(problems)
    return keys


def declared_operations() -> dict[str, set[str]]:
    """Every declared operation by boto3 service name (what a test compares the wire with)."""
    load_all()
    declared: dict[str, set[str]] = {}
    for api in OPERATION_SETS:
        declared.setdefault(api.service, set()).update(api.operations)
    return declared
