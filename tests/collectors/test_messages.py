"""Error messages in a snapshot are one readable line, whatever the endpoint sent."""

from __future__ import annotations

from runbook_guard.collectors.journal import readable

MOTO_500 = """<!doctype html>
<html lang=en>
<title>500 Internal Server Error</title>
<h1>Internal Server Error</h1>
<p>The server encountered an internal error and was unable to complete your request.</p>
"""


def test_an_html_error_page_becomes_one_line_of_its_text() -> None:
    assert readable(MOTO_500) == (
        "500 Internal Server Error Internal Server Error The server encountered an internal "
        "error and was unable to complete your request."
    )


def test_plain_aws_messages_are_kept_and_long_ones_bounded() -> None:
    message = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: dynamodb:DescribeContinuousBackups"
    assert readable(message) == message
    long = readable("x " * 1000)
    assert len(long) == 300
    assert long.endswith("...")
