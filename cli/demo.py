"""`runbook-guard demo`: the whole pipeline against an embedded moto server.

The server is seeded with the runbook's stack, including deliberate violations, so the
reports show every kind of finding without touching a real AWS account.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from runbook_guard.cli.app import app
from runbook_guard.cli.check import FormatOption, OutputDirOption, run_pipeline
from runbook_guard.cli.common import guarded
from runbook_guard.cli.evaluate import gate_exit
from runbook_guard.cli.pipeline import prepare
from runbook_guard.collectors import Scope
from runbook_guard.reporters import FORMATS


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


@app.command()
def demo(
    output_dir: OutputDirOption = Path("out"),
    fmt: FormatOption = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when the gate blocks, as `check` does.")
    ] = False,
) -> None:
    """Seed a local moto server with the runbook's stack and run collect, evaluate and report."""
    try:
        from runbook_guard.demo.server import DUMMY_ENV, moto_server
        from runbook_guard.demo.stack import seed_runbook_stack
    except ImportError as missing:  # moto is an optional extra of the package
        typer.echo(f"the demo needs moto: pip install 'runbook-guard[demo]' ({missing})", err=True)
        raise typer.Exit(2) from None

    with moto_server() as endpoint, _environment({**DUMMY_ENV, "AWS_ENDPOINT_URL": endpoint}):
        # The collectors use boto3's own configuration, exactly as against real AWS.
        typer.echo(f"moto server at {endpoint}: seeding the runbook's stack...", err=True)
        seed_runbook_stack(endpoint_url=endpoint)

        def run() -> tuple[dict[str, Any], str]:
            prepared = prepare(None, None, None, None)
            scope = Scope(regions=["us-east-1"], quiet=True, max_attempts=2)
            results = run_pipeline(prepared, scope, output_dir, list(fmt or FORMATS), None, None)
            return results, prepared.fail_on

        results, gate = guarded(run)
    for name in ("snapshot.json", "results.json", "report.md", "junit.xml", "results.sarif"):
        typer.echo(f"  {output_dir / name}", err=True)
    if strict:
        gate_exit(results, gate)
    else:
        from runbook_guard.reporters.console import print_summary

        print_summary(results)
