"""pytest-xdist: ``-n 2`` records and replays one cassette per test; the controller sums up.

Runs pytest in a subprocess (xdist needs one), so it is the slowest plugin test: one recording
run and one replay run, four tests each.
"""

from __future__ import annotations

import pytest

from pytest_oapi_stream.server import OAPIServer

pytest.importorskip("xdist")

# Plugins the inner runs do not need: each worker would import (and assertion-rewrite) them.
LEAN = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:anyio")

TESTS = """
import openai
import pytest


def ask(prompt):
    client = openai.OpenAI(max_retries=0)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": prompt}])
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


@pytest.mark.oapi
@pytest.mark.parametrize("prompt", ["a", "b", "c"])
def test_marked(prompt):
    assert ask(prompt) == "Hello from a worker."


def test_fixture(oapi_cassette):
    assert ask("d") == "Hello from a worker."
    assert len(oapi_cassette.streams) == 1
"""


def test_xdist_records_and_replays_with_one_summary(
    pytester: pytest.Pytester, oapi_server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    oapi_server.stream(text="Hello from a worker.")
    monkeypatch.setenv("OPENAI_BASE_URL", oapi_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-KEY-0123456789")
    pytester.makepyfile(test_chat=TESTS)

    result = pytester.runpytest_subprocess("-n", "2", "--oapi-record", *LEAN)
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "*- oapi-stream summary -*",
            "cassettes: 0 replayed, 4 recorded, 0 missing",
            "streams checked: 4, with violations: 0",
        ]
    )
    assert result.stdout.str().count("oapi-stream summary") == 1
    folder = pytester.path / "cassettes" / "test_chat"
    # Each cassette has its stream shape beside it (.shape.yaml, see test_shape_plugin.py).
    names = sorted(p.name for p in folder.iterdir() if not p.name.endswith(".shape.yaml"))
    assert names == [
        "test_fixture.yaml",
        "test_marked[a].yaml",
        "test_marked[b].yaml",
        "test_marked[c].yaml",
    ]
    assert all("sk-live-KEY" not in p.read_text() for p in folder.iterdir())
    assert len(oapi_server.requests) == 4

    oapi_server.stop()
    monkeypatch.delenv("OPENAI_API_KEY")
    result = pytester.runpytest_subprocess("-n", "2", *LEAN)
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "oapi-stream: mode=replay cassettes=cassettes profile=auto",
            "*- oapi-stream summary -*",
            "cassettes: 4 replayed, 0 recorded, 0 missing",
            "streams checked: 4, with violations: 0",
        ]
    )
    assert result.stdout.str().count("oapi-stream summary") == 1
