"""A small GitHub Actions runner: a workflow's own jobs, as a runner would run them, here.

No Actions runner exists on this machine, so the example workflow's jobs are run the way
GitHub runs them, as far as the example needs: `${{ }}` expressions (contexts, `fromJSON`,
the status functions, `==`, `!=`, `&&`, `||`, `!`), job and step `if:` (an implicit
`success() &&` unless a status function is named), matrices, job outputs through
`GITHUB_OUTPUT`, the job summary, and `run:` steps executed verbatim by bash with the
workflow's, job's and step's `env`. The actions the example uses are played by stand-ins that
do what the real ones do to the workspace: artifacts are kept between jobs (a name can be
uploaded once, as in upload-artifact v4; download by name fails when it is missing, by pattern
it finds what there is), credentials are exported for later steps, SARIF and JUnit files are
checked and recorded. An action or a context it does not know fails the run, so the example
cannot grow a step this runner silently skips.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!(),])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_*][A-Za-z0-9_-]*)*))"
)
STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")


class UnsupportedError(AssertionError):
    """The workflow uses something this runner does not play: the test must fail, not skip."""


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        if not match:
            raise UnsupportedError(f"cannot read the expression {text!r} at {position}")
        kind = match.lastgroup
        assert kind is not None
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


@dataclass
class _Parser:
    """Recursive descent over GitHub's expression grammar (the part the example uses)."""

    tokens: list[tuple[str, str]]
    lookup: Callable[[str], Any]
    call: Callable[[str, list[Any]], Any]
    at: int = 0

    def peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        self.at += 1
        return self.tokens[self.at - 1]

    def expression(self) -> Any:
        left = self.conjunction()
        while self.peek() == "||":
            self.take()
            right = self.conjunction()
            left = left if truthy(left) else right
        return left

    def conjunction(self) -> Any:
        left = self.unary()
        while self.peek() == "&&":
            self.take()
            right = self.unary()
            left = right if truthy(left) else left
        return left

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        left = self.primary()
        if self.peek() in ("==", "!="):
            operator = self.take()[1]
            same = equal(left, self.primary())
            return same if operator == "==" else not same
        return left

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text) if "." in text else int(text)
        if text == "(":
            inner = self.expression()
            assert self.take()[1] == ")"
            return inner
        if kind != "name":
            raise UnsupportedError(f"unexpected {text!r}")
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self.peek() == "(":
            self.take()
            arguments: list[Any] = []
            while self.peek() != ")":
                arguments.append(self.expression())
                if self.peek() == ",":
                    self.take()
            self.take()
            return self.call(text, arguments)
        return self.lookup(text)


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def equal(left: Any, right: Any) -> bool:
    """GitHub compares strings ignoring case, and coerces a number and a string."""
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    if isinstance(left, str) != isinstance(right, str):
        try:
            return float(left) == float(right)
        except ValueError:
            return False
    return bool(left == right)


@dataclass
class StepRun:
    name: str
    outcome: str  # success, failure, skipped
    log: str = ""


@dataclass
class JobRun:
    name: str
    matrix: dict[str, Any]
    workspace: Path
    result: str = "skipped"
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    def log(self) -> str:
        return "\n".join(f"--- {s.name}: {s.outcome}\n{s.log}" for s in self.steps)


