"""Deploy a SAM app into moto the way ``sam deploy`` and CloudFormation would, for tests.

``sam deploy`` packages each local ``CodeUri`` into S3, CloudFormation's SAM transform turns the
template into plain CloudFormation, and CloudFormation creates the resources. Here:

1. package: each function's folder is zipped into an artifacts bucket, its ``CodeUri`` pointed
   there (the SAM CLI's own ``resolve_s3`` bucket does the same);
2. transform: aws-sam-translator, with the parameters ``sam deploy`` would pass (defaults, then
   ``samconfig.toml``, then overrides);
3. moto's CloudFormation creates every resource of a type it models whose references stay
   among such resources (it models no alarm, budget, trail, Lambda alias or API stage, and a
   SAM API's body names the alias, so the API falls out with it);
4. the rest is created through the service APIs (``deploy_apply.CREATE``), and every property
   of what moto created that a rule depends on is read back and, where moto dropped it,
   applied (``deploy_settings``); CloudFormation's stack tags are added the same way.

``Deployed.provenance`` records, per resource type and property, who produced the live state.
Nothing here reads runbook_guard's template reader or mapper: the live side is built from the
template by an independent path, so the same-verdict test compares two readings, not one.
"""

from __future__ import annotations

import hashlib
import io
import json
import shlex
import sys
import warnings
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

from tests.template.deploy_apply import CREATE
from tests.template.deploy_context import HELPER, STACK_TAGS, Context
from tests.template.deploy_intrinsics import Resolver, references
from tests.template.deploy_settings import complete, tag

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

#: Where ``sam deploy --resolve-s3`` would upload the code (outside the pack's ``agenticai-``).
ARTIFACTS_BUCKET = "aws-sam-cli-managed-default-samclisourcebucket-runbookguard"
#: Types moto's CloudFormation lists as modelled but fails to create (MOTO_NOTES, moto 5.2.5).
MOTO_FAILS = frozenset({"AWS::Lambda::EventSourceMapping"})
#: Which pass produced a resource as a whole.
BY_CLOUDFORMATION, BY_HELPER = "moto CloudFormation", "service APIs"


@dataclass
class Deployed:
    """What the deploy created, and who produced each property of it."""

    stack_name: str
    stack_id: str
    #: Logical id -> CloudFormation type, for every resource of the transformed template.
    types: dict[str, str]
    #: Logical id -> what ``Ref`` returns for it (the physical id).
    physical: dict[str, str]
    #: Logical id -> the pass that created it (``BY_CLOUDFORMATION`` or ``BY_HELPER``).
    created_by: dict[str, str]
    #: Logical id -> property -> producer (``cloudformation``, ``helper``, ``not applied: ...``).
    produced: dict[str, dict[str, str]] = field(default_factory=dict)

    def provenance(self) -> dict[str, dict[str, dict[str, list[str]]]]:
        """CloudFormation type -> property -> producer -> the logical ids it holds for."""
        table: dict[str, dict[str, dict[str, list[str]]]] = {}
        for logical_id, properties in sorted(self.produced.items()):
            by_type = table.setdefault(self.types[logical_id], {})
            for prop, producer in properties.items():
                by_type.setdefault(prop, {}).setdefault(producer, []).append(logical_id)
        return table


def deploy_sam_app(
    app: Path,
    session: boto3.Session,
    *,
    region: str = "us-east-1",
    config_env: str = "default",
    overrides: Mapping[str, str] | None = None,
) -> Deployed:
    """Package, transform and deploy ``app/template.yaml`` into the mocked account."""
    template = yaml_parse((app / "template.yaml").read_text())
    stack_name, parameters = _deploy_parameters(app, template, config_env, overrides or {})
    s3 = session.client("s3", region_name=region)
    s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    _package(app, template, s3)
    account = session.client("sts", region_name=region).get_caller_identity()["Account"]
    pseudo = {
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::Partition": "aws",
        "AWS::StackName": stack_name,
        "AWS::URLSuffix": "amazonaws.com",
    }
    transformed = Translator({}, Parser(), boto_session=session).translate(
        template, {**parameters, **pseudo}
    )
    resources = transformed["Resources"]
    inside = _cloudformation_pass(resources)
    stack_id = _create_stack(session, region, stack_name, transformed, inside, parameters)
    ctx = Context(session, region, account, "aws", stack_name, stack_id)
    deployed = Deployed(
        stack_name,
        stack_id,
        types={lid: r["Type"] for lid, r in resources.items()},
        physical=_stack_resources(session, region, stack_name),
        created_by={lid: BY_CLOUDFORMATION if lid in inside else BY_HELPER for lid in resources},
    )
    live = LiveStack(ctx, deployed, resources)
    resolver = Resolver(
        {**_typed(transformed, parameters), **pseudo, "AWS::StackId": stack_id},
        live,
        mappings=transformed.get("Mappings", {}),
        conditions=transformed.get("Conditions", {}),
    )
    for logical_id in sorted(inside):
        props = resolver.resolve(resources[logical_id].get("Properties", {}))
        physical = live.ref(logical_id)
        produced = complete(ctx, resources[logical_id]["Type"], physical, props)
        deployed.produced[logical_id] = _with_tags(ctx, deployed, logical_id, produced)
    for logical_id in _creation_order(resources, set(resources) - inside):
        cfn_type = resources[logical_id]["Type"]
        props = resolver.resolve(resources[logical_id].get("Properties", {}))
        creator = CREATE.get(cfn_type)
        if creator is None:
            raise ValueError(
                f"{logical_id}: neither moto's CloudFormation nor the helper creates {cfn_type}"
            )
        created = creator(ctx, logical_id, props)
        deployed.physical[logical_id] = created.physical_id
        produced = {
            prop: HELPER if prop in created.applied else "not applied: the helper does not set it"
            for prop in sorted(props)
        }
        deployed.produced[logical_id] = _with_tags(ctx, deployed, logical_id, produced)
    return deployed


