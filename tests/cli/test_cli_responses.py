"""``oapi-stream check`` and the conformance report on Responses streams: the surface is
detected per file and per cassette interaction (request path, else the first payload)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_oapi_stream.cli import main
from pytest_oapi_stream.contracts.conformance import render_markdown, rows_from_paths
from pytest_oapi_stream.core.surface import surface_of
from pytest_oapi_stream.recording.files import read_recordings

DATA = Path(__file__).parents[1] / "data"
CHAT = DATA / "corpus" / "openai__gpt-4o_text_include-usage.sse"
RESP = DATA / "corpus-responses" / "openai__gpt-4o_text.sse"
QUOTA = DATA / "corpus-responses" / "openai__gpt-5-nano_error-insufficient-quota-failed.sse"
ROUTER = DATA / "corpus-responses" / "openrouter__gpt-oss-20b_data-only-done-sentinel.sse"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, _ = capsys.readouterr()
    return code, out


def _interaction(uri: str, body: Path, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "request": {"method": "POST", "uri": uri, "headers": {}, "body": json.dumps(request)},
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["text/event-stream"]},
            "body": {"string": body.read_text(encoding="utf-8")},
        },
    }


def mixed_cassette(path: Path) -> Path:
    interactions = [
        _interaction("https://api.openai.com/v1/chat/completions", CHAT, {"stream": True}),
        _interaction("https://api.openai.com/v1/responses", RESP, {"stream": True}),
        # A gateway path that says nothing: the first payload decides.
        _interaction("https://gw.example/v1/responses-proxy/run", QUOTA, {"stream": True}),
    ]
    path.write_text(yaml.safe_dump({"version": 1, "interactions": interactions}), "utf-8")
    return path


def test_a_folder_of_both_surfaces_just_works(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for src in (CHAT, RESP):
        shutil.copy(src, tmp_path / src.name)
    code, out = run(capsys, "check", "--format", "json", str(tmp_path))
    assert code == 0
    results = {Path(r["path"]).name: r for r in json.loads(out)["results"]}
    assert results[CHAT.name]["surface"] == "chat" and results[CHAT.name]["ok"]
    assert results[RESP.name]["surface"] == "responses" and results[RESP.name]["ok"]
    # Nothing else was added to the JSON result than the surface (and the cut, null here).
    assert set(results[RESP.name]) == {
        *("path", "stream", "surface", "profile", "ok", "cut", "violations")
    }
    assert results[RESP.name]["cut"] is None


def test_text_output_names_the_responses_surface(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "check", str(QUOTA))
    assert code == 1
    assert "[responses, profile openai" in out and "OAS120" in out
    assert "event 2" in out and "chunk 2" not in out


def test_cassette_interactions_are_detected_one_by_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = mixed_cassette(tmp_path / "mixed.yaml")
    assert [r.surface for r in read_recordings(path)] == ["chat", "responses", "responses"]
    code, out = run(capsys, "check", "--format", "json", str(path))
    results = json.loads(out)["results"]
    assert [r["surface"] for r in results] == ["chat", "responses", "responses"]
    assert [r["ok"] for r in results] == [True, True, False]
    assert code == 1


def test_ignore_and_profile_apply_per_surface(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for src in (CHAT, ROUTER):
        shutil.copy(src, tmp_path / src.name)
    code, out = run(
        capsys, "check", "--ignore", "OAS103,OAS129", "--profile", "openai", str(tmp_path)
    )
    assert code == 0, out
    code, out = run(
        capsys, "check", "--profile", "openresponses", "--ignore", "OAS129", str(ROUTER)
    )
    assert code == 0, out


def test_conformance_report_over_both_surfaces(tmp_path: Path) -> None:
    path = mixed_cassette(tmp_path / "mixed.yaml")
    rows = rows_from_paths([path, RESP])
    md = render_markdown(rows)
    assert "OAS120" in md and "error-event" in md


@pytest.mark.parametrize(
    ("url", "body", "surface"),
    [
        ("https://api.openai.com/v1/responses", b"", "responses"),
        (
            "https://api.openai.com/v1/responses/resp_1?stream=true&starting_after=3",
            b"",
            "responses",
        ),
        ("https://api.openai.com/v1/chat/completions", RESP.read_bytes(), "chat"),
        (None, RESP.read_bytes(), "responses"),
        (None, CHAT.read_bytes(), "chat"),
        (None, ROUTER.read_bytes(), "responses"),  # data-only framing, comment first
        (None, b"", "chat"),
    ],
)
def test_surface_of(url: str | None, body: bytes, surface: str) -> None:
    assert surface_of(url, body) == surface


def test_shape_describes_a_responses_stream(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["shape", str(RESP)])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = yaml.safe_load(out)
    (shape,) = doc["streams"]
    assert shape["surface"] == "responses" and shape["terminal"] == "response.completed"
    assert shape["items"][0]["type"] == "message" and shape["event_names"] == "all"
    assert "resp_" not in out  # no ids


def test_shape_of_a_mixed_cassette_describes_every_stream(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = mixed_cassette(tmp_path / "mixed.yaml")
    code = main(["shape", str(path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    streams = yaml.safe_load(out)["streams"]
    assert [s.get("surface", "chat") for s in streams] == ["chat", "responses", "responses"]
    assert streams[2]["terminal"] == "response.failed"
