"""pytester tests of the plugin: every option, ini setting, marker argument and message.

Inner test runs talk to a real loopback server (``OAPIServer``) through the openai SDK; the
outer test points them at it with ``OPENAI_BASE_URL`` and stops it to prove a replay is offline.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# Imported here once: pytester drops the modules an in-process run imports, and re-importing
# them (hypothesis's pytest plugin imports hypothesis) costs ~1 s per inner run.
import httpx  # noqa: F401
import hypothesis  # noqa: F401
import openai  # noqa: F401
import pytest
import vcr  # noqa: F401

from pytest_oapi_stream.server import OAPIServer

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

README_TEST = """
import openai
import pytest
from pytest_oapi_stream import assert_valid_chunk_stream


@pytest.mark.oapi(profile="openai")
def test_hello(oapi_client: openai.OpenAI) -> None:
    stream = oapi_client.chat.completions.create(
        model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "Hi"}])
    chunks = assert_valid_chunk_stream(stream)
    assert chunks.text == "Hello there!"
"""

SDK_TEST = """
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


def _replay_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def _cassette(pytester: pytest.Pytester, name: str, module: str = "test_chat") -> Path:
    return pytester.path / "cassettes" / module / f"{name}.yaml"


def _edit_chunk(path: Path, index: int, old: str, new: str) -> None:
    lines = path.read_text().split("\n")
    data = [i for i, line in enumerate(lines) if line.strip().startswith("data: {")]
    lines[data[index]] = lines[data[index]].replace(old, new, 1)
    path.write_text("\n".join(lines))


# ------------------------------------------------------------------------------ record/replay


def test_readme_example_records_then_replays_offline(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_chat=README_TEST)
    result = pytester.runpytest_inprocess("--oapi-record")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "oapi-stream: mode=record cassettes=cassettes profile=auto",
            "*- oapi-stream summary -*",
            "cassettes: 0 replayed, 1 recorded, 0 missing",
            "streams checked: 1, with violations: 0",
        ]
    )
    cassette = _cassette(pytester, "test_hello")
    text = cassette.read_text()
    assert "sk-live-KEY" not in text and "authorization:\n      - REDACTED" in text
    assert text.count("\n        data: {") >= 3  # one event a line, readable

    server.stop()
    _replay_env(monkeypatch)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "oapi-stream: mode=replay cassettes=cassettes profile=auto",
            "cassettes: 1 replayed, 0 recorded, 0 missing",
            "streams checked: 1, with violations: 0",
        ]
    )
    assert cassette.read_text() == text  # replay writes nothing


def test_hand_edited_chunk_id_fails_naming_oas015(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_chat=SDK_TEST + "\n\n@pytest.mark.oapi\ndef test_hello():\n    assert ask()\n"
    )
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    path = _cassette(pytester, "test_hello")
    _edit_chunk(path, 2, '"id":"chatcmpl-', '"id":"chatcmpl-EDITED')
    _replay_env(monkeypatch)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E   pytest_oapi_stream.core.report.StreamContractError: stream contract violated "
            "(cassettes/test_chat/test_hello.yaml #0 POST */v1/chat/completions): "
            "1 error(s), 0 warning(s)",
            "*- OAS015 id-constant [[]error] at chunk 2: id 'chatcmpl-EDITED*",
            # what next: the plugin checked it, so the marker is the place to change
            '*next: to accept this rule in this test, pass ignore=[[]"OAS015"[]] to '
            "@pytest.mark.oapi(...);",
            "cassettes: 1 replayed, 0 recorded, 0 missing",
            "streams checked: 1, with violations: 1",
            "violations: OAS015 id-constant x1",
        ]
    )
    # the marker's ignore= and check=False silence it; ini oapi_ignore too
    pytester.makepyfile(
        test_chat=SDK_TEST
        + "\n\n@pytest.mark.oapi(ignore=['id-constant'])\ndef test_hello():\n    assert ask()\n"
    )
    pytester.runpytest_inprocess().assert_outcomes(passed=1)
    pytester.makepyfile(
        test_chat=SDK_TEST
        + "\n\n@pytest.mark.oapi(check=False)\ndef test_hello():\n    assert ask()\n"
    )
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["streams checked: 0, with violations: 0"])
    pytester.makepyfile(
        test_chat=SDK_TEST + "\n\n@pytest.mark.oapi\ndef test_hello():\n    assert ask()\n"
    )
    pytester.runpytest_inprocess("--oapi-ignore", "OAS015").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\noapi_ignore = oas017, OAS015\n")
    pytester.runpytest_inprocess().assert_outcomes(passed=1)


