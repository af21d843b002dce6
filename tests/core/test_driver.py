"""The shared driver (core/driver.py) behaves the same for both surfaces: ``auto`` takes the
first provider signal anywhere in a kept stream (the iterating mode, which cannot look ahead, the
first item's), a stream of the other surface is refused by its path or its first payload, and a
list of items is judged like the wire: nothing in it is skipped silently."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_oapi_stream import (
    CheckedChunks,
    CheckedResponseEvents,
    SourceError,
    check_chunk_stream,
    check_response_stream,
)
from pytest_oapi_stream.chat.builder import build_sse
from pytest_oapi_stream.responses.check import check_response_lean

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus-responses"
XAI = "xai__grok-4.3_reasoning-summary-text.sse"


def events(name: str) -> list[dict[str, Any]]:
    """The JSON events of a corpus file."""
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line[5:]) for line in lines if line.startswith("data:") and "{" in line]


def sse(evs: list[dict[str, Any]]) -> bytes:
    """Events as a named SSE body."""
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in evs).encode()


def _resumed(name: str) -> tuple[list[dict[str, Any]], int]:
    """The events of ``name`` from its first text delta on, as a resumed stream sends them
    (no ``response.created`` snapshot first), and the ``starting_after`` it was asked for."""
    evs = events(name)
    at = next(i for i, e in enumerate(evs) if e["type"].endswith(".delta"))
    return evs[at:], evs[at]["sequence_number"] - 1


def test_a_resumed_stream_takes_its_profile_from_a_later_snapshot() -> None:
    evs, after = _resumed(XAI)
    body = sse(evs)
    request = {"starting_after": after}
    kept = check_response_stream(body, request=request)
    assert kept.profile.name == "xai", kept.profile_reason
    assert "grok" in kept.profile_reason
    # Read once only (an iterator of pieces): the events seen before the signal are replayed.
    pieces = iter([body[:100], body[100:]])
    assert check_response_stream(pieces, request=request).violations == kept.violations
    assert check_response_stream(evs, request=request).profile.name == "xai"
    lean = check_response_lean(body, request=request)
    assert lean.profile.name == "xai" and lean.violations == kept.violations
    # The iterating mode fixes the profile at the first event: no signal there.
    it = CheckedResponseEvents(body, request=request, raise_on_error=False)
    assert len(list(it)) == len(evs)
    assert it.report is not None and it.report.profile.name == "openai"


def test_a_chat_stream_with_a_late_signal_restarts_in_every_kept_mode() -> None:
    body = build_sse(text="Hello there!", as_provider="groq")  # x_groq on the last chunks
    assert check_chunk_stream(body).profile.name == "groq"
    assert check_chunk_stream(iter([body])).profile.name == "groq"


@pytest.mark.parametrize(
    ("check", "body", "url", "says"),
    [
        (check_chunk_stream, CORPUS / XAI, None, "first payload is a response.created event"),
        (check_chunk_stream, b"data: {}\n\n", "https://api.x.ai/v1/responses", "/v1/responses"),
        (
            check_response_stream,
            lambda: build_sse(text="Hi"),
            None,
            "first payload is a chat.completion.chunk",
        ),
        (
            check_response_stream,
            b"data: {}\n\n",
            "https://api.openai.com/v1/chat/completions",
            "/v1/chat/completions",
        ),
    ],
    ids=["responses-to-chat", "responses-path", "chat-to-responses", "chat-path"],
)
def test_the_other_surface_is_refused_and_named(check: Any, body: Any, url: Any, says: str) -> None:
    body = body() if callable(body) else body
    with pytest.raises(SourceError) as err:
        check(body, url=url)
    msg = str(err.value)
    assert says in msg
    other = "check_response_stream" if check is check_chunk_stream else "check_chunk_stream"
    assert other in msg


def test_the_iterating_mode_reports_an_error_item_as_keep_mode_does() -> None:
    chunks: list[Any] = [
        json.loads(line[6:]) for line in build_sse(text="Hi").decode().split("\n\n")[:-2]
    ]
    items = [*chunks, {"error": {"message": "overloaded", "type": "server_error"}}]
    kept = check_chunk_stream(items, profile="openai")
    it = CheckedChunks(items, profile="openai", raise_on_error=False)
    got: Iterator[Any] = iter(it)
    assert len(list(got)) == len(chunks)
    assert it.report is not None
    assert [v.code for v in it.report.violations] == [v.code for v in kept.violations]
    assert "OAS038" in {v.code for v in kept.violations}
