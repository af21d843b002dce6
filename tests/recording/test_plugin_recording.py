"""pytester tests of the recording layer through the plugin: replay of ``oapi_server`` recordings,
broken cassette files, unmatched-request messages, secrets in messages, no recording lost.

Inner runs talk to a real loopback server (``OAPIServer``) through real clients.
"""

from __future__ import annotations

import re
from pathlib import Path

# Imported once here: pytester drops the modules an in-process run imports (see test_plugin.py).
import httpx  # noqa: F401
import hypothesis  # noqa: F401
import openai  # noqa: F401
import pytest
import requests  # noqa: F401
import vcr  # noqa: F401

from pytest_oapi_stream.server import OAPIServer

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

SDK = """
import openai
import pytest


def ask(prompt="Hi", **kw):
    client = openai.OpenAI(max_retries=0)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": prompt}], **kw)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
"""


@pytest.fixture
def server(oapi_server: OAPIServer, monkeypatch: pytest.MonkeyPatch) -> OAPIServer:
    """The loopback provider, as the live endpoint of the inner runs (with a key)."""
    monkeypatch.setenv("OPENAI_BASE_URL", oapi_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-KEY-0123456789")
    return oapi_server.stream(text="Hello there!")


def _cassette(pytester: pytest.Pytester, name: str, module: str = "test_chat") -> Path:
    return pytester.path / "cassettes" / module / f"{name}.yaml"


# ------------------------------------------------------------------ recordings of oapi_server

OWN_SERVER = """
import openai
import pytest


@pytest.mark.oapi
def test_own(oapi_server):
    oapi_server.stream(text="Hello there!")
    client = openai.OpenAI(base_url=oapi_server.base_url, api_key="sk-test", max_retries=0)
    stream = client.chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": "Hi"}])
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hello there!"
"""


def test_recording_through_oapi_server_replays_on_another_port(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    pytester.makepyfile(test_chat=OWN_SERVER)
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    recorded = _cassette(pytester, "test_own").read_text()
    result = pytester.runpytest_inprocess()  # a new oapi_server, on another random port
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["cassettes: 1 replayed, 0 recorded, 0 missing"])
    assert _cassette(pytester, "test_own").read_text() == recorded


def test_loopback_port_is_ignored_but_not_the_host_or_a_remote_port() -> None:
    from vcr.request import Request

    from pytest_oapi_stream.recording.matching import loopback_port_matcher

    def req(url: str) -> Request:
        return Request("POST", url, b"{}", {})

    loopback_port_matcher(req("http://127.0.0.1:1111/v1/x"), req("http://127.0.0.1:2222/v1/x"))
    loopback_port_matcher(req("http://localhost:1111/v1/x"), req("http://[::1]:2222/v1/x"))
    with pytest.raises(AssertionError, match="8443 != 443"):
        loopback_port_matcher(req("https://api.example.com:8443/"), req("https://api.example.com/"))
    with pytest.raises(AssertionError):
        loopback_port_matcher(
            req("http://127.0.0.1:1111/"), req("http://192.0.2.1:2222/")
        )  # never sent


# ------------------------------------------------------------------ broken cassette files

NOT_A_CASSETTE = "not a vcrpy cassette (no `interactions` list)"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "the file is empty"),
        ("\n  \n", "the file is empty"),
        ("foo: bar\n", NOT_A_CASSETTE),
        ("# only a comment\n", NOT_A_CASSETTE),
        ("- 1\n- 2\n", NOT_A_CASSETTE),
        ("version: 1\ninteractions: 5\n", NOT_A_CASSETTE),
        (
            "version: 1\ninteractions:\n- 5\n",
            "not a vcrpy cassette (interaction #0 is not a request/response pair)",
        ),
        (
            "version: 1\ninteractions:\n- request: {method: POST}\n  response: {}\n",
            "not a vcrpy cassette (interaction #0: the request has no method or uri)",
        ),
        (
            "version: 1\ninteractions:\n- request: {method: POST, uri: 'http://127.0.0.1/'}\n"
            "  response: {status: 200}\n",
            "not a vcrpy cassette (interaction #0: the response has no status code or body)",
        ),
    ],
)
def test_broken_cassette_fails_with_the_cli_reason_file_and_command(
    pytester: pytest.Pytester, content: str, reason: str
) -> None:
    pytester.makepyfile(test_chat="import pytest\n\n@pytest.mark.oapi\ndef test_x():\n    pass\n")
    path = _cassette(pytester, "test_x")
    path.parent.mkdir(parents=True)
    path.write_text(content)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"oapi-stream: cassette cassettes/test_chat/test_x.yaml: {reason}",
            "Re-record it with: pytest --oapi-record test_chat.py::test_x",
        ]
    )
    out = result.stdout.str()
    assert "Traceback" not in out and "KeyError" not in out and "vcr/" not in out
    assert "does not exist" not in out
    assert path.read_text() == content  # nothing touched