def test_strict_makes_warnings_fail(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_chat=SDK_TEST + "\n\n@pytest.mark.oapi\ndef test_hello():\n    assert ask()\n"
    )
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    _edit_chunk(_cassette(pytester, "test_hello"), 1, '"model":"gpt-4o-mini"', '"model":"other"')
    _replay_env(monkeypatch)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["warnings (not failing): OAS017 model-constant x1"])
    result = pytester.runpytest_inprocess("--oapi-strict")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["oapi-stream: mode=replay cassettes=cassettes profile=auto strict=true", "*OAS017*"]
    )
    pytester.makeini("[pytest]\noapi_strict = true\n")
    pytester.runpytest_inprocess().assert_outcomes(failed=1)
    pytester.makepyfile(
        test_chat=SDK_TEST
        + "\n\n@pytest.mark.oapi(strict=False)\ndef test_hello():\n    assert ask()\n"
    )
    pytester.runpytest_inprocess().assert_outcomes(passed=1)  # the marker wins over the ini


def test_missing_cassette_fails_with_the_record_command(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_chat=SDK_TEST + "\n\n@pytest.mark.oapi\ndef test_hello():\n    assert ask()\n"
    )
    _replay_env(monkeypatch)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_hello*",
            "oapi-stream: cassette cassettes/test_chat/test_hello.yaml does not exist "
            "(replay mode, network blocked).",
            "Record it with: pytest --oapi-record test_chat.py::test_hello",
            "*- oapi-stream summary -*",
            "cassettes: 0 replayed, 0 recorded, 1 missing",
            "streams checked: 0, with violations: 0",
            "missing cassettes for: test_chat.py::test_hello",
            "next: pytest --oapi-record=missing   (records the missing cassettes)",
        ]
    )
    assert len(server.requests) == 0
    # the printed command works as given (the path is not taken as the record mode)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-KEY-0123456789")
    pytester.runpytest_inprocess("--oapi-record", "test_chat.py::test_hello").assert_outcomes(
        passed=1
    )
    assert _cassette(pytester, "test_hello").is_file()


def test_record_missing_writes_only_missing_and_record_rerecords(
    pytester: pytest.Pytester, server: OAPIServer
) -> None:
    pytester.makepyfile(
        test_chat=SDK_TEST + "\n\n@pytest.mark.oapi\ndef test_a():\n    assert ask('a')\n"
    )
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    a = _cassette(pytester, "test_a")
    first = a.read_text()
    pytester.makepyfile(
        test_chat=SDK_TEST
        + "\n\n@pytest.mark.oapi\ndef test_a():\n    assert ask('a')\n"
        + "\n\n@pytest.mark.oapi\ndef test_b():\n    assert ask('b')\n"
    )
    server.stream(text="Something else entirely.")
    result = pytester.runpytest_inprocess("--oapi-record=missing")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "oapi-stream: mode=record-missing cassettes=cassettes profile=auto",
            "cassettes: 1 replayed, 1 recorded, 0 missing",
        ]
    )
    assert a.read_text() == first
    assert '"content":"Something"' in _cassette(pytester, "test_b").read_text()
    result = pytester.runpytest_inprocess("--oapi-record")
    result.stdout.fnmatch_lines(["cassettes: 0 replayed, 2 recorded, 0 missing"])
    assert '"content":"Something"' in a.read_text()  # re-recorded


