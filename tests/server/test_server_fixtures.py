"""The ``oapi_server`` / ``oapi_server_session`` fixtures, as a user's test suite sees them."""

from __future__ import annotations

import pytest

#: Inner runs skip plugins this suite does not need (hypothesis' summary costs seconds).
ARGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

USER_TESTS = """
import socket
import threading

import openai
import pytest

from pytest_oapi_stream import StreamContractError, assert_valid_chunk_stream

PORTS = []


def _client(server):
    return openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)


def test_stream_through_the_sdk(oapi_server):
    oapi_server.stream("Hello from the fixture", usage=True)
    client = _client(oapi_server)
    chunks = list(client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True))
    client.close()
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "Hello from the fixture")
    assert oapi_server.requests[0].json["messages"][0]["content"] == "hi"
    PORTS.append(oapi_server.port)


def test_fault_fails_the_contract(oapi_server):
    oapi_server.stream(faults={"change_id_at": 2})
    import httpx
    with httpx.Client() as http:
        r = http.post(oapi_server.base_url + "/chat/completions",
                      json={"messages": [], "stream": True})
    with pytest.raises(StreamContractError, match="OAS015"):
        assert_valid_chunk_stream(r.content, profile="openai")
    PORTS.append(oapi_server.port)


def test_each_test_gets_its_own_server_and_the_last_one_is_stopped(oapi_server):
    assert len(set(PORTS)) == 2 and oapi_server.port not in PORTS
    for port in PORTS:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    names = {t.name for t in threading.enumerate()}
    assert f"oapi-server-{oapi_server.port}" in names
    assert not {n for n in names for p in PORTS if n.startswith(f"oapi-server-{p}")}


SESSION = []


def test_session_server_a(oapi_server_session):
    oapi_server_session.stream("shared")
    SESSION.append(oapi_server_session)


def test_session_server_b(oapi_server_session):
    assert SESSION == [oapi_server_session] and oapi_server_session.running
    oapi_server_session.reset()
    assert oapi_server_session.requests == []
"""


def test_fixtures_in_a_user_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_inprocess(*ARGS)
    result.assert_outcomes(passed=5)


def test_fixtures_are_listed_with_their_docs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(): pass\n")
    result = pytester.runpytest_inprocess("--fixtures", *ARGS)
    result.stdout.fnmatch_lines(
        [
            "oapi_server -- *",
            "*A fresh OpenAI-compatible server on 127.0.0.1 for this test*",
            "oapi_server_session [[]session scope[]] -- *",
        ]
    )


def test_session_server_is_stopped_at_session_end(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_s="""
        import json, pathlib
        def test_s(oapi_server_session):
            pathlib.Path("port.json").write_text(json.dumps(oapi_server_session.port))
        """
    )
    pytester.runpytest_inprocess(*ARGS).assert_outcomes(passed=1)
    import json
    import socket
    import threading

    port = json.loads((pytester.path / "port.json").read_text())
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert not [t for t in threading.enumerate() if t.name.startswith(f"oapi-server-{port}")]


def test_internal_server_errors_surface_as_a_warning(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_w="""
        def test_w(oapi_server):
            oapi_server._internal_error("Traceback: boom")
        """
    )
    result = pytester.runpytest_inprocess(*ARGS)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*oapi_server had 1 internal error(s); the last:*"])


def test_the_fixtures_module_imports_the_server_only_on_use() -> None:
    """The plugin loads ``plugin.fixtures`` in every pytest run; the server must wait for use."""
    import subprocess
    import sys

    code = (
        "import sys, pytest_oapi_stream.plugin.fixtures; "
        "print(sorted(m for m in sys.modules if m.startswith('pytest_oapi_stream.server')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
