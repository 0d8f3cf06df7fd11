"""Same verdict at both moments (issue 10): the example app judged before deploy and after.

The example SAM app is read by the template gate and, independently, deployed into moto
(``deploy.py``: moto's CloudFormation, then the service APIs for what it drops), collected by the
live collectors with the pack's own plan and judged by the same pack. For every rule that judged
the template (a result that is not ``not_applicable``), each resource's live status must equal
its template status; resources are matched by (type, name), the template's generated names
translated to the ones the deploy produced through the logical id both sides share.

A difference fails the test naming the rule, the resource, the data field that differs on the
two sides and who produced its live state. Differences that are moto's and cannot be fixed are
in ``MOTO_GAPS``, each with its reason; the test prints them, and fails if one no longer occurs
(the gap was closed and the entry must go).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from runbook_guard import __version__
from runbook_guard.cli.pipeline import Prepared, collection_plan, evaluate, prepare
from runbook_guard.collectors import Scope, collect
from runbook_guard.engine.phase import NOT_APPLICABLE
from runbook_guard.engine.reads import ALL
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.engine.timeutil import parse_timestamp
from runbook_guard.template.reader import read_template
from runbook_guard.template.snapshot import template_snapshot
from tests.collectors.conftest import DUMMY_ENV, UNSET_ENV
from tests.template.deploy import Deployed, deploy_sam_app, provenance_by_type
from tests.template.sam_app import APP, TEMPLATE, copy_app

pytestmark = pytest.mark.slow

REGION = "us-east-1"

#: (rule, data key that differs) -> why the live side differs and cannot be made not to.
MOTO_GAPS = {
    ("lambda.xray-tracing", "TracingConfig"): (
        "moto 5.2.5's CloudFormation creates functions without their TracingConfig, and its "
        "UpdateFunctionConfiguration accepts TracingConfig and ignores it: every live function "
        "reads PassThrough (the deploy records TracingConfig 'not applied')"
    ),
    ("dynamodb.contributor-insights", "ContributorInsights"): (
        "moto 5.2.5 implements neither UpdateContributorInsights nor DescribeContributorInsights:"
        " the setting cannot be applied, and the live collector records NotImplemented"
    ),
}

Key = tuple[str, str | None, str | None]


@dataclass
class Moment:
    """One side: its results by (rule, type, name) and its resources by (type, name)."""

    results: dict[Key, dict[str, Any]]
    resources: dict[tuple[str, str], dict[str, Any]]


@dataclass
class Verdicts:
    template: Moment
    live: Moment
    deployed: Deployed
    prepared: Prepared
    fixed: bool


def _network(session: boto3.Session) -> tuple[str, str]:
    """A VPC and two subnets for the websocket service (samconfig names the real ones)."""
    ec2 = session.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"]
        for i in (1, 2)
    ]
    return vpc, ",".join(subnets)


def _live_name(resource_type: str, physical_id: str) -> str:
    """The envelope name the collectors give a resource, from what CloudFormation's Ref says."""
    if resource_type in ("aws.sqs.queue", "aws.ecs.service"):
        return physical_id.rsplit("/", 1)[1]
    return physical_id


def _renames(template_doc: Mapping[str, Any], deployed: Deployed) -> dict[tuple[str, str], str]:
    """Template name -> live name, where they differ: names CloudFormation generates (the
    gate builds a deterministic suffix, the deploy gets another), joined by logical id."""
    renames = {}
    for resource in template_doc["resources"]:
        declared = resource.get("template") or {}
        physical = deployed.physical.get(declared.get("logical_id", ""))
        if (
            declared.get("implicit")
            or physical is None
            or resource["type"] == "aws.apigateway.rest_api"
        ):
            continue  # an API's envelope name is its Name; Ref gives the id AWS assigned
        live = _live_name(resource["type"], physical)
        if live != resource["name"]:
            renames[(resource["type"], resource["name"])] = live
    return renames