@dataclass
class Runner:
    """Runs the jobs of ``workflow`` in ``root`` (one workspace per job run).

    ``repository``: what actions/checkout puts in the workspace. ``environ``: the runner
    machine's environment (PATH, and the AWS endpoint standing in for AWS). ``job_environ``:
    extra machine environment for one matrix job (to make it fail, say), by (job, matrix).
    """

    workflow: dict[str, Any]
    root: Path
    repository: Path
    environ: dict[str, str]
    credentials: dict[str, str]
    job_environ: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    artifacts: dict[str, Path] = field(default_factory=dict)
    jobs: dict[str, list[JobRun]] = field(default_factory=dict)
    sarif: list[Path] = field(default_factory=list)
    junit: list[Path] = field(default_factory=list)
    run_id: str = "4242"

    # -- jobs -------------------------------------------------------------------------------

    def run(self, name: str) -> list[JobRun]:
        """Run job ``name`` (each matrix combination) after the jobs it needs have run."""
        spec = self.workflow["jobs"][name]
        runs = []
        for index, matrix in enumerate(self._matrix(name, spec)):
            workspace = self.root / f"{name}-{index + 1}"
            workspace.mkdir(parents=True)
            job = JobRun(name, matrix, workspace)
            context = self._context(name, spec, job, index)
            if self._condition(spec.get("if"), context, job_level=True):
                self._steps(spec, job, context)
                job.outputs = {
                    key: self.evaluate_text(str(value), context)
                    for key, value in spec.get("outputs", {}).items()
                }
            runs.append(job)
        self.jobs[name] = runs
        return runs

    def result(self, name: str) -> str:
        """A job's result as `needs` sees it: failure if any of its matrix jobs failed."""
        results = {job.result for job in self.jobs.get(name, [])}
        for verdict in ("failure", "cancelled", "success"):
            if verdict in results:
                return verdict
        return "skipped"

    def _matrix(self, name: str, spec: Mapping[str, Any]) -> list[dict[str, Any]]:
        matrix = spec.get("strategy", {}).get("matrix")
        if matrix is None:
            return [{}]
        context = self._context(name, spec, JobRun(name, {}, self.root), 0)
        axes = {key: self.evaluate_value(value, context) for key, value in matrix.items()}
        if len(axes) != 1:
            raise UnsupportedError(f"{name}: a matrix of one axis is all this runner plays")
        [(axis, values)] = axes.items()
        assert isinstance(values, list), (name, values)
        return [{axis: value} for value in values]

    def _context(
        self, name: str, spec: Mapping[str, Any], job: JobRun, index: int
    ) -> dict[str, Any]:
        needs = spec.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        context: dict[str, Any] = {
            "github": {"run_id": self.run_id, "workspace": str(job.workspace)},
            "matrix": job.matrix,
            "strategy": {"job-index": index, "job-total": 1, "fail-fast": True},
            "needs": {
                need: {
                    "result": self.result(need),
                    "outputs": self.jobs[need][0].outputs if self.jobs.get(need) else {},
                }
                for need in needs
            },
            "steps": {},
            "env": {},
            "_failed": False,
        }
        env = {**self.workflow.get("env", {}), **spec.get("env", {})}
        context["env"] = {k: _text(self.evaluate_value(v, context)) for k, v in env.items()}
        return context

    # -- steps ------------------------------------------------------------------------------

    def _steps(self, spec: Mapping[str, Any], job: JobRun, context: dict[str, Any]) -> None:
        permissions = {**self.workflow.get("permissions", {}), **spec.get("permissions", {})}
        exported: dict[str, str] = {}
        for number, step in enumerate(spec["steps"]):
            label = str(step.get("name") or step.get("uses") or f"step {number + 1}")
            label = str(self.evaluate_text(label, context))
            if not self._condition(step.get("if"), context, job_level=False):
                job.steps.append(StepRun(label, "skipped"))
                self._record(step, context, "skipped", {})
                continue
            step_env = {
                **context["env"],
                **{
                    k: _text(self.evaluate_value(v, context))
                    for k, v in step.get("env", {}).items()
                },
            }
            outputs: dict[str, str] = {}
            if "run" in step:
                outcome, log, outputs = self._run(step, job, {**exported, **step_env}, context)
            else:
                outcome, log = self._uses(step, job, context, permissions, exported)
            job.steps.append(StepRun(label, outcome, log))
            self._record(step, context, outcome, outputs)
            if outcome == "failure":
                context["_failed"] = True
        job.result = "failure" if context["_failed"] else "success"

    def _record(
        self,
        step: Mapping[str, Any],
        context: dict[str, Any],
        outcome: str,
        outputs: dict[str, str],
    ) -> None:
        if "id" in step:
            context["steps"][step["id"]] = {
                "outcome": outcome,
                "conclusion": outcome,
                "outputs": outputs,
            }

    def _run(
        self, step: Mapping[str, Any], job: JobRun, env: dict[str, str], context: dict[str, Any]
    ) -> tuple[str, str, dict[str, str]]:
        if step.get("id") == "install":
            # This environment's runbook-guard stands in for the release the step installs.
            assert "runbook-guard==${RUNBOOK_GUARD_VERSION}" in step["run"], step["run"]
            return "success", "(the test environment's runbook-guard)", {}
        script = self.evaluate_text(step["run"], {**context, "env": env})
        files = job.workspace.parent / f".{job.workspace.name}-{len(job.steps)}"
        files.mkdir()
        output, summary = files / "output", files / "summary"
        output.touch()
        summary.touch()
        machine = {**self.environ, **self.job_environ.get((job.name, _key(job.matrix)), {})}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-c", script],
            cwd=job.workspace,
            env={
                **machine,
                **env,
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_WORKSPACE": str(job.workspace),
                "GITHUB_OUTPUT": str(output),
                "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_RUN_ID": self.run_id,
            },
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        job.summary += summary.read_text()
        outputs = dict(
            line.split("=", 1) for line in output.read_text().splitlines() if "=" in line
        )
        outcome = "success" if done.returncode == 0 else "failure"
        return outcome, f"exit {done.returncode}\n{done.stdout}{done.stderr}", outputs

    def _uses(
        self,
        step: Mapping[str, Any],
        job: JobRun,
        context: dict[str, Any],
        permissions: Mapping[str, str],
        exported: dict[str, str],
    ) -> tuple[str, str]:
        action = str(step["uses"]).split("@", 1)[0]
        given = {k: _text(self.evaluate_value(v, context)) for k, v in step.get("with", {}).items()}
        workspace = job.workspace
        if action == "actions/checkout":
            shutil.copytree(self.repository, workspace, dirs_exist_ok=True)
        elif action == "actions/setup-python":
            pass  # this interpreter's environment is the job's Python
        elif action == "aws-actions/configure-aws-credentials":
            assert permissions.get("id-token") == "write", f"{job.name}: OIDC needs id-token"
            assert given["role-to-assume"].startswith("arn:aws:iam::"), given
            exported.update(
                self.credentials, AWS_REGION=given["aws-region"],
                AWS_DEFAULT_REGION=given["aws-region"],
            )  # fmt: skip
        elif action == "actions/upload-artifact":
            return self._upload(given, workspace)
        elif action == "actions/download-artifact":
            return self._download(given, workspace)
        elif action == "github/codeql-action/upload-sarif":
            assert permissions.get("security-events") == "write", job.name
            path = workspace / given["sarif_file"]
            if not path.is_file():
                return "failure", f"no SARIF at {path}"
            assert json.loads(path.read_text())["version"] == "2.1.0"
            self.sarif.append(path)
        elif action == "mikepenz/action-junit-report":
            path = workspace / given["report_paths"]
            if not path.is_file():
                return "failure", f"no JUnit at {path}"
            self.junit.append(path)
        else:
            raise UnsupportedError(f"{job.name}: no stand-in for {step['uses']}")
        return "success", ""

    def _upload(self, given: Mapping[str, str], workspace: Path) -> tuple[str, str]:
        name = given["name"]
        if name in self.artifacts:
            return "failure", f"Conflict: an artifact named {name} already exists"
        found = [workspace / line.strip() for line in given["path"].splitlines() if line.strip()]
        found = [path for path in found if path.exists()]
        if not found:
            missing = given.get("if-no-files-found", "warn")
            return ("failure" if missing == "error" else "success"), f"no files for {name}"
        stored = self.root / ".artifacts" / name
        for path in found:
            target = stored / path.relative_to(workspace)
            if path.is_dir():
                shutil.copytree(path, target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        self.artifacts[name] = stored
        return "success", f"uploaded {name}"

    def _download(self, given: Mapping[str, str], workspace: Path) -> tuple[str, str]:
        into = workspace / given.get("path", ".")
        if "name" in given:
            if given["name"] not in self.artifacts:
                return "failure", f"Unable to download artifact(s): {given['name']} not found"
            shutil.copytree(self.artifacts[given["name"]], into, dirs_exist_ok=True)
            return "success", ""
        merge = given.get("merge-multiple", "false") == "true"
        names = sorted(n for n in self.artifacts if fnmatch.fnmatchcase(n, given["pattern"]))
        for name in names:
            shutil.copytree(
                self.artifacts[name], into if merge else into / name, dirs_exist_ok=True
            )
        return "success", f"downloaded {names}"

    # -- expressions ------------------------------------------------------------------------

    def _condition(self, condition: Any, context: dict[str, Any], *, job_level: bool) -> bool:
        text = "success()" if condition is None else str(condition)
        inner = EXPRESSION.fullmatch(text.strip())
        text = inner.group(1) if inner else text
        if not any(re.search(rf"\b{f}\(", text) for f in STATUS_FUNCTIONS):
            text = f"success() && ({text})"
        statuses = {"_job_level": job_level}
        return truthy(self.evaluate(text, {**context, **statuses}))

    def evaluate_value(self, value: Any, context: Mapping[str, Any]) -> Any:
        """A `with:`/`env:`/matrix value: one whole expression keeps its type."""
        if not isinstance(value, str):
            return value
        whole = EXPRESSION.fullmatch(value.strip())
        return (
            self.evaluate(whole.group(1), context) if whole else self.evaluate_text(value, context)
        )

    def evaluate_text(self, text: str, context: Mapping[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            value = self.evaluate(match.group(1), context)
            return json.dumps(value) if isinstance(value, list | dict) else _text(value)

        return EXPRESSION.sub(one, text)

    def evaluate(self, text: str, context: Mapping[str, Any]) -> Any:
        def lookup(path: str) -> Any:
            head, *rest = path.split(".")
            if head not in context or head.startswith("_"):
                raise UnsupportedError(f"no context {head!r} in {text!r}")
            value = context[head]
            for part in rest:
                value = value.get(part) if isinstance(value, Mapping) else None
            return value

        def call(name: str, arguments: list[Any]) -> Any:
            if name == "fromJSON":
                return json.loads(arguments[0])
            if name in STATUS_FUNCTIONS:
                return self._status(name, context)
            raise UnsupportedError(f"no function {name} in {text!r}")

        parser = _Parser(_tokens(text), lookup, call)
        value = parser.expression()
        assert parser.at == len(parser.tokens), f"left over in {text!r}"
        return value

    def _status(self, name: str, context: Mapping[str, Any]) -> bool:
        if name in ("always", "cancelled"):
            return name == "always"  # nothing is ever cancelled here
        if context.get("_job_level"):
            failed = any(n["result"] != "success" for n in context["needs"].values())
        else:
            failed = bool(context.get("_failed"))
        return failed if name == "failure" else not failed


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _key(matrix: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(matrix.items()))


def matrix_key(**values: Any) -> str:
    """How ``Runner.job_environ`` names one matrix job: ``matrix_key(shard=2)``."""
    return _key(values)


def steps_of(job: JobRun, outcome: str) -> Iterator[str]:
    return (step.name for step in job.steps if step.outcome == outcome)
