"""Every operation the collectors declare x six faults: no crash, no false decision.

For each (operation, fault) of ``faults.declared_targets()`` x ``faults.FAULT_KINDS`` (derived
from the registry: a new collector's operations join on arrival) the collection must not crash
and must record the error with the operation's IAM action; every result that changes must turn
``error`` (never another decision), every rule that decides on the operation's data must be
``error``, every other result must keep its status, and the gate must block on the errors
(``matrix.judge``). A 200 answer may go without an error only where AWS documents the missing
fields as "none" (``calls.MAY_BE_ABSENT``: then it must read as the explicit empty answer), or
when the collector got the same data anyway.

Identity calls (GetCallerIdentity, AssumeRole) are not in the matrix: a collection that cannot
read its account follows the preflight of issue 13 (exit 2), not a per-rule error.

Cost: moto is seeded once for the module; retries are two attempts with botocore's backoff
and adaptive rate limiter's waits set to nothing (the retries happen, the sleeps do not); the
read timeout is 0.05 s against a socket that never answers; and a fault run collects only the
types whose collection makes the operation, every other call answered from the fault-free
run's recording (``matrix``'s docstring). The full matrix takes about 30 s on an idle core.

Cases marked ``xfail`` are defects found by this matrix in code other sessions own, each with
what goes wrong; ``strict`` makes a fixed one fail here until its mark is removed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone

import boto3
import botocore.retries.adaptive
import botocore.retries.standard
import jsonschema
import pytest
from moto import mock_aws

from runbook_guard.collectors.context import ASSUME_API, IDENTITY_API
from runbook_guard.collectors.organization import SETUP_APIS
from runbook_guard.collectors.registry import COLLECTORS, OPERATION_SETS, load_all
from runbook_guard.demo.stack import seed_runbook_stack
from runbook_guard.engine.loader import load_policy_set
from tests.collectors.conftest import DUMMY_ENV, ROOT, UNSET_ENV
from tests.hardening.faults import FAULT_KINDS, Blackhole, Injection, Target, declared_targets
from tests.hardening.matrix import ENRICHMENT, World, judge, run_case, splice, statuses

SILENT_200 = ("empty-200", "missing-field")
ERRORS = ("access-denied", "throttled", "read-timeout", "http-500")

#: Defects the matrix found, by (operation, fault kinds), in files other sessions own.
KNOWN_DEFECTS: dict[tuple[str, tuple[str, ...]], str] = {}


def _known(operation: str, kind: str) -> str | None:
    for (known, kinds), reason in KNOWN_DEFECTS.items():
        if known == operation and kind in kinds:
            return reason
    return None


def _cases() -> Iterator[object]:
    for target in declared_targets():
        for kind in FAULT_KINDS:
            reason = _known(target.operation, kind)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(target, kind, id=f"{target}-{kind}", marks=marks)


def seed_deployment_group() -> None:
    """The demo stack deploys no CodeDeploy group; its three operations need one."""
    role = boto3.client("iam").create_role(
        RoleName="matrix-codedeploy", AssumeRolePolicyDocument="{}"
    )
    codedeploy = boto3.client("codedeploy")
    codedeploy.create_application(applicationName="agenticai-app", computePlatform="Lambda")
    codedeploy.create_deployment_group(
        applicationName="agenticai-app",
        deploymentGroupName="agenticai-live",
        serviceRoleArn=role["Role"]["Arn"],
        deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent5Minutes",
        deploymentStyle={
            "deploymentType": "BLUE_GREEN",
            "deploymentOption": "WITH_TRAFFIC_CONTROL",
        },
    )


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name, value in DUMMY_ENV.items():
            patch.setenv(name, value)
        for name in UNSET_ENV:
            patch.delenv(name, raising=False)
        # The retries are made; the waits between them are not (seconds per faulted call).
        patch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda *_: 0.0)
        patch.setattr(
            botocore.retries.adaptive.ClientRateLimiter, "on_sending_request", lambda *_, **__: None
        )
        seed_runbook_stack()
        seed_deployment_group()
        prepared = World(load_policy_set(), datetime.now(timezone.utc))
        prepared.prepare()
        yield prepared


@pytest.fixture(scope="module")
def blackhole() -> Iterator[Blackhole]:
    silent = Blackhole()
    yield silent
    silent.close()


def test_the_matrix_covers_every_declared_operation(world: World) -> None:
    """Derived from the registry, and every operation is made by the seeded stack (else a
    fault on it would test nothing); operation sets no collector owns are known enrichments."""
    load_all()
    targets = declared_targets()
    declared = {op for api in OPERATION_SETS for op in api.operations}
    identity = {op for api in (IDENTITY_API, ASSUME_API, *SETUP_APIS) for op in api.operations}
    assert {t.operation for t in targets} == declared - identity
    assert [t.operation for t in targets if not world.types_calling(t)] == []
    owners = {collector.api.owner for collector in COLLECTORS.values()}
    setup = {IDENTITY_API.owner, *(api.owner for api in SETUP_APIS)}
    enrichments = {api.owner for api in OPERATION_SETS if api.owner not in owners} - setup
    assert enrichments == set(ENRICHMENT)


def test_a_replayed_group_spliced_into_the_baseline_is_the_baseline(world: World) -> None:
    """The fault runs' premises: a group's collection answered from the recording is what moto
    answered (the same errors, the same resources), and spliced into the baseline it changes
    no result."""
    for types, _operations in world.groups.values():
        replayed, recorded = world.clean(types), world.recorded[types]
        assert replayed["errors"] == recorded["errors"], sorted(types)
        assert [r["id"] for r in replayed["resources"]] == [r["id"] for r in recorded["resources"]]
        spliced = world.evaluate(splice(world.baseline, replayed, types))
        assert statuses(spliced) == statuses(world.results), sorted(types)


def test_the_baseline_is_a_valid_snapshot_with_every_status(world: World) -> None:
    """Without a spread of statuses, "nothing changed but to error" would prove little."""
    schema = json.loads((ROOT / "schemas" / "snapshot.schema.json").read_text())
    jsonschema.validate(world.baseline, schema)
    assert {"pass", "note", "warn", "fail", "error"} <= set(statuses(world.results).values())


@pytest.mark.parametrize(("target", "kind"), list(_cases()))
def test_every_declared_operation_survives_each_fault(
    world: World, blackhole: Blackhole, target: Target, kind: str
) -> None:
    template = world.recording.first.get(target.operation, {})
    outcome = run_case(world, Injection(target, kind, blackhole, template))
    assert outcome.injection.calls, f"the fault on {target} was never reached"
    assert judge(world, outcome) == []
