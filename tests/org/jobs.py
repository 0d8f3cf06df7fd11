"""The commands a Kubernetes Job and a Step Functions state machine would start, derived from
the example files themselves, so a test can run them here.

Kubernetes: the container's command (or the image's entrypoint, read from the repository's
Dockerfile) and args, with `$(VAR)` expanded from the container's `env` as the kubelet does
(plus the variables the Job controller injects, such as `JOB_COMPLETION_INDEX`), and each
volume's mount path mapped to a folder here.

Step Functions: the template's `DefinitionSubstitutions` applied to the definition, then the
JSONPath parameters (`"Key.$"`) and the intrinsic functions the example uses
(`States.Array`, `States.Format`, `States.ArrayRange`, `States.StringSplit`) evaluated
against the state's input and the context object (`$$.Execution.Name`, `$$.Map.Item.Value`).
Anything else fails the test rather than being guessed. The CloudFormation stack is read with
its short forms (`!Ref`, `!Sub`, `!GetAtt`) as their long form, and a deployment's values
stand in for its references.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.distribution_tools import ROOT, load_yaml

EXAMPLES = ROOT / "examples" / "org"
WORKFLOW = EXAMPLES / "github-actions.yml"
KUBERNETES = EXAMPLES / "kubernetes"
MANIFESTS = sorted(KUBERNETES.glob("*.yaml"))
STACK = EXAMPLES / "aws" / "step-functions.yaml"
#: Where the test deploys the stack, and what a shard's execution is called.
REGION = "us-east-1"
EXECUTION = {"Execution": {"Name": "weekly-1"}}

K8S_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$\$")
INTRINSIC_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<number>-?\d+)|(?P<path>\$\$?[A-Za-z0-9_.]*)"
    r"|(?P<name>States\.[A-Za-z]+)|(?P<op>[(),]))"
)


class UnsupportedError(AssertionError):
    """The example uses something this reading does not play: the test must fail."""


def image_entrypoint() -> list[str]:
    """The image's ENTRYPOINT, as the repository's Dockerfile declares it (exec form)."""
    [line] = [
        x for x in (ROOT / "Dockerfile").read_text().splitlines() if x.startswith("ENTRYPOINT")
    ]
    entrypoint: list[str] = json.loads(line.removeprefix("ENTRYPOINT").strip())
    return entrypoint


def mapped(text: str, mounts: Mapping[str, Path]) -> str:
    """``text`` with each mount path (at a path boundary) replaced by its folder here."""
    if not mounts:
        return text
    paths = sorted(mounts, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, paths)) + r")(?=/|\b|$)")
    return pattern.sub(lambda m: str(mounts[m.group(1)]), text)


# -- Kubernetes -------------------------------------------------------------------------------


def manifest(name: str) -> dict[str, Any]:
    """One of examples/org/kubernetes/ (a single document)."""
    loaded: dict[str, Any] = load_yaml(KUBERNETES / name)
    return loaded


def expand(text: str, env: Mapping[str, str]) -> str:
    """The kubelet's expansion: `$(VAR)` of a defined variable, `$$` for `$`, else unchanged."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return K8S_REFERENCE.sub(one, text)


@dataclass(frozen=True)
class Pod:
    argv: list[str]
    env: dict[str, str]


def pod(
    job: Mapping[str, Any],
    volumes: Mapping[str, Path],
    *,
    env: Mapping[str, str] | None = None,
    injected: Mapping[str, str] | None = None,
) -> Pod:
    """How the kubelet would start the Job's one container: ``volumes`` maps each volume's
    name to a folder here; ``env`` overrides the container's values (as a user edits them);
    ``injected`` is what the Job controller adds (``JOB_COMPLETION_INDEX``)."""
    spec = job["spec"]["template"]["spec"]
    [container] = spec["containers"]
    declared = {item["name"]: str(item["value"]) for item in container.get("env", [])}
    unknown = set(env or {}) - set(declared)
    assert not unknown, f"the container declares no {unknown}"
    variables = {**declared, **(env or {}), **(injected or {})}
    mounts = {m["mountPath"]: volumes[m["name"]] for m in container.get("volumeMounts", [])}
    argv = [*container.get("command", image_entrypoint()), *container.get("args", [])]
    argv = [mapped(expand(arg, variables), mounts) for arg in argv]
    return Pod(argv, variables)


# -- Step Functions ---------------------------------------------------------------------------


def substituted(definition: Any, substitutions: Mapping[str, str]) -> Any:
    """``DefinitionSubstitutions`` applied as Step Functions does: to the definition's text."""
    text = json.dumps(definition)
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", value.replace("\\", "\\\\").replace('"', '\\"'))
    left = re.findall(r"\$\{[A-Za-z0-9_]+\}", text)
    assert not left, f"no substitution for {left}"
    return json.loads(text)


@dataclass
class _Intrinsic:
    tokens: list[tuple[str, str]]
    state_input: Any
    context: Mapping[str, Any]
    at: int = 0

    def take(self) -> tuple[str, str]:
        self.at += 1
        return self.tokens[self.at - 1]

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "number":
            return int(text)
        if kind == "path":
            return path_value(text, self.state_input, self.context)
        if kind != "name":
            raise UnsupportedError(f"unexpected {text!r}")
        assert self.take()[1] == "("
        arguments = []
        while self.tokens[self.at][1] != ")":
            arguments.append(self.value())
            if self.tokens[self.at][1] == ",":
                self.take()
        self.take()
        return _call(text, arguments)


