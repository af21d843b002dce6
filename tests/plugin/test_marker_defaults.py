"""The marker's settings reach every check the test body calls (issue 9, point 1).

Inside a marked test (or one using ``oapi_cassette``), ``check_chunk_stream``,
``assert_valid_chunk_stream``, their async twins and ``iter_checked_chunks`` (and the Responses
functions alike) called without
``profile``/``ignore``/``strict`` take the marker's (else the command line's, else the ini's),
and the recorded request and URL of a stream that came through the test's cassette. Explicit
arguments win; outside a marked test nothing changes.
"""

from __future__ import annotations

# Imported once here: an in-process run that imports them itself would re-import them.
import httpx  # noqa: F401
import openai  # noqa: F401
import pytest
import vcr  # noqa: F401

from pytest_oapi_stream import check_chunk_stream
from pytest_oapi_stream.chat.builder import build_sse
from pytest_oapi_stream.core import defaults
from pytest_oapi_stream.server import OAPIServer

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

BODY = """
import asyncio
import httpx
import openai
import pytest
from pytest_oapi_stream import (
    aassert_valid_chunk_stream, acheck_chunk_stream, assert_valid_chunk_stream,
    check_chunk_stream, iter_checked_chunks,
)

MESSAGES = [{"role": "user", "content": "Hi"}]


def ask():
    client = openai.OpenAI(max_retries=0)
    return client.chat.completions.create(model="deepseek-chat", stream=True, messages=MESSAGES)


async def aask():
    client = openai.AsyncOpenAI(max_retries=0)
    return await client.chat.completions.create(
        model="deepseek-chat", stream=True, messages=MESSAGES)


def verdicts():
    sync = check_chunk_stream(ask())
    chunks = assert_valid_chunk_stream(ask())
    assert chunks.text == "Hello there!"
    iterated = "".join(c.choices[0].delta.content or "" for c in iter_checked_chunks(ask()))
    assert iterated == "Hello there!"
    asynchronous = asyncio.run(acheck_chunk_stream(asyncio.run(aask())))
    asyncio.run(aassert_valid_chunk_stream(asyncio.run(aask())))
    return sync, asynchronous
"""

MARKED = (
    BODY
    + """

@pytest.mark.oapi(profile="deepseek", check=False)
def test_marked():
    sync, asynchronous = verdicts()
    assert sync.ok and sync.profile.name == "deepseek", sync.format()
    assert asynchronous.ok and asynchronous.profile.name == "deepseek"
    # explicit arguments win
    assert check_chunk_stream(ask(), profile="openai").profile.name == "openai"
"""
)


@pytest.fixture
def deepseek(oapi_server: OAPIServer, monkeypatch: pytest.MonkeyPatch) -> OAPIServer:
    """A loopback provider streaming as DeepSeek does (fails OAS021 under ``openai``)."""
    monkeypatch.setenv("OPENAI_BASE_URL", oapi_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-KEY-0123456789")
    return oapi_server.stream(text="Hello there!", as_provider="deepseek")


def test_the_stream_fails_under_openai_and_passes_under_deepseek() -> None:
    """The premise of these tests: the profile decides the verdict."""
    body = build_sse(text="Hello there!", as_provider="deepseek")
    assert check_chunk_stream(body, profile="deepseek").ok
    report = check_chunk_stream(body)  # outside a marked test: auto, which finds no signal
    assert not report.ok and report.profile.name == "openai"
    assert "OAS021" in {v.code for v in report.failures}


def test_the_marker_profile_reaches_every_check_in_the_body(
    pytester: pytest.Pytester, deepseek: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_chat=MARKED)
    result = pytester.runpytest_inprocess("--oapi-record")
    result.assert_outcomes(passed=1)
    deepseek.stop()
    monkeypatch.delenv("OPENAI_API_KEY")
    result = pytester.runpytest_inprocess()  # replayed offline: the same verdicts
    result.assert_outcomes(passed=1)


def test_command_line_and_ini_profile_reach_the_body_and_the_marker_wins(
    pytester: pytest.Pytester, deepseek: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_chat=BODY
        + """

@pytest.mark.oapi(check=False)
def test_default():
    import os
    sync, asynchronous = verdicts()
    assert sync.ok and sync.profile.name == "deepseek", sync.format()
    # the report says where the profile was set
    assert sync.profile_reason == "from " + os.environ["WANT_ORIGIN"], sync.profile_reason


@pytest.mark.oapi(profile="openai", check=False)
def test_marker_wins():
    report = check_chunk_stream(ask())
    assert report.profile.name == "openai" and report.profile_reason == "from the oapi marker"
    assert check_chunk_stream(ask(), profile="openai").profile_reason == "chosen explicitly"


def test_unmarked_is_unchanged():
    assert check_chunk_stream(ask()).profile.name == "openai"  # auto: no provider signal


def test_fixture_without_marker(oapi_cassette):
    assert check_chunk_stream(ask()).profile.name == "deepseek"
"""
    )
    monkeypatch.setenv("WANT_ORIGIN", "--oapi-profile")
    result = pytester.runpytest_inprocess("--oapi-live", "--oapi-profile", "deepseek")
    result.assert_outcomes(passed=4)
    pytester.makeini("[pytest]\noapi_profile = deepseek\n")
    monkeypatch.setenv("WANT_ORIGIN", "ini oapi_profile")
    result = pytester.runpytest_inprocess("--oapi-live")
    result.assert_outcomes(passed=4)


def test_ignore_and_strict_reach_the_body(pytester: pytest.Pytester, deepseek: OAPIServer) -> None:
    pytester.makepyfile(
        test_chat=BODY
        + """

@pytest.mark.oapi(ignore=["OAS021"], check=False)
def test_ignored():
    assert check_chunk_stream(ask()).ok


@pytest.mark.oapi(profile="deepseek", strict=True, check=False)
def test_strict():
    report = check_chunk_stream(ask())
    assert report.strict
    assert not check_chunk_stream(ask(), strict=False).strict  # explicit wins
"""
    )
    result = pytester.runpytest_inprocess("--oapi-live")
    result.assert_outcomes(passed=2)
    result = pytester.runpytest_inprocess("--oapi-live", "--oapi-ignore", "OAS021", "-k", "strict")
    result.assert_outcomes(passed=1, deselected=1)


def test_the_recorded_request_and_url_reach_the_body(
    pytester: pytest.Pytester, oapi_server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without its request, a request-dependent rule is only info ("request unknown")."""
    monkeypatch.setenv("OPENAI_BASE_URL", oapi_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-KEY-0123456789")
    oapi_server.stream(text="Hello there!")
    pytester.makepyfile(
        test_chat="""
import httpx
import os
import openai
import pytest
from pytest_oapi_stream import check_chunk_stream

BODY = {"model": "m", "stream": True, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "Hi"}]}


