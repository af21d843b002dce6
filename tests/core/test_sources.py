"""One entry point for every source: each reaches the same verdict through real clients.

The stream is served by the loopback ``oapi_server`` (a real HTTP server on 127.0.0.1 with
chunked transfer encoding) and read by the real clients users have: the openai SDK (sync and
async, over httpx2), httpx and httpx2 (sync and async, streamed and read) and requests.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import openai
import pytest
import requests

from pytest_oapi_stream import (
    ChatCompletionChunk,
    CheckedChunks,
    SourceError,
    aassert_valid_chunk_stream,
    acheck_chunk_stream,
    assert_valid_chunk_stream,
    check_chunk_stream,
)
from pytest_oapi_stream.server import OAPIServer

DATA = Path(__file__).parents[1] / "data"
SAMPLE = DATA / "corpus" / "openai__gpt-4o_tool-calls-parallel.sse"
BODY = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def served(oapi_server: OAPIServer) -> OAPIServer:
    oapi_server.serve_sse(SAMPLE.read_bytes())
    return oapi_server


def _expected() -> tuple[list[str], int]:
    report = check_chunk_stream(SAMPLE, profile="openai")
    assert report.ok and report.stream is not None
    return [
        m.tool_calls[i].name or "" for m in report.stream.messages for i in range(len(m.tool_calls))
    ], len(report.stream.chunks)


EXPECTED_TOOLS, EXPECTED_CHUNKS = _expected()


def _same(stream: Any) -> None:
    names = [c.name for m in stream.messages for c in m.tool_calls]
    assert names == EXPECTED_TOOLS
    assert len(stream.chunks) == EXPECTED_CHUNKS
    assert all(c.parsed_arguments is not None for m in stream.messages for c in m.tool_calls)


def test_bytes_str_path_and_pieces() -> None:
    data = SAMPLE.read_bytes()
    for source in (
        data,
        data.decode(),
        SAMPLE,
        [data[:7], data[7:500], data[500:]],
        iter([data.decode()]),
    ):
        _same(assert_valid_chunk_stream(source, profile="openai"))


def test_httpx_streamed_and_read(served: OAPIServer) -> None:
    url = served.base_url + "/chat/completions"
    with httpx.Client() as client:
        with client.stream("POST", url, json=BODY) as resp:
            report = check_chunk_stream(resp)
        assert report.ok, report.format()
        _same(report.stream)
        resp2 = client.post(url, json=BODY)
        _same(assert_valid_chunk_stream(resp2))


def test_httpx_reports_http_envelope(oapi_server: OAPIServer) -> None:
    oapi_server.serve_sse(SAMPLE.read_bytes())
    with httpx.Client() as client:
        resp = client.post(oapi_server.base_url + "/chat/completions", json=BODY)
    resp.headers["content-type"] = "application/json"
    report = check_chunk_stream(resp, profile="openai")
    assert "OAS002" in report.codes()


def test_httpx2_streamed(served: OAPIServer) -> None:
    with (
        httpx2.Client() as client,
        client.stream("POST", served.base_url + "/chat/completions", json=BODY) as resp,
    ):
        _same(assert_valid_chunk_stream(resp))


def test_requests_streamed_and_read(served: OAPIServer) -> None:
    url = served.base_url + "/chat/completions"
    with requests.post(url, json=BODY, stream=True, timeout=10) as resp:
        _same(assert_valid_chunk_stream(resp))
    resp = requests.post(url, json=BODY, timeout=10)
    _ = resp.content
    _same(assert_valid_chunk_stream(resp))


def test_openai_sdk_stream_is_read_raw(served: OAPIServer) -> None:
    client = openai.OpenAI(base_url=served.base_url, api_key="test")
    stream = client.chat.completions.create(
        model="gpt-4o", stream=True, messages=[{"role": "user", "content": "hi"}]
    )
    report = check_chunk_stream(stream)
    assert report.ok, report.format()
    assert report.profile_reason.startswith("auto")
    _same(report.stream)


def test_openai_sdk_chunk_objects(served: OAPIServer) -> None:
    client = openai.OpenAI(base_url=served.base_url, api_key="test")
    stream = client.chat.completions.create(
        model="gpt-4o", stream=True, messages=[{"role": "user", "content": "hi"}]
    )
    chunks = list(stream)
    _same(assert_valid_chunk_stream(chunks, profile="openai"))


@pytest.mark.anyio
async def test_openai_async_stream(served: OAPIServer) -> None:
    client = openai.AsyncOpenAI(base_url=served.base_url, api_key="test")
    stream = await client.chat.completions.create(
        model="gpt-4o", stream=True, messages=[{"role": "user", "content": "hi"}]
    )
    _same(await aassert_valid_chunk_stream(stream))
    await client.close()


@pytest.mark.anyio
async def test_httpx_async_streamed(served: OAPIServer) -> None:
    async with (
        httpx.AsyncClient() as client,
        client.stream("POST", served.base_url + "/chat/completions", json=BODY) as resp,
    ):
        report = await acheck_chunk_stream(resp)
    assert report.ok, report.format()
    _same(report.stream)


@pytest.mark.anyio
async def test_async_iterable_and_iterating_mode() -> None:
    data = SAMPLE.read_bytes()

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 33):
            yield data[i : i + 33]

    _same(await aassert_valid_chunk_stream(pieces(), profile="openai"))
    seen = [c async for c in CheckedChunks(pieces(), profile="openai")]
    assert len(seen) == EXPECTED_CHUNKS
    assert all(isinstance(c, ChatCompletionChunk) for c in seen)


def test_async_source_in_sync_api_is_a_clear_error() -> None:
    async def pieces() -> AsyncIterator[bytes]:
        yield b""

    with pytest.raises(TypeError, match="acheck_chunk_stream"):
        check_chunk_stream(pieces())


def test_list_of_dicts_skips_framing() -> None:
    dicts = [
        json.loads(line[6:])
        for line in SAMPLE.read_text().splitlines()
        if line.startswith("data: {")
    ]
    report = check_chunk_stream(dicts, profile="openai")
    assert report.ok
    assert not any(v.code in {"OAS003", "OAS005", "OAS008"} for v in report.violations)


def test_bad_list_item_is_named() -> None:
    def gen() -> Iterator[Any]:
        yield {"id": "x"}
        yield 3

    with pytest.raises(SourceError, match="item 1 of the chunk list is int"):
        check_chunk_stream(gen())
