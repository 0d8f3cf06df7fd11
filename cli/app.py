"""The typer application: thin glue from command-line words to the pipeline stages.

Every command lives in its own module and registers itself on ``app`` with ``cls=Command``
and its ``examples``; this module creates the app with the help conventions every command
shares (``-h``, ``--version``, the listing order, what to type for each value) and maps the
outcome to an exit code.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from runbook_guard import __version__

#: The module that registers each top-level command, in the order ``--help`` lists them: the
#: command most people want first, then the stages it chains, then the tools around them. A
#: run imports only its command's module: importing all of them (reporters, rich tables, the
#: template reader) cost every ``collect`` a few hundred milliseconds of start-up before its
#: first API call.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "check": ("check",),
    "collect": ("collect",),
    "evaluate": ("evaluate",),
    "report": ("report",),
    "demo": ("demo",),
    "iam-policy": ("iam_policy",),
    "plan": ("org",),
    "validate": ("policy_commands",),
    "test": ("policy_commands",),
    "rules": ("rules", "rules_explain", "rules_new"),
    "coverage": ("coverage",),
    "schema": ("discovery",),
    "types": ("discovery",),
    "version": ("version",),
}

#: ``-h`` beside ``--help`` on every command (subcommands inherit the root's setting).
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


class OrderedGroup(TyperGroup):
    """Lists commands in ``COMMAND_MODULES`` order, not in the order their modules happened
    to be imported (``check`` imports ``evaluate`` and ``report`` before registering)."""

    def list_commands(self, ctx: Any) -> list[str]:  # click's Context (typer vendors click)
        order = list(COMMAND_MODULES)
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


class Command(TyperCommand):
    """Typer's command, with each argument shown by what to type (its metavar) and nothing
    else: typer appends the Python type to an argument's help line (``ID <str>``) and wraps a
    required one in braces in the usage line (``{ID}``), even when the metavar says it all."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument" and not getattr(param, "hidden", False):
                required = "  [required]" if param.required else ""
                arguments.append((_shown(param), (getattr(param, "help", "") or "") + required))
            elif param.param_type_name == "option":
                record = param.get_help_record(ctx)
                if record is not None:
                    options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                shown = _shown(param)
                pieces.append(shown if param.required or shown.startswith("[") else f"[{shown}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


def _shown(argument: Any) -> str:
    return str(argument.metavar or argument.name.upper())


def examples(*lines: str) -> str:
    """A command's epilog: how it is typically run, kept as written (no re-wrapping)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


#: Plain help (``rich_markup_mode=None``): options with what to type, wrapped to the terminal,
#: the same in a CI log as at a terminal; rich's panels showed Python types (``<list[Path]>``)
#: and ``<bool>`` on flags, and kept a docstring's line breaks mid-sentence.
app = typer.Typer(
    name="runbook-guard",
    help="Check an AWS account against its operations runbook: collect, evaluate, report.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=OrderedGroup,
    rich_markup_mode=None,
    context_settings=CONTEXT_SETTINGS,
)


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback(
    epilog=examples(
        "runbook-guard check -d out        # collect, evaluate and report; the gate's exit code",
        "runbook-guard demo                # the whole pipeline against a local AWS stand-in",
        "runbook-guard check -h            # one command's options",
    )
)
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Check an AWS account against its operations runbook: collect, evaluate, report."""


def register_commands(argv: Sequence[str] | None = None) -> None:
    """Register the command ``argv`` names, or every command (help, an unknown word, tests).

    The command is the first word that is not an option (the root's options take no value:
    ``--help``, ``-h`` and ``--version``, which needs no command at all).
    """
    words = list(argv or ())
    name = next((word for word in words if not word.startswith("-")), None)
    if name is None and "--version" in words:
        return  # answered by the root's option: nothing to import
    wanted = COMMAND_MODULES.get(name or "")
    modules = (
        wanted if wanted is not None else sorted({m for ms in COMMAND_MODULES.values() for m in ms})
    )
    for module in modules:
        importlib.import_module(f"runbook_guard.cli.{module}")


def main() -> None:
    """Console-script entry point.

    Bad input is handled inside each command (exit 2 with positioned problems). Anything
    else that escapes is a bug in runbook-guard: say so in one line and exit 3, so a CI log
    never mistakes a crash for findings; RUNBOOK_GUARD_DEBUG=1 shows the traceback.
    """
    register_commands(sys.argv[1:])
    try:
        app(standalone_mode=True)
    except Exception as error:  # the last line of defence, by design
        if os.environ.get("RUNBOOK_GUARD_DEBUG") == "1":
            raise
        name = type(error).__name__
        print(
            f"runbook-guard: internal error: {name}: {error} (a bug: please report it; "
            "RUNBOOK_GUARD_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        sys.exit(3)
