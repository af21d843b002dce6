"""Record and replay with real clients against a real loopback server (``oapi_server``).

Each client (openai SDK sync/async on httpx2, httpx sync/async, httpx2 sync/async, requests)
records a chunked SSE stream into a cassette, then replays it with the server stopped; the
replayed body must reach raw clients in several pieces, split inside UTF-8 characters.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import httpx2
import openai
import pytest
import requests

from pytest_oapi_stream.recording import cassettes as c
from pytest_oapi_stream.server import OAPIServer

TEXT = "Héllo wörld, 東京 🙂 — streamed in many chunks to be sure."
BODY = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "hi"}],
    "stream": True,
    "stream_options": {"include_usage": True},
}


@pytest.fixture
def server(oapi_server: OAPIServer) -> OAPIServer:
    return oapi_server.stream(text=TEXT, usage=True)


def _text_of(sse: bytes) -> str:
    out = []
    for line in sse.decode("utf-8").splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            for choice in json.loads(line[6:]).get("choices", []):
                out.append(choice["delta"].get("content") or "")
    return "".join(out)


Result = tuple[str, list[bytes]]  # the streamed text, the raw pieces (empty for SDK clients)


def _openai(url: str) -> Result:
    client = openai.OpenAI(base_url=url, api_key="sk-test-secret-0123456789", max_retries=0)
    stream = client.chat.completions.create(**BODY)
    return "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices), []


def _openai_async(url: str) -> Result:
    async def run() -> Result:
        client = openai.AsyncOpenAI(
            base_url=url, api_key="sk-test-secret-0123456789", max_retries=0
        )
        stream = await client.chat.completions.create(**BODY)
        text = "".join([ch.choices[0].delta.content or "" async for ch in stream if ch.choices])
        await client.close()
        return text, []

    return asyncio.run(run())


def _httpx_like(module: Any) -> Callable[[str], Result]:
    def run(url: str) -> Result:
        with (
            module.Client() as client,
            client.stream("POST", url + "/chat/completions", json=BODY) as response,
        ):
            pieces = list(response.iter_raw())
        return _text_of(b"".join(pieces)), pieces

    return run


def _httpx_like_async(module: Any) -> Callable[[str], Result]:
    def run(url: str) -> Result:
        async def go() -> Result:
            async with (
                module.AsyncClient() as client,
                client.stream("POST", url + "/chat/completions", json=BODY) as response,
            ):
                pieces = [p async for p in response.aiter_raw()]
            return _text_of(b"".join(pieces)), pieces

        return asyncio.run(go())

    return run


def _requests(url: str) -> Result:
    with requests.post(url + "/chat/completions", json=BODY, stream=True, timeout=10) as response:
        pieces = list(response.iter_content(chunk_size=None))
    return _text_of(b"".join(pieces)), pieces


def _aiohttp(url: str) -> Result:
    aiohttp = pytest.importorskip("aiohttp")

    async def go() -> Result:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url + "/chat/completions", json=BODY) as response,
        ):
            body = await response.read()
        # vcrpy replays an aiohttp body in one piece (no re-chunking hook): no piece check.
        return _text_of(body), []

    return asyncio.run(go())


CLIENTS: dict[str, Callable[[str], Result]] = {
    "aiohttp": _aiohttp,
    "openai": _openai,
    "openai-async": _openai_async,
    "httpx": _httpx_like(httpx),
    "httpx-async": _httpx_like_async(httpx),
    "httpx2": _httpx_like(httpx2),
    "httpx2-async": _httpx_like_async(httpx2),
    "requests": _requests,
}


def _session(path: Path, mode: str, **kw: Any) -> c.CassetteSession:
    options = c.CassetteOptions(path=path, mode=mode, rootpath=path.parent, nodeid="t.py::t", **kw)
    session = c.CassetteSession(options)
    session.start()
    return session


@pytest.mark.parametrize("client", CLIENTS)
def test_record_then_replay_with_the_server_gone(
    client: str, server: OAPIServer, tmp_path: Path
) -> None:
    run = CLIENTS[client]
    path = tmp_path / "c.yaml"
    recording = _session(path, "all")
    try:
        recorded_text, _ = run(server.base_url)
    finally:
        assert recording.stop(save=True)
    assert recorded_text == TEXT
    assert len(server.requests) == 1
    url = server.base_url
    server.stop()

    replay = _session(path, "replay")
    try:
        text, pieces = run(url)
        [interaction] = replay.interactions()
    finally:
        replay.stop(save=False)
    assert text == TEXT
    assert interaction.is_chat_stream and not interaction.recorded
    assert interaction.request_json == BODY
    if pieces:  # raw clients see the body in pieces, one of them cut inside a character
        assert len(pieces) > 10
        assert any(p and 0xC0 <= p[-1] <= 0xF7 for p in pieces[:-1])
    cassette = path.read_text(encoding="utf-8")
    assert "sk-test-secret" not in cassette
    assert "string: |+\n        data: {" in cassette


def test_replay_matches_the_normalised_json_body(server: OAPIServer, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    recording = _session(path, "all")
    httpx.post(server.base_url + "/chat/completions", json=BODY).read()
    recording.stop(save=True)

    replay = _session(path, "replay")
    try:
        reordered = json.dumps(dict(reversed(list(BODY.items()))), indent=4)
        r = httpx.post(server.base_url + "/chat/completions", content=reordered)
        assert _text_of(r.content) == TEXT
        with pytest.raises(c.UnmatchedRequestError, match="differs in body") as info:
            httpx.post(server.base_url + "/chat/completions", json={**BODY, "model": "gpt-4o"})
        assert '-  "model": "gpt-4o-mini",' in str(info.value)
        assert "Re-record it with: pytest --oapi-record t.py::t" in str(info.value)
        assert len(replay.unmatched) == 1
    finally:
        replay.stop(save=False)
    assert len(server.requests) == 1  # the replay never reached the server


def test_unmatched_request_with_nothing_similar(server: OAPIServer, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    recording = _session(path, "all")
    httpx.post(server.base_url + "/chat/completions", json=BODY).read()
    recording.stop(save=True)
    replay = _session(path, "replay")
    try:
        with pytest.raises(c.UnmatchedRequestError, match="Nothing in its 1 interaction"):
            httpx.get("https://other.example:8443/x?y=1")
    finally:
        replay.stop(save=False)


def test_unmatched_request_with_requests_raises_our_error(
    server: OAPIServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.yaml"
    recording = _session(path, "all")
    requests.post(server.base_url + "/chat/completions", json=BODY, timeout=10)
    recording.stop(save=True)
    replay = _session(path, "replay")
    try:
        requests.post(server.base_url + "/chat/completions", json=BODY, timeout=10)
        with pytest.raises(c.UnmatchedRequestError, match="already played"):
            requests.post(server.base_url + "/chat/completions", json=BODY, timeout=10)
    finally:
        replay.stop(save=False)


def test_key_cookie_and_query_key_never_reach_disk(server: OAPIServer, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    recording = _session(path, "all", filter_headers=("x-custom-token",))
    headers = {
        "Authorization": "Bearer sk-proj-REALKEY-0123456789",
        "Cookie": "session=cookie-value-0123456789; theme=dark",
        "X-Custom-Token": "private-value-0123456789",
        "api-key": "azure-key-0123456789",
    }
    httpx.post(
        server.base_url + "/chat/completions?key=gemini-key-0123456789&api-version=2024",
        json=BODY,
        headers=headers,
    ).read()
    recording.stop(save=True)
    text = path.read_text(encoding="utf-8")
    for secret in ("REALKEY", "cookie-value", "private-value", "azure-key", "gemini-key"):
        assert secret not in text
    assert "api-version=2024" in text
    assert text.count("REDACTED") >= 5
    # the redacted request still replays: filters apply to both sides of the match
    replay = _session(path, "replay", filter_headers=("x-custom-token",))
    try:
        r = httpx.post(
            server.base_url + "/chat/completions?key=another-key-0123456789&api-version=2024",
            json=BODY,
        )
        assert _text_of(r.content) == TEXT
    finally:
        replay.stop(save=False)


def test_gzip_body_stored_decoded_and_response_secrets_redacted(tmp_path: Path) -> None:
    sse = b'data: {"choices":[]}\n\ndata: [DONE]\n\n'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={
                "content-type": "text/event-stream",
                "content-encoding": "gzip",
                "set-cookie": "__cf_bm=cloudflare-cookie-0123456789; path=/",
                "openai-organization": "org-REALORG0123456789",
                "openai-project": "proj_REALPROJECT0123",
            },
            content=gzip.compress(sse),
        )

    path = tmp_path / "c.yaml"
    recording = _session(path, "all")
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        assert client.post("https://api.openai.com/v1/chat/completions", json=BODY).content == sse
    recording.stop(save=True)
    text = path.read_text(encoding="utf-8")
    assert 'string: |+\n        data: {"choices":[]}\n' in text
    assert "content-encoding" not in text
    for secret in ("cloudflare-cookie", "REALORG", "REALPROJECT"):
        assert secret not in text


def test_failing_recording_keeps_the_previous_cassette(server: OAPIServer, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("# the previous cassette\nversion: 1\ninteractions: []\n")
    recording = _session(path, "all")
    httpx.post(server.base_url + "/chat/completions", json=BODY).read()
    assert recording.stop(save=False) is False
    assert path.read_text().startswith("# the previous cassette")


def test_live_mode_writes_nothing_and_missing_mode_records_once(
    server: OAPIServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.yaml"
    live = _session(path, "live")
    httpx.post(server.base_url + "/chat/completions", json=BODY).read()
    assert [i.recorded for i in live.interactions()] == [True]
    assert live.stop(save=True) is False
    assert not path.exists()

    first = _session(path, "missing")
    assert first.mode == "record"
    httpx.post(server.base_url + "/chat/completions", json=BODY).read()
    assert first.stop(save=True)
    second = _session(path, "missing")
    assert second.mode == "replay"
    httpx.post(server.base_url + "/chat/completions", json=BODY).read()
    second.stop(save=True)
    assert len(server.requests) == 2


def test_replay_of_a_missing_cassette_says_how_to_record(tmp_path: Path) -> None:
    options = c.CassetteOptions(path=tmp_path / "x" / "c.yaml", rootpath=tmp_path, nodeid="t.py::t")
    with pytest.raises(c.CassetteMissingError) as info:
        c.CassetteSession(options).start()
    assert str(info.value) == (
        "oapi-stream: cassette x/c.yaml does not exist (replay mode, network blocked).\n"
        "Record it with: pytest --oapi-record t.py::t"
    )


def test_corrupt_cassette_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("interactions: [\n")
    options = c.CassetteOptions(path=path, rootpath=tmp_path, nodeid="t.py::t")
    with pytest.raises(c.CassetteError) as info:
        c.CassetteSession(options).start()
    assert str(info.value) == (
        "oapi-stream: cassette c.yaml: not valid YAML at line 2, column 1: did not find expected "
        "node content (while parsing a flow node)\n"
        "Fix it or re-record it with: pytest --oapi-record t.py::t"
    )


def test_replay_blocks_unpatched_network_access(server: OAPIServer, tmp_path: Path) -> None:
    import socket

    path = tmp_path / "c.yaml"
    path.write_text("version: 1\ninteractions: []\n")
    replay = _session(path, "replay")
    try:
        with pytest.raises(c.NetworkBlockedError, match="--oapi-record or --oapi-live"):
            socket.create_connection(("192.0.2.1", 443), timeout=1)
    finally:
        replay.stop(save=False)


def test_oapi_vcr_config_cannot_take_plugin_owned_keys(tmp_path: Path) -> None:
    options = c.CassetteOptions(
        path=tmp_path / "c.yaml", mode="all", vcr_config={"record_mode": "once"}
    )
    with pytest.raises(c.CassetteError, match="may not set record_mode"):
        c.CassetteSession(options).start()
