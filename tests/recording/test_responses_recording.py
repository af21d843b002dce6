"""Responses streams through the plugin: record with real clients from a loopback server, replay
offline (re-chunked), check every streamed Responses interaction at teardown with its recorded
request, resume with ``GET /v1/responses/{id}?stream=true&starting_after=N``, gate a changed
shape on re-recording.

The loopback server answers with recorded corpus bytes (a tiny ``http.server`` on 127.0.0.1).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Imported once here: pytester drops the modules an in-process run imports (see test_plugin.py).
import httpx  # noqa: F401
import openai  # noqa: F401
import pytest
import requests  # noqa: F401
import vcr  # noqa: F401
import yaml

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

CORPUS = Path(__file__).parents[1] / "data" / "corpus-responses"
TEXT = CORPUS / "openai__gpt-4o_text.sse"
FUNC = CORPUS / "openai__gpt-4o_function-call.sse"
RESUMED = CORPUS / "openai__gpt-4.1-mini_background-resume-starting-after.sse"


class SSEServer:
    """Answers ``POST .../responses`` with ``post`` and ``GET .../responses/{id}`` with
    ``get``, as ``text/event-stream`` written in a few pieces; remembers the requests."""

    def __init__(self) -> None:
        self.post = TEXT.read_bytes()
        self.get = RESUMED.read_bytes()
        self.requests: list[tuple[str, str, bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, body: bytes | None) -> None:
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for i in range(0, len(body), 997):
                    self.wfile.write(body[i : i + 997])
                    self.wfile.flush()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                owner.requests.append(("POST", self.path, self.rfile.read(length)))
                self._answer(owner.post if self.path.rstrip("/").endswith("/responses") else None)

            def do_GET(self) -> None:
                owner.requests.append(("GET", self.path, b""))
                self._answer(owner.get if "/responses/" in self.path else None)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def sse_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SSEServer]:
    server = SSEServer()
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-KEY-0123456789")
    try:
        yield server
    finally:
        server.close()


def _cassette(pytester: pytest.Pytester, name: str, module: str = "test_resp") -> Path:
    return pytester.path / "cassettes" / module / f"{name}.yaml"


def _record_then_replay(
    pytester: pytest.Pytester,
    server: SSEServer,
    monkeypatch: pytest.MonkeyPatch,
    passed: int,
    *args: str,
) -> pytest.RunResult:
    """Record against the loopback server, stop it, replay offline without a key."""
    pytester.runpytest_inprocess("--oapi-record", "-p", "no:cacheprovider").assert_outcomes(
        passed=passed
    )
    server.close()  # replay must not need it
    monkeypatch.delenv("OPENAI_API_KEY")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=passed)
    return result


CLIENTS = """
import asyncio
import os

import httpx
import openai
import pytest
import requests


@pytest.mark.oapi
def test_sdk_create():
    client = openai.OpenAI(max_retries=0)
    stream = client.responses.create(model="gpt-4o", input="Hi", stream=True)
    text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
    assert text == "Olá!"


@pytest.mark.oapi
def test_sdk_stream_manager():
    client = openai.OpenAI(max_retries=0)
    with client.responses.stream(model="gpt-4o", input="Hi") as stream:
        final = stream.get_final_response()
    assert final.output_text == "Olá!"


@pytest.mark.oapi
def test_async_sdk():
    async def go():
        client = openai.AsyncOpenAI(max_retries=0)
        stream = await client.responses.create(model="gpt-4o", input="Hi", stream=True)
        parts = [e.delta async for e in stream if e.type == "response.output_text.delta"]
        async with client.responses.stream(model="gpt-4o", input="Again") as s:
            final = await s.get_final_response()
        return "".join(parts), final.output_text

    streamed, final = asyncio.run(go())
    assert streamed == final == "Olá!"


@pytest.mark.oapi
def test_httpx_and_requests():
    url = os.environ["OPENAI_BASE_URL"] + "/responses"
    body = {"model": "gpt-4o", "input": "Hi", "stream": True}
    with httpx.stream("POST", url, json=body) as r:
        pieces = list(r.iter_raw())
    assert b"response.completed" in b"".join(pieces)
    r2 = requests.post(url, json={**body, "input": "Hi 2"}, stream=True)
    assert b"response.completed" in b"".join(r2.iter_content(None))
    # re-chunked on replay: many pieces; one blob per server write when recording
    if os.environ.get("EXPECT_PIECES"):
        assert len(pieces) > 50, len(pieces)


