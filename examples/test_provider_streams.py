"""Example contract tests: one per provider, replayed from the shipped cassettes.

Each cassette under ``cassettes/examples/test_provider_streams/`` holds a real provider's stream
(from the corpus in ``tests/data/corpus``), recorded through the openai SDK by ``record.py``.
The plugin checks every replayed stream against the marker's profile when the test ends.
"""

from __future__ import annotations

import json

import openai
import pytest

HELLO = [{"role": "user", "content": "Say hello."}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def _text(stream: openai.Stream) -> str:  # type: ignore[type-arg]
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


@pytest.mark.oapi(profile="openai")
def test_openai_text_with_usage(oapi_client: openai.OpenAI) -> None:
    stream = oapi_client.chat.completions.create(
        model="gpt-4o-2024-08-06", messages=HELLO, stream=True,
        stream_options={"include_usage": True},
    )
    assert _text(stream)


@pytest.mark.oapi(profile="openai")
def test_openai_parallel_tool_calls(oapi_client: openai.OpenAI) -> None:
    stream = oapi_client.chat.completions.create(
        model="gpt-4o-2024-08-06", stream=True, tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "Weather in Edinburgh and New York?"}],
        stream_options={"include_usage": True},
    )
    calls: dict[int, str] = {}
    for chunk in stream:
        for tc in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            calls[tc.index] = calls.get(tc.index, "") + (tc.function.arguments or "")
    assert len(calls) == 2
    assert all(isinstance(json.loads(args), dict) for args in calls.values())


@pytest.mark.oapi(profile="deepseek")
def test_deepseek_reasoner(oapi_client: openai.OpenAI) -> None:
    stream = oapi_client.chat.completions.create(
        model="deepseek-reasoner", messages=HELLO, stream=True,
        stream_options={"include_usage": True},
    )
    reasoning = ""
    for chunk in stream:
        if chunk.choices:
            reasoning += getattr(chunk.choices[0].delta, "reasoning_content", None) or ""
    assert reasoning


@pytest.mark.oapi(profile="qwen")
def test_qwen_plus_usage(oapi_client: openai.OpenAI) -> None:
    stream = oapi_client.chat.completions.create(
        model="qwen-plus", messages=HELLO, stream=True, stream_options={"include_usage": True},
    )
    usage = [c.usage for c in stream if c.usage is not None]
    assert len(usage) == 1


@pytest.mark.oapi(profile="groq")
def test_groq_whole_tool_call_in_one_fragment(oapi_client: openai.OpenAI) -> None:
    stream = oapi_client.chat.completions.create(
        model="llama-3.3-70b-versatile", stream=True, tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "Weather in San Francisco?"}],
    )
    finish = [c.choices[0].finish_reason for c in stream if c.choices]
    assert finish[-1] == "tool_calls"


@pytest.mark.oapi(profile="azure")
def test_azure_filter_prologue(oapi_client: openai.OpenAI) -> None:
    stream = oapi_client.chat.completions.create(
        model="gpt-5-mini", messages=HELLO, stream=True, stream_options={"include_usage": True},
    )
    assert _text(stream)


@pytest.mark.oapi(profile="llamacpp")
def test_llamacpp_tool_call_with_timings(oapi_client: openai.OpenAI) -> None:
    stream = oapi_client.chat.completions.create(
        model="gpt-oss-20b", stream=True, tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    assert any(c.choices and c.choices[0].delta.tool_calls for c in stream)
