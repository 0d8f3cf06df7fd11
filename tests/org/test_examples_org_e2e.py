"""examples/org/ run end to end: each engine's own commands against an organization.

On a moto server holding an organization of four accounts (the management account with
nothing deployed, one complete stack, one missing a queue, one whose deployer has two active
keys), the workflow's plan, collect and merge jobs run as a runner would run them
(tests/org/actions.py: their `run:` lines verbatim, with SHARDS set to 3); the Kubernetes
Jobs' commands and the state machine's task commands are derived from their files
(tests/org/jobs.py) and run the same way.

The merge of every shard judges each account as expected. A shard whose job could not reach
AWS (exit 2, no artifact), or whose artifact is gone, makes every rule on its units `error`
naming the missing shard and passes none of them, while the merge still reports and uploads;
the other accounts are judged as with every shard. The Indexed Job's pod with
JOB_COMPLETION_INDEX=K-1 collects the same shard as the workflow's job K, and the merge Job
and the state machine's tasks reach the workflow's verdicts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from tests.collectors.conftest import UNSET_ENV
from tests.distribution_tools import BIN, load_yaml
from tests.org import jobs
from tests.org.actions import JobRun, Runner, matrix_key, steps_of
from tests.org.jobs import (
    EXECUTION,
    KUBERNETES,
    REGION,
    WORKFLOW,
    Stack,
    manifest,
    setup_output,
    shard_inputs,
)

pytestmark = pytest.mark.slow

SHARDS = 3
SQS, IAM = "sqs.work-queues-exist", "iam.deployer-single-active-key"
QUEUES = ("pm", "dev", "qa", "ops")
MANAGEMENT = "123456789012"  # moto's default account: the organization's management account
INDEX_VARIABLES = ("JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "RUNBOOK_GUARD_SHARD_INDEX")


@dataclass(frozen=True)
class Org:
    endpoint: str
    accounts: dict[str, str]  # name -> id: management, complete, missing-queue, two-keys


def _session(endpoint: str, account: str) -> boto3.Session:
    sts = boto3.client("sts", endpoint_url=endpoint, region_name=REGION)
    arn = f"arn:aws:iam::{account}:role/RunbookGuardReadOnly"
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="seed")["Credentials"]
    return boto3.Session(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def _seed(endpoint: str, account: str, *, queues: tuple[str, ...], keys: int) -> None:
    session = _session(endpoint, account)
    sqs = session.client("sqs", endpoint_url=endpoint, region_name=REGION)
    for queue in queues:
        sqs.create_queue(QueueName=f"agenticai-{queue}-queue")
    iam = session.client("iam", endpoint_url=endpoint, region_name=REGION)
    iam.create_user(UserName="agenticai-deployer")
    for _ in range(keys):
        iam.create_access_key(UserName="agenticai-deployer")


@pytest.fixture(scope="module")
def org() -> Iterator[Org]:
    from runbook_guard.demo.server import DUMMY_ENV, moto_server, reset

    with pytest.MonkeyPatch.context() as patch:
        for name, value in DUMMY_ENV.items():  # the seeding client's credentials
            patch.setenv(name, value)
        for name in UNSET_ENV:
            patch.delenv(name, raising=False)
        with moto_server() as endpoint:
            reset(endpoint)  # moto's state is per process: start from nothing
            client = boto3.client("organizations", endpoint_url=endpoint, region_name=REGION)
            client.create_organization(FeatureSet="ALL")
            accounts = {"management": MANAGEMENT}
            for name in ("complete", "missing-queue", "two-keys"):
                created = client.create_account(Email=f"{name}@example.com", AccountName=name)
                accounts[name] = created["CreateAccountStatus"]["AccountId"]
            _seed(endpoint, accounts["complete"], queues=QUEUES, keys=1)
            _seed(endpoint, accounts["missing-queue"], queues=("pm", "dev", "ops"), keys=1)
            _seed(endpoint, accounts["two-keys"], queues=QUEUES, keys=2)
            yield Org(endpoint, accounts)


def expected_statuses(org: Org) -> dict[tuple[str, str], list[str]]:
    """(rule, account id) -> the sorted statuses a correct run gives there."""
    ids = org.accounts
    return {
        (SQS, ids["management"]): ["fail"] * 4,
        (IAM, ids["management"]): ["fail"],
        (SQS, ids["complete"]): ["pass"] * 4,
        (IAM, ids["complete"]): ["pass"],
        (SQS, ids["missing-queue"]): ["fail", "pass", "pass", "pass"],
        (IAM, ids["missing-queue"]): ["pass"],
        (SQS, ids["two-keys"]): ["pass"] * 4,
        (IAM, ids["two-keys"]): ["warn"],
    }


def machine_env(org: Org) -> dict[str, str]:
    """The runner machine: this environment's tools first on PATH, AWS reached at moto, and
    no credentials but those a job's own steps set up."""
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith("AWS_") and k not in INDEX_VARIABLES}  # fmt: skip
    path = f"{BIN}{os.pathsep}{keep.get('PATH', '')}"
    return {**keep, "PATH": path, "AWS_ENDPOINT_URL": org.endpoint, "AWS_MAX_ATTEMPTS": "2"}


