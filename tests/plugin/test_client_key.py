"""``oapi_client`` without an API key: recording or live mode fails at setup with one line
naming OPENAI_API_KEY and where the requests would go, not with the openai SDK's traceback,
and sends nothing. (Replaying needs no key: tests/plugin/test_plugin.py replays both clients
without one.)"""

from __future__ import annotations

# Imported once here: an in-process run that imports them itself would re-import them.
import httpx  # noqa: F401
import openai  # noqa: F401
import pytest
import vcr  # noqa: F401

from pytest_oapi_stream.server import OAPIServer

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

TEST = """
import asyncio
import pytest


@pytest.mark.oapi
def test_sync(oapi_client):
    stream = oapi_client.chat.completions.create(
        model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "Hi"}])
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


@pytest.mark.oapi
def test_async(oapi_async_client):
    async def go():
        stream = await oapi_async_client.chat.completions.create(
            model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "Hi"}])
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(go())
"""


@pytest.mark.parametrize(
    ("flag", "doing"), [("--oapi-record", "recording"), ("--oapi-live", "live mode")]
)
def test_no_key_names_the_variable_and_the_target(
    pytester: pytest.Pytester,
    oapi_server: OAPIServer,
    monkeypatch: pytest.MonkeyPatch,
    flag: str,
    doing: str,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", oapi_server.base_url)
    oapi_server.stream(text="Hello there!")
    pytester.makepyfile(test_chat=TEST)
    result = pytester.runpytest_inprocess(flag, "-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    line = (
        "{}: OPENAI_API_KEY is not set; "
        f"{doing} sends real requests to "
        f"{oapi_server.base_url} (OPENAI_BASE_URL / ini oapi_base_url). Set the key (any value "
        f"for a server that ignores keys), or run without {flag} to replay."
    )
    out = result.stdout.str()
    for fixture in ("oapi_client", "oapi_async_client"):  # each setup error is that one line
        assert "\n" + line.format(fixture) + "\n" in out, out
    assert "OpenAIError" not in out and "Traceback" not in out and "_client.py" not in out
    assert oapi_server.requests == []  # nothing was sent
    assert not (pytester.path / "cassettes").exists() or not any(
        (pytester.path / "cassettes").rglob("*.yaml")
    )
    if flag == "--oapi-record":  # the advice works: any key, for a server that ignores it
        monkeypatch.setenv("OPENAI_API_KEY", "anything")
        pytester.runpytest_inprocess(flag, "-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_no_key_and_no_base_url_names_openai(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    pytester.makepyfile(test_chat=TEST)
    result = pytester.runpytest_inprocess(
        "--oapi-record", "-p", "no:cacheprovider", "-k", "test_sync"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "oapi_client: OPENAI_API_KEY is not set; recording sends real requests to "
            "https://api.openai.com/v1 (the default; OPENAI_BASE_URL or ini oapi_base_url "
            "change it). Set the key *"
        ]
    )
