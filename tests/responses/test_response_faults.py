"""The Responses fault table: each fault breaks exactly the rule it names (plus its ``also``).

A built stream with two items (a message and a function call) is broken by one fault and checked
with ``check_response_stream`` under the strict ``openai`` profile: the named rule is reported,
and nothing outside ``rule`` + ``also``. Faults that cannot apply raise instead of testing nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from resp_streams import CORPUS

from pytest_oapi_stream import (
    RESPONSE_RULES,
    SourceError,
    check_chunk_stream,
    check_response_stream,
)
from pytest_oapi_stream.chat.faults import (
    FAULTS,
    FaultNotApplicable,
    apply_byte_faults,
    apply_chunk_faults,
    normalize_faults,
)
from pytest_oapi_stream.responses.builder import (
    build_response_items,
    encode_response_items,
    response_items_from_sse,
)
from pytest_oapi_stream.responses.faults import (
    ALL_FAULTS,
    RESPONSE_FAULTS,
    SHARED,
    surface_faults,
)
from pytest_oapi_stream.responses.styles import get_response_style

TOOLS = [{"name": "get_weather", "arguments": {"city": "Paris"}}]
RECIPE: dict[str, Any] = {"text": "Hello there friend", "tool_calls": TOOLS}
VALUES = {
    "sequence_gap": 3,
    "sequence_duplicate": 3,
    "sequence_reset": 3,
    "error_event_at": 2,
    "truncate_after": 5,
}
EVENT_FAULTS = [n for n, f in RESPONSE_FAULTS.items() if f.kind in ("chunk", "bytes")]


def broken(name: str, value: Any = None, **recipe: Any) -> bytes:
    faults = normalize_faults(
        {name: VALUES.get(name, True) if value is None else value}, RESPONSE_FAULTS
    )
    kwargs = recipe or RECIPE
    items = apply_chunk_faults(build_response_items(**kwargs), faults, RESPONSE_FAULTS)
    names = get_response_style(kwargs.get("as_provider")).event_names
    encoded = encode_response_items(items, names=names)
    return b"".join(apply_byte_faults(encoded, faults, RESPONSE_FAULTS))


@pytest.mark.parametrize("name", [n for n in EVENT_FAULTS if n != "chat_chunks"])
def test_fault_breaks_exactly_the_rule_it_names(name: str) -> None:
    fault = RESPONSE_FAULTS[name]
    codes = {v.code for v in check_response_stream(broken(name), profile="openai").violations}
    assert fault.rule in codes
    assert codes <= {fault.rule, *fault.also}, codes


def test_chat_chunks_on_responses_are_refused_as_not_a_responses_stream() -> None:
    body = broken("chat_chunks")
    with pytest.raises(SourceError, match="chat completions stream"):
        check_response_stream(body)
    report = check_chunk_stream(body, profile="openai")  # a valid chat stream, wrong endpoint
    assert report.ok and "Hello there friend" in report.stream.messages[0].content


def test_every_rule_named_is_a_responses_rule() -> None:
    codes = {r.code for r in RESPONSE_RULES}
    for fault in RESPONSE_FAULTS.values():
        for code in (fault.rule, *fault.also):
            assert code is None or code in codes, (fault.name, code)


def test_shared_rows_are_chat_s_own() -> None:
    for name in SHARED:
        assert RESPONSE_FAULTS[name].doc == FAULTS[name].doc
        assert RESPONSE_FAULTS[name].kind == FAULTS[name].kind
    assert RESPONSE_FAULTS["disconnect_after_bytes"].also == ("OAS114",)


def test_error_event_is_openai_s_nested_shape_then_failed() -> None:
    report = check_response_stream(broken("error_event_at", 2))
    types = [e.type for e in report.stream.events]
    assert types == ["response.created", "response.in_progress", "error", "response.failed"]
    assert report.stream.status == "failed"


def test_sequence_faults_number_as_named() -> None:
    def seq(name: str) -> list[int]:
        out = []
        for line in broken(name, 3).decode().splitlines():
            if line.startswith("data: {"):
                out.append(int(line.rsplit('"sequence_number":', 1)[1].rstrip("}")))
        return out[:6]

    assert seq("sequence_gap") == [0, 1, 2, 4, 5, 6]
    assert seq("sequence_duplicate") == [0, 1, 2, 2, 3, 4]
    assert seq("sequence_reset") == [0, 1, 2, 0, 1, 2]


@pytest.mark.parametrize(
    ("name", "value", "recipe", "message"),
    [
        ("item_id_other", True, {"text": "one item"}, "needs a stream with two items"),
        ("sequence_gap", 0, RECIPE, "must be between 1 and"),
        ("truncate_after", 99, RECIPE, "must be between 1 and"),
        ("error_event_at", 1, RECIPE, "must be between 2 and"),
        ("done_appended", True, {"as_provider": "openrouter"}, "already ends with"),
        ("response_done", True, {"text": "x", "finish_reason": "length"}, "does not end completed"),
    ],
)
def test_a_fault_that_cannot_apply_raises(
    name: str, value: Any, recipe: dict[str, Any], message: str
) -> None:
    with pytest.raises(FaultNotApplicable, match=message):
        broken(name, value, **recipe)


def test_item_id_other_advises_a_setting() -> None:
    with pytest.raises(FaultNotApplicable) as info:
        broken("item_id_other", True, text="one item")
    assert "tool_calls=" in str(info.value)


def test_faults_of_one_surface_only() -> None:
    both = normalize_faults({"http_status": 500, "truncate_after": 3}, ALL_FAULTS)
    assert surface_faults("chat", both) == both
    assert surface_faults("responses", both) == {"truncate_after": 3, "http_status": 500}
    own = normalize_faults(["sequence_gap=2"], ALL_FAULTS)
    assert surface_faults("chat", own) is None
    assert surface_faults("responses", own) == {"sequence_gap": 2}
    assert surface_faults("responses", normalize_faults(["drop_done"], ALL_FAULTS)) is None
    with pytest.raises(ValueError, match=r"unknown fault 'nope'; valid faults: .*sequence_gap"):
        normalize_faults({"nope": True}, ALL_FAULTS)


RECORDINGS = [
    "openai__gpt-5_reasoning-summary-function-call.sse",
    "openai__gpt-4.1_web-search-annotations.sse",
    "openai__gpt-5.5_commentary-phase-then-function-call.sse",
]


@pytest.mark.parametrize("recording", RECORDINGS)
@pytest.mark.parametrize("name", [n for n in EVENT_FAULTS if n != "chat_chunks"])
def test_fault_on_a_real_recording_breaks_exactly_its_rule(recording: str, name: str) -> None:
    items, names = response_items_from_sse((CORPUS / recording).read_bytes())
    faults = normalize_faults({name: VALUES.get(name, True)}, RESPONSE_FAULTS)
    broken_items = apply_chunk_faults(items, faults, RESPONSE_FAULTS)
    encoded = encode_response_items(broken_items, names=names)
    body = b"".join(apply_byte_faults(encoded, faults, RESPONSE_FAULTS))
    fault = RESPONSE_FAULTS[name]
    codes = {v.code for v in check_response_stream(body, profile="openai").violations}
    assert fault.rule in codes
    assert codes <= {fault.rule, *fault.also}, codes
