"""The distribution: `python -m build` makes an sdist and a wheel (the wheel built from the
sdist, so the sdist holds what a build needs), twine accepts both, and the wheel installed
into a fresh virtual environment runs the demo, validates and tests the shipped pack.

The fresh environment gets the wheel alone (`--no-deps`) and sees the development
environment's packages through a .pth file: a full dependency install takes minutes and the
network. What that gives up, an undeclared import that the development environment happens to
have, is caught by test_every_third_party_import_is_a_declared_dependency instead.
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
import sysconfig
import tarfile
import venv
import zipfile
from email.parser import Parser
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.distribution_tools import ROOT, packaged_files, pyproject, run, tool

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist and the wheel that `python -m build` makes from the sdist, offline."""
    out = tmp_path_factory.mktemp("dist")
    built = run([tool("python"), "-m", "build", "--no-isolation", "--outdir", out, ROOT])
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (sdist,) = out.glob("runbook_guard-*.tar.gz")
    (wheel,) = out.glob("runbook_guard-*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def wheel(dist: tuple[Path, Path]) -> Path:
    return dist[1]


def wheel_metadata(wheel: Path) -> dict[str, list[str]]:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        message = Parser().parsestr(archive.read(name).decode())
    return {key: message.get_all(key) or [] for key in set(message.keys())}


def test_twine_accepts_the_sdist_and_the_wheel(dist: tuple[Path, Path]) -> None:
    checked = run([tool("twine"), "check", "--strict", *dist])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2, checked.stdout


def test_twine_check_refuses_a_long_description_that_does_not_render(
    wheel: Path, tmp_path: Path
) -> None:
    """The check above means something: the same wheel with a broken description fails it."""
    broken = tmp_path / wheel.name
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith(".dist-info/METADATA"):
                head = data.decode().split("\n\n", 1)[0]
                head = head.replace("text/markdown", "text/x-rst")
                data = (head + "\n\nTitle\n==\n\n.. unknown-directive:: x\n\n`broken\n").encode()
            target.writestr(item, data)
    checked = run([tool("twine"), "check", "--strict", broken])
    assert checked.returncode != 0
    assert "FAILED" in checked.stdout


def test_the_wheel_has_one_top_level_name(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"runbook_guard"}
    top_level = [n for n in names if n.endswith("top_level.txt")]
    if top_level:
        assert zipfile.ZipFile(wheel).read(top_level[0]).decode().split() == ["runbook_guard"]


def test_every_module_policy_schema_and_template_is_in_the_wheel(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = packaged_files()
    # The derivation itself is checked: the shipped pack and the schemas are among them.
    assert "runbook_guard/policies/agenticai/pack.yaml" in expected
    assert "runbook_guard/schemas/policy.schema.json" in expected
    assert "runbook_guard/reporters/templates/report.md.j2" in expected
    missing = sorted(set(expected) - names)
    assert not missing, f"missing from the wheel: {missing}"
    for folder in ("policies", "schemas"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                inside = "runbook_guard/" + path.relative_to(ROOT).as_posix()
                assert inside in names, f"{inside} is missing from the wheel"


def test_the_sdist_holds_what_a_build_needs_and_nothing_local(dist: tuple[Path, Path]) -> None:
    sdist, _ = dist
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1] for m in archive.getmembers() if "/" in m.name}
    needed = {"pyproject.toml", "README.md", "PKG-INFO"}
    needed |= {path.relative_to(ROOT).as_posix() for path in packaged_files().values()}
    if (ROOT / "LICENSE").exists():
        needed.add("LICENSE")
    assert not sorted(needed - members), f"missing from the sdist: {sorted(needed - members)}"
    local = [m for m in members if m.split("/")[0] in {".venv", "build", "dist", "out", ".git"}]
    assert not local, local
    assert not [m for m in members if "__pycache__" in m or m.endswith(".pyc")]


def test_the_wheel_declares_the_console_script_and_the_readme(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "runbook-guard = runbook_guard.cli.app:main" in text
    metadata = wheel_metadata(wheel)
    assert metadata["Description-Content-Type"] == ["text/markdown"]
    assert set(metadata["Provides-Extra"]) >= {"demo", "template"}


def runtime_imports(source: str) -> set[str]:
    """Top-level names a module imports when it runs (imports under TYPE_CHECKING excluded)."""
    tree = ast.parse(source)
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def install_closure(requirements: list[str]) -> set[str]:
    """Every distribution that installing these requirements brings, extras and markers
    applied, as the development venv's metadata declares them."""
    found: set[str] = set()
    pending = [(Requirement(r), "") for r in requirements]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonical(requirement.name)
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in found:
            continue
        found |= {key, name}
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue  # not installed here (a marker for another platform): nothing below it
        for wanted in ["", *requirement.extras]:
            pending += [(Requirement(r), wanted) for r in requires]
    return found


def test_every_third_party_import_is_a_declared_dependency(wheel: Path) -> None:
    """What the --no-deps install below cannot see: an import that installing the package
    would not bring (directly or through a declared requirement)."""
    project = pyproject()["project"]
    extras = project["optional-dependencies"]
    # The test extra is for the suite: a module of the package may not rely on it.
    declared = [*project["dependencies"], *extras["demo"], *extras["template"]]
    # A declared requirement counts under any marker (tomli for Python 3.10 is imported only
    # there); what they bring in turn counts as this interpreter would install it.
    allowed = install_closure(declared) | {canonical(Requirement(r).name) for r in declared}
    assert "pytest" not in allowed
    providers = packages_distributions()
    undeclared: dict[str, set[str]] = {}
    seen: set[str] = set()
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if not name.endswith(".py"):
                continue
            for top in runtime_imports(archive.read(name).decode()):
                seen.add(top)
                if top in sys.stdlib_module_names or top in {"runbook_guard", "__future__"}:
                    continue
                if not {canonical(d) for d in providers.get(top, [top])} & allowed:
                    undeclared.setdefault(top, set()).add(name)
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
    assert {"boto3", "yaml", "typer", "jinja2"} <= seen  # the scan read the package's imports


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel alone, with the development venv's packages visible."""
    env_dir = tmp_path_factory.mktemp("fresh") / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    # The development pip installs into the fresh interpreter; nothing is fetched.
    done = run(
        [
            tool("python"),
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "-q",
            wheel,
        ]
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Added after the install, so pip never saw the development copy as already installed. A
    # plain path line: the development venv's own .pth files (its editable install of this
    # project) are not run, so runbook_guard can only come from the wheel.
    fresh_site = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    development = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(fresh_site.stdout.strip()) / "development-venv.pth").write_text(
        "\n".join(sorted(development)) + "\n"
    )
    return env_dir


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def test_runbook_guard_runs_from_the_wheel_not_the_checkout(
    installed: Path, tmp_path: Path
) -> None:
    where = run(
        [installed / "bin" / "python", "-c", "import runbook_guard; print(runbook_guard.__file__)"],
        cwd=tmp_path,
        env=clean_env(),
    )
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(str(installed)), where.stdout
    shown = run([installed / "bin" / "runbook-guard", "--help"], cwd=tmp_path, env=clean_env())
    assert shown.returncode == 0, shown.stderr
    assert "evaluate" in shown.stdout
    assert "demo" in shown.stdout


def test_the_installed_wheel_validates_and_tests_the_shipped_pack(
    installed: Path, tmp_path: Path
) -> None:
    validated = run(
        [installed / "bin" / "runbook-guard", "validate"], cwd=tmp_path, env=clean_env()
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "valid" in validated.stdout + validated.stderr
    tested = run([installed / "bin" / "runbook-guard", "test"], cwd=tmp_path, env=clean_env())
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert re.search(r"^[1-9]\d* passed, 0 failed", tested.stdout, re.MULTILINE), tested.stdout


def test_the_installed_wheel_runs_the_demo(installed: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    demo = run(
        [installed / "bin" / "runbook-guard", "demo", "--output-dir", out],
        cwd=tmp_path,
        env=clean_env(),
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    for name in ("snapshot.json", "results.json", "junit.xml", "results.sarif", "report.md"):
        assert (out / name).is_file(), f"the demo wrote no {name}"
    results = json.loads((out / "results.json").read_text())
    statuses = {r["status"] for r in results["results"]}
    # The demo's stack carries deliberate violations: a run that found none did not run.
    assert "fail" in statuses
    assert "pass" in statuses
    sarif = json.loads((out / "results.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["results"]
