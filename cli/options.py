"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

PoliciesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--policies", "-p", help="Policy file or folder (repeatable); default: the shipped packs."
    ),
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option("--param", help="Override a policy parameter: key=value (repeatable)."),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Configuration file (parameters, policies, waivers, scope)."
    ),
]
WaiversOption = Annotated[
    Path | None, typer.Option("--waivers", "-w", help="Waivers file (owner, reason, expiry).")
]
NowOption = Annotated[
    str | None,
    typer.Option(
        "--now", help="Evaluate as of this ISO 8601 time; default: when the snapshot was taken."
    ),
]
FailOnOption = Annotated[
    str | None,
    typer.Option(
        "--fail-on", help="Lowest status that fails the gate: note, warn, fail (default) or never."
    ),
]
MaxConcurrencyOption = Annotated[
    int,
    typer.Option(
        "--max-concurrency",
        min=1,
        help="API calls in flight at once, over every service, account and region (per-operation "
        "caps and documented rates still hold).",
    ),
]