def _with_tags(
    ctx: Context, deployed: Deployed, logical_id: str, produced: dict[str, str]
) -> dict[str, str]:
    physical = deployed.physical.get(logical_id)
    tagged = (
        None if physical is None else tag(ctx, deployed.types[logical_id], logical_id, physical)
    )
    return produced if tagged is None else {**produced, STACK_TAGS: tagged}


def _deploy_parameters(
    app: Path, template: Mapping[str, Any], config_env: str, overrides: Mapping[str, str]
) -> tuple[str, dict[str, Any]]:
    """The stack name and parameter values ``sam deploy --config-env ENV`` would use."""
    values = {k: p["Default"] for k, p in template.get("Parameters", {}).items() if "Default" in p}
    config_file = app / "samconfig.toml"
    config: dict[str, Any] = {}
    if config_file.exists():
        environment = tomllib.loads(config_file.read_text()).get(config_env, {})
        config = {
            **environment.get("global", {}).get("parameters", {}),
            **environment.get("deploy", {}).get("parameters", {}),
        }
    written = config.get("parameter_overrides", [])
    pairs = shlex.split(written) if isinstance(written, str) else list(written)
    for pair in pairs:
        name, _, value = pair.partition("=")
        values[name] = value
    values.update(overrides)
    return str(config.get("stack_name", app.name)), values


def _typed(template: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter values as CloudFormation hands them to intrinsics (lists split, numbers)."""
    typed = {}
    for name, value in values.items():
        kind = template.get("Parameters", {}).get(name, {}).get("Type", "String")
        if kind.startswith("List<") or kind == "CommaDelimitedList":
            value = value if isinstance(value, list) else str(value).split(",")
        elif kind == "Number":
            value = int(value) if str(value).lstrip("-").isdigit() else float(value)
        typed[name] = value
    return typed


def _package(app: Path, template: Mapping[str, Any], s3: Any) -> None:
    """``sam package``: each local CodeUri zipped (deterministically) into the artifacts bucket."""
    for logical_id, resource in sorted(template["Resources"].items()):
        props = resource.get("Properties", {})
        code = props.get("CodeUri")
        if resource["Type"] != "AWS::Serverless::Function" or not isinstance(code, str):
            continue
        if code.startswith("s3://"):
            continue
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted((app / code).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    entry = zipfile.ZipInfo(
                        str(path.relative_to(app / code)), (1980, 1, 1, 0, 0, 0)
                    )
                    zipped.writestr(entry, path.read_bytes())
        body = archive.getvalue()
        key = f"{logical_id}/{hashlib.sha256(body).hexdigest()}.zip"
        s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=key, Body=body)
        props["CodeUri"] = f"s3://{ARTIFACTS_BUCKET}/{key}"


def _cloudformation_pass(resources: Mapping[str, Any]) -> set[str]:
    """The resources moto's CloudFormation can create: a type it models, and references only
    to others it creates (a reference to one it cannot create would resolve to nothing)."""
    from moto.cloudformation.parsing import get_model_map

    modelled = set(get_model_map()) - MOTO_FAILS
    inside = {lid for lid, r in resources.items() if r["Type"] in modelled}
    while True:
        outside = set(resources) - inside
        dropped = {lid for lid in inside if _depends_on(resources[lid]) & outside}
        if not dropped:
            return inside
        inside -= dropped


def _depends_on(resource: Mapping[str, Any]) -> set[str]:
    written = resource.get("DependsOn", [])
    explicit = {written} if isinstance(written, str) else set(written)
    return references(resource.get("Properties", {})) | explicit


def _creation_order(resources: Mapping[str, Any], pending: set[str]) -> Iterable[str]:
    """The resources left for the service APIs, each after the ones it references."""
    waiting = {lid: _depends_on(resources[lid]) & pending for lid in pending}
    while waiting:
        ready = sorted(lid for lid, needs in waiting.items() if not needs)
        if not ready:
            raise ValueError(f"circular references among {sorted(waiting)}")
        for lid in ready:
            del waiting[lid]
            yield lid
        for needs in waiting.values():
            needs.difference_update(ready)


def _create_stack(
    session: boto3.Session,
    region: str,
    stack_name: str,
    transformed: Mapping[str, Any],
    inside: set[str],
    parameters: Mapping[str, Any],
) -> str:
    """moto's CloudFormation creates its share; outputs naming the rest are left out."""
    body = {key: value for key, value in transformed.items() if key not in ("Resources", "Outputs")}
    body["Resources"] = {lid: r for lid, r in transformed["Resources"].items() if lid in inside}
    declared = transformed.get("Parameters", {})
    given = [
        {
            "ParameterKey": name,
            "ParameterValue": ",".join(map(str, v)) if isinstance(v, list) else str(v),
        }
        for name, v in sorted(parameters.items())
        if name in declared
    ]
    cloudformation: Any = session.client("cloudformation", region_name=region)
    with warnings.catch_warnings():  # moto warns for each type it skips: none are given to it
        warnings.simplefilter("ignore")
        answer = cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(body),
            Parameters=given,
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        )
    status = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
    if status != "CREATE_COMPLETE":
        raise RuntimeError(f"moto's CloudFormation left the stack {status}")
    return str(answer["StackId"])


