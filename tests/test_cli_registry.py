"""The command table that lets a run import only its own command stays true to the modules."""

from __future__ import annotations

import json
import subprocess
import sys

from runbook_guard.cli.app import COMMAND_MODULES, app, register_commands


def registered_names() -> set[str]:
    commands = {
        c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands
    }
    groups = {g.name or "" for g in app.registered_groups}
    return commands | groups


def test_every_registered_command_is_in_the_table_and_nothing_else() -> None:
    register_commands()
    assert registered_names() == set(COMMAND_MODULES)


def run_python(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return completed.stdout


def test_a_collect_run_imports_neither_the_reporters_nor_the_other_commands() -> None:
    code = (
        "import json, sys\n"
        "from runbook_guard.cli.app import app, register_commands\n"
        "register_commands(['collect', '--output', 'x.json'])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('runbook_guard.'))))\n"
    )
    modules = set(json.loads(run_python(code)))
    assert "runbook_guard.cli.collect" in modules
    assert not {m for m in modules if m.startswith("runbook_guard.reporters")}
    assert "runbook_guard.cli.report" not in modules
    assert "runbook_guard.cli.check" not in modules


def test_help_and_unknown_words_register_every_command() -> None:
    code = (
        "from runbook_guard.cli.app import app, register_commands\n"
        "register_commands(['--help'])\n"
        "print(len(app.registered_commands) + len(app.registered_groups))\n"
    )
    everything = int(run_python(code))
    code_unknown = code.replace("'--help'", "'no-such-command'")
    assert int(run_python(code_unknown)) == everything
    assert everything == len(COMMAND_MODULES)  # one registration per command name


def cli(*args: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "runbook_guard", *args], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_the_console_script_shows_one_command_and_the_whole_list() -> None:
    assert "--max-concurrency" in cli("collect", "--help")
    listing = cli("--help")
    for name in COMMAND_MODULES:
        assert name in listing
