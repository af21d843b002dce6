"""A resumed Responses stream recorded against ``oapi_server`` itself, then replayed offline.

The inner tests are what a user writes: the first stream drops after ``response.in_progress``,
then the client resumes with ``retrieve(stream=True, starting_after=N)``. ``--oapi-record``
records both requests; the replay takes both from the cassette (the inner server then sees no
request) and the teardown check judges the resumed GET with the ``starting_after`` of its
recorded URL.

Under ``--oapi-record`` vcrpy reads a response's whole body before the client sees any of it,
so a stream the *server* cuts (``disconnect_after_bytes``) reaches the client as an error with
no event and is not written; the resume is recorded from a stream the *client* drops instead
(it stops reading, as a reloaded page or a killed worker does). The server-cut case is kept
as a strict xfail until the recording layer keeps the bytes that arrived before a cut.
"""

from __future__ import annotations

import json

# Imported once here: pytester drops the modules an in-process run imports (see test_plugin.py).
import httpx
import openai  # noqa: F401
import pytest
import vcr  # noqa: F401
import yaml

from pytest_oapi_stream.server import OAPIServer

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

TEXT = "Once upon a time, a small fox found a lantern."
REQUEST = {"model": "gpt-4o", "input": "Tell me a story", "stream": True, "background": True}

INNER = """
import openai
import pytest

from pytest_oapi_stream import assert_valid_response_stream

TEXT = {text!r}


def resume(oapi_server, client, before):
    rid, after = before[0].response.id, before[-1].sequence_number
    assert after == 1  # response.created and response.in_progress arrived
    stream = client.responses.retrieve(rid, stream=True, starting_after=after)
    resumed = assert_valid_response_stream(stream, request={{"starting_after": after}})
    assert resumed.events[0].sequence_number == 2
    text = "".join(
        e.delta for e in before + resumed.events if e.type == "response.output_text.delta"
    )
    assert text == TEXT
    print("SERVED", len(oapi_server.requests))


@pytest.mark.oapi
def test_resume(oapi_server):
    oapi_server.stream(TEXT)
    client = openai.OpenAI(base_url=oapi_server.base_url, api_key="sk-test", max_retries=0)
    before = []
    stream = client.responses.create(
        model="gpt-4o", input="Tell me a story", stream=True, background=True
    )
    for event in stream:
        before.append(event)
        if event.type == "response.in_progress":
            stream.close()  # the client drops the stream
            break
    resume(oapi_server, client, before)


@pytest.mark.oapi
def test_resume_after_a_cut(oapi_server):
    oapi_server.stream(TEXT, faults={{"disconnect_after_bytes": {cut}}})
    client = openai.OpenAI(base_url=oapi_server.base_url, api_key="sk-test", max_retries=0)
    before = []
    with pytest.raises(openai.APIConnectionError):
        for event in client.responses.create(
            model="gpt-4o", input="Tell me a story", stream=True, background=True
        ):
            before.append(event)
    resume(oapi_server, client, before)
"""


def _cut_after_in_progress() -> int:
    """Bytes of ``response.created`` + ``response.in_progress`` for ``REQUEST``, plus 10: the
    cut falls inside the first item's event."""
    with OAPIServer() as server:
        server.stream(TEXT)
        body = httpx.post(server.base_url + "/responses", json=REQUEST).content
    first, second = body.split(b"\n\n")[:2]
    return len(first) + len(second) + 4 + 10


def _inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    pytester.makepyfile(test_resume=INNER.format(text=TEXT, cut=_cut_after_in_progress()))


def test_a_dropped_and_resumed_stream_records_and_replays_offline(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _inner(pytester, monkeypatch)
    args = ("-s", "-p", "no:cacheprovider", "test_resume.py::test_resume")
    recorded = pytester.runpytest_inprocess("--oapi-record", *args)
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(["*SERVED 2*"])
    path = pytester.path / "cassettes" / "test_resume" / "test_resume.yaml"
    cassette = yaml.safe_load(path.read_text())
    post, get = cassette["interactions"]
    assert post["request"]["method"] == "POST" and get["request"]["method"] == "GET"
    assert "starting_after=1" in get["request"]["uri"] and "stream=true" in get["request"]["uri"]
    resumed = get["response"]["body"]["string"]
    first = json.loads(resumed.split("data: ", 1)[1].split("\n", 1)[0])
    assert first["type"] == "response.output_item.added" and first["sequence_number"] == 2
    assert "sk-test" not in path.read_text()

    replayed = pytester.runpytest_inprocess(*args)
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(["*SERVED 0*", "cassettes: 1 replayed, 0 recorded, 0 missing"])


@pytest.mark.xfail(
    strict=True,
    reason="under --oapi-record vcrpy reads the whole body first: a stream the server cuts "
    "reaches the client as an error with no event, and is not written to the cassette",
)
def test_a_stream_cut_by_the_server_records_and_replays(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _inner(pytester, monkeypatch)
    args = ("-s", "-p", "no:cacheprovider", "test_resume.py::test_resume_after_a_cut")
    pytester.runpytest_inprocess("--oapi-record", *args).assert_outcomes(passed=1)
    replayed = pytester.runpytest_inprocess(*args)
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(["*SERVED 0*"])
