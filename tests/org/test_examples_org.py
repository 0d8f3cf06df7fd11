"""examples/org/: each engine's files against their published schemas, offline, and against
each other.

The workflow against the GitHub workflow schema check-jsonschema vendors; the Kubernetes
manifests against the schemas kubernetes-validate bundles (strict: an unknown field fails),
for the oldest Kubernetes release whose Job fields they use and the newest bundled; the
CloudFormation stack and its state machine with cfn-lint (AWS's resource schemas and its
Amazon States Language schema: a wrong state type fails), the state machine's transitions
(every shard's failure still leads to the merge), and the ECS RunTask parameters each state
sends against botocore's model of that API. Each schema check is shown to refuse the same file
broken. Every shell script (run.sh, the workflow's `run:` steps, the Jobs' `sh -c`) passes
ShellCheck. tests/org/test_examples_org_e2e.py runs the files' commands.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import yaml
from botocore.validate import ParamValidator

from tests.distribution_tools import ROOT, load_yaml, run, shellcheck, tool
from tests.org import jobs
from tests.org.jobs import (
    EXECUTION,
    KUBERNETES,
    MANIFESTS,
    REGION,
    STACK,
    WORKFLOW,
    Stack,
    manifest,
    setup_output,
    shard_inputs,
)


def check(*args: str | Path) -> tuple[int, str]:
    done = run(list(args))
    return done.returncode, done.stdout + done.stderr


# -- the published schemas --------------------------------------------------------------------


def test_the_workflow_matches_the_published_schema() -> None:
    code, said = check(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                       WORKFLOW)  # fmt: skip
    assert code == 0, said


def test_the_workflow_schema_check_refuses_a_broken_workflow(tmp_path: Path) -> None:
    """The check above means something: the same file, with a misspelt key, fails it."""
    broken = load_yaml(WORKFLOW)
    broken["jobs"]["collect"]["strategy"]["fail_fast"] = False
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    code, said = check(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                       path)  # fmt: skip
    assert code == 1
    assert "fail_fast" in said


@pytest.mark.parametrize("version", ["1.33.0", None], ids=["1.33", "newest"])
def test_the_manifests_match_the_kubernetes_schemas(version: str | None) -> None:
    """1.33: the oldest release where every field used (backoffLimitPerIndex) is GA; and the
    newest the installed kubernetes-validate bundles (its default)."""
    assert {p.name for p in MANIFESTS} >= {"collect-job.yaml", "merge-job.yaml", "plan-job.yaml"}
    chosen = ["--kubernetes-version", version] if version else []
    code, said = check(tool("kubernetes-validate"), "--strict", *chosen, *MANIFESTS)
    assert code == 0, said
    assert said.count("passed") == len(MANIFESTS), said


def test_the_kubernetes_check_refuses_a_broken_job(tmp_path: Path) -> None:
    broken = load_yaml(KUBERNETES / "collect-job.yaml")
    broken["spec"]["completionsMode"] = broken["spec"].pop("completionMode")
    path = tmp_path / "collect-job.yaml"
    path.write_text(yaml.safe_dump(broken))
    code, said = check(tool("kubernetes-validate"), "--strict", path)
    assert code != 0
    assert "completionsMode" in said


def test_the_stack_and_its_state_machine_pass_cfn_lint() -> None:
    code, said = check(tool("cfn-lint"), "--regions", REGION, "--", STACK)
    assert code == 0, said


def test_cfn_lint_reads_the_state_machine(tmp_path: Path) -> None:
    """cfn-lint validates the definition itself against the States Language schema."""
    path = tmp_path / "broken.yaml"
    path.write_text(STACK.read_text().replace("Type: Choice", "Type: Chose"))
    code, said = check(tool("cfn-lint"), "--regions", REGION, "--", path)
    assert code != 0
    assert "E3601" in said
    assert "'Chose' is not one of" in said


def shell_scripts() -> list[tuple[str, str, str]]:
    """(where, dialect, script): run.sh, each workflow `run:`, each Job's `sh -c` script."""
    found = [("run.sh", "bash", (KUBERNETES / "run.sh").read_text())]
    for name, job in load_yaml(WORKFLOW)["jobs"].items():
        found += [(f"{name}: {s.get('name', s.get('id'))}", "bash", s["run"])
                  for s in job["steps"] if "run" in s]  # fmt: skip
    for path in MANIFESTS:
        for document in yaml.safe_load_all(path.read_text()):
            for one in (
                document.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
            ):
                if one.get("command", [])[:2] == ["/bin/sh", "-c"]:
                    found.append((path.name, "sh", one["args"][0]))
    return found


