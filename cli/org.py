"""Organisation scale on the command line: which accounts to read, and the plan of shards.

The mechanisms live in the collectors (``organization``: discovery; ``context``: account
units) and the engine (``accounts``: the accounts file and per-account plans; ``shards``: the
manifest, the split and the fail-closed merge). This module only turns options into those
calls, once, for ``collect``, ``check`` and ``plan``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

import typer

from runbook_guard.cli.app import Command, app, examples
from runbook_guard.cli.common import guarded
from runbook_guard.cli.options import (
    ConfigOption,
    ParamOption,
    PoliciesOption,
    ProfileOption,
    RegionOption,
)
from runbook_guard.cli.pipeline import Prepared, collection_plan, collection_scope, prepare
from runbook_guard.collectors import Scope, collect
from runbook_guard.engine.accounts import AccountUnit, load_accounts, plan_for_accounts
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.fileio import write_json_atomic
from runbook_guard.engine.overrides import parse_overrides

OrganizationFlag = Annotated[
    bool,
    typer.Option(
        "--organization",
        help="Read every ACTIVE account of the AWS Organization (run as its management or "
        "delegated administrator account); assume --role-name in each.",
    ),
]
OuOption = Annotated[
    list[str] | None,
    typer.Option("--ou", metavar="ID", help="Only accounts under this root or OU, at any depth."),
]
AccountTagOption = Annotated[
    list[str] | None,
    typer.Option(
        "--account-tag",
        metavar="KEY=VALUE",
        help="Only accounts with this tag (repeatable: any value per key, every key).",
    ),
]
RoleNameOption = Annotated[
    str | None,
    typer.Option(
        "--role-name",
        metavar="NAME",
        help="Role to assume in each account (name or path/name); the accounts file's default.",
    ),
]
ExternalIdOption = Annotated[
    str | None, typer.Option("--external-id", metavar="ID", help="ExternalId for AssumeRole.")
]
AccountsFileOption = Annotated[
    Path | None,
    typer.Option(
        "--accounts",
        metavar="PATH",
        help="Accounts file: id, role, regions, parameters, tags (runbook-guard schema accounts).",
    ),
]
ManifestOption = Annotated[
    Path | None,
    typer.Option("--manifest", metavar="PATH", help="The shard plan `runbook-guard plan` wrote."),
]
ShardOption = Annotated[
    str | None,
    typer.Option(
        "--shard",
        metavar="SHARD",
        help="K/N: collect part K (1-based) of N of --manifest; auto/N reads the index from "
        "JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX or RUNBOOK_GUARD_SHARD_INDEX (0-based).",
    ),
]
DiscoverRegionsFlag = Annotated[
    bool,
    typer.Option(
        "--discover-regions",
        help="Read every region enabled in each account (ec2:DescribeRegions) unless the "
        "account names its own.",
    ),
]


@dataclass(frozen=True)
class AccountChoice:
    """The account options as given; ``units`` turns them into the accounts to collect."""

    organization: bool = False
    ou: tuple[str, ...] = ()
    account_tags: tuple[str, ...] = ()
    role_name: str | None = None
    external_id: str | None = None
    accounts_file: Path | None = None
    discover_regions: bool = False

    @classmethod
    def of(
        cls,
        organization: bool,
        ou: list[str] | None,
        account_tag: list[str] | None,
        role_name: str | None,
        external_id: str | None,
        accounts_file: Path | None,
        discover_regions: bool,
    ) -> AccountChoice:
        return cls(
            organization, tuple(ou or ()), tuple(account_tag or ()), role_name, external_id,
            accounts_file, discover_regions,
        )  # fmt: skip

    @property
    def active(self) -> bool:
        """Any account option given (then ``units`` runs, and refuses a bad combination)."""
        return bool(
            self.organization or self.accounts_file is not None or self.discover_regions
            or self.ou or self.account_tags or self.role_name or self.external_id
        )  # fmt: skip

    def problems(self) -> list[str]:
        found = []
        if self.organization and self.accounts_file is not None:
            found.append("--organization and --accounts both name the accounts: give one")
        if (self.ou or self.account_tags) and not self.organization:
            found.append("--ou and --account-tag filter --organization's accounts: add it")
        if self.organization and not self.role_name:
            found.append("--organization needs --role-name: the role to assume in each account")
        return found

    def units(self, prepared: Prepared, scope: Scope) -> list[AccountUnit] | None:
        """The accounts to collect; ``None``: the usual ones (the caller's, or --role-arn)."""
        problems = self.problems()
        if problems:
            raise InputError(problems)
        if self.accounts_file is not None:
            loaded = load_accounts(self.accounts_file, self.role_name, self.external_id)
            unknown = loaded.parameter_problems(prepared.policy_set.parameters)
            if unknown:
                raise InputError(unknown)
            return loaded.units
        if self.organization:
            from runbook_guard.collectors.organization import (
                OrganizationScope,
                discover_accounts,
            )

            regions = tuple(scope.regions) or None
            wanted = OrganizationScope(
                self.role_name, self.external_id, self.ou, self.account_tags, regions
            )
            return discover_accounts(scope, wanted)
        return None


def collect_accounts(
    prepared: Prepared, params: list[str] | None, scope: Scope, choice: AccountChoice
) -> dict[str, Any]:
    """Collect the chosen accounts (each with its own parameters), or the usual ones."""
    units = choice.units(prepared, scope)
    base = collection_plan(prepared)
    scope = replace(scope, discover_regions=choice.discover_regions)
    if units is None:
        return collect(base, scope)
    plan, planned = plan_for_accounts(
        prepared.policy_set,
        [rule.id for rule in prepared.rules],
        run_overrides(prepared, params),
        base,
        units,
    )
    return collect(plan, replace(scope, accounts=planned))


def run_overrides(prepared: Prepared, params: list[str] | None) -> dict[str, Any]:
    """The run's raw overrides (config, then --param), over which an account's own go."""
    return {**prepared.config.parameters, **parse_overrides(params or [])}


@app.command(
    "plan",
    short_help="Discover the accounts once; write the manifest the shards collect.",
    cls=Command,
    epilog=examples(
        "runbook-guard plan --organization --role-name RunbookGuardReadOnly --shards 8 "
        "-o manifest.json",
        "runbook-guard plan --accounts accounts.yaml --shards 4 -o manifest.json",
    ),
)
def plan_shards(
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="PATH", help="Manifest to write.")
    ],
    shards: Annotated[
        int,
        typer.Option(
            "--shards", min=1, max=10_000, metavar="N", help="How many collect jobs share the work."
        ),
    ],
    policies: PoliciesOption = None,
    param: ParamOption = None,
    config: ConfigOption = None,
    organization: OrganizationFlag = False,
    ou: OuOption = None,
    account_tag: AccountTagOption = None,
    role_name: RoleNameOption = None,
    external_id: ExternalIdOption = None,
    accounts: AccountsFileOption = None,
    discover_regions: DiscoverRegionsFlag = False,
    profile: ProfileOption = None,
    region: RegionOption = None,
) -> None:
    """Discover the accounts once and write the manifest every shard collects a part of.

    Then each of N jobs runs `collect --manifest M --shard K/N`, and one job runs `evaluate
    --manifest M --snapshot 'shards/*.json'` (a missing or duplicated shard is `error`).
    """

    def run() -> int:
        from runbook_guard.collectors.organization import manifest_units, type_scopes
        from runbook_guard.engine.shards import build_manifest

        prepared = prepare(config, policies, param)
        choice = AccountChoice.of(organization, ou, account_tag, role_name, external_id,
                                  accounts, discover_regions)  # fmt: skip
        scope = replace(
            collection_scope(prepared, profile, region, None, quiet=True),
            discover_regions=discover_regions,
        )
        units = choice.units(prepared, scope)
        if units is None:
            raise InputError(["plan needs the accounts: --organization or --accounts FILE"])
        base = collection_plan(prepared)
        ids = [rule.id for rule in prepared.rules]
        plan, _ = plan_for_accounts(
            prepared.policy_set, ids, run_overrides(prepared, param), base, units
        )
        manifest = build_manifest(
            manifest_units(scope, units),
            now=datetime.now(timezone.utc),
            policies_digest=prepared.policy_set.digest,
            parameters=prepared.parameters,
            planned_rules=base.rules,
            resource_types=type_scopes(plan),  # the union of every account's plan
            shards=shards,
        )
        write_json_atomic(output, manifest)
        return len(units)

    count = guarded(run)
    accounts_noun = "account" if count == 1 else "accounts"
    shards_noun = "shard" if shards == 1 else "shards"
    typer.echo(f"{count} {accounts_noun} in {shards} {shards_noun}: {output}", err=True)


