"""The command line's conventions, checked on every registered command by introspection (a new
command or option is held to them on arrival): what to type for each option, no value shown on
flags, ``-h`` and ``--version``, one meaning per short option, choices listed, an example per
command, ``check`` first, ``report`` writing every format by default, correct plurals,
``--max-attempts`` wherever collection happens, and ``dev.py`` without setuptools' banner."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from runbook_guard import __version__
from runbook_guard.cli.app import COMMAND_MODULES, app, register_commands
from runbook_guard.collectors.policy import PARTITIONS
from runbook_guard.engine.config import GATES
from runbook_guard.engine.policy_schema import CADENCES, SEVERITIES
from runbook_guard.reporters import ALL_FORMATS, DEFAULT_FILENAMES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
#: What an option's metavar may say: words in capitals (PATH, KEY=VALUE, ACCOUNT_ID, [PATH]...).
METAVAR = re.compile(r"^\[?[A-Z][A-Z0-9_]*(=[A-Z]+)?\]?(\.\.\.)?$")
#: Options with a fixed set of values, and the values their help must list.
CHOICES: dict[str, tuple[str, ...]] = {
    "--fail-on": tuple(GATES),
    "--fail-severity": tuple(SEVERITIES),
    "--severity": tuple(SEVERITIES),
    "--cadence": tuple(CADENCES),
    "--partition": PARTITIONS,
    "--phase": ("template", "live"),
}
FORMAT_CHOICES: dict[str, tuple[str, ...]] = {
    "check": ALL_FORMATS, "demo": ALL_FORMATS, "report": ALL_FORMATS,
    "coverage": ("table", "markdown"), "rules list": ("table", "json"),
    "rules explain": ("table", "json"), "types": ("table", "json"),
}  # fmt: skip


def commands() -> Iterator[tuple[str, Any]]:
    """(``rules list``, the click command) for every leaf command, in listing order."""
    register_commands()
    root = typer.main.get_command(app)

    def walk(group: Any, prefix: str) -> Iterator[tuple[str, Any]]:
        ctx = group.make_context("runbook-guard", ["--help"], resilient_parsing=True)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            path = f"{prefix} {name}".strip()
            if hasattr(command, "list_commands"):
                yield from walk(command, path)
            else:
                yield path, command

    yield from walk(root, "")


COMMANDS = list(commands())
IDS = [path for path, _ in COMMANDS]


def invoke(*args: str) -> Any:
    register_commands()
    return CliRunner().invoke(app, list(args))


def options(command: Any) -> list[Any]:
    return [p for p in command.params if p.param_type_name == "option"]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_value_says_what_to_type_and_no_flag_shows_one(path: str, command: Any) -> None:
    for param in command.params:
        if getattr(param, "is_flag", False):
            assert not param.metavar, f"{path} {param.opts}: a flag shows no value"
            continue
        assert METAVAR.match(param.metavar or ""), (path, param.opts, param.metavar)
    shown = invoke(*path.split(), "--help").stdout
    assert not re.search(r"<[a-z]", shown), f"{path}: a Python type in its help:\n{shown}"
    for word in ("BOOLEAN", "TEXT", "INTEGER", "FILENAME"):
        assert word not in shown, f"{path}: click's type name {word} in its help"


@pytest.mark.parametrize("path", ["", *IDS, "rules"])
def test_h_is_help_on_every_command(path: str) -> None:
    short, long = invoke(*path.split(), "-h"), invoke(*path.split(), "--help")
    assert (short.exit_code, long.exit_code) == (0, 0)
    assert short.stdout == long.stdout
    assert short.stdout.startswith("Usage: ")


def test_version_on_the_root_prints_the_version() -> None:
    run = invoke("--version")
    assert (run.exit_code, run.stdout) == (0, f"{__version__}\n")
    # The console script answers without importing a single command module.
    script = subprocess.run(
        [sys.executable, "-m", "runbook_guard", "--version"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert script.stdout == f"{__version__}\n"


def test_each_short_option_means_one_thing_on_every_command() -> None:
    meanings: dict[str, set[str]] = defaultdict(set)
    for _, command in COMMANDS:
        for param in options(command):
            longs = [o for o in param.opts if o.startswith("--")]
            for short in (o for o in param.opts if not o.startswith("--")):
                meanings[short].update(longs)
    assert meanings, "no short option found: the introspection is broken"
    several = {short: sorted(longs) for short, longs in meanings.items() if len(longs) != 1}
    assert not several
    assert meanings["-r"] == {"--results"}  # --region has no short option any more


def test_check_is_listed_first_and_the_rest_in_the_declared_order() -> None:
    shown = invoke("--help").stdout
    listing = shown.split("Commands:\n", 1)[1]
    names = [line.split()[0] for line in listing.splitlines() if line.startswith("  ") and
             not line.startswith("   ") and line.strip()]  # fmt: skip
    names = [n for n in names if n in COMMAND_MODULES]
    assert names[0] == "check"
    assert names == list(COMMAND_MODULES)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_shows_an_example_of_itself(path: str, command: Any) -> None:
    assert "Examples:" in (command.epilog or ""), path
    assert f"runbook-guard {path}" in command.epilog
    assert f"runbook-guard {path}" in invoke(*path.split(), "-h").stdout


@pytest.mark.parametrize("group", ["", "rules"])
def test_every_group_shows_examples_too(group: str) -> None:
    shown = invoke(*group.split(), "-h").stdout
    assert "Examples:" in shown
    assert f"runbook-guard {group}".strip() + " " in shown


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_options_with_fixed_values_list_them_in_their_help(path: str, command: Any) -> None:
    for param in options(command):
        name = next(o for o in param.opts if o.startswith("--"))
        choices = FORMAT_CHOICES.get(path, ()) if name == "--format" else CHOICES.get(name, ())
        for choice in choices:
            assert choice in (param.help or ""), f"{path} {name}: {choice!r} not in its help"


@pytest.mark.parametrize("path", ["check", "collect", "demo"])
def test_every_command_that_collects_takes_max_attempts(path: str) -> None:
    [command] = [c for p, c in COMMANDS if p == path]
    assert any("--max-attempts" in p.opts for p in options(command))


def test_report_writes_every_format_unless_told_otherwise(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    invoke("evaluate", "-s", str(EXAMPLES / "snapshot.json"), "-o", str(results))
    assert results.exists()
    run = invoke("report", "-r", str(results), "-d", str(tmp_path / "out"), "-q")
    assert run.exit_code == 0, run.stderr
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert written == {DEFAULT_FILENAMES[fmt] for fmt in ALL_FORMATS}
    nowhere = invoke("report", "-r", str(results), "-q")
    assert nowhere.exit_code == 2
    assert "without --format every format is written: give --output-dir" in nowhere.stderr
    one = invoke("report", "-r", str(results), "-f", "json", "-q")
    assert one.exit_code == 0
    assert one.stdout.startswith("{")


def test_counts_read_as_english(tmp_path: Path) -> None:
    rule = tmp_path / "one.yaml"
    made = invoke("rules", "new", "my-queue-check", "--resource", "aws.sqs.queue",
                  "-o", str(rule))  # fmt: skip
    assert made.exit_code == 0, made.stderr
    assert invoke("validate", str(rule)).stdout == "1 file, 1 rule: valid\n"
    listed = invoke("rules", "list", "-p", str(rule)).stdout
    assert listed.rstrip().endswith("\n1 rule")
    # No "(s)" left in what the commands print.
    for source in (ROOT / "cli").glob("*.py"):
        assert not re.search(r"\w\(s\)", source.read_text()), source


def test_dev_py_silences_only_setuptools_editable_banner(monkeypatch: pytest.MonkeyPatch) -> None:
    """The filter dev.py hands pip's build backend: the banner's warning is ignored, any
    other warning (and every error) still shows, and a developer's own filters are kept."""
    import dev  # the repository root is on pytest's pythonpath

    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    code = (
        "import warnings\n"
        "warnings.warn('Editable installation.\\n!!\\n  ****** banner ******', UserWarning)\n"
        "warnings.warn('something that matters', UserWarning)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=dev.without_editable_banner(),
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    assert "banner" not in done.stderr
    assert "something that matters" in done.stderr
    monkeypatch.setenv("PYTHONWARNINGS", "error::DeprecationWarning")
    assert dev.without_editable_banner()["PYTHONWARNINGS"] == (
        "error::DeprecationWarning,ignore:Editable installation"
    )
