"""``oapi_server`` serving the Responses API, as a user's test suite sees it (pytester)."""

from __future__ import annotations

import pytest

ARGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

USER_TESTS = """
import openai
import pytest

from pytest_oapi_stream import StreamContractError, assert_valid_response_stream

TOOLS = [{"name": "get_weather", "arguments": {"city": "Paris"}}]


def _client(server):
    return openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)


def test_function_call_through_the_sdk(oapi_server):
    oapi_server.stream("Checking.", reasoning="Weather asked.", tool_calls=TOOLS)
    with _client(oapi_server).responses.stream(model="gpt-5-mini", input="Paris?") as stream:
        final = stream.get_final_response()
    assert [o.type for o in final.output] == ["reasoning", "message", "function_call"]
    assert oapi_server.requests[0].path == "/v1/responses"


def test_the_served_stream_is_valid_and_a_fault_names_its_rule(oapi_server):
    import httpx

    oapi_server.stream("Hello there")
    body = {"model": "gpt-4o", "input": "hi", "stream": True}
    ok = httpx.post(oapi_server.base_url + "/responses", json=body).content
    assert_valid_response_stream(ok, profile="openai")
    oapi_server.stream("Hello there", faults={"drop_last_item_done": True})
    bad = httpx.post(oapi_server.base_url + "/responses", json=body).content
    with pytest.raises(StreamContractError, match="OAS123"):
        assert_valid_response_stream(bad, profile="openai")


def test_the_sdk_raises_on_a_missing_terminal(oapi_server):
    oapi_server.stream("Hello there", faults=["drop_terminal"])
    with pytest.raises(RuntimeError, match="response.completed"):
        with _client(oapi_server).responses.stream(model="gpt-4o", input="hi") as stream:
            stream.get_final_response()
"""


def test_oapi_server_fixture_speaks_responses(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_inprocess(*ARGS)
    result.assert_outcomes(passed=3)
