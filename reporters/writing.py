"""Writing a set of reports all-or-nothing.

``engine.fileio.write_text_atomic`` makes one file atomic; a set of reports (JUnit for the
test tab, SARIF for code scanning, Markdown for the summary) must also agree with each other,
so a run that can write some of them and not others must leave the previous set whole rather
than a new junit.xml beside last week's report.md. Two phases: every temporary file is
written and synced beside its target first; only when all succeeded is each renamed into
place. Any failure in the first phase unlinks every temporary file and touches no target.

The renames of the second phase are not one atomic step across folders (POSIX has none), but
each is a metadata operation in a folder already proven writable, so a failure there is a
crash, not a full disk or a missing permission.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from runbook_guard.engine.errors import InputError, problem
from runbook_guard.engine.fileio import resolve_target, write_through


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _cannot_write(path: Path, error: OSError) -> InputError:
    reason = error.strerror or str(error)
    return InputError([problem(str(path), 1, 1, "", f"cannot write here: {reason}")])


def _stage(path: Path, text: str, mode: int) -> Path:
    """Write ``text`` to a synced temporary file beside ``path`` and return its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        os.chmod(tmp, mode)  # mkstemp makes 0600; reports are ordinary files
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_texts_atomic(files: Sequence[tuple[Path, str]]) -> None:
    """Write every (path, text) or none: an unwritable target leaves all previous files.

    Symlinks are followed (the temporary file goes beside the link's target, which is
    replaced; the link stays). Character devices and FIFOs are written through, after every
    regular target is staged and before any is renamed, so a device's write error (ENOSPC)
    still leaves every previous regular file whole.
    """
    mode = 0o666 & ~_umask()
    staged: list[tuple[Path, Path]] = []
    through: list[tuple[Path, Path, str]] = []
    try:
        for path, text in files:
            path = Path(path)
            try:
                target, direct = resolve_target(path)
                if direct:
                    through.append((path, target, text))
                else:
                    staged.append((_stage(target, text, mode), target))
            except OSError as error:
                raise _cannot_write(path, error) from None
        for path, target, text in through:
            try:
                write_through(target, text.encode("utf-8"))
            except OSError as error:
                raise _cannot_write(path, error) from None
        for index, (tmp, target) in enumerate(staged):
            try:
                os.replace(tmp, target)
            except OSError as error:
                for left, _ in staged[index:]:
                    left.unlink(missing_ok=True)
                staged.clear()
                raise _cannot_write(target, error) from None
        staged.clear()
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
