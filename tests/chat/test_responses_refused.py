"""A Responses API stream given to the chat checker is refused, never judged (user trial, fix 1).

The chat functions tell the surfaces apart as core/surface.py does: the request path when it is
known, else the first payload (a ``type`` starting with ``response.``). The provider is the
loopback ``OAPIServer``; the clients are the real openai SDK, httpx and requests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import requests

from pytest_oapi_stream import (
    CheckedChunks,
    SourceError,
    aassert_valid_chunk_stream,
    acheck_chunk_stream,
    assert_valid_chunk_stream,
    check_chunk_stream,
    iter_checked_chunks,
)
from pytest_oapi_stream.chat.check import check_lean
from pytest_oapi_stream.server import OAPIServer

CORPUS = Path(__file__).parent.parent / "data" / "corpus-responses" / "openai__gpt-4o_text.sse"
USE = "check_response_stream / assert_valid_response_stream"
BODY = {"model": "gpt-4o", "input": "hi", "stream": True}


@pytest.fixture
def server() -> Iterator[OAPIServer]:
    with OAPIServer() as srv:
        srv.stream(text=["Hello", " there"])
        yield srv


_UNNAMED = {"bytes", "text", "iterable", "async iterable", "chunk list"}


def _refused(info: pytest.ExceptionInfo[SourceError], given: str, why: str) -> None:
    """The message names the source when it has a name (a path, a response), else starts with
    what the stream is: "bytes: " would tell the caller nothing."""
    text = str(info.value)
    where = "" if given in _UNNAMED else f"{given}: "
    assert text.startswith(f"{where}this is a Responses API stream"), text
    assert why in text and USE in text, text


def _sdk(srv: OAPIServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0)


def test_an_openai_responses_stream_is_refused_by_its_path(server: OAPIServer) -> None:
    stream = _sdk(server).responses.create(model="gpt-4o", input="hi", stream=True)
    with pytest.raises(SourceError) as info:
        assert_valid_chunk_stream(stream)
    _refused(info, "openai Stream", "request path /v1/responses")


def test_an_async_openai_responses_stream_is_refused(server: OAPIServer) -> None:
    async def run() -> None:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
        stream = await client.responses.create(model="gpt-4o", input="hi", stream=True)
        await aassert_valid_chunk_stream(stream)

    with pytest.raises(SourceError) as info:
        asyncio.run(run())
    _refused(info, "openai AsyncStream", "request path /v1/responses")


def test_httpx_and_requests_responses_from_a_responses_url_are_refused(
    server: OAPIServer,
) -> None:
    url = server.base_url + "/responses?api-version=secret-looking"
    with httpx.Client() as client, client.stream("POST", url, json=BODY) as resp:
        for call in (check_chunk_stream, lambda s: list(iter_checked_chunks(s)), CheckedChunks):
            with pytest.raises(SourceError) as info:
                call(resp)
            _refused(info, "httpx response", "request path /v1/responses ")
            assert "secret-looking" not in str(info.value)  # the path alone, never the query
    resp2 = requests.post(url, json=BODY, stream=True)
    with pytest.raises(SourceError) as info:
        check_chunk_stream(resp2)
    _refused(info, "requests response", "request path /v1/responses ")


def test_a_responses_body_is_refused_by_its_first_payload(server: OAPIServer) -> None:
    body = httpx.post(server.base_url + "/responses", json=BODY).content
    why = "its first payload is a response.created event"
    for source, given in [
        (body, "bytes"),
        (CORPUS.read_bytes(), "bytes"),
        (CORPUS.read_text(), "text"),
        (CORPUS, str(CORPUS)),
        ([body[:7], body[7:]], "iterable"),
    ]:
        with pytest.raises(SourceError) as info:
            check_chunk_stream(source)
        _refused(info, given, why)
        with pytest.raises(SourceError) as info:
            assert_valid_chunk_stream(source)
        _refused(info, given, why)
    with pytest.raises(SourceError) as info:
        check_lean(CORPUS)
    _refused(info, str(CORPUS), why)
    taken: list[Any] = []
    with pytest.raises(SourceError) as info:
        taken.extend(iter_checked_chunks(body))
    assert taken == []  # refused before any chunk is handed out
    _refused(info, "bytes", why)


def test_an_async_responses_body_is_refused_by_its_first_payload() -> None:
    body = CORPUS.read_bytes()

    async def pieces() -> AsyncIterator[bytes]:
        yield body[:100]
        yield body[100:]

    async def check() -> None:
        await acheck_chunk_stream(pieces())

    async def iterate() -> None:
        async for _ in CheckedChunks(pieces()):
            pass

    for run in (check, iterate):
        with pytest.raises(SourceError) as info:
            asyncio.run(run())
        _refused(info, "async iterable", "its first payload is a response.created event")


def test_a_list_of_responses_event_dicts_is_refused() -> None:
    events = [
        json.loads(line[5:])
        for line in CORPUS.read_text().splitlines()
        if line.startswith("data:") and line[5:].strip() != "[DONE]"
    ]
    for call in (check_chunk_stream, assert_valid_chunk_stream, lambda s: list(CheckedChunks(s))):
        with pytest.raises(SourceError) as info:
            call(events)
        _refused(info, "chunk list", "its first payload is a response.created event")


def test_a_chat_stream_is_still_judged_and_the_path_refuses_first(server: OAPIServer) -> None:
    chat = httpx.post(
        server.base_url + "/chat/completions",
        json={"model": "gpt-4o", "messages": [], "stream": True},
    )
    assert check_chunk_stream(chat).ok
    assert len(list(iter_checked_chunks(chat.content))) >= 3
    # The request path decides when it is known: a chat body said to come from /responses...
    with pytest.raises(SourceError, match="request path /v1/responses"):
        check_chunk_stream(chat.content, url=server.base_url + "/responses")
    # ...and a Responses body said to come from /chat/completions is refused all the same: its
    # payloads are no chat chunks to judge (a cascade of chat errors would hide the cause).
    with pytest.raises(SourceError, match=r"first payload is a response\.created event"):
        check_chunk_stream(CORPUS.read_bytes(), url=server.base_url + "/chat/completions")
