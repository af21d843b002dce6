"""A resumed Responses stream recorded against ``oapi_server`` itself, then replayed offline.

The inner tests are what a user writes: the first stream drops after ``response.in_progress``,
then the client resumes with ``retrieve(stream=True, starting_after=N)``. ``--oapi-record``
records both requests; the replay takes both from the cassette (the inner server then sees no
request) and the teardown check judges the resumed GET with the ``starting_after`` of its
recorded URL.

The stream is dropped two ways: the *client* stops reading (as a reloaded page or a killed worker
does), or the *server* cuts the connection (``disconnect_after_bytes``). A cut is recorded with
the bytes that arrived and an ``oapi_cut`` marker, and replayed as the same events then the same
error; the teardown check judges the cut POST as the truncated stream it is (OAS114), so the test
that expects the cut says so with ``ignore=["OAS114"]`` (docs/recording.md).
"""

from __future__ import annotations

import json

# Imported once here: pytester drops the modules an in-process run imports (see test_plugin.py).
import httpcore2  # noqa: F401  (httpx2 maps only the httpcore2 errors of its first import)
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


@pytest.mark.oapi(ignore=["OAS114"])  # the cut stream has no terminal event: expected here
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


def test_a_stream_cut_by_the_server_records_and_replays(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _inner(pytester, monkeypatch)
    args = ("-s", "-p", "no:cacheprovider", "test_resume.py::test_resume_after_a_cut")
    recorded = pytester.runpytest_inprocess("--oapi-record", *args)
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(["*SERVED 2*"])
    path = pytester.path / "cassettes" / "test_resume" / "test_resume_after_a_cut.yaml"
    post, get = yaml.safe_load(path.read_text())["interactions"]
    assert post["response"]["oapi_cut"]["error"] == "httpx2.RemoteProtocolError"
    assert len(post["response"]["body"]["string"].encode()) == _cut_after_in_progress()
    assert "oapi_cut" not in get["response"]

    replayed = pytester.runpytest_inprocess(*args)
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(["*SERVED 0*"])


def test_an_unexpected_cut_fails_the_recording_naming_the_cut(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _inner(pytester, monkeypatch)
    test = pytester.path / "test_resume.py"
    test.write_text(
        test.read_text().replace('@pytest.mark.oapi(ignore=["OAS114"])', "@pytest.mark.oapi")
    )
    result = pytester.runpytest_inprocess(
        "--oapi-record", "-p", "no:cacheprovider", "test_resume.py::test_resume_after_a_cut"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E   *StreamContractError: stream contract violated (cassettes/test_resume/"
            "test_resume_after_a_cut.yaml #0 POST http://127.0.0.1:*/v1/responses; stream cut by "
            "the provider after * bytes (httpx2.RemoteProtocolError: peer closed connection "
            "without sending complete message body (incomplete chunked read))): 1 error(s), "
            "0 warning(s)",
            "*OAS114 terminal-once-last * the stream is truncated*",
        ]
    )
