"""`runbook-guard iam-policy`: the read-only IAM policy that `collect` needs, and no more."""

from __future__ import annotations

import typer

from runbook_guard.cli.app import app
from runbook_guard.collectors.policy import iam_policy as build_policy
from runbook_guard.engine.fileio import canonical_json


@app.command("iam-policy")
def iam_policy() -> None:
    """Print the least-privilege IAM policy JSON for `collect`.

    Built from the operations the collectors declare. With --role-arn, attach it to the
    collecting role; the caller then also needs sts:AssumeRole on that role.
    """
    typer.echo(canonical_json(build_policy()), nl=False)
