"""`runbook-guard collect`: read the AWS state the loaded rules need into snapshot.json."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from runbook_guard.cli.app import Command, app, examples
from runbook_guard.cli.common import counted, guarded
from runbook_guard.cli.options import (
    CadenceOption,
    ConfigOption,
    ExcludeRuleOption,
    MaxAttemptsOption,
    MaxConcurrencyOption,
    ParamOption,
    PoliciesOption,
    ProfileOption,
    QuietOption,
    RegionOption,
    RoleArnOption,
    RuleOption,
    SeverityOption,
    TagOption,
    selection_of,
)
from runbook_guard.cli.org import (
    AccountChoice,
    AccountsFileOption,
    AccountTagOption,
    DiscoverRegionsFlag,
    ExternalIdOption,
    ManifestOption,
    OrganizationFlag,
    OuOption,
    RoleNameOption,
    ShardOption,
    collect_accounts,
    collect_shard,
)
from runbook_guard.cli.pipeline import collection_plan, collection_scope, prepare
from runbook_guard.collectors import collect
from runbook_guard.collectors.pool import DEFAULT_MAX_CONCURRENCY
from runbook_guard.collectors.spill import spilling
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.fileio import write_json_atomic


@app.command(
    "collect",
    short_help="Collect what the rules need, read-only, into snapshot.json.",
    cls=Command,
    epilog=examples(
        "runbook-guard collect -o snapshot.json",
        "runbook-guard collect -o snapshot.json --region eu-west-1 --region us-east-1",
        "runbook-guard collect -o snapshot.json --role-arn arn:aws:iam::123456789012:role/ro",
        "runbook-guard collect -o snapshot.json --tag security   # what those rules read",
        "runbook-guard collect -o snapshot.json --accounts accounts.yaml",
        "runbook-guard collect -o shard.json --manifest manifest.json --shard auto/8",
    ),
)
def collect_command(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="PATH", help="Where to write snapshot.json."),
    ],
    policies: PoliciesOption = None,
    param: ParamOption = None,
    config: ConfigOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    role_arn: RoleArnOption = None,
    max_attempts: MaxAttemptsOption = 5,
    max_concurrency: MaxConcurrencyOption = DEFAULT_MAX_CONCURRENCY,
    quiet: QuietOption = False,
    rule: RuleOption = None,
    exclude_rule: ExcludeRuleOption = None,
    tag: TagOption = None,
    severity: SeverityOption = None,
    cadence: CadenceOption = None,
    organization: OrganizationFlag = False,
    ou: OuOption = None,
    account_tag: AccountTagOption = None,
    role_name: RoleNameOption = None,
    external_id: ExternalIdOption = None,
    accounts: AccountsFileOption = None,
    discover_regions: DiscoverRegionsFlag = False,
    manifest: ManifestOption = None,
    shard: ShardOption = None,
) -> None:
    """Collect what the rules need with read-only calls; failed calls become snapshot errors.

    With a selection, only what the selected rules read: evaluate the snapshot with the same
    selection (any other rule finds it was not collected for, and is ``error``).
    """

    def run() -> dict[str, Any]:
        chosen = selection_of(rule, exclude_rule, tag, severity, cadence)
        prepared = prepare(config, policies, param, selection=chosen)
        plan = collection_plan(prepared)
        scope = collection_scope(
            prepared,
            profile,
            region,
            role_arn,
            quiet=quiet,
            max_attempts=max_attempts,
            max_concurrency=max_concurrency,
        )
        choice = AccountChoice.of(organization, ou, account_tag, role_name, external_id,
                                  accounts, discover_regions)  # fmt: skip
        if (manifest is None) != (shard is None):
            raise InputError(["--manifest and --shard go together: the plan and which part of it"])
        if manifest is not None and shard is not None:
            if choice.active:
                raise InputError(["--manifest names the accounts: drop the account options"])
            snapshot = collect_shard(prepared, param, scope, manifest, shard)
        elif choice.active:
            snapshot = collect_accounts(prepared, param, scope, choice)
        else:
            snapshot = collect(plan, scope)
        write_json_atomic(output, snapshot)
        return snapshot

    with spilling():  # the snapshot is only written out: resources may wait on disk
        snapshot = guarded(run)
    if not quiet:
        resources = counted(len(snapshot["resources"]), "resource")
        errors = counted(len(snapshot["errors"]), "collection error")
        calls = counted(snapshot["metadata"]["api_calls"], "API call")
        typer.echo(f"{resources}, {errors}, {calls} -> {output}", err=True)
