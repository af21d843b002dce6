"""The shape gate in pytest: ``--oapi-record`` writes the shape beside the cassette; re-recording a
changed structure fails with the sentence and keeps the old files; ``--oapi-accept-changes``
accepts. Inner runs record from the loopback server through the openai SDK."""

from __future__ import annotations

import json
from pathlib import Path

# Imported once here: pytester drops what an in-process run imports (see test_plugin.py).
import httpx  # noqa: F401
import openai  # noqa: F401
import pytest
import vcr  # noqa: F401

from pytest_oapi_stream.builder import build_sse
from pytest_oapi_stream.server import OAPIServer

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

TEST = """
import openai
import pytest


@pytest.mark.oapi
def test_weather():
    client = openai.OpenAI(max_retries=0)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "Weather?"}])
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
"""


@pytest.fixture
def server(oapi_server: OAPIServer, monkeypatch: pytest.MonkeyPatch) -> OAPIServer:
    monkeypatch.setenv("OPENAI_BASE_URL", oapi_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-KEY-0123456789")
    return oapi_server


def with_x_foo(body: bytes) -> bytes:
    """The same stream with a new extension field on every chunk."""
    out = []
    for block in body.decode("utf-8").split("\n\n"):
        if block.startswith("data: {"):
            chunk = json.loads(block[6:])
            chunk["x_foo"] = "bar"
            block = "data: " + json.dumps(chunk)
        out.append(block)
    return "\n\n".join(out).encode("utf-8")


def files(pytester: pytest.Pytester) -> tuple[Path, Path]:
    cassette = pytester.path / "cassettes" / "test_chat" / "test_weather.yaml"
    return cassette, cassette.with_name("test_weather.shape.yaml")


def test_record_writes_the_shape_and_gates_a_changed_structure(
    pytester: pytest.Pytester, server: OAPIServer
) -> None:
    pytester.makepyfile(test_chat=TEST)
    cassette, shape = files(pytester)

    server.stream(text="Sunny, 21 degrees.", seed=1)
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    assert cassette.is_file() and shape.is_file()
    assert "choices[].delta.content: <text>" in shape.read_text(encoding="utf-8")
    stored_shape = shape.read_text(encoding="utf-8")

    # Other text, ids and timestamps, same structure: passes; the cassette is new.
    server.stream(text="Rain all afternoon, fourteen degrees at most.", seed=9, created=1732600999)
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    assert "fourteen" in cassette.read_text(encoding="utf-8")
    assert shape.read_text(encoding="utf-8") == stored_shape
    stored_cassette = cassette.read_text(encoding="utf-8")

    # A new field on every chunk: fails, names it, and keeps both old files.
    server.serve_sse(with_x_foo(build_sse(text="Sunny again.", seed=3)))
    result = pytester.runpytest_inprocess("--oapi-record")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*stream shape changed (*test_weather.shape.yaml):*",
            "*  - new field `x_foo` on every chunk*",
            "*re-run with --oapi-accept-changes to accept*",
        ]
    )
    assert cassette.read_text(encoding="utf-8") == stored_cassette
    assert shape.read_text(encoding="utf-8") == stored_shape

    # Accepted: the new cassette and shape are written; the PR diff shows the new line.
    result = pytester.runpytest_inprocess("--oapi-record", "--oapi-accept-changes")
    result.assert_outcomes(passed=1)
    assert "x_foo" in cassette.read_text(encoding="utf-8")
    assert "x_foo: <str>" in shape.read_text(encoding="utf-8")
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)

    # Replaying neither compares nor writes shapes.
    shape.unlink()
    pytester.runpytest_inprocess().assert_outcomes(passed=1)
    assert not shape.exists()


def test_a_cassette_recorded_before_shapes_is_the_baseline(
    pytester: pytest.Pytester, server: OAPIServer
) -> None:
    pytester.makepyfile(test_chat=TEST)
    _, shape = files(pytester)
    server.stream(text="Sunny.", seed=1)
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    shape.unlink()  # as if recorded by an older version

    server.serve_sse(with_x_foo(build_sse(text="Sunny.", seed=2)))
    result = pytester.runpytest_inprocess("--oapi-record")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*  - new field `x_foo` on every chunk*"])
    assert not shape.exists()
