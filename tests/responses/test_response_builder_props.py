"""Properties of the Responses builder: any script is a valid api.openai.com-shaped stream."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_oapi_stream import check_response_stream
from pytest_oapi_stream.responses.builder import build_response_sse
from pytest_oapi_stream.responses.styles import RESPONSE_STYLES

# U+FFFD in a text is OAS040 (a warning the strict profile reports), not the builder's doing.
_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffd")
pieces = st.lists(st.text(_CHARS, min_size=1, max_size=12), min_size=1, max_size=8)
args = st.dictionaries(
    st.text(_CHARS, min_size=1, max_size=8),
    st.one_of(st.integers(), st.text(_CHARS, max_size=10)),
    max_size=3,
)
calls = st.lists(
    st.fixed_dictionaries(
        {"name": st.from_regex(r"[a-z_]{1,12}", fullmatch=True), "arguments": args}
    ),
    max_size=3,
)


@st.composite
def recipes(draw: Any) -> dict[str, Any]:
    recipe: dict[str, Any] = {"tool_calls": draw(calls)}
    if draw(st.booleans()):
        recipe["reasoning"] = draw(pieces)
    if draw(st.booleans()):
        recipe["refusal"] = draw(pieces)
    else:
        recipe["text"] = draw(st.one_of(st.none(), pieces, st.text(_CHARS, max_size=40)))
    recipe["seed"] = draw(st.integers(0, 2**16))
    return recipe


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipes())
def test_any_script_passes_the_strict_profile(recipe: dict[str, Any]) -> None:
    report = check_response_stream(build_response_sse(**recipe), profile="openai")
    assert report.violations == []
    text = recipe.get("text")
    if isinstance(text, list):
        assert report.stream.output_text == "".join(text)
    got = [json.loads(c.arguments) for c in report.stream.function_calls]
    assert got == [c["arguments"] for c in recipe["tool_calls"]]


@settings(max_examples=30, deadline=None)
@given(recipes(), st.sampled_from(sorted(RESPONSE_STYLES)))
def test_any_script_in_any_style_passes_its_profile(recipe: dict[str, Any], style: str) -> None:
    report = check_response_stream(build_response_sse(as_provider=style, **recipe), profile=style)
    assert [f"{v.code} {v.message}" for v in report.violations if v.severity != "info"] == []
