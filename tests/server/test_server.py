"""``OAPIServer`` end to end: a real loopback server, real clients, no mocks.

Clients: the openai SDK (sync and async, over httpx2), httpx (sync and async) and requests. What
a client received is captured on the wire (a tee on the SDK's transport, the raw body for httpx)
and checked with the core checker, so each test shows both halves: the fault or deviation
reaches the client, and ``check_chunk_stream`` reports the rule it breaks.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import httpx2
import openai
import pytest
import requests
import yaml

from pytest_oapi_stream import check_chunk_stream
from pytest_oapi_stream.chat import builder as b
from pytest_oapi_stream.chat import faults as f
from pytest_oapi_stream.server import OAPIServer, RecordedRequest

CORPUS = Path(__file__).parents[1] / "data" / "corpus"
#: One TLS context for every client: building one per client costs ~45 ms (CA bundle load),
#: which would dominate these loopback tests.
SSL = ssl.create_default_context()
TOOLS = [{"name": "get_weather", "arguments": {"city": "Paris"}}]
MESSAGES = [{"role": "user", "content": "Say hello"}]


# --------------------------------------------------------------------------- wire capture


class _Tee(httpx2.SyncByteStream):
    def __init__(self, inner: Any, sink: list[bytes]) -> None:
        self.inner, self.sink = inner, sink

    def __iter__(self) -> Iterator[bytes]:
        for piece in self.inner:
            self.sink.append(piece)
            yield piece

    def close(self) -> None:
        self.inner.close()


class _ATee(httpx2.AsyncByteStream):
    def __init__(self, inner: Any, sink: list[bytes]) -> None:
        self.inner, self.sink = inner, sink

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for piece in self.inner:
            self.sink.append(piece)
            yield piece

    async def aclose(self) -> None:
        await self.inner.aclose()


class TeeTransport(httpx2.HTTPTransport):
    """The SDK's real transport, keeping a copy of every response body piece as received."""

    def __init__(self) -> None:
        super().__init__(verify=SSL)
        self.bodies: list[list[bytes]] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        resp = super().handle_request(request)
        sink: list[bytes] = []
        self.bodies.append(sink)
        resp.stream = _Tee(resp.stream, sink)
        return resp