def _stack_resources(session: boto3.Session, region: str, stack_name: str) -> dict[str, str]:
    cloudformation = session.client("cloudformation", region_name=region)
    listed = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in listed
        if r.get("PhysicalResourceId")
    }


class LiveStack:
    """``Ref`` and ``Fn::GetAtt`` as CloudFormation answers them, read from the live services."""

    def __init__(self, ctx: Context, deployed: Deployed, resources: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.deployed = deployed
        self.resources = resources

    def has(self, logical_id: str) -> bool:
        return logical_id in self.resources

    def ref(self, logical_id: str) -> Any:
        if self.deployed.types[logical_id] == "AWS::Lambda::Version":
            return self._version(logical_id)["FunctionArn"]  # Ref: the version's ARN
        return self.deployed.physical[logical_id]

    def attribute(self, logical_id: str, name: str) -> Any:
        cfn_type = self.deployed.types[logical_id]
        reader = _ATTRIBUTES.get((cfn_type, name))
        if reader is None:
            raise ValueError(f"the deploy helper does not read Fn::GetAtt {cfn_type}.{name}")
        return reader(self, self.ref(logical_id))

    def _version(self, logical_id: str) -> Any:
        """moto's CloudFormation publishes the version but gives it no physical id."""
        function = self.deployed.physical[
            self.resources[logical_id]["Properties"]["FunctionName"]["Ref"]
        ]
        versions = self.ctx.client("lambda").list_versions_by_function(FunctionName=function)[
            "Versions"
        ]
        return max((v for v in versions if v["Version"].isdigit()), key=lambda v: int(v["Version"]))

    def client(self, service: str) -> Any:
        return self.ctx.client(service)


def _queue_attribute(name: str) -> Any:
    return lambda live, url: live.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=[name]
    )["Attributes"][name]


_ATTRIBUTES: dict[tuple[str, str], Any] = {
    ("AWS::SQS::Queue", "Arn"): _queue_attribute("QueueArn"),
    ("AWS::SQS::Queue", "QueueName"): lambda live, url: url.rsplit("/", 1)[1],
    ("AWS::SQS::Queue", "QueueUrl"): lambda live, url: url,
    ("AWS::Lambda::Function", "Arn"): lambda live, name: live.client(
        "lambda"
    ).get_function_configuration(FunctionName=name)["FunctionArn"],
    ("AWS::Lambda::Version", "Version"): lambda live, arn: arn.rsplit(":", 1)[1],
    ("AWS::DynamoDB::Table", "Arn"): lambda live, name: live.client("dynamodb").describe_table(
        TableName=name
    )["Table"]["TableArn"],
    ("AWS::S3::Bucket", "Arn"): lambda live, name: f"arn:{live.ctx.partition}:s3:::{name}",
    ("AWS::IAM::Role", "Arn"): lambda live, name: live.client("iam").get_role(RoleName=name)[
        "Role"
    ]["Arn"],
    ("AWS::SNS::Topic", "TopicArn"): lambda live, arn: arn,
    ("AWS::Logs::LogGroup", "Arn"): lambda live, name: next(
        g["arn"]
        for g in live.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        if g["logGroupName"] == name
    ),
    ("AWS::EC2::SecurityGroup", "GroupId"): lambda live, group: group,
    ("AWS::ApiGateway::RestApi", "RootResourceId"): lambda live, api: live.client(
        "apigateway"
    ).get_resources(restApiId=api)["items"][0]["id"],
}


def provenance_by_type(deployed: Deployed) -> dict[str, dict[str, str]]:
    """Per CloudFormation type and property, the producers joined (``cloudformation+helper``
    where resources of the type differ), for the test's report."""
    summary: dict[str, dict[str, str]] = defaultdict(dict)
    for cfn_type, properties in deployed.provenance().items():
        for prop, producers in sorted(properties.items()):
            summary[cfn_type][prop] = " | ".join(sorted(producers))
    return dict(summary)
