"""The hostile and large inputs of the hardening tests, built the same way for the benchmark.

tests/hardening/test_hostile_inputs.py asserts what each one comes to (a result or a clean
error); benchmarks/hostile.py measures how long it takes and how much memory.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from runbook_guard.engine.loader import builtin_policies, load_policy_set
from runbook_guard.engine.results import build_results
from runbook_guard.engine.snapshot import Snapshot

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
ACCOUNT = "123456789012"
REGION = "us-east-1"
MB = 1_000_000

#: Names a hostile or careless account may hold: many scripts, bidirectional and zero-width
#: characters, combining marks, emoji, and control characters (terminal escapes included).
SCRIPTS = [
    "agenticai-очередь", "agenticai-طابور", "agenticai-תור", "agenticai-队列", "agenticai-キュー",
    "agenticai-대기열", "agenticai-कतार", "agenticai-คิว", "agenticai-ουρά", "agenticai-😀🚀",
    "agenticai-e\u0301\u0302\u0303", "agenticai-\u202eeuq\u202c", "agenticai-\u200bzero\u200d",
    "agenticai-\x1b]0;owned\x07", "agenticai-\x1b[31mred\x1b[0m", "agenticai-\x00nul",
    "agenticai-\r\nline", "agenticai-|pipe|`tick`", "agenticai-\ufeffbom", "agenticai-\u2028sep",
]  # fmt: skip


def queue(name: str, index: int) -> dict[str, Any]:
    """An SQS queue as the collector records it, named ``name``."""
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
    return {
        "type": "aws.sqs.queue",
        "id": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
        "name": name,
        "region": REGION,
        "account": ACCOUNT,
        "data": {
            "QueueUrl": url,
            "Attributes": {
                "VisibilityTimeout": 900,
                "ApproximateNumberOfMessages": index % 700,
                "MessageRetentionPeriod": 1209600,
                "RedrivePolicy": {"deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq",
                                  "maxReceiveCount": 3},
                "Policy": "x" * (index % 300),
            },
        },
    }  # fmt: skip


def snapshot_document(resources: list[dict[str, Any]]) -> dict[str, Any]:
    types = sorted({r["type"] for r in resources})
    return {
        "schema_version": 1,
        "metadata": {
            "tool_version": "bench",
            "started_at": NOW.isoformat(),
            "finished_at": NOW.isoformat(),
            "accounts": [ACCOUNT],
            "regions": [REGION],
            "parameters": {},
        },
        "resources": resources,
        "errors": [],
        "coverage": [
            {"type": t, "account": ACCOUNT, "region": REGION, "complete": True} for t in types
        ],
    }


def large_snapshot(megabytes: float) -> bytes:
    """A snapshot of about ``megabytes`` MB of queues, one in fifty named like the stack's."""
    per_queue = len(orjson.dumps(queue("agenticai-bench-000000", 150)))
    count = int(megabytes * MB / per_queue)
    names = [f"agenticai-bench-{i:06d}" if i % 50 == 0 else f"other-{i:06d}" for i in range(count)]
    return orjson.dumps(snapshot_document([queue(n, i) for i, n in enumerate(names)]))


def many_scripts_snapshot(copies: int) -> dict[str, Any]:
    """Queues named in many scripts, with control characters, ``copies`` of each name."""
    names = [f"{name}-{k}" for k in range(copies) for name in SCRIPTS]
    return snapshot_document([queue(name, i) for i, name in enumerate(names)])


RULE = """  - id: bench.rule-{n:05d}
    title: rule {n}
    covers: [RB-D06]
    section: bench
    cadence: daily
    severity: low
    resource: aws.sqs.queue
    select: {{name_matches: "^agenticai-bench-{m:02d}"}}
    value: {{path: Attributes.ApproximateNumberOfMessages}}
    levels: {{normal: "< {n}", warn: "> {w}", fail: "> {f}"}}
"""


def many_rules(folder: Path, count: int, per_file: int = 400) -> Path:
    """``count`` rules in files of ``per_file`` (each under the 1 MB policy-file limit)."""
    folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, count, per_file):
        rules = "".join(
            RULE.format(n=n, m=n % 100, w=n + 100, f=n + 200)
            for n in range(start, min(start + per_file, count))
        )
        (folder / f"rules-{start:05d}.yaml").write_text("rules:\n" + rules)
    return folder


def one_file_of_rules(path: Path, count: int) -> Path:
    path.write_text(
        "rules:\n"
        + "".join(RULE.format(n=n, m=n % 100, w=n + 100, f=n + 200) for n in range(count))
    )
    return path


def deep_policy(levels: int) -> str:
    return "rules:\n  - id: deep\n    expect: " + "{all: [" * levels + "{}" + "]}" * levels + "\n"


def deep_json(levels: int) -> str:
    return "[" * levels + "]" * levels


def alias_bomb(key: str, depth: int = 9) -> str:
    """A "billion laughs" document whose top-level key is ``key``: 9**depth values."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, depth):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines.append(f"{key}: *a{depth - 1}")
    return "\n".join(lines) + "\n"


#: Patterns that backtrack exponentially on 31 a's and a "!" under a naive engine; the
#: ``regex`` module optimises the first and gives up on the second at its time limit.
REDOS = {"nested-quantifier": r"^(a+)+$", "alternation": r"^(a|a)+$"}


def redos_policy(pattern: str) -> str:
    return f"""rules:
  - id: redos.expect
    title: a catastrophic pattern
    covers: [RB-D07]
    section: bench
    cadence: daily
    severity: low
    resource: aws.bench.thing
    expect: {{path: Tag, matches: "{pattern}"}}
"""


def redos_snapshot() -> dict[str, Any]:
    """One resource whose ``Tag`` makes ``^(a+)+$`` backtrack exponentially (2^31 paths)."""
    name = "a" * 31 + "!"
    thing = {"type": "aws.bench.thing", "id": f"arn:aws:bench:::{name}", "name": name,
             "region": REGION, "account": ACCOUNT, "data": {"Tag": name}}  # fmt: skip
    return snapshot_document([thing])


#: Rules judging every queue of the stack's prefix (the pack names its queues one by one),
#: so that a large or hostile snapshot's queues are all evaluated and reported.
QUEUE_RULES = """rules:
  - id: hostile.queue-depth
    title: queue depth by the runbook's levels
    covers: [RB-D06]
    section: bench
    cadence: daily
    severity: medium
    resource: aws.sqs.queue
    select: {name_matches: "^agenticai-"}
    value: {path: Attributes.ApproximateNumberOfMessages}
    levels: {normal: "< 100", warn: "> 500", fail: "> 600"}
  - id: hostile.redrive
    title: a dead-letter queue is set
    covers: [RB-D06]
    section: bench
    cadence: daily
    severity: low
    resource: aws.sqs.queue
    select: {name_matches: "^agenticai-"}
    expect: {path: Attributes.RedrivePolicy.deadLetterTargetArn, exists: true}
"""


def evaluate_with_pack(snapshot: Snapshot, folder: Path) -> dict[str, Any]:
    """The shipped pack and ``QUEUE_RULES`` (written into ``folder``) on ``snapshot``."""
    extra = folder / "queues.yaml"
    extra.write_text(QUEUE_RULES)
    policy_set = load_policy_set([builtin_policies(), extra])
    return build_results(policy_set, policy_set.compile(), snapshot, {}, NOW)