def test_ini_record_mode_and_cli_override(pytester: pytest.Pytester, server: OAPIServer) -> None:
    pytester.makepyfile(
        test_chat=SDK_TEST + "\n\n@pytest.mark.oapi\ndef test_a():\n    assert ask('a')\n"
    )
    pytester.makeini("[pytest]\noapi_record_mode = missing\n")
    result = pytester.runpytest_inprocess()
    result.stdout.fnmatch_lines(
        ["oapi-stream: mode=record-missing *", "cassettes: 0 replayed, 1 recorded*"]
    )
    result = pytester.runpytest_inprocess("--oapi-live")
    result.stdout.fnmatch_lines(["oapi-stream: mode=live *"])


def test_live_mode_checks_and_writes_nothing(pytester: pytest.Pytester, server: OAPIServer) -> None:
    pytester.makepyfile(
        test_chat=SDK_TEST + "\n\n@pytest.mark.oapi\ndef test_hello():\n    assert ask()\n"
    )
    server.stream(text="Hello there!", faults={"change_id_at": 2})
    result = pytester.runpytest_inprocess("--oapi-live")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "oapi-stream: mode=live cassettes=cassettes profile=auto",
            "*OAS015 id-constant*",
            "cassettes: 0 replayed, 0 recorded, 0 missing, 1 live",
        ]
    )
    assert not (pytester.path / "cassettes").exists()


def test_failing_recording_leaves_previous_cassette(
    pytester: pytest.Pytester, server: OAPIServer
) -> None:
    pytester.makepyfile(
        test_chat=SDK_TEST + "\n\n@pytest.mark.oapi\ndef test_hello():\n    assert ask()\n"
    )
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    path = _cassette(pytester, "test_hello")
    before = path.read_text()
    pytester.makepyfile(
        test_chat=SDK_TEST + "\n\n@pytest.mark.oapi\ndef test_hello():\n    assert ask() == 'no'\n"
    )
    server.stream(text="A different answer.")
    result = pytester.runpytest_inprocess("--oapi-record")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["cassettes: 0 replayed, 0 recorded, 0 missing, 1 not written (the test did not pass)"]
    )
    assert path.read_text() == before
    # a stream violating the contract is a failing recording too
    pytester.makepyfile(
        test_chat=SDK_TEST + "\n\n@pytest.mark.oapi\ndef test_hello():\n    assert ask()\n"
    )
    server.stream(text="A different answer.", faults={"change_id_at": 1})
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(failed=1)
    assert path.read_text() == before
    # No temp files (the .shape.yaml beside the cassette is its stream shape, see test_shape_plugin)
    assert [p.name for p in path.parent.iterdir() if not p.name.endswith(".shape.yaml")] == [
        "test_hello.yaml"
    ]


def test_test_without_requests_gets_an_empty_cassette(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_chat="import pytest\n\n@pytest.mark.oapi\ndef test_x():\n    pass\n")
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    assert "interactions: []" in _cassette(pytester, "test_x").read_text()
    _replay_env(monkeypatch)
    pytester.runpytest_inprocess().assert_outcomes(passed=1)


# ------------------------------------------------------------------------------ matching


def test_changed_request_is_unmatched_with_diff_and_hint(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_chat=SDK_TEST + "\n\n@pytest.mark.oapi\ndef test_hello():\n    assert ask('Hi')\n"
    )
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    pytester.makepyfile(
        test_chat=SDK_TEST
        + "\n\n@pytest.mark.oapi\ndef test_hello():\n    assert ask('Hi there')\n"
    )
    _replay_env(monkeypatch)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*UnmatchedRequestError: oapi-stream: no recorded response for this request in "
            "cassette cassettes/test_chat/test_hello.yaml (replay mode; a changed request is "
            "never served an old stream)",
            "*Closest recorded request (POST */v1/chat/completions) differs in body:",
            '*-      "content": "Hi",',
            '*+      "content": "Hi there",',
            "*Re-record it with: pytest --oapi-record test_chat.py::test_hello",
            "cassettes: 1 replayed, 0 recorded, 0 missing, 1 with unmatched requests",
            "unmatched requests in: test_chat.py::test_hello",
            "next: pytest --oapi-record test_chat.py::test_hello   (re-records those cassettes)",
        ]
    )
    assert len(server.requests) == 1  # only the recording reached the server


