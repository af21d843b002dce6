"""Sources from LangChain and LiteLLM, and a str that is a path (issue 9, point 4).

Each source either gets the verdict of the bytes the provider sent, or a TypeError/ValueError
naming the type and what to pass instead; it is never judged from data that is not the wire's.
The provider is the loopback ``OAPIServer``; the clients are the real ``langchain-openai`` and
``litellm`` (in the ``dev`` extra; skipped where they are not installed).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_oapi_stream import (
    CheckedChunks,
    SourceError,
    acheck_chunk_stream,
    check_chunk_stream,
    iter_checked_chunks,
)
from pytest_oapi_stream.server import OAPIServer

# LiteLLM fetches its model price list from the internet at import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

FAULTS = {"change_id_at": 2, "crlf": True}  # OAS015 and OAS003: a verdict worth comparing


@pytest.fixture
def server() -> Iterator[OAPIServer]:
    with OAPIServer() as srv:
        srv.stream(text=["Hello", " there", "!"], faults=FAULTS)
        yield srv


def wire_codes(srv: OAPIServer) -> list[str]:
    body = httpx.post(
        srv.base_url + "/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [], "stream": True},
    ).content
    return check_chunk_stream(body, profile="openai").codes()


def test_a_langchain_message_stream_is_refused_naming_the_type(server: OAPIServer) -> None:
    lc = pytest.importorskip("langchain_openai")
    llm = lc.ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url, api_key="sk-test")
    with pytest.raises(TypeError) as info:
        check_chunk_stream(llm.stream("hi"))
    text = str(info.value)
    assert isinstance(info.value, SourceError)
    assert "langchain_core AIMessageChunk" in text
    assert "@pytest.mark.oapi" in text and "raw response" in text
    with pytest.raises(SourceError, match="AIMessageChunk"):
        check_chunk_stream(list(llm.stream("hi")))


def _litellm() -> Any:
    return pytest.importorskip("litellm")


def _kw(srv: OAPIServer) -> dict[str, Any]:
    return {
        "model": "openai/gpt-4o-mini",
        "api_base": srv.base_url,
        "api_key": "sk-test",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }


def test_litellm_wrapper_iterated_synchronously_gets_the_wire_verdict(server: OAPIServer) -> None:
    litellm = _litellm()
    expected = wire_codes(server)
    assert {"OAS003", "OAS015"} <= set(expected)
    report = check_chunk_stream(litellm.completion(**_kw(server)), profile="openai")
    assert report.codes() == expected
    assert report.source is not None and "litellm CustomStreamWrapper" in report.source
    assert report.stream is not None and report.stream.text == "Hello there!"
    chunks = list(
        iter_checked_chunks(
            litellm.completion(**_kw(server)), profile="openai", ignore=["OAS003", "OAS015"]
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "Hello there!"
    )


def test_litellm_async_wrapper_gets_the_wire_verdict(server: OAPIServer) -> None:
    litellm = _litellm()
    expected = wire_codes(server)

    async def run() -> list[str]:
        wrapper = await litellm.acompletion(**_kw(server))
        return (await acheck_chunk_stream(wrapper, profile="openai")).codes()

    assert asyncio.run(run()) == expected


def test_litellm_rebuilt_chunks_and_a_read_wrapper_are_refused(server: OAPIServer) -> None:
    litellm = _litellm()
    chunks = list(litellm.completion(**_kw(server)))
    with pytest.raises(SourceError, match="LiteLLM rebuilds each chunk"):
        check_chunk_stream(chunks)
    used = litellm.completion(**_kw(server))
    next(iter(used))
    with pytest.raises(SourceError, match="already"):
        check_chunk_stream(used)


def test_an_object_iterable_both_ways_is_read_the_way_it_is_asked() -> None:
    body = Path(__file__).parents[1] / "data" / "corpus" / "openai__gpt-4o_text_include-usage.sse"
    data = body.read_bytes()

    class Both:
        def __init__(self) -> None:
            self.used = ""

        def __iter__(self) -> Iterator[bytes]:
            self.used = "sync"
            yield data

        async def _gen(self) -> AsyncIterator[bytes]:
            self.used = "async"
            yield data

        def __aiter__(self) -> AsyncIterator[bytes]:
            return self._gen()

    expected = check_chunk_stream(data).codes()
    both = Both()
    assert check_chunk_stream(both).codes() == expected and both.used == "sync"
    both = Both()
    assert len(list(CheckedChunks(both, raise_on_error=False))) > 0
    assert both.used == "sync"
    both = Both()
    assert asyncio.run(acheck_chunk_stream(both)).codes() == expected and both.used == "async"


def test_a_str_that_is_a_path_is_refused_with_what_to_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sse = tmp_path / "x.sse"
    sse.write_bytes(b"data: [DONE]\n\n")
    for text in (str(sse), "x.sse"):
        monkeypatch.chdir(tmp_path)
        with pytest.raises(ValueError, match=r"names a file.*pass pathlib\.Path"):
            check_chunk_stream(text)
    with pytest.raises(ValueError, match=r"looks like a file's path \(there is no such file\)"):
        check_chunk_stream(str(tmp_path / "missing.sse"))
    assert check_chunk_stream(Path(sse)).codes() == ["OAS041"]
    assert check_chunk_stream("data: [DONE]\n\n").codes() == ["OAS041"]  # SSE text as ever
