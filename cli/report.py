"""`runbook-guard report`: results.json -> JUnit, SARIF, Markdown and/or JSON files.

Pairing of formats and outputs: the n-th ``--output`` belongs to the n-th ``--format``.
Without ``--output``, each format goes to its default file name in ``--output-dir``; with
one format and neither option, the report goes to stdout (``-`` as an output also means
stdout). Relative ``--output`` paths are taken inside ``--output-dir`` when both are given.
The exit code is 0 once the reports are written (2 for unusable input or options): the gate
belongs to ``evaluate``/``check``; ``--fail-on`` here only shapes the reports, and defaults to
the gate the results were evaluated with (``summary.gate.fail_on``; ``fail`` for older files).
``--previous`` names last run's results.json: Markdown then says what changed and SARIF marks
baselineState. The files are written all-or-nothing: if one cannot be written, none is
replaced.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from runbook_guard.cli.app import app
from runbook_guard.cli.common import guarded
from runbook_guard.engine.errors import InputError, problem
from runbook_guard.reporters import (
    DEFAULT_FILENAMES,
    load_results,
    print_summary,
    render_all,
    write_texts_atomic,
)

STDOUT = "-"

PreviousOption = Annotated[
    Path | None,
    typer.Option(
        "--previous",
        help="An earlier run's results.json: report what changed since it (Markdown, SARIF).",
    ),
]


def load_previous(path: Path | None) -> dict[str, Any] | None:
    """The previous run's results, checked like any results file (bad input is exit 2)."""
    return None if path is None else load_results(path)


class Format(str, Enum):
    junit = "junit"
    sarif = "sarif"
    markdown = "markdown"
    json = "json"
    markdown_summary = "markdown-summary"


class FailOn(str, Enum):
    note = "note"
    warn = "warn"
    fail = "fail"
    never = "never"


def plan_outputs(
    formats: list[str],
    outputs: list[str],
    output_dir: Path | None,
    results: Path,
    previous: Path | None = None,
) -> list[tuple[str, Path | None]]:
    """(format, path) pairs, ``None`` meaning stdout; option mistakes are InputErrors."""

    def bad(message: str) -> InputError:
        return InputError([problem("<command line>", None, None, "--output", message)])

    if outputs and len(outputs) != len(formats):
        raise bad(
            f"{len(outputs)} --output for {len(formats)} --format: give one per format, "
            "in the same order, or use --output-dir for default names"
        )
    plan: list[tuple[str, Path | None]] = []
    if outputs:
        for fmt, output in zip(formats, outputs, strict=True):
            if output == STDOUT:
                plan.append((fmt, None))
            else:
                path = Path(output)
                plan.append(
                    (fmt, output_dir / path if output_dir and not path.is_absolute() else path)
                )
    elif output_dir is not None:
        plan = [(fmt, output_dir / DEFAULT_FILENAMES[fmt]) for fmt in formats]
    elif len(formats) == 1:
        plan = [(formats[0], None)]
    else:
        raise bad("several formats need --output per format or --output-dir")
    if sum(path is None for _, path in plan) > 1:
        raise bad("only one report can go to stdout")
    targets = [path.resolve() for _, path in plan if path is not None]
    if len(set(targets)) != len(targets):
        raise bad("two reports would be written to the same file")
    for kind, source in (("results", results), ("previous results", previous)):
        if source is not None and source.resolve() in targets:
            raise bad(f"would overwrite the {kind} file {source}")
    return plan


@app.command()
def report(
    results: Annotated[
        Path, typer.Option("--results", "-r", help="results.json from `evaluate` or `check`.")
    ],
    formats: Annotated[
        list[Format],
        typer.Option(
            "--format",
            "-f",
            help="junit, sarif, markdown, json or markdown-summary (repeatable).",
        ),
    ],
    outputs: Annotated[
        list[str] | None,
        typer.Option(
            "--output", "-o", help="File for the format in the same position ('-' = stdout)."
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-d",
            help="Folder for default names: junit.xml, results.sarif, report.md, report.json, "
            "summary.md.",
        ),
    ] = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on",
            help="Lowest status JUnit marks failed and Markdown's gate counts (note, warn, "
            "fail, never); default: the gate the results were evaluated with.",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No summary table on stderr.")
    ] = False,
    previous: PreviousOption = None,
) -> None:
    """Render a results file as JUnit XML, SARIF 2.1.0, Markdown and/or canonical JSON."""

    def run() -> None:
        names = [fmt.value for fmt in formats]
        plan = plan_outputs(names, outputs or [], output_dir, results, previous)
        document = load_results(results)
        before = load_previous(previous)
        gate = fail_on.value if fail_on is not None else None
        texts = render_all(document, names, fail_on=gate, previous=before)
        files = [(path, text) for (_, path), text in zip(plan, texts, strict=True) if path]
        write_texts_atomic(files)  # all or none
        for (_, path), text in zip(plan, texts, strict=True):
            if path is None:
                sys.stdout.write(text)
                sys.stdout.flush()
        if not quiet:
            print_summary(document)

    guarded(run)
