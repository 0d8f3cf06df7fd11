"""Options shared by several commands, declared once.

Every option that takes a value names what to type (``PATH``, ``KEY=VALUE``, ``LEVEL``, ...),
never a Python type; one with a fixed set of values lists them in its help. A short option
means one thing on every command (tests/test_cli_conventions.py checks both).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runbook_guard.engine.policy_schema import CADENCES, SEVERITIES
from runbook_guard.engine.selection import Selection

#: The severities as a person lists them, mildest first.
LEVELS = ", ".join(reversed(SEVERITIES))

PoliciesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--policies",
        "-p",
        metavar="PATH",
        help="Policy file, folder or shipped pack name (agenticai); repeatable, packs combine; "
        "replaces the default (every shipped pack).",
    ),
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        metavar="KEY=VALUE",
        help="Override a policy parameter: key=value (repeatable).",
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        metavar="PATH",
        help="Configuration file (parameters, policies, waivers, attestations, owners, scope).",
    ),
]
WaiversOption = Annotated[
    Path | None,
    typer.Option("--waivers", "-w", metavar="PATH", help="Waivers file (owner, reason, expiry)."),
]
AttestationsOption = Annotated[
    Path | None,
    typer.Option(
        "--attestations",
        metavar="PATH",
        help="Attestations file: who checked each manual rule, when, the evidence and until "
        "when (an unexpired one passes the rule); replaces the config file's.",
    ),
]
NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        metavar="TIME",
        help="Evaluate as of this ISO 8601 time; default: when the snapshot was taken.",
    ),
]
FailOnOption = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        metavar="STATUS",
        help="Lowest status that fails the gate: note, warn, fail (default) or never.",
    ),
]
MaxConcurrencyOption = Annotated[
    int,
    typer.Option(
        "--max-concurrency",
        metavar="N",
        min=1,
        help="API calls in flight at once, over every service, account and region (per-operation "
        "caps and documented rates still hold).",
    ),
]
RuleOption = Annotated[
    list[str] | None,
    typer.Option(
        "--rule",
        metavar="ID",
        help="Evaluate only rules whose id matches this glob (repeatable; *, ?, [..]).",
    ),
]
ExcludeRuleOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude-rule",
        metavar="ID",
        help="Leave out rules whose id matches this glob (repeatable).",
    ),
]
TagOption = Annotated[
    list[str] | None,
    typer.Option(
        "--tag", metavar="TAG", help="Evaluate only rules with this tag (repeatable: any of them)."
    ),
]
SeverityOption = Annotated[
    str | None,
    typer.Option(
        "--severity",
        metavar="LEVEL",
        help=f"Evaluate only rules of this severity or worse: {LEVELS}.",
    ),
]
CadenceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--cadence",
        metavar="CADENCE",
        help=f"Evaluate only rules of this cadence (repeatable): {', '.join(CADENCES)}.",
    ),
]
FailSeverityOption = Annotated[
    str | None,
    typer.Option(
        "--fail-severity",
        metavar="LEVEL",
        help="With --fail-on: results block only when their rule is of this severity or worse "
        f"({LEVELS}); an error blocks at any severity.",
    ),
]

OutputDirOption = Annotated[
    Path,
    typer.Option(
        "--output-dir", "-d", metavar="DIR", help="Folder for snapshot, results and reports."
    ),
]
ProfileOption = Annotated[
    str | None,
    typer.Option("--profile", metavar="NAME", help="AWS profile (default: boto3's chain)."),
]
#: No short option: ``-r`` is ``--results`` (report), and one letter means one thing.
RegionOption = Annotated[
    list[str] | None,
    typer.Option(
        "--region", metavar="REGION", help="Region to collect (repeatable; default: session's)."
    ),
]
RoleArnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--role-arn",
        metavar="ARN",
        help="Assume this role and collect its account (repeatable).",
    ),
]
MaxAttemptsOption = Annotated[
    int,
    typer.Option(
        "--max-attempts",
        metavar="N",
        envvar="AWS_MAX_ATTEMPTS",
        min=1,
        help="Attempts per call, first included (botocore standard retry mode).",
    ),
]
QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="No progress on stderr (a bar, or lines off a terminal)."),
]
PreviousOption = Annotated[
    Path | None,
    typer.Option(
        "--previous",
        metavar="PATH",
        help="An earlier run's results.json: report what changed since it (a missing file is "
        "a note: a first run has none).",
    ),
]
HistoryOption = Annotated[
    Path | None,
    typer.Option(
        "--history",
        metavar="DIR",
        help="Keep this run's results in DIR and report against the runs kept there: what "
        "changed since the last, a trend, how long each finding has been open.",
    ),
]
HistoryKeepOption = Annotated[
    int,
    typer.Option(
        "--history-keep",
        metavar="N",
        min=1,
        help="With --history: how many runs to keep, the oldest pruned.",
    ),
]


def selection_of(
    rule: list[str] | None,
    exclude_rule: list[str] | None,
    tag: list[str] | None,
    severity: str | None,
    cadence: list[str] | None,
) -> Selection:
    """The selection the options ask for (empty: every rule, or the config file's)."""
    return Selection.from_options(
        rule or (), exclude_rule or (), tag or (), severity, cadence or ()
    )
