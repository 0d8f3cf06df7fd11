"""Atomic writes and size-bounded reads shared by every stage."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

from runbook_guard.engine.errors import InputError, problem


def write_text_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and rename it into place.

    A crash or a full disk then leaves either the old report or the new one, never half of
    one that a CI system would upload as if it were complete.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(21, "is a folder, not a file")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError([problem(str(path), 1, 1, "", f"cannot write here: {reason}")]) from None
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; reports are ordinary files
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as error:  # a full disk, a vanished folder: the old file stays whole
        Path(tmp).unlink(missing_ok=True)
        reason = error.strerror or str(error)
        raise InputError([problem(str(path), 1, 1, "", f"cannot write here: {reason}")]) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def canonical_json(document: Any) -> str:
    """The one JSON form every stage writes: sorted keys, two-space indent, trailing newline.

    Sorting keys is what makes the same inputs give the same bytes. orjson writes it an order
    of magnitude faster than the standard library's indenting encoder, which matters for a
    results.json of half a million results.
    """
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"


def write_json_atomic(path: Path, document: Any) -> None:
    """Write a document in canonical JSON, atomically."""
    write_text_atomic(path, canonical_json(document))
