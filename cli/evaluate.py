"""`runbook-guard evaluate`: snapshot + policies -> results.json, and the gate's exit code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from runbook_guard.cli.app import app
from runbook_guard.cli.common import Exit, guarded
from runbook_guard.cli.options import (
    ConfigOption,
    FailOnOption,
    NowOption,
    ParamOption,
    PoliciesOption,
    WaiversOption,
)
from runbook_guard.cli.pipeline import evaluate as evaluate_snapshot
from runbook_guard.cli.pipeline import prepare
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
from runbook_guard.engine.config import blocking
from runbook_guard.engine.errors import InputError, problem
from runbook_guard.engine.fileio import write_json_atomic
from runbook_guard.engine.snapshot import load_snapshot
from runbook_guard.reporters.console import print_summary


def gate_exit(results: dict[str, Any], fail_on: str) -> None:
    """Print the summary and exit 1 when results at or past the gate exist."""
    print_summary(results)
    blocked = blocking(results["results"], fail_on)
    if blocked:
        print(f"{blocked} result(s) at or past --fail-on {fail_on}", file=sys.stderr)
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


@app.command()
def evaluate(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write results.json.")],
    snapshot: Annotated[
        Path | None,
        typer.Option("--snapshot", "-s", help="Snapshot from `collect` (or give --template)."),
    ] = None,
    policies: PoliciesOption = None,
    param: ParamOption = None,
    config: ConfigOption = None,
    waivers: WaiversOption = None,
    now: NowOption = None,
    fail_on: FailOnOption = None,
    template: TemplateOption = None,
    parameter_overrides: OverridesOption = None,
    config_env: ConfigEnvOption = "default",
    stack_name: StackNameOption = None,
    sarif_root: SarifRootOption = None,
    account: AccountOption = None,
) -> None:
    """Evaluate the rules against a snapshot, or a template before deploy; write results.json.

    With both, the snapshot is judged and its findings are located on the template's lines,
    with drift marked where the template passes and the live resource does not.
    """
    templates = TemplateRequest.of(
        template, parameter_overrides, config_env, stack_name, sarif_root, account
    )

    def run() -> tuple[dict[str, Any], str]:
        if snapshot is None and not templates:
            raise InputError(
                [problem("<command line>", None, None, "--snapshot",
                         "give --snapshot (a collection) or --template (a template)")]
            )  # fmt: skip
        inputs = [("snapshot", snapshot), ("waivers", waivers), ("config", config)]
        inputs += [("policy", path) for path in policies or []]
        inputs += [("template", path) for path in templates.paths]
        refuse_overwriting_inputs(output, inputs)
        prepared = prepare(config, policies, param, fail_on)
        declared = judge_templates(prepared, templates, now, waivers) if templates else None
        if snapshot is None:
            assert declared is not None
            write_json_atomic(output, declared.results)
            return declared.results, prepared.fail_on
        results = evaluate_snapshot(prepared, load_snapshot(snapshot), now, waivers)
        if declared is not None:
            declared.join(results)
        write_json_atomic(output, results)
        return results, prepared.fail_on

    results, gate = guarded(run)
    gate_exit(results, gate)
