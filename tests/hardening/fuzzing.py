"""Hypothesis settings for the hardening fuzz tests: bounded in the suite, long on demand.

The suite runs the ``suite`` profile: a fixed number of examples per test, derandomized so a
CI run is reproducible. ``RUNBOOK_GUARD_FUZZ=long`` selects the ``long`` profile: two hundred
times the examples, random seeds, for an overnight run (docs/reliability.md has the command):

    RUNBOOK_GUARD_FUZZ=long .venv/bin/python -m pytest -q -n 0 tests/hardening/test_fuzz_*.py
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_VARIABLE = "RUNBOOK_GUARD_FUZZ"
_SCALE = {"suite": 1, "long": 200}
_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]

settings.register_profile("suite", deadline=None, derandomize=True, suppress_health_check=_QUIET)
settings.register_profile("long", deadline=None, derandomize=False, suppress_health_check=_QUIET)

PROFILE = os.environ.get(PROFILE_VARIABLE, "suite")
if PROFILE not in _SCALE:
    raise ValueError(f"{PROFILE_VARIABLE} must be one of {', '.join(_SCALE)}, not {PROFILE!r}")


def fuzz(examples: int) -> settings:
    """Settings for one fuzz test: ``examples`` in the suite, scaled by the long profile."""
    return settings(settings.get_profile(PROFILE), max_examples=examples * _SCALE[PROFILE])