def test_swallowed_unmatched_request_still_fails(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_chat=SDK_TEST
        + "\n\n@pytest.mark.oapi\ndef test_hello():\n"
        + "    try:\n        ask('never recorded')\n    except Exception:\n        pass\n"
    )
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    _cassette(pytester, "test_hello").write_text("version: 1\ninteractions: []\n")
    _replay_env(monkeypatch)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*UnmatchedRequestError*", "*The cassette holds no interactions*"])


def test_unmatched_error_wrapped_by_a_client_gets_a_report_section(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_chat=SDK_TEST
        + "\n\n@pytest.mark.oapi\ndef test_hello():\n"
        + "    try:\n        ask('x')\n    except Exception as e:\n"
        + "        raise RuntimeError('client failed') from None\n"
    )
    pytester.path.joinpath("cassettes", "test_chat").mkdir(parents=True)
    _cassette(pytester, "test_hello").write_text("version: 1\ninteractions: []\n")
    _replay_env(monkeypatch)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*RuntimeError: client failed", "*- oapi-stream -*", "oapi-stream: no recorded response*"]
    )


# ------------------------------------------------------------------------------ marker


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("oapi(profil='openai')", "unknown argument 'profil'; it accepts profile, ignore,*"),
        ("oapi('openai')", "takes keyword arguments only*got positional ('openai',)*"),
        ("oapi(profile='nope')", "*(profile=...): unknown profile 'nope'; known profiles: auto,*"),
        ("oapi(ignore=['OAS999'])", "*(ignore=...): unknown rule(s) 'OAS999' in ignore*"),
        ("oapi(ignore=5)", "*(ignore=...): ignore must be a list of rule codes, not 5."),
        ("oapi(strict='yes')", "*(strict=...) must be True or False, not 'yes'."),
        ("oapi(check=1)", "*(check=...) must be True or False, not 1."),
        ("oapi(cassette=3)", "*(cassette=...) must be a file name or path, not 3."),
    ],
)
def test_bad_marker_argument_is_a_usage_error(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    pytester.makepyfile(f"import pytest\n\n@pytest.mark.{marker}\ndef test_x():\n    pass\n")
    result = pytester.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: test_bad_marker_argument_is_a_usage_error.py::test_x: *{message}"]
    )


