"""The CLI on big, odd and hostile input (issue 10, points 2, 3 and 6).

Memory: ``check``, ``shape`` and ``diff`` keep nothing per chunk (traced peak far below the file's
size; ``benchmarks/bench_memory.py`` measures the RSS at 10x the size), and running out of memory
anyway is exit 2 with one line. Odd paths (FIFO, device, symlink loop) get their own words; an
unreadable file among others is reported and the rest still checked; a closed pipe ends the run
quietly; a stream's control characters never reach the terminal.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import pytest
import yaml

from pytest_oapi_stream.cli import main

DATA = Path(__file__).parents[1] / "data"
CLEAN = DATA / "corpus" / "openai__gpt-4o_text_include-usage.sse"
ROOT = Path(__file__).parents[2]
URL = "https://api.openai.com/v1/chat/completions"
ENV = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1700000000,
    "model": "gpt-4o",
    "system_fingerprint": "fp_1",
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def text_stream(n: int, *, token: str = "hello ") -> bytes:
    def ev(choice: dict[str, object]) -> str:
        return "data: " + json.dumps({**ENV, "choices": [choice]}) + "\n\n"

    first = ev({"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None})
    body = ev({"index": 0, "delta": {"content": token}, "finish_reason": None}) * n
    last = ev({"index": 0, "delta": {}, "finish_reason": "stop"})
    return (first + body + last + "data: [DONE]\n\n").encode()


def cassette(path: Path, *bodies: bytes, raw: bool = False) -> Path:
    interactions = []
    for body in bodies:
        headers = {"Content-Type": ["text/event-stream"]}
        if raw:
            headers["Content-Encoding"] = ["gzip"]
        interactions.append(
            {
                "request": {"method": "POST", "uri": URL, "headers": {}, "body": '{"stream":true}'},
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": headers,
                    "body": {"string": body if raw else body.decode()},
                },
            }
        )
    path.write_text(yaml.safe_dump({"version": 1, "interactions": interactions}), "utf-8")
    return path


# ------------------------------------------------------------------------- point 2: memory


@pytest.mark.parametrize("command", ["check", "shape", "diff"])
def test_check_shape_and_diff_keep_nothing_per_chunk(tmp_path: Path, command: str) -> None:
    big = tmp_path / "big.sse"
    big.write_bytes(text_stream(4_000, token="hello " * 80))
    argv = [command, str(big)] + ([str(big)] if command == "diff" else [])
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(argv) == 0  # warm-up: imports and first-use caches are not per chunk
        tracemalloc.start()
        try:
            assert main(argv) == 0
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    size = big.stat().st_size  # 2.6 MB; keeping the chunks would take about 5 times that
    assert peak < size / 3, f"{command}: traced peak {peak} bytes for a {size}-byte file"


def test_auto_restart_reads_the_file_again_and_keeps_nothing(tmp_path: Path) -> None:
    # A provider signal late in the stream (DeepSeek's reasoning_content on a deepseek model)
    # makes auto start over under that profile: the file is read again, not kept.
    chunks = [
        {**ENV, "model": "deepseek-reasoner", "choices": [c]}
        for c in [
            {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None},
            *[{"index": 0, "delta": {"content": "x"}, "finish_reason": None}] * 3000,
            {"index": 0, "delta": {"reasoning_content": "late"}, "finish_reason": None},
            {"index": 0, "delta": {}, "finish_reason": "stop"},
        ]
    ]
    path = tmp_path / "late.sse"
    path.write_text("".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n")
    with contextlib.redirect_stdout(io.StringIO()) as buf:
        code = main(["check", "--format", "json", str(path)])
    result = json.loads(buf.getvalue())["results"][0]
    assert result["profile"] == "deepseek"
    from pytest_oapi_stream import check_chunk_stream

    keep = check_chunk_stream(path)
    assert keep.profile.name == "deepseek"
    assert [v["code"] for v in result["violations"]] == [v.code for v in keep.violations]
    assert code == (0 if keep.ok else 1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc: Linux")
def test_out_of_memory_is_exit_2_with_one_line(tmp_path: Path) -> None:
    # A gzip body that inflates to 1 GiB, read under a ~300 MiB address-space limit.
    comp = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"data: " + b"a" * (1 << 20)
    gz = b"".join(comp.compress(block) for _ in range(1024)) + comp.flush()
    bomb = cassette(tmp_path / "bomb.yaml", gz, raw=True)
    child = (
        "import resource, sys\n"
        "from pytest_oapi_stream.cli import main\n"
        "pages = int(open('/proc/self/statm').read().split()[0])\n"
        "limit = pages * resource.getpagesize() + (300 << 20)\n"
        "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
        f"sys.exit(main(['check', {str(bomb)!r}]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines() == [
        "oapi-stream check: out of memory (the input is too large for this machine's limits)"
    ]


# ------------------------------------------------------------ point 6: odd paths, pipes


def test_a_fifo_a_device_and_a_symlink_loop_are_named_as_such(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe.sse"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.sse"
    loop.symlink_to(loop)
    dangling = tmp_path / "gone.sse"
    dangling.symlink_to(tmp_path / "nowhere.sse")
    cases = [
        (fifo, "is a named pipe (FIFO), not a recording file or folder"),
        (Path("/dev/zero"), "is a character device, not a recording file or folder"),
        (loop, "symbolic link loop"),
        (dangling, "broken symbolic link"),
    ]
    for path, words in cases:
        for argv in (
            ["check", str(path)],
            ["shape", str(path)],
            ["report", "--format", "md", str(path)],
        ):
            code, _, err = run(capsys, *argv)
            assert code == 2, argv
            lines = err.strip().splitlines()
            assert len(lines) == 1, argv
            assert lines[0].startswith(f"oapi-stream {argv[0]}: {path}: {words}"), argv
    code, _, err = run(capsys, "diff", str(CLEAN), "/dev/zero")
    assert code == 2 and "/dev/zero: is a character device" in err


def test_one_bad_cassette_in_a_folder_is_reported_and_the_rest_checked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "a.sse").write_bytes(CLEAN.read_bytes())
    (tmp_path / "b_bad.yaml").write_text("interactions: [\n", "utf-8")  # not valid YAML
    (tmp_path / "c.sse").write_bytes(CLEAN.read_bytes())
    code, out, err = run(capsys, "check", str(tmp_path))
    assert code == 2
    assert out.count("ok  ") == 2, out
    assert "2 stream(s) checked: 2 ok, 0 failed; 1 path(s) could not be read" in out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "b_bad.yaml: not valid YAML/JSON" in lines[0]

    code, out, err = run(capsys, "report", "--format", "md", str(tmp_path))
    assert code == 2
    assert "2 streams from 1 provider;" in out
    assert len(err.strip().splitlines()) == 1 and "b_bad.yaml" in err


def test_a_missing_path_among_good_ones_is_reported_and_the_rest_checked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "check", str(CLEAN), str(tmp_path / "missing.sse"))
    assert code == 2
    assert "1 stream(s) checked: 1 ok, 0 failed; 1 path(s) could not be read" in out
    assert err.strip() == f"oapi-stream check: {tmp_path / 'missing.sse'}: no such file or folder"


def test_a_closed_pipe_ends_check_quietly(tmp_path: Path) -> None:
    # 20k findings: far more output than a pipe buffers, so the write fails mid-way.
    chunks = [
        {
            **ENV,
            "choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": None}],
            f"x_{i}": 1,
        }
        for i in range(20_000)
    ]
    path = tmp_path / "many.sse"
    path.write_text("".join(f"data: {json.dumps(c)}\n\n" for c in chunks))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest_oapi_stream",
            "check",
            "-v",
            "--profile",
            "openai",
            str(path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # `| head -1`
    err = proc.stderr.read()
    code = proc.wait(timeout=120)
    assert first.startswith(b"FAIL  ")
    assert err == b""
    assert code == 141


# ------------------------------------------------------- point 3: control characters


HOSTILE = "\x1b[2J\x1b]0;pwned\x07\x00"


def test_control_characters_of_a_stream_never_reach_the_terminal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    chunks = [
        {
            **ENV,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": HOSTILE},
                    "finish_reason": None,
                }
            ],
            f"x{HOSTILE}": 1,
        },
        {
            **ENV,
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": HOSTILE,
                                "type": "function",
                                "function": {"name": HOSTILE, "arguments": ""},
                            }
                        ]
                    },
                    "finish_reason": None,
                }
            ],
        },
        {**ENV, "id": HOSTILE, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    path = tmp_path / f"evil{HOSTILE[:4]}.sse"
    path.write_text("".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + f":{HOSTILE}\n\n")
    outputs = []
    for argv in (
        ["check", "-v", "--profile", "openai", str(path)],
        ["shape", str(path)],
        ["diff", str(CLEAN), str(path)],
        ["report", "--format", "md", str(path)],
    ):
        _, out, err = run(capsys, *argv)
        outputs.append(out + err)
    from pytest_oapi_stream import check_chunk_stream

    report = check_chunk_stream(path, profile="openai")
    outputs.append(report.format(include_info=True))
    outputs.extend(v.line() for v in report.violations)
    for text in outputs:
        for ch in ("\x1b", "\x07", "\x00"):
            assert ch not in text, repr(text[:400])
    check_out = outputs[0]
    assert "\\x1b[2J" in check_out  # shown, escaped


def _cassette(path: Path, *answers: tuple[str, int, str]) -> Path:
    """A vcrpy cassette of (path, status, body) interactions; none of them a stream."""
    interactions = [
        {
            "request": {
                "method": "POST",
                "uri": f"http://127.0.0.1:8000{where}",
                "body": '{"model": "m", "messages": []}',
                "headers": {},
            },
            "response": {
                "status": {"code": status, "message": ""},
                "headers": {"content-type": ["application/json"]},
                "body": {"string": body},
            },
        }
        for where, status, body in answers
    ]
    path.write_text(yaml.safe_dump({"version": 1, "interactions": interactions}), "utf-8")
    return path


def test_a_cassette_without_a_stream_is_named_and_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The wrong file, or a cassette of non-streaming calls, is not '0 checked, ok': nothing
    was judged, as `shape` and `report` already say (exit 2, one line naming the file)."""
    plain = _cassette(
        tmp_path / "plain.yaml",
        ("/v1/chat/completions", 200, '{"object": "chat.completion", "choices": []}'),
        ("/v1/chat/completions", 429, '{"error": {"message": "slow down"}}'),
        ("/v1/embeddings", 200, '{"object": "list", "data": []}'),
        ("/v1/chat/completions", 200, '{"object": "chat.completion", "choices": []}'),
    )
    code, out, err = run(capsys, "check", str(plain))
    assert code == 2
    assert err == (
        f"oapi-stream check: {plain}: no streamed chat completion or Responses stream in it "
        "(4 interactions: 2 not streamed, 1 HTTP 429, 1 to /v1/embeddings)\n"
    )
    assert out == "0 stream(s) checked: 0 ok, 0 failed; 1 file(s) held no stream\n"
    code, out, err = run(capsys, "check", "--format", "json", str(plain))
    assert code == 2 and json.loads(out) == {"results": []} and "plain.yaml: no streamed" in err
    empty = tmp_path / "none.yaml"
    empty.write_text("version: 1\ninteractions: []\n", "utf-8")
    code, _, err = run(capsys, "check", str(empty))
    assert code == 2 and err.endswith("in it (the cassette records no interaction)\n")
    one = _cassette(tmp_path / "one.yaml", ("/v1/chat/completions", 200, "{}"))
    code, _, err = run(capsys, "check", str(one))
    assert code == 2 and err.endswith("in it (1 interaction, not streamed)\n")
    # shape and report say the same about the same file
    for command in ("shape", "report"):
        code, out, err = run(capsys, command, str(plain))
        assert code == 2 and out == "", command
        assert err == (
            f"oapi-stream {command}: {plain}: no streamed chat completion or Responses stream "
            "in it (4 interactions: 2 not streamed, 1 HTTP 429, 1 to /v1/embeddings)\n"
        )


def test_a_folder_with_streams_notes_its_cassettes_without_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "a.sse").write_bytes(CLEAN.read_bytes())
    plain = _cassette(tmp_path / "b.yaml", ("/v1/chat/completions", 200, "{}"))
    code, out, err = run(capsys, "check", str(tmp_path))
    assert code == 0  # what was checked passed; the note does not fail the run
    assert out.endswith("1 stream(s) checked: 1 ok, 0 failed; 1 file(s) held no stream\n")
    assert err == (
        f"oapi-stream check: {plain}: no streamed chat completion or Responses stream in it "
        "(1 interaction, not streamed)\n"
    )
    broken = DATA / "corpus" / "avian__kimi-k2.5_id-changes-after-first.sse"
    code, out, err = run(capsys, "report", "--format", "md", str(tmp_path))
    assert code == 0 and "1 stream from 1 provider" in out
    assert err == f"oapi-stream report: {plain}: no streamed chat completion or " + (
        "Responses stream in it (1 interaction, not streamed)\n"
    )
    (tmp_path / "c.sse").write_bytes(broken.read_bytes())
    code, _, _ = run(capsys, "check", "--profile", "openai", str(tmp_path))
    assert code == 1  # violations still decide
