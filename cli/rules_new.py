"""`rules new`: a rule skeleton with its test cases, valid and passing as written.

Writing a first rule should start from something that already validates and whose cases
already pass (one passing, two adversarial ones failing), so that every later edit is judged
against a working baseline: ``validate`` and ``test --strict`` pass on the file unchanged.
The skeleton only reads a field the type's collector fills, and checks that it is set.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from runbook_guard.cli.app import Command, examples
from runbook_guard.cli.common import guarded
from runbook_guard.cli.registry_facts import collector_facts
from runbook_guard.cli.rules import rules_app
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.fileio import write_text_atomic
from runbook_guard.engine.paths import is_simple
from runbook_guard.engine.policy_schema import FREE_ID_PATTERN
from runbook_guard.engine.suggest import did_you_mean

_RULE_ID = re.compile(FREE_ID_PATTERN)

RuleIdArgument = Annotated[
    str,
    typer.Argument(
        metavar="ID", help="The new rule's id, e.g. sqs-queue-encrypted.", show_default=False
    ),
]
ResourceOption = Annotated[
    str,
    typer.Option(
        "--resource", metavar="TYPE", help="Resource type the rule judges, e.g. aws.sqs.queue."
    ),
]
PathOption = Annotated[
    str | None,
    typer.Option(
        "--path",
        metavar="FIELD",
        help="Dotted path into the resource's data that must be set, e.g. "
        "Attributes.RedrivePolicy; default: a field the type's collector fills.",
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="PATH",
        help="File to write; default: ID.yaml here; - prints it.",
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace an existing file.")]


def _checked_path(resource: str, path: str | None) -> str:
    """The path to check: given and filled by the type's calls, or the first key it fills."""
    facts = collector_facts()
    if resource not in facts:
        hint = did_you_mean(resource, facts)
        raise InputError([f"--resource: unknown resource type {resource!r}{hint}"])
    declared = sorted(facts[resource] or [])
    if path is None:
        if not declared:
            raise InputError([f"--path: {resource} declares no fields; name the path to check"])
        return declared[0]
    if not is_simple(path):
        raise InputError([f"--path: {path!r} is not a dotted path (Key.SubKey)"])
    key = path.split(".", 1)[0]
    if declared and key not in declared:
        hint = did_you_mean(key, declared)
        raise InputError([f"--path: no collection call of {resource} fills {key!r}{hint}"])
    return path


def _nested(path: str, value: Any) -> dict[str, Any]:
    """``A.B`` and a value as the data a collector would give: ``{"A": {"B": value}}``."""
    data: Any = value
    for key in reversed(path.split(".")):
        data = {key: data}
    result: dict[str, Any] = data
    return result


def _case(name: str, resource_name: str, data: dict[str, Any], expect: str) -> str:
    resource = json.dumps({"name": resource_name, "data": data})
    return (
        f"      - name: {json.dumps(name)}\n"
        f"        resources: [{resource}]\n"
        f"        expect: {expect}\n"
    )


def skeleton(rule_id: str, resource: str, path: str) -> str:
    """The rule file: a rule that ``path`` is set, with a pass case and two adversarial ones."""
    example = f"example-{resource.rsplit('.', 1)[-1].replace('_', '-')}"
    return (
        "# A rule of your own. Edit the title, the expectation and the cases, then run\n"
        "#   runbook-guard validate THIS_FILE && runbook-guard test --strict THIS_FILE\n"
        "# and load it beside the shipped pack: runbook-guard check -p agenticai -p THIS_FILE\n"
        "# (docs/policy-format.md, 'Writing your own pack beside the shipped one').\n"
        "rules:\n"
        f"  - id: {rule_id}\n"
        f"    title: {json.dumps(f'{path} is set on every {resource}')}\n"
        "    severity: medium                 # critical | high | medium | low | info\n"
        "    # section: defaults to the pack's name; cadence: daily (or weekly, monthly...)\n"
        f"    resource: {resource}\n"
        '    # select: {name_matches: "^my-app-", name_not_matches: "-dlq$"}\n'
        "    expect:\n"
        f"      path: {path}\n"
        "      exists: true                     # absent or null fails; see the operators\n"
        "    remediation: say what to do, with the command that does it\n"
        "    tests:\n"
        + _case("a value that is set passes", example, _nested(path, "set"), "pass")
        + _case(f"adversarial: {path} null fails", example, _nested(path, None), "fail")
        + _case(f"adversarial: {path} absent fails", example, {}, "fail")
    )


@rules_app.command(
    "new",
    short_help="Write a rule skeleton with its test cases, valid as written.",
    cls=Command,
    epilog=examples(
        "runbook-guard rules new sqs-queue-encrypted --resource aws.sqs.queue",
        "runbook-guard rules new my-dlq --resource aws.sqs.queue "
        "--path Attributes.RedrivePolicy -o -",
    ),
)
def new_rule(
    rule_id: RuleIdArgument,
    resource: ResourceOption,
    path: PathOption = None,
    output: OutputOption = None,
    force: ForceOption = False,
) -> None:
    """Write a rule skeleton with its test cases; it validates and its tests pass as written."""

    def run() -> Path | None:
        if not _RULE_ID.match(rule_id):
            message = f"rule id {rule_id!r}: letters, digits, '.', '_' and '-', e.g. sqs-encrypted"
            raise InputError([message])
        text = skeleton(rule_id, resource, _checked_path(resource, path))
        target = output or Path(f"{rule_id}.yaml")
        if str(target) == "-":
            typer.echo(text, nl=False)
            return None
        if target.exists() and not force:
            raise InputError([f"{target}: already exists (--force replaces it)"])
        try:
            write_text_atomic(target, text)
        except OSError as error:
            raise InputError([f"{target}: cannot write: {error.strerror or error}"]) from None
        return target

    written = guarded(run)
    if written is not None:
        typer.echo(f"wrote {written}: runbook-guard validate {written} && "
                   f"runbook-guard test --strict {written}")  # fmt: skip
