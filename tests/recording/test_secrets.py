"""No secret in a cassette, a message or a log line; and over-scrubbing never corrupts.

Real clients against real loopback servers (``OAPIServer``, and a tiny ``http.server`` where a
response header is needed that the fake provider does not send).
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis  # noqa: F401
import openai
import pytest
import requests
import vcr  # noqa: F401
from hypothesis import given
from hypothesis import strategies as st

from pytest_oapi_stream.chat.profiles import PROFILES
from pytest_oapi_stream.recording import cassettes as c
from pytest_oapi_stream.recording import filters
from pytest_oapi_stream.server import OAPIServer

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

BODY = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
SSE = b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}\n\n'


def _session(path: Path, mode: str, **kw: Any) -> c.CassetteSession:
    options = c.CassetteOptions(path=path, mode=mode, rootpath=path.parent, nodeid="t.py::t", **kw)
    session = c.CassetteSession(options)
    session.start()
    return session


@pytest.fixture
def server(oapi_server: OAPIServer) -> OAPIServer:
    return oapi_server.stream(text="Hello there!")


def _with_userinfo(url: str, userinfo: str) -> str:
    return url.replace("http://", f"http://{userinfo}@", 1)


def test_url_userinfo_never_reaches_disk_and_still_replays(
    server: OAPIServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.yaml"
    url = _with_userinfo(server.base_url, "user:PASSWORD-0123456789")
    recording = _session(path, "all")
    try:
        with httpx.Client() as client:
            client.post(url + "/chat/completions", json=BODY).read()
        sdk = openai.OpenAI(
            base_url=_with_userinfo(server.base_url, "u:SDKPASS-0123456789"), api_key="sk-x"
        )
        list(sdk.chat.completions.create(**BODY))
    finally:
        recording.stop(save=True)
    text = path.read_text()
    assert "PASSWORD" not in text and "SDKPASS" not in text and "@" not in text
    assert f"uri: {server.base_url}/chat/completions" in text
    replay = _session(path, "replay")
    try:
        with httpx.Client() as client:
            assert client.post(url + "/chat/completions", json=BODY).status_code == 200
    finally:
        replay.stop(save=False)


def test_provider_key_headers_and_parameters_are_redacted_by_default(
    server: OAPIServer, tmp_path: Path
) -> None:
    path = tmp_path / "c.yaml"
    headers = {
        "x-goog-api-key": "goog-SECRET-0123456789",
        "Ocp-Apim-Subscription-Key": "apim-SECRET-0123456789",
        "x-api-key": "anthropic-SECRET-0123456789",
    }
    params = "?access_token=oauth-SECRET-0123456789&apikey=gw-SECRET-0123456789&alt=sse"
    recording = _session(path, "all")
    try:
        requests.post(server.base_url + "/chat/completions" + params, json=BODY, headers=headers)
    finally:
        recording.stop(save=True)
    text = path.read_text()
    assert "SECRET" not in text
    assert "access_token=REDACTED" in text and "alt=sse" in text


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profiled_provider_key_is_a_default_filter(name: str) -> None:
    assert name in filters.PROVIDER_KEY_HEADERS, f"declare {name}'s key headers in filters.py"
    assert set(filters.PROVIDER_KEY_HEADERS[name]) <= set(c.DEFAULT_FILTER_HEADERS)
    params = filters.PROVIDER_KEY_PARAMETERS.get(name, ())
    assert set(params) <= set(c.DEFAULT_FILTER_QUERY_PARAMETERS)


class _CookieHandler(http.server.BaseHTTPRequestHandler):
    """Answers every POST with an SSE body and an Azure-style affinity cookie."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header(
            "set-cookie",
            "ARRAffinity=affinity-0123456789abcdef; Path=/openai/deployments/gpt; HttpOnly; "
            "Domain=127.0.0.1; Expires=Wed, 21 Oct 2099 07:28:00 GMT",
        )
        self.send_header("content-length", str(len(SSE)))
        self.end_headers()
        self.wfile.write(SSE)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def cookie_server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CookieHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_cookie_attributes_and_hosts_are_never_scrubbed(cookie_server: str, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    url = cookie_server + "/openai/deployments/gpt/chat/completions?api-version=2024-10-21"
    recording = _session(path, "all")
    try:
        assert httpx.post(url, json=BODY).content == SSE
    finally:
        recording.stop(save=True)
    text = path.read_text()
    assert f"uri: {url}" in text  # neither the host nor the path was scrubbed
    assert "affinity-0123456789abcdef" not in text
    assert "Wed, 21 Oct 2099" not in text  # the whole header value is replaced
    replay = _session(path, "replay")
    try:
        assert httpx.post(url, json=BODY).content == SSE
    finally:
        replay.stop(save=False)


def test_secret_sink_keeps_cookie_attributes_and_hosts() -> None:
    sink = c.SecretSink()
    sink.add("A=affinity-value-123; Domain=.openai.azure.com; Path=/openai/x", "Set-Cookie")
    text = "https://myres.openai.azure.com/openai/x affinity-value-123"
    assert sink.scrub(text) == "https://myres.openai.azure.com/openai/x REDACTED"
    sink.add("myres.openai")  # a "secret" that is part of a host is never scrubbed from it
    assert sink.scrub(text, hosts=["myres.openai.azure.com"]).startswith("https://myres.openai.")


def test_body_fields_redacted_by_path() -> None:
    sink = c.SecretSink()
    body = (
        b'{"user":"user-SECRET-0123","metadata":{"a":"meta-SECRET-0123","b":2},'
        b'"messages":[{"role":"user","name":"name-SECRET-0123","content":"Hi"}],"n":1}'
    )
    out = filters.redact_body_fields(
        body, ["user", "metadata.*", "messages.*.name", "nope.x"], sink
    )
    assert b"SECRET" not in out
    assert b'"metadata":{"a":"REDACTED","b":"REDACTED"}' in out and b'"content":"Hi"' in out
    assert sink.scrub('{"user":"user-SECRET-0123"}') == '{"user":"REDACTED"}'  # echoed back
    assert sink.scrub("not-user-SECRET-0123s") == "not-user-SECRET-0123s"  # never a substring
    assert filters.redact_body_fields(body, ["absent"], sink) is body
    assert filters.redact_body_fields(b"not json", ["user"], sink) == b"not json"


def test_a_redacted_everyday_word_never_rewrites_the_stream() -> None:
    sink = c.SecretSink()
    body = b'{"user":"assistant","metadata":{"tier":"assistant-v2"}}'
    filters.redact_body_fields(body, ["user", "metadata"], sink)
    sse = 'data: {"delta":{"role":"assistant","content":"an assistant-v2"}}'
    assert sink.scrub(sse) == sse  # the same words under other keys are not secrets
    echoed = '{"user": "assistant", "metadata": {"tier":"assistant-v2"}}'
    assert sink.scrub(echoed) == '{"user": "REDACTED", "metadata": {"tier":"REDACTED"}}'


def test_redactor_applies_the_cassette_filters_to_text() -> None:
    sink = c.SecretSink()
    sink.add("Bearer sk-echoed-0123456789")
    redact = filters.Redactor(sink, c.DEFAULT_FILTER_QUERY_PARAMETERS)
    text = redact(
        "<Request (POST) http://u:pw-0123456789@127.0.0.1:5/v1?key=k-0123456789&alt=sse> "
        "said sk-echoed-0123456789"
    )
    assert text == "<Request (POST) http://127.0.0.1:5/v1?key=REDACTED&alt=sse> said REDACTED"


# ------------------------------------------------------------------ through the plugin

SDK_TEST = """
import logging
import openai
import pytest


def ask(**kw):
    client = openai.OpenAI(max_retries=0)
    stream = client.chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": "Hi"}], **kw)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
"""


def test_ini_and_marker_body_fields_and_messages_and_logs_are_redacted(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\noapi_filter_body_fields = user\n")
    body_kw = "user='user-SECRET-0123456789', metadata={'customer': 'cust-SECRET-0123456789'}"
    test = (
        SDK_TEST
        + "\n\n@pytest.mark.oapi(filter_body_fields=['metadata.customer'])\n"
        + f"def test_a():\n    assert ask({body_kw})\n"
    )
    pytester.makepyfile(test_chat=test)
    monkeypatch.setenv("OPENAI_BASE_URL", _with_userinfo(server.base_url, "u:upw-SECRET-0123"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-SECRET-0123456789")
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    text = (pytester.path / "cassettes" / "test_chat" / "test_a.yaml").read_text()
    assert "SECRET" not in text and '"customer": "REDACTED"' in text
    assert '"user": "REDACTED"' in text

    # replay with another user and a query key: unmatched, and the message shows no secret
    changed = test.replace("user-SECRET", "other-SECRET").replace(
        "metadata=", "extra_query={'key': 'qkey-SECRET-0123456789'}, metadata="
    )
    pytester.makepyfile(test_chat=changed)
    monkeypatch.delenv("OPENAI_API_KEY")
    result = pytester.runpytest_inprocess("--log-level=DEBUG", "-o", "log_cli=false")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "UnmatchedRequestError" in out and "key=REDACTED" in out
    assert "Captured log call" in out  # vcrpy's own log lines are shown, redacted
    assert "SECRET" not in out.replace("SECRET-0123456789'", "")  # the test source lines aside
    lines = [line for line in out.splitlines() if "SECRET" in line]
    assert all(line.lstrip().startswith(("assert ask(", ">", "def ")) for line in lines), lines


def test_bad_filter_body_fields_marker_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "import pytest\n\n@pytest.mark.oapi(filter_body_fields=[5])\ndef test_x():\n    pass\n"
    )
    result = pytester.runpytest_inprocess()
    result.stderr.fnmatch_lines(
        ["*(filter_body_fields=...) must be a list of field paths, not [[]5[]]*"]
    )


_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=20)


@given(st.lists(_WORDS, min_size=1, max_size=4), st.lists(_WORDS, max_size=6))
def test_scrubbing_never_touches_a_host(labels: list[str], secrets: list[str]) -> None:
    host = ".".join(labels)
    sink = c.SecretSink()
    for secret in secrets:
        sink.add(secret)
        sink.add(f"A={secret}; Domain={host}; Path=/v1", "set-cookie")
    uri = f"https://{host}/v1/chat/completions"
    assert sink.scrub(uri, hosts=[host]).startswith(f"https://{host}/")


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=12),
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids),
        max_leaves=12,
    ),
    st.lists(st.sampled_from(["user", "*", "metadata.*", "a.0", "*.*", "x.*.y"]), max_size=3),
)
def test_body_redaction_keeps_valid_json_of_the_same_structure(doc: Any, paths: list[str]) -> None:
    body = json.dumps({"user": "u", "metadata": {"k": "v"}, "doc": doc}).encode()
    out = filters.redact_body_fields(body, paths, c.SecretSink())
    parsed = json.loads(out)
    assert isinstance(parsed, dict)
    if "*" in paths:
        assert set(parsed.values()) == {"REDACTED"}
    if "user" in paths:
        assert parsed["user"] == "REDACTED"