def test_marker_is_registered_for_strict_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "import pytest\n\n@pytest.mark.oapi(check=False)\ndef test_x(oapi_cassette):\n"
        "    assert oapi_cassette.mode == 'record'\n"
    )
    pytester.runpytest_inprocess("--strict-markers", "--oapi-record").assert_outcomes(passed=1)
    result = pytester.runpytest_inprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.oapi(profile='auto', ignore=(), strict=False, *"])


def test_closest_marker_wins_per_argument_and_cassette_name(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_chat=SDK_TEST
        + """
pytestmark = pytest.mark.oapi(profile="groq", cassette="shared/module")


@pytest.mark.oapi(profile="openai")
class TestA:
    def test_class(self, oapi_cassette):
        assert ask("class")
        assert oapi_cassette.path.as_posix().endswith("cassettes/shared/module.yaml")
        [report] = oapi_cassette.reports
        assert report.profile.name == "openai"

    @pytest.mark.oapi(cassette="own")
    def test_own(self, oapi_cassette):
        assert oapi_cassette.path.as_posix().endswith("cassettes/own.yaml")
        assert oapi_cassette.streams == []


def test_module(oapi_cassette):
    assert oapi_cassette.path.name == "module.yaml"
    assert oapi_cassette.checks.profile == "groq"
"""
    )
    pytester.runpytest_inprocess("--oapi-record", "-p", "no:randomly").assert_outcomes(passed=3)
    assert (pytester.path / "cassettes" / "own.yaml").is_file()


def test_parametrized_and_class_tests_get_their_own_cassettes(
    pytester: pytest.Pytester, server: OAPIServer
) -> None:
    pytester.makepyfile(
        test_chat=SDK_TEST
        + """
@pytest.mark.oapi
@pytest.mark.parametrize("who", ["a/b", "c"])
def test_p(who):
    assert ask(who)


@pytest.mark.oapi
class TestK:
    def test_m(self):
        assert ask("k")
"""
    )
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=3)
    names = sorted(p.name for p in (pytester.path / "cassettes" / "test_chat").iterdir())
    names = [n for n in names if not n.endswith(".shape.yaml")]  # each cassette's shape
    assert names == ["TestK.test_m.yaml", "test_p[a%2Fb].yaml", "test_p[c].yaml"]


# ------------------------------------------------------------------------------ fixtures


def test_oapi_cassette_fixture_for_unmarked_tests(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_chat=SDK_TEST
        + """
def test_plain(oapi_cassette):
    assert oapi_cassette.streams == []
    assert ask() == "Hello there!"
    [stream] = oapi_cassette.streams
    assert stream.text == "Hello there!"
    assert oapi_cassette.path.name == "test_plain.yaml"
    print("MODE", oapi_cassette.mode)


def test_untouched():
    pass
"""
    )
    result = pytester.runpytest_inprocess("--oapi-record", "-s")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*MODE record*"])
    _replay_env(monkeypatch)
    result = pytester.runpytest_inprocess("-s")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*MODE replay*", "cassettes: 1 replayed, 0 recorded, 0 missing"])


def test_placeholder_key_and_ini_base_url_for_replay(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(f"[pytest]\noapi_base_url = {server.base_url}\n")
    monkeypatch.delenv("OPENAI_BASE_URL")
    pytester.makepyfile(
        test_chat="""
import os
import openai
import pytest


@pytest.mark.oapi
def test_sdk_default_client():
    client = openai.OpenAI()   # no arguments: key and base URL come from the environment
    stream = client.chat.completions.create(
        model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "Hi"}])
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    print("KEY", os.environ["OPENAI_API_KEY"])


def test_fixture_client(oapi_client, oapi_cassette):
    assert str(oapi_client.base_url).rstrip("/") == os.environ["OPENAI_BASE_URL"]
    assert oapi_client.max_retries == (0 if oapi_cassette.mode == "replay" else 2)
"""
    )
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=2)
    _replay_env(monkeypatch)
    result = pytester.runpytest_inprocess("-s")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*KEY sk-oapi-stream-replay-placeholder*"])
    import os

    assert "OPENAI_API_KEY" not in os.environ  # restored after the test


def test_async_client_fixture(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_chat="""
import asyncio
import pytest


@pytest.mark.oapi
def test_async(oapi_async_client):
    async def go():
        stream = await oapi_async_client.chat.completions.create(
            model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "Hi"}])
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(go()) == "Hello there!"
"""
    )
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    server.stop()
    _replay_env(monkeypatch)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["streams checked: 1, with violations: 0"])


