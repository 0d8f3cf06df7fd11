"""A cheap fake AWS for any number of accounts: recorded answers behind a fixed latency.

Run in its own process (``serve``), so that what the benchmark times is the tool, not an
emulator: moto spends milliseconds of CPU per call and holds every account's state; this
answers from a dictionary of recorded answers (``org_record``) in one asyncio loop, and waits
the added latency with ``asyncio.sleep`` (no thread, no CPU held while waiting).

- ``sts:AssumeRole`` answers credentials whose access key carries the role's account
  (``ASIA`` + the 12 digits + ``FAKE``), valid for an hour from now;
- ``sts:GetCallerIdentity`` answers the account of the access key that signed it, so each
  account's identity check passes as it would in AWS;
- anything else is looked up by ``org_wire.request_key`` with the signer's account as the
  placeholder, and answered with the recorded account's id replaced by the signer's. A request
  never recorded is an HTTP 500 ``NotRecorded``, which the collectors record as an error: a
  miss shows in the snapshot, never as an empty answer.

Usage: python benchmarks/org_fake.py RECORDING --latency-ms 40 [--stats FILE]
(prints the port it listens on, then serves until SIGTERM; ``--stats`` gets the requests
served and missed at exit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run by path: ``benchmarks`` is this script's package
    sys.path.insert(0, str(ROOT))

from benchmarks.org_wire import HOP_HEADERS, Answer, for_account, load, request_key, signed  # noqa: E402

#: The caller's own account (the credentials that assume each account's role).
MANAGEMENT = "999999999999"
_ASSUMED = re.compile(r"^ASIA(\d{12})FAKE$")
_ROLE_ACCOUNT = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(.+)$")
STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"
Reply = tuple[int, list[tuple[str, str]], bytes]


def account_of(access_key: str) -> str:
    found = _ASSUMED.match(access_key)
    return found.group(1) if found else MANAGEMENT


class Fake:
    """Answers by request; counts what it served and what it had no answer for."""

    def __init__(self, answers: dict[str, Answer], latency: float) -> None:
        self.answers = answers
        self.latency = latency
        self.served: Counter[str] = Counter()
        self.missed: Counter[str] = Counter()

    def reply(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        signer = signed(headers)
        account = account_of(signer.access_key)
        if signer.service == "sts":
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
            action = form.get("Action", "")
            self.served[f"sts {action}"] += 1
            if action == "AssumeRole":
                return _assume_role(form)
            if action == "GetCallerIdentity":
                return _caller_identity(account, signer.access_key)
        key = request_key(method, target, headers, body, account)
        answer = self.answers.get(key)
        if answer is None:
            self.missed[key] += 1
            return _not_recorded(signer.service, headers, f"not recorded: {key}")
        self.served[signer.service] += 1
        out, kept = for_account(answer.body, answer.headers, account)
        return answer.status, [(k, v) for k, v in kept if k.lower() not in HOP_HEADERS], out

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One keep-alive connection: requests in turn, each answered after the latency."""
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    raw = await reader.readline()
                    if raw in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = raw.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                status, out_headers, out = self.reply(method, target, headers, body)
                await asyncio.sleep(self.latency)
                head = [f"HTTP/1.1 {status} {'OK' if status < 400 else 'Error'}"]
                head += [f"{k}: {v}" for k, v in out_headers]
                head += [f"Content-Length: {len(out)}", "", ""]
                writer.write("\r\n".join(head).encode("latin-1"))
                if method != "HEAD":
                    writer.write(out)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def _not_recorded(service: str, headers: dict[str, str], message: str) -> Reply:
    """An HTTP 500 error ``NotRecorded`` in the form the request's protocol reads errors in."""
    error = f"<Error><Code>NotRecorded</Code><Message>{escape(message)}</Message></Error>"
    if service == "ec2":
        return _xml(500, f"<Response><Errors>{error}</Errors><RequestID>f</RequestID></Response>")
    if "x-www-form-urlencoded" in headers.get("content-type", ""):  # the query protocol
        return _xml(500, f"<ErrorResponse>{error}</ErrorResponse>")
    if service == "s3":
        return _xml(500, error)
    body = json.dumps({"__type": "NotRecorded", "message": message}).encode()
    return 500, [("Content-Type", "application/x-amz-json-1.1")], body


def _xml(status: int, text: str) -> Reply:
    return status, [("Content-Type", "text/xml")], text.encode()


def _assume_role(form: dict[str, str]) -> Reply:
    found = _ROLE_ACCOUNT.match(form.get("RoleArn", ""))
    if found is None:
        refused = "<ErrorResponse><Error><Code>ValidationError</Code></Error></ErrorResponse>"
        return _xml(400, refused)
    account, role = found.groups()
    expires = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    session = form.get("RoleSessionName", "session")
    return _xml(
        200,
        f'<AssumeRoleResponse xmlns="{STS_XMLNS}"><AssumeRoleResult><Credentials>'
        f"<AccessKeyId>ASIA{account}FAKE</AccessKeyId><SecretAccessKey>fake</SecretAccessKey>"
        f"<SessionToken>fake-{account}</SessionToken><Expiration>{expires}</Expiration>"
        f"</Credentials><AssumedRoleUser><AssumedRoleId>AROAFAKE:{session}</AssumedRoleId>"
        f"<Arn>arn:aws:sts::{account}:assumed-role/{role}/{session}</Arn></AssumedRoleUser>"
        f"</AssumeRoleResult><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId>"
        f"</ResponseMetadata></AssumeRoleResponse>",
    )


def _caller_identity(account: str, access_key: str) -> Reply:
    return _xml(
        200,
        f'<GetCallerIdentityResponse xmlns="{STS_XMLNS}"><GetCallerIdentityResult>'
        f"<Arn>arn:aws:sts::{account}:assumed-role/fake/{access_key}</Arn>"
        f"<UserId>AROAFAKE:{access_key}</UserId><Account>{account}</Account>"
        f"</GetCallerIdentityResult><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId>"
        f"</ResponseMetadata></GetCallerIdentityResponse>",
    )


async def _serve(fake: Fake, stats: str | None) -> None:
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0, backlog=4096, limit=2**20)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()
    if stats:
        times = os.times()
        document = {
            "served": dict(fake.served),
            "missed": dict(fake.missed),
            "cpu": times.user + times.system,
        }
        Path(stats).write_text(json.dumps(document))


@contextmanager
def serve(recording: Path, latency_ms: float, stats: Path | None = None) -> Iterator[str]:
    """The fake in its own process; yields its endpoint, stops it (SIGTERM) at the end."""
    command = [sys.executable, __file__, str(recording), "--latency-ms", str(latency_ms)]
    if stats is not None:
        command += ["--stats", str(stats)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError(f"the fake did not start (exit {process.wait()})")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("recording", type=Path)
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--stats")
    options = parser.parse_args()
    fake = Fake(load(str(options.recording)), options.latency_ms / 1000.0)
    asyncio.run(_serve(fake, options.stats))


if __name__ == "__main__":
    main()
