"""A failing test names the rule its stream broke (issue 9, point 2).

The case from the issue: a cassette whose second tool call's first fragment lost its ``index``.
A client then assembles a wrong tool list (LangChain: a tool named ``''``) or raises, and the
test fails on that. The plugin still checks the streams the test consumed: the failure report
gets a section naming the broken rule, the summary counts the stream, and the test's own
error stays the failure.
"""

from __future__ import annotations

from pathlib import Path

# Imported once here: an in-process run that imports them itself would re-import them.
import httpx  # noqa: F401
import openai  # noqa: F401
import pytest
import vcr  # noqa: F401

from pytest_oapi_stream.server import OAPIServer

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

TOOLS = [
    {"name": "get_weather", "arguments": {"city": "Paris"}},
    {"name": "get_time", "arguments": {"tz": "Europe/Paris"}},
]

TEST = """
import openai
import pytest

TOOLS = [{{"type": "function", "function": {{"name": n, "parameters": {{"type": "object"}}}}}}
         for n in ("get_weather", "get_time")]
ARGS = dict(model="gpt-4o-mini", messages=[{{"role": "user", "content": "Paris?"}}], tools=TOOLS)


def names_by_index(stream):
    calls = {{}}
    for chunk in stream:
        for tc in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            calls.setdefault(tc.index, "")
            calls[tc.index] += tc.function.name or "" if tc.function else ""
    return list(calls.values())


@pytest.mark.oapi{marker}
def test_tools():
    client = openai.OpenAI(max_retries=0)
{body}
"""

BODIES = {
    # the test's own assert on what it assembled
    "assert": "    names = names_by_index(client.chat.completions.create(stream=True, **ARGS))\n"
    "    assert names == ['get_weather', 'get_time']\n",
    # the openai SDK's own accumulator raises on a fragment without index
    "client error": "    with client.chat.completions.stream(**ARGS) as stream:\n"
    "        final = stream.get_final_completion()\n"
    "    assert len(final.choices[0].message.tool_calls) == 2\n",
    # anything else after the stream was read: a timeout, say
    "timeout": "    names_by_index(client.chat.completions.create(stream=True, **ARGS))\n"
    "    raise TimeoutError('the agent did not answer in time')\n",
}


def _record_and_break(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Record the two-tool stream through the openai SDK, then drop ``index`` from the second
    tool call's first fragment, and replay from then on."""
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-KEY-0123456789")
    server.stream(tool_calls=TOOLS)
    passing = BODIES["assert"].replace("['get_weather', 'get_time']", "names")
    pytester.makepyfile(test_tools=TEST.format(marker="", body=passing))
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    path: Path = pytester.path / "cassettes" / "test_tools" / "test_tools.yaml"
    text = path.read_text()
    fragment = '"tool_calls":[{"index":1,"id":'
    assert text.count(fragment) == 1
    path.write_text(text.replace(fragment, '"tool_calls":[{"id":'))
    monkeypatch.delenv("OPENAI_API_KEY")


@pytest.mark.parametrize("kind", list(BODIES))
def test_a_failing_body_names_the_rule_its_stream_broke(
    pytester: pytest.Pytester,
    oapi_server: OAPIServer,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    _record_and_break(pytester, oapi_server, monkeypatch)
    pytester.makepyfile(test_tools=TEST.format(marker="", body=BODIES[kind]))
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    own = {
        "assert": "E       AssertionError: assert ['get_weather*",
        "client error": "E   *RuntimeError: Expected list delta entry to have an `index` key*",
        "timeout": "E       TimeoutError: the agent did not answer in time",
    }[kind]
    result.stdout.fnmatch_lines(
        [
            own,  # the test's own failure stays the failure
            "*- oapi-stream: stream contract -*",
            "the stream this test consumed breaks its contract; "
            "this is the likely cause of the failure above.",
            "stream contract violated (cassettes/test_tools/test_tools.yaml #0 POST *): "
            "1 error(s), 0 warning(s)",
            "  - OAS029 tool-index-present [[]error] at chunk 7: tool-call fragment without*",
            "*- oapi-stream summary -*",
            "streams checked: 1, with violations: 1",
            "violations: OAS029 tool-index-present x1",
        ]
    )
    assert "StreamContractError" not in result.stdout.str()  # not raised: only explained


def test_a_clean_stream_adds_nothing_to_a_failing_body(
    pytester: pytest.Pytester, oapi_server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", oapi_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-KEY-0123456789")
    oapi_server.stream(tool_calls=TOOLS)
    pytester.makepyfile(test_tools=TEST.format(marker="", body=BODIES["timeout"]))
    result = pytester.runpytest_inprocess("--oapi-live")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["streams checked: 1, with violations: 0"])
    result.stdout.no_fnmatch_line("*stream contract*")


def test_check_false_and_the_body_s_own_contract_error_are_not_repeated(
    pytester: pytest.Pytester, oapi_server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record_and_break(pytester, oapi_server, monkeypatch)
    pytester.makepyfile(test_tools=TEST.format(marker="(check=False)", body=BODIES["timeout"]))
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("*the stream this test consumed*")
    body = (
        "    from pytest_oapi_stream import assert_valid_chunk_stream\n"
        "    assert_valid_chunk_stream(client.chat.completions.create(stream=True, **ARGS))\n"
    )
    pytester.makepyfile(test_tools=TEST.format(marker="", body=body))
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*OAS029 tool-index-present*", "streams checked: 1, *: 1"])
    result.stdout.no_fnmatch_line("*the stream this test consumed*")  # said once, by the body