def _call(name: str, arguments: list[Any]) -> Any:
    if name == "States.Array":
        return arguments
    if name == "States.Format":
        template, *values = arguments
        pieces = str(template).split("{}")
        assert len(pieces) == len(values) + 1, (template, values)
        out = pieces[0]
        for value, piece in zip(values, pieces[1:], strict=True):
            out += str(value) + piece
        return out
    if name == "States.ArrayRange":
        start, end, step = arguments
        assert len(range(start, end + 1, step)) <= 1000, "States.ArrayRange makes at most 1000"
        return list(range(start, end + 1, step))
    if name == "States.StringSplit":
        text, separators = arguments
        return [part for part in re.split("[" + re.escape(separators) + "]", text) if part]
    raise UnsupportedError(f"no intrinsic {name}")


def path_value(path: str, state_input: Any, context: Mapping[str, Any]) -> Any:
    """A reference path: `$.a.b` into the state's input, `$$.A.B` into the context object."""
    value: Any = context if path.startswith("$$") else state_input
    for part in path.lstrip("$").split("."):
        if part:
            if not isinstance(value, Mapping) or part not in value:
                raise UnsupportedError(f"{path}: no {part!r}")
            value = value[part]
    return value


def intrinsic(text: str, state_input: Any, context: Mapping[str, Any]) -> Any:
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = INTRINSIC_TOKEN.match(text, position)
        if not match or match.lastgroup is None:
            raise UnsupportedError(f"cannot read {text!r} at {position}")
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    reader = _Intrinsic(tokens, state_input, context)
    result = reader.value()
    assert reader.at == len(tokens), f"left over in {text!r}"
    return result


def resolved(template: Any, state_input: Any, context: Mapping[str, Any]) -> Any:
    """`Parameters` / `ItemSelector`: a `"Key.$"` takes the value of its path or intrinsic."""
    if isinstance(template, list):
        return [resolved(item, state_input, context) for item in template]
    if not isinstance(template, Mapping):
        return template
    out = {}
    for key, value in template.items():
        if key.endswith(".$"):
            out[key[:-2]] = intrinsic(value, state_input, context)
        else:
            out[key] = resolved(value, state_input, context)
    return out


def states(definition: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, nested ones (a Map's item processor) included."""
    for name, state in definition["States"].items():
        yield name, state
        if "ItemProcessor" in state:
            yield from states(state["ItemProcessor"])


@dataclass(frozen=True)
class Task:
    """An ECS task a Task state runs: its task definition, container, and command."""

    task_definition: str
    container: str
    argv: list[str]


def ecs_task(state: Mapping[str, Any], state_input: Any, context: Mapping[str, Any]) -> Task:
    assert state["Resource"] == "arn:aws:states:::ecs:runTask.sync", state["Resource"]
    parameters = resolved(state["Parameters"], state_input, context)
    [override] = parameters["Overrides"]["ContainerOverrides"]
    return Task(parameters["TaskDefinition"], override["Name"], list(override["Command"]))


# -- the CloudFormation stack ----------------------------------------------------------------


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref, !Sub, !GetAtt ...) read as their long form."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _short_form)


@dataclass(frozen=True)
class Stack:
    """examples/org/aws/step-functions.yaml as deployed here, with ``shards`` for N."""

    template: dict[str, Any]
    shards: int = 4

    @classmethod
    def load(cls) -> Stack:
        return cls(yaml.load(STACK.read_text(), Loader=CfnLoader))  # a SafeLoader

    def value(self, reference: Any) -> str:
        """What a parameter or resource reference stands for in this test's deployment."""
        if isinstance(reference, str):
            return reference
        [(function, argument)] = reference.items()
        if function == "Ref" and argument == "Shards":
            return str(self.shards)
        if function == "Ref" and argument in self.template["Parameters"]:
            return str(self.template["Parameters"][argument].get("Default", f"<{argument}>"))
        if function == "Fn::Join":
            separator, parts = argument
            joined = ["subnet-0aaa", "subnet-0bbb"] if parts == {"Ref": "Subnets"} else parts
            return str(separator).join(map(self.value, joined))
        name = argument[0] if function == "Fn::GetAtt" else argument
        return f"arn:aws:test:{REGION}:999999999999:{name}"

    def definition(self) -> dict[str, Any]:
        machine = self.template["Resources"]["StateMachine"]["Properties"]
        substitutions = {k: self.value(v) for k, v in machine["DefinitionSubstitutions"].items()}
        loaded: dict[str, Any] = substituted(machine["Definition"], substitutions)
        return loaded

    def containers(self, task_definition: str) -> dict[str, dict[str, Any]]:
        """The containers of the task definition a state names (by its substituted ARN)."""
        for name, resource in self.template["Resources"].items():
            if self.value({"Ref": name}) == task_definition:
                defined = resource["Properties"]["ContainerDefinitions"]
                return {c["Name"]: c for c in defined}
        raise AssertionError(f"no task definition {task_definition}")


def setup_output(definition: Mapping[str, Any]) -> dict[str, Any]:
    setup = definition["States"][definition["StartAt"]]
    assert setup["Type"] == "Pass"
    out: dict[str, Any] = resolved(setup["Parameters"], {}, EXECUTION)
    return out


def shard_inputs(definition: Mapping[str, Any], state_input: Any) -> Iterator[Any]:
    collect = definition["States"]["Collect"]
    for index, item in enumerate(path_value(collect["ItemsPath"], state_input, {})):
        context = {**EXECUTION, "Map": {"Item": {"Value": item, "Index": index}}}
        yield resolved(collect["ItemSelector"], state_input, context)
