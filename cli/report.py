"""`runbook-guard report`: results.json -> JUnit, SARIF, Markdown and/or JSON files.

Pairing of formats and outputs: the n-th ``--output`` belongs to the n-th ``--format``.
Without ``--output``, each format goes to its default file name in ``--output-dir``; with
one format and neither option, the report goes to stdout (``-`` as an output also means
stdout). Relative ``--output`` paths are taken inside ``--output-dir`` when both are given.
The exit code is 0 once the reports are written (2 for unusable input or options): the gate
belongs to ``evaluate``/``check``; ``--fail-on`` and ``--fail-severity`` here only shape the
reports, and default to the gate the results were evaluated with (``summary.gate``; ``fail``
and no severity floor for older files). A selection (``--rule``, ``--tag``, ...) narrows the
document to the rules it keeps, among those the results hold: a rule that was not evaluated
cannot be selected (exit 2), and the rules left out are listed, never shown as passing.
``--previous`` names last run's results.json: Markdown then says what changed and SARIF marks
baselineState; ``--history DIR`` keeps the results there and reports against the runs kept
before them (cli/history.py). Without ``--format``, every format is written to
``--output-dir``. The files are written all-or-nothing: if one cannot be written, none is
replaced.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from runbook_guard.cli.app import Command, app, examples
from runbook_guard.cli.common import guarded
from runbook_guard.cli.history import Kept, load_previous, open_history
from runbook_guard.cli.options import (
    CadenceOption,
    ExcludeRuleOption,
    FailSeverityOption,
    HistoryKeepOption,
    HistoryOption,
    PreviousOption,
    RuleOption,
    SeverityOption,
    TagOption,
    selection_of,
)
from runbook_guard.engine.errors import InputError, problem
from runbook_guard.engine.history import DEFAULT_KEEP
from runbook_guard.engine.selection import severity_problem
from runbook_guard.reporters import (
    ALL_FORMATS,
    DEFAULT_FILENAMES,
    load_results,
    print_summary,
    render_all,
    write_texts_atomic,
)

STDOUT = "-"


class FailOn(str, Enum):
    note = "note"
    warn = "warn"
    fail = "fail"
    never = "never"


def _bad_output(message: str) -> InputError:
    return InputError([problem("<command line>", None, None, "--output", message)])


def chosen_formats(formats: list[str], outputs: list[str], output_dir: Path | None) -> list[str]:
    """The formats asked for, or every format when none is (which needs ``--output-dir``)."""
    unknown = [fmt for fmt in formats if fmt not in ALL_FORMATS]
    if unknown:
        raise InputError(
            [
                problem("<command line>", None, None, "--format",
                        f"unknown format {name!r}: use one of {', '.join(ALL_FORMATS)}")
                for name in unknown
            ]
        )  # fmt: skip
    if formats:
        return formats
    if outputs:
        raise _bad_output("give a --format for each --output (in the same order)")
    if output_dir is None:
        raise _bad_output(
            "without --format every format is written: give --output-dir DIR, or --format "
            "FORMAT for one report on stdout"
        )
    return list(ALL_FORMATS)


def plan_outputs(
    formats: list[str],
    outputs: list[str],
    output_dir: Path | None,
    results: Path,
    previous: Path | None = None,
) -> list[tuple[str, Path | None]]:
    """(format, path) pairs, ``None`` meaning stdout; option mistakes are InputErrors."""
    if outputs and len(outputs) != len(formats):
        raise _bad_output(
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
        raise _bad_output("several formats need --output per format or --output-dir")
    if sum(path is None for _, path in plan) > 1:
        raise _bad_output("only one report can go to stdout")
    targets = [path.resolve() for _, path in plan if path is not None]
    if len(set(targets)) != len(targets):
        raise _bad_output("two reports would be written to the same file")
    for kind, source in (("results", results), ("previous results", previous)):
        if source is not None and source.resolve() in targets:
            raise _bad_output(f"would overwrite the {kind} file {source}")
    return plan


@app.command(
    short_help="Render a results file as JUnit, SARIF, Markdown, JSON and more.",
    cls=Command,
    epilog=examples(
        "runbook-guard report -r results.json -d out             # every format",
        "runbook-guard report -r results.json -f markdown          # one format, on stdout",
        "runbook-guard report -r results.json -d out --history history",
        "runbook-guard report -r results.json -f junit -f sarif -o junit.xml -o results.sarif",
    ),
)
def report(
    results: Annotated[
        Path,
        typer.Option(
            "--results",
            "-r",
            metavar="PATH",
            help="results.json from `evaluate` or `check`.",
        ),
    ],
    formats: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help=f"Report format (repeatable): {', '.join(ALL_FORMATS)}; default: all of them "
            "(with --output-dir).",
        ),
    ] = None,
    outputs: Annotated[
        list[str] | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="File for the format in the same position ('-' = stdout).",
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-d",
            metavar="DIR",
            help="Folder for the default names: "
            + ", ".join(DEFAULT_FILENAMES[fmt] for fmt in ALL_FORMATS)
            + ".",
        ),
    ] = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on",
            metavar="STATUS",
            help="Lowest status JUnit marks failed and Markdown's gate counts: note, warn, "
            "fail or never; default: the gate the results were evaluated with.",
        ),
    ] = None,
    fail_severity: FailSeverityOption = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No summary table on stderr.")
    ] = False,
    previous: PreviousOption = None,
    history: HistoryOption = None,
    history_keep: HistoryKeepOption = DEFAULT_KEEP,
    rule: RuleOption = None,
    exclude_rule: ExcludeRuleOption = None,
    tag: TagOption = None,
    severity: SeverityOption = None,
    cadence: CadenceOption = None,
) -> None:
    """Render a results file as JUnit XML, SARIF 2.1.0, Markdown and the other formats.

    Without --format, every format is written to --output-dir; with one --format and no
    --output, the report goes to stdout.
    """

    def run() -> dict[str, Any]:
        names = chosen_formats(list(formats or []), outputs or [], output_dir)
        plan = plan_outputs(names, outputs or [], output_dir, results, previous)
        bad_floor = severity_problem(fail_severity, "--fail-severity") if fail_severity else None
        if bad_floor:
            raise InputError([bad_floor])
        kept: Kept | None = open_history(history, history_keep)
        evaluated = document = load_results(results)
        chosen = selection_of(rule, exclude_rule, tag, severity, cadence)
        if chosen.active:
            from runbook_guard.engine.reselect import select_results

            document = select_results(document, chosen)
        before = load_previous(previous)
        past = kept.past(evaluated) if kept is not None else None
        gate = fail_on.value if fail_on is not None else None
        texts = render_all(
            document, names, fail_on=gate, fail_severity=fail_severity, previous=before,
            history=past,
        )  # fmt: skip
        files = [(path, text) for (_, path), text in zip(plan, texts, strict=True) if path]
        write_texts_atomic(files)  # all or none
        for (_, path), text in zip(plan, texts, strict=True):
            if path is None:
                sys.stdout.write(text)
                sys.stdout.flush()
        if kept is not None:
            kept.record(evaluated)  # what was evaluated, whatever the selection showed of it
        return document

    document = guarded(run)
    if not quiet:
        print_summary(document)
