"""``oapi-stream check|report|shape`` on a cassette whose stream the provider cut.

The cassettes are written by the real recording path (``oapi_server`` closes the connection in
the middle of an event; httpx records through a cassette session), chat and Responses. The CLI
must judge the events that arrived whole as a truncated stream and name the cut, never report
the partial event the cut left as the provider's malformed JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pytest_oapi_stream.cli import main
from pytest_oapi_stream.core.cut import complete_events
from pytest_oapi_stream.recording import cassettes as c
from pytest_oapi_stream.server import OAPIServer

TEXT = "Once upon a time, a small fox found a lantern in the snow and carried it home."
CUT = 1000  # bytes: a few events, then the middle of one
REQUESTS = {
    "chat": ("/chat/completions", {"model": "gpt-4o-mini", "messages": [], "stream": True}),
    "responses": ("/responses", {"model": "gpt-4o", "input": "hi", "stream": True}),
}
QUIET = "four of seven clients return the partial answer without an error"
MALFORMED = ("OAS004", "OAS007", "OAS101")  # what the partial event would read as


def _record(server: OAPIServer, path: Path, surface: str, cut: bool) -> None:
    faults = {"disconnect_after_bytes": CUT} if cut else {}
    server.stream(text=TEXT, faults=faults)
    options = c.CassetteOptions(path=path, mode="all", rootpath=path.parent, nodeid="t.py::t")
    session = c.CassetteSession(options)
    session.start()
    endpoint, body = REQUESTS[surface]
    try:
        with httpx.Client() as client:
            try:
                with client.stream("POST", server.base_url + endpoint, json=body) as response:
                    response.read()
            except httpx.RemoteProtocolError:
                assert cut
    finally:
        session.stop(save=True)


@pytest.fixture(scope="module")
def cassettes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder: ``chat.yaml`` and ``responses.yaml`` cut, ``whole.yaml`` a whole chat stream."""
    folder = tmp_path_factory.mktemp("cuts")
    with OAPIServer() as server:
        _record(server, folder / "chat.yaml", "chat", cut=True)
        _record(server, folder / "responses.yaml", "responses", cut=True)
        _record(server, folder / "whole.yaml", "chat", cut=False)
    for name in ("chat", "responses"):
        assert "oapi_cut:" in (folder / f"{name}.yaml").read_text(encoding="utf-8")
    assert "oapi_cut" not in (folder / "whole.yaml").read_text(encoding="utf-8")
    yield folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_names_the_cut_and_judges_the_events_that_arrived_whole(
    cassettes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "check", str(cassettes / "chat.yaml"), str(cassettes / "responses.yaml")
    )
    assert code == 1
    lines = out.splitlines()
    for name in ("chat", "responses"):
        at = next(i for i, line in enumerate(lines) if line.startswith(f"FAIL  {cassettes / name}"))
        assert lines[at + 1].startswith(
            f"    note: stream cut by the provider after {CUT} bytes "
            "(httpx.RemoteProtocolError: peer closed connection"
        ), lines[at : at + 2]
    assert "OAS008  done-terminator" in out and "OAS023  finish-once" in out
    assert "OAS114  terminal-once-last" in out
    assert not [code for code in MALFORMED if code in out], out


def test_a_cut_chat_stream_has_no_quiet_end_hint(
    cassettes: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """At a cut every client raises; the hint about a stream that ends quietly is not about it.
    The same events ended quietly (an .sse file, no marker) keep that hint."""
    _, out, _ = run(capsys, "check", str(cassettes / "chat.yaml"))
    assert QUIET not in out
    assert out.count("the provider cut the connection: every client raises") == 2
    [interaction] = c.load_interactions(cassettes / "chat.yaml")
    quiet = tmp_path / "quiet.sse"
    quiet.write_bytes(complete_events(interaction.body))
    code, out, _ = run(capsys, "check", str(quiet))
    assert code == 1 and out.count(QUIET) == 2 and "note:" not in out


def test_check_json_has_the_cut(cassettes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--format", "json", str(cassettes))
    assert code == 1
    results = {Path(r["path"]).stem: r for r in json.loads(out)["results"]}
    assert set(results) == {"chat", "responses", "whole"}
    for name in ("chat", "responses"):
        cut = results[name]["cut"]
        assert cut["error"] == "httpx.RemoteProtocolError" and cut["bytes"] == CUT
        assert cut["message"].startswith("peer closed connection")
        assert not {v["code"] for v in results[name]["violations"]} & set(MALFORMED)
    assert results["whole"]["cut"] is None and results["whole"]["ok"]


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_report_shows_a_cut_stream_as_cut(
    cassettes: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    out_file = tmp_path / f"report.{fmt}"
    code, _, err = run(capsys, "report", "--format", fmt, "-o", str(out_file), str(cassettes))
    assert code == 0, err
    text = out_file.read_text(encoding="utf-8")
    summary = "3 streams from 1 provider; 2 break an error-level rule under their profile"
    assert f"{summary}; 2 were cut by the provider." in text
    assert text.count("(cut)") == 2  # the Result cell of each cut stream, not the whole one
    assert text.count(f"Stream cut by the provider after {CUT} bytes") == 2  # their findings
    # no column for a malformed payload: every stream passes those rules
    passes = [line for line in text.splitlines() if "Every stream passes" in line]
    assert all(code in " ".join(passes) for code in MALFORMED)
    assert QUIET not in text


def test_shape_of_a_cut_cassette_has_no_malformed_event(
    cassettes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("chat", "responses"):
        code, out, err = run(capsys, "shape", str(cassettes / f"{name}.yaml"))
        assert code == 0, err
        assert not [code for code in MALFORMED if code in out], out
