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


SHARED = """
import os

import httpx
import openai
import pytest


def ask(client, text):
    stream = client.chat.completions.create(
        model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": text}])
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


@pytest.mark.oapi(cassette="shared")
def test_a(oapi_client):
    assert ask(oapi_client, "a")


@pytest.mark.oapi(cassette="shared")
def test_b():
    assert ask(openai.OpenAI(max_retries=0), "b")


@pytest.mark.oapi(cassette="shared")
def test_c():  # swallows the error: the test fails all the same
    try:
        httpx.post(os.environ["OPENAI_BASE_URL"] + "/chat/completions",
                   headers={"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]},
                   json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "c"}]})
    except Exception:
        pass
"""


def test_shared_cassette_never_records_with_the_placeholder_key(
    pytester: pytest.Pytester, oapi_server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--oapi-record=missing`` without a key: a shared cassette that exists replays what it
    holds, and a request it lacks fails with one line instead of reaching the provider with the
    replay placeholder key (a real provider's 401); the cassette stays as it was."""
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", oapi_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real")
    oapi_server.stream(text="Hello there!")
    pytester.makepyfile(test_shared=SHARED)
    args = ("-p", "no:cacheprovider")
    pytester.runpytest_inprocess("--oapi-record", "-k", "test_a", *args).assert_outcomes(passed=1)
    cassette = pytester.path / "cassettes" / "shared.yaml"
    before = cassette.read_bytes()
    sent = len(oapi_server.requests)

    monkeypatch.delenv("OPENAI_API_KEY")
    result = pytester.runpytest_inprocess("--oapi-record=missing", *args)
    result.assert_outcomes(passed=1, failed=2)  # test_a replays; b and c would record
    out = result.stdout.str()
    line = (
        "oapi-stream: OPENAI_API_KEY is not set; cassette cassettes/shared.yaml lacks this "
        f"request (POST {oapi_server.base_url}/chat/completions), and recording it would send "
        "the replay placeholder key to that endpoint. Nothing was sent: set the key (any value "
        "for a server that ignores keys) to record it."
    )
    assert out.count(line) >= 2, out  # test_b and test_c each name it
    assert "AuthenticationError" not in out and "401" not in out
    assert len(oapi_server.requests) == sent  # nothing reached the provider
    assert cassette.read_bytes() == before  # nothing half-written