def _moment(
    results: Mapping[str, Any], document: Mapping[str, Any], renames: Mapping[tuple[str, str], str]
) -> Moment:
    def name(resource_type: str, written: str) -> str:
        return renames.get((resource_type, written), written)

    keyed: dict[Key, dict[str, Any]] = {}
    for result in results["results"]:
        ref = result.get("resource") or {}
        kind = ref.get("type")
        key = (result["rule"], kind, name(kind, ref["name"]) if kind else None)
        assert key not in keyed or result["status"] == keyed[key]["status"], (
            f"two verdicts for {key}"
        )
        keyed[key] = result
    resources = {(r["type"], name(r["type"], r["name"])): r for r in document["resources"]}
    return Moment(keyed, resources)


@pytest.fixture(scope="module", params=["as shipped", "violations fixed"])
def verdicts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Verdicts:
    fixed = request.param == "violations fixed"
    app = copy_app(tmp_path_factory.mktemp("fixed") / "sam-app", fixed=True) if fixed else APP
    prepared = prepare(None, None, None)
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in DUMMY_ENV.items():
            patch.setenv(variable, value)
        for variable in UNSET_ENV:
            patch.delenv(variable, raising=False)
        with mock_aws():
            session = boto3.Session(region_name=REGION)
            vpc, subnets = _network(session)
            deployed = deploy_sam_app(
                app, session, region=REGION, overrides={"VpcId": vpc, "SubnetIds": subnets}
            )
            live_doc = collect(
                collection_plan(prepared), Scope(regions=[REGION], max_attempts=1, quiet=True)
            )
    now = live_doc["metadata"]["finished_at"]
    moment = parse_timestamp(now)
    assert moment is not None
    read = read_template(app / TEMPLATE, display_path=TEMPLATE, region=REGION)
    template_doc = template_snapshot([read], moment, __version__)
    renames = _renames(template_doc, deployed)
    return Verdicts(
        template=_moment(
            evaluate(prepared, Snapshot(template_doc), now, None), template_doc, renames
        ),
        live=_moment(evaluate(prepared, Snapshot(live_doc), now, None), live_doc, {}),
        deployed=deployed,
        prepared=prepared,
        fixed=fixed,
    )


def _fields(rule_reads: Mapping[str, set[str]], key: Key, verdicts: Verdicts) -> dict[str, Any]:
    """The data keys the rule reads that differ between the two sides' resource."""
    _, kind, name = key
    if kind is None or name is None:
        return {}
    declared = verdicts.template.resources.get((kind, name), {}).get("data", {})
    deployed = verdicts.live.resources.get((kind, name), {}).get("data", {})
    return {
        field: {
            "template": declared.get(field, "<absent>"),
            "live": deployed.get(field, "<absent>"),
        }
        for field in sorted(rule_reads.get(kind, set()))
        if declared.get(field, "<absent>") != deployed.get(field, "<absent>")
    }


def _provenance(verdicts: Verdicts, reads: Mapping[str, set[str]], key: Key) -> dict[str, str]:
    """Each data key the rule reads of this resource -> who produced its live state.

    The template snapshot says which property each key was read from (``template.keys``),
    possibly of another resource (an alias); the deploy says who produced that property.
    A key the template leaves to AWS's default, or does not write as one property (a queue's
    Attributes, a retention left out), is put down to whichever pass created the resource.
    """
    _, kind, name = key
    if kind is None or name is None or (kind, name) not in verdicts.template.resources:
        return {}
    envelope = verdicts.template.resources[(kind, name)]
    declared = envelope.get("template") or {}
    logical_id = declared.get("logical_id", "")
    produced = {}
    for data_key in sorted(reads.get(kind, set()) - {ALL}):
        written = declared.get("keys", {}).get(data_key, {}).get("property")
        if written:
            parts = written.split(".")
            owner, prop = (
                (parts[1], parts[3]) if parts[0] == "Resources" else (logical_id, parts[1])
            )
            produced[data_key] = verdicts.deployed.produced.get(owner, {}).get(prop, "?")
        else:
            creator = verdicts.deployed.created_by.get(logical_id)
            defaulted = data_key in envelope.get("defaults", [])
            why = "AWS default" if defaulted else "not one property of the template"
            produced[data_key] = f"{why}, created by {creator}"
    return produced


