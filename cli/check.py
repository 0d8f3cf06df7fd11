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
from runbook_guard.cli.template_gate import (
    AccountOption,
    ConfigEnvOption,
    OverridesOption,
    SarifRootOption,
    StackNameOption,
    TemplateOption,
    TemplateRequest,
    judge_templates,
)
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
    templates: TemplateRequest | None = None,
    live: bool = True,
) -> dict[str, Any]:
    """Collect (or read the templates), evaluate and report into ``output_dir``.

    With templates and no live run, the templates are what is judged (the pre-deploy gate);
    with both, the live results are located on the templates' lines and drift is marked.
    """
    unknown = sorted(set(formats) - set(ALL_FORMATS))
    if unknown:
        raise typer.BadParameter(
            f"unknown format(s) {', '.join(unknown)}; use {', '.join(ALL_FORMATS)}"
        )
    declared = judge_templates(prepared, templates, now, waivers) if templates else None
    if declared is not None and not live:
        write_json_atomic(output_dir / "snapshot.json", declared.document)
        results = declared.results
    else:
        snapshot = collect(collection_plan(prepared), scope)
        write_json_atomic(output_dir / "snapshot.json", snapshot)  # kept if evaluation fails
        results = evaluate(prepared, Snapshot(snapshot), now, waivers)
        if declared is not None:
            declared.join(results)
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
    template: TemplateOption = None,
    live: Annotated[
        bool, typer.Option("--live", help="With --template: also collect and judge the live stack.")
    ] = False,
    parameter_overrides: OverridesOption = None,
    config_env: ConfigEnvOption = "default",
    stack_name: StackNameOption = None,
    sarif_root: SarifRootOption = None,
    account: AccountOption = None,
) -> None:
    """Collect, evaluate and report in one go; exit 1 when the gate blocks.

    With --template, judge the template before deploy instead (no AWS call), or beside the
    live stack with --live.
    """
    templates = TemplateRequest.of(
        template, parameter_overrides, config_env, stack_name, sarif_root, account
    )

    def run() -> tuple[dict[str, Any], str]:
        prepared = prepare(config, policies, param, fail_on)
        before = load_previous(previous)  # before collecting: bad input fails fast
        scope = collection_scope(
            prepared, profile, region, role_arn, quiet=quiet, max_concurrency=max_concurrency
        )
        formats = list(fmt or FORMATS)
        results = run_pipeline(
            prepared, scope, output_dir, formats, now, waivers, before, templates,
            live=live or not templates,
        )  # fmt: skip
        return results, prepared.fail_on

    results, gate = guarded(run)
    typer.echo(f"reports written to {output_dir}/", err=True)
    gate_exit(results, gate)