def test_cli_gives_the_same_reason_for_a_broken_cassette(tmp_path: Path) -> None:
    from pytest_oapi_stream.recording.files import RecordingError, read_recordings

    path = tmp_path / "x.yaml"
    for content, reason in (("", "the file is empty"), ("foo: bar\n", NOT_A_CASSETTE)):
        path.write_text(content)
        with pytest.raises(RecordingError, match=re.escape(f"x.yaml: {reason}")):
            read_recordings(path)


# ------------------------------------------------------------------ unmatched-request messages


def test_unmatched_request_to_another_base_url_says_so_first(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_chat=SDK + "\n\n@pytest.mark.oapi\ndef test_hello():\n    ask()\n")
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")  # replay goes to the SDK's default, api.openai.com
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    recorded = server.base_url.rstrip("/")
    advice = (
        f"oapi-stream: the base URL differs from the recording's: this request goes to "
        f"https://api.openai.com/v1, cassette cassettes/test_chat/test_hello.yaml was recorded "
        f"against {recorded}. Replay with OPENAI_BASE_URL={recorded} (or ini oapi_base_url = "
        f"{recorded}), as when recording."
    )
    assert advice in out
    assert out.index(advice) < out.index("no recorded response for this request")
    first_frame = min(
        (out.index(m) for m in ("vcr/", "site-packages/vcr", "httpx_stubs") if m in out),
        default=len(out),
    )
    assert out.index(advice) < first_frame, out
    assert "recording/cuts.py" not in out, out  # our wrapper of vcrpy's stubs is hidden too


def test_live_failure_names_no_cassette(pytester: pytest.Pytester, server: OAPIServer) -> None:
    pytester.makepyfile(test_chat=SDK + "\n\n@pytest.mark.oapi\ndef test_hello():\n    ask()\n")
    server.stream(text="Hello there!", faults={"change_id_at": 2})
    result = pytester.runpytest_inprocess("--oapi-live")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*StreamContractError: stream contract violated (live, not recorded: #0 POST http*"]
    )
    assert "test_hello.yaml" not in result.stdout.str()
    assert not (pytester.path / "cassettes").exists()


def test_hash_n_is_the_interaction_index_in_the_cli_and_the_plugin(
    pytester: pytest.Pytester, server: OAPIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """``cassette.yaml #1``: the place of the interaction in the cassette, everywhere."""
    from pytest_oapi_stream.cli import main

    pytester.makepyfile(
        test_chat=SDK
        + "\n\n@pytest.mark.oapi\ndef test_hello():\n"
        + "    import httpx, os\n"
        + "    httpx.get(os.environ['OPENAI_BASE_URL'] + '/models')\n"
        + "    ask()\n"
    )
    server.stream(text="Hello there!", faults={"change_id_at": 2})
    pytester.runpytest_inprocess("--oapi-live").stdout.fnmatch_lines(
        ["*(live, not recorded: #1 POST http*"]
    )
    server.stream(text="Hello there!")
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    path = _cassette(pytester, "test_hello")
    assert main(["check", str(path)]) == 0
    assert f"{path} #1" in capsys.readouterr().out


def test_vcrpy_frames_are_hidden_only_while_a_cassette_is_open(tmp_path: Path) -> None:
    import sys

    from pytest_oapi_stream.recording import cassettes as c

    session = c.CassetteSession(c.CassetteOptions(path=tmp_path / "c.yaml", mode="all"))
    session.start()
    try:
        hidden = [m for n, m in sys.modules.items() if n.startswith("vcr.") and m is not None]
        assert any("__tracebackhide__" in vars(m) for m in hidden)
    finally:
        session.stop(save=False)
    assert not any(
        "__tracebackhide__" in vars(m)
        for n, m in list(sys.modules.items())
        if (n == "vcr" or n.startswith("vcr.")) and m is not None
    )
