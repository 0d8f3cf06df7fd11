"""Atomic writes and size-bounded reads shared by every stage."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from runbook_guard.engine.errors import InputError, problem


def _cannot_write(path: Path, error: OSError) -> InputError:
    reason = error.strerror or str(error)
    return InputError([problem(str(path), 1, 1, "", f"cannot write here: {reason}")])


def resolve_target(path: Path) -> tuple[Path, bool]:
    """Where a report for ``path`` really goes, and whether it is written through.

    A symlink is followed to its target, so the link stays a link and the file it names gets
    the report. A character device (``/dev/null``, a terminal) or a FIFO is written through
    (opened and written, never renamed over: replacing ``/dev/null`` with a regular file would
    break the whole system). A regular file or a new name gets an atomic replace (``False``).
    A folder, a block device or a socket is refused with an ``OSError``.
    """
    try:
        info = os.stat(path)  # follows symlinks, /dev/stdout's /proc magic link included
    except FileNotFoundError:
        return Path(os.path.realpath(path)), False  # new file, or a dangling link's target
    mode = info.st_mode
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return path, True
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise OSError(22, "not a regular file, a character device or a FIFO")
    return Path(os.path.realpath(path)), False


def write_through(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Open ``path`` (a device or a FIFO) and write ``data`` (or its chunks, in turn); errors
    such as ENOSPC raise."""
    fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
    try:
        for chunk in [data] if isinstance(data, bytes) else data:
            view = memoryview(chunk)
            while view:
                written = os.write(fd, view)
                view = view[written:]
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and rename it into place.

    A crash or a full disk then leaves either the old report or the new one, never half of
    one that a CI system would upload as if it were complete. Symlinks are written through
    to their target (the temporary file goes beside the target); character devices and FIFOs
    are written through directly (``resolve_target``).
    """
    write_bytes_atomic(path, [text.encode("utf-8")])


def write_bytes_atomic(path: Path, chunks: Iterable[bytes]) -> None:
    """``write_text_atomic`` for content made while it is written: ``chunks`` are written in
    turn to the temporary file, which replaces ``path`` only once the last one is written (a
    chunk that raises leaves the old file whole)."""
    path = Path(path)
    try:
        target, through = resolve_target(path)
        if through:
            write_through(target, chunks)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise _cannot_write(path, error) from None
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; reports are ordinary files
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as error:  # a full disk, a vanished folder: the old file stays whole
        Path(tmp).unlink(missing_ok=True)
        raise _cannot_write(path, error) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


CANONICAL = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def canonical_json(document: Any) -> str:
    """The one JSON form every stage writes: sorted keys, two-space indent, trailing newline.

    Sorting keys is what makes the same inputs give the same bytes. orjson writes it an order
    of magnitude faster than the standard library's indenting encoder, which matters for a
    results.json of half a million results.
    """
    return orjson.dumps(document, option=CANONICAL).decode() + "\n"


def write_json_atomic(path: Path, document: Any) -> None:
    """Write a document in canonical JSON, atomically.

    A top-level value that is an iterable but no JSON value (a snapshot's resources read back
    from disk in order, ``collectors.spill.Spilled``) is written as an array item by item,
    so the whole document is never in memory; the bytes are those ``canonical_json`` gives
    the same document with a list there.
    """
    if isinstance(document, Mapping) and any(map(_streamed, document.values())):
        write_bytes_atomic(path, _canonical_chunks(document))
    else:
        write_text_atomic(path, canonical_json(document))


def _streamed(value: Any) -> bool:
    json_values = (str, bytes, list, tuple, dict, int, float, bool, type(None))
    return isinstance(value, Iterable) and not isinstance(value, json_values)


def _canonical_chunks(document: Mapping[str, Any]) -> Iterator[bytes]:
    """``canonical_json(document)`` in pieces: each top-level value alone, nested by one level
    (orjson escapes newlines in strings, so every newline it writes is structural)."""
    for position, key in enumerate(sorted(document)):
        yield (b",\n  " if position else b"{\n  ") + orjson.dumps(key) + b": "
        value = document[key]
        if _streamed(value):
            yield from _array(value)
        else:
            yield _nested(orjson.dumps(value, option=CANONICAL), 1)
    yield b"\n}\n" if document else b"{}\n"


def _array(items: Iterable[Any]) -> Iterator[bytes]:
    opening = b"[\n    "
    for item in items:
        yield opening + _nested(orjson.dumps(item, option=CANONICAL), 2)
        opening = b",\n    "
    yield b"[]" if opening == b"[\n    " else b"\n  ]"


def _nested(data: bytes, depth: int) -> bytes:
    return data.replace(b"\n", b"\n" + b"  " * depth)
