#!/usr/bin/env python3
"""Set up the project's virtual environment, then run the demo or the whole test suite.

Only python3 (3.10+) and pip are assumed: everything else is installed into ``.venv`` from
``pyproject.toml``, so a fresh clone and CI run exactly what a developer runs.

    python3 dev.py demo   # the whole pipeline against an embedded moto server
    python3 dev.py test   # ruff, mypy --strict and the pytest suite
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
TYPED_FOLDERS = ["tests", "benchmarks", "dev.py"]


#: setuptools prints a 12-line "Editable installation" banner (a BuildBackendWarning) on every
#: strict editable install; it says nothing a developer acts on. Only that warning is ignored,
#: by its message, in the build backend pip starts: every error and other warning still shows.
QUIET_EDITABLE = "ignore:Editable installation"


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    """Run a command from the repository root and stop at its first failure."""
    print("+", " ".join(str(a) for a in args), flush=True)
    code = subprocess.call([str(a) for a in args], cwd=ROOT, env=env)
    if code != 0:
        sys.exit(code)


def without_editable_banner() -> dict[str, str]:
    """The environment with the editable-install banner filtered (other filters kept)."""
    filters = [f for f in (os.environ.get("PYTHONWARNINGS"), QUIET_EDITABLE) if f]
    return {**os.environ, "PYTHONWARNINGS": ",".join(filters)}


def ensure_environment(extra: str) -> None:
    """Create .venv if needed and install the project (strict editable) with an extra."""
    if sys.version_info < (3, 10):  # noqa: UP036  (dev.py itself may run on an old python3)
        sys.exit("runbook-guard needs Python 3.10 or newer")
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
        run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(
        BIN / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--config-settings", "editable_mode=strict", "-e", f".[{extra}]",
        env=without_editable_banner(),
    )  # fmt: skip


def demo(args: list[str]) -> None:
    ensure_environment("demo")
    run(BIN / "runbook-guard", "demo", "--output-dir", "out", *args)


def test(args: list[str]) -> None:
    ensure_environment("test")
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy", "--strict", "-p", "runbook_guard")
    run(BIN / "mypy", "--strict", *TYPED_FOLDERS)
    # In parallel (pytest-xdist), a module per worker so module-scoped moto seeds run once.
    parallel = [] if any(a.startswith("-n") for a in args) else ["-n", "auto", "--dist", "loadfile"]
    run(BIN / "python", "-m", "pytest", *parallel, *args)


COMMANDS = {"demo": demo, "test": test}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(COMMANDS)}}} [args...]")
    COMMANDS[sys.argv[1]](sys.argv[2:])
