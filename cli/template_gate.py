"""The template gate's glue: ``--template`` files -> a template snapshot, and the live join.

Templates are read only when asked for: the reader's dependencies (cfn-lint, the SAM
translator) are the ``template`` extra, which a live-only gate never installs; without it,
``--template`` is bad input naming the extra, not a traceback.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

import typer

from runbook_guard import __version__
from runbook_guard.cli.pipeline import Prepared, evaluate
from runbook_guard.engine.errors import InputError, problem
from runbook_guard.engine.snapshot import as_written

TemplateOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--template",
        "-t",
        metavar="PATH",
        help="SAM/CloudFormation template to judge before deploy (repeatable). With `check "
        "--live` or `evaluate --snapshot`, locates live findings on it and reports drift.",
    ),
]
OverridesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--parameter-overrides",
        metavar="KEY=VALUE",
        help="Template parameter Key=Value (repeatable), over samconfig.toml and defaults.",
    ),
]
ConfigEnvOption = Annotated[
    str,
    typer.Option(
        "--config-env", metavar="NAME", help="samconfig.toml environment, as `sam deploy`."
    ),
]
StackNameOption = Annotated[
    str | None,
    typer.Option(
        "--stack-name",
        metavar="NAME",
        help="Stack name; default samconfig's, else the file's stem.",
    ),
]
AccountOption = Annotated[
    str | None,
    typer.Option(
        "--account",
        metavar="ACCOUNT_ID",
        help="AWS::AccountId the template deploys to (conditions and ARNs on the account need "
        "it; without it they are undetermined, never guessed).",
    ),
]
SarifRootOption = Annotated[
    Path | None,
    typer.Option(
        "--sarif-root",
        metavar="DIR",
        help="Folder result locations are relative to (default: the git top level of the "
        "template, else the current folder): GitHub resolves SARIF paths from the repository root.",
    ),
]


@dataclass
class TemplateRequest:
    """What the command line says about templates (empty: no template gate)."""

    paths: list[Path] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    config_env: str = "default"
    stack_name: str | None = None
    sarif_root: Path | None = None
    account: str | None = None

    def __bool__(self) -> bool:
        return bool(self.paths)

    @staticmethod
    def of(
        paths: Sequence[Path] | None,
        overrides: Sequence[str] | None,
        config_env: str,
        stack_name: str | None,
        sarif_root: Path | None,
        account: str | None,
    ) -> TemplateRequest:
        """From a command's options (each command declares them: typer has no shared group)."""
        return TemplateRequest(
            list(paths or []), list(overrides or []), config_env, stack_name, sarif_root, account
        )


@dataclass
class Judged:
    """The templates as read (the snapshot document) and the rules' results on them."""

    document: dict[str, Any]
    results: dict[str, Any]

    def join(self, live: dict[str, Any]) -> int:
        """Locate a live run's results on these templates and mark drift (``join_live``)."""
        return join_live(live, self.results, self.document)


def judge_templates(
    prepared: Prepared,
    request: TemplateRequest,
    now: str | None,
    waivers: Path | None,
    attestations: Path | None = None,
) -> Judged:
    """Read the templates and evaluate the prepared rules on them, as of ``--now`` or now.

    Attestations change nothing before deploy (a manual rule is ``not_applicable`` on a
    template) but are checked all the same: a bad file is exit 2 in every mode."""
    document = template_snapshot(request, template_time(now))
    results = evaluate(prepared, as_written(document), None, waivers, attestations)
    return Judged(document, results)


