"""A stream the provider cuts, recorded and replayed: the client sees what it sees without us.

``oapi_server`` closes the connection after N body bytes (``disconnect_after_bytes``), in the
middle of an event. Each real client is run three times against it: without any cassette (what
it sees on its own), recording, and replaying with the server stopped. All three must agree on
the text that arrived and on the error type raised after it; the cassette keeps the bytes that
arrived and names the error (``oapi_cut``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpcore  # noqa: F401  (kept imported: pytester drops what an in-process run imports,
import httpcore2  # noqa: F401   and httpx maps only the httpcore errors of its first import)
import httpx
import httpx2
import openai
import pytest
import requests
import vcr  # noqa: F401  (imported once here: pytester drops the modules an in-process run imports)
import yaml

from pytest_oapi_stream.core.cut import complete_events
from pytest_oapi_stream.recording import cassettes as c
from pytest_oapi_stream.recording.cuts import Cut
from pytest_oapi_stream.server import OAPIServer

TEXT = "Once upon a time, a small fox found a lantern in the snow and carried it home."
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True}
CUT = 1000  # bytes: a few chunks, then the middle of one


@pytest.fixture
def server(oapi_server: OAPIServer) -> OAPIServer:
    return oapi_server.stream(text=TEXT, faults={"disconnect_after_bytes": CUT})


def _text_of(sse: bytes) -> str:
    """The content of the complete events of a (cut) body."""
    out = []
    for line in complete_events(sse).decode("utf-8").splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            for choice in json.loads(line[6:]).get("choices", []):
                out.append(choice["delta"].get("content") or "")
    return "".join(out)


def _name(exc: BaseException) -> str:
    """``module.Class`` of an error; the SDK's with its cause (the transport's error it wraps;
    the transport's own causes, inside httpcore and h11, are no client's business)."""
    kind = type(exc)
    name = f"{kind.__module__.split('.')[0]}.{kind.__qualname__}"
    if name.startswith("openai.") and exc.__cause__ is not None:
        return f"{name} <- {_name(exc.__cause__)}"
    return name


Seen = tuple[str, int, str]  # text that arrived, bytes (raw clients; 0 for the SDK), error


def _openai(url: str) -> Seen:
    client = openai.OpenAI(base_url=url, api_key="sk-test-secret-0123456789", max_retries=0)
    text = []
    try:
        for chunk in client.chat.completions.create(**BODY):
            text += [chunk.choices[0].delta.content or ""] if chunk.choices else []
    except openai.APIConnectionError as exc:
        return "".join(text), 0, _name(exc)
    raise AssertionError("no error")


def _openai_async(url: str) -> Seen:
    async def run() -> Seen:
        client = openai.AsyncOpenAI(base_url=url, api_key="sk-test", max_retries=0)
        text = []
        try:
            async for chunk in await client.chat.completions.create(**BODY):
                text += [chunk.choices[0].delta.content or ""] if chunk.choices else []
        except openai.APIConnectionError as exc:
            return "".join(text), 0, _name(exc)
        finally:
            await client.close()
        raise AssertionError("no error")

    return asyncio.run(run())


def _httpx_like(module: Any) -> Callable[[str], Seen]:
    def run(url: str) -> Seen:
        pieces: list[bytes] = []
        with module.Client() as client:
            try:
                with client.stream("POST", url + "/chat/completions", json=BODY) as response:
                    pieces.extend(response.iter_raw())
            except module.TransportError as exc:
                body = b"".join(pieces)
                return _text_of(body), len(body), _name(exc)
        raise AssertionError("no error")

    return run


def _httpx_async(url: str) -> Seen:
    async def run() -> Seen:
        pieces: list[bytes] = []
        async with httpx.AsyncClient() as client:
            try:
                async with client.stream("POST", url + "/chat/completions", json=BODY) as r:
                    async for piece in r.aiter_raw():
                        pieces.append(piece)
            except httpx.TransportError as exc:
                body = b"".join(pieces)
                return _text_of(body), len(body), _name(exc)
        raise AssertionError("no error")

    return asyncio.run(run())


def _requests(url: str) -> Seen:
    pieces: list[bytes] = []
    try:
        with requests.post(url + "/chat/completions", json=BODY, stream=True, timeout=10) as r:
            pieces.extend(r.iter_content(chunk_size=None))
    except requests.RequestException as exc:
        body = b"".join(pieces)
        return _text_of(body), len(body), _name(exc)
    raise AssertionError("no error")


def _requests_whole(url: str) -> Seen:
    try:
        requests.post(url + "/chat/completions", json=BODY, timeout=10)
    except requests.RequestException as exc:
        return "", 0, _name(exc)
    raise AssertionError("no error")


def _aiohttp(how: str) -> Callable[[str], Seen]:
    def run(url: str) -> Seen:
        aiohttp = pytest.importorskip("aiohttp")

        async def go() -> Seen:
            pieces: list[bytes] = []
            async with aiohttp.ClientSession() as session:
                try:
                    async with session.post(url + "/chat/completions", json=BODY) as response:
                        if how == "read":
                            pieces.append(await response.read())
                        else:
                            async for piece in response.content.iter_any():
                                pieces.append(piece)
                except aiohttp.ClientError as exc:
                    body = b"".join(pieces)
                    return _text_of(body), len(body), _name(exc)
            raise AssertionError("no error")

        return asyncio.run(go())

    return run


CLIENTS: dict[str, Callable[[str], Seen]] = {
    "aiohttp": _aiohttp("iter_any"),
    "aiohttp-read": _aiohttp("read"),
    "openai": _openai,
    "openai-async": _openai_async,
    "httpx": _httpx_like(httpx),
    "httpx-async": _httpx_async,
    "httpx2": _httpx_like(httpx2),
    "requests": _requests,
    "requests-whole-body": _requests_whole,
}

#: What the cassette names, by client (the transport's error; requests' is urllib3's).
RECORDED_ERROR = {
    "aiohttp": "aiohttp.ClientPayloadError",
    "aiohttp-read": "aiohttp.ClientPayloadError",
    "openai": "httpx2.RemoteProtocolError",
    "openai-async": "httpx2.RemoteProtocolError",
    "httpx": "httpx.RemoteProtocolError",
    "httpx-async": "httpx.RemoteProtocolError",
    "httpx2": "httpx2.RemoteProtocolError",
    "requests": "urllib3.ProtocolError",
    "requests-whole-body": "urllib3.ProtocolError",
}


def _session(path: Path, mode: str, **kw: Any) -> c.CassetteSession:
    options = c.CassetteOptions(path=path, mode=mode, rootpath=path.parent, nodeid="t.py::t", **kw)
    session = c.CassetteSession(options)
    session.start()
    return session


def _through(path: Path, mode: str, run: Callable[[str], Seen], url: str, **kw: Any) -> Seen:
    session = _session(path, mode, **kw)
    try:
        return run(url)
    finally:
        session.stop(save=mode != "replay")


@pytest.mark.parametrize("client", CLIENTS)
def test_a_cut_stream_reaches_the_client_as_without_the_plugin(
    client: str, server: OAPIServer, tmp_path: Path
) -> None:
    run = CLIENTS[client]
    plain = run(server.base_url)
    if client.startswith(("openai", "httpx")) or client in ("requests", "aiohttp"):
        assert plain[0] and TEXT.startswith(plain[0]) and plain[0] != TEXT  # events, then the cut
    path = tmp_path / "c.yaml"
    recorded = _through(path, "all", run, server.base_url)
    assert len(server.requests) == 2
    url = server.base_url
    server.stop()
    replayed = _through(path, "replay", run, url)
    assert plain == recorded == replayed

    [interaction] = c.load_interactions(path)
    assert interaction.cut is not None and interaction.cut.error == RECORDED_ERROR[client]
    assert 0 < len(interaction.body) <= CUT and not interaction.body.endswith(b"\n\n")
    if plain[1]:
        assert len(interaction.body) == plain[1]  # every byte that arrived, no more
    text = path.read_text(encoding="utf-8")
    assert f"    oapi_cut:\n      error: {RECORDED_ERROR[client]}\n      message: " in text
    assert "string: |-\n        data: {" in text  # still a readable literal block
    assert "sk-test-secret" not in text


def test_a_cut_replays_with_its_error_when_rechunking_is_off(
    server: OAPIServer, tmp_path: Path
) -> None:
    run = CLIENTS["httpx"]
    path = tmp_path / "c.yaml"
    recorded = _through(path, "all", run, server.base_url, rechunk="off")
    assert _through(path, "replay", run, server.base_url, rechunk="off") == recorded
    assert _through(path, "replay", CLIENTS["requests"], server.base_url, rechunk="off") == (
        recorded[0],
        recorded[1],
        "requests.ChunkedEncodingError",
    )


def test_a_cassette_recorded_by_one_client_replays_the_cut_to_another(
    server: OAPIServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.yaml"
    text, size, _ = _through(path, "all", CLIENTS["requests"], server.base_url)
    assert _through(path, "replay", CLIENTS["httpx2"], server.base_url) == (
        text,
        size,
        "httpx2.RemoteProtocolError",
    )


def test_an_old_cassette_without_the_marker_replays_as_before(
    server: OAPIServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.yaml"
    _through(path, "all", CLIENTS["httpx"], server.base_url)
    text = path.read_text(encoding="utf-8")
    head, _marker = text.split("    oapi_cut:\n")
    path.write_text(head, encoding="utf-8")
    session = _session(path, "replay")
    try:
        body = httpx.post(server.base_url + "/chat/completions", json=BODY).content
        [interaction] = session.interactions()
    finally:
        session.stop(save=False)
    assert body == interaction.body and interaction.cut is None  # the bytes, no error


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        (None, None),
        (False, None),
        ({"error": "httpx.ReadError", "message": "reset"}, ("httpx.ReadError", "reset")),
        (True, ("RemoteProtocolError", "the provider cut the connection")),  # edited by hand
        ({"message": 3}, ("RemoteProtocolError", "3")),
    ],
)
def test_the_marker_is_read_leniently(marker: Any, expected: Any) -> None:
    cut = Cut.from_response({"status": {"code": 200}, "oapi_cut": marker})
    if expected is None:
        assert cut is None
    else:
        assert cut is not None and (cut.error, cut.message) == expected
        # an unknown or foreign name still replays as a transport error of the client's
        assert isinstance(cut.httpx_error(httpx2), httpx2.RemoteProtocolError | httpx2.ReadError)
        assert type(cut.urllib3_error()).__name__ == "ProtocolError"


def test_a_whole_stream_records_no_marker(oapi_server: OAPIServer, tmp_path: Path) -> None:
    oapi_server.stream(text=TEXT)
    path = tmp_path / "c.yaml"
    session = _session(path, "all")
    try:
        assert _text_of(httpx.post(oapi_server.base_url + "/chat/completions", json=BODY).content)
    finally:
        session.stop(save=True)
    assert "oapi_cut" not in path.read_text(encoding="utf-8")
    [interaction] = c.load_interactions(path)
    assert interaction.cut is None and interaction.body.endswith(b"data: [DONE]\n\n")


@pytest.mark.parametrize(
    ("body", "complete"),
    [
        (b"data: a\n\ndata: b", b"data: a\n\n"),
        (b"data: a\r\n\r\ndata: b\r\n", b"data: a\r\n\r\n"),
        (b"data: a\r\ndata: b", b""),  # one CRLF ends a line, not an event
        (b"data: a\r\rdata", b"data: a\r\r"),
        (b"data: a\n\n", b"data: a\n\n"),
    ],
)
def test_complete_events_keeps_what_a_client_decoded_before_the_cut(
    body: bytes, complete: bytes
) -> None:
    assert complete_events(body) == complete


def test_the_recording_patches_are_removed_after_the_cassette() -> None:
    import vcr.stubs as stubs
    from vcr.stubs import aiohttp_stubs, httpx_stubs

    def patched() -> tuple[Any, ...]:
        return (
            httpx_stubs._vcr_handle_request,
            httpx_stubs._vcr_handle_async_request,
            stubs.VCRConnection.getresponse,
            aiohttp_stubs.record_response,
            aiohttp_stubs.build_response,
        )

    before = patched()
    with c.rechunked_replay("random", 0):
        assert all(now is not then for now, then in zip(patched(), before, strict=True))
    assert patched() == before


INNER = """
import httpx
import openai
import pytest
import requests

