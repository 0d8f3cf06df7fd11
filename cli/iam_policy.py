"""`runbook-guard iam-policy`: the read-only IAM policy that `collect` needs, and no more."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import typer

from runbook_guard.cli.app import Command, app, examples
from runbook_guard.cli.common import guarded
from runbook_guard.cli.options import (
    CadenceOption,
    ConfigOption,
    ExcludeRuleOption,
    ParamOption,
    PoliciesOption,
    RuleOption,
    SeverityOption,
    TagOption,
    selection_of,
)
from runbook_guard.cli.pipeline import collection_plan, prepare
from runbook_guard.collectors import insights, logs, metrics
from runbook_guard.collectors.context import IDENTITY_API
from runbook_guard.collectors.policy import PARTITIONS
from runbook_guard.collectors.policy import iam_policy as build_policy
from runbook_guard.collectors.registry import COLLECTORS, OperationSet, load_all
from runbook_guard.collectors.role_template import render, role_template
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.fileio import canonical_json
from runbook_guard.engine.plan import CollectionPlan
from runbook_guard.engine.selection import is_active

KmsKeyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--kms-key",
        metavar="ARN",
        help=(
            "Also allow kms:Decrypt on this KMS key ARN (repeatable), so that Lambda "
            "environments encrypted with it can be checked. Their values then reach the "
            "collecting process (redacted at once, never stored); without it those functions "
            "are 'error' on the secrets rule."
        ),
    ),
]
PartitionOption = Annotated[
    str,
    typer.Option(
        "--partition",
        metavar="PARTITION",
        help=f"ARN partition of scoped resources: {', '.join(PARTITIONS)}.",
    ),
]


def planned_operation_sets(plan: CollectionPlan) -> list[OperationSet]:
    """Every operation set a collection of ``plan`` may call through.

    Whole sets, not single operations: which detail calls a collector makes is its own
    decision (per resource, per key read, per option), and a policy one call short would turn
    a selected rule into an AccessDenied ``error``. A collector runs only for the types the
    plan lists, and metrics and log counts only when a rule asks for one.
    """
    load_all()
    sets = [IDENTITY_API]
    sets += [COLLECTORS[t].api for t in sorted(plan.types) if t in COLLECTORS]
    requests = plan.types.values()
    if any(request.metrics for request in requests):
        sets.append(metrics.API)
    if any(request.log_queries for request in requests):
        sets += [logs.EVENTS_API, insights.API]
    return sets


def narrowed(policy: dict[str, Any], sets: Iterable[OperationSet]) -> dict[str, Any]:
    """``policy`` keeping only the actions of ``sets`` (and any kms:Decrypt statement)."""
    allowed = {api.iam_action(op) for api in sets for op in api.operations} | {"kms:Decrypt"}
    statements = []
    for statement in policy["Statement"]:
        actions = [action for action in statement["Action"] if action in allowed]
        if actions:
            statements.append({**statement, "Action": actions})
    return {**policy, "Statement": statements}


@app.command(
    "iam-policy",
    short_help="Print the least-privilege read-only IAM policy that collect needs.",
    cls=Command,
    epilog=examples(
        "runbook-guard iam-policy > policy.json",
        "runbook-guard iam-policy --tag security          # only what those rules call",
        "runbook-guard iam-policy --kms-key arn:aws:kms:eu-west-1:123456789012:key/ID",
        "runbook-guard iam-policy --format cloudformation --trusted-account 999999999999 "
        "> role.yaml   # a StackSet",
    ),
)
def iam_policy(
    kms_key: KmsKeyOption = None,
    partition: PartitionOption = "aws",
    policies: PoliciesOption = None,
    param: ParamOption = None,
    config: ConfigOption = None,
    rule: RuleOption = None,
    exclude_rule: ExcludeRuleOption = None,
    tag: TagOption = None,
    severity: SeverityOption = None,
    cadence: CadenceOption = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="json (the policy) or cloudformation (a template creating the collection role "
            "with it, for a StackSet across the organisation; needs --trusted-account).",
        ),
    ] = "json",
    template_format: Annotated[
        str, typer.Option("--template-format", metavar="FORMAT", help="yaml or json.")
    ] = "yaml",
    trusted_account: Annotated[
        str | None,
        typer.Option(
            "--trusted-account",
            metavar="ID_OR_ARN",
            help="Who may assume the role: the account running the checks, or one role ARN in it.",
        ),
    ] = None,
    external_id: Annotated[
        str | None,
        typer.Option("--external-id", metavar="ID", help="Require this ExternalId to assume it."),
    ] = None,
    role_name: Annotated[
        str, typer.Option("--role-name", metavar="NAME", help="The role's name.")
    ] = "RunbookGuardReadOnly",
) -> None:
    """Print the least-privilege IAM policy JSON for `collect`.

    Built from the operations the collectors declare. With a selection (--rule, --tag, ...,
    or the config file's), only the services and calls the selected rules' collection makes.
    With --role-arn, attach it to the collecting role; the caller then also needs
    sts:AssumeRole on that role. It grants no kms:Decrypt unless --kms-key names the keys.
    """

    def run() -> str:
        if output_format not in ("json", "cloudformation"):
            raise InputError([f"--format must be json or cloudformation, not {output_format!r}"])
        if template_format not in ("yaml", "json"):
            raise InputError([f"--template-format must be yaml or json, not {template_format!r}"])
        policy = chosen_policy()
        if output_format == "json":
            return canonical_json(policy)
        if trusted_account is None:
            raise InputError(["--format cloudformation needs --trusted-account: who runs checks"])
        template = role_template(
            trusted_account, external_id=external_id, role_name=role_name,
            partition=partition, policy=policy,
        )  # fmt: skip
        return render(template, template_format)

    def chosen_policy() -> dict[str, Any]:
        policy = build_policy(kms_key or (), partition)
        chosen = selection_of(rule, exclude_rule, tag, severity, cadence)
        if not (chosen.active or policies or param or config):
            return policy  # nothing to read: the whole tool's policy, as always
        prepared = prepare(config, policies, param, selection=chosen)
        if not is_active(prepared.selection):
            return policy
        return narrowed(policy, planned_operation_sets(collection_plan(prepared)))

    typer.echo(guarded(run), nl=False)