@pytest.mark.oapi
def test_resume(oapi_cassette):
    client = openai.OpenAI(max_retries=0)
    stream = client.responses.retrieve(
        "resp_0a5004ef5dc3564c0069845a9c82c481938b9b7c975a6f56b1", stream=True, starting_after=1
    )
    events = list(stream)
    assert events[0].sequence_number == 2 and events[-1].type == "response.completed"
    (report,) = oapi_cassette.reports
    assert report.ok and report.stream.terminal == "response.completed"
    assert "starting_after=1" in oapi_cassette.interactions[0].uri
"""


def test_responses_streams_record_and_replay_through_real_clients(
    pytester: pytest.Pytester, sse_server: SSEServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_resp=CLIENTS)
    result = _record_then_replay(pytester, sse_server, monkeypatch, 5)
    result.stdout.fnmatch_lines(["cassettes: 5 replayed, 0 recorded, 0 missing"])
    # the GET with its query was recorded, and so were both POSTs of the httpx/requests test
    resumed = yaml.safe_load(_cassette(pytester, "test_resume").read_text())
    (inter,) = resumed["interactions"]
    assert inter["request"]["method"] == "GET" and "starting_after=1" in inter["request"]["uri"]
    both = yaml.safe_load(_cassette(pytester, "test_httpx_and_requests").read_text())
    assert [i["request"]["method"] for i in both["interactions"]] == ["POST", "POST"]
    # replay hands the body over in many pieces (split inside lines and characters)
    monkeypatch.setenv("EXPECT_PIECES", "1")
    pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-k", "httpx_and_requests"
    ).assert_outcomes(passed=1)
    assert all(not r[2] or b"sk-live" not in r[2] for r in sse_server.requests)
    for path in (pytester.path / "cassettes").rglob("*.yaml"):
        assert "sk-live-KEY" not in path.read_text()


CHECKED = """
import openai
import pytest


@pytest.mark.oapi
def test_create():
    client = openai.OpenAI(max_retries=0)
    stream = client.responses.create(model="gpt-4o", input="Hi", stream=True)
    for _ in stream:
        pass