CUT_CODES = ["OAS008", "OAS023"]  # done-terminator, finish-once: what a cut chat stream lacks
BODY = {body!r}


def serve(oapi_server):
    oapi_server.stream(text={text!r}, faults={{"disconnect_after_bytes": {cut}}})
    return oapi_server.base_url


def report(name, seen, error):
    print("SEEN", name, repr(seen), type(error).__name__, flush=True)


@pytest.mark.oapi(ignore=CUT_CODES)
def test_sdk(oapi_server):
    client = openai.OpenAI(base_url=serve(oapi_server), api_key="sk-test", max_retries=0)
    seen = []
    with pytest.raises(openai.APIConnectionError) as info:
        for chunk in client.chat.completions.create(**BODY):
            seen.append(chunk.choices[0].delta.content if chunk.choices else None)
    assert seen
    report("sdk", seen, info.value.__cause__)


@pytest.mark.oapi(ignore=CUT_CODES)
def test_httpx(oapi_server):
    url = serve(oapi_server) + "/chat/completions"
    seen = []
    with pytest.raises(httpx.RemoteProtocolError) as info:
        with httpx.stream("POST", url, json=BODY) as response:
            for line in response.iter_lines():
                seen.append(line)
    report("httpx", seen, info.value)


@pytest.mark.oapi(ignore=CUT_CODES)
def test_requests(oapi_server):
    url = serve(oapi_server) + "/chat/completions"
    seen = []
    with pytest.raises(requests.exceptions.ChunkedEncodingError) as info:
        with requests.post(url, json=BODY, stream=True, timeout=10) as response:
            for line in response.iter_lines():
                seen.append(line)
    report("requests", seen, info.value)


