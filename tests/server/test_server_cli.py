"""``serve_main`` (``oapi-stream serve``) run as a real process: URL line, one request, SIGTERM."""

from __future__ import annotations

import json
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


# --------------------------------------------------------------------------- CLI advice, tool calls


@pytest.mark.parametrize(
    ("argv", "advice"),
    [
        (["--fault", "split_utf8"], "--text 'héllo wörld'"),
        (["--fault", "repeat_tool_ids"], "--tool-calls"),
        (["--fault", "tool_index_missing"], "--tool-calls"),
    ],
)
def test_fault_advice_names_cli_flags_not_the_python_api(
    argv: list[str], advice: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert serve_main(argv) == 2
    err = capsys.readouterr().err
    assert advice in err, err
    assert "stream(" not in err and "=[" not in err, err
    assert err.count("\n") == 1, err


def test_the_python_api_keeps_python_advice() -> None:
    from pytest_oapi_stream.server import OAPIServer

    with pytest.raises(ValueError, match=r"stream\(text='héllo wörld'\)"):
        OAPIServer().stream("ascii", faults=["split_utf8"])
    with pytest.raises(ValueError, match=r"stream\(tool_calls=\[\{'name'"):
        OAPIServer().stream("x", faults=["repeat_tool_ids"])


def test_the_advised_flags_work(capsys: pytest.CaptureFixture[str]) -> None:
    """Following the advice makes the fault apply (the server then starts: stop it at once)."""
    from pytest_oapi_stream.server import serve

    for argv in (
        ["--fault", "split_utf8", "--text", "héllo wörld"],
        ["--fault", "repeat_tool_ids", "--tool-calls", 'get_weather={"city": "Paris"}'],
    ):
        server = serve.build_server(serve.parse_args(argv))
        assert server is not None and not server.running, capsys.readouterr().err


def test_serve_a_tool_call_stream() -> None:
    args = (
        "--tool-calls",
        'get_weather={"city": "Paris"}',
        "--tool-calls",
        "get_time",
        "--as-provider",
        "openai",
    )
    with serving(*args) as (url, _proc):
        body = post(url)
    from pytest_oapi_stream import check_chunk_stream

    report = check_chunk_stream(body, profile="openai")
    assert [v.line() for v in report.violations if v.severity != "info"] == []
    calls = report.stream.messages[0].tool_calls
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {}),
    ]
    assert b'"finish_reason":"tool_calls"' in body


def test_serve_tool_calls_reach_the_openai_sdk() -> None:
    import httpx2
    import openai

    with serving("--tool-calls", 'lookup={"q": "x", "n": 2}', "--text", "Let me check.") as (
        url,
        _proc,
    ):
        client = openai.OpenAI(
            base_url=url, api_key="t", max_retries=0, http_client=httpx2.Client(verify=SSL)
        )
        with client.chat.completions.stream(
            model="m", messages=[{"role": "user", "content": "q"}]
        ) as stream:
            final = stream.get_final_completion()
        client.close()
    msg = final.choices[0].message
    assert msg.content == "Let me check."
    assert msg.tool_calls is not None and msg.tool_calls[0].function.name == "lookup"
    assert json.loads(msg.tool_calls[0].function.arguments) == {"q": "x", "n": 2}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("get_weather={bad", "--tool-calls 'get_weather={bad': the arguments are not valid JSON"),
        ("get_weather=[1, 2]", "the arguments must be a JSON object"),
        ("={}", "--tool-calls '={}': a tool call needs a function name"),
        ("bad name={}", "a function name is letters, digits, '_' and '-'"),
    ],
)
def test_bad_tool_calls_exit_2_with_one_line(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert serve_main(["--tool-calls", value]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_tool_calls_are_not_for_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve_main(["--file", "x.sse", "--tool-calls", "f"]) == 2
    assert "--tool-calls" in capsys.readouterr().err


def test_help_documents_tool_calls(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        serve_main(["--help"])
    out = capsys.readouterr().out
    assert "--tool-calls NAME[=JSON]" in out and "repeat" in out


@pytest.mark.parametrize(
    ("port", "message"),
    [
        ("99999", "port 99999 is out of range 0-65535"),
        ("-1", "port -1 is out of range"),
        ("x", "not a port"),
    ],
)
def test_port_out_of_range_is_a_usage_error(port: str, message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_oapi_stream", "serve", "--port", port],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"argument --port: {message}" in proc.stderr.splitlines()[-1]
