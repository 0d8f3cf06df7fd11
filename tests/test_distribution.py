"""The container image's recipe and the pre-commit hooks.

No Docker engine exists here: the Dockerfile is linted with hadolint (from PyPI, where its
platform has a wheel) and checked for what the image promises (a pinned slim base, a non-root
user, the package's own entry point, the demo as its smoke test), and the package is built
from exactly the build context .dockerignore admits. The hooks' manifest is checked by
pre-commit itself, and each hook's entry is run as pre-commit runs it (entry, args, then the
matching files) with this environment's runbook-guard on PATH, as in a hook environment.
"""

from __future__ import annotations

import re
import shlex
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from docker.utils.build import exclude_paths

from tests.distribution_tools import (
    BIN,
    ROOT,
    load_yaml,
    optional_tool,
    packaged_files,
    run,
    shellcheck,
    template_extra,
    tool,
)

pytestmark = pytest.mark.slow

DOCKERFILE = ROOT / "Dockerfile"
HOOKS = ROOT / ".pre-commit-hooks.yaml"


# --- Dockerfile ---------------------------------------------------------------------------


def hadolint(path: Path) -> tuple[int, str]:
    linter = optional_tool("hadolint", "the structural checks below still run")
    done = run([linter, "--no-color", path])
    return done.returncode, done.stdout + done.stderr


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    code, said = hadolint(DOCKERFILE)
    assert code == 0, said