@pytest.mark.oapi
def test_unexpected(oapi_server):
    client = openai.OpenAI(base_url=serve(oapi_server), api_key="sk-test", max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        for _ in client.chat.completions.create(**BODY):
            pass
"""


def _seen(result: pytest.RunResult) -> list[str]:
    return sorted(line[line.index("SEEN ") :] for line in result.outlines if "SEEN " in line)


def test_a_cut_chat_stream_records_and_replays_through_the_plugin(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    pytester.makepyfile(test_cut=INNER.format(body=BODY, text=TEXT, cut=CUT))
    args = (
        "-s",
        "-p",
        "no:cacheprovider",
        "test_cut.py::test_sdk",
        "test_cut.py::test_httpx",
        "test_cut.py::test_requests",
    )
    recorded = pytester.runpytest_inprocess("--oapi-record", *args)
    recorded.assert_outcomes(passed=3)
    seen = _seen(recorded)
    assert [line.split()[1] for line in seen] == ["httpx", "requests", "sdk"]
    assert seen[0].endswith(" RemoteProtocolError") and seen[1].endswith(" ChunkedEncodingError")
    assert seen[2].endswith(" RemoteProtocolError")  # the transport error the SDK wraps
    recorded.stdout.fnmatch_lines(["cassettes: 0 replayed, 3 recorded, 0 missing"])
    for name in ("test_sdk", "test_httpx", "test_requests"):
        cassette = yaml.safe_load(
            (pytester.path / "cassettes/test_cut" / f"{name}.yaml").read_text()
        )
        [interaction] = cassette["interactions"]
        assert set(interaction["response"]["oapi_cut"]) == {"error", "message"}

    replayed = pytester.runpytest_inprocess(*args)
    replayed.assert_outcomes(passed=3)
    replayed.stdout.fnmatch_lines(["cassettes: 3 replayed, 0 recorded, 0 missing"])
    assert _seen(replayed) == seen


def test_the_check_of_a_cut_stream_names_the_cut(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    pytester.makepyfile(test_cut=INNER.format(body=BODY, text=TEXT, cut=CUT))
    result = pytester.runpytest_inprocess(
        "--oapi-record", "-p", "no:cacheprovider", "test_cut.py::test_unexpected"
    )
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert "stream cut by the provider after " in text
    assert "bytes (httpx2.RemoteProtocolError: peer closed connection" in text
    # judged as a truncated stream of the events that arrived whole, not as malformed JSON
    assert "OAS008 done-terminator" in text and "OAS023 finish-once" in text
    assert "OAS007" not in text and "OAS004" not in text
    # at a cut every client raises: not the hint about a stream that ends quietly
    assert "four of seven" not in text and "the provider cut the connection: every client" in text
    assert not (pytester.path / "cassettes/test_cut/test_unexpected.yaml").exists()


def _read_request(conn: socket.socket) -> None:
    """Read one HTTP request whole: its head, then ``content-length`` bytes of body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        rest += chunk


@pytest.fixture
def resetting_url() -> Iterator[str]:
    """A loopback HTTP server that sends one whole event, part of the next, then a TCP reset
    (what ``oapi_server`` cannot do: it closes cleanly)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    event = b'data: {"a": 1}\n\n'

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                with conn:
                    _read_request(conn)  # the reset below is the only one: nothing left unread
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                        b"transfer-encoding: chunked\r\n\r\n"
                        + b"%x\r\n%s\r\n" % (len(event), event)
                        + b"%x\r\n%s" % (len(event), event[:5])
                    )
                    time.sleep(0.05)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    server.close()


@pytest.mark.parametrize(
    ("client", "error"),
    [("httpx", "httpx.ReadError"), ("requests", "requests.ChunkedEncodingError")],
)
def test_a_reset_connection_records_and_replays_as_the_client_saw_it(
    client: str, error: str, resetting_url: str, tmp_path: Path
) -> None:
    run = CLIENTS[client]
    plain = run(resetting_url)
    assert plain[2] == error and plain[1] >= 16  # the whole first event arrived
    path = tmp_path / "c.yaml"
    assert _through(path, "all", run, resetting_url) == plain
    assert _through(path, "replay", run, resetting_url) == plain
    [interaction] = c.load_interactions(path)
    assert interaction.cut is not None and "reset" in interaction.cut.message.lower()


@pytest.mark.parametrize(
    ("client", "error"),
    [("httpx", "httpx.ReadTimeout"), ("requests", "requests.ConnectionError")],
)
def test_a_read_timeout_records_and_replays_as_the_client_saw_it(
    client: str, error: str, oapi_server: OAPIServer, tmp_path: Path
) -> None:
    oapi_server.stream(text=TEXT, faults={"stall_after": 2})
    url = oapi_server.base_url

    def run(url: str) -> tuple[int, str]:
        pieces: list[bytes] = []
        try:
            if client == "httpx":
                with httpx.stream("POST", url + "/chat/completions", json=BODY, timeout=0.3) as r:
                    pieces.extend(r.iter_raw())
            else:
                with requests.post(
                    url + "/chat/completions", json=BODY, stream=True, timeout=0.3
                ) as r:
                    pieces.extend(r.iter_content(None))
        except (httpx.TransportError, requests.RequestException) as exc:
            return len(b"".join(pieces)), _name(exc)
        raise AssertionError("no error")

    plain = run(url)
    assert plain[1] == error and plain[0] > 0
    path = tmp_path / "c.yaml"
    session = _session(path, "all")
    try:
        assert run(url) == plain
    finally:
        session.stop(save=True)
    session = _session(path, "replay")
    try:
        assert run(url) == plain
    finally:
        session.stop(save=False)


def test_a_cut_under_oapi_live_reaches_the_client_as_without_the_plugin(
    server: OAPIServer, tmp_path: Path
) -> None:
    run = CLIENTS["openai"]
    plain = run(server.base_url)
    path = tmp_path / "c.yaml"
    session = _session(path, "live")
    try:
        assert run(server.base_url) == plain
        [interaction] = session.interactions()
        assert interaction.cut is not None and interaction.recorded
    finally:
        session.stop(save=True)
    assert not path.exists()  # live mode writes nothing


@pytest.fixture
def gzip_cut_url() -> Iterator[str]:
    """A loopback HTTP server that gzips 50 events and closes before the gzip trailer (what
    ``oapi_server`` cannot do: it sends no compressed bodies)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    events = b"".join(b'data: {"n": %d}\n\n' % i for i in range(50))
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    body = compressor.compress(events) + compressor.flush(zlib.Z_SYNC_FLUSH)  # no trailer

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                with conn:
                    _read_request(conn)  # all of it: unread bytes at close would send a RST
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                        b"content-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n"
                        + b"%x\r\n%s\r\n"
                        % (len(body), body)
                    )
                    conn.shutdown(socket.SHUT_WR)  # a clean FIN after the data, then wait
                    conn.settimeout(5)
                    while conn.recv(65536):  # for the client to give up and close
                        pass

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    server.close()


