"""An in-process moto server on a free loopback port, for the demo, e2e tests and benchmarks.

A server (rather than in-process ``mock_aws``) is what lets a subprocess - the real
``runbook-guard`` command - talk to the same fake AWS through ``AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

#: What a client needs besides the endpoint; moto accepts any credentials.
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def moto_server(*, stand_ins: bool = False) -> Iterator[str]:
    """Run a moto server on 127.0.0.1, port chosen by the OS; yield its endpoint URL.

    ``stand_ins``: answer the operations moto lacks with the demo's own stand-ins
    (``standins``, ``missing_operations``) instead of moto's 500s and 404s. Opt-in: tests and
    benchmarks elsewhere rely on moto's own answers, and get them by default.
    """
    from moto.server import ThreadedMotoServer

    from runbook_guard.demo import insights

    insights.install()  # moto ignores a Logs Insights query's filter and stats
    # werkzeug logs every request, and a traceback for each action moto has not implemented
    # (the client sees an HTTP 500, which the collectors record as a snapshot error anyway).
    # The server's own banner is hidden by verbose=False.
    for name in ("werkzeug", "moto"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if stand_ins:
        with _layered_server() as endpoint:
            yield endpoint
        return
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextmanager
def _layered_server() -> Iterator[str]:
    """moto's application behind the stand-ins, served as ThreadedMotoServer serves it (which
    builds its application inside its thread and offers no way to wrap it)."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from runbook_guard.demo.missing_operations import MissingOperations
    from runbook_guard.demo.standins import StandIns

    app = StandIns(DomainDispatcherApplication(create_backend_app), MissingOperations())
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    with serving(server) as endpoint:
        yield endpoint


class LocalServer(Protocol):
    """What ``serving`` needs of a socketserver-style server bound to 127.0.0.1."""

    server_port: int

    def serve_forever(self) -> None: ...
    def shutdown(self) -> None: ...
    def server_close(self) -> None: ...


@contextmanager
def serving(server: LocalServer) -> Iterator[str]:
    """Serve on a daemon thread and yield the endpoint; stop, join and close on leaving."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def reset(endpoint: str) -> None:
    """Forget every resource on the server (moto's own reset endpoint)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
