"""Preflight: when no account can be read, say why in one line instead of collecting nothing.

A CI role that cannot sign in (no credentials, an expired token, a role whose trust policy
refuses the caller) would otherwise make every rule ``error``: 66 undecided results that look
like 66 compliance problems, with the cause at the bottom of a long report. Identity is
established before any listing (``Context.accounts``); when not one account answered, the
run stops as unusable input (exit 2) with the cause and its fix, and nothing is evaluated.
When some accounts answered, the others stay in the snapshot as errors (their rules are
``error`` naming the cause) and the run goes on: one broken role must not hide the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.snapshot import IDENTITY_OPERATIONS


@dataclass(frozen=True)
class Cause:
    """A family of sign-in failures, the codes that signal it and what fixes it."""

    name: str
    codes: frozenset[str]
    fix: str


CAUSES = (
    Cause(
        "no credentials",
        frozenset({"NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"}),
        "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, run `aws sso login`, or in"
        " CI grant the job an OIDC role (aws-actions/configure-aws-credentials)",
    ),
    Cause(
        "expired credentials",
        frozenset(
            {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
        ),
        "refresh them (`aws sso login`, or assume the role again) and rerun",
    ),
    Cause(
        "invalid credentials",
        frozenset({"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch"}),
        "the access key or session token is wrong or deleted: check the profile or the CI secret",
    ),
    Cause(
        "AWS unreachable",
        frozenset({"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"}),
        "check the network, proxy and AWS_ENDPOINT_URL, and that the region exists",
    ),
)
ROLE_REFUSED = Cause(
    "role not assumable",
    frozenset({"AccessDenied", "AccessDeniedException"}),
    "the role's trust policy must allow the calling identity sts:AssumeRole (and the caller's"
    " own policy must allow it too)",
)


def classify(error: Mapping[str, Any]) -> Cause | None:
    """The cause of an identity error, or None when its code is not a known sign-in failure."""
    code = str(error.get("code", ""))
    if error.get("operation") == "AssumeRole" and code in ROLE_REFUSED.codes:
        return ROLE_REFUSED
    return next((cause for cause in CAUSES if code in cause.codes), None)


def explain(error: Mapping[str, Any]) -> str:
    """One clause: who, what failed, the cause and its fix."""
    who = error.get("resource") or f"account {error.get('account', 'unknown')}"
    what = f"{error.get('iam_action', error.get('operation'))} failed ({error.get('code')})"
    cause = classify(error)
    if cause is None:
        return f"{who}: {what}: {error.get('message', '')}".rstrip(": ")
    return f"{who}: {cause.name}: {what}; fix: {cause.fix}"


def require_a_readable_account(
    readable: int, errors: Sequence[Mapping[str, Any]], accounts: int
) -> None:
    """Raise the one-line ``InputError`` when none of ``accounts`` could be identified."""
    if readable:
        return
    identity = [e for e in errors if e.get("operation") in IDENTITY_OPERATIONS]
    clauses = list(dict.fromkeys(explain(e) for e in identity)) or [
        "identity could not be established (no identity error was recorded)"
    ]
    noun = "the account" if accounts == 1 else f"any of the {accounts} accounts"
    raise InputError([f"cannot read {noun}, nothing collected: " + "; ".join(clauses)])
