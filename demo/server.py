"""An in-process moto server on a free loopback port, for the demo, e2e tests and benchmarks.

A server (rather than in-process ``mock_aws``) is what lets a subprocess - the real
``runbook-guard`` command - talk to the same fake AWS through ``AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

#: What a client needs besides the endpoint; moto accepts any credentials.
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def moto_server() -> Iterator[str]:
    """Run a ThreadedMotoServer on 127.0.0.1, port chosen by the OS; yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    from runbook_guard.demo import insights

    insights.install()  # moto ignores a Logs Insights query's filter and stats
    # werkzeug logs every request, and a traceback for each action moto has not implemented
    # (the client sees an HTTP 500, which the collectors record as a snapshot error anyway).
    # The server's own banner is hidden by verbose=False.
    for name in ("werkzeug", "moto"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def reset(endpoint: str) -> None:
    """Forget every resource on the server (moto's own reset endpoint)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
