"""A cut cassette read without vcrpy (``recording/files.py``, what the CLI and the reports use).

The cassette is written by the real recording path (``oapi_server`` cuts the connection in the
middle of an event, httpx records through a cassette session); the reader must judge it as the
plugin does: the events that arrived whole, as a truncated stream, with the cut named.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from pytest_oapi_stream.core.cut import CutMarker, complete_events
from pytest_oapi_stream.recording import cassettes as c
from pytest_oapi_stream.recording.files import Recording, read_recordings
from pytest_oapi_stream.server import OAPIServer

TEXT = "Once upon a time, a small fox found a lantern in the snow and carried it home."
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True}
CUT = 1000  # bytes: a few chunks, then the middle of one
QUIET = "four of seven clients return the partial answer without an error"


def _record_cut(server: OAPIServer, path: Path) -> None:
    """Record one chat stream the server cuts after ``CUT`` bytes into the cassette ``path``."""
    server.stream(text=TEXT, faults={"disconnect_after_bytes": CUT})
    options = c.CassetteOptions(path=path, mode="all", rootpath=path.parent, nodeid="t.py::t")
    session = c.CassetteSession(options)
    session.start()
    try:
        with (
            httpx.Client() as client,
            pytest.raises(httpx.RemoteProtocolError),
            client.stream("POST", server.base_url + "/chat/completions", json=CHAT) as r,
        ):
            r.read()
    finally:
        session.stop(save=True)


@pytest.fixture
def cut_cassette(oapi_server: OAPIServer, tmp_path: Path) -> Path:
    path = tmp_path / "cut.yaml"
    _record_cut(oapi_server, path)
    assert "oapi_cut:" in path.read_text(encoding="utf-8")
    return path


def test_a_cut_cassette_is_read_with_its_marker(cut_cassette: Path) -> None:
    [rec] = read_recordings(cut_cassette)
    assert isinstance(rec.cut, CutMarker)
    assert rec.cut.error == "httpx.RemoteProtocolError"
    assert len(rec.body) == CUT and rec.judged_body == complete_events(rec.body) != rec.body
    assert rec.cut_note == (
        f"stream cut by the provider after {CUT} bytes (httpx.RemoteProtocolError: "
        f"{rec.cut.message})"
    )


def test_a_cut_stream_is_judged_up_to_its_last_whole_event(cut_cassette: Path) -> None:
    """Not as a provider's malformed JSON (OAS004, OAS007), and without the hint about a
    stream that ends quietly: at a cut every client raises."""
    [rec] = read_recordings(cut_cassette)
    report = rec.check()
    assert report.codes() == ["OAS008", "OAS023"]
    messages = [v.message for v in report.violations]
    assert all(QUIET not in m and "every client raises" in m for m in messages), messages


def test_the_same_events_without_the_marker_keep_their_verdict_and_hint(
    cut_cassette: Path,
) -> None:
    """A stream that ends cleanly where the cut was: the same codes, and the client matrix's
    hint, which is about exactly that (the verdicts of whole streams do not change)."""
    [rec] = read_recordings(cut_cassette)
    quiet = Recording(rec.path, 0, rec.judged_body, rec.request, rec.url, cassette=True)
    report = quiet.check()
    assert report.codes() == ["OAS008", "OAS023"]
    assert all(QUIET in v.message for v in report.violations)


def test_a_hand_edited_marker_still_means_a_cut(cut_cassette: Path) -> None:
    doc = yaml.safe_load(cut_cassette.read_text(encoding="utf-8"))
    doc["interactions"][0]["response"]["oapi_cut"] = True
    cut_cassette.write_text(yaml.safe_dump(doc), encoding="utf-8")
    [rec] = read_recordings(cut_cassette)
    assert rec.cut == CutMarker("RemoteProtocolError", "the provider cut the connection")
    assert rec.check().codes() == ["OAS008", "OAS023"]


def test_a_cassette_without_the_marker_is_judged_whole(cut_cassette: Path) -> None:
    """An old cassette (or one whose marker was removed) is judged as the body it holds."""
    doc = yaml.safe_load(cut_cassette.read_text(encoding="utf-8"))
    del doc["interactions"][0]["response"]["oapi_cut"]
    cut_cassette.write_text(yaml.safe_dump(doc), encoding="utf-8")
    [rec] = read_recordings(cut_cassette)
    assert rec.cut is None and rec.cut_note is None and rec.judged_body == rec.body
    assert "OAS007" in rec.check().codes()
