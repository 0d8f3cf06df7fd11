"""`runbook-guard check`: the whole pipeline in one command, for the CI gate.

collect -> snapshot.json -> evaluate -> results.json -> reports, all in one output folder, and
the exit code of the gate. Every intermediate file is kept: an auditor can re-run
``evaluate`` on the same snapshot and get the same bytes, and next week's run can take this
results.json as ``--previous`` (it is read before anything is written, so it may be the
results.json in the same output folder).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from runbook_guard.cli.app import app
from runbook_guard.cli.common import guarded
from runbook_guard.cli.evaluate import gate_exit
from runbook_guard.cli.options import (
    ConfigOption,
    FailOnOption,
    MaxConcurrencyOption,
    NowOption,
    ParamOption,
    PoliciesOption,
    WaiversOption,
)
from runbook_guard.cli.pipeline import (
    Prepared,
    collection_plan,
    collection_scope,
    evaluate,
    prepare,
)
from runbook_guard.cli.report import PreviousOption, load_previous
from runbook_guard.collectors import Scope, collect
from runbook_guard.collectors.pool import DEFAULT_MAX_CONCURRENCY
from runbook_guard.engine.fileio import write_json_atomic
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.reporters import ALL_FORMATS, FORMATS, default_paths, write_reports

OutputDirOption = Annotated[
    Path, typer.Option("--output-dir", "-d", help="Folder for snapshot, results and reports.")
]
FormatOption = Annotated[
    list[str] | None,
    typer.Option(
        "--format",
        "-f",
        help=f"Report format (repeatable): {', '.join(ALL_FORMATS)}; default: "
        f"{', '.join(FORMATS)}.",
    ),
]


def run_pipeline(
    prepared: Prepared,
    scope: Scope,
    output_dir: Path,
    formats: list[str],
    now: str | None,
    waivers: Path | None,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Collect, evaluate and report into ``output_dir``; returns the results document."""
    unknown = sorted(set(formats) - set(ALL_FORMATS))
    if unknown:
        raise typer.BadParameter(
            f"unknown format(s) {', '.join(unknown)}; use {', '.join(ALL_FORMATS)}"
        )
    snapshot = collect(collection_plan(prepared), scope)
    write_json_atomic(output_dir / "snapshot.json", snapshot)
    results = evaluate(prepared, Snapshot(snapshot), now, waivers)
    write_json_atomic(output_dir / "results.json", results)
    paths = default_paths(output_dir, formats)
    write_reports(results, paths, fail_on=prepared.fail_on, previous=previous)
    return results


@app.command()
def check(
    output_dir: OutputDirOption = Path("runbook-guard-out"),
    policies: PoliciesOption = None,
    param: ParamOption = None,
    config: ConfigOption = None,
    waivers: WaiversOption = None,
    fail_on: FailOnOption = None,
    now: NowOption = None,
    fmt: FormatOption = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile.")] = None,
    region: Annotated[
        list[str] | None, typer.Option("--region", "-r", help="Region (repeatable).")
    ] = None,
    role_arn: Annotated[
        list[str] | None, typer.Option("--role-arn", help="Role to assume (repeatable).")
    ] = None,
    max_concurrency: MaxConcurrencyOption = DEFAULT_MAX_CONCURRENCY,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    previous: PreviousOption = None,
) -> None:
    """Collect, evaluate and report in one go; exit 1 when the gate blocks."""

    def run() -> tuple[dict[str, Any], str]:
        prepared = prepare(config, policies, param, fail_on)
        before = load_previous(previous)  # before collecting: bad input fails fast
        scope = collection_scope(
            prepared, profile, region, role_arn, quiet=quiet, max_concurrency=max_concurrency
        )
        formats = list(fmt or FORMATS)
        results = run_pipeline(prepared, scope, output_dir, formats, now, waivers, before)
        return results, prepared.fail_on

    results, gate = guarded(run)
    typer.echo(f"reports written to {output_dir}/", err=True)
    gate_exit(results, gate)
