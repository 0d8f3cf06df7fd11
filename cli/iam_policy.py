"""`runbook-guard iam-policy`: the read-only IAM policy that `collect` needs, and no more."""

from __future__ import annotations

from typing import Annotated

import typer

from runbook_guard.cli.app import app
from runbook_guard.cli.common import guarded
from runbook_guard.collectors.policy import iam_policy as build_policy
from runbook_guard.engine.fileio import canonical_json

KmsKeyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--kms-key",
        help=(
            "Also allow kms:Decrypt on this KMS key ARN (repeatable), so that Lambda "
            "environments encrypted with it can be checked. Their values then reach the "
            "collecting process (redacted at once, never stored); without it those functions "
            "are 'error' on the secrets rule."
        ),
    ),
]
PartitionOption = Annotated[
    str,
    typer.Option("--partition", help="ARN partition of scoped resources: aws, aws-cn, aws-us-gov."),
]


@app.command("iam-policy")
def iam_policy(kms_key: KmsKeyOption = None, partition: PartitionOption = "aws") -> None:
    """Print the least-privilege IAM policy JSON for `collect`.

    Built from the operations the collectors declare. With --role-arn, attach it to the
    collecting role; the caller then also needs sts:AssumeRole on that role. It grants no
    kms:Decrypt unless --kms-key names the keys.
    """
    policy = guarded(lambda: build_policy(kms_key or (), partition))
    typer.echo(canonical_json(policy), nl=False)
