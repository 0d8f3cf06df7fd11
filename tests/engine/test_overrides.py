"""Overrides take the shape of the parameter's default; nothing else sneaks in."""

from __future__ import annotations

import pytest

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.overrides import effective, parse_overrides

DEFAULTS = {
    "prefix": "agenticai",
    "queues": ["pm", "dev"],
    "days": 90,
    "ratio": 0.5,
    "strict": False,
}


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["prefix=null"], {"prefix": "null"}),
        (["prefix=1.50"], {"prefix": "1.50"}),
        (["prefix=a=b"], {"prefix": "a=b"}),
        (["queues=pm,qa"], {"queues": ["pm", "qa"]}),
        (['queues=["ops"]'], {"queues": ["ops"]}),
        (["days=30"], {"days": 30}),
        (["days=7.5"], {"days": 7.5}),
        (["ratio=1"], {"ratio": 1}),
        (["strict=true"], {"strict": True}),
    ],
)
def test_command_line_text_takes_the_default_shape(
    words: list[str], expected: dict[str, object]
) -> None:
    values = effective(DEFAULTS, parse_overrides(words))
    assert {k: values[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("words", "fragment"),
    [
        (["days=NaN"], "finite"),
        (["days=inf"], "finite"),
        (["days=soon"], "must be a number"),
        (["queues=[NaN]"], "finite"),
        (["strict=maybe"], "true or false"),
        (["nonsense=1"], "not declared"),
        (["no-equals-sign"], "key=value"),
    ],
)
def test_bad_overrides_are_refused(words: list[str], fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        effective(DEFAULTS, parse_overrides(words))


def test_config_file_values_keep_their_yaml_types() -> None:
    values = effective(DEFAULTS, {"queues": ["ops"], "days": 30, "prefix": "acme"})
    assert (values["queues"], values["days"], values["prefix"]) == (["ops"], 30, "acme")
    with pytest.raises(InputError, match="takes text"):
        effective(DEFAULTS, {"prefix": ["a"]})
