"""`runbook-guard collect`: read the AWS state the loaded rules need into snapshot.json."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from runbook_guard.cli.app import app
from runbook_guard.cli.common import guarded
from runbook_guard.cli.options import (
    ConfigOption,
    MaxConcurrencyOption,
    ParamOption,
    PoliciesOption,
)
from runbook_guard.cli.pipeline import collection_plan, collection_scope, prepare
from runbook_guard.collectors import collect
from runbook_guard.collectors.pool import DEFAULT_MAX_CONCURRENCY
from runbook_guard.engine.fileio import write_json_atomic


@app.command("collect")
def collect_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write snapshot.json.")],
    policies: PoliciesOption = None,
    param: ParamOption = None,
    config: ConfigOption = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="AWS profile (default: boto3's chain).")
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", "-r", help="Region to collect (repeatable; default: session's)."),
    ] = None,
    role_arn: Annotated[
        list[str] | None,
        typer.Option("--role-arn", help="Assume this role and collect its account (repeatable)."),
    ] = None,
    max_attempts: Annotated[
        int,
        typer.Option(
            "--max-attempts",
            envvar="AWS_MAX_ATTEMPTS",
            min=1,
            help="Attempts per call, first included (botocore standard retry mode).",
        ),
    ] = 5,
    max_concurrency: MaxConcurrencyOption = DEFAULT_MAX_CONCURRENCY,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Collect what the rules need with read-only calls; failed calls become snapshot errors."""

    def run() -> dict[str, Any]:
        prepared = prepare(config, policies, param)
        plan = collection_plan(prepared)
        scope = collection_scope(
            prepared,
            profile,
            region,
            role_arn,
            quiet=quiet,
            max_attempts=max_attempts,
            max_concurrency=max_concurrency,
        )
        snapshot = collect(plan, scope)
        write_json_atomic(output, snapshot)
        return snapshot

    snapshot = guarded(run)
    if not quiet:
        errors = len(snapshot["errors"])
        typer.echo(
            f"{len(snapshot['resources'])} resources, {errors} collection errors, "
            f"{snapshot['metadata']['api_calls']} API calls -> {output}",
            err=True,
        )
