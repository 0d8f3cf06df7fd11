"""Writing a report to a device, a FIFO or a symlink leaves each what it was (issue 11, #1, #6).

The devices are made here with ``os.mknod`` in a temporary folder, with the numbers of the
null (1, 3) and full (1, 7) devices: never the real ``/dev/null``. Making them needs root
(the suite runs as root here and in CI); elsewhere those tests skip.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import runbook_guard.cli.commands  # noqa: F401  (registers the commands)
from runbook_guard.cli.app import app
from runbook_guard.engine import fileio
from runbook_guard.engine.errors import InputError
from runbook_guard.reporters.writing import write_texts_atomic
from tests.engine.builders import resource, snapshot_doc

Writer = Callable[[Path, str], None]


def _single(path: Path, text: str) -> None:
    fileio.write_text_atomic(path, text)


def _set(path: Path, text: str) -> None:
    write_texts_atomic([(path, text)])


WRITERS = [pytest.param(_single, id="engine.fileio"), pytest.param(_set, id="reporters.writing")]

needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="os.mknod of a character device needs root (the suite runs as root in CI)",
)


def _device(folder: Path, name: str, minor: int) -> Path:
    path = folder / name
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    return path


def _is_char_device(path: Path, minor: int) -> bool:
    info = os.lstat(path)
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == os.makedev(1, minor)


@needs_root
@pytest.mark.parametrize("write", WRITERS)
def test_a_character_device_is_written_through_and_stays_a_device(
    tmp_path: Path, write: Writer
) -> None:
    null = _device(tmp_path, "null", 3)
    write(null, "a report\n")
    assert _is_char_device(null, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]  # no temporary file left


@needs_root
@pytest.mark.parametrize("write", WRITERS)
def test_a_full_device_is_a_write_error_not_silence(tmp_path: Path, write: Writer) -> None:
    full = _device(tmp_path, "full", 7)
    with pytest.raises(InputError, match="cannot write here: No space left on device"):
        write(full, "a report\n")
    assert _is_char_device(full, 7)
    assert [p.name for p in tmp_path.iterdir()] == ["full"]


@needs_root
def test_a_full_device_in_a_set_leaves_the_other_reports_whole(tmp_path: Path) -> None:
    full = _device(tmp_path, "full", 7)
    other = tmp_path / "report.md"
    other.write_text("old\n")
    with pytest.raises(InputError, match="No space left on device"):
        write_texts_atomic([(other, "new\n"), (full, "a report\n")])
    assert other.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "report.md"]


@needs_root
def test_evaluate_to_a_full_device_exits_2_with_one_line(tmp_path: Path) -> None:
    full = _device(tmp_path, "full", 7)
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(json.dumps(snapshot_doc([resource("aws.sqs.queue", "agenticai-q", {})])))
    run = CliRunner().invoke(app, ["evaluate", "-s", str(snapshot), "-o", str(full)])
    assert run.exit_code == 2, run.output
    assert run.stderr.strip().splitlines() == [
        f"{full}:1:1: <document>: cannot write here: No space left on device"
    ]
    assert _is_char_device(full, 7)


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[tuple[Path, list[bytes]]]:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    received: list[bytes] = []

    def read() -> None:
        with open(path, "rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    yield path, received
    if reader.is_alive():  # the writer may never have opened it: release the reader
        # Non-blocking: the reader may finish between is_alive() and here, and a blocking
        # open for writing would then wait forever for a reader that is gone (ENXIO instead).
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    reader.join(timeout=5)


@pytest.mark.parametrize("write", WRITERS)
def test_a_fifo_is_written_through_and_stays_a_fifo(
    fifo: tuple[Path, list[bytes]], write: Writer
) -> None:
    path, received = fifo
    write(path, "a report\n")
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    assert [p.name for p in path.parent.iterdir()] == ["pipe"]
    for _ in range(50):
        if received:
            break
        threading.Event().wait(0.1)
    assert received == [b"a report\n"]


@pytest.mark.parametrize("write", WRITERS)
def test_a_symlink_stays_a_link_and_its_target_gets_the_report(
    tmp_path: Path, write: Writer
) -> None:
    tracked = tmp_path / "tracked" / "report.md"
    tracked.parent.mkdir()
    tracked.write_text("old\n")
    link = tmp_path / "out" / "report.md"
    link.parent.mkdir()
    link.symlink_to(tracked)
    write(link, "new\n")
    assert link.is_symlink()
    assert link.readlink() == tracked
    assert tracked.read_text() == "new\n"
    assert [p.name for p in tracked.parent.iterdir()] == ["report.md"]
    assert [p.name for p in link.parent.iterdir()] == ["report.md"]


@pytest.mark.parametrize("write", WRITERS)
def test_a_dangling_symlink_is_followed_to_a_new_file(tmp_path: Path, write: Writer) -> None:
    link = tmp_path / "report.md"
    link.symlink_to(tmp_path / "real" / "report.md")
    write(link, "new\n")
    assert link.is_symlink()
    assert (tmp_path / "real" / "report.md").read_text() == "new\n"


@pytest.mark.parametrize("write", WRITERS)
def test_a_socket_is_refused(tmp_path: Path, write: Writer) -> None:
    import socket

    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(InputError, match="cannot write here: not a regular file"):
            write(path, "x")
        assert stat.S_ISSOCK(os.lstat(path).st_mode)


def _snapshot(tmp_path: Path) -> Path:
    snapshot = tmp_path / "snap.json"
    snapshot.write_text(json.dumps(snapshot_doc([resource("aws.sqs.queue", "agenticai-q", {})])))
    return snapshot


@pytest.mark.parametrize("via_link", [False, True], ids=["same-path", "through-a-symlink"])
def test_evaluate_refuses_to_overwrite_its_own_snapshot(tmp_path: Path, via_link: bool) -> None:
    snapshot = _snapshot(tmp_path)
    before = snapshot.read_bytes()
    output = snapshot
    if via_link:
        output = tmp_path / "link.json"
        output.symlink_to(snapshot)
    run = CliRunner().invoke(app, ["evaluate", "-s", str(snapshot), "-o", str(output)])
    assert run.exit_code == 2, run.output
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "would overwrite the snapshot file" in lines[0]
    assert str(snapshot) in lines[0]
    assert str(output) in lines[0]
    assert snapshot.read_bytes() == before