class ATeeTransport(httpx2.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__(verify=SSL)
        self.bodies: list[list[bytes]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        resp = await super().handle_async_request(request)
        sink: list[bytes] = []
        self.bodies.append(sink)
        resp.stream = _ATee(resp.stream, sink)
        return resp


@dataclass
class Outcome:
    """What one client got: parsed chunks (SDK), raw body pieces, the error raised, status."""

    client: str
    chunks: list[Any] = field(default_factory=list)
    pieces: list[bytes] = field(default_factory=list)
    error: BaseException | None = None
    status: int | None = None
    response: Any = None
    elapsed: float = 0.0

    @property
    def raw(self) -> bytes:
        return b"".join(self.pieces)

    @property
    def text(self) -> str:
        if self.chunks:
            return "".join(c.choices[0].delta.content or "" for c in self.chunks if c.choices)
        return "".join(
            ch["delta"].get("content") or ""
            for it in b.items_from_sse(self.raw)
            if isinstance(it, dict)
            for ch in it.get("choices") or ()
            if isinstance(ch.get("delta"), dict) and isinstance(ch["delta"].get("content"), str)
        )

    def report(self, profile: str, body: dict[str, Any]) -> Any:
        return check_chunk_stream(self.raw, profile=profile, request=body)


def http_post(url: str, **kw: Any) -> httpx.Response:
    with httpx.Client(verify=SSL) as client:
        return client.post(url, **kw)


def http_request(method: str, url: str, **kw: Any) -> httpx.Response:
    with httpx.Client(verify=SSL) as client:
        return client.request(method, url, **kw)


@contextlib.contextmanager
def http_stream(method: str, url: str, **kw: Any) -> Iterator[httpx.Response]:
    with httpx.Client(verify=SSL) as client, client.stream(method, url, **kw) as r:
        yield r


def body_for(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, **extra}


def run_openai(server: OAPIServer, body: dict[str, Any], timeout: float = 5.0) -> Outcome:
    tee = TeeTransport()
    out = Outcome("openai")
    http = httpx2.Client(transport=tee)
    client = openai.OpenAI(
        base_url=server.base_url, api_key="test", max_retries=0, timeout=timeout, http_client=http
    )
    t0 = time.perf_counter()
    try:
        stream = client.chat.completions.create(**body)
        for chunk in stream:
            out.chunks.append(chunk)
        out.status = stream.response.status_code
    except openai.APIError as exc:
        out.error = exc
        out.response = getattr(exc, "response", None)
        out.status = getattr(exc, "status_code", None)
    finally:
        out.elapsed = time.perf_counter() - t0
        client.close()
    out.pieces = tee.bodies[-1] if tee.bodies else []
    return out


def run_openai_async(server: OAPIServer, body: dict[str, Any], timeout: float = 5.0) -> Outcome:
    async def main() -> Outcome:
        tee = ATeeTransport()
        out = Outcome("openai-async")
        http = httpx2.AsyncClient(transport=tee)
        client = openai.AsyncOpenAI(
            base_url=server.base_url,
            api_key="test",
            max_retries=0,
            timeout=timeout,
            http_client=http,
        )
        t0 = time.perf_counter()
        try:
            stream = await client.chat.completions.create(**body)
            async for chunk in stream:
                out.chunks.append(chunk)
            out.status = stream.response.status_code
        except openai.APIError as exc:
            out.error = exc
            out.response = getattr(exc, "response", None)
            out.status = getattr(exc, "status_code", None)
        finally:
            out.elapsed = time.perf_counter() - t0
            await client.close()
        out.pieces = tee.bodies[-1] if tee.bodies else []
        return out

    return asyncio.run(main())


def run_httpx(server: OAPIServer, body: dict[str, Any], timeout: float = 5.0) -> Outcome:
    out = Outcome("httpx")
    t0 = time.perf_counter()
    with httpx.Client(timeout=timeout, verify=SSL) as client:
        try:
            with client.stream("POST", server.base_url + "/chat/completions", json=body) as r:
                out.status = r.status_code
                out.response = r
                if r.status_code != 200:  # read whole, so the checker can see the envelope
                    out.pieces.append(r.read())
                else:
                    out.pieces.extend(r.iter_raw())
        except httpx.HTTPError as exc:
            out.error = exc
    out.elapsed = time.perf_counter() - t0
    return out


def run_httpx_async(server: OAPIServer, body: dict[str, Any], timeout: float = 5.0) -> Outcome:
    async def main() -> Outcome:
        out = Outcome("httpx-async")
        t0 = time.perf_counter()
        async with httpx.AsyncClient(timeout=timeout, verify=SSL) as client:
            try:
                url = server.base_url + "/chat/completions"
                async with client.stream("POST", url, json=body) as r:
                    out.status = r.status_code
                    out.response = r
                    if r.status_code != 200:
                        out.pieces.append(await r.aread())
                    else:
                        async for piece in r.aiter_raw():
                            out.pieces.append(piece)
            except httpx.HTTPError as exc:
                out.error = exc
        out.elapsed = time.perf_counter() - t0
        return out

    return asyncio.run(main())


def run_requests(server: OAPIServer, body: dict[str, Any], timeout: float = 5.0) -> Outcome:
    out = Outcome("requests")
    t0 = time.perf_counter()
    try:
        with requests.post(
            server.base_url + "/chat/completions", json=body, stream=True, timeout=timeout
        ) as r:
            out.status = r.status_code
            out.response = r
            for piece in r.iter_content(chunk_size=None):
                out.pieces.append(piece)
    except requests.RequestException as exc:
        out.error = exc
    out.elapsed = time.perf_counter() - t0
    return out


CLIENTS = {
    "openai": run_openai,
    "openai-async": run_openai_async,
    "httpx": run_httpx,
    "httpx-async": run_httpx_async,
}
SDKS = ("openai", "openai-async")


@pytest.fixture
def server() -> Iterator[OAPIServer]:
    with OAPIServer() as srv:
        yield srv
    assert srv.errors == [], "\n".join(srv.errors)


# --------------------------------------------------------------------------- basics


@pytest.mark.parametrize("client", [*CLIENTS, "requests"])
def test_default_stream_reaches_every_client_and_passes_strict(
    server: OAPIServer, client: str
) -> None:
    runner = run_requests if client == "requests" else CLIENTS[client]
    body = body_for(stream_options={"include_usage": True})
    out = runner(server, body)
    assert out.error is None and out.status == 200
    assert out.text == b.DEFAULT_TEXT
    report = out.report("openai", body)
    assert [v.line() for v in report.violations if v.severity != "info"] == []
    if client in SDKS:
        assert out.chunks[-1].usage.total_tokens > 0
    # Every SSE event is its own write: the client sees many pieces, not one body.
    assert len(out.pieces) >= 5


def test_builder_options_reach_the_sdk(server: OAPIServer) -> None:
    server.stream("Bonjour", reasoning="Thinking.", n=2)
    out = run_openai(server, body_for())
    by_choice: dict[int, str] = {}
    for c in out.chunks:
        for ch in c.choices:
            by_choice[ch.index] = by_choice.get(ch.index, "") + (ch.delta.content or "")
    assert by_choice == {0: "Bonjour", 1: "Bonjour"}
    reasoning = [
        c.choices[0].delta.model_extra.get("reasoning_content") for c in out.chunks if c.choices
    ]
    assert "Thinking." in reasoning


def test_tool_calls_reach_the_sdk(server: OAPIServer) -> None:
    server.stream(tool_calls=TOOLS)
    out = run_openai(server, body_for(tools=[{"type": "function", "function": {"name": "x"}}]))
    frags = [tc for c in out.chunks if c.choices for tc in c.choices[0].delta.tool_calls or ()]
    assert frags[0].function.name == "get_weather" and frags[0].id.startswith("call_")
    assert json.loads("".join(fr.function.arguments or "" for fr in frags)) == {"city": "Paris"}
    assert out.chunks[-1].choices[0].finish_reason == "tool_calls"


def test_openai_stream_helper_accumulates(server: OAPIServer) -> None:
    # The SDK's own accumulator (chat.completions.stream) over the built tool-call stream.
    server.stream("Checking.", tool_calls=TOOLS)
    client = openai.OpenAI(
        base_url=server.base_url,
        api_key="test",
        max_retries=0,
        http_client=httpx2.Client(verify=SSL),
    )
    with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        final = stream.get_final_completion()
    client.close()
    msg = final.choices[0].message
    assert msg.content == "Checking."
    assert msg.tool_calls[0].function.arguments == '{"city":"Paris"}'


def test_non_stream_request_gets_a_completion(server: OAPIServer) -> None:
    server.stream("Hi there.", tool_calls=TOOLS)
    client = openai.OpenAI(
        base_url=server.base_url,
        api_key="test",
        max_retries=0,
        http_client=httpx2.Client(verify=SSL),
    )
    done = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    client.close()
    assert done.object == "chat.completion"
    assert done.choices[0].message.content == "Hi there."
    assert done.choices[0].message.tool_calls[0].function.name == "get_weather"
    assert done.usage is not None and done.usage.total_tokens > 0


def test_models_endpoint(server: OAPIServer) -> None:
    client = openai.OpenAI(
        base_url=server.base_url,
        api_key="test",
        max_retries=0,
        http_client=httpx2.Client(verify=SSL),
    )
    assert [m.id for m in client.models.list()] == ["gpt-4o-mini"]
    assert client.models.retrieve("gpt-4o").id == "gpt-4o"
    client.close()


def test_requests_are_recorded(server: OAPIServer) -> None:
    run_openai(server, body_for(temperature=0.5))
    rec = server.last_request
    assert isinstance(rec, RecordedRequest)
    assert rec.method == "POST" and rec.path == "/v1/chat/completions" and rec.stream
    assert rec.headers["authorization"] == "Bearer test"
    assert rec.json["temperature"] == 0.5 and json.loads(rec.body) == rec.json
    assert any(k.lower() == "content-type" for k, _ in rec.raw_headers)
    assert server.requests == [rec]


def test_model_usage_and_n_follow_the_request(server: OAPIServer) -> None:
    out = run_openai(server, body_for(model="my-model", n=2))
    assert {c.model for c in out.chunks} == {"my-model"}
    assert {c.choices[0].index for c in out.chunks} == {0, 1}
    assert all(c.usage is None for c in out.chunks)


def test_the_last_stream_set_answers_every_later_request(server: OAPIServer) -> None:
    server.stream("first")
    server.stream("second")
    assert run_httpx(server, body_for()).text == "second"
    assert run_httpx(server, body_for()).text == "second"
    server.reset()
    assert server.requests == []
    assert run_httpx(server, body_for()).text == b.DEFAULT_TEXT


def test_azure_style_paths_work(server: OAPIServer) -> None:
    client = openai.AzureOpenAI(
        azure_endpoint=server.url,
        api_key="test",
        api_version="2024-10-21",
        max_retries=0,
        http_client=httpx2.Client(verify=SSL),
    )
    server.stream("Hallo Welt!", as_provider="azure")
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    chunks = list(stream)
    client.close()
    assert chunks[0].choices == [] and chunks[0].id == ""
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hallo Welt!"
    assert server.last_request is not None
    assert server.last_request.path == "/openai/deployments/gpt-4o/chat/completions"


def test_concurrent_streams(server: OAPIServer) -> None:
    server.stream(" ".join(f"w{i}" for i in range(50)))
    results: list[str] = []

    def worker() -> None:
        results.append(run_httpx(server, body_for()).text)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [" ".join(f"w{i}" for i in range(50))] * 12


# --------------------------------------------------------------------------- sources


@pytest.mark.parametrize("form", ["path", "str-path", "bytes", "text"])
def test_serve_sse_replays_bytes_exactly(server: OAPIServer, form: str) -> None:
    path = CORPUS / "openai__gpt-4o_text_include-usage.sse"
    data = path.read_bytes()
    arg: Any = {"path": path, "str-path": str(path), "bytes": data, "text": data.decode()}[form]
    server.serve_sse(arg)
    out = run_httpx(server, body_for())
    assert out.raw == data
    assert len(out.pieces) > 10  # one write per event


def test_serve_sse_every_corpus_file_byte_for_byte(server: OAPIServer) -> None:
    with httpx.Client(verify=SSL) as client:
        for path in sorted(CORPUS.glob("*.sse")):
            data = path.read_bytes()
            server.serve_sse(path)
            with client.stream("POST", server.base_url + "/chat/completions", json=body_for()) as r:
                assert r.read() == data, path.name


def test_serve_sse_with_chunk_faults_reencodes(server: OAPIServer) -> None:
    path = CORPUS / "deepseek__deepseek-reasoner_reasoning-content.sse"
    server.serve_sse(path, faults={"truncate_after": 5, "crlf": True})
    out = run_httpx(server, body_for())
    assert out.raw.count(b"data: ") == 5 and b"\r\n\r\n" in out.raw
    codes = {v.code for v in check_chunk_stream(out.raw, profile="deepseek").violations}
    assert {"OAS008", "OAS003"} <= codes


def test_serve_sse_answers_non_stream_with_assembled_completion(server: OAPIServer) -> None:
    server.serve_sse(CORPUS / "openai__gpt-4o_tool-call-single.sse")
    r = http_post(server.base_url + "/chat/completions", json={"messages": [], "stream": False})
    done = r.json()
    assert done["object"] == "chat.completion"
    assert done["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "GetWeatherArgs"


def test_serve_chunks(server: OAPIServer) -> None:
    chunks = b.build_chunks(text="From chunks")
    server.serve_chunks(chunks)
    out = run_openai(server, body_for())
    assert out.text == "From chunks" and out.raw.endswith(b"data: [DONE]\n\n")
    server.serve_chunks(chunks, done=False)
    out = run_httpx(server, body_for())
    assert b"[DONE]" not in out.raw
    assert "OAS008" in {v.code for v in out.report("openai", body_for()).violations}


def _write_cassette(path: Path, responses: list[tuple[int, str, bytes]]) -> None:
    interactions = []
    for status, ctype, body in responses:
        headers = {"content-type": [ctype]}
        if body.startswith(b"\x1f\x8b"):
            headers["content-encoding"] = ["gzip"]
        interactions.append(
            {
                "request": {
                    "body": '{"messages": []}',
                    "headers": {},
                    "method": "POST",
                    "uri": "https://api.openai.com/v1/chat/completions",
                },
                "response": {
                    "status": {"code": status, "message": "OK"},
                    "headers": headers,
                    "body": {"string": body if body.startswith(b"\x1f") else body.decode()},
                },
            }
        )
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}))