def test_filter_headers_from_ini_and_vcr_config_fixture(
    pytester: pytest.Pytester, server: OAPIServer
) -> None:
    pytester.makeini("[pytest]\noapi_filter_headers = x-team-secret\n")
    pytester.makepyfile(
        test_chat="""
import httpx
import pytest


@pytest.fixture
def oapi_vcr_config():
    return {"filter_headers": [("x-trace", "TRACE")]}


@pytest.mark.oapi
def test_h():
    httpx.post(
        __import__("os").environ["OPENAI_BASE_URL"] + "/chat/completions",
        json={"model": "m", "stream": True, "messages": []},
        headers={"x-team-secret": "team-value-0123456789", "x-trace": "trace-value-0123"},
    ).read()
"""
    )
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    text = _cassette(pytester, "test_h").read_text()
    assert "team-value" not in text and "x-team-secret:\n      - REDACTED" in text
    assert "trace-value" not in text and "x-trace:\n      - TRACE" in text


def test_bad_vcr_config_key_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest

@pytest.fixture
def oapi_vcr_config():
    return {"record_mode": "all"}

@pytest.mark.oapi
def test_x():
    pass
"""
    )
    result = pytester.runpytest_inprocess("--oapi-record")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*oapi_vcr_config may not set record_mode*"])


# ------------------------------------------------------------------------------ options


def test_report_header_from_ini_and_cli_overrides(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    pytester.makeini(
        "[pytest]\noapi_profile = groq\noapi_cassette_dir = tests/cass\noapi_rechunk = off\n"
    )
    result = pytester.runpytest_inprocess()
    result.stdout.fnmatch_lines(
        ["oapi-stream: mode=replay cassettes=tests/cass profile=groq rechunk=off"]
    )
    result.stdout.no_fnmatch_line("*oapi-stream summary*")  # nothing used a cassette
    result = pytester.runpytest_inprocess(
        "--oapi-profile", "deepseek", "--oapi-cassette-dir", "rec", "--oapi-rechunk", "bytes"
    )
    result.stdout.fnmatch_lines(
        ["oapi-stream: mode=replay cassettes=rec profile=deepseek rechunk=bytes"]
    )


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (["--oapi-record=bogus"], "", "--oapi-record=bogus: the record mode is all*or missing."),
        (["--oapi-record", "--oapi-live"], "", "--oapi-record and --oapi-live exclude each other*"),
        ([], "oapi_record_mode = sometimes", "oapi_record_mode = 'sometimes' is not a mode; use*"),
        ([], "oapi_rechunk = lines", "oapi_rechunk = 'lines'; use one of random, bytes, off."),
        ([], "oapi_profile = nope", "--oapi-profile / oapi_profile: unknown profile 'nope'*"),
        (
            [],
            "oapi_strict = maybe",
            "oapi_strict = 'maybe' is not a truth value; use true or false*",
        ),
        (
            [],
            "oapi_block_network = maybe",
            "oapi_block_network = 'maybe' is not a truth value; use true or false*",
        ),
        (
            ["--oapi-ignore", "OAS015,bogus"],
            "",
            "--oapi-ignore / oapi_ignore: unknown rule(s) 'bogus'*",
        ),
    ],
)
def test_bad_option_is_a_usage_error(
    pytester: pytest.Pytester, args: list[str], ini: str, message: str
) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    if ini:
        pytester.makeini(f"[pytest]\n{ini}\n")
    result = pytester.runpytest_inprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])


def test_rechunk_bytes_replays_one_byte_at_a_time(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_chat="""
import os
import httpx
import pytest


@pytest.mark.oapi
def test_pieces():
    url = os.environ["OPENAI_BASE_URL"] + "/chat/completions"
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    with httpx.stream("POST", url, json=body) as r:
        pieces = list(r.iter_raw())
    print("PIECES", len(pieces), max(map(len, pieces)))
"""
    )
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    _replay_env(monkeypatch)
    result = pytester.runpytest_inprocess("-s", "--oapi-rechunk", "bytes")
    assert re.search(r"PIECES \d{3,} 1\b", result.stdout.str())
    result = pytester.runpytest_inprocess("-s", "--oapi-rechunk", "off")
    assert re.search(r"PIECES 1 \d+", result.stdout.str())
    result = pytester.runpytest_inprocess("-s")
    pieces = int(re.search(r"PIECES (\d+)", result.stdout.str()).group(1))  # type: ignore[union-attr]
    assert pieces > 10


def test_replay_blocks_the_network_unless_disabled(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_net="""
import socket
import pytest


