"""Reports are written atomically: a failure leaves the previous file whole."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runbook_guard.engine import fileio
from runbook_guard.engine.errors import InputError


def test_a_failed_write_leaves_the_previous_report_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.md"
    fileio.write_text_atomic(target, "old report\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(InputError, match="cannot write here: No space left on device"):
        fileio.write_text_atomic(target, "new report\n")
    assert target.read_text() == "old report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_written_files_get_ordinary_permissions(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "results.json"
    fileio.write_json_atomic(target, {"b": 1, "a": [1, 2]})
    assert target.read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'
    assert (
        stat.S_IMODE(target.stat().st_mode) & 0o044
    )  # readable by group/others under a normal umask


def test_an_output_path_that_is_a_folder_or_unreachable_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        fileio.write_text_atomic(tmp_path, "x")
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="cannot write here"):
        fileio.write_text_atomic(tmp_path / "file" / "below" / "out.json", "x")