@pytest.mark.parametrize(
    ("where", "dialect", "script"), [pytest.param(*s, id=s[0]) for s in shell_scripts()]
)
def test_every_shell_script_passes_shellcheck(
    where: str, dialect: str, script: str, tmp_path: Path
) -> None:
    assert "${{" not in script, f"{where}: expressions go through env, not into the script"
    code, said = shellcheck(script, dialect, tmp_path)
    assert code == 0, (where, said)


# -- the files agree with each other ----------------------------------------------------------


def container(name: str) -> dict[str, Any]:
    [one] = manifest(name)["spec"]["template"]["spec"]["containers"]
    return dict(one)


def env_of(name: str) -> dict[str, str]:
    return {item["name"]: str(item["value"]) for item in container(name).get("env", [])}


def test_the_kubernetes_jobs_agree_on_n_and_run_unprivileged() -> None:
    collect = manifest("collect-job.yaml")["spec"]
    assert collect["completionMode"] == "Indexed"
    shards = int(env_of("collect-job.yaml")["SHARDS"])
    assert collect["completions"] == shards == int(env_of("plan-job.yaml")["SHARDS"])
    assert "auto/$(SHARDS)" in container("collect-job.yaml")["args"]
    assert any("$(JOB_COMPLETION_INDEX)" in a for a in container("collect-job.yaml")["args"])
    images = set()
    for name in ("plan-job.yaml", "collect-job.yaml", "merge-job.yaml"):
        pod = manifest(name)["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == "runbook-guard"
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's user
        one = container(name)
        assert one["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        assert set(one["resources"]) == {"requests", "limits"}
        images.add(one["image"])
    assert len(images) == 1
    account = manifest("serviceaccount.yaml")["metadata"]["annotations"]
    assert account["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    assert "USER 10001:10001" in (ROOT / "Dockerfile").read_text()


def test_the_workflow_writes_n_once_and_merges_after_failures() -> None:
    workflow = load_yaml(WORKFLOW)
    collect, merge = workflow["jobs"]["collect"], workflow["jobs"]["merge"]
    assert collect["strategy"]["fail-fast"] is False
    assert collect["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.plan.outputs.shards) }}"
    assert "!cancelled()" in merge["if"]
    assert set(merge["needs"]) == {"plan", "collect"}
    text = WORKFLOW.read_text()
    for stored in ("aws-access-key-id", "aws-secret-access-key", "AWS_SECRET_ACCESS_KEY"):
        assert stored not in text


# -- the state machine ------------------------------------------------------------------------


def camel(value: Any) -> Any:
    """Step Functions' PascalCase parameters as the ECS API's camelCase."""
    if isinstance(value, list):
        return [camel(v) for v in value]
    if isinstance(value, Mapping):
        return {k[0].lower() + k[1:]: camel(v) for k, v in value.items()}
    return value


def test_the_state_machine_reaches_the_merge_after_failed_shards() -> None:
    stack = Stack.load()
    definition = stack.definition()
    every = dict(jobs.states(definition))
    targets: dict[str, set[str]] = {}
    for scope in (definition, definition["States"]["Collect"]["ItemProcessor"]):
        assert scope["StartAt"] in scope["States"]
        for name, state in scope["States"].items():
            following = {state.get("Next"), state.get("Default")}
            following |= {c["Next"] for c in state.get("Catch", []) + state.get("Choices", [])}
            targets[name] = {t for t in following if t}
            assert targets[name] <= set(scope["States"]), (name, targets[name])
    reached, todo = set(), [definition["StartAt"]]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(targets[name])
    assert reached == set(definition["States"])
    collect = definition["States"]["Collect"]
    assert collect["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",
    }
    assert collect["ToleratedFailurePercentage"] == 100
    assert targets["Collect"] == {"Evaluate"}  # on success and on any failure
    assert every["Evaluate"]["Catch"][0]["Next"] == "Report"


def test_each_task_runs_a_container_of_its_task_definition_with_valid_parameters() -> None:
    stack = Stack.load()
    definition = stack.definition()
    setup = setup_output(definition)
    item = next(shard_inputs(definition, setup))
    run_task = botocore.session.get_session().get_service_model("ecs").operation_model("RunTask")
    tasks = [name for name, s in jobs.states(definition) if s["Type"] == "Task"]
    assert set(tasks) == {"Plan", "CollectShard", "Evaluate", "Report", "Publish"}
    for name, state in jobs.states(definition):
        if state["Type"] != "Task":
            continue
        state_input = item if name == "CollectShard" else setup
        task = jobs.ecs_task(state, state_input, EXECUTION)
        assert task.container in stack.containers(task.task_definition), name
        parameters = camel(jobs.resolved(state["Parameters"], state_input, EXECUTION))
        assert run_task.input_shape is not None
        report = ParamValidator().validate(parameters, run_task.input_shape)
        assert not report.has_errors(), (name, report.generate_report())
