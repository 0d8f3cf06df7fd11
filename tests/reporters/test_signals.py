"""SIGTERM while a report is written leaves no ``.*.tmp`` file behind (issue 11, #8).

CI cancellation sends SIGTERM, and artifact globs pick up whatever is left beside the
reports. The command runs in a real subprocess; ``os.fsync`` is slowed there so that the
signal lands, every time, while a temporary file exists (the window is otherwise a few
milliseconds wide and the test would be a race).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.engine.builders import resource, snapshot_doc

from .factory import bulk_document

pytestmark = pytest.mark.slow  # a real subprocess per test

SLOW_FSYNC = (
    "import os, sys, time\n"
    "os.fsync = lambda fd: time.sleep(60)\n"
    "from runbook_guard.cli.app import main\n"
    "sys.argv = ['runbook-guard', *sys.argv[1:]]\n"
    "main()\n"
)


def _temporaries(folder: Path) -> list[Path]:
    return sorted(folder.rglob(".*.tmp"))


def _terminate_while_writing(args: list[str], out: Path) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_FSYNC, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _temporaries(out):
            if process.poll() is not None or time.monotonic() > deadline:
                stdout, stderr = process.communicate()
                pytest.fail(f"no temporary file appeared (exit {process.returncode}): {stderr}")
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_sigterm_during_report_removes_the_temporary_files(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps(bulk_document(20_000)), encoding="utf-8")
    out = tmp_path / "reports"
    formats = [arg for fmt in ("junit", "sarif", "markdown", "json") for arg in ("-f", fmt)]
    done = _terminate_while_writing(
        ["report", "-r", str(results), *formats, "--output-dir", str(out), "-q"], out
    )
    assert done.returncode != 0
    assert _temporaries(out) == []
    assert sorted(p.name for p in out.iterdir()) == []  # all or nothing: none written
    assert "Traceback" not in done.stderr


def test_sigterm_during_evaluate_removes_the_temporary_file(tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(json.dumps(snapshot_doc([resource("aws.sqs.queue", "agenticai-q", {})])))
    out = tmp_path / "out"
    done = _terminate_while_writing(
        ["evaluate", "-s", str(snapshot), "-o", str(out / "results.json")], out
    )
    assert done.returncode != 0
    assert _temporaries(out) == []
    assert not (out / "results.json").exists()
    assert "Traceback" not in done.stderr
