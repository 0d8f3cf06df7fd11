"""`runbook-guard evaluate`: snapshot + policies -> results.json, and the gate's exit code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from runbook_guard.cli.app import Command, app, examples
from runbook_guard.cli.common import Exit, counted, guarded
from runbook_guard.cli.history import open_history
from runbook_guard.cli.options import (
    AttestationsOption,
    CadenceOption,
    ConfigOption,
    ExcludeRuleOption,
    FailOnOption,
    FailSeverityOption,
    HistoryKeepOption,
    HistoryOption,
    NowOption,
    ParamOption,
    PoliciesOption,
    RuleOption,
    SeverityOption,
    TagOption,
    WaiversOption,
    selection_of,
)
from runbook_guard.cli.org import ManifestOption, merged_shards
from runbook_guard.cli.pipeline import Prepared, prepare
from runbook_guard.cli.pipeline import evaluate as evaluate_snapshot
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
from runbook_guard.engine.config import document_blocking
from runbook_guard.engine.errors import InputError, problem
from runbook_guard.engine.fileio import write_json_atomic
from runbook_guard.engine.history import DEFAULT_KEEP
from runbook_guard.engine.snapshot import Snapshot, load_snapshot
from runbook_guard.reporters.console import print_summary


def gate_exit(results: dict[str, Any], fail_on: str, fail_severity: str | None = None) -> None:
    """Print the summary and exit 1 when results at or past the gate exist.

    The summary comes last: it ends with the collection errors grouped by cause and IAM
    action, the lines a reader of a CI log acts on first.
    """
    blocked = document_blocking(results, fail_on, fail_severity)
    if blocked:
        floor = (
            f" --fail-severity {fail_severity} (an error at any severity)" if fail_severity else ""
        )
        print(
            f"{counted(blocked, 'result')} at or past --fail-on {fail_on}{floor}", file=sys.stderr
        )
    print_summary(results)
    if blocked:
        raise typer.Exit(Exit.FINDINGS)


def refuse_overwriting_inputs(output: Path, inputs: list[tuple[str, Path | None]]) -> None:
    """Exit 2 when ``--output`` is one of the command's own inputs (resolved, links followed)."""
    target = output.resolve()
    for kind, source in inputs:
        if source is not None and source.resolve() == target:
            raise InputError(
                [
                    problem(
                        "<command line>",
                        None,
                        None,
                        "--output",
                        f"--output {output} would overwrite the {kind} file {source}",
                    )
                ]
            )


@app.command(
    short_help="Evaluate the rules against a snapshot or a template; write results.json.",
    cls=Command,
    epilog=examples(
        "runbook-guard evaluate -s snapshot.json -o results.json",
        "runbook-guard evaluate -s snapshot.json -o results.json --attestations attestations.yaml",
        "runbook-guard evaluate -t template.yaml -o results.json   # before deploy, no AWS call",
        "runbook-guard evaluate --manifest manifest.json -s 'shards/*.json' -o results.json",
    ),
)
def evaluate(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="PATH", help="Where to write results.json."),
    ],
    snapshot: Annotated[
        list[Path] | None,
        typer.Option(
            "--snapshot",
            "-s",
            metavar="PATH",
            help="Snapshot from `collect` (or give --template); with --manifest, the shards' "
            "snapshots (repeatable, or a quoted glob).",
        ),
    ] = None,
    manifest: ManifestOption = None,
    policies: PoliciesOption = None,
    param: ParamOption = None,
    config: ConfigOption = None,
    waivers: WaiversOption = None,
    attestations: AttestationsOption = None,
    history: HistoryOption = None,
    history_keep: HistoryKeepOption = DEFAULT_KEEP,
    now: NowOption = None,
    fail_on: FailOnOption = None,
    fail_severity: FailSeverityOption = None,
    rule: RuleOption = None,
    exclude_rule: ExcludeRuleOption = None,
    tag: TagOption = None,
    severity: SeverityOption = None,
    cadence: CadenceOption = None,
    template: TemplateOption = None,
    parameter_overrides: OverridesOption = None,
    config_env: ConfigEnvOption = "default",
    stack_name: StackNameOption = None,
    sarif_root: SarifRootOption = None,
    account: AccountOption = None,
) -> None:
    """Evaluate the rules against a snapshot, or a template before deploy; write results.json.

    With both, the snapshot is judged and its findings are located on the template's lines,
    with drift marked where the template passes and the live resource does not. With
    --history, the results are also kept there, for `report --history` to compare with.
    """
    templates = TemplateRequest.of(
        template, parameter_overrides, config_env, stack_name, sarif_root, account
    )

    def run() -> tuple[dict[str, Any], Prepared]:
        snapshots = list(snapshot or [])
        if len(snapshots) > 1 and manifest is None:
            raise InputError(["several --snapshot are shards of one plan: give its --manifest"])
        if not snapshots and not templates:
            raise InputError(
                [problem("<command line>", None, None, "--snapshot",
                         "give --snapshot (a collection) or --template (a template)")]
            )  # fmt: skip
        inputs: list[tuple[str, Path | None]] = [
            ("snapshot", path) for path in snapshots if "*" not in str(path)
        ]
        inputs += [("waivers", waivers), ("config", config), ("manifest", manifest)]
        inputs += [("attestations", attestations)]
        inputs += [("policy", path) for path in policies or []]
        inputs += [("template", path) for path in templates.paths]
        refuse_overwriting_inputs(output, inputs)
        chosen = selection_of(rule, exclude_rule, tag, severity, cadence)
        prepared = prepare(
            config, policies, param, fail_on, selection=chosen, fail_severity=fail_severity
        )
        kept = open_history(history, history_keep)
        declared = (
            judge_templates(prepared, templates, now, waivers, attestations) if templates else None
        )
        if not snapshots:
            assert declared is not None
            results = declared.results
        else:
            judged = (
                Snapshot(merged_shards(manifest, [str(path) for path in snapshots]))
                if manifest is not None
                else load_snapshot(snapshots[0])
            )
            results = evaluate_snapshot(prepared, judged, now, waivers, attestations)
            if declared is not None:
                declared.join(results)
        write_json_atomic(output, results)
        if kept is not None:
            kept.record(results)
        return results, prepared

    results, prepared = guarded(run)
    gate_exit(results, prepared.fail_on, prepared.fail_severity)
