"""``OAPIServer`` answers the Responses API: real loopback server, real openai SDK and httpx.

What the server streams on ``POST .../responses`` is captured raw (httpx) and checked with
``check_response_stream``; what the SDK makes of it is what ``client.responses.create(stream=True)``
and ``client.responses.stream(...).get_final_response()`` return or raise.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from pytest_oapi_stream import check_response_stream
from pytest_oapi_stream.responses.builder import build_response_sse
from pytest_oapi_stream.server import OAPIServer
from pytest_oapi_stream.server.serve import build_server, parse_args

CORPUS = Path(__file__).parents[1] / "data" / "corpus-responses"
TOOLS = [{"name": "get_weather", "arguments": {"city": "Paris"}}]
REQUEST: dict[str, Any] = {"model": "gpt-4o", "input": "Say hello", "stream": True}


@pytest.fixture
def server() -> Any:
    with OAPIServer() as srv:
        yield srv
        assert srv.errors == []


def client(server: OAPIServer, **kw: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0, **kw)


def raw(server: OAPIServer, path: str = "/v1/responses", **body: Any) -> httpx.Response:
    return httpx.post(server.url + path, json={**REQUEST, **body}, timeout=10)


# --------------------------------------------------------------------------- conforming streams


@pytest.mark.parametrize(
    "recipe",
    [
        {},
        {"text": "héllo wörld"},
        {"reasoning": "The user greets me.", "text": "Hi!"},
        {"tool_calls": TOOLS},
        {"text": "Checking.", "tool_calls": TOOLS},
        {"refusal": "I can't help with that."},
    ],
)
def test_served_stream_passes_strict_openai(server: OAPIServer, recipe: dict[str, Any]) -> None:
    server.stream(**recipe)
    resp = raw(server)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    report = check_response_stream(resp.content, profile="openai", request=REQUEST)
    assert report.violations == []
    assert resp.content == build_response_sse(**recipe, request=REQUEST)


def test_sdk_iterates_and_assembles_text_reasoning_and_calls(server: OAPIServer) -> None:
    server.stream("Hello there", reasoning="Thinking.", tool_calls=TOOLS)
    c = client(server)
    types = [ev.type for ev in c.responses.create(model="gpt-4o", input="hi", stream=True)]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    with c.responses.stream(model="gpt-4o", input="hi") as stream:
        final = stream.get_final_response()
    assert final.output_text == "Hello there"
    assert [o.type for o in final.output] == ["reasoning", "message", "function_call"]
    call = final.output[2]
    assert call.type == "function_call" and json.loads(call.arguments) == {"city": "Paris"}
    assert final.usage is not None and final.usage.total_tokens > 0
    assert server.requests[-1].path == "/v1/responses"


def test_non_stream_request_gets_the_assembled_response(server: OAPIServer) -> None:
    server.stream("Hello there", tool_calls=TOOLS)
    resp = client(server).responses.create(model="gpt-5-mini", input="hi")
    assert resp.object == "response" and resp.status == "completed"
    assert resp.output_text == "Hello there" and resp.model == "gpt-5-mini"
    assert resp.usage is not None


def test_async_sdk(server: OAPIServer) -> None:
    server.stream("Async héllo")

    async def main() -> str:
        ac = openai.AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0)
        async with ac.responses.stream(model="gpt-4o", input="hi") as stream:
            final = await stream.get_final_response()
        await ac.close()
        return final.output_text

    assert asyncio.run(main()) == "Async héllo"


def test_azure_path(server: OAPIServer) -> None:
    server.stream("From Azure")
    resp = raw(server, "/openai/v1/responses")
    assert check_response_stream(resp.content, profile="openai").ok
    az = openai.OpenAI(base_url=server.url + "/openai/v1", api_key="t", max_retries=0)
    with az.responses.stream(model="gpt-4o", input="hi") as stream:
        assert stream.get_final_response().output_text == "From Azure"


def test_chat_keeps_working_beside_responses(server: OAPIServer) -> None:
    server.stream("Same script")
    chat = client(server).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}]
    )
    assert chat.choices[0].message.content == "Same script"
    with client(server).responses.stream(model="m", input="x") as stream:
        assert stream.get_final_response().output_text == "Same script"


@pytest.mark.parametrize("style", ["xai", "deepseek", "openrouter", "lmstudio", "llamacpp"])
def test_as_provider_styles_pass_their_profile_and_the_sdk(server: OAPIServer, style: str) -> None:
    server.stream("Styled", reasoning="Think.", tool_calls=TOOLS, as_provider=style)
    body = raw(server).content
    report = check_response_stream(body, profile=style)
    assert [v for v in report.violations if v.severity != "info"] == []
    with client(server).responses.stream(model="m", input="x") as stream:
        final = stream.get_final_response()
    assert final.output_text == "Styled"
    assert [o.type for o in final.output] == ["reasoning", "message", "function_call"]


# --------------------------------------------------------------------------- requests


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"input": 3}, "Invalid type for 'input'"),
        ({"stream": "yes"}, "Invalid type for 'stream'"),
        ({"max_output_tokens": 1}, "integer below minimum value"),
    ],
)
def test_invalid_requests_get_a_400(server: OAPIServer, body: dict[str, Any], message: str) -> None:
    resp = raw(server, **body)
    assert resp.status_code == 400
    assert message in resp.json()["error"]["message"]


def test_invalid_json_gets_a_400(server: OAPIServer) -> None:
    resp = httpx.post(server.url + "/v1/responses", content=b"{nope", timeout=10)
    assert resp.status_code == 400 and "could not parse the JSON" in resp.text


# --------------------------------------------------------------------------- one surface only


def test_a_responses_fault_leaves_chat_requests_a_400_naming_it(server: OAPIServer) -> None:
    server.stream("x y z", faults={"sequence_gap": 2})
    with pytest.raises(openai.BadRequestError, match="fault 'sequence_gap' does not apply"):
        client(server).chat.completions.create(model="m", messages=[])
    assert check_response_stream(raw(server).content).violations[0].code == "OAS107"


def test_a_chat_fault_leaves_responses_requests_a_400_naming_it(server: OAPIServer) -> None:
    server.stream("x y z", faults={"drop_done": True})
    resp = raw(server)
    assert resp.status_code == 400
    assert "fault 'drop_done' does not apply to Responses streams" in resp.text


def test_a_style_of_one_surface_only(server: OAPIServer) -> None:
    server.stream("x", as_provider="groq")  # a chat style: Responses requests are told why
    resp = raw(server)
    assert resp.status_code == 400 and "unknown as_provider 'groq' for Responses" in resp.text
    server.stream("x", as_provider="lmstudio")  # a Responses style
    assert raw(server).status_code == 200
    with pytest.raises(openai.BadRequestError, match=r"chat completions request: .*lmstudio"):
        client(server).chat.completions.create(model="m", messages=[])


def test_faults_of_both_surfaces_together_raise(server: OAPIServer) -> None:
    with pytest.raises(ValueError, match="apply to no single surface"):
        server.stream("x", faults={"drop_done": True, "sequence_gap": 2})


def test_a_fault_that_applies_to_neither_build_raises(server: OAPIServer) -> None:
    with pytest.raises(ValueError, match="needs a stream with two items"):
        server.stream("one item", faults={"item_id_other": True})
    with pytest.raises(ValueError, match="truncate_after"):
        server.stream("one two", faults={"truncate_after": 500})


# --------------------------------------------------------------------------- recorded sources


def test_serve_sse_replays_a_responses_recording_byte_for_byte(server: OAPIServer) -> None:
    path = CORPUS / "openai__gpt-4o_function-call.sse"
    server.serve_sse(path)
    assert raw(server).content == path.read_bytes()
    with client(server).responses.stream(model="m", input="x") as stream:
        final = stream.get_final_response()
    assert json.loads(final.output[0].arguments) == {"location": "Florence, Italy"}
    resp = client(server).responses.create(model="m", input="x")  # non-stream: assembled
    assert resp.status == "completed" and resp.output[0].type == "function_call"


def test_serve_sse_with_a_responses_fault(server: OAPIServer) -> None:
    server.serve_sse(CORPUS / "openai__gpt-4o_text.sse", faults={"drop_terminal": True})
    report = check_response_stream(raw(server).content)
    assert [v.code for v in report.violations] == ["OAS114"]
    with pytest.raises(ValueError, match="does not apply to Responses"):
        server.serve_sse(CORPUS / "openai__gpt-4o_text.sse", faults={"drop_done": True})


def test_serve_sse_keeps_openrouter_framing_under_faults(server: OAPIServer) -> None:
    path = CORPUS / "openrouter__gpt-oss-20b_data-only-done-sentinel.sse"
    server.serve_sse(path, faults={"sequence_gap": 5})
    body = raw(server).content
    assert b"event:" not in body and body.endswith(b"data: [DONE]\n\n")
    report = check_response_stream(body, profile="openrouter")
    assert "OAS107" in {v.code for v in report.violations}


def _cassette(path: Path, bodies: list[tuple[str, int, str, bytes]]) -> None:
    interactions = []
    for uri, status, ctype, body in bodies:
        interactions.append(
            {
                "request": {
                    "method": "POST",
                    "uri": uri,
                    "body": json.dumps(REQUEST),
                    "headers": {},
                },
                "response": {
                    "status": {"code": status, "message": "OK"},
                    "headers": {"Content-Type": [ctype], "Content-Encoding": ["gzip"]},
                    "body": {"string": gzip.compress(body)},
                },
            }
        )
    path.write_text(yaml.safe_dump({"version": 1, "interactions": interactions}))


def test_serve_cassette_with_responses_interactions(server: OAPIServer, tmp_path: Path) -> None:
    one = build_response_sse(text="first answer")
    two = (CORPUS / "openai__gpt-4o_text.sse").read_bytes()
    path = tmp_path / "resp.yaml"
    _cassette(
        path,
        [
            ("https://api.openai.com/v1/responses", 200, "text/event-stream", one),
            ("https://api.openai.com/v1/responses", 200, "text/event-stream; charset=utf-8", two),
        ],
    )
    server.serve_cassette(path, faults={"usage_in_progress": True})
    first = raw(server).content
    assert [v.code for v in check_response_stream(first).violations] == ["OAS118"]
    with client(server).responses.stream(model="m", input="x") as stream:
        assert stream.get_final_response().output_text == "Olá!"


# --------------------------------------------------------------------------- the CLI


def test_serve_command_takes_responses_faults_and_styles() -> None:
    srv = build_server(parse_args(["--text", "hi there you", "--fault", "sequence_reset=3"]))
    with srv:
        body = raw(srv).content
    assert {v.code for v in check_response_stream(body).violations} == {"OAS107"}
    srv = build_server(parse_args(["--tool-calls", "get_time", "--as-provider", "lmstudio"]))
    with srv:
        assert b"function_call_arguments.delta" not in raw(srv).content


def test_a_cassette_mixing_surfaces_never_drops_a_fault_silently(
    server: OAPIServer, tmp_path: Path
) -> None:
    from pytest_oapi_stream.chat.builder import build_sse

    path = tmp_path / "mixed.yaml"
    _cassette(
        path,
        [
            ("https://api.openai.com/v1/responses", 200, "text/event-stream", build_response_sse()),
            ("https://api.openai.com/v1/chat/completions", 200, "text/event-stream", build_sse()),
        ],
    )
    server.serve_cassette(path, faults={"sequence_gap": 3})
    assert check_response_stream(raw(server).content).violations[0].code == "OAS107"
    second = raw(server)  # the chat interaction: the fault cannot apply, so it is not served
    assert second.status_code == 400
    assert "cannot replay this recorded chat completions stream" in second.text


def test_serve_chunks_takes_responses_events(server: OAPIServer) -> None:
    path = CORPUS / "openai__gpt-4o_text.sse"
    payloads = [
        json.loads(line[6:])
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("data: ")
    ]
    server.serve_chunks(payloads)
    assert raw(server).content == path.read_bytes()  # framed as recorded, no [DONE]
    assert client(server).responses.create(model="m", input="x").output_text == "Olá!"
    server.serve_chunks(payloads, done=True, faults={"terminal_twice": True})
    body = raw(server).content
    assert body.endswith(b"data: [DONE]\n\n")
    assert {v.code for v in check_response_stream(body).violations} == {"OAS104", "OAS114"}