@pytest.mark.parametrize("client", ["httpx", "requests"])
def test_a_cut_gzip_stream_is_stored_decoded_as_far_as_it_arrived(
    client: str, gzip_cut_url: str, tmp_path: Path
) -> None:
    def run(url: str) -> tuple[bytes, str]:
        pieces: list[bytes] = []
        try:
            if client == "httpx":
                with httpx.stream("POST", url + "/chat/completions", json=BODY) as r:
                    pieces.extend(r.iter_bytes())
            else:
                with requests.post(url + "/chat/completions", json=BODY, stream=True) as r:
                    pieces.extend(r.iter_content(None))
        except (httpx.TransportError, requests.RequestException) as exc:
            return b"".join(pieces), _name(exc)
        raise AssertionError("no error")

    plain = run(gzip_cut_url)
    assert plain[0].endswith(b'data: {"n": 49}\n\n')  # every event arrived, the trailer did not
    path = tmp_path / "c.yaml"
    assert _through(path, "all", run, gzip_cut_url) == plain
    assert _through(path, "replay", run, gzip_cut_url) == plain  # vcrpy stored it compressed
    [interaction] = c.load_interactions(path)
    assert interaction.body == plain[0] and interaction.cut is not None
    assert '\n        data: {"n": 0}\n\n        data: {"n": 1}\n' in path.read_text(
        encoding="utf-8"
    )