def unknown(report):
    return [v.code for v in report.violations if "request unknown" in v.message]


@pytest.mark.oapi
def test_sdk_stream():
    client = openai.OpenAI(max_retries=0)
    stream = client.chat.completions.create(**BODY)
    report = check_chunk_stream(stream)
    assert report.ok and unknown(report) == [], report.format()


@pytest.mark.oapi
def test_httpx_body_bytes():
    url = os.environ["OPENAI_BASE_URL"] + "/chat/completions"
    body = httpx.post(url, json=BODY).content
    assert unknown(check_chunk_stream(body)) == []
    assert unknown(check_chunk_stream(body.decode())) == []
    # explicit wins: a request without include_usage makes the usage chunk a warning
    warned = check_chunk_stream(body, request={"model": "m"}).violations
    assert [v.code for v in warned if v.severity == "warn"] == ["OAS027"]


def test_unmarked_knows_no_request():
    url = os.environ["OPENAI_BASE_URL"] + "/chat/completions"
    assert unknown(check_chunk_stream(httpx.post(url, json=BODY).content)) != []
"""
    )
    result = pytester.runpytest_inprocess("--oapi-record")
    result.assert_outcomes(passed=3)
    oapi_server.stop()
    monkeypatch.delenv("OPENAI_API_KEY")
    result = pytester.runpytest_inprocess("-k", "not unmarked")
    result.assert_outcomes(passed=2, deselected=1)


def test_outside_pytest_nothing_is_ambient() -> None:
    assert defaults.current() is None
    body = build_sse(text="Hi", as_provider="deepseek")
    with defaults.applied(defaults.CheckDefaults(profile="deepseek", ignore=("OAS005",))):
        report = check_chunk_stream(body)
        assert report.profile.name == "deepseek"
        assert check_chunk_stream(body, profile="openai").profile.name == "openai"
    assert defaults.current() is None
    assert check_chunk_stream(body).profile.name == "openai"


RESPONSES_BODY = """
import asyncio
import openai
import pytest
from pytest_oapi_stream import (
    CheckedResponseEvents, acheck_response_stream, assert_valid_response_stream,
    check_response_stream,
)


def ask():
    return openai.OpenAI(max_retries=0).responses.create(model="m", input="Hi", stream=True)


async def aask():
    client = openai.AsyncOpenAI(max_retries=0)
    return await client.responses.create(model="m", input="Hi", stream=True)


@pytest.mark.oapi(profile="lmstudio", ignore=["OAS110"], check=False)
def test_marked():
    report = check_response_stream(ask())
    assert report.profile.name == "lmstudio" and report.ignored == ("OAS110",)
    assert assert_valid_response_stream(ask()).output_text == "Hello there!"
    it = CheckedResponseEvents(ask())
    assert len(list(it)) > 3 and it.report.profile.name == "lmstudio"
    later = asyncio.run(acheck_response_stream(asyncio.run(aask())))
    assert later.profile.name == "lmstudio"
    # explicit arguments win
    assert check_response_stream(ask(), profile="openai").profile.name == "openai"
"""


def test_the_marker_settings_reach_the_responses_checks_too(
    pytester: pytest.Pytester, oapi_server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", oapi_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-KEY-0123456789")
    oapi_server.stream(text="Hello there!", as_provider="lmstudio")
    pytester.makepyfile(test_responses=RESPONSES_BODY)
    result = pytester.runpytest_inprocess("--oapi-record")
    result.assert_outcomes(passed=1)
    oapi_server.stop()
    monkeypatch.delenv("OPENAI_API_KEY")
    result = pytester.runpytest_inprocess()  # replayed offline: the same verdicts
    result.assert_outcomes(passed=1)