def test_hadolint_catches_what_the_dockerfile_avoids(tmp_path: Path) -> None:
    """The lint above means something: an unpinned base and a fetched ADD are flagged."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nADD https://example.com/x.tar.gz /x\nRUN pip install x\n")
    code, said = hadolint(bad)
    assert code != 0
    assert {"DL3007", "DL3020", "DL3013"} & set(re.findall(r"DL\d{4}", said))


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def build_args(steps: list[tuple[str, str]]) -> dict[str, str]:
    return dict(rest.split("=", 1) for word, rest in steps if word == "ARG" and "=" in rest)


def test_the_base_image_is_pinned_and_slim() -> None:
    steps = instructions(DOCKERFILE.read_text())
    defaults = build_args(steps)
    bases = [rest.split()[0] for word, rest in steps if word == "FROM"]
    assert bases, "no FROM"
    for base in bases:
        image = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], base)
        # An exact release (3.12.N) of the slim variant on a named Debian, or a digest.
        assert re.fullmatch(r"python:3\.\d+\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", image), image


def test_the_image_runs_runbook_guard_as_a_non_root_user() -> None:
    steps = instructions(DOCKERFILE.read_text())
    final = steps[max(i for i, (word, _) in enumerate(steps) if word == "FROM") :]
    users = [rest for word, rest in final if word == "USER"]
    assert users, "the final stage runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    entry = [rest for word, rest in final if word == "ENTRYPOINT"]
    assert entry == ['["runbook-guard"]']
    # Nothing fetched at build time by ADD: what the image holds comes from the context or pip.
    assert not [rest for word, rest in steps if word == "ADD"]


def test_the_default_image_carries_its_smoke_test() -> None:
    """`docker run --rm IMAGE demo` needs the demo extra, so the default build has it."""
    text = DOCKERFILE.read_text()
    extras = build_args(instructions(text))["EXTRAS"].split(",")
    assert {"template", "demo"} <= set(extras)
    assert "docker run --rm runbook-guard demo" in text
    assert "docker run --rm runbook-guard demo" in (ROOT / "docs" / "install.md").read_text()


def docker_context() -> list[str]:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return sorted(exclude_paths(str(ROOT), patterns))


def test_the_build_context_holds_the_package_and_nothing_local() -> None:
    context = set(docker_context())
    missing = {
        path.relative_to(ROOT).as_posix()
        for path in packaged_files().values()
        if path.relative_to(ROOT).as_posix() not in context
    }
    assert not missing, sorted(missing)
    assert {"pyproject.toml", "README.md"} <= context
    tops = {path.split("/")[0] for path in context}
    assert not tops & {".venv", ".git", "build", "dist", "out", "tests", "runbook_guard.egg-info"}
    assert not [path for path in context if "__pycache__" in path or path.endswith(".pyc")]


def test_the_package_builds_from_the_build_context_alone(tmp_path: Path) -> None:
    """What `COPY . .` then `pip install /src[...]` has to work with, built here."""
    source = tmp_path / "src"
    for name in docker_context():
        target = source / name
        if (ROOT / name).is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target)
    out = tmp_path / "wheel"
    quiet = ["--no-deps", "--no-build-isolation", "--disable-pip-version-check", "-q"]
    built = run([tool("python"), "-m", "pip", "wheel", *quiet, "-w", out, source])
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = out.glob("runbook_guard-*.whl")
    missing = set(packaged_files()) - set(zipfile.ZipFile(wheel).namelist())
    assert not missing, sorted(missing)


# --- pre-commit hooks ---------------------------------------------------------------------


def hooks() -> dict[str, dict[str, Any]]:
    return {hook["id"]: hook for hook in load_yaml(HOOKS)}


def test_pre_commit_accepts_the_manifest() -> None:
    done = run([tool("pre-commit"), "validate-manifest", HOOKS])
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(hooks()) == {
        "runbook-guard-validate",
        "runbook-guard-test",
        "runbook-guard-template",
    }
    for hook in hooks().values():
        assert hook["language"] == "python"
        assert hook["name"]
        assert hook["files"]


def test_pre_commit_refuses_a_manifest_without_an_entry(tmp_path: Path) -> None:
    """The validation above means something."""
    broken = load_yaml(HOOKS)
    del broken[0]["entry"]
    path = tmp_path / ".pre-commit-hooks.yaml"
    path.write_text(yaml.safe_dump(broken))
    done = run([tool("pre-commit"), "validate-manifest", path])
    assert done.returncode != 0
    assert "entry" in done.stdout + done.stderr


def test_the_template_hook_installs_the_template_extra() -> None:
    """The hook environment is `pip install .` plus these: the template extra, kept in step."""
    assert hooks()["runbook-guard-template"]["additional_dependencies"] == template_extra()


def test_shellcheck_finds_nothing_in_the_template_hook(tmp_path: Path) -> None:
    command = shlex.split(hooks()["runbook-guard-template"]["entry"])
    assert command[:2] == ["sh", "-c"]
    code, said = shellcheck(command[2], "sh", tmp_path)
    assert code == 0, said


def run_hook(hook_id: str, files: list[str], cwd: Path, args: list[str] | None = None) -> Any:
    """Run a hook as pre-commit does: entry, then args, then the files (when it takes them)."""
    hook = hooks()[hook_id]
    selected = [f for f in files if re.search(hook["files"], f)]
    command = shlex.split(hook["entry"]) + (hook.get("args", []) if args is None else args)
    if hook.get("pass_filenames", True):
        command += selected
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(cwd)}
    return selected, run(command, cwd, env)


@pytest.fixture
def policy_repo(tmp_path: Path) -> Path:
    """A repository holding a custom pack where the hooks look by default: policies/."""
    pack = tmp_path / "policies" / "agenticai"
    shutil.copytree(
        ROOT / "policies" / "agenticai", pack, ignore=shutil.ignore_patterns("*.py", "*.md")
    )
    return tmp_path


def test_the_policy_hooks_validate_and_test_the_pack(policy_repo: Path) -> None:
    changed = ["policies/agenticai/backup.yaml", "src/app.py"]
    selected, validated = run_hook("runbook-guard-validate", changed, policy_repo)
    assert selected == ["policies/agenticai/backup.yaml"]
    assert validated.returncode == 0, validated.stdout + validated.stderr
    _, tested = run_hook("runbook-guard-test", changed, policy_repo)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert re.search(r"^[1-9]\d* passed, 0 failed", tested.stdout, re.MULTILINE), tested.stdout


def test_the_validate_hook_blocks_a_broken_policy_with_its_line(policy_repo: Path) -> None:
    path = policy_repo / "policies" / "agenticai" / "backup.yaml"
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("    severity: "))
    lines[index] = "    severity: catastrophic"
    path.write_text("\n".join(lines) + "\n")
    _, validated = run_hook(
        "runbook-guard-validate", ["policies/agenticai/backup.yaml"], policy_repo
    )
    said = validated.stdout + validated.stderr
    assert validated.returncode == 2, said
    assert f"backup.yaml:{index + 1}:" in said


@pytest.fixture
def sam_repo(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    shutil.copytree(ROOT / "examples" / "sam-app", app)
    return app


def test_the_template_hook_selects_templates_only() -> None:
    pattern = hooks()["runbook-guard-template"]["files"]
    for name in ("template.yaml", "infra/template.yml", "samtemplate.json"):
        assert re.search(pattern, name), name
    for name in ("templates.yaml", "policies/template-notes.md", "src/app.py", "mytemplate.yaml"):
        assert not re.search(pattern, name), name


def test_the_template_hook_blocks_a_failing_template_and_shows_the_findings(
    sam_repo: Path,
) -> None:
    selected, gated = run_hook("runbook-guard-template", ["template.yaml", "README.md"], sam_repo)
    assert selected == ["template.yaml"]
    # The example app carries deliberate violations; the summary names their template lines.
    assert gated.returncode == 1, gated.stdout + gated.stderr
    assert re.search(r"template\.yaml:\d+", gated.stdout), gated.stdout
    assert not [p for p in sam_repo.iterdir() if p.name.startswith("runbook-guard")]


def test_the_template_hook_passes_options_through(sam_repo: Path) -> None:
    """Options as --name=value in args reach the gate; only the files become templates."""
    _, gated = run_hook("runbook-guard-template", ["template.yaml"], sam_repo, ["--fail-on=never"])
    assert gated.returncode == 0, gated.stdout + gated.stderr
    kept = sam_repo / "reports"
    _, gated = run_hook(
        "runbook-guard-template",
        ["template.yaml"],
        sam_repo,
        ["--fail-on=never", f"--output-dir={kept}"],
    )
    assert gated.returncode == 0, gated.stdout + gated.stderr
    assert (kept / "summary.md").is_file()
