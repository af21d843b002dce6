#!/usr/bin/env python3
"""Benchmark of ``oapi_server``: start+stop cost, and streaming rate to the openai SDK.

1. **start+stop**: ``OAPIServer().start()`` then ``.stop()``, median (and p90) over ``--runs``.
   The issue's target: median under 50 ms, so a server per test is affordable.
2. **served vs in memory**: one ``N``-chunk text stream (``--chunks``, default 10,000):
   * *memory*: the openai SDK's ``Stream`` over an in-memory ``httpx2.Response`` holding the same
     bytes (what the SDK costs with no network at all);
   * *served*: ``client.chat.completions.create(stream=True)`` against the loopback server,
     every SSE event its own write (what a test with ``oapi_server`` pays).
   The ratio ``served rate / memory rate`` must be at least 0.5. Client and server share one
   process (and the GIL), as they do in a test.
   Also shown: the same stream read raw by httpx, to separate transport from SDK parsing.

Methods are interleaved round-robin within each repeat, with a ``gc.collect()`` before each
call; medians of ``--repeats``. Client objects are built once, outside the timings (building an
httpx/httpx2 client loads the CA bundle, ~45 ms).

Usage: python benchmarks/bench_server.py [--runs 50] [--chunks 10000] [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import platform
import ssl
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import httpx2
import openai
from openai.types.chat import ChatCompletionChunk

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_oapi_stream.chat import builder
from pytest_oapi_stream.server import OAPIServer

_SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}


def bench_start_stop(runs: int) -> list[float]:
    """Milliseconds of each start+stop."""
    OAPIServer().start().stop()  # warm imports and first-use costs
    out = []
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        server = OAPIServer().start()
        server.stop()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def bench_first_request(runs: int, http: httpx.Client) -> list[float]:
    """Milliseconds of start + one short streamed request + stop (a whole fixture's life)."""
    out = []
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        with OAPIServer() as server:
            r = http.post(
                server.base_url + "/chat/completions", json={"messages": [], "stream": True}
            )
            assert r.status_code == 200
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="runs=10, chunks=1000, repeats=2")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.chunks, args.repeats = 10, 1000, 2

    tls = ssl.create_default_context()
    http = httpx.Client(verify=tls, timeout=60)

    print("# oapi_server benchmark\n")
    print(
        f"- python {platform.python_version()} on {platform.platform()}, "
        f"openai {openai.__version__}, httpx2 {httpx2.__version__}"
    )

    ss = bench_start_stop(args.runs)
    fr = bench_first_request(min(args.runs, 20), http)
    print("\n## Start and stop\n")
    print("| what | runs | median ms | p90 ms | min ms |")
    print("|---|---:|---:|---:|---:|")
    for name, xs in (("start + stop", ss), ("start + one streamed request + stop", fr)):
        p90 = sorted(xs)[int(0.9 * (len(xs) - 1))]
        print(f"| {name} | {len(xs)} | {statistics.median(xs):.2f} | {p90:.2f} | {min(xs):.2f} |")

    # One text stream of exactly N JSON chunks: role chunk + N-2 words + finish chunk.
    words = [f" w{i % 1000}" for i in range(args.chunks - 2)]
    data = builder.build_sse(text=words)
    n_chunks = data.count(b"data: {")
    assert n_chunks == args.chunks, n_chunks

    server = OAPIServer().start()
    server.serve_sse(data)
    client = openai.OpenAI(
        base_url=server.base_url,
        api_key="bench",
        max_retries=0,
        http_client=httpx2.Client(verify=tls, timeout=60),
    )
    request = httpx2.Request("POST", server.base_url + "/chat/completions")
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "stream": True}

    def memory() -> int:
        resp = httpx2.Response(
            200, headers=_SSE_HEADERS, stream=httpx2.ByteStream(data), request=request
        )
        return len(list(openai.Stream(cast_to=ChatCompletionChunk, response=resp, client=client)))

    def served() -> int:
        return len(list(client.chat.completions.create(**body)))

    def raw_httpx() -> int:
        with http.stream("POST", server.base_url + "/chat/completions", json=body) as r:
            return sum(len(p) for p in r.iter_raw())

    methods: dict[str, Callable[[], int]] = {"memory": memory, "served": served, "raw": raw_httpx}
    times: dict[str, list[float]] = {k: [] for k in methods}
    assert memory() == served() == n_chunks and raw_httpx() == len(data)
    for rep in range(args.repeats):
        names = list(methods)
        names = names[rep % len(names) :] + names[: rep % len(names)]
        for name in names:
            gc.collect()
            t0 = time.perf_counter()
            methods[name]()
            times[name].append(time.perf_counter() - t0)
    client.close()
    server.stop()
    http.close()

    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n## {n_chunks:,}-chunk stream ({len(data):,} bytes) through the openai SDK\n")
    print("| method | repeats | median ms | chunks/s | MB/s |")
    print("|---|---:|---:|---:|---:|")
    labels = {
        "memory": "SDK Stream over in-memory httpx2.Response",
        "served": "SDK create(stream=True) from oapi_server",
        "raw": "httpx iter_raw from oapi_server (no parsing)",
    }
    for name, t in med.items():
        print(
            f"| {labels[name]} | {args.repeats} | {t * 1000:.1f} | {n_chunks / t:,.0f} | "
            f"{len(data) / t / 1e6:.1f} |"
        )
    ratio = med["memory"] / med["served"]
    print(f"\nserved rate / in-memory rate = **{ratio:.2f}** (target >= 0.5)")
    print(f"start+stop median = **{statistics.median(ss):.2f} ms** (target < 50 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
