"""`runbook-guard check`: the whole pipeline in one command, for the CI gate.

collect -> snapshot.json -> evaluate -> results.json -> reports, all in one output folder, and
the exit code of the gate. Every intermediate file is kept: an auditor can re-run
``evaluate`` on the same snapshot and get the same bytes, and next week's run can take this
results.json as ``--previous`` (it is read before anything is written, so it may be the
results.json in the same output folder), or keep every run with ``--history DIR``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from runbook_guard.cli.app import Command, app, examples
from runbook_guard.cli.common import guarded, noun
from runbook_guard.cli.evaluate import gate_exit
from runbook_guard.cli.history import Kept, load_previous, open_history
from runbook_guard.cli.options import (
    AttestationsOption,
    CadenceOption,
    ConfigOption,
    ExcludeRuleOption,
    FailOnOption,
    FailSeverityOption,
    HistoryKeepOption,
    HistoryOption,
    MaxAttemptsOption,
    MaxConcurrencyOption,
    NowOption,
    OutputDirOption,
    ParamOption,
    PoliciesOption,
    PreviousOption,
    ProfileOption,
    QuietOption,
    RegionOption,
    RoleArnOption,
    RuleOption,
    SeverityOption,
    TagOption,
    WaiversOption,
    selection_of,
)
from runbook_guard.cli.pipeline import (
    Prepared,
    collection_plan,
    collection_scope,
    evaluate,
    prepare,
)
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
from runbook_guard.engine.history import DEFAULT_KEEP
from runbook_guard.engine.snapshot import as_written
from runbook_guard.reporters import ALL_FORMATS, FORMATS, default_paths, write_reports

FormatOption = Annotated[
    list[str] | None,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
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
    *,
    attestations: Path | None = None,
    kept: Kept | None = None,
) -> dict[str, Any]:
    """Collect (or read the templates), evaluate and report into ``output_dir``.

    With templates and no live run, the templates are what is judged (the pre-deploy gate);
    with both, the live results are located on the templates' lines and drift is marked.
    With a history folder, the reports see the runs kept before this one (the newest is the
    previous run unless one is given), and this run is kept once its reports are written.
    """
    unknown = sorted(set(formats) - set(ALL_FORMATS))
    if unknown:
        raise typer.BadParameter(
            f"unknown {noun(len(unknown), 'format')} {', '.join(unknown)}; "
            f"use {', '.join(ALL_FORMATS)}"
        )
    declared = (
        judge_templates(prepared, templates, now, waivers, attestations) if templates else None
    )
    if declared is not None and not live:
        write_json_atomic(output_dir / "snapshot.json", declared.document)
        results = declared.results
    else:
        snapshot = collect(collection_plan(prepared), scope)
        write_json_atomic(output_dir / "snapshot.json", snapshot)  # kept if evaluation fails
        results = evaluate(prepared, as_written(snapshot), now, waivers, attestations)
        if declared is not None:
            declared.join(results)
    write_json_atomic(output_dir / "results.json", results)
    past = kept.past(results) if kept is not None else None
    write_reports(
        results,
        default_paths(output_dir, formats),
        fail_on=prepared.fail_on,
        fail_severity=prepared.fail_severity,
        previous=previous,
        history=past,
    )
    if kept is not None:
        kept.record(results)
    return results


@app.command(
    cls=Command,
    epilog=examples(
        "runbook-guard check -d out                        # the live account, exit 1 if blocked",
        "runbook-guard check -d out --history history      # keep runs: changes, trend, age",
        "runbook-guard check -t template.yaml -d out       # the template, before deploy",
        "runbook-guard check -c runbook-guard.yaml --fail-on warn --region eu-west-1",
    ),
)
def check(
    output_dir: OutputDirOption = Path("runbook-guard-out"),
    policies: PoliciesOption = None,
    param: ParamOption = None,
    config: ConfigOption = None,
    waivers: WaiversOption = None,
    attestations: AttestationsOption = None,
    fail_on: FailOnOption = None,
    fail_severity: FailSeverityOption = None,
    rule: RuleOption = None,
    exclude_rule: ExcludeRuleOption = None,
    tag: TagOption = None,
    severity: SeverityOption = None,
    cadence: CadenceOption = None,
    now: NowOption = None,
    fmt: FormatOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    role_arn: RoleArnOption = None,
    max_attempts: MaxAttemptsOption = 5,
    max_concurrency: MaxConcurrencyOption = DEFAULT_MAX_CONCURRENCY,
    quiet: QuietOption = False,
    previous: PreviousOption = None,
    history: HistoryOption = None,
    history_keep: HistoryKeepOption = DEFAULT_KEEP,
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

    def run() -> tuple[dict[str, Any], Prepared]:
        chosen = selection_of(rule, exclude_rule, tag, severity, cadence)
        prepared = prepare(
            config, policies, param, fail_on, selection=chosen, fail_severity=fail_severity
        )
        before = load_previous(previous)  # before collecting: bad input fails fast
        kept = open_history(history, history_keep)
        scope = collection_scope(
            prepared, profile, region, role_arn, quiet=quiet, max_attempts=max_attempts,
            max_concurrency=max_concurrency,
        )  # fmt: skip
        formats = list(fmt or FORMATS)
        results = run_pipeline(
            prepared, scope, output_dir, formats, now, waivers, before, templates,
            live=live or not templates, attestations=attestations, kept=kept,
        )  # fmt: skip
        return results, prepared

    results, prepared = guarded(run)
    typer.echo(f"reports written to {output_dir}/", err=True)
    gate_exit(results, prepared.fail_on, prepared.fail_severity)