def credentials() -> dict[str, str]:
    """What OIDC (GitHub), IRSA (Kubernetes) or the task role (ECS) hands the process."""
    from runbook_guard.demo.server import DUMMY_ENV

    return dict(DUMMY_ENV)


@pytest.fixture(scope="module")
def config_text() -> str:
    """The example ConfigMap's configuration, with only the two rules this test seeds for."""
    [configmap] = yaml.safe_load_all((KUBERNETES / "configmap.yaml").read_text())
    config = yaml.safe_load(configmap["data"]["runbook-guard.yaml"])
    config["selection"] = {"rules": [SQS, IAM]}
    return yaml.safe_dump(config)


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory, config_text: str) -> Path:
    """What actions/checkout puts in each job's workspace."""
    folder = tmp_path_factory.mktemp("repository")
    (folder / "runbook-guard.yaml").write_text(config_text)
    return folder


def workflow_runner(org: Org, root: Path, repository: Path, **fields: Any) -> Runner:
    workflow = load_yaml(WORKFLOW)
    workflow["env"]["SHARDS"] = str(SHARDS)  # the one place a user changes N
    return Runner(workflow, root, repository, machine_env(org), credentials(), **fields)


def run_workflow(runner: Runner) -> Runner:
    for job in ("plan", "collect", "merge"):
        runner.run(job)
    return runner


