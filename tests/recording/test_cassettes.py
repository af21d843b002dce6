"""Unit tests of the vcrpy layer (``recording/cassettes.py``): serializer, persister, matcher.

No pytest plumbing here; the plugin is tested with pytester in ``test_plugin*.py`` and the real
clients against a real loopback server in ``test_cassettes_clients.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_oapi_stream.recording import cassettes as c

SSE = (
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",'
    '"choices":[{"index":0,"delta":{"content":"Héllo 東京 🙂"},"finish_reason":null}]}\n\n'
    "data: [DONE]\n\n"
)


def _cassette_dict(body: Any, request_body: Any = b'{"model":"m","stream":true}') -> dict[str, Any]:
    from vcr.request import Request

    request = Request("POST", "https://api.example/v1/chat/completions", request_body, {})
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"content-type": ["text/event-stream"]},
        "body": {"string": body},
    }
    return {"requests": [request], "responses": [response]}


def _roundtrip(body: Any) -> tuple[str, Any]:
    from vcr.serialize import deserialize, serialize

    serializer = c.ReadableYamlSerializer()
    text = serialize(_cassette_dict(body), serializer)
    _requests, responses, *_ = deserialize(text, serializer)
    return text, responses[0]["body"]["string"]


# ------------------------------------------------------------------------------ serializer


def test_sse_body_is_a_literal_block_one_event_a_line() -> None:
    text, body = _roundtrip(SSE.encode())
    assert body == SSE.encode()
    assert "string: |+\n" in text
    assert '        data: {"id":"chatcmpl-1"' in text  # readable, not escaped
    assert "Héllo 東京 🙂" in text  # libyaml alone would quote the whole body for the emoji
    assert "!!binary" not in text and '\\"' not in text


def test_request_json_body_is_indented_for_diffs() -> None:
    text, _ = _roundtrip(SSE.encode())
    assert '    body: |\n      {\n        "model": "m",\n        "stream": true\n      }\n' in text


def test_cassette_loads_with_plain_vcrpy_yaml_serializer() -> None:
    from vcr.serialize import deserialize, serialize
    from vcr.serializers import yamlserializer

    text = serialize(_cassette_dict(SSE.encode()), c.ReadableYamlSerializer())
    _requests, responses, *_ = deserialize(text, yamlserializer)
    assert responses[0]["body"]["string"] == SSE.encode()


@pytest.mark.parametrize(
    "body",
    [
        "data: a\r\n\r\ndata: [DONE]\r\n\r\n",  # CRLF: quoted, kept exactly
        "data: a \n\n",  # trailing space
        "data: a\n\n\n\n",  # several trailing newlines
        "data: a",  # no trailing newline
        "  data: leading spaces\n\n",
        "\n\ndata: leading newlines\n",
        "data: \t tab\n\n",
        "data: \u2028 line separator\n\n",
        "\ufeffdata: bom\n\n",
        "data: nel \x85\n\n",
        "",
    ],
)
def test_awkward_bodies_roundtrip_exactly(body: str) -> None:
    _text, loaded = _roundtrip(body.encode())
    assert loaded == body.encode()


def test_non_utf8_body_roundtrips_as_binary() -> None:
    raw = b"data: \xff\xfe\n\n"
    text, loaded = _roundtrip(raw)
    assert loaded == raw
    assert "!!binary" in text


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_any_text_body_roundtrips(body: str) -> None:
    _text, loaded = _roundtrip(body.encode("utf-8"))
    assert loaded == body.encode("utf-8")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet='ab \n{}":é🙂', max_size=12), min_size=1, max_size=6))
def test_block_safe_bodies_use_literal_blocks(lines: list[str]) -> None:
    body = "\n".join(lines) + "\n"
    text, loaded = _roundtrip(body.encode())
    assert loaded == body.encode()
    if c._block_safe(body):
        assert "string: |" in text


# ------------------------------------------------------------------------------ persister


def test_atomic_write_replaces_and_keeps_old_file_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "sub" / "c.yaml"
    c.atomic_write_text(target, "one\n")
    assert target.read_text() == "one\n"

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        c.atomic_write_text(target, "two\n")
    assert target.read_text() == "one\n"
    assert [p.name for p in target.parent.iterdir()] == ["c.yaml"]  # no temp file left


def test_atomic_write_keeps_the_file_mode(tmp_path: Path) -> None:
    target = tmp_path / "c.yaml"
    c.atomic_write_text(target, "x")
    assert target.stat().st_mode & 0o777 == 0o644
    target.chmod(0o600)
    c.atomic_write_text(target, "y")
    assert target.stat().st_mode & 0o777 == 0o600


def test_persister_scrubs_every_secret_seen(tmp_path: Path) -> None:
    sink = c.SecretSink()
    sink.add("Bearer sk-live-abcdefghijklmnop")
    persister = c.AtomicPersister(sink)
    body = SSE.replace("Héllo", "key sk-live-abcdefghijklmnop echoed").encode()
    persister.save_cassette(tmp_path / "c.yaml", _cassette_dict(body), c.ReadableYamlSerializer())
    text = (tmp_path / "c.yaml").read_text()
    assert "sk-live" not in text
    assert "key REDACTED echoed" in text
    assert persister.writes == 1


def test_persister_load_switch(tmp_path: Path) -> None:
    from vcr.persisters.filesystem import CassetteNotFoundError

    path = tmp_path / "c.yaml"
    c.AtomicPersister().save_cassette(path, _cassette_dict(b"x"), c.ReadableYamlSerializer())
    reqs, _resps, *_ = c.AtomicPersister().load_cassette(path, c.ReadableYamlSerializer())
    assert len(reqs) == 1
    with pytest.raises(CassetteNotFoundError):
        c.AtomicPersister(load=False).load_cassette(path, c.ReadableYamlSerializer())
    path.write_text("  \n")  # there, but no cassette: broken, not absent (issue 9, point 5)
    with pytest.raises(c.BrokenCassetteError, match="the file is empty"):
        c.AtomicPersister().load_cassette(path, c.ReadableYamlSerializer())


def test_load_interactions_reads_a_cassette_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    c.AtomicPersister().save_cassette(
        path, _cassette_dict(SSE.encode()), c.ReadableYamlSerializer()
    )
    [interaction] = c.load_interactions(path)
    assert interaction.body == SSE.encode()
    assert interaction.request_json == {"model": "m", "stream": True}
    assert interaction.is_chat_stream


def test_secret_sink_variants() -> None:
    sink = c.SecretSink()
    sink.add(["Bearer tok-123456789", "short"])
    sink.add("session=abcdefghij; theme=dark", "Cookie")  # each cookie's value is a secret
    sink.add(b"bytes-secret-value")
    sink.add(c.REDACTED)
    text = sink.scrub("tok-123456789 abcdefghij dark bytes-secret-value short")
    assert text == "REDACTED REDACTED dark REDACTED short"


# ------------------------------------------------------------------------------ matcher


class _Req:
    def __init__(self, body: bytes | None) -> None:
        self.body = body


def test_body_matcher_ignores_key_order_and_whitespace() -> None:
    c.json_body_matcher(_Req(b'{"a": 1, "b": [1, 2]}'), _Req(b'{\n  "b": [1,2],\n  "a": 1\n}\n'))
    c.json_body_matcher(_Req(None), _Req(b""))
    c.json_body_matcher(_Req(b"not json"), _Req(b"not json"))


@pytest.mark.parametrize(
    ("new", "recorded"),
    [
        (b'{"model": "gpt-4o"}', b'{"model": "gpt-4o-mini"}'),
        (b'{"stream": true}', b'{"stream": 1}'),
        (b'{"t": 1.0}', b'{"t": 1}'),
        (b'{"a": 1}', None),
        (b"raw a", b"raw b"),
    ],
)
def test_body_matcher_rejects_changed_requests(new: bytes, recorded: bytes | None) -> None:
    with pytest.raises(AssertionError):
        c.json_body_matcher(_Req(new), _Req(recorded))


def test_body_matcher_message_is_a_diff() -> None:
    with pytest.raises(AssertionError) as info:
        c.json_body_matcher(_Req(b'{"model": "b", "x": 1}'), _Req(b'{"model": "a", "x": 1}'))
    assert '-  "model": "a",' in str(info.value)
    assert '+  "model": "b",' in str(info.value)


# ------------------------------------------------------------------------------ re-chunking


BODY = (SSE * 40).encode()


def test_rechunk_pieces_join_to_the_body_and_are_deterministic() -> None:
    pieces = c.rechunk(BODY, seed=7)
    assert b"".join(pieces) == BODY
    assert len(pieces) > 10
    assert c.rechunk(BODY, seed=7) == pieces
    assert c.rechunk(BODY, seed=8) != pieces


def test_rechunk_splits_inside_characters_lines_and_event_ends() -> None:
    pieces = c.rechunk(BODY, seed=1)
    ends = [p[-1:] for p in pieces[:-1]]
    starts = [p[:1] for p in pieces[1:]]
    # a piece ending with a UTF-8 lead byte: the split falls inside a character
    assert any(e and 0xC0 <= e[0] <= 0xF7 for e in ends)
    # a piece ending with the first LF of "\n\n" and the next starting with the second
    assert any(e == b"\n" and s == b"\n" for e, s in zip(ends, starts, strict=True))
    # a split inside "data:"
    assert any(p.endswith(b"dat") for p in pieces)
    with pytest.raises(UnicodeDecodeError):
        for p in pieces:
            p.decode("utf-8")


def test_rechunk_strategies_and_caps() -> None:
    assert c.rechunk(BODY, 0, "off") == [BODY]
    assert c.rechunk(b"abc", 0, "bytes") == [b"a", b"b", b"c"]
    assert c.rechunk(b"", 0) == [b""]
    assert b"".join(c.rechunk(b"ab", 0)) == b"ab"
    big = b"x" * 3_000_000
    assert len(c.rechunk(big, 0)) < 5_000  # a 3 MB body stays cheap to replay
    with pytest.raises(ValueError, match="unknown rechunk strategy"):
        c.rechunk(BODY, 0, "lines")


def test_rechunked_replay_refuses_changed_vcrpy_internals(monkeypatch: pytest.MonkeyPatch) -> None:
    from vcr.stubs import httpx_stubs

    def changed(response: Any, module: Any, extra: Any) -> None: ...

    monkeypatch.setattr(httpx_stubs, "_deserialize_response", changed)
    with (
        pytest.raises(c.VcrInternalsError, match="oapi_rechunk = off"),
        c.rechunked_replay("random", 0),
    ):
        pass
    with c.rechunked_replay("off", 0):  # "off" patches nothing, so it still works
        pass


def test_rechunked_replay_restores_vcrpy() -> None:
    import vcr.stubs as stubs
    from vcr.stubs import httpx_stubs

    before = (httpx_stubs._deserialize_response, stubs.VCRHTTPResponse.stream)
    with c.rechunked_replay("random", 0):
        assert httpx_stubs._deserialize_response is not before[0]
        with (
            pytest.raises(c.CassetteError, match="two cassettes"),
            c.rechunked_replay("random", 1),
        ):
            pass
    assert (httpx_stubs._deserialize_response, stubs.VCRHTTPResponse.stream) == before


# ------------------------------------------------------------------------------ network guard


def test_block_network_refuses_remote_hosts_only() -> None:
    import socket

    with c.block_network("run with --oapi-record"):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        with pytest.raises(
            c.NetworkBlockedError, match=r"203\.0\.113\.9:443 is blocked\. run with"
        ):
            s.connect(("203.0.113.9", 443))
        with pytest.raises(c.NetworkBlockedError):
            s.connect_ex(("203.0.113.9", 443))
        s.close()
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client = socket.socket()
        client.connect(server.getsockname())  # loopback is allowed
        client.close()
        server.close()
    assert socket.socket.connect.__qualname__ == "socket.connect"


# ------------------------------------------------------------------------------ paths & args


def test_safe_file_name() -> None:
    assert c.safe_file_name("test_x[a/b:c]") == "test_x[a%2Fb%3Ac]"
    long = c.safe_file_name("t[" + "é" * 300 + "]")
    assert len(long.encode()) <= 200
    assert long != c.safe_file_name("t[" + "é" * 299 + "x]")


def test_default_and_marker_cassette_paths(tmp_path: Path) -> None:
    root = tmp_path
    path = c.default_cassette_path(
        root / "cassettes", root / "tests" / "test_chat.py", root, "TestA.test_b[x]"
    )
    assert path == root / "cassettes" / "tests" / "test_chat" / "TestA.test_b[x].yaml"
    outside = c.default_cassette_path(root / "cassettes", Path("/elsewhere/test_o.py"), root, "t")
    assert outside == root / "cassettes" / "test_o" / "t.yaml"
    assert c.resolve_cassette_path(root / "c", "shared/hello") == root / "c" / "shared/hello.yaml"
    assert c.resolve_cassette_path(root / "c", "/abs/x.yml") == Path("/abs/x.yml")


@pytest.mark.parametrize(
    ("args", "fixed"),
    [
        (["--oapi-record", "tests/x.py"], ["--oapi-record=all", "tests/x.py"]),
        (["tests/x.py", "--oapi-record"], ["tests/x.py", "--oapi-record=all"]),
        (["--oapi-record", "missing", "t.py"], ["--oapi-record", "missing", "t.py"]),
        (["--oapi-record=missing"], ["--oapi-record=missing"]),
        (["--", "--oapi-record", "x"], ["--", "--oapi-record", "x"]),
    ],
)
def test_fix_record_flag(args: list[str], fixed: list[str]) -> None:
    c.fix_record_flag(args)
    assert args == fixed


# ------------------------------------------------------------------------------ interactions


def _interaction(**kw: Any) -> c.Interaction:
    base: dict[str, Any] = {
        "index": 0,
        "method": "POST",
        "uri": "https://api.openai.com/v1/chat/completions",
        "request_body": json.dumps({"stream": True}).encode(),
        "status": 200,
        "headers": {"Content-Type": ["text/event-stream"]},
        "body": SSE.encode(),
        "recorded": False,
    }
    base.update(kw)
    return c.Interaction(**base)


def test_is_chat_stream() -> None:
    assert _interaction().is_chat_stream
    assert _interaction(headers={}).is_chat_stream  # stream: true in the request
    assert not _interaction(headers={}, request_body=b"{}").is_chat_stream
    assert not _interaction(uri="https://x/v1/responses").is_chat_stream
    assert not _interaction(status=401).is_chat_stream
    assert _interaction().header("content-type") == "text/event-stream"
    assert _interaction(request_body=b"[1]").request_json is None


def test_run_stats_merge_and_summary() -> None:
    a = c.RunStats(replayed=2, missing=1, missing_tests=["t.py::a"])
    a.violations["OAS015 id-constant"] += 1
    b = c.RunStats(recorded=1, unmatched=1, unmatched_tests=["t.py::b"])
    b.violations["OAS015 id-constant"] += 2
    a.merge(yaml.safe_load(yaml.safe_dump(b.to_dict())))  # plain data, as xdist sends it
    lines = a.summary_lines()
    assert lines[0] == "cassettes: 2 replayed, 1 recorded, 1 missing, 1 with unmatched requests"
    assert "violations: OAS015 id-constant x3" in lines
    assert "next: pytest --oapi-record=missing   (records the missing cassettes)" in lines
    assert "next: pytest --oapi-record t.py::b   (re-records those cassettes)" in lines
    assert not c.RunStats().active


def test_user_filter_entries_override_defaults() -> None:
    sink = c.SecretSink()
    entries = c._filter_entries(["authorization", "Cookie", ("AUTHORIZATION", "MINE")], sink)
    assert [(n, r) for n, r in entries if isinstance(r, str)] == [("AUTHORIZATION", "MINE")]
    assert [n for n, _ in entries] == ["Cookie", "AUTHORIZATION"]
    redact = entries[0][1]
    assert redact(key="cookie", value="sid=abcdefghijk", request=None) == c.REDACTED
    assert sink.scrub("abcdefghijk") == c.REDACTED
