"""Issue 11 defect 11: text from a policy file never reaches the terminal as control codes."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from runbook_guard.cli import commands as _registers_commands  # noqa: F401
from runbook_guard.cli.app import app
from runbook_guard.cli.common import printable

OSC_TITLE = "\x1b]0;owned\x07"


def test_printable_escapes_control_characters_and_keeps_text() -> None:
    assert printable(f"rule {OSC_TITLE} é ✓") == "rule \\x1b]0;owned\\x07 é ✓"
    assert printable("tab\there") == "tab\\there"


def test_validate_prints_an_escape_sequence_from_a_policy_escaped(tmp_path: Path) -> None:
    policy = tmp_path / "hostile.yaml"
    policy.write_text('rules:\n  - id: "\\e]0;owned\\a"\n    title: t\n')
    result = CliRunner().invoke(app, ["validate", str(policy)])
    assert result.exit_code == 2
    assert "owned" in result.output  # the hostile id is quoted in the problem line...
    assert "\x1b" not in result.output  # ...as text, not as a control sequence
    assert "\x07" not in result.output