@pytest.fixture(scope="module")
def github(org: Org, repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Runner:
    return run_workflow(workflow_runner(org, tmp_path_factory.mktemp("github"), repository))


def results_of(path: Path) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(path.read_text())["results"]
    return loaded


def by_account(results: list[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for result in results:
        account = (result.get("resource") or {}).get("account", "")
        found.setdefault((result["rule"], account), []).append(result["status"])
    return {key: sorted(value) for key, value in found.items()}


def verdicts(results: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """Each result's rule, account, resource name and status: what two runs must agree on."""
    return sorted(
        (r["rule"], (r.get("resource") or {}).get("account", ""),
         (r.get("resource") or {}).get("name", ""), r["status"])
        for r in results
    )  # fmt: skip


def units_of(manifest_path: Path) -> list[list[tuple[str, str]]]:
    """Each shard's units, computed here from the manifest's accounts (docs/organizations.md:
    sorted by account, global first, then regions; shard K takes the K-th contiguous run)."""
    loaded = json.loads(manifest_path.read_text())
    every = sorted(
        [(str(a["id"]), "global")] + [(str(a["id"]), str(r)) for r in a["regions"]]
        for a in loaded["accounts"]
    )
    flat = [unit for account in every for unit in account]
    size = len(flat)
    return [flat[(k - 1) * size // SHARDS : k * size // SHARDS] for k in range(1, SHARDS + 1)]


def broken_by(units: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (rule, account) pairs a shard's units hold: IAM is global, the queues regional."""
    return {(IAM if region == "global" else SQS, account) for account, region in units}


def test_every_shard_merged_judges_each_account(github: Runner, org: Org) -> None:
    plan, collects, [merge] = github.jobs["plan"], github.jobs["collect"], github.jobs["merge"]
    assert plan[0].result == "success", plan[0].log()
    assert plan[0].outputs == {"shards": json.dumps(list(range(1, SHARDS + 1))).replace(" ", "")}
    assert [job.matrix["shard"] for job in collects] == [1, 2, 3]
    assert [job.result for job in collects] == ["success"] * SHARDS, collects[0].log()
    # Findings reach the gate: every report is written and uploaded, then the job fails.
    assert list(steps_of(merge, "failure")) == ["Fail on findings at the gate"], merge.log()
    assert sorted(github.artifacts) == ["manifest", "runbook-guard-org-4242"] + [
        f"shard-{k}" for k in range(1, SHARDS + 1)
    ]
    results = results_of(merge.workspace / "results.json")
    assert by_account(results) == expected_statuses(org)
    assert "error" not in {r["status"] for r in results}
    assert github.sarif == [merge.workspace / "out" / "results.sarif"]
    assert github.junit == [merge.workspace / "out" / "junit.xml"]
    assert merge.summary.strip()
    # Each shard holds the units the manifest gives its index, accounts split across shards.
    units = units_of(merge.workspace / "manifest.json")
    assert len({account for shard in units for account, _ in shard}) == 4
    for k, job in enumerate(collects, start=1):
        shard = json.loads((job.workspace / f"shard-{k}.json").read_text())
        assert [tuple(u) for u in shard["metadata"]["shard"]["units"]] == units[k - 1]


@dataclass(frozen=True)
class Missing:
    """A run whose merge lacked shard 2, and the (rule, account) pairs that shard held."""

    kind: str
    runner: Runner
    merge: JobRun
    broken: set[tuple[str, str]]


@pytest.fixture(scope="module", params=["failed job", "lost artifact"])
def missing(
    request: pytest.FixtureRequest,
    org: Org,
    repository: Path,
    github: Runner,
    tmp_path_factory: pytest.TempPathFactory,
) -> Missing:
    """Shard 2 missing at the merge: its job could not reach AWS at all (exit 2, nothing
    uploaded, the job failed), or its artifact is gone and the merge job alone runs again."""
    root = tmp_path_factory.mktemp("missing")
    if request.param == "failed job":
        unreachable = {("collect", matrix_key(shard=2)): {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}}
        runner = run_workflow(workflow_runner(org, root, repository, job_environ=unreachable))
    else:
        kept = {k: v for k, v in github.artifacts.items() if k.startswith(("manifest", "shard-"))}
        del kept["shard-2"]
        runner = replace(github, root=root, artifacts=kept, jobs=dict(github.jobs),
                         sarif=[], junit=[])  # fmt: skip
        runner.run("merge")
    [merge] = runner.jobs["merge"]
    units = units_of(merge.workspace / "manifest.json")
    return Missing(request.param, runner, merge, broken_by(units[1]))


def test_a_missing_shard_errors_every_result_of_its_units(missing: Missing) -> None:
    if missing.kind == "failed job":
        collects = missing.runner.jobs["collect"]
        assert [job.result for job in collects] == ["success", "failure", "success"]
        assert "exit 2" in collects[1].steps[-2].log, collects[1].log()
        assert "shard-2" not in missing.runner.artifacts
    # The merge ran anyway, reported and uploaded everything, then failed at the gate.
    merge = missing.merge
    assert list(steps_of(merge, "failure")) == ["Fail on findings at the gate"], merge.log()
    assert missing.runner.sarif == [merge.workspace / "out" / "results.sarif"]
    manifest_id = json.loads((merge.workspace / "manifest.json").read_text())["id"]
    results = results_of(merge.workspace / "results.json")
    seen = by_account(results)
    assert missing.broken
    for pair in missing.broken:
        assert seen.get(pair), pair
        assert set(seen[pair]) == {"error"}, (pair, seen[pair])
    for result in results:
        account = (result.get("resource") or {}).get("account", "")
        if (result["rule"], account) in missing.broken:
            cause = f"ShardMissing: shard 2/{SHARDS} of manifest {manifest_id}"
            assert cause in result["message"], result["message"]


def test_a_missing_shard_leaves_the_other_accounts_judged_as_usual(
    missing: Missing, github: Runner
) -> None:
    """Every other (rule, account) as in the run with every shard (issue 14: one unreadable
    account must not error everyone's rules)."""
    [reference] = github.jobs["merge"]
    whole = by_account(results_of(reference.workspace / "results.json"))
    seen = by_account(results_of(missing.merge.workspace / "results.json"))
    assert {k: v for k, v in seen.items() if k not in missing.broken} == {
        k: v for k, v in whole.items() if k not in missing.broken
    }


def comparable(shard: dict[str, Any]) -> dict[str, Any]:
    """A shard without what differs between two collections of the same units: when."""
    metadata = {k: v for k, v in shard["metadata"].items()
                if k not in ("started_at", "finished_at")}  # fmt: skip
    return {**shard, "metadata": metadata}


def run_pod(pod: jobs.Pod, org: Org) -> subprocess.CompletedProcess[str]:
    env = {**machine_env(org), **credentials(), **pod.env}
    return subprocess.run(pod.argv, env=env, capture_output=True, text=True, timeout=600,
                          check=False)  # fmt: skip


def test_the_indexed_job_collects_the_workflows_shards(
    github: Runner, org: Org, config_text: str, tmp_path: Path
) -> None:
    volumes = {name: tmp_path / name for name in ("shared", "config", "tmp")}
    for folder in volumes.values():
        folder.mkdir()
    (volumes["config"] / "runbook-guard.yaml").write_text(config_text)
    n = {"SHARDS": str(SHARDS)}
    planned = run_pod(jobs.pod(manifest("plan-job.yaml"), volumes, env=n), org)
    assert planned.returncode == 0, planned.stderr
    own = json.loads((volumes["shared"] / "manifest.json").read_text())
    [plan_job] = github.jobs["plan"]
    theirs = json.loads((plan_job.workspace / "manifest.json").read_text())
    assert own["accounts"] == theirs["accounts"]
    # The workflow's manifest in its place: the pods' shards must be the workflow's.
    shutil.copy(plan_job.workspace / "manifest.json", volumes["shared"] / "manifest.json")
    for k, job in enumerate(github.jobs["collect"], start=1):
        index = {"JOB_COMPLETION_INDEX": str(k - 1)}
        collected = run_pod(jobs.pod(manifest("collect-job.yaml"), volumes, env=n,
                                     injected=index), org)  # fmt: skip
        assert collected.returncode == 0, collected.stderr
        mine = json.loads((volumes["shared"] / "shards" / f"shard-{k - 1}.json").read_text())
        workflow = json.loads((job.workspace / f"shard-{k}.json").read_text())
        assert mine["metadata"]["shard"]["index"] == k
        assert comparable(mine) == comparable(workflow)
    merged = run_pod(jobs.pod(manifest("merge-job.yaml"), volumes), org)
    assert merged.returncode == 1, merged.stderr  # findings at the gate, reports written
    assert merged.stdout.strip()  # the summary, for kubectl logs
    assert {p.name for p in (volumes["shared"] / "report").iterdir()} >= {
        "junit.xml",
        "results.sarif",
        "report.md",
    }
    [merge] = github.jobs["merge"]
    assert verdicts(results_of(volumes["shared"] / "results.json")) == verdicts(
        results_of(merge.workspace / "results.json")
    )


def test_the_state_machines_tasks_run_the_same_pipeline(
    github: Runner, org: Org, config_text: str, tmp_path: Path
) -> None:
    stack = replace(Stack.load(), shards=SHARDS)
    definition = stack.definition()
    config_file = stack.value({"Ref": "ConfigFile"})
    efs, config, scratch = tmp_path / "efs", tmp_path / "config", tmp_path / "tmp"
    for folder in (efs, config, scratch):
        folder.mkdir()
    (config / Path(config_file).name).write_text(config_text)
    task = stack.template["Resources"]["TaskDefinition"]["Properties"]
    [runner] = task["ContainerDefinitions"]
    places = {"shared": efs, "tmp": scratch}
    mounts = {m["ContainerPath"]: places[m["SourceVolume"]] for m in runner["MountPoints"]}
    mounts[str(Path(config_file).parent)] = config  # in the image (README)

    def start(task: jobs.Task) -> subprocess.CompletedProcess[str]:
        assert task.container == "runbook-guard"
        argv = [jobs.mapped(a, mounts) for a in [*jobs.image_entrypoint(), *task.argv]]
        env = {**machine_env(org), **credentials(), "AWS_REGION": REGION}
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600,
                              check=False)  # fmt: skip

    setup = setup_output(definition)
    assert setup["shards"] == list(range(1, SHARDS + 1))
    states = dict(jobs.states(definition))
    planned = start(jobs.ecs_task(states["Plan"], setup, EXECUTION))
    assert planned.returncode == 0, planned.stderr
    for item in shard_inputs(definition, setup):
        collected = start(jobs.ecs_task(states["CollectShard"], item, EXECUTION))
        assert collected.returncode == 0, collected.stderr
    evaluated = start(jobs.ecs_task(states["Evaluate"], setup, EXECUTION))
    assert evaluated.returncode == 1, evaluated.stderr  # findings: the Verdict fails the run
    reported = start(jobs.ecs_task(states["Report"], setup, EXECUTION))
    assert reported.returncode == 0, reported.stderr
    folder = efs / "runs" / "weekly-1"
    assert {p.name for p in folder.iterdir()} == {"manifest.json", "shards", "results.json",
                                                 "report"}  # fmt: skip
    assert len(list((folder / "shards").glob("*.json"))) == SHARDS
    publish = jobs.ecs_task(states["Publish"], setup, EXECUTION)
    assert publish.argv[:2] == ["s3", "mv"]
    assert jobs.mapped(publish.argv[-2], mounts) == f"{folder}/"
    assert publish.argv[-1].endswith("/runs/weekly-1/")
    [merge] = github.jobs["merge"]
    assert verdicts(results_of(folder / "results.json")) == verdicts(
        results_of(merge.workspace / "results.json")
    )