def test_serve_cassette_in_order_then_repeats_last(server: OAPIServer, tmp_path: Path) -> None:
    one = b.build_sse(text="one")
    two = b.build_sse(text="two")
    cassette = tmp_path / "c.yaml"
    _write_cassette(
        cassette,
        [
            (200, "text/event-stream; charset=utf-8", one),
            (200, "text/event-stream", gzip.compress(two)),
            (429, "application/json", b'{"error": {"message": "slow down"}}'),
        ],
    )
    server.serve_cassette(cassette)
    assert run_httpx(server, body_for()).raw == one
    assert run_openai(server, body_for()).text == "two"
    third = run_openai(server, body_for())
    assert isinstance(third.error, openai.RateLimitError) and "slow down" in str(third.error)
    assert isinstance(run_openai(server, body_for()).error, openai.RateLimitError)


def test_serve_cassette_recorded_by_vcrpy(server: OAPIServer, tmp_path: Path) -> None:
    vcr = pytest.importorskip("vcr")
    server.stream("Recorded once.", usage=True)
    path = tmp_path / "rec.yaml"
    with vcr.VCR().use_cassette(str(path)):
        recorded = http_post(server.base_url + "/chat/completions", json=body_for()).content
    with OAPIServer() as replay:
        replay.serve_cassette(path, faults={"drop_done": True})
        out = run_openai(replay, body_for())
    assert out.text == "Recorded once."
    assert out.raw == recorded.replace(b"data: [DONE]\n\n", b"")


