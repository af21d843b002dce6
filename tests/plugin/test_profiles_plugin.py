"""Custom profiles from the ini (``oapi_profiles``) through the plugin, on both surfaces: a line
makes a Responses profile that the marker, ``--oapi-profile`` and a cassette's checks use."""

from __future__ import annotations

from pathlib import Path

# Imported once here: pytester drops the modules an in-process run imports (see test_plugin.py).
import httpx  # noqa: F401
import openai  # noqa: F401
import pytest
import vcr  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

DATA = Path(__file__).parents[1] / "data"
#: xAI's Responses stream omits ``logprobs`` in ``response.output_text.done``: OAS109 under
#: strict ``openai``, kept under a profile that makes the field optional.
XAI = DATA / "corpus-responses" / "xai__grok-2-1212_text-region-suffixed-ids.sse"
SEED = DATA / "seed" / "deepseek-chat__hello.sse"

INI = """
[pytest]
oapi_profiles =
    xai-gateway: optional=event.response.output_text.done.logprobs
    both-gw: extends=openai sse-comments=info
    chat-gw: surface=chat OAS021=off OAS026=off
"""

TESTS = """
import openai
import pytest


def ask(server, body):
    server.serve_sse(body)
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
    stream = client.responses.create(model="grok-2-1212", input="Hi", stream=True)
    return "".join(e.delta for e in stream if e.type == "response.output_text.delta")


@pytest.mark.oapi{marker}
def test_xai(oapi_server):
    assert ask(oapi_server, {xai!r})
"""


def _run(pytester: pytest.Pytester, marker: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_resp=TESTS.format(marker=marker, xai=str(XAI)))
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def test_an_ini_profile_checks_a_recorded_responses_stream(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    _run(pytester, '(profile="xai-gateway")', "--oapi-record").assert_outcomes(passed=1)
    assert (pytester.path / "cassettes" / "test_resp" / "test_xai.yaml").is_file()
    # replayed offline from the cassette, checked with the ini profile
    result = _run(pytester, '(profile="xai-gateway")')
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["cassettes: 1 replayed, 0 recorded, 0 missing"])
    # the same cassette under strict openai: the field the profile made optional is missing
    result = _run(pytester, '(profile="openai")')
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*OAS109 event-required-fields*without logprobs*"])
    # the profile chosen on the command line, for every test
    _run(pytester, "", "--oapi-profile", "xai-gateway").assert_outcomes(passed=1)
    # a profile of both surfaces (its line has only settings both have) works here too
    result = _run(pytester, '(profile="both-gw")')
    result.assert_outcomes(failed=1)  # it relaxes comments, not logprobs
    result.stdout.fnmatch_lines(["*profile: both-gw (from the oapi marker)*"])
    # a chat-only profile is refused on a Responses stream, in one line naming why
    result = _run(pytester, '(profile="chat-gw")')
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*unknown Responses profile 'chat-gw'*('chat-gw' is a chat*"])
    assert "Traceback" not in result.stdout.str()


def test_a_line_of_both_surfaces_relaxes_each(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_it=f"""
        from pytest_oapi_stream import check_chunk_stream, check_response_stream, get_profile
        from pytest_oapi_stream import get_response_profile

        def test_both():
            assert get_profile("both-gw").severity["OAS005"] == "info"
            assert get_response_profile("both-gw").severity["OAS005"] == "info"
            assert check_response_stream(open({str(XAI)!r}, "rb").read(), profile="xai-gateway").ok
            assert check_chunk_stream(open({str(SEED)!r}, "rb").read(), profile="chat-gw").ok
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "gw: OAS021=off OAS137=warn",
            "*oapi_profiles: profile 'gw': no surface has all its settings: OAS137=warn is not a "
            "chat setting*write one line per surface with surface=chat and surface=responses",
        ),
        (
            "gw: surface=responses usage_in_x_groq=true",
            "*oapi_profiles: profile 'gw' (surface=responses): unknown setting 'usage_in_x_groq'*",
        ),
        ("gw: done_required=perhaps", "*profile 'gw': done_required takes true or false*"),
    ],
)
def test_a_bad_line_stops_the_run_naming_the_setting(
    pytester: pytest.Pytester, line: str, message: str
) -> None:
    pytester.makeini(f"[pytest]\noapi_profiles = {line}\n")
    pytester.makepyfile(test_it="def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str()