@pytest.mark.oapi
def test_connect():
    try:
        socket.create_connection(("192.0.2.1", 443), timeout=0.2)
    except OSError as exc:
        print("OSERROR", type(exc).__name__)
"""
    )
    pytester.path.joinpath("cassettes", "test_net").mkdir(parents=True)
    pytester.path.joinpath("cassettes", "test_net", "test_connect.yaml").write_text(
        "version: 1\ninteractions: []\n"
    )
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*NetworkBlockedError: oapi-stream: network access to 192.0.2.1:443 is blocked. "
            "Test test_net.py::test_connect replays cassette cassettes/test_net/test_connect.yaml;"
            " run with --oapi-record or --oapi-live to reach the endpoint."
        ]
    )
    pytester.makeini("[pytest]\noapi_block_network = false\n")
    result = pytester.runpytest_inprocess("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*OSERROR*"])


def test_cassette_dir_query_filter_and_profile_settings_apply(
    pytester: pytest.Pytester, server: OAPIServer
) -> None:
    pytester.makeini(
        "[pytest]\noapi_cassette_dir = tests/recorded\n"
        "oapi_filter_query_parameters = token\noapi_profile = groq\n"
    )
    pytester.makepyfile(
        test_chat="""
import os
import httpx
import pytest


@pytest.mark.oapi
def test_q(oapi_cassette):
    url = os.environ["OPENAI_BASE_URL"] + "/chat/completions?token=tok-secret-0123456789"
    httpx.post(url, json={"model": "m", "stream": True, "messages": []}).read()
    [report] = oapi_cassette.reports
    print("PROFILE", report.profile.name)
"""
    )
    result = pytester.runpytest_inprocess("--oapi-record", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*PROFILE groq*"])
    text = (pytester.path / "tests" / "recorded" / "test_chat" / "test_q.yaml").read_text()
    assert "tok-secret" not in text and "?token=REDACTED" in text
    result = pytester.runpytest_inprocess("-s", "--oapi-profile", "openai")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*PROFILE openai*"])


def test_corrupt_cassette_fails_the_test_with_the_record_command(
    pytester: pytest.Pytester,
) -> None:
    """Invalid YAML: the parser's complaint on one line with its position, as the CLI says it
    (``files.yaml_problem``), then the file's fix; not the parser's multi-line text."""
    pytester.makepyfile(test_chat="import pytest\n\n@pytest.mark.oapi\ndef test_x():\n    pass\n")
    path = _cassette(pytester, "test_x")
    path.parent.mkdir(parents=True)
    # a hand edit gone wrong: an unclosed quote in a recorded request
    path.write_text(
        'version: 1\ninteractions:\n- request:\n    method: "POST\n    uri: http://x/v1\n'
    )
    result = pytester.runpytest_inprocess("-rN")
    result.assert_outcomes(errors=1)
    problem = (
        "not valid YAML at line 6, column 1: found unexpected end of stream "
        "(while scanning a quoted scalar that started at line 4, column 13)"  # the quote
    )
    lines = result.stdout.lines
    at = lines.index(f"oapi-stream: cassette cassettes/test_chat/test_x.yaml: {problem}")
    assert lines[at + 1] == "Fix it or re-record it with: pytest --oapi-record test_chat.py::test_x"
    assert "<unicode string>" not in result.stdout.str()
    # the CLI names the same problem on the same file
    cli = pytester.run(sys.executable, "-m", "pytest_oapi_stream", "check", str(path))
    assert cli.ret == 2
    assert cli.stderr.lines == [
        f"oapi-stream check: {path}: not valid YAML/JSON{problem.removeprefix('not valid YAML')}"
    ]
