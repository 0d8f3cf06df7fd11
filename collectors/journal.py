"""Error capture for a collection: what failed, where, and which data it leaves undecided.

Every failed call, and every answer of the wrong shape, ends here as a snapshot error (with
the IAM action it needed, the resource and the ``data`` keys it would have filled), and every
listing as a completeness mark. ``Call`` (``calls``) and the runner record into the
``Journal``; the runner turns it into the snapshot's errors, coverage and call count.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError


class Problem(Exception):
    """A call that answered, but not with what was needed (a partial metric, a bad body)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


#: Which resource types and data keys a failed call leaves undecided; a batched call
#: (GetMetricData across types) names several.
Attribution = Sequence[tuple[str, Sequence[str]]]


_TAG = re.compile(r"<[^>]+>")


def readable(message: str, limit: int = 300) -> str:
    """One line of text from an error body, which endpoints sometimes send as an HTML page.

    A proxy or a local stand-in (moto's HTTP 500) answers with a whole HTML document; the
    snapshot, and every report quoting it, wants the sentence, not the markup.
    """
    text = " ".join(_TAG.sub(" ", message).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def error_code(exc: BaseException) -> tuple[str, str]:
    """(code, message) for anything a call can raise.

    Covers AWS errors, botocore's own (timeouts, endpoints, credentials), moto's in-process
    ``NotImplementedError`` and its server-mode HTTP 500 (a ClientError with code ``"500"``).
    """
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(
            err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        )
        return code, readable(str(err.get("Message") or exc))
    if isinstance(exc, Problem):
        return exc.code, str(exc)
    if isinstance(exc, NotImplementedError):
        return "NotImplemented", str(exc) or "operation not implemented by the endpoint"
    if isinstance(exc, BotoCoreError):
        return type(exc).__name__, str(exc)
    return "UnexpectedShape", f"{type(exc).__name__}: {exc}"


class Journal:
    """Thread-safe record of a collection: errors, per-listing completeness and call count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.errors: list[dict[str, Any]] = []
        self.coverage: dict[tuple[str, str, str], bool] = {}
        #: Listings limited on the server to names with these prefixes, per coverage key.
        self.prefixes: dict[tuple[str, str, str], list[str]] = {}
        #: Per type, the data keys of every operation that ran (the field-level plan's record).
        self.keys: dict[str, set[str]] = {}
        self.api_calls = 0

    def count_call(self, **_: Any) -> None:
        """botocore ``before-call`` handler: one logical API call (retries not counted twice)."""
        with self._lock:
            self.api_calls += 1

    def add_error(self, error: dict[str, Any]) -> None:
        with self._lock:
            self.errors.append(error)

    def listed(
        self,
        resource_type: str,
        account: str,
        region: str,
        complete: bool,
        prefixes: list[str] | None = None,
    ) -> None:
        """Mark a listing; once incomplete, a later success for the same key cannot undo it.

        ``prefixes``: the listing asked the server only for names starting with these, so it
        is complete for them alone (the engine proves a name missing only within them).
        """
        key = (resource_type, account, region)
        with self._lock:
            self.coverage[key] = self.coverage.get(key, True) and complete
            if prefixes is not None:
                self.prefixes[key] = sorted(set(self.prefixes.get(key, [])) | set(prefixes))

    def collected(self, filled: dict[str, frozenset[str]]) -> None:
        """Record that an operation filling these keys (per type) ran."""
        with self._lock:
            for resource_type, keys in filled.items():
                self.keys.setdefault(resource_type, set()).update(keys)
