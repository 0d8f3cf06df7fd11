"""Fixtures for the reporter tests: a fresh, schema-valid results document per test."""

from __future__ import annotations

from typing import Any

import pytest

from .factory import document


@pytest.fixture
def results() -> dict[str, Any]:
    """Every status, waivers (active, expired, unused), collection errors, a manual item."""
    return document()
