"""Whatever bytes arrive, loading ends in a result or a positioned InputError, never a crash."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbook_guard.engine.documents import validate_document
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.yamlsafe import parse_yaml


def problems_of(action: Callable[[], object]) -> list[str]:
    """The problems an action refuses its input with; [] when it accepts it. Any other
    exception propagates and fails the test: that is the point."""
    try:
        action()
    except InputError as error:
        assert error.problems, "an InputError must say what is wrong"  # noqa: PT017
        return error.problems
    return []


POLICY = (
    Path(__file__).resolve().parents[2] / "policies" / "agenticai" / "backup.yaml"
).read_text()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_mutated_policies_load_or_fail_with_a_positioned_problem(
    tmp_path: Path, data: st.DataObject
) -> None:
    start = data.draw(st.integers(0, len(POLICY) - 1))
    length = data.draw(st.integers(0, 40))
    junk = data.draw(
        st.text(alphabet=st.sampled_from(list(":-[]{}&*!|>'\"#%@`, \n\tabc01$")), max_size=30)
    )
    text = POLICY[:start] + junk + POLICY[start + length :]
    path = tmp_path / "mutated.yaml"
    path.write_text(text)
    for line in problems_of(lambda: load_policy_set([path])):
        assert line.startswith(f"{path}:"), line
        assert "\n" not in line


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_parses_or_is_refused(text: str) -> None:
    for line in problems_of(lambda: parse_yaml(text, "x.yaml")):
        assert line.startswith("x.yaml:"), line


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=10,
    )
)
def test_arbitrary_json_is_validated_not_crashed_on(document: object) -> None:
    text = json.dumps(document)
    problems = problems_of(
        lambda: validate_document(document, text, Path("snapshot.json"), "snapshot")
    )
    assert all(p.startswith("snapshot.json:") for p in problems)
