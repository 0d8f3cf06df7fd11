"""Builds ``schemas/policy.schema.json`` from the operator table.

The committed schema is generated, never edited by hand, so the operators an editor
completes are exactly the operators the engine evaluates; a test fails on drift.
Regenerate with ``python -m runbook_guard.engine.policy_schema > schemas/policy.schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

from runbook_guard.engine.operators import OPERATORS, QUANTIFIERS

LEVEL_STATUSES = ("pass", "note", "warn", "fail")
STATUSES_DECIDED = ["pass", "note", "warn", "fail", "error"]
SEVERITIES = ["critical", "high", "medium", "low", "info"]
CADENCES = ["daily", "weekly", "monthly", "quarterly"]
#: A rule without a cadence runs with the daily checks (the most frequent: never forgotten).
DEFAULT_CADENCE = "daily"
#: The ids of a pack with an expectation inventory (the shipped one): lower-case, dotted.
ID_PATTERN = r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$"
#: Any other pack's ids, and ``covers`` entries there: one word, as waivers can name it.
FREE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
#: What ``covers`` names where the pack has an inventory: the runbook's expectation IDs.
RUNBOOK_ID_PATTERN = r"^RB-[A-Z]\d{2}$"
RESOURCE_TYPE_PATTERN = r"^aws\.[a-z0-9]+\.[a-z0-9_]+$"
PARAMETER_NAME = r"^[a-z][a-z0-9_]*$"


def _text(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _condition() -> dict[str, Any]:
    properties: dict[str, Any] = {
        "all": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/$defs/condition"},
            "description": "every condition holds",
        },
        "any": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/$defs/condition"},
            "description": "at least one condition holds",
        },
        "not": {"$ref": "#/$defs/condition", "description": "the condition does not hold"},
        "path": _text("JMESPath into the resource's data (the runbook's --query syntax)"),
        "if_absent": {
            "description": "the value to use when the path is absent; without it "
            "an absent path makes the result 'error' (fail closed)"
        },
        "message": _text("what the finding says when this condition is not met"),
        "label": _text("a name for the value in evidence and in the expected text"),
        "related": _text(
            "instead of path: the related resources of this alias, each judged by the "
            "all_items / any_item condition on its own data"
        ),
    }
    related_operand = {
        "type": "object",
        "required": ["related"],
        "additionalProperties": False,
        "properties": {
            "related": _text("alias of a related resource"),
            "path": _text("JMESPath into the related resource's envelope (default id)"),
        },
        "description": "compare with each related resource's value; all must satisfy",
    }
    for op in OPERATORS.values():
        operand = op.operand
        if op.name in ("lt", "le", "gt", "ge", "older_than", "newer_than"):
            operand = {"anyOf": [op.operand, related_operand]}
        properties[op.name] = {**operand, "description": f"{op.symbol}: {op.description}"}
    for name, description in QUANTIFIERS.items():
        properties[name] = {"$ref": "#/$defs/condition", "description": description}
    return {
        "type": "object",
        "description": "all / any / not of conditions, or a path with exactly one operator",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": properties,
    }


def _value() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "How to compute the number the levels classify; exactly one source.",
        "additionalProperties": False,
        "properties": {
            "path": _text("JMESPath into the resource's data"),
            "if_absent": {"description": "value to use when the path is absent"},
            "metric": _text("name of a metric declared in the rule's metrics"),
            "logs": _text("name of a log query declared in the rule's logs"),
            "max_of": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/value"},
                "description": "the largest of these values; no data only when all have none",
            },
            "ratio": {
                "type": "object",
                "required": ["numerator", "denominator"],
                "additionalProperties": False,
                "properties": {
                    "numerator": {"$ref": "#/$defs/value"},
                    "denominator": {"$ref": "#/$defs/value"},
                },
                "description": "numerator / denominator; a zero denominator is 'no data'",
            },
            "days_since": {"$ref": "#/$defs/value", "description": "days from a timestamp to now"},
            "days_until": {"$ref": "#/$defs/value", "description": "days from now to a timestamp"},
            "lookup": {
                "type": "object",
                "required": ["table", "key", "field"],
                "additionalProperties": False,
                "properties": {
                    "table": _text("name of a data table declared in the pack's data"),
                    "key": {"$ref": "#/$defs/value"},
                    "field": _text("the field of the table's entry to use"),
                },
                "description": "a field of the reference-data entry for the key; a key not in "
                "the table is 'no data'",
            },
            "data_as_of": _text("the as_of date of a data table (for its age, with days_since)"),
            "const": {"type": ["number", "string"]},
            "scale": {"type": ["number", "string"], "description": "multiply the value by this"},
            "unit": _text(
                "unit of the value; '%' turns a ratio into a percentage; thresholds "
                "may repeat it ('> 5%', '> 5/5min')"
            ),
            "label": _text("a name for the value in evidence, instead of the path"),
        },
    }


def _metric() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["namespace", "stat"],
        "additionalProperties": False,
        "properties": {
            "namespace": _text("CloudWatch namespace, e.g. AWS/Lambda"),
            "sum_of": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["metric"],
                    "additionalProperties": False,
                    "properties": {
                        "metric": {"type": ["string", "array"], "items": {"type": "string"}},
                        "dimensions": _dimensions(),
                    },
                },
                "description": "instead of metric and dimensions: series with their own "
                "dimensions, summed period by period (a table's events and its indexes')",
            },
            "metric": {
                "type": ["string", "array"],
                "items": {"type": "string"},
                "description": "metric name, e.g. Errors; a list is summed period by period",
            },
            "stat": _text("Sum, Average, Maximum, Minimum, SampleCount or pNN"),
            "dimensions": _dimensions(),
            "per": {
                "type": "object",
                "required": ["metric"],
                "additionalProperties": False,
                "properties": {
                    "metric": {"type": ["string", "array"], "items": {"type": "string"}},
                    "dimensions": _dimensions(),
                    "at_least": {
                        "type": ["number", "string"],
                        "description": "only periods where the divisor reaches this count",
                    },
                },
                "description": "divide per period by this metric (a rate per period): the "
                "worst period is not diluted by a quiet window",
            },
            "window_hours": {"type": ["number", "string"], "description": "how far back to look"},
            "period_minutes": {
                "type": ["integer", "string"],
                "description": "datapoint period; default the whole window",
            },
            "reduce": {
                "enum": ["sum", "max", "min", "avg"],
                "description": "how datapoints fold into one value; default from stat",
            },
        },
    }


def _dimensions() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
        },
        "description": "dimension values; {name}, {id}, {region}, {account} are filled from each "
        "resource, {each:PATH} is every value PATH finds in its data; a list of values is "
        "one series each, summed period by period",
    }


def _related() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type"],
        "additionalProperties": False,
        "properties": {
            "type": {"type": "string", "pattern": RESOURCE_TYPE_PATTERN},
            "name": _text(
                "name template; may use the same ${list parameter} as select.names, bound to "
                "the selected resource's item"
            ),
            "from": _text(
                "JMESPath into the selected resource's data giving the target's ARN, id or "
                "name (or a list of them); each must exist"
            ),
            "referenced_by": _text(
                "JMESPath into each target's data giving ARNs/ids (or names, with key: name) "
                "of the resources it refers to: the targets are those naming this resource"
            ),
            "key": {"enum": ["id", "name"], "description": "what referenced_by values name"},
            "where": {"$ref": "#/$defs/condition", "description": "keep targets matching this"},
            "when_missing": {
                "enum": STATUSES_DECIDED,
                "description": "status when no target is found (default: fail for name/from; "
                "for referenced_by/where the conditions decide)",
            },
        },
        "description": "another resource of the selected resource's account and region",
    }


def _rule() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id", "title", "severity"],
        "additionalProperties": False,
        "properties": {
            "id": {
                "type": "string",
                "pattern": FREE_ID_PATTERN,
                "description": "stable rule id; in a pack with an expectation inventory "
                "(EXPECTATIONS.md beside it) lower-case and dotted, e.g. sqs.dlq-empty",
            },
            "title": _text("one line: what must hold", maxLength=200),
            "description": _text("why the runbook asks for it"),
            "kind": {"enum": ["check", "manual"], "default": "check"},
            "covers": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "pattern": FREE_ID_PATTERN},
                "description": "the runbook expectation IDs this rule encodes; required, and "
                "RB-<letter><2 digits>, in a pack with an expectation inventory",
            },
            "section": _text("the runbook section the rule comes from; default: the pack's name"),
            "cadence": {"enum": CADENCES, "default": DEFAULT_CADENCE},
            "severity": {"enum": SEVERITIES},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 8},
            "owner": _text(
                "who acts on this rule's findings (a team or a person); the config's owners: "
                "entries, matched by rule, tag, resource or account, come first",
                pattern=r"\S",
            ),
            "resource": {"type": "string", "pattern": RESOURCE_TYPE_PATTERN},
            "select": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "names": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "names that must exist; a ${list parameter} expands to "
                        "one name per item",
                    },
                    "name_matches": {"type": "string", "format": "regex"},
                    "exclude_names": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "names never judged (even when names lists them); a "
                        "${list parameter} expands to one name per item",
                    },
                    "name_not_matches": {
                        "type": "string",
                        "format": "regex",
                        "description": "a regular expression: names it finds are never judged",
                    },
                    "where": {"$ref": "#/$defs/condition"},
                },
            },
            "related": {"type": "object", "additionalProperties": _related()},
            "metrics": {"type": "object", "additionalProperties": {"$ref": "#/$defs/metric"}},
            "logs": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["pattern"],
                    "additionalProperties": False,
                    "properties": {
                        "pattern": _text(
                            "CloudWatch Logs filter pattern, e.g. ERROR: plain terms and quoted"
                            " phrases run as a Logs Insights query, others with FilterLogEvents"
                        ),
                        "window_hours": {"type": ["number", "string"]},
                    },
                },
            },
            "collect": {"type": "object", "description": "type-specific collection options"},
            "expect": {"$ref": "#/$defs/condition"},
            "warn_unless": {"$ref": "#/$defs/condition"},
            "value": {"$ref": "#/$defs/value"},
            "levels": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    **{name: {"type": ["string", "number"]} for name in ("normal", "warn", "fail")},
                    "messages": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            status: {"type": "string"}
                            for status in ("pass", "note", "warn", "fail")
                        },
                        "description": "per status, the message; {value}, {abs} and {unit} are "
                        "replaced (plain text substitution, nothing else is interpreted)",
                    },
                },
            },
            "informational": {
                "type": "boolean",
                "description": "report the value as evidence and pass: no levels (table size, "
                "latency figures the runbook asks to review, not to gate on)",
            },
            "evidence": {
                "type": "object",
                "additionalProperties": {
                    "anyOf": [
                        {"type": "string"},
                        {"$ref": "#/$defs/value"},
                        {
                            "type": "object",
                            "required": ["related"],
                            "additionalProperties": False,
                            "properties": {
                                "related": _text("alias of a related resource"),
                                "path": _text("JMESPath into its envelope (data.Threshold)"),
                            },
                        },
                    ]
                },
                "description": "label -> JMESPath, a value, or {related, path} (that field of "
                "each related resource, shown by name, never judged): extra figures every result "
                "records as evidence (null when absent), e.g. who and when for a CloudTrail "
                "event, or the whole window's rate beside the worst period's",
            },
            "replaces": {
                "type": "array",
                "items": {"type": "string", "pattern": FREE_ID_PATTERN},
                "description": "earlier ids of this rule: waivers, history and SARIF "
                "fingerprints written for them follow it",
            },
            "quote": _text("the runbook's own words this rule encodes"),
            "rationale": _text("why the thresholds, window and scope are what they are"),
            "no_data": {"enum": STATUSES_DECIDED, "default": "error"},
            "when_none": {"enum": STATUSES_DECIDED, "default": "note"},
            "when_none_message": _text("what the result says when nothing matched the selection"),
            "held_by": {
                "enum": ["account", "payer"],
                "default": "account",
                "description": "account: every account must hold a match (when_none is judged "
                "per account); payer: the fact is the organisation's, held by its payer "
                "(management) account (the free tier, a consolidated budget): when the "
                "collection knew the payer, when_none is judged there alone, and other "
                "accounts' own resources of the type are still judged",
            },
            "remediation": _text("what to do; the runbook's own command where it has one"),
            "attestation": _text("for manual rules: what the person attests"),
            "tests": {"type": "array", "items": {"$ref": "#/$defs/case"}},
        },
    }


def _case() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["name", "expect"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "now": {"type": "string"},
            "parameters": {"type": "object"},
            "resources": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {
                        "type": {"type": "string"},
                        "name": {"type": "string"},
                        "id": {"type": "string"},
                        "region": {"type": "string"},
                        "account": {"type": "string"},
                        "data": {"type": "object"},
                        "metrics": {"type": "object"},
                        "logs": {"type": "object"},
                    },
                },
            },
            "errors": {"type": "array", "items": {"type": "object"}},
            "accounts": {
                "type": "array",
                "items": {"type": "string"},
                "description": "accounts the case's snapshot covers (beside the resources' own)",
            },
            "incomplete": {
                "type": "array",
                "items": {"type": "string"},
                "description": "resource types whose listing is marked incomplete in this case",
            },
            "expect": {
                "oneOf": [
                    {"enum": [*STATUSES_DECIDED, "manual"]},
                    {"type": "object", "additionalProperties": {"enum": STATUSES_DECIDED}},
                ],
                "description": "the status of every result, or resource name -> status",
            },
        },
    }


def build_schema() -> dict[str, Any]:
    """The policy file schema (JSON Schema 2020-12)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://runbook-guard.dev/schemas/policy.schema.json",
        "title": "runbook-guard policy file",
        "description": "A pack header, parameters, reference data and rules. Generated from "
        "engine/policy_schema.py.",
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "pack": {
                "type": "object",
                "required": ["name", "version"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": ID_PATTERN},
                    "version": {"type": "string"},
                    "description": {"type": "string"},
                },
            },
            "parameters": {
                "type": "object",
                "propertyNames": {"pattern": PARAMETER_NAME},
                "additionalProperties": {
                    "type": "object",
                    "required": ["default"],
                    "additionalProperties": False,
                    "properties": {"default": {}, "description": {"type": "string"}},
                },
            },
            "data": {
                "type": "object",
                "additionalProperties": {
                    "type": ["string", "object"],
                    "description": "a YAML/JSON file beside this one, or the table inline",
                },
            },
            "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
        },
        "$defs": {
            "rule": _rule(),
            "condition": _condition(),
            "value": _value(),
            "metric": _metric(),
            "case": _case(),
        },
    }


def render() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
