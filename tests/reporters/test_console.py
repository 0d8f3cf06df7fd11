"""The console summary: a status x severity table on stderr, markup-proof."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from runbook_guard.reporters import print_summary


def _printed(results: dict[str, Any], **kwargs: Any) -> str:
    buffer = io.StringIO()
    print_summary(results, Console(file=buffer, width=120, color_system=None), **kwargs)
    return buffer.getvalue()


def test_counts_by_status_and_severity(results: dict[str, Any]) -> None:
    text = _printed(results)
    fail_row = next(line for line in text.splitlines() if "│ fail " in line)
    assert fail_row.split("│")[2:][:2] == ["        1 ", "    2 "]
    assert "11 results" in text
    assert "2 collection errors, by cause and IAM action:" in text
    assert "1 \u00d7 AccessDenied on sqs:GetQueueAttributes (us-east-1): 1 queue" in text
    assert "see the report" not in text
    assert "fail-on" not in text  # the caller prints its own gate


def test_gate_line_when_asked(results: dict[str, Any]) -> None:
    assert "fail-on warn: 6 results at or past the gate" in _printed(results, fail_on="warn")


def test_tool_name_is_not_rich_markup(results: dict[str, Any]) -> None:
    results["tool"]["name"] = "[bold red]x[/bold red]"
    assert "[bold red]x[/bold red]" in _printed(results)


def test_default_console_is_stderr(results: dict[str, Any], capsys: Any) -> None:
    print_summary(results)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "fail" in captured.err
