"""Record every answer one account's collection of the demo stack gets, once, from moto.

The demo's own server (``moto_server(stand_ins=True)``: CloudTrail history, Free Tier usage and
the rest moto lacks are answered) is seeded with one copy of the runbook's stack and its story,
as ``runbook-guard demo`` seeds it. A recording proxy in front of it forwards each request as
if asked of moto directly and keeps the answer under the request's key
(``org_wire.request_key``). Then the
real CLI collects that account through the proxy, the way the benchmark collects every account
(``collect --accounts FILE``): what it asks is exactly what the benchmark's accounts ask.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.org_wire import RECORDED_ACCOUNT, Answer, request_key
from runbook_guard.demo.server import serving

ROLE = "RunbookGuardReadOnly"
REGION = "us-east-1"
#: Settings of the machine that must not reach the CLI (another endpoint, profile, retries).
UNSET_ENV = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE")


@dataclass
class Recording:
    """Answers by request key; ``conflicts``: keys asked twice and answered differently."""

    answers: dict[str, Answer] = field(default_factory=dict)
    conflicts: set[str] = field(default_factory=set)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keep(self, key: str, answer: Answer) -> None:
        with self.lock:
            self.requests += 1
            if self.answers.setdefault(key, answer).body != answer.body:
                self.conflicts.add(key)


def accounts_file(path: Path, accounts: Sequence[str], region: str = REGION) -> Path:
    """An accounts file: every account assumes ``ROLE`` and is read in one region."""
    lines = ["defaults:", f"  role: {ROLE}", f"  regions: [{region}]", "accounts:"]
    lines += [f'  - id: "{account}"' for account in accounts]
    path.write_text("\n".join(lines) + "\n")
    return path


def cli_env(endpoint: str) -> dict[str, str]:
    from runbook_guard.demo.server import DUMMY_ENV

    env = {k: v for k, v in os.environ.items() if k not in UNSET_ENV}
    return {**env, **DUMMY_ENV, "AWS_ENDPOINT_URL": endpoint}


def runbook_guard(
    args: Sequence[str], endpoint: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """The installed CLI, as a user runs it, against ``endpoint``."""
    command = [sys.executable, "-m", "runbook_guard", *args]
    done = subprocess.run(command, env=cli_env(endpoint), cwd=cwd, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(args)}: exit {done.returncode}\n{done.stderr[-3000:]}")
    return done


def record(folder: Path) -> tuple[Recording, Path]:
    """Seed the demo stack into moto, collect its account through the recorder; the recording
    and the snapshot of that collection (a real moto collection of one copy: the recorder
    passes moto's answers on as moto gave them)."""
    import boto3

    from runbook_guard.demo.server import DUMMY_ENV, moto_server
    from runbook_guard.demo.stack import seed_runbook_stack
    from runbook_guard.demo.story import seed_story

    recording = Recording()
    accounts = accounts_file(folder / "recorded-accounts.yaml", [RECORDED_ACCOUNT])
    snapshot = folder / "recorded-snapshot.json"
    with _environment(DUMMY_ENV), moto_server(stand_ins=True) as moto:
        seed_story(moto, seed_runbook_stack(boto3.Session(), endpoint_url=moto))
        with recorder(moto, recording) as endpoint:
            args = ["collect", "--accounts", str(accounts), "-o", str(snapshot), "-q"]
            runbook_guard(args, endpoint, folder)
    return recording, snapshot


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` set and ``UNSET_ENV`` unset in this process's environment (the seeding
    sessions read it), as it was before on leaving."""
    saved = dict(os.environ)
    os.environ.update(values)
    for name in UNSET_ENV:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def recorder(upstream: str, recording: Recording) -> Iterator[str]:
    """A proxy to ``upstream`` on a free loopback port that records every answer, and passes
    each on as ``upstream`` answered it to a client that asked it directly."""
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            upstream = http.client.HTTPConnection(str(target.hostname), target.port, timeout=60)
            try:
                # moto writes its own address into answers (queue URLs): as if asked directly
                sent = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                sent["Host"] = str(target.netloc)
                upstream.request(self.command, self.path, body, sent)
                response = upstream.getresponse()
                answer = Answer(response.status, list(response.getheaders()), response.read())
            finally:
                upstream.close()
            key = request_key(self.command, self.path, headers, body, RECORDED_ACCOUNT)
            recording.keep(key, answer)
            self.send_response(answer.status)
            for name, value in answer.headers:
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = relay

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with serving(server) as endpoint:
        yield endpoint


def summary(recording: Recording) -> Mapping[str, int]:
    return {
        "requests": recording.requests,
        "answers": len(recording.answers),
        "conflicts": len(recording.conflicts),
    }