"""


def test_a_corrupted_responses_cassette_fails_naming_the_rule(
    pytester: pytest.Pytester, sse_server: SSEServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_resp=CHECKED)
    _record_then_replay(pytester, sse_server, monkeypatch, 1)
    path = _cassette(pytester, "test_create")
    text = path.read_text()
    # the terminal event renamed: a client never sees the response complete
    broken = text.replace('"type":"response.completed"', '"type":"response.done"')
    assert broken != text
    path.write_text(broken)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "OAS114 terminal-once-last [error]" in out
    assert "cassettes/test_resp/test_create.yaml #0 POST" in out
    assert "Traceback" not in out


def test_the_marker_profile_and_the_recorded_request_judge_the_stream(
    pytester: pytest.Pytester, sse_server: SSEServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorded request's starting_after makes a resumed stream legal; without it the same
    bytes start mid-stream. The marker's profile and ignore= apply."""
    pytester.makepyfile(
        test_resp="""
import openai
import pytest


@pytest.mark.oapi
def test_post_resumed_bytes(oapi_cassette):
    client = openai.OpenAI(max_retries=0)
    for _ in client.responses.create(model="gpt-4o", input="Hi", stream=True):
        pass


@pytest.mark.oapi(ignore=["OAS111"])
def test_ignored(oapi_cassette):
    client = openai.OpenAI(max_retries=0)
    for _ in client.responses.create(model="gpt-4o", input="Hi", stream=True):
        pass
"""
    )
    sse_server.post = RESUMED.read_bytes()  # served to a POST: no starting_after was asked for
    result = pytester.runpytest_inprocess("--oapi-record", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*OAS111*", "FAILED test_resp.py::test_post_resumed_bytes*"])


SHAPED = """
import openai
import pytest


@pytest.mark.oapi
def test_tool():
    client = openai.OpenAI(max_retries=0)
    with client.responses.stream(model="gpt-4o", input="Weather?") as stream:
        final = stream.get_final_response()
    assert final.output[0].type == "function_call"
"""


def _without_argument_deltas(body: bytes) -> bytes:
    blocks = body.decode().split("\n\n")
    kept = [b for b in blocks if "function_call_arguments.delta" not in b]
    # renumber so the stream stays legal: only the structure changed
    out, seq = [], 0
    for block in kept:
        lines = block.split("\n")
        for i, line in enumerate(lines):
            if line.startswith("data: {"):
                payload = json.loads(line[6:])
                payload["sequence_number"] = seq
                seq += 1
                lines[i] = "data: " + json.dumps(payload)
        out.append("\n".join(lines))
    return "\n\n".join(out).encode()


def test_a_changed_responses_shape_fails_the_rerecord_naming_the_change(
    pytester: pytest.Pytester, sse_server: SSEServer
) -> None:
    pytester.makepyfile(test_resp=SHAPED)
    sse_server.post = FUNC.read_bytes()
    pytester.runpytest_inprocess("--oapi-record", "-p", "no:cacheprovider").assert_outcomes(
        passed=1
    )
    cassette = _cassette(pytester, "test_tool")
    shape_file = cassette.with_name("test_tool.shape.yaml")
    shape = yaml.safe_load(shape_file.read_text())
    assert shape["streams"][0]["surface"] == "responses"

    sse_server.post = FUNC.read_bytes()  # the same structure again: passes
    pytester.runpytest_inprocess("--oapi-record", "-p", "no:cacheprovider").assert_outcomes(
        passed=1
    )
    before = cassette.read_text()

    sse_server.post = _without_argument_deltas(FUNC.read_bytes())
    result = pytester.runpytest_inprocess("--oapi-record", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*stream shape changed*",
            "*the function_call item no longer streams argument deltas, only "
            "`function_call_arguments.done`",
        ]
    )
    assert cassette.read_text() == before  # the old cassette and shape are kept
    assert yaml.safe_load(shape_file.read_text()) == shape

    result = pytester.runpytest_inprocess(
        "--oapi-record", "--oapi-accept-changes", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)
    lifecycle = yaml.safe_load(shape_file.read_text())["streams"][0]["items"][0]["lifecycle"]
    assert "function_call_arguments.delta" not in lifecycle


LANGCHAIN = """
import pytest
from langchain_openai import ChatOpenAI


@pytest.mark.oapi
def test_langchain():
    llm = ChatOpenAI(model="gpt-4o", use_responses_api=True, streaming=True, max_retries=0)
    parts = [chunk.text for chunk in llm.stream("Hi")]
    assert "".join(parts) == "Olá!"
    assert llm.invoke("Hi again").text == "Olá!"
"""


def test_langchain_responses_api_records_and_replays(
    pytester: pytest.Pytester, sse_server: SSEServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("langchain_openai")
    pytester.makepyfile(test_resp=LANGCHAIN)
    result = _record_then_replay(pytester, sse_server, monkeypatch, 1)
    result.stdout.fnmatch_lines(["streams checked: 2, with violations: 0"])
    posted = [json.loads(body) for method, _path, body in sse_server.requests if method == "POST"]
    assert len(posted) == 2 and all(p.get("stream") is True for p in posted)


def test_chat_chunks_on_responses_and_a_chat_only_profile_fail_with_one_line(
    pytester: pytest.Pytester, sse_server: SSEServer
) -> None:
    chat = Path(__file__).parents[1] / "data" / "corpus" / "openai__gpt-4o_text_include-usage.sse"
    sse_server.post = chat.read_bytes()
    pytester.makepyfile(
        test_resp="""
import httpx
import os
import pytest


def post():
    url = os.environ["OPENAI_BASE_URL"] + "/responses"
    httpx.post(url, json={"model": "m", "input": "Hi", "stream": True}).read()


@pytest.mark.oapi
def test_chat_on_responses():
    post()
"""
    )
    result = pytester.runpytest_inprocess("--oapi-record", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*#0 POST http://127.0.0.1:*/v1/responses: this is a chat*"])
    assert "Traceback" not in result.stdout.str()
    sse_server.post = TEXT.read_bytes()
    pytester.makepyfile(
        test_resp=CHECKED.replace("@pytest.mark.oapi", '@pytest.mark.oapi(profile="groq")')
    )
    result = pytester.runpytest_inprocess("--oapi-record", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*unknown Responses profile 'groq'*"])
    assert "Traceback" not in result.stdout.str()
