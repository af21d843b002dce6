"""A contract failure ends with what to do next: accept the failing rules in this test
(``ignore=`` naming them, in the check call or the marker), judge by a provider's profile
(``profile=``), and where each rule is explained (``oapi-stream rules CODE``, docs/rules.md).
The check function named is the surface's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_oapi_stream import StreamContractError, assert_valid_chunk_stream

CORPUS = Path(__file__).parent.parent / "data" / "corpus-responses"


def _chunk(id_: str, delta: dict[str, str], finish: str | None = None) -> str:
    chunk = {
        "id": id_,
        "object": "chat.completion.chunk",
        "created": 1732500000,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return "data: " + json.dumps(chunk, separators=(",", ":")) + "\n\n"


#: The README's failure: a repeated role (OAS021) and a changed id (OAS015).
BROKEN_CHAT = (
    _chunk("chatcmpl-A", {"role": "assistant", "content": ""})
    + _chunk("chatcmpl-A", {"role": "assistant", "content": "Hello"})
    + _chunk("chatcmpl-B", {}, "stop")
    + "data: [DONE]\n\n"
)


def _truncated_responses() -> str:
    body = (CORPUS / "openai__gpt-4o_text.sse").read_text(encoding="utf-8")
    return body[: body.index("event: response.completed")]  # OAS114: no terminal event


def test_the_tail_names_the_failing_codes_and_the_check_call() -> None:
    with pytest.raises(StreamContractError) as info:
        assert_valid_chunk_stream(BROKEN_CHAT, profile="openai")
    tail = str(info.value).splitlines()[-3:]
    assert tail == [
        'next: to accept these rules in this test, pass ignore=["OAS015", "OAS021"] to '
        "assert_valid_chunk_stream(...) or @pytest.mark.oapi(...);",
        '      to judge by a provider\'s known deviations, pass profile="NAME" there instead '
        "(oapi-stream rules --matrix lists them);",
        "      why each rule: oapi-stream rules OAS015, or docs/rules.md",
    ]


def test_warnings_only_name_the_codes_that_fail() -> None:
    # strict: the warning fails too, and is named; not strict, nothing fails, nothing raised
    body = BROKEN_CHAT.replace(
        '"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{}',
        ('"model":"gpt-4o-other","choices":[{"index":0,"delta":{}'),
    )
    with pytest.raises(StreamContractError, match=r'ignore=\["OAS015", "OAS017", "OAS021"\]'):
        assert_valid_chunk_stream(body, profile="openai", strict=True)
    with pytest.raises(StreamContractError, match=r'ignore=\["OAS015", "OAS021"\] to'):
        assert_valid_chunk_stream(body, profile="openai")


def test_a_user_reads_the_next_steps_on_both_surfaces(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user=f"""
        from pytest_oapi_stream import assert_valid_chunk_stream, assert_valid_response_stream

        def test_chat():
            assert_valid_chunk_stream({BROKEN_CHAT!r}, profile="openai")

        def test_responses():
            assert_valid_response_stream({_truncated_responses()!r})
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rN")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "E *StreamContractError: stream contract violated (text): 2 error(s), 0 warning(s)",
            'E *next: to accept these rules in this test, pass ignore=[[]"OAS015", "OAS021"[]] '
            "to assert_valid_chunk_stream(...) or @pytest.mark.oapi(...);",
            "E *why each rule: oapi-stream rules OAS015, or docs/rules.md",
            "E *StreamContractError: stream contract violated (text): 1 error(s), 0 warning(s)",
            "E *- OAS114 terminal-once-last *",
            'E *next: to accept this rule in this test, pass ignore=[[]"OAS114"[]] '
            "to assert_valid_response_stream(...) or @pytest.mark.oapi(...);",
            "E *why each rule: oapi-stream rules OAS114, or docs/rules.md",
        ]
    )
    # what the tail proposes works: the ignore silences exactly those rules
    pytester.makepyfile(
        test_user=f"""
        from pytest_oapi_stream import assert_valid_chunk_stream, assert_valid_response_stream

        def test_chat():
            assert_valid_chunk_stream({BROKEN_CHAT!r}, profile="openai",
                                      ignore=["OAS015", "OAS021"])

        def test_responses():
            assert_valid_response_stream({_truncated_responses()!r}, ignore=["OAS114"])
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
