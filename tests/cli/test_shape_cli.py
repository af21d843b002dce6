"""``oapi-stream shape`` and ``oapi-stream diff``: inputs (.sse, cassettes, shape files), output
formats and exit codes (0 same, 1 changed, 2 bad input with one line and no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_oapi_stream.cli import main
from pytest_oapi_stream.contracts.shape import SHAPE_FORMAT, parse_shape

CORPUS = Path(__file__).parents[1] / "data" / "corpus"
TEXT = CORPUS / "openai__gpt-4o_text_include-usage.sse"
JSON_LONG = CORPUS / "openai__gpt-4o_json-schema-long.sse"
TOOL = CORPUS / "openai__gpt-4o_tool-call-single.sse"
GROQ_TOOL = CORPUS / "groq__llama-3.3-70b_tool-call-single-chunk.sse"
URL = "https://api.openai.com/v1/chat/completions"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cassette(path: Path, *bodies: Path, request: dict[str, Any] | None = None) -> Path:
    req = request or {"model": "gpt-4o", "stream": True, "messages": []}
    interactions = [
        {
            "request": {"method": "POST", "uri": URL, "headers": {}, "body": json.dumps(req)},
            "response": {
                "status": {"code": 200, "message": "OK"},
                "headers": {"Content-Type": ["text/event-stream"]},
                "body": {"string": body.read_text(encoding="utf-8")},
            },
        }
        for body in bodies
    ]
    # A non-stream call in between is not a stream.
    interactions.insert(
        0,
        {
            "request": {"method": "GET", "uri": "https://api.openai.com/v1/models", "body": None},
            "response": {"status": {"code": 200}, "headers": {}, "body": {"string": "{}"}},
        },
    )
    path.write_text(yaml.safe_dump({"version": 1, "interactions": interactions}), "utf-8")
    return path


def test_shape_prints_yaml_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "shape", str(TOOL))
    assert code == 0 and not err
    doc = parse_shape(out)
    assert doc["format"] == SHAPE_FORMAT
    assert doc["streams"][0]["tool_calls"]["id"] == "first-fragment-only"
    code, out, _ = run(capsys, "shape", str(TOOL), "--format", "json")
    assert code == 0
    assert json.loads(out) == doc


def test_diff_same_shape_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    # Two recordings of different answers with one structure.
    code, out, _ = run(capsys, "diff", str(TEXT), str(JSON_LONG))
    assert code == 0
    assert out.startswith("same stream shape")


def test_diff_changed_exits_1_with_sentences(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", str(TOOL), str(GROQ_TOOL))
    assert code == 1
    assert "  - usage moved from a separate `choices: []` chunk to the finish chunk\n" in out
    assert (
        "  - tool calls now arrive whole in one fragment (were split over several fragments)\n"
        in out
    )


def test_diff_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", str(TOOL), str(GROQ_TOOL), "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["changed"] is True
    assert doc["old"] == str(TOOL) and doc["new"] == str(GROQ_TOOL)
    assert (
        "tool calls now arrive whole in one fragment (were split over several fragments)"
        in (doc["changes"])
    )
    code, out, _ = run(capsys, "diff", str(TOOL), str(TOOL), "--format", "json")
    assert code == 0
    assert json.loads(out) == {"old": str(TOOL), "new": str(TOOL), "changed": False, "changes": []}


def test_diff_reads_cassettes_and_shape_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old = cassette(tmp_path / "old.yaml", TOOL)
    new = cassette(tmp_path / "new.yaml", GROQ_TOOL)
    code, out, _ = run(capsys, "diff", str(old), str(new))
    assert code == 1 and "tool calls now arrive whole" in out
    code, shape_text, _ = run(capsys, "shape", str(old))
    assert code == 0
    shape_file = tmp_path / "old.shape.yaml"
    shape_file.write_text(shape_text, encoding="utf-8")
    # A shape file against the cassette it came from: same; against the new one: the same
    # sentences as cassette against cassette.
    assert run(capsys, "diff", str(shape_file), str(old))[0] == 0
    code, out2, _ = run(capsys, "diff", str(shape_file), str(new))
    assert code == 1
    assert out2.splitlines()[1:] == out.splitlines()[1:]


def test_cassette_request_is_used(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    asked = cassette(
        tmp_path / "asked.yaml",
        TEXT,
        request={"model": "gpt-4o", "stream": True, "stream_options": {"include_usage": True}},
    )
    unasked = cassette(tmp_path / "unasked.yaml", TEXT)
    code, out, _ = run(capsys, "diff", str(asked), str(unasked))
    assert code == 1
    assert "OAS027 usage-opt-in now warns" in out


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["diff", "missing.sse", str(TEXT)], "missing.sse: no such file"),
        (["diff", "BAD", str(TEXT)], "not an .sse stream, a vcrpy cassette or a shape file"),
        (["diff", "BROKEN", str(TEXT)], "not valid YAML/JSON"),
        (["diff", "OLDFORMAT", str(TEXT)], "shape format"),
        (["diff", "EMPTY", str(TEXT)], "no streamed chat completion or Responses stream in it"),
        (["shape", str(TEXT), "--profile", "nope"], "unknown profile 'nope'"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], reason: str
) -> None:
    files = {
        "BAD": ("bad.yaml", "just: a mapping\n"),
        "BROKEN": ("broken.yaml", "a: [\n"),
        "OLDFORMAT": ("old.shape.yaml", "format: oapi-stream-shape/0\nstreams: []\n"),
        "EMPTY": ("empty.yaml", "version: 1\ninteractions: []\n"),
    }
    argv = []
    for a in args:
        if a in files:
            name, text = files[a]
            (tmp_path / name).write_text(text, encoding="utf-8")
            a = str(tmp_path / name)
        argv.append(a)
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert not out
    assert reason in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_the_installed_command_runs(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_oapi_stream", "diff", str(TOOL), str(GROQ_TOOL)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert "tool calls now arrive whole" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_oapi_stream", "diff", str(tmp_path / "x.sse"), str(TOOL)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_responses_only_cassette_has_a_shape_and_no_stream_names_both_surfaces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lms = CORPUS.parent / "corpus-responses" / "lmstudio__gemma-7b-it_text.sse"
    path = cassette(tmp_path / "r.yaml", lms, request={"model": "m", "stream": True, "input": "x"})
    doc = yaml.safe_load(path.read_text("utf-8"))
    doc["interactions"][1]["request"]["uri"] = "http://127.0.0.1:1234/v1/responses"
    path.write_text(yaml.safe_dump(doc), "utf-8")
    code, out, err = run(capsys, "shape", str(path))
    assert code == 0 and not err and "surface: responses" in out
    empty = cassette(tmp_path / "none.yaml")  # only the non-stream GET
    for argv in (["shape", str(empty)], ["report", str(empty)]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == ""
        assert "none.yaml: no streamed chat completion or Responses stream in it" in err, err