def test_serve_cassette_written_by_the_plugin(server: OAPIServer, tmp_path: Path) -> None:
    from pytest_oapi_stream.recording.cassettes import ReadableYamlSerializer

    body = b.build_sse(text="héllo from a readable cassette", usage=True)
    path = tmp_path / "readable.yaml"
    path.write_text(
        ReadableYamlSerializer.serialize(
            {
                "version": 1,
                "interactions": [
                    {
                        "request": {
                            "method": "POST",
                            "uri": "https://api.openai.com/v1/chat/completions",
                            "body": '{"messages": [], "stream": true}',
                            "headers": {},
                        },
                        "response": {
                            "status": {"code": 200, "message": "OK"},
                            "headers": {"content-type": ["text/event-stream; charset=utf-8"]},
                            "body": {"string": body.decode()},
                        },
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    assert b"body: |" in path.read_bytes()  # the readable literal-block form
    server.serve_cassette(path)
    assert run_httpx(server, body_for()).raw == body


def test_serve_cassette_rejects_non_cassettes(server: OAPIServer, tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("just: text\n")
    with pytest.raises(ValueError, match="not a vcrpy cassette"):
        server.serve_cassette(path)


def test_settings_fail_at_the_call_site(server: OAPIServer) -> None:
    with pytest.raises(ValueError, match="unknown as_provider"):
        server.stream(as_provider="bedrock")
    with pytest.raises(ValueError, match="unknown fault 'dropdone'"):
        server.stream(faults={"dropdone": True})
    with pytest.raises(ValueError, match="truncate_after=99"):
        server.stream(faults={"truncate_after": 99})
    with pytest.raises(ValueError, match="split_utf8 needs a multi-byte character"):
        server.stream("ascii only", faults={"split_utf8": True})
    # A failed setting leaves the previous source in place.
    assert run_httpx(server, body_for()).text == b.DEFAULT_TEXT


# --------------------------------------------------------------------------- faults x clients


def _frags(out: Outcome) -> list[Any]:
    return [tc for c in out.chunks if c.choices for tc in c.choices[0].delta.tool_calls or ()]


def _check_drop_done(out: Outcome) -> None:
    assert out.error is None and b"[DONE]" not in out.raw
    assert out.text == b.DEFAULT_TEXT  # the SDKs do not notice a missing [DONE]


def _check_truncate(out: Outcome) -> None:
    assert out.error is None and out.raw.count(b"data: ") == 3
    if out.client in SDKS:
        assert len(out.chunks) == 3


def _check_change_id(out: Outcome) -> None:
    ids = [c["id"] for c in b.items_from_sse(out.raw) if isinstance(c, dict)]
    assert len(set(ids)) == 2 and ids[2] != ids[3]
    if out.client in SDKS:
        assert len({c.id for c in out.chunks}) == 2


def _check_usage_every_chunk(out: Outcome) -> None:
    if out.client in SDKS:
        assert all(c.usage is not None for c in out.chunks)
    else:
        assert out.raw.count(b'"usage":{') == out.raw.count(b"data: {")


def _check_role_every_delta(out: Outcome) -> None:
    if out.client in SDKS:
        assert all(c.choices[0].delta.role == "assistant" for c in out.chunks)
    else:
        assert out.raw.count(b'"role":"assistant"') == out.raw.count(b"data: {")


def _check_repeat_tool_ids(out: Outcome) -> None:
    if out.client in SDKS:
        frags = _frags(out)
        assert len(frags) > 2 and all(fr.id and fr.function.name for fr in frags)
    else:
        assert out.raw.count(b'"id":"call_') > 2


def _check_tool_index_missing(out: Outcome) -> None:
    if out.client in SDKS:
        frags = _frags(out)
        assert frags and all(fr.index is None for fr in frags)
    else:
        assert b'"tool_calls":[{"id"' in out.raw and b'"index":0,"id"' not in out.raw


def _check_error_event(out: Outcome) -> None:
    if out.client in SDKS:
        assert type(out.error) is openai.APIError
        assert "The server had an error while processing your request" in str(out.error)
        assert len(out.chunks) == 3
    else:
        assert out.error is None and b'data: {"error":{"message":' in out.raw


def _check_crlf(out: Outcome) -> None:
    assert out.raw.count(b"\r\n") == out.raw.count(b"\n") > 0
    assert out.text == b.DEFAULT_TEXT


def _check_keepalive(out: Outcome) -> None:
    assert out.raw.count(b": keep-alive\n\n") == out.raw.count(b"data: {")
    assert out.text == b.DEFAULT_TEXT


def _check_http_status(out: Outcome) -> None:
    if out.client in SDKS:
        assert isinstance(out.error, openai.RateLimitError)
        assert out.error.response.headers["retry-after"] == "1"
        assert out.error.body == {  # type: ignore[union-attr]
            "message": "Rate limit reached for requests. Please try again in 1s.",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    else:
        assert out.status == 429 and out.response.headers["retry-after"] == "1"
        assert json.loads(out.raw)["error"]["code"] == "rate_limit_exceeded"


def _check_split_utf8(out: Outcome) -> None:
    assert out.error is None and out.text == "héllo wörld"
    cut = []
    for piece in out.pieces:
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            cut.append(piece)
    assert cut, "no piece ended inside a character"


def _check_delay(out: Outcome) -> None:
    assert out.error is None and out.text == "a b"
    assert out.elapsed >= 5 * 0.03  # five events, 30 ms each


def _check_stall(out: Outcome) -> None:
    if out.client in SDKS:
        assert isinstance(out.error, openai.APITimeoutError)
        assert len(out.chunks) == 2
    else:
        assert isinstance(out.error, httpx.ReadTimeout)
    assert out.raw.count(b"data: ") == 2 and out.elapsed < 3


def _check_disconnect(out: Outcome) -> None:
    if out.client in SDKS:
        assert isinstance(out.error, openai.APIConnectionError)
    else:
        assert isinstance(out.error, httpx.RemoteProtocolError)
    assert len(out.raw) == 300


#: fault name -> (faults, stream() keyword arguments, client timeout, what the client sees)
FAULT_CASES: dict[str, tuple[dict[str, Any], dict[str, Any], float, Any]] = {
    "drop_done": ({"drop_done": True}, {}, 5, _check_drop_done),
    "truncate_after": ({"truncate_after": 3}, {}, 5, _check_truncate),
    "change_id_at": ({"change_id_at": 3}, {}, 5, _check_change_id),
    "usage_every_chunk": ({"usage_every_chunk": True}, {}, 5, _check_usage_every_chunk),
    "role_every_delta": ({"role_every_delta": True}, {}, 5, _check_role_every_delta),
    "repeat_tool_ids": (
        {"repeat_tool_ids": True},
        {"tool_calls": TOOLS},
        5,
        _check_repeat_tool_ids,
    ),
    "tool_index_missing": (
        {"tool_index_missing": True},
        {"tool_calls": TOOLS},
        5,
        _check_tool_index_missing,
    ),
    "error_event_at": ({"error_event_at": 3}, {}, 5, _check_error_event),
    "crlf": ({"crlf": True}, {}, 5, _check_crlf),
    "keepalive_comments": ({"keepalive_comments": True}, {}, 5, _check_keepalive),
    "http_status": ({"http_status": 429}, {}, 5, _check_http_status),
    "split_utf8": ({"split_utf8": True}, {"text": "héllo wörld"}, 5, _check_split_utf8),
    "delay_ms": ({"delay_ms": 30}, {"text": "a b"}, 5, _check_delay),
    "stall_after": ({"stall_after": 2}, {}, 0.3, _check_stall),
    "disconnect_after_bytes": ({"disconnect_after_bytes": 300}, {}, 5, _check_disconnect),
}


def test_every_fault_has_a_client_case() -> None:
    modifiers = {"retry_after", "http_status_count"}  # tested with retries below
    assert set(FAULT_CASES) | modifiers == set(f.FAULTS)


@pytest.mark.parametrize("client", list(CLIENTS))
@pytest.mark.parametrize("name", list(FAULT_CASES))
def test_fault_reaches_the_client_and_the_checker_names_its_rule(
    server: OAPIServer, name: str, client: str
) -> None:
    faults, kw, timeout, check = FAULT_CASES[name]
    server.stream(faults=faults, **kw)
    body = body_for()
    out = CLIENTS[client](server, body, timeout)
    check(out)
    fault = f.FAULTS[name]
    expected = fault.rule or (fault.also[0] if fault.also else None)
    if name == "http_status":
        # The checker reads the envelope from the response the client got.
        response = out.error.response if client in SDKS else out.response  # type: ignore[union-attr]
        report = check_chunk_stream(response, profile="openai", request=body)
        assert expected in {v.code for v in report.violations}, report.format()
    elif expected is not None:
        report = out.report("openai", body)
        assert expected in {v.code for v in report.violations}, report.format()
    elif name in ("split_utf8", "delay_ms"):
        # Transport-only: the reassembled stream is clean.
        report = out.report("openai", body)
        assert [v.line() for v in report.violations if v.severity != "info"] == []


@pytest.mark.parametrize("client", SDKS)
def test_rate_limit_then_success_with_sdk_retries(server: OAPIServer, client: str) -> None:
    server.stream(faults={"http_status": 429, "retry_after": 0.01, "http_status_count": 2})

    async def async_call() -> str:
        c = openai.AsyncOpenAI(
            base_url=server.base_url,
            api_key="test",
            max_retries=2,
            http_client=httpx2.AsyncClient(verify=SSL),
        )
        try:
            s = await c.chat.completions.create(**body_for())
            return "".join([ch.choices[0].delta.content or "" async for ch in s])
        finally:
            await c.close()

    if client == "openai":
        c = openai.OpenAI(
            base_url=server.base_url,
            api_key="test",
            max_retries=2,
            http_client=httpx2.Client(verify=SSL),
        )
        text = "".join(
            ch.choices[0].delta.content or "" for ch in c.chat.completions.create(**body_for())
        )
        c.close()
    else:
        text = asyncio.run(async_call())
    assert text == b.DEFAULT_TEXT
    assert len(server.requests) == 3


def test_other_http_statuses_map_to_sdk_errors(server: OAPIServer) -> None:
    expected = {
        400: openai.BadRequestError,
        401: openai.AuthenticationError,
        404: openai.NotFoundError,
        500: openai.InternalServerError,
        503: openai.InternalServerError,
    }
    for status, exc_type in expected.items():
        server.stream(faults={"http_status": status})
        out = run_openai(server, body_for())
        assert isinstance(out.error, exc_type), status
        assert out.error.status_code == status  # type: ignore[union-attr]
    assert out.error.response.headers["retry-after"] == "1"  # type: ignore[union-attr]


def test_delay_applies_to_non_stream_answers(server: OAPIServer) -> None:
    server.stream(faults={"delay_ms": 50})
    t0 = time.perf_counter()
    r = http_post(server.base_url + "/chat/completions", json={"messages": []})
    assert r.status_code == 200 and time.perf_counter() - t0 >= 0.05


# --------------------------------------------------------------------------- impersonation


#: Something each provider style shows on the wire, from its corpus file.
PROVIDER_MARKERS: dict[str, bytes | None] = {
    "openai": None,
    "azure": b'"prompt_filter_results":[',
    "deepseek": b": keep-alive\n\n",
    "qwen": b'"function_call":null',
    "groq": b'"x_groq":{',
    "openrouter": b": OPENROUTER PROCESSING\n\n",
    "mistral": b'"p":"',
    "gemini": b'"tool_calls":[{"id":',
    "xai": b'"cost_in_usd_ticks":',
    "vllm": b'"prompt_token_ids":null',
    "llamacpp": b'"timings":{',
    "ollama": b'"system_fingerprint":"fp_ollama"',
    "anthropic": None,
    "lenient": None,
}
#: Profiles stricter than the corpus the style reproduces (see tests/test_builder.py).
DISAGREE = {"mistral": "OAS029", "gemini": "OAS029"}


@pytest.mark.parametrize("client", list(CLIENTS))
@pytest.mark.parametrize("provider", list(b.PROVIDER_STYLES))
def test_as_provider_reaches_the_client_and_passes_its_profile(
    server: OAPIServer, provider: str, client: str, request: pytest.FixtureRequest
) -> None:
    kw: dict[str, Any] = {"reasoning": "Let me think."}
    body = body_for(stream_options={"include_usage": True})
    if provider in ("gemini", "mistral"):
        kw = {"text": "Sure.", "tool_calls": TOOLS}
        body["tools"] = [{"type": "function", "function": {"name": "get_weather"}}]
    if provider in DISAGREE:
        request.applymarker(
            pytest.mark.xfail(
                reason=f"profile {provider} reports {DISAGREE[provider]}, which its corpus shows",
                strict=True,
            )
        )
    server.stream(as_provider=provider, **kw)
    out = CLIENTS[client](server, body)
    assert out.error is None and out.status == 200
    marker = PROVIDER_MARKERS[provider]
    if marker is not None:
        assert marker in out.raw
    expected_text = kw.get("text", b.DEFAULT_TEXT)
    assert out.text == expected_text
    report = out.report(provider, body)
    assert [v.line() for v in report.violations if v.severity == "error"] == []


def test_as_provider_non_stream(server: OAPIServer) -> None:
    server.stream("Ciao.", as_provider="mistral")
    r = http_post(server.base_url + "/chat/completions", json={"messages": []})
    done = r.json()
    assert done["choices"][0]["message"]["content"] == "Ciao." and done["usage"]["total_tokens"]


# --------------------------------------------------------------------------- bad input


def _raw_exchange(server: OAPIServer, data: bytes, read: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(data)
        if not read:
            return b""
        s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def _error_of(r: httpx.Response) -> dict[str, Any]:
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    return dict(err)


def test_invalid_json_is_a_400(server: OAPIServer) -> None:
    r = http_post(
        server.base_url + "/chat/completions",
        content=b'{"model": ',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400
    err = _error_of(r)
    assert err["type"] == "invalid_request_error" and "could not parse the JSON" in err["message"]
    assert server.last_request is not None and server.last_request.json is None


def test_non_object_body_and_missing_messages_are_400s(server: OAPIServer) -> None:
    r = http_post(server.base_url + "/chat/completions", json=[1, 2])
    assert r.status_code == 400 and "JSON object" in _error_of(r)["message"]
    r = http_post(server.base_url + "/chat/completions", json={"model": "x"})
    err = _error_of(r)
    assert r.status_code == 400 and err["param"] == "messages"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/completions"), ("GET", "/v1/chat/completions"), ("DELETE", "/v1/models")],
)
def test_unknown_paths_are_openai_style_404s(server: OAPIServer, method: str, path: str) -> None:
    r = http_request(method, server.url + path)
    assert r.status_code == 404
    assert _error_of(r) == {
        "message": f"Invalid URL ({method} {path})",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


def test_sdk_sees_a_404_as_not_found(server: OAPIServer) -> None:
    client = openai.OpenAI(
        base_url=server.base_url,
        api_key="test",
        max_retries=0,
        http_client=httpx2.Client(verify=SSL),
    )
    with pytest.raises(openai.NotFoundError, match=r"Invalid URL \(POST /v1/embeddings\)"):
        client.embeddings.create(model="x", input="hello")
    client.close()


def test_garbage_and_malformed_requests_get_json_errors(server: OAPIServer) -> None:
    reply = _raw_exchange(server, b"\x00\x01garbage\r\n\r\n")
    assert reply.startswith(b"HTTP/1.") and b" 400 " in reply.split(b"\r\n")[0]
    assert b'"type": "invalid_request_error"' in reply
    reply = _raw_exchange(
        server, b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: x\r\n\r\n"
    )
    assert b" 400 " in reply.split(b"\r\n")[0] and b"Content-Length" in reply
    big = f"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: {1 << 30}\r\n\r\n".encode()
    assert b" 413 " in _raw_exchange(server, big).split(b"\r\n")[0]
    assert run_httpx(server, body_for()).text == b.DEFAULT_TEXT  # still serving


def test_chunked_request_body_and_http10(server: OAPIServer) -> None:
    def gen() -> Iterator[bytes]:
        yield b'{"messages": [], '
        yield b'"stream": true}'

    r = http_post(server.base_url + "/chat/completions", content=gen())
    assert r.status_code == 200 and r.text == b.build_sse(text=b.DEFAULT_TEXT).decode()
    body = b'{"messages": [], "stream": true}'
    reply = _raw_exchange(
        server,
        b"POST /v1/chat/completions HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
    )
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert b"chunked" not in head.lower() and payload == b.build_sse()


def test_clients_that_leave_never_kill_the_server(server: OAPIServer) -> None:
    server.stream(" ".join(["word"] * 200), faults={"delay_ms": 2})
    body = json.dumps(body_for()).encode()
    request_head = b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body)
    for _ in range(5):  # disconnect mid-stream
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(request_head + body)
            assert s.recv(200)
    for _ in range(3):  # disconnect mid-body
        _raw_exchange(server, request_head + body[:10], read=False)
    with socket.create_connection(("127.0.0.1", server.port)) as s:  # RST mid-stream
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.sendall(request_head + body)
        s.recv(100)
    server.stream("still here")
    assert run_openai(server, body_for()).text == "still here"


# --------------------------------------------------------------------------- lifecycle, leaks


def _server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("oapi-server")]


def _open_fds() -> int | None:
    fd_dir = "/proc/self/fd"
    return len(os.listdir(fd_dir)) if os.path.isdir(fd_dir) else None


def _read_stream(base_url: str, errors: list[BaseException]) -> None:
    try:
        with http_stream("POST", base_url + "/chat/completions", json=body_for()) as r:
            for _piece in r.iter_raw():
                pass
    except BaseException as exc:
        errors.append(exc)


def test_no_threads_sockets_or_ports_leak() -> None:
    threads_before = set(threading.enumerate())
    fds_before = _open_fds()
    for _ in range(3):
        srv = OAPIServer().start()
        port = srv.port
        pooled = httpx.Client(verify=SSL)
        # A keep-alive connection the client leaves open, a stalled stream, an SDK stream.
        assert pooled.get(srv.base_url + "/models").status_code == 200
        srv.stream(faults={"stall_after": 1})
        stalled: list[BaseException] = []
        t = threading.Thread(target=_read_stream, args=(srv.base_url, stalled))
        t.start()
        deadline = time.monotonic() + 5
        while len(srv.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(_server_threads()) >= 3  # acceptor + two connections
        t0 = time.perf_counter()
        srv.stop()
        assert time.perf_counter() - t0 < 1.0, "stop() blocked on a stalled stream"
        t.join(5)
        # The client sees the peer close mid-body. By name: an in-process pytester run in the
        # same worker can leave httpcore re-imported, and httpx then re-raises httpcore's class.
        assert stalled and type(stalled[0]).__name__ == "RemoteProtocolError", stalled
        assert "peer closed" in str(stalled[0])
        assert _server_threads() == []
        pooled.close()
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            pass
        assert srv.errors == []
    assert set(threading.enumerate()) <= threads_before
    if fds_before is not None:
        assert _open_fds() == fds_before


def test_start_stop_is_idempotent_and_restartable() -> None:
    srv = OAPIServer()
    srv.stop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = srv.base_url
    srv.start()
    srv.start()
    first = srv.port
    srv.stop()
    srv.stop()
    assert not srv.running
    with srv:
        assert srv.running and srv.port != 0
        assert run_httpx(srv, body_for()).text == b.DEFAULT_TEXT
    assert first > 0 and _server_threads() == []


def test_binds_loopback_only(server: OAPIServer) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server._httpd is not None and server._httpd.server_address[0] == "127.0.0.1"
