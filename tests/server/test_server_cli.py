"""``serve_main`` (``oapi-stream serve``) run as a real process: URL line, one request, SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from pytest_oapi_stream.server import serve_main

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "corpus"
SSL = ssl.create_default_context()
URL_LINE = re.compile(r"^oapi-stream serve: (http://127\.0\.0\.1:(\d+)/v1)$")


@contextmanager
def serving(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    code = (
        "from pytest_oapi_stream.server import serve_main; "
        f"raise SystemExit(serve_main({list(args)!r}))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        m = URL_LINE.match(line)
        assert m, (line, proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        yield m.group(1), proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()


def post(url: str) -> bytes:
    with httpx.Client(verify=SSL, timeout=5) as client:
        r = client.post(url + "/chat/completions", json={"messages": [], "stream": True})
        assert r.status_code == 200
        return r.content


def test_serve_file_with_a_fault_then_sigterm() -> None:
    path = CORPUS / "openai__gpt-4o_text_include-usage.sse"
    with serving("--file", str(path), "--fault", "drop_done", "--port", "0") as (url, proc):
        body = post(url)
        assert body == path.read_bytes().replace(b"data: [DONE]\n\n", b"")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0


def test_serve_built_stream_as_provider() -> None:
    args = ("--as-provider", "groq", "--text", "Hola", "--fault", "truncate_after=2")
    with serving(*args) as (url, proc):
        body = post(url)
        assert b'"x_groq"' in body and body.count(b"data: ") == 2
    assert proc.returncode == 0


def test_ctrl_c_stops_cleanly() -> None:
    with serving() as (url, proc):
        assert b"Hello!" in post(url)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fault", "nope"], "unknown fault 'nope'"),
        (["--fault", "truncate_after=x"], "takes an integer"),
        (["--file", "/does/not/exist.sse"], "No such file"),
        (["--file", "x.sse", "--text", "hi"], "not with --file"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert serve_main(argv) == 2
    assert message in capsys.readouterr().err


def test_only_loopback_hosts_are_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        serve_main(["--host", "0.0.0.0"])
    assert exc.value.code == 2
    assert "invalid choice: '0.0.0.0'" in capsys.readouterr().err
