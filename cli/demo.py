"""`runbook-guard demo`: the whole pipeline against an embedded moto server.

The server is seeded with the runbook's stack, including deliberate violations, so the
reports show every kind of finding without touching a real AWS account. Two manual rules come
with attestations (written to the output folder beside the reports, dated from the day of the
run): one that holds, so the rule passes on a person's word, and one that expired, so it is
``manual`` again, saying so. ``examples/attestations.yaml`` is the same file for the example
snapshot, with fixed dates.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import typer

from runbook_guard.cli.app import Command, app, examples
from runbook_guard.cli.check import FormatOption, run_pipeline
from runbook_guard.cli.common import guarded
from runbook_guard.cli.evaluate import gate_exit
from runbook_guard.cli.options import MaxAttemptsOption, OutputDirOption
from runbook_guard.cli.pipeline import prepare
from runbook_guard.collectors import Scope
from runbook_guard.engine.fileio import write_text_atomic
from runbook_guard.reporters import DEFAULT_FILENAMES, FORMATS

ATTESTATIONS = "attestations.yaml"


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Point boto3 at the local server for the demo only, then restore what was there."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def demo_attestations(today: date) -> str:
    """The demo's attestations file: one check that holds, one that expired, both dated from
    ``today`` so the demo tells the same story whatever day it runs."""

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    return (
        "# Written by `runbook-guard demo`: who checked the manual rules, and until when\n"
        "# (the format: `runbook-guard schema attestations`).\n"
        "attestations:\n"
        "  - rule: backup.restore-tested\n"
        "    by: alice@example.com\n"
        f'    at: "{day(-12)}"\n'
        "    evidence: https://tickets.example.com/OPS-123\n"
        f'    expires: "{day(78)}"\n'
        "    note: restored agenticai-data into a scratch table and compared item counts\n"
        "  - rule: iam.policies-reviewed\n"
        "    by: bob@example.com\n"
        f'    at: "{day(-123)}"\n'
        "    evidence: https://tickets.example.com/SEC-9\n"
        f'    expires: "{day(-1)}"\n'
    )


@app.command(
    short_help="Run the whole pipeline against a local stand-in of the runbook's stack.",
    cls=Command,
    epilog=examples(
        "runbook-guard demo                 # reports in out/",
        "runbook-guard demo -d demo-out -f markdown -f sarif",
        "runbook-guard demo --strict        # exit 1 when the gate blocks, as check does",
    ),
)
def demo(
    output_dir: OutputDirOption = Path("out"),
    fmt: FormatOption = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when the gate blocks, as `check` does.")
    ] = False,
    max_attempts: MaxAttemptsOption = 2,
) -> None:
    """Seed a local moto server with the runbook's stack and run collect, evaluate and report.

    Needs the demo extra (moto). No real AWS account is read: boto3 is pointed at the local
    server for the run only.
    """
    try:
        from runbook_guard.demo.server import DUMMY_ENV, moto_server
        from runbook_guard.demo.stack import seed_runbook_stack
        from runbook_guard.demo.story import seed_story
    except ImportError as missing:  # moto is an optional extra of the package
        typer.echo(f"the demo needs moto: pip install 'runbook-guard[demo]' ({missing})", err=True)
        raise typer.Exit(2) from None

    formats = list(fmt or FORMATS)
    # stand_ins: what moto lacks (CloudTrail history, Free Tier, ...) is the demo's own answer.
    with (
        moto_server(stand_ins=True) as endpoint,
        _environment({**DUMMY_ENV, "AWS_ENDPOINT_URL": endpoint}),
    ):
        # The collectors use boto3's own configuration, exactly as against real AWS.
        typer.echo(f"moto server at {endpoint}: seeding the runbook's stack...", err=True)
        seed_story(endpoint, seed_runbook_stack(endpoint_url=endpoint))

        def run() -> tuple[dict[str, Any], str]:
            prepared = prepare(None, None, None, None)
            scope = Scope(regions=["us-east-1"], quiet=True, max_attempts=max_attempts)
            attestations = output_dir / ATTESTATIONS
            write_text_atomic(attestations, demo_attestations(datetime.now(timezone.utc).date()))
            results = run_pipeline(
                prepared, scope, output_dir, formats, None, None,
                attestations=attestations,
            )  # fmt: skip
            return results, prepared.fail_on

        results, gate = guarded(run)
    reports = [DEFAULT_FILENAMES[fmt] for fmt in formats]
    for name in ("snapshot.json", "results.json", ATTESTATIONS, *reports):
        typer.echo(f"  {output_dir / name}", err=True)
    if strict:
        gate_exit(results, gate)
    else:
        from runbook_guard.reporters.console import print_summary

        print_summary(results)
