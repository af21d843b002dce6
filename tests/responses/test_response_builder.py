"""The Responses stream builder: api.openai.com's framing and shapes, provider styles as data.

Calibration is against the real recordings of ``tests/data/corpus-responses``: the built stream's
event types, each event's keys and the Response object's keys are the recorded ones; the checker
(``check_response_stream``) finds nothing at warn or above under the strict ``openai`` profile,
and each style passes its own profile.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from resp_streams import CALL, CORPUS, SUMMARY, TEXT, events, raw

from pytest_oapi_stream import check_response_stream
from pytest_oapi_stream.responses.builder import (
    assemble_response,
    build_response_events,
    build_response_items,
    build_response_sse,
    encode_response_items,
    response_items_from_sse,
)
from pytest_oapi_stream.responses.profiles import RESPONSE_PROFILES
from pytest_oapi_stream.responses.styles import RESPONSE_STYLES, get_response_style

TOOLS = [{"name": "get_weather", "arguments": {"city": "Paris"}}]
RECIPES: dict[str, dict[str, Any]] = {
    "default": {},
    "text": {"text": "Hello there, how are you?"},
    "non-ascii": {"text": "héllo wörld, 你好 🌍"},
    "reasoning": {"reasoning": "The user greets me. I greet back.", "text": "Hi!"},
    "tool": {"tool_calls": TOOLS},
    "text+tools": {
        "text": "Let me check.",
        "tool_calls": [*TOOLS, {"name": "get_time", "arguments": "{}"}],
    },
    "refusal": {"refusal": "I can't help with that."},
    "length": {"text": "This answer is cut", "finish_reason": "length"},
}


def _warn_or_above(body: bytes, profile: str = "openai") -> list[str]:
    report = check_response_stream(body, profile=profile)
    return [v.format() if hasattr(v, "format") else str(v) for v in report.failures] + [
        f"{v.code} {v.message}" for v in report.violations if v.severity == "warn"
    ]


@pytest.mark.parametrize("name", list(RECIPES))
def test_built_stream_passes_the_strict_openai_profile(name: str) -> None:
    body = build_response_sse(**RECIPES[name])
    report = check_response_stream(body, profile="openai")
    assert [v for v in report.violations if v.severity in ("error", "warn")] == []
    assert report.violations == []  # not even info: OpenAI's own shape


def test_built_stream_assembles_what_the_script_says() -> None:
    stream = check_response_stream(
        build_response_sse(reasoning="Think.", text="Hi there", tool_calls=TOOLS)
    ).stream
    assert stream.output_text == "Hi there"
    assert [c.name for c in stream.function_calls] == ["get_weather"]
    assert json.loads(stream.function_calls[0].arguments) == {"city": "Paris"}
    assert stream.status == "completed"
    assert stream.usage is not None


def test_framing_is_api_openai_com_s() -> None:
    body = build_response_sse(text="Olá friend, how are you today?")
    blocks = body.decode().split("\n\n")
    assert blocks[-1] == ""  # ends with a blank line, nothing after
    payloads = []
    for block in blocks[:-1]:
        name, data = block.split("\n")
        assert name.startswith("event: ") and data.startswith("data: ")
        payload = json.loads(data[6:])
        assert name[7:] == payload["type"]
        assert data[6:] == json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        payloads.append(payload)
    assert [p["sequence_number"] for p in payloads] == list(range(len(payloads)))
    assert b"[DONE]" not in body
    deltas = [p for p in payloads if p["type"].endswith(".delta")]
    assert deltas
    for d in deltas:  # obfuscation pads each delta to a multiple of 16 characters
        assert (len(d["delta"]) + len(d["obfuscation"])) % 16 == 0
        assert re.fullmatch(r"[A-Za-z0-9]+", d["obfuscation"])


def _corpus_obfuscation() -> list[tuple[str, str]]:
    out = []
    for path in sorted(CORPUS.glob("openai__*.sse")):
        for ev in events(path.name):
            if "obfuscation" in ev:
                out.append((ev["delta"], ev["obfuscation"]))
    return out


def test_obfuscation_rule_holds_on_the_real_recordings() -> None:
    pairs = _corpus_obfuscation()
    assert len(pairs) > 300
    holds = [d for d, o in pairs if (len(d) + len(o)) % 16 == 0 and o]
    assert len(holds) >= len(pairs) - 2  # one or two deltas count characters differently


def _types(evs: list[dict[str, Any]]) -> list[str]:
    """Event types in order, runs of one type collapsed."""
    out: list[str] = []
    for ev in evs:
        if not out or out[-1] != ev["type"]:
            out.append(ev["type"])
    return out


def _keys(evs: list[dict[str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for ev in evs:
        out.setdefault(ev["type"], set()).update(ev)
    return out


@pytest.mark.parametrize(
    ("recording", "recipe"),
    [
        (TEXT, {"text": "Olá!"}),
        (CALL, {"tool_calls": [{"name": "weather", "arguments": {"location": "Florence"}}]}),
        (SUMMARY, {"reasoning": "Getting weather info.", "tool_calls": TOOLS}),
    ],
)
def test_event_sequence_and_keys_match_the_recording(
    recording: str, recipe: dict[str, Any]
) -> None:
    real = events(recording)
    built = build_response_events(**recipe)
    assert _types(built) == _types(real)
    assert _keys(built) == _keys(real)
    real_response = real[-1]["response"]
    built_response = built[-1]["response"]
    assert set(built_response) == set(real_response)
    assert set(built_response["usage"]) == set(real_response["usage"])
    for b_item, r_item in zip(built_response["output"], real_response["output"], strict=True):
        assert set(b_item) <= set(r_item)  # encrypted_content/content only with include


def test_the_request_is_echoed_and_sizes_the_usage() -> None:
    request = {
        "model": "gpt-5-mini",
        "input": "one two three four",
        "instructions": "Be brief.",
        "max_output_tokens": 100,
        "tools": [{"type": "function", "name": "get_weather", "parameters": {}}],
        "metadata": {"k": "v"},
    }
    evs = build_response_events(text="Hi", request=request)
    created, final = evs[0]["response"], evs[-1]["response"]
    for snap in (created, final):
        assert snap["model"] == "gpt-5-mini"
        assert snap["instructions"] == "Be brief."
        assert snap["max_output_tokens"] == 100
        assert snap["tools"] == request["tools"]
        assert snap["metadata"] == {"k": "v"}
    assert final["usage"]["input_tokens"] == 8 + 6
    report = check_response_stream(
        b"".join(encode_response_items(evs)), profile="openai", request=request
    )
    assert report.violations == []


def test_deterministic_by_seed() -> None:
    assert build_response_sse(text="x", seed=3) == build_response_sse(text="x", seed=3)
    assert build_response_sse(text="x", seed=3) != build_response_sse(text="x", seed=4)


def test_finish_reason_length_ends_incomplete() -> None:
    evs = build_response_events(text="cut short", finish_reason="length")
    assert evs[-1]["type"] == "response.incomplete"
    assert evs[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert evs[-2]["item"]["status"] == "incomplete"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 2}, "one output"),
        ({"text": "a", "refusal": "b"}, "either text or refusal"),
        ({"tool_calls": [{"arguments": {}}]}, "non-empty 'name'"),
        ({"as_provider": "nobody"}, "unknown as_provider 'nobody'"),
    ],
)
def test_bad_settings_raise(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_response_events(**kwargs)


def test_non_stream_answer_is_the_final_response() -> None:
    items = build_response_items(text="Hi", tool_calls=TOOLS)
    resp = assemble_response(items)
    assert resp["status"] == "completed"
    assert [o["type"] for o in resp["output"]] == ["message", "function_call"]


@pytest.mark.parametrize("name", [TEXT, CALL, SUMMARY, "xai__grok-4.3_reasoning-summary-text.sse"])
def test_recorded_bodies_round_trip_through_script_items(name: str) -> None:
    body = raw(name)
    items, names = response_items_from_sse(body)
    assert names is True
    assert all(isinstance(it, dict) for it in items)
    assert b"".join(encode_response_items(items)) == body


def test_openrouter_body_round_trips_without_event_names() -> None:
    body = raw("openrouter__gpt-oss-20b_data-only-done-sentinel.sse")
    items, names = response_items_from_sse(body)
    assert names is False
    again = b"".join(encode_response_items(items, names=False))
    assert response_items_from_sse(again) == (items, False)  # floats re-printed: 1.13e-05
    assert again.endswith(b"data: [DONE]\n\n") and again.count(b"\n\n") == body.count(b"\n\n")


# --------------------------------------------------------------------------- styles

STYLE_RECIPES = [
    {"reasoning": "Think first.", "text": "Héllo there."},
    {"text": "Checking.", "tool_calls": TOOLS},
]


@pytest.mark.parametrize("style", sorted(RESPONSE_STYLES))
@pytest.mark.parametrize("recipe", range(len(STYLE_RECIPES)))
def test_each_style_passes_its_own_profile(style: str, recipe: int) -> None:
    assert style in RESPONSE_PROFILES
    body = build_response_sse(as_provider=style, **STYLE_RECIPES[recipe])
    report = check_response_stream(body, profile=style)
    assert [f"{v.code} {v.message}" for v in report.violations if v.severity != "info"] == []


def _research_keys() -> set[str]:
    text = (Path(__file__).parents[1] / "data" / "corpus-responses" / "SOURCES.md").read_text()
    return set(re.findall(r"`([\w.\-]+\.sse)`", text))


def test_every_style_setting_cites_a_corpus_file_or_a_source() -> None:
    files = {p.name for p in CORPUS.glob("*.sse")}
    assert files <= _research_keys() | files
    for style in RESPONSE_STYLES.values():
        cites = [style.evidence, *(d.evidence for d in style.deviations)]
        for cite in cites:
            assert cite in files or re.fullmatch(r"(\[[\w#.\-]+\] ?)+", cite), (style.name, cite)


def test_openrouter_style_frames_as_its_recording() -> None:
    body = build_response_sse(as_provider="openrouter", text="4")
    assert body.startswith(b": OPENROUTER PROCESSING\n\ndata: {")
    assert body.endswith(b"\n\ndata: [DONE]\n\n")
    assert b"event:" not in body and b"obfuscation" not in body
    first = json.loads(body.split(b"\n\n")[1][6:])
    assert first["response"]["id"].startswith("gen-")


def test_lmstudio_style_sends_no_argument_deltas() -> None:
    types = [e["type"] for e in build_response_events(as_provider="lmstudio", tool_calls=TOOLS)]
    assert "response.function_call_arguments.delta" not in types
    assert "response.function_call_arguments.done" in types


def test_llamacpp_style_adds_timings_and_prompt_progress() -> None:
    evs = build_response_events(as_provider="llamacpp", text="Hi there")
    by_type = {e["type"]: e for e in evs}
    assert "prompt_progress" in by_type["response.in_progress"]
    assert "timings" in by_type["response.output_text.delta"]
    assert "timings" in by_type["response.completed"]
    strict = check_response_stream(
        build_response_sse(as_provider="llamacpp", text="Hi"), profile="openai"
    )
    assert {v.code for v in strict.violations} == {"OAS110"}  # extensions, named under openai


def test_xai_and_deepseek_ids_and_reasoning() -> None:
    xai = build_response_events(as_provider="xai", reasoning="r", text="t")
    assert next(iter(xai[0])) == "sequence_number"
    rid = xai[0]["response"]["id"]
    assert re.fullmatch(r"[0-9a-f-]{36}", rid)
    assert xai[-1]["response"]["output"][1]["id"] == f"msg_{rid}"
    ds = build_response_events(as_provider="deepseek", reasoning="r", text="t")
    assert "response.reasoning_text.delta" in {e["type"] for e in ds}
    assert ds[0]["response"]["content_filters"] is None


def test_unknown_style_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: azure, deepseek"):
        get_response_style("groq")


def test_style_data_are_mappings() -> None:
    for style in RESPONSE_STYLES.values():
        for dev in style.deviations:
            assert isinstance(dev.params, Mapping)
