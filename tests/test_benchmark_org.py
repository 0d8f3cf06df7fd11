"""The organisation benchmark's fake answers each account as moto answered the recorded one,
and the collection it measures writes, spilling to disk, the snapshot it writes in memory.

benchmarks/org.py times 10 to 1,000 accounts against a fake serving one recorded collection
of the demo stack (benchmarks/org_record.py, org_fake.py), so its figures are the tool's only
if what the tool collects through the fake is what it collects from moto. The demo stack is
seeded into the demo's moto server and collected from it through the recorder, which passes
moto's answers on unchanged; two accounts collected through the fake must each hold exactly
the resources, errors and listings of that collection (their own account id in place of the
recorded one), with no request the recording lacks. A request the recording does not hold
(another region) is not answered with something plausible: it is an error in the snapshot.

``runbook-guard collect`` keeps resources past ``spill.SPILL_AFTER`` in sorted runs on disk
and writes the snapshot by merging them item by item (``engine.fileio``). The fake answers
every collection alike (moto's trail status carries the time of the call), so three accounts
collected with every account spilled and with none must give the same snapshot, but for when
they ran, written in the canonical bytes. The writer alone: the bytes of ``canonical_json``
for empty and nested streamed values, and a stream failing halfway leaves the previous file.

The 1,000-account run found a name pattern timing out (a trivial one, waiting for the GIL among
hundreds of threads) in the selection of a metric crashing the whole collection: such a
selection is now an error on that resource's metric, and the collection goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from benchmarks.org_fake import serve
from benchmarks.org_record import ROLE, accounts_file, cli_env, record, runbook_guard
from benchmarks.org_wire import RECORDED_ACCOUNT, save
from runbook_guard.cli.app import app, register_commands
from runbook_guard.cli.pipeline import collection_plan, prepare
from runbook_guard.collectors import Scope, collect, spill
from runbook_guard.demo.server import DUMMY_ENV
from runbook_guard.engine import fileio
from runbook_guard.engine.accounts import AccountUnit
from runbook_guard.engine.errors import InputError

pytestmark = pytest.mark.slow
register_commands()

ACCOUNTS = ("210987654321", "345678901234")
THREE = ("111111111111", "222222222222", "333333333333")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The recording, and the snapshot of the recorded collection from moto."""
    folder = tmp_path_factory.mktemp("org-bench")
    recording, snapshot = record(folder)
    assert recording.conflicts == set()  # one answer per request: nothing depends on timing
    save(str(folder / "recording.json"), recording.answers)
    return folder, json.loads(snapshot.read_text())


def collected(folder: Path, name: str, region: str = "us-east-1") -> tuple[dict[str, Any], Any]:
    """``collect --accounts`` of ``ACCOUNTS`` through the fake; the snapshot and its stats."""
    accounts = accounts_file(folder / f"{name}.yaml", ACCOUNTS, region)
    stats = folder / f"{name}-fake.json"
    with serve(folder / "recording.json", 0, stats) as endpoint:
        args = ["collect", "--accounts", str(accounts), "-o", f"{name}.json", "-q"]
        runbook_guard([*args, "--max-attempts", "1"], endpoint, folder)
    return json.loads((folder / f"{name}.json").read_text()), json.loads(stats.read_text())


def as_recorded(items: list[dict[str, Any]], account: str) -> str:
    """One account's items, with the recorded account's id in place of its own."""
    mine = [item for item in items if item.get("account") == account]
    return json.dumps(mine, sort_keys=True).replace(account, RECORDED_ACCOUNT)


