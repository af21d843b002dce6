"""Resuming a dropped Responses stream: ``GET .../responses/{id}?stream=true&starting_after=N``.

The server remembers the Responses streams it sent (bounded) by the id of their
``response.created`` snapshot. A test cuts the ``POST`` stream with ``disconnect_after_bytes``,
catches the client's error and resumes with the real client over 127.0.0.1, as a user would:
openai-python sync and async (``retrieve(stream=True, starting_after=N)`` and the
``responses.stream(response_id=..., starting_after=N)`` helper) and httpx.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from pytest_oapi_stream import (
    aassert_valid_response_stream,
    assert_valid_response_stream,
    check_response_stream,
)
from pytest_oapi_stream.server import OAPIServer
from pytest_oapi_stream.server.stored import MAX_RESPONSES, StoredResponses

TEXT = "The quick brown fox jumps over the lazy dog, twice over."
BODY = {"model": "gpt-4o", "input": "Tell me", "stream": True, "background": True}


@pytest.fixture
def server() -> Iterator[OAPIServer]:
    with OAPIServer() as srv:
        yield srv
        assert srv.errors == []


def _events(body: bytes) -> list[bytes]:
    """The SSE events of a body the server wrote (LF framing), each with its blank line."""
    return [ev + b"\n\n" for ev in body.split(b"\n\n") if ev]


def _payload(ev: bytes) -> dict[str, Any] | None:
    data = [ln[6:] for ln in ev.decode().splitlines() if ln.startswith("data: ")]
    return json.loads(data[0]) if data and data[0] != "[DONE]" else None


def _full_body(server: OAPIServer, http: httpx.Client | None = None, **recipe: Any) -> bytes:
    """The whole stream the recipe gives for ``BODY`` (the served answer, uncut)."""
    server.stream(**recipe)
    return (http or httpx).post(server.base_url + "/responses", json=BODY).content


def _cut_after(server: OAPIServer, n_events: int, **recipe: Any) -> bytes:
    """Serve the recipe with its stream cut 10 bytes into event ``n_events`` (0-based): the
    client gets events 0..n_events-1 whole, then the connection drops. Returns the uncut body."""
    body = _full_body(server, **recipe)
    cut = sum(len(ev) for ev in _events(body)[:n_events]) + 10
    server.stream(**recipe, faults={"disconnect_after_bytes": cut})
    return body


def _client(server: OAPIServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0, timeout=10)


def _text(events: list[Any]) -> str:
    return "".join(e.delta for e in events if e.type == "response.output_text.delta")


def _read_until_cut(client: openai.OpenAI) -> list[Any]:
    got: list[Any] = []
    with pytest.raises(openai.APIConnectionError):
        for ev in client.responses.create(
            model="gpt-4o", input="Tell me", stream=True, background=True
        ):
            got.append(ev)
    return got


# ---- the SDK, end to end


def test_sdk_resumes_a_stream_cut_after_in_progress(server: OAPIServer) -> None:
    """The corpus's resume: the client had created + in_progress, resumes after 1; the resumed
    stream starts at 2 with no response.created and passes the checker given starting_after."""
    _cut_after(server, 2, text=TEXT)
    client = _client(server)
    before = _read_until_cut(client)
    assert [e.type for e in before] == ["response.created", "response.in_progress"]
    rid, after = before[0].response.id, before[-1].sequence_number
    assert server.response_ids == [rid]

    stream = client.responses.retrieve(rid, stream=True, starting_after=after)
    checked = assert_valid_response_stream(stream, request={"starting_after": after})
    assert checked.events[0].sequence_number == after + 1
    assert checked.events[0].type == "response.output_item.added"
    assert checked.terminal == "response.completed"
    assert _text(before) + _text(checked.events) == TEXT
    get = server.last_request
    assert get is not None and get.method == "GET" and get.path == f"/v1/responses/{rid}"
    assert "starting_after=1" in get.query and "stream=true" in get.query

    # the URL alone carries starting_after
    stream = client.responses.retrieve(rid, stream=True, starting_after=after)
    url = f"{server.url}{get.path}?{get.query}"
    assert assert_valid_response_stream(stream, url=url).terminal == "response.completed"
    # the SDK's stream carries its URL, so the checker finds starting_after by itself
    stream = client.responses.retrieve(rid, stream=True, starting_after=after)
    assert check_response_stream(stream).ok
    # the bytes alone start mid-stream: without the request the checker says so
    codes = {v.code for v in check_response_stream(httpx.get(url).content).violations}
    assert "OAS111" in codes


def test_sdk_resumes_mid_text_and_the_joined_text_is_the_answer(server: OAPIServer) -> None:
    """Cut inside the text deltas: the raw retrieve gives exactly the events after N, and the
    SDK helper (which fetches the stream again and skips up to N itself) assembles the answer."""
    body = _cut_after(server, 7, text=TEXT)
    client = _client(server)
    before = _read_until_cut(client)
    assert len(before) == 7 and before[-1].type == "response.output_text.delta"
    rid, after = before[0].response.id, before[-1].sequence_number

    resumed = list(client.responses.retrieve(rid, stream=True, starting_after=after))
    assert [e.sequence_number for e in resumed] == list(range(after + 1, len(_events(body))))
    assert _text(before) + _text(resumed) == TEXT
    assert resumed[-1].type == "response.completed"
    assert resumed[-1].response.output_text == TEXT

    # resumed inside the text, the stream passes as it is: the item and part it never added
    # were added before the resume point, and its deltas end the done text
    stream = client.responses.retrieve(rid, stream=True, starting_after=after)
    report = check_response_stream(stream, request={"starting_after": after})
    assert report.violations == [], report.format()

    with client.responses.stream(response_id=rid, starting_after=after) as helper:
        helped = list(helper)
        final = helper.get_final_response()
    assert helped[0].sequence_number == after + 1
    assert _text(before) + _text(helped) == TEXT == final.output_text
    get = server.last_request  # the helper asks for the whole stream
    assert get is not None and "stream=true" in get.query and "starting_after" not in get.query


def test_async_sdk_resumes_a_cut_stream(server: OAPIServer) -> None:
    _cut_after(server, 2, text=TEXT)

    async def go() -> tuple[list[Any], Any, Any]:
        client = openai.AsyncOpenAI(
            base_url=server.base_url, api_key="test", max_retries=0, timeout=10
        )
        got: list[Any] = []
        with pytest.raises(openai.APIConnectionError):
            stream = await client.responses.create(
                model="gpt-4o", input="Tell me", stream=True, background=True
            )
            async for ev in stream:
                got.append(ev)
        rid, after = got[0].response.id, got[-1].sequence_number
        resumed = await client.responses.retrieve(rid, stream=True, starting_after=after)
        checked = await aassert_valid_response_stream(resumed, request={"starting_after": after})
        final = await client.responses.retrieve(rid)
        return got, checked, final

    before, checked, final = asyncio.run(go())
    assert checked.events[0].sequence_number == before[-1].sequence_number + 1
    assert _text(before) + _text(checked.events) == TEXT
    assert final.status == "completed" and final.output_text == TEXT


def test_httpx_resumes_a_cut_stream(server: OAPIServer) -> None:
    body = _cut_after(server, 9, text=TEXT)
    url = server.base_url + "/responses"
    got = b""
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("POST", url, json=BODY) as r:
        for piece in r.iter_raw():
            got += piece
    received = _events(got)[:-1]  # the last one is cut short
    assert len(received) == 9
    first, last = _payload(received[0]), _payload(received[-1])
    assert first is not None and last is not None
    rid, after = first["response"]["id"], last["sequence_number"]

    r = httpx.get(f"{url}/{rid}", params={"stream": "true", "starting_after": after})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert r.content == b"".join(_events(body)[9:])  # byte for byte, event: lines kept
    assert b"".join(received) + r.content == body
    report = check_response_stream(r, url=str(r.url))
    assert report.violations == [], report.format()  # resumed inside the text: no finding
    # resumed before the first item (as in the corpus), the stream passes as it is
    with httpx.stream("GET", f"{url}/{rid}?stream=true&starting_after=1") as r:
        checked = assert_valid_response_stream(r, url=str(r.url))
    assert checked.terminal == "response.completed" and checked.events[0].sequence_number == 2


# ---- what the GET answers


def test_without_starting_after_the_whole_stream_and_without_stream_the_response(
    server: OAPIServer,
) -> None:
    body = _full_body(server, text=TEXT, tool_calls=[{"name": "f", "arguments": {"a": 1}}])
    rid = _payload(_events(body)[0])["response"]["id"]  # type: ignore[index]
    url = f"{server.base_url}/responses/{rid}"
    assert httpx.get(url, params={"stream": "true"}).content == body
    resp = httpx.get(url)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    terminal = _payload(_events(body)[-1])
    assert terminal is not None and resp.json() == terminal["response"]
    assert httpx.get(url, params={"stream": "false", "starting_after": 3}).json() == resp.json()
    # past the last event: an empty stream (nothing left to send)
    late = httpx.get(url, params={"stream": "true", "starting_after": 10_000})
    assert late.status_code == 200 and late.content == b""


def test_framing_is_the_original_done_and_comments_included(server: OAPIServer) -> None:
    """OpenRouter's framing (no event: lines, a [DONE]) and keep-alive comments: each comment
    goes with the event after it; [DONE] stays."""
    body = _full_body(server, text=TEXT, as_provider="openrouter", faults=["keepalive_comments"])
    events = _events(body)
    assert events[-1] == b"data: [DONE]\n\n" and not any(b"event:" in ev for ev in events)
    rid = next(p["response"]["id"] for p in map(_payload, events) if p)
    r = httpx.get(
        f"{server.base_url}/responses/{rid}", params={"stream": "true", "starting_after": 4}
    )
    got = _events(r.content)
    seqs = [p["sequence_number"] for p in map(_payload, got) if p]
    assert seqs == list(range(5, len(seqs) + 5))
    assert got[0] == b": keep-alive\n\n" and got[1].startswith(b'data: {"type"')
    assert got[-1] == b"data: [DONE]\n\n"
    assert body.endswith(r.content)


def test_a_stream_cut_short_by_its_faults_is_kept_as_sent(server: OAPIServer) -> None:
    """A chunk fault is part of the answer: the resume repeats it; the non-stream retrieve of
    a stream that never finished is its last snapshot, still in progress."""
    body = _full_body(server, text=TEXT, faults={"truncate_after": 6})
    rid = _payload(_events(body)[0])["response"]["id"]  # type: ignore[index]
    url = f"{server.base_url}/responses/{rid}"
    assert httpx.get(url, params={"stream": "true"}).content == body
    resp = httpx.get(url).json()
    assert resp["id"] == rid and resp["status"] == "in_progress"


def test_azure_path(server: OAPIServer) -> None:
    body = _full_body(server, text=TEXT)
    rid = _payload(_events(body)[0])["response"]["id"]  # type: ignore[index]
    r = httpx.get(f"{server.url}/openai/v1/responses/{rid}", params={"stream": "true"})
    assert r.status_code == 200 and r.content == body


# ---- errors


def test_an_unknown_id_is_openais_404(server: OAPIServer) -> None:
    r = httpx.get(f"{server.base_url}/responses/resp_x", params={"stream": "true"})
    assert r.status_code == 404
    assert r.json() == {
        "error": {
            "message": "No response found with id 'resp_x'.",
            "type": "invalid_request_error",
            "param": "response_id",
            "code": "response_not_found",
        }
    }
    with pytest.raises(openai.NotFoundError, match="No response found with id 'resp_nope'"):
        _client(server).responses.retrieve("resp_nope")


@pytest.mark.parametrize(
    ("query", "param", "shown"),
    [
        ({"stream": "true", "starting_after": "abc"}, "starting_after", "'abc'"),
        ({"stream": "true", "starting_after": "1.5"}, "starting_after", "'1.5'"),
        ({"stream": "true", "starting_after": ""}, "starting_after", "''"),
        ({"stream": "yes"}, "stream", "'yes'"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_parameter(
    server: OAPIServer, query: dict[str, str], param: str, shown: str
) -> None:
    body = _full_body(server)
    rid = _payload(_events(body)[0])["response"]["id"]  # type: ignore[index]
    r = httpx.get(f"{server.base_url}/responses/{rid}", params=query)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["param"] == param
    assert error["message"].startswith(f"Invalid value for '{param}'") and shown in error["message"]


def test_what_is_not_remembered(server: OAPIServer) -> None:
    """Setting a source (its dry run), non-stream answers, chat streams, a chat body asked for
    on /responses: nothing a client could resume. reset() forgets the rest."""
    server.stream(text=TEXT)
    assert server.response_ids == []
    httpx.post(server.base_url + "/responses", json={**BODY, "stream": False})
    httpx.post(
        server.base_url + "/chat/completions",
        json={"model": "m", "messages": [], "stream": True},
    )
    server.serve_sse(b'data: {"id":"c","object":"chat.completion.chunk","choices":[]}\n\n')
    httpx.post(server.base_url + "/responses", json=BODY)
    assert server.response_ids == []
    _full_body(server, text=TEXT)
    assert len(server.response_ids) == 1
    server.reset()
    assert server.response_ids == []


# ---- bounded memory


def test_memory_is_bounded_over_a_long_session(server: OAPIServer) -> None:
    ids = []
    with httpx.Client() as http:  # one client: a new one per request costs its SSL setup
        for seed in range(MAX_RESPONSES + 6):
            body = _full_body(server, http, text="a b c", seed=seed)
            ids.append(_payload(_events(body)[0])["response"]["id"])  # type: ignore[index]
    assert len(set(ids)) == len(ids)
    assert server.response_ids == ids[-MAX_RESPONSES:]
    gone = httpx.get(f"{server.base_url}/responses/{ids[0]}")
    assert gone.status_code == 404
    kept = httpx.get(f"{server.base_url}/responses/{ids[-1]}")
    assert kept.status_code == 200 and kept.json()["id"] == ids[-1]


def _stream_of(rid: str, size: int) -> list[bytes]:
    created = {"type": "response.created", "sequence_number": 0, "response": {"id": rid}}
    pad = {"type": "x", "sequence_number": 1, "pad": "x" * size}
    return [f"data: {json.dumps(e)}\n\n".encode() for e in (created, pad)]


def test_the_store_is_bounded_in_bytes_and_keeps_the_latest() -> None:
    store = StoredResponses(max_responses=10, max_bytes=5_000)
    for i in range(4):
        store.remember(_stream_of(f"resp_{i}", 2_000))
    assert store.ids() == ["resp_2", "resp_3"] and store.nbytes <= 5_000
    store.remember(_stream_of("resp_big", 9_000))  # alone over the cap: kept, the rest goes
    assert store.ids() == ["resp_big"]
    store.remember(_stream_of("resp_big", 10))  # the same id again replaces it
    assert store.ids() == ["resp_big"] and store.nbytes < 200
    assert store.remember([b"data: [DONE]\n\n"]) is None


# ---- the documented example


def test_the_example_in_docs_runs(pytester: pytest.Pytester) -> None:
    """docs/server.md's "Resuming a background stream" example, run as a user's test file."""
    doc = (Path(__file__).parents[2] / "docs" / "server.md").read_text()
    section = doc.split("## Resuming a background stream", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    pytester.makepyfile(test_doc=match.group(1))
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
