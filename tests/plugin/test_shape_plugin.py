"""The shape gate in pytest: ``--oapi-record`` writes the shape beside the cassette; re-recording a
changed structure fails with the sentence and keeps the old files; ``--oapi-accept-changes``
accepts. Inner runs record from the loopback server through the openai SDK."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Imported once here: pytester drops what an in-process run imports (see test_plugin.py).
import httpx  # noqa: F401
import hypothesis  # noqa: F401
import openai  # noqa: F401
import pytest
import vcr  # noqa: F401

from pytest_oapi_stream.chat.builder import build_sse
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

    # `oapi-stream diff` on the old and the new cassette gives the sentences the test gave.
    old_copy = pytester.path / "old.yaml"
    old_copy.write_text(stored_cassette, encoding="utf-8")
    old_shape = pytester.path / "old.shape.yaml"
    old_shape.write_text(stored_shape, encoding="utf-8")
    for old in (old_copy, old_shape):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest_oapi_stream",
                "diff",
                str(old),
                str(cassette),
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 1, proc.stderr
        assert json.loads(proc.stdout)["changes"] == ["new field `x_foo` on every chunk"]

    # Replaying neither compares nor writes shapes.
    shape.unlink()
    pytester.runpytest_inprocess().assert_outcomes(passed=1)
    assert not shape.exists()


# ------------------------------------------------------------------------------ unused cassettes

TWO = """
import openai
import pytest


def ask(prompt):
    client = openai.OpenAI(max_retries=0)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": prompt}])
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


@pytest.mark.oapi
def test_a():
    assert ask("a")
"""
B = """

@pytest.mark.oapi
def test_b():
    assert ask("b")
"""


def recorded(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """test_chat.py (test_a, test_b) and test_other.py (test_a) recorded; replay env after."""
    server.stream(text="Hello.", seed=1)
    pytester.makepyfile(test_chat=TWO + B, test_other=TWO)
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=3)
    monkeypatch.delenv("OPENAI_API_KEY")
    return pytester.path / "cassettes"


def test_a_full_run_lists_unused_cassettes_and_prune_deletes_them(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = recorded(pytester, server, monkeypatch)
    b = root / "test_chat" / "test_b.yaml"
    assert b.is_file() and b.with_name("test_b.shape.yaml").is_file()
    pytester.makepyfile(test_chat=TWO)  # test_b is gone; its cassette is now unused

    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*unused cassettes (no collected test uses them): cassettes/test_chat/test_b.yaml",
            "*next: pytest --oapi-prune*",
        ]
    )
    assert "test_other" not in result.stdout.str().split("unused cassettes")[1]
    assert b.is_file()

    result = pytester.runpytest_inprocess("--oapi-prune")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*pruned 1 unused cassette(s): cassettes/test_chat/test_b.yaml"])
    assert not b.exists() and not b.with_name("test_b.shape.yaml").exists()
    assert (root / "test_chat" / "test_a.yaml").is_file()
    assert (root / "test_other" / "test_a.yaml").is_file()
    assert "unused cassettes" not in pytester.runpytest_inprocess().stdout.str()


def test_prune_never_touches_cassettes_of_tests_not_selected(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = recorded(pytester, server, monkeypatch)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    selections = [
        ["-k", "test_a"],
        ["test_chat.py::test_a"],
        ["test_other.py"],
        ["--deselect", "test_chat.py::test_b"],
    ]
    for selection in selections:
        result = pytester.runpytest_inprocess("--oapi-prune", *selection)
        assert result.ret == 0, selection
        out = result.stdout.str()
        assert "unused cassettes" not in out and "pruned" not in out, selection
        assert sorted(p.relative_to(root) for p in root.rglob("*")) == before, selection


def test_prune_with_xdist_runs_on_the_controller(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("xdist")
    root = recorded(pytester, server, monkeypatch)
    pytester.makepyfile(test_chat=TWO)
    lean = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:anyio")
    result = pytester.runpytest_subprocess("-n", "2", "--oapi-prune", *lean)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*pruned 1 unused cassette(s): cassettes/test_chat/test_b.yaml"])
    assert not (root / "test_chat" / "test_b.yaml").exists()
    assert (root / "test_other" / "test_a.yaml").is_file()


def test_prune_keeps_the_cassette_of_a_test_that_opens_it_at_run_time(
    pytester: pytest.Pytester,
) -> None:
    """A test reaching its cassette through getfixturevalue is invisible to collection."""
    pytester.makepyfile(
        test_dyn="""
        def test_dyn(request):
            request.getfixturevalue("oapi_cassette")
        """
    )
    kept = pytester.path / "cassettes" / "test_dyn" / "test_dyn.yaml"
    kept.parent.mkdir(parents=True)
    kept.write_text("version: 1\ninteractions: []\n")
    result = pytester.runpytest_inprocess("--oapi-prune", "-k", "nothing_matches")
    assert kept.exists()
    result = pytester.runpytest_inprocess("--oapi-prune")
    assert kept.exists()
    assert "pruned" not in result.stdout.str()


def test_a_hand_broken_shape_file_fails_with_its_line_and_column_and_the_way_out(
    pytester: pytest.Pytester, server: OAPIServer
) -> None:
    """Invalid YAML in a ``.shape.yaml``: re-recording fails with two lines (the file, line and
    column; the ways out), no traceback, both files kept; deleting the shape file recovers."""
    pytester.makepyfile(test_chat=TEST)
    cassette, shape = files(pytester)
    server.stream(text="Sunny, 21 degrees.", seed=1)
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    good, stored_cassette = shape.read_text(encoding="utf-8"), cassette.read_bytes()
    lines = good.splitlines(keepends=True)
    assert lines[8].rstrip().endswith(": <null>"), lines[8]
    lines[8] = lines[8].rstrip() + ": maybe\n"  # a hand edit YAML cannot read
    broken = "".join(lines)
    shape.write_text(broken, encoding="utf-8")
    column = len(lines[8].split(": maybe")[0]) + 1

    result = pytester.runpytest_inprocess("--oapi-record")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert (
        "\nstored stream shape cassettes/test_chat/test_weather.shape.yaml: not valid YAML/JSON "
        f"at line 9, column {column}: "
        "mapping values are not allowed in this context\n"
        "The old cassette and shape are unchanged. Delete test_weather.shape.yaml to compare "
        "the next recording with the cassette it was made from, or re-record with "
        "--oapi-accept-changes to replace it unread.\n"
    ) in out, out
    assert "stream shape changed" not in out and "Traceback" not in out
    assert shape.read_text(encoding="utf-8") == broken
    assert cassette.read_bytes() == stored_cassette

    shape.unlink()  # the way out that keeps the gate: the old cassette is the baseline
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    assert shape.read_text(encoding="utf-8") == good
