#!/usr/bin/env python3
"""Peak memory of ``oapi-stream check``, ``shape`` and ``diff`` as the file grows (issue 10, 2).

Usage::

    python benchmarks/bench_memory.py [--n 20000] [--factor 10] [--kinds text reasoning]

For each stream kind (``make_stream.py``: gpt-4o text, DeepSeek reasoning with keep-alive
comments, which makes ``auto`` start the stream over under ``deepseek``; ``responses-text``,
``responses-call``, ``responses-summary`` from ``bench_responses.py``), an ``.sse`` file of N
chunks and one of ``factor`` x N are written, and each command runs in a fresh Python process
(the CLI called in-process, its output to /dev/null) that reports its own peak RSS (``VmHWM``
of ``/proc/self/status`` on Linux, which starts afresh at exec, unlike
``resource.getrusage(RUSAGE_SELF).ru_maxrss``, elsewhere) and its CPU time. The table gives
both sizes and the ratio of the peaks: flat memory is a ratio near 1 while the file grows
``factor`` times. ``check_chunk_stream`` (keep mode: every typed chunk is returned) is
measured the same way for contrast: its memory grows with the file, as the API promises the
chunks.

A benchmark script, never a timed test (``tests/test_benchmarks_smoke.py`` runs it small).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_responses
import make_stream

#: Responses kinds (``bench_responses.make``), named ``responses-<kind>`` here.
_RESPONSES = "responses-"

_CHILD = r"""
import json, os, resource, sys, time
argv = json.loads(sys.argv[1])
start = time.process_time()
if argv[0] == "keep":
    from pathlib import Path
    from pytest_oapi_stream import check_chunk_stream
    report = check_chunk_stream(Path(argv[1]))
    rc = 0 if report.ok else 1
elif argv[0] == "keep-responses":
    from pathlib import Path
    from pytest_oapi_stream import check_response_stream
    report = check_response_stream(Path(argv[1]))
    rc = 0 if report.ok else 1
else:
    from pytest_oapi_stream.cli import main
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    rc = main(argv)
cpu = time.process_time() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
try:  # ru_maxrss survives exec (it includes the parent's peak at fork); VmHWM does not
    with open("/proc/self/status") as fh:
        peak = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
print(json.dumps({"rc": rc, "peak_mib": peak / 1024, "cpu_s": cpu}), file=sys.stderr)
"""


def measure(argv: list[str]) -> dict[str, float]:
    """Run one command in a fresh process; its exit code, peak RSS (MiB) and CPU seconds."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(argv)],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        result: dict[str, float] = json.loads(proc.stderr.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SystemExit(f"child failed: {argv}\n{proc.stderr[-2000:]}") from None
    return result


def main() -> None:
    """Print the peak-memory table: each command at N and factor x N chunks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--kinds", nargs="+", default=["text", "reasoning"])
    parser.add_argument("--no-keep", action="store_true", help="skip the keep-mode contrast")
    args = parser.parse_args()
    sizes = (args.n, args.n * args.factor)
    print(f"## Peak RSS (MiB) at N and {args.factor}N chunks, fresh process each\n")
    print(
        "| kind | command | N | MB file | peak MiB | CPU s | 10N MB file | peak MiB | CPU s "
        "| peak ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds:
            files = []
            for n in sizes:
                path = Path(tmp) / f"{kind}-{n}.sse"
                if kind.startswith(_RESPONSES):
                    path.write_bytes(bench_responses.make(kind.removeprefix(_RESPONSES), n))
                else:
                    path.write_bytes(make_stream.make(kind, n))
                files.append(path)
            commands = {
                "check": lambda p: ["check", str(p)],
                "check -v --format json": lambda p: ["check", "-v", "--format", "json", str(p)],
                "shape": lambda p: ["shape", str(p)],
                "diff": lambda p: ["diff", str(p), str(p)],
            }
            if not args.no_keep and kind.startswith(_RESPONSES):
                commands["check_response_stream (keep)"] = lambda p: ["keep-responses", str(p)]
            elif not args.no_keep:
                commands["check_chunk_stream (keep)"] = lambda p: ["keep", str(p)]
            for name, argv in commands.items():
                small, big = (measure(argv(p)) for p in files)
                mb = [p.stat().st_size / 1e6 for p in files]
                print(
                    f"| {kind} | {name} | {sizes[0]} | {mb[0]:.1f} | {small['peak_mib']:.0f} "
                    f"| {small['cpu_s']:.2f} | {mb[1]:.1f} | {big['peak_mib']:.0f} "
                    f"| {big['cpu_s']:.2f} | {big['peak_mib'] / small['peak_mib']:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