def collect_shard(
    prepared: Prepared, params: list[str] | None, scope: Scope, manifest_path: Path, shard: str
) -> dict[str, Any]:
    """Collect shard K of N of a manifest: its accounts, as of the manifest's one ``now``.

    Refused (exit 2) when the manifest was planned for other policies, parameters or rules:
    its shards would be merged as foreign anyway, after the whole collection's cost.
    """
    from runbook_guard.engine.shards import (
        fingerprint,
        load_manifest,
        manifest_now,
        parse_shard,
        require_fingerprint,
        shard_accounts,
        stamp_shard,
    )  # fmt: skip

    manifest = load_manifest(manifest_path)
    index, count = parse_shard(shard)
    base = collection_plan(prepared)
    found = fingerprint(prepared.policy_set.digest, prepared.parameters, base.rules)
    require_fingerprint(manifest, found)
    plan, units = plan_for_accounts(
        prepared.policy_set,
        [rule.id for rule in prepared.rules],
        run_overrides(prepared, params),
        base,
        shard_accounts(manifest, index, count),
    )
    moment = manifest_now(manifest)
    shard_scope = replace(scope, accounts=units, discover_regions=True, now=moment)
    return stamp_shard(collect(plan, shard_scope), manifest, index, count)


def merged_shards(manifest_path: Path, snapshots: list[str]) -> dict[str, Any]:
    """Every shard snapshot the paths and globs name, merged against the manifest (fail closed:
    a missing, duplicated or foreign shard's units are ``error``)."""
    import glob

    from runbook_guard.engine.shards import load_manifest, merge_shards

    paths: list[Path] = []
    for pattern in snapshots:
        matched = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
        paths.extend(Path(p) for p in matched)
    return merge_shards(paths, load_manifest(manifest_path))
