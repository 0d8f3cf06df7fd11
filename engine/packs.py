"""Where policy files come from: paths, the shipped packs by name, and a lone file's pack.

A pack is a folder of policy files. The shipped ones live in the installed package
(``runbook_guard.policies.<name>``), so after ``pip install`` they are reachable by name
(``-p agenticai``) wherever site-packages is. A word that is also an existing local path is
taken as the path: what a user has in front of them wins over what the package holds, and a
local folder shadowing a pack name is visible in the file names every problem and report
shows.

A single file of a pack (``-p policies/agenticai/security.yaml``) loads with its pack's
header: the ``pack.yaml`` beside it contributes its parameters and data tables (never its
rules), so the file's ``${parameters}`` resolve as they do when the whole pack loads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from runbook_guard.engine.errors import problem

POLICY_SUFFIXES = (".yaml", ".yml")
DATA_FOLDER = "data"
#: The file of a pack holding its name, parameters and data tables.
PACK_FILE = "pack.yaml"
#: A runbook's expectation inventory; a pack beside one is held to its id forms.
INVENTORY_FILE = "EXPECTATIONS.md"
#: What a pack name looks like on the command line: one word, no folder, no suffix.
_PACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def builtin_policies() -> Path:
    """Where the shipped packs live once installed."""
    return Path(str(resources.files("runbook_guard.policies")))


def shipped_packs() -> dict[str, Path]:
    """Every shipped pack by name: the folders of the installed policies holding a pack file."""
    root = builtin_policies()
    return {
        folder.name: folder
        for folder in sorted(root.iterdir())
        if folder.is_dir() and (folder / PACK_FILE).is_file()
    }


def default_sources() -> list[Path]:
    """What loads when no policies are named: every shipped pack."""
    return list(shipped_packs().values())


def has_inventory(folder: Path) -> bool:
    """Whether a pack folder ships a runbook inventory (its ids must then be the runbook's)."""
    return (folder / INVENTORY_FILE).is_file()


@dataclass(frozen=True)
class Source:
    """One policy file to read; a header contributes its pack, parameters and data only."""

    path: Path
    header_only: bool = False


def _looks_like_name(path: Path) -> bool:
    text = str(path)
    return bool(_PACK_NAME.match(text)) and path.suffix not in POLICY_SUFFIXES


def resolve(path: Path) -> Path | str:
    """The path itself when it exists, else the shipped pack of that name; else a problem."""
    if path.exists():
        return path
    known = shipped_packs()
    if _looks_like_name(path):
        if str(path) in known:
            return known[str(path)]
        names = ", ".join(known) or "none"
        message = f"no such file or folder, nor a shipped pack (known packs: {names})"
        return problem(str(path), 1, 1, "", message)
    return problem(str(path), 1, 1, "", "no such file or folder")


def _policy_files(folder: Path) -> list[Path]:
    return [
        p for p in sorted(folder.rglob("*"))
        if p.suffix in POLICY_SUFFIXES and p.is_file()
        and DATA_FOLDER not in p.relative_to(folder).parts[:-1]
    ]  # fmt: skip


def discover(paths: Sequence[Path]) -> tuple[list[Source], list[str]]:
    """The policy files under the given paths and pack names, in a stable order.

    A file given alone brings its folder's ``pack.yaml`` as a header, placed before it; a
    header that a folder also brings in full is read in full, once.
    """
    sources: dict[Path, bool] = {}
    problems: list[str] = []
    for given in paths:
        found = resolve(given)
        if isinstance(found, str):
            problems.append(found)
        elif found.is_dir():
            for path in _policy_files(found):
                sources[path] = False
        else:
            header = found.parent / PACK_FILE
            if header.is_file() and found.name != PACK_FILE:
                sources.setdefault(header, True)
            sources[found] = False
    return [Source(path, header_only) for path, header_only in sources.items()], problems