def test_each_account_through_the_fake_holds_what_moto_gave_the_recorded_one(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    folder, moto = recorded
    snapshot, fake = collected(folder, "two")
    assert len(moto["resources"]) > 40
    assert moto["errors"] == []
    assert fake["missed"] == {}
    assert snapshot["metadata"]["accounts"] == sorted(ACCOUNTS)
    for account in ACCOUNTS:
        for part in ("resources", "errors", "coverage"):
            assert as_recorded(snapshot[part], account) == as_recorded(moto[part], RECORDED_ACCOUNT)
        # the identity check passed as each account, and the role assumed was its own
        assert snapshot["metadata"]["per_account"][account]["role"].split(":")[4] == account
    assert len(snapshot["resources"]) == 2 * len(moto["resources"])


def test_a_request_the_recording_lacks_is_an_error_never_an_answer(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    folder, _ = recorded
    snapshot, fake = collected(folder, "elsewhere", region="eu-west-1")
    assert sum(fake["missed"].values()) > 0
    regional = [e for e in snapshot["errors"] if e["region"] == "eu-west-1"]
    assert regional
    assert {e["code"] for e in regional} == {"NotRecorded"}
    # nothing recorded in us-east-1 is passed off as eu-west-1's: only empty placeholders
    assert not [
        r["data"] for r in snapshot["resources"] if r["region"] == "eu-west-1" and r["data"]
    ]


# --- spilling: the same snapshot from disk ---------------------------------------------------


@pytest.fixture
def fake(recorded: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The fake, and this process's environment pointed at it (the CLI runs in process)."""
    folder, _ = recorded
    with serve(folder / "recording.json", 0) as endpoint:
        for name, value in cli_env(endpoint).items():
            monkeypatch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
            monkeypatch.delenv(name, raising=False)
        yield folder


def spilled_after(folder: Path, limit: int, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """``collect --accounts`` of three accounts, in process, spilling past ``limit``."""
    monkeypatch.setattr(spill, "SPILL_AFTER", limit)
    accounts = accounts_file(folder / "three.yaml", THREE)
    output = folder / f"spilled-after-{limit}.json"
    args = ["collect", "--accounts", str(accounts), "-o", str(output), "-q", "--max-attempts", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return output.read_bytes()


def timeless(text: bytes) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    for key in ("started_at", "finished_at"):
        document["metadata"].pop(key)
    return document


def test_a_spilled_collection_writes_the_snapshot_a_held_one_does(
    fake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = spilled_after(fake, 10**9, monkeypatch)
    spilled = spilled_after(fake, 7, monkeypatch)  # past 7 resources: a run per account
    document = timeless(held)
    assert sorted({r["account"] for r in document["resources"]}) == list(THREE)
    assert len(document["resources"]) > 3 * 40
    assert timeless(spilled) == document
    assert spilled == fileio.canonical_json(json.loads(spilled)).encode()


def test_within_spilling_the_resources_come_back_from_sorted_runs(
    fake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spill, "SPILL_AFTER", 7)
    plan = collection_plan(prepare(None, None, None))
    units = [AccountUnit(a, ROLE, regions=("us-east-1",)) for a in THREE]
    scope = Scope(accounts=units, max_attempts=1, quiet=True)
    held = collect(plan, scope)["resources"]
    assert isinstance(held, list)  # outside spilling(): in memory, whatever the size
    with spill.spilling():
        spilled = collect(plan, scope)["resources"]
        assert isinstance(spilled, spill.Spilled)
        assert len(spilled.runs) == len(THREE)
        assert spilled.tail == []
        assert len(spilled) == len(held)
        assert list(spilled) == held
        assert list(spilled) == held  # iterable again: the runs are read afresh


def test_streamed_values_are_written_in_the_canonical_bytes(tmp_path: Path) -> None:
    target = tmp_path / "document.json"
    documents: list[dict[str, Any]] = [
        {"resources": []},
        {"b": 1, "resources": [{"z": [1, {"y": "two\nlines"}], "a": {}}, {"é": []}], "a": []},
        {"errors": [[]], "resources": [{"nested": {"deeper": [1, 2]}}]},
    ]
    for document in documents:
        streamed = {k: iter(v) if isinstance(v, list) else v for k, v in document.items()}
        fileio.write_json_atomic(target, streamed)
        assert target.read_text() == fileio.canonical_json(document)


def test_a_stream_that_fails_halfway_leaves_the_previous_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "snapshot.json"
    fileio.write_json_atomic(target, {"resources": [1]})

    def failing() -> Iterator[int]:
        yield 2
        raise OSError(5, "Input/output error")  # a spilled run that cannot be read back

    with pytest.raises(InputError, match="Input/output error"):
        fileio.write_json_atomic(target, {"resources": failing()})
    assert json.loads(target.read_text()) == {"resources": [1]}
    assert [p.name for p in tmp_path.iterdir()] == ["snapshot.json"]


# --- a selection that cannot be decided --------------------------------------------------------

#: Rule 1 reads every queue's attributes; rule 2 a metric of queues its pattern selects, a
#: pattern that backtracks for ever on ``a`` * 31 + ``x``. Rule 1 decides the listing's detail
#: selection first, so the pattern is met only when the metric's selection is made.
POLICY = """
rules:
  - id: t.every-queue
    title: every queue has an ARN
    covers: [RB-W02]
    section: test
    cadence: daily
    severity: low
    resource: aws.sqs.queue
    expect: {path: Attributes.QueueArn, exists: true}
  - id: t.queue-depth
    title: the depth of some queues
    covers: [RB-W02]
    section: test
    cadence: daily
    severity: low
    resource: aws.sqs.queue
    select: {name_matches: "^(a|a)+$"}
    metrics:
      depth:
        namespace: AWS/SQS
        metric: ApproximateNumberOfMessagesVisible
        stat: Maximum
        dimensions: {QueueName: "{name}"}
        window_hours: 1
    informational: true
    value: {metric: depth, unit: messages}
    no_data: note
"""


def test_a_metric_selection_that_times_out_is_an_error_on_that_metric_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in DUMMY_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    (tmp_path / "rules.yaml").write_text(POLICY)
    plan = collection_plan(prepare(None, [tmp_path / "rules.yaml"], None))
    stuck, fine = "a" * 31 + "x", "aaaa"
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        for queue in (stuck, fine):
            sqs.create_queue(QueueName=queue)
        snapshot = collect(plan, Scope(max_attempts=1, quiet=True))
    queues = {r["name"]: r for r in snapshot["resources"] if r["type"] == "aws.sqs.queue"}
    assert {"QueueArn"} <= queues[stuck]["data"]["Attributes"].keys()  # rule 1's data is there
    [error] = [e for e in snapshot["errors"] if e["operation"] == "GetMetricData"]
    assert error["resource"] == queues[stuck]["id"]
    assert "PatternTimeout" in error["message"]
    assert [key.startswith("metrics.") for key in error["data_keys"]] == [True]
