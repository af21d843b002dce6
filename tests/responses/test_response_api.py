"""The public Responses functions: every source the chat functions take, sync and async,
assembly as a client would see it, the iterating mode, and clear errors for bad arguments."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from resp_streams import ANNOTATIONS, CALL, CORPUS, QUOTA, SUMMARY, TEXT, events, raw, sse

from pytest_oapi_stream import (
    CheckedResponseEvents,
    ResponseProfile,
    SourceError,
    StreamContractError,
    aassert_valid_response_stream,
    acheck_response_stream,
    assert_valid_response_stream,
    check_response_stream,
    iter_checked_response_events,
    register_response_profile,
)
from pytest_oapi_stream.responses.models import (
    FunctionCallArgumentsDelta,
    OutputTextDelta,
    UnknownEvent,
)

TEXT_ANSWER = "Hi there! How can I help you today?"


def test_a_recorded_openai_stream_passes_under_openai() -> None:
    stream = assert_valid_response_stream(CORPUS / TEXT, profile="openai")
    assert stream.output_text and stream.status == "completed"
    assert stream.usage is not None and stream.usage.total_tokens
    assert stream.response is not None and stream.response.id == stream.created.id  # type: ignore[union-attr]
    assert isinstance(stream.events[4], OutputTextDelta)


@pytest.mark.parametrize(
    "make",
    [
        lambda: raw(TEXT),
        lambda: raw(TEXT).decode(),
        lambda: CORPUS / TEXT,
        lambda: iter([raw(TEXT)[:7], raw(TEXT)[7:300], raw(TEXT)[300:]]),
        lambda: [raw(TEXT).decode()[:50], raw(TEXT).decode()[50:]],
        lambda: events(TEXT),
        lambda: httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=raw(TEXT)
        ),
    ],
    ids=["bytes", "str", "path", "byte-pieces", "str-pieces", "event-dicts", "httpx"],
)
def test_every_source_gives_the_same_answer(make: Any) -> None:
    stream = assert_valid_response_stream(make(), profile="openai")
    reference = assert_valid_response_stream(raw(TEXT), profile="openai")
    assert stream.output_text == reference.output_text
    assert [e.type for e in stream.events] == [e.type for e in reference.events]


def test_event_models_are_accepted_too() -> None:
    evs = assert_valid_response_stream(raw(TEXT)).events
    again = assert_valid_response_stream(evs, profile="openai")
    assert again.output_text == assert_valid_response_stream(raw(TEXT)).output_text


def test_async_twins_read_async_sources() -> None:
    async def pieces() -> AsyncIterator[bytes]:
        body = raw(CALL)
        for i in range(0, len(body), 97):
            yield body[i : i + 97]

    async def run() -> None:
        report = await acheck_response_stream(pieces(), profile="openai")
        assert report.ok, report.format()
        stream = await aassert_valid_response_stream(raw(CALL))
        assert stream.function_calls[0].parsed_arguments == {"location": "Florence, Italy"}
        with pytest.raises(StreamContractError):
            await aassert_valid_response_stream(raw(QUOTA))
        got = [e.type async for e in CheckedResponseEvents(pieces(), profile="openai")]
        assert got[0] == "response.created" and got[-1] == "response.completed"

    asyncio.run(run())


def test_an_async_source_refuses_the_sync_function() -> None:
    async def pieces() -> AsyncIterator[bytes]:
        yield raw(TEXT)

    with pytest.raises(TypeError, match="acheck_response_stream"):
        check_response_stream(pieces())


def test_failure_names_every_broken_rule() -> None:
    evs = events(TEXT)
    del evs[-1]  # no terminal event: truncated
    with pytest.raises(StreamContractError) as info:
        assert_valid_response_stream(sse(evs), profile="openai")
    text = str(info.value)
    assert "OAS114 terminal-once-last [error]" in text and "truncated" in text
    assert "OAS109 event-required-fields" not in text
    assert info.value.report.stream is not None  # the partial assembly is still there


def test_assembly_function_call() -> None:
    stream = assert_valid_response_stream(raw(CALL))
    (call,) = stream.function_calls
    assert call.name == "weather" and call.call_id and call.call_id.startswith("call_")
    assert call.arguments == '{"location":"Florence, Italy"}'
    assert call.parsed_arguments == {"location": "Florence, Italy"}
    assert call.done and call.status == "completed"


def test_assembly_reasoning_summary_and_order() -> None:
    stream = assert_valid_response_stream(raw(SUMMARY))
    assert [i.type for i in stream.output] == ["reasoning", "function_call"]
    (reasoning,) = stream.reasoning
    assert len(reasoning.summary) == 1 and reasoning.summary[0]
    assert stream.usage is not None and stream.usage.output_tokens_details is not None


def test_assembly_annotations_and_text() -> None:
    stream = assert_valid_response_stream(raw(ANNOTATIONS))
    assert stream.annotations and stream.annotations[0].type == "url_citation"
    assert stream.output_text == stream.response.output[1].content[0].text  # type: ignore[union-attr]


def test_assembly_failed_response_keeps_status_and_error() -> None:
    report = check_response_stream(raw(QUOTA))
    stream = report.stream
    assert stream is not None and stream.status == "failed"
    assert stream.error is not None and stream.error.code == "insufficient_quota"
    assert [e.type for e in stream.errors] == ["error"]


def test_assembly_keeps_data_the_sdk_would_drop() -> None:
    """A delta for a part that was never added: openai-python raises; we keep the text."""
    evs = [e for e in events(TEXT) if e["type"] != "response.content_part.added"]
    report = check_response_stream(sse(evs), profile="openai")
    assert "OAS131" in report.codes("error")
    assert report.stream is not None
    assert report.stream.output[0].text == assert_valid_response_stream(raw(TEXT)).output_text


def test_refusal_assembles() -> None:
    evs = events(TEXT)
    for ev in evs:
        if ev["type"] == "response.content_part.added":
            ev["part"] = {"type": "refusal", "refusal": ""}
        if ev["type"] == "response.output_text.delta":
            ev["type"] = "response.refusal.delta"
            del ev["logprobs"]
        if ev["type"] == "response.output_text.done":
            ev["type"] = "response.refusal.done"
            ev["refusal"] = ev.pop("text")
            del ev["logprobs"]
    report = check_response_stream(sse(evs), profile="openai")
    assert report.stream is not None and report.stream.refusal
    assert report.stream.output_text == ""


def test_unknown_events_and_fields_are_kept() -> None:
    evs = events(TEXT)
    evs[4]["x_trace"] = "abc"
    evs.insert(5, {"type": "acme:trace", "sequence_number": 5, "span": 1})
    for i, ev in enumerate(evs):
        ev["sequence_number"] = i
    report = check_response_stream(sse(evs), profile="openai")
    assert report.ok
    stream = report.stream
    assert stream is not None
    unknown = stream.events[5]
    assert isinstance(unknown, UnknownEvent) and unknown.model_extra == {"span": 1}
    assert stream.events[4].model_extra == {"x_trace": "abc"}
    assert {v.code: v.severity for v in report.violations} == {"OAS108": "info", "OAS110": "info"}
    assert "event.response.output_text.delta.x_trace" in stream.extensions


def test_schema_break_still_parses_and_says_where() -> None:
    evs = events(CALL)
    evs[4]["delta"] = 42
    report = check_response_stream(sse(evs), profile="openai")
    found = [v for v in report.violations if v.code == "OAS109"]
    assert found and found[0].path == "delta" and found[0].chunk == 4
    assert report.stream is not None
    assert isinstance(report.stream.events[4], FunctionCallArgumentsDelta)


def test_iterating_mode_keeps_nothing_and_raises_at_the_end() -> None:
    it = iter_checked_response_events(raw(QUOTA))
    seen = []
    with pytest.raises(StreamContractError):
        for ev in it:
            seen.append(ev.type)
    assert seen[-1] == "response.failed"
    checked = CheckedResponseEvents(raw(TEXT), profile="openai")
    assert sum(1 for _ in checked) == 10
    assert checked.report is not None and checked.report.ok
    assert checked.report.stream is not None and checked.report.stream.events == []
    assert checked.report.stream.output_text  # the assembly is still there


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="unknown rule 'OAS999'"):
        check_response_stream(raw(TEXT), ignore=["OAS999"])
    with pytest.raises(ValueError, match="unknown Responses profile 'nope'"):
        check_response_stream(raw(TEXT), profile="nope")
    with pytest.raises(TypeError, match="request"):
        check_response_stream(raw(TEXT), request="stream=true")  # type: ignore[arg-type]
    with pytest.raises(SourceError):
        check_response_stream(3.5)
    with pytest.raises(ValueError, match="unknown rule code"):
        ResponseProfile(name="x", severity={"OAS999": "off"})


def test_ignore_by_code_or_name() -> None:
    assert check_response_stream(raw(QUOTA), ignore=["OAS120", "error-event-shape"]).ok
    assert check_response_stream(raw(QUOTA), ignore="error-event,OAS121").ok


def test_custom_profiles_work_like_builtins() -> None:
    mine = register_response_profile(
        ResponseProfile(name="test-gw", extends="openai", severity={"OAS120": "warn"})
    )
    report = check_response_stream(raw(QUOTA), profile="test-gw")
    assert report.ok and report.profile.name == "test-gw"
    assert check_response_stream(raw(QUOTA), profile=mine).ok


def test_auto_uses_the_request_host_first() -> None:
    report = check_response_stream(
        raw(TEXT), url="https://myres.openai.azure.com/openai/v1/responses"
    )
    assert report.profile.name == "azure" and "host" in report.profile_reason
    local = check_response_stream(raw(TEXT), url="http://localhost:11434/v1/responses")
    assert local.profile.name == "ollama"


# ------------------------------------------------------------------ a real client, loopback


class _Handler(BaseHTTPRequestHandler):
    body = b""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.end_headers()
        body = type(self).body
        for i in range(0, len(body), 500):
            self.wfile.write(body[i : i + 500])
            self.wfile.flush()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[str]:
    handler = type("H", (_Handler,), {"body": raw(CALL)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_openai_sdk_stream_from_responses_create(loopback: str) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=loopback, api_key="test", max_retries=0)
    stream = client.responses.create(model="gpt-4o", input="weather?", stream=True)
    checked = assert_valid_response_stream(stream, profile="openai")
    assert checked.function_calls[0].parsed_arguments == {"location": "Florence, Italy"}


def test_openai_sdk_stream_manager(loopback: str) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=loopback, api_key="test", max_retries=0)
    with client.responses.stream(model="gpt-4o", input="weather?") as stream:
        checked = assert_valid_response_stream(stream, profile="openai")
    assert checked.function_calls[0].name == "weather"


def test_openai_async_sdk_stream(loopback: str) -> None:
    openai = pytest.importorskip("openai")

    async def run() -> None:
        client = openai.AsyncOpenAI(base_url=loopback, api_key="test", max_retries=0)
        stream = await client.responses.create(model="gpt-4o", input="weather?", stream=True)
        checked = await aassert_valid_response_stream(stream, profile="openai")
        assert checked.function_calls[0].call_id
        await client.close()

    asyncio.run(run())


def test_path_that_does_not_exist() -> None:
    with pytest.raises(FileNotFoundError):
        check_response_stream(Path("/nonexistent/stream.sse"))


def test_json_round_trip_of_the_report() -> None:
    report = check_response_stream(raw(QUOTA))
    data = json.loads(json.dumps(report.to_json()))
    assert data["ok"] is False and data["violations"][0]["code"] == "OAS120"


def test_a_chat_stream_is_refused_not_judged() -> None:
    chat = (CORPUS.parent / "corpus" / "openai__gpt-4o_text_include-usage.sse").read_bytes()
    with pytest.raises(SourceError, match=r"chat completions stream.*check_chunk_stream"):
        check_response_stream(chat)
    with pytest.raises(SourceError, match="chat completions stream"):
        list(iter_checked_response_events(chat))


def test_places_are_events_in_text_and_chunk_in_json() -> None:
    evs = events(TEXT)
    evs[5]["item_id"] = "msg_other"
    report = check_response_stream(sse(evs), profile="openai")
    assert "OAS125 item-id-consistent [error] at event 5:" in report.format()
    assert report.to_json()["violations"][0]["chunk"] == 5


def test_openai_async_sdk_stream_manager(loopback: str) -> None:
    openai = pytest.importorskip("openai")

    async def run() -> None:
        client = openai.AsyncOpenAI(base_url=loopback, api_key="test", max_retries=0)
        async with client.responses.stream(model="gpt-4o", input="weather?") as stream:
            checked = await aassert_valid_response_stream(stream, profile="openai")
        assert checked.function_calls[0].name == "weather"
        await client.close()

    asyncio.run(run())


def test_an_unentered_stream_manager_is_refused(loopback: str) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=loopback, api_key="test", max_retries=0)
    manager = client.responses.stream(model="gpt-4o", input="weather?")
    with pytest.raises(SourceError, match="enter it first"):
        check_response_stream(manager)