def _overrides(pairs: Sequence[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(
                [problem("<command line>", None, None, "--parameter-overrides",
                         f"{pair!r} is not Key=Value")]
            )  # fmt: skip
        parsed[key.strip()] = value
    return parsed


def repository_root(start: Path) -> Path:
    """The git top level holding ``start`` (how GitHub resolves SARIF paths), else the cwd."""
    try:
        found = subprocess.run(
            ["git", "-C", str(start), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return Path.cwd()
    top = found.stdout.strip()
    return Path(top) if found.returncode == 0 and top else Path.cwd()


def display_path(path: Path, root: Path) -> str:
    """The template as results name it: relative to the root, with forward slashes."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def template_snapshot(request: TemplateRequest, now: datetime) -> dict[str, Any]:
    """Read every template and map it into one snapshot document (``source: template``)."""
    try:
        from runbook_guard.template.reader import read_template
        from runbook_guard.template.snapshot import template_snapshot as build
    except ImportError as error:
        raise InputError(
            [
                problem("<command line>", None, None, "--template",
                        "the template gate needs its extra: pip install 'runbook-guard[template]'"
                        f" ({error})")
            ]
        ) from None  # fmt: skip
    overrides = _overrides(request.overrides)
    read = []
    for path in request.paths:
        root = request.sarif_root or repository_root(path.resolve().parent)
        read.append(
            read_template(
                path,
                display_path=display_path(path, root),
                parameter_overrides=overrides,
                config_env=request.config_env,
                stack_name=request.stack_name,
                account=request.account,
            )
        )
    return build(read, now, __version__)


def template_time(now: str | None) -> datetime:
    """A template is judged as of now (a runtime deprecated today fails today), or --now."""
    if now is None:
        return datetime.now(timezone.utc).replace(microsecond=0)
    from runbook_guard.engine.timeutil import parse_timestamp

    moment = parse_timestamp(now)
    if moment is None:
        raise InputError([f"--now: {now!r} is not an ISO 8601 time"])
    return moment


def _key(result: Mapping[str, Any]) -> tuple[str, str, str] | None:
    ref = result.get("resource")
    if not ref or ref.get("id", "").startswith("account:"):
        return None
    return (result["rule"], ref["type"], ref["name"])


def generated_patterns(document: Mapping[str, Any]) -> dict[str, re.Pattern[str]]:
    """Per template resource name built on a CloudFormation-generated name, the pattern its
    deployed twin matches: the gate's stable suffix stands for the random one AWS picked.

    ``agenticai-stack-QaAgentWorker-LERTBIQK2JDMR`` (and its ``/aws/lambda/...`` group) match
    ``agenticai-stack-QaAgentWorker-1A2B3C4D5E6F`` live; a name the template sets is exact.
    """
    from runbook_guard.template.names import generated_name

    stacks = {t["file"]: t["stack_name"] for t in document["metadata"]["source"]["templates"]}
    generated = set()
    for resource in document["resources"]:
        declared = resource["template"]
        stack = stacks.get(declared["file"])
        if stack is not None and declared.get("cfn_type"):
            generated.add(generated_name(stack, declared["logical_id"], declared["cfn_type"]))
    patterns = {}
    for resource in document["resources"]:
        name = resource["name"]
        for made in generated:
            if made in name:
                head, _, _suffix = made.rpartition("-")
                wild = re.escape(name).replace(
                    re.escape(made), re.escape(head) + "-[A-Za-z0-9]{8,16}"
                )
                patterns[name] = re.compile(f"^{wild}$", re.IGNORECASE)
                break
    return patterns


def join_live(
    live: dict[str, Any],
    template: Mapping[str, Any],
    document: Mapping[str, Any] | None = None,
) -> int:
    """Locate live results on their template resource and mark drift; returns drift count.

    A live resource is joined by (type, name): the name the template sets, or the one
    CloudFormation generates (``generated_patterns``: a unique match of the stack, logical id
    and any suffix). Drift is a rule the template passes and the live resource does not: an
    annotation on the live result (its status stays what the live system earned).
    """
    before = {key: result for result in template["results"] if (key := _key(result))}
    patterns = generated_patterns(document) if document is not None else {}
    loose: dict[tuple[str, str], list[tuple[re.Pattern[str], Mapping[str, Any]]]] = {}
    for (rule, rtype, name), result in before.items():
        if name in patterns:
            loose.setdefault((rule, rtype), []).append((patterns[name], result))
    drifted = 0
    for result in live["results"]:
        key = _key(result)
        declared = before.get(key) if key else None
        if declared is None and key is not None:
            found = [r for pattern, r in loose.get(key[:2], []) if pattern.match(key[2])]
            declared = found[0] if len(found) == 1 else None
        if declared is None:
            continue
        if "location" in declared:
            result["location"] = declared["location"]
        live_status = result.get("original_status") or result["status"]
        if declared["status"] == "pass" and live_status in ("warn", "fail"):
            where = declared.get("location")
            at = f" ({where['file']}:{where['line']})" if where else ""
            result["drift"] = {
                "template_status": declared["status"],
                "message": f"the template passes this rule{at}; the live resource is "
                f"{live_status}: {result['message']}",
                **({"location": where} if where else {}),
            }
            drifted += 1
    live["scope"]["source"] = {
        "kind": "live",
        "templates": template["scope"].get("source", {}).get("templates", []),
    }
    return drifted
