"""A ``requests`` response its client already read, wholly or in part, is refused (fix 2).

Its chunks are gone: judged, what is left would look truncated (OAS008/OAS041). Like an httpx
response, it gets a ``SourceError``, on both surfaces (both read sources through core/sources.py).
The provider is the loopback ``OAPIServer``; the client is the real ``requests``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from pytest_oapi_stream import (
    CheckedChunks,
    SourceError,
    check_chunk_stream,
    check_response_stream,
)
from pytest_oapi_stream.server import OAPIServer

CHAT = {"model": "gpt-4o-mini", "messages": [], "stream": True}
RESP = {"model": "gpt-4o-mini", "input": "hi", "stream": True}
READ = "the requests response was already read by its client (its chunks are gone)"

READS: dict[str, Callable[[requests.Response], Any]] = {
    "iter_content": lambda r: next(r.iter_content(10)),
    "iter_lines": lambda r: next(r.iter_lines()),
    "all iter_content": lambda r: list(r.iter_content(10)),
    "raw.read": lambda r: r.raw.read(5),
}


@pytest.fixture
def server() -> Iterator[OAPIServer]:
    with OAPIServer() as srv:
        srv.stream(text=["Hello", " there", "!"])
        yield srv


@pytest.mark.parametrize("how", list(READS))
def test_a_read_requests_response_is_refused_on_both_surfaces(server: OAPIServer, how: str) -> None:
    for path, body, check in [
        ("/chat/completions", CHAT, check_chunk_stream),
        ("/chat/completions", CHAT, CheckedChunks),
        ("/responses", RESP, check_response_stream),
    ]:
        resp = requests.post(server.base_url + path, json=body, stream=True)
        READS[how](resp)
        with pytest.raises(SourceError, match=re.escape(READ)):
            check(resp)


def test_an_unread_or_wholly_loaded_requests_response_is_judged(server: OAPIServer) -> None:
    url = server.base_url + "/chat/completions"
    assert check_chunk_stream(requests.post(url, json=CHAT, stream=True)).ok
    loaded = requests.post(url, json=CHAT, stream=True)
    assert loaded.content  # .content keeps the body: it can still be judged
    assert check_chunk_stream(loaded).ok
    assert check_chunk_stream(requests.post(url, json=CHAT)).ok
    missing = requests.post(server.base_url + "/nowhere", json=CHAT, stream=True)
    assert check_chunk_stream(missing).codes() == ["OAS002"]
    resp = requests.post(server.base_url + "/responses", json=RESP, stream=True)
    assert check_response_stream(resp).ok