def test_every_rule_that_judged_the_template_gives_the_same_verdict_live(
    verdicts: Verdicts,
) -> None:
    rules = {rule.id: rule for rule in verdicts.prepared.rules}
    judged = {k: r for k, r in verdicts.template.results.items() if r["status"] != NOT_APPLICABLE}
    differences, explained = [], set()
    by_rule: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for key, declared in sorted(judged.items(), key=lambda item: json.dumps(item[0])):
        rule = rules[key[0]]
        provenance = _provenance(verdicts, rule.reads, key)
        for data_key, producer in provenance.items():
            by_rule[key[0]][data_key].add(producer)
        deployed = verdicts.live.results.get(key)
        live_status = deployed["status"] if deployed else "<no live result>"
        if live_status == declared["status"]:
            continue
        fields = _fields(rule.reads, key, verdicts)
        gaps = {(key[0], field) for field in fields} & set(MOTO_GAPS)
        if gaps:
            explained |= gaps
            continue
        differences.append(
            f"{key[0]} on {key[1]} {key[2]}: template {declared['status']} "
            f"({declared['message']}), live {live_status} "
            f"({deployed['message'] if deployed else '-'}); differing fields "
            f"{json.dumps(fields, default=str)}; live state produced by {json.dumps(provenance)}"
        )
    print("\nrules judged before deploy: each data key they read, and who produced it live")
    for rule_id, keys in sorted(by_rule.items()):
        print(
            f"  {rule_id}: "
            + "; ".join(f"{k}: {' | '.join(sorted(v))}" for k, v in sorted(keys.items()))
        )
    print("moto's differences, allowed:")
    for (rule_id, field), reason in sorted(MOTO_GAPS.items()):
        print(f"  {rule_id} / {field}: {reason}")
    assert len({key[0] for key in judged}) >= 20, sorted({key[0] for key in judged})
    assert not differences, "\n".join(differences)
    assert explained == set(MOTO_GAPS), (
        f"allow-list entries that no longer occur: {set(MOTO_GAPS) - explained}"
    )


def test_the_deploy_records_who_produced_each_property(verdicts: Verdicts) -> None:
    """moto 5.2.5's CloudFormation, measured: it applies queue attributes and retention, drops
    versioning and lifecycle, and creates no alarm; the helper completes those."""
    summary = provenance_by_type(verdicts.deployed)
    print("\n" + json.dumps(summary, indent=1, sort_keys=True))
    assert summary["AWS::SQS::Queue"]["RedrivePolicy"] == "cloudformation"
    assert summary["AWS::Logs::LogGroup"]["RetentionInDays"] == "cloudformation"
    assert summary["AWS::S3::Bucket"]["VersioningConfiguration"] == "helper"
    assert summary["AWS::S3::Bucket"]["LifecycleConfiguration"] == "helper"
    assert set(summary["AWS::CloudWatch::Alarm"].values()) == {"helper"}
    assert summary["AWS::CloudTrail::Trail"]["IsLogging"] == "helper"
    assert summary["AWS::Lambda::Function"]["TracingConfig"].startswith("not applied")
    # PITR off is what moto's table has anyway; on, only the helper's call makes it so.
    pitr = summary["AWS::DynamoDB::Table"]["PointInTimeRecoverySpecification"]
    assert pitr == ("helper" if verdicts.fixed else "cloudformation")


def test_the_violations_are_verdicts_at_both_moments(verdicts: Verdicts) -> None:
    """The deliberate violations fail on both sides as shipped, and pass on both once fixed."""
    from tests.template.sam_app import FIXES

    for rule_id in FIXES:
        template = {k: r["status"] for k, r in verdicts.template.results.items() if k[0] == rule_id}
        live = {k: r["status"] for k, r in verdicts.live.results.items() if k[0] == rule_id}
        assert template == {k: live.get(k) for k in template}, rule_id
        assert ("fail" in template.values()) is not verdicts.fixed, (rule_id, template)


def test_resource_names_join_through_logical_ids(verdicts: Verdicts) -> None:
    """A function's generated name differs between the gate and the deploy; its log group's
    name follows the function on each side, so both join to the same live resources."""
    functions = {n for (kind, n) in verdicts.template.resources if kind == "aws.lambda.function"}
    live_functions = {n for (kind, n) in verdicts.live.resources if kind == "aws.lambda.function"}
    assert len(functions) == 5
    assert functions == live_functions
    groups = {n for (kind, n) in verdicts.template.resources if kind == "aws.logs.log_group"}
    assert {f"/aws/lambda/{name}" for name in functions} <= groups
