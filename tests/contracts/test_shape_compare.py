"""Streaming vs non-streaming: the assembled stream must have the completion's structure (role,
finish reason, tool-call names and argument keys), whatever the wording."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_oapi_stream import check_chunk_stream
from pytest_oapi_stream.contracts.compare import (
    assert_stream_matches_completion,
    structure_differences,
)

CORPUS = Path(__file__).parents[1] / "data" / "corpus"


def completion(message: dict[str, Any], finish: str, index: int = 0) -> dict[str, Any]:
    return {
        "id": "chatcmpl-nonstream",
        "object": "chat.completion",
        "created": 1727346180,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {"index": index, "message": message, "finish_reason": finish, "logprobs": None}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


TOOL_MESSAGE = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {
            "id": "call_other_id",
            "type": "function",
            # Same keys, another value and key order: the same structure.
            "function": {
                "name": "GetWeatherArgs",
                "arguments": '{"units": "f", "country": "FR", "city": "Lyon"}',
            },
        }
    ],
}


@pytest.fixture
def tool_stream() -> Any:
    report = check_chunk_stream((CORPUS / "openai__gpt-4o_tool-call-single.sse").read_bytes())
    assert report.stream is not None
    assert report.stream.messages[0].tool_calls[0].parsed_arguments.keys() == {
        "city",
        "country",
        "units",
    }
    return report.stream


def test_matching_structure_passes(tool_stream: Any) -> None:
    done = completion(TOOL_MESSAGE, "tool_calls")
    assert structure_differences(tool_stream, done) == []
    assert_stream_matches_completion(tool_stream, done)
    assert_stream_matches_completion(tool_stream, json.dumps(done))  # JSON text works too
    text = check_chunk_stream((CORPUS / "openai__gpt-4o_text_include-usage.sse").read_bytes())
    assert_stream_matches_completion(
        text, completion({"role": "assistant", "content": "Entirely other words."}, "stop")
    )


def test_drifting_structure_names_every_difference(tool_stream: Any) -> None:
    drift = copy.deepcopy(TOOL_MESSAGE)
    drift["tool_calls"][0]["function"]["arguments"] = '{"city": "Lyon"}'
    drift["tool_calls"].append(
        {"id": "call_2", "type": "function", "function": {"name": "GetTime", "arguments": "{}"}}
    )
    with pytest.raises(AssertionError) as info:
        assert_stream_matches_completion(tool_stream, completion(drift, "stop"))
    message = str(info.value)
    assert message.startswith("the streamed and the non-streamed response differ in structure:")
    assert "choice 0: finish_reason: streamed 'tool_calls', non-streamed 'stop'" in message
    assert "choice 0: tool calls: streamed 1 ['GetWeatherArgs'], non-streamed 2" in message
    assert (
        "choice 0: tool call 0 (GetWeatherArgs) argument keys: streamed {city, country, units}, "
        "non-streamed {city}" in message
    )


def test_missing_role_and_extra_choice_are_named() -> None:
    # Groq compound streams no role at all.
    report = check_chunk_stream((CORPUS / "groq__compound_id-changes-every-chunk.sse").read_bytes())
    done = completion({"role": "assistant", "content": "x"}, "stop")
    done["choices"].append({"index": 1, "message": {"role": "assistant"}, "finish_reason": "stop"})
    diffs = structure_differences(report, done)
    assert "choice 0: role: streamed None, non-streamed 'assistant'" in diffs
    assert "choice 1: in the non-streamed completion, but never streamed" in diffs


def test_bad_completion_arguments_are_type_errors(tool_stream: Any) -> None:
    with pytest.raises(TypeError, match="streamed chunk"):
        structure_differences(tool_stream, {"object": "chat.completion.chunk", "choices": []})
    with pytest.raises(TypeError, match="completion must be"):
        structure_differences(tool_stream, 42)
    assert structure_differences(tool_stream, {"object": "chat.completion"}) == [
        "the non-streamed completion has no `choices` list"
    ]
