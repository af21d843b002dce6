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

3. **load**: ``--clients`` threads (default 50) send ``--requests`` streamed requests in all
   (default 2,000) to an ``oapi-stream serve`` process (its own interpreter, as a provider
   would be), each request on a new connection (the hardest case for the listen backlog), then
   again through one openai SDK client with ``max_retries=0`` (keep-alive pool). Reported:
   connection errors (resets, refused, timeouts) and latency p50/p99/max. The issue's target:
   0 errors, p99 near 200 ms. Every load loop is bounded by its count and by ``--load-seconds``.

Methods are interleaved round-robin within each repeat, with a ``gc.collect()`` before each
call; medians of ``--repeats``. Client objects are built once, outside the timings (building an
httpx/httpx2 client loads the CA bundle, ~45 ms).

Usage: python benchmarks/bench_server.py [--runs 50] [--chunks 10000] [--repeats 5]
                                        [--clients 50] [--requests 2000] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import http.client
import os
import platform
import re
import ssl
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


ROOT = Path(__file__).resolve().parent.parent
_LOAD_BODY = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true}'


@contextmanager
def serve_process(backlog: int | None = None) -> Iterator[tuple[str, int, int]]:
    """``oapi-stream serve`` in its own process on 127.0.0.1; yields (base URL, port, pid).

    ``backlog`` overrides the listen backlog (5 reproduces socketserver's default, the baseline).
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = (
        "import sys; from pytest_oapi_stream.server import serve_main, transport; "
        + (f"transport.HTTPServer.request_queue_size = {backlog}; " if backlog else "")
        + "sys.exit(serve_main(['--port', '0']))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        m = re.search(r"(http://127\.0\.0\.1:(\d+)/v1)", proc.stdout.readline())
        assert m, "oapi-stream serve printed no URL"
        yield m.group(1), int(m.group(2)), proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _raw_request(port: int) -> None:
    """One streamed request on a new connection, read to the end."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/v1/chat/completions",
            body=_LOAD_BODY,
            headers={"content-type": "application/json", "connection": "close"},
        )
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200 or not body.endswith(b"data: [DONE]\n\n"):
            raise RuntimeError(f"status {resp.status}, {len(body)} bytes")
    finally:
        conn.close()


_LOCAL = threading.local()


def _keepalive_request(port: int) -> None:
    """One streamed request on this thread's keep-alive connection (opened on first use)."""
    conn = getattr(_LOCAL, "conn", None)
    if conn is None:
        conn = _LOCAL.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/v1/chat/completions",
            body=_LOAD_BODY,
            headers={"content-type": "application/json"},
        )
        resp = conn.getresponse()
        body = resp.read()
    except Exception:
        conn.close()
        _LOCAL.conn = None
        raise
    if resp.status != 200 or not body.endswith(b"data: [DONE]\n\n"):
        raise RuntimeError(f"status {resp.status}, {len(body)} bytes")


def bench_load(
    clients: int, total: int, limit_s: float, one: Callable[[], None]
) -> tuple[list[float], dict[str, int], float]:
    """Run ``total`` calls of ``one`` from ``clients`` threads; (latencies ms, errors, wall s).

    Bounded: each thread stops when ``total`` calls were started or ``limit_s`` passed.
    """
    lock = threading.Lock()
    started = 0
    latencies: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.monotonic() + limit_s
    gate = threading.Barrier(clients)

    def worker() -> None:
        nonlocal started
        gate.wait()
        while time.monotonic() < deadline:
            with lock:
                if started >= total:
                    return
                started += 1
            t0 = time.perf_counter()
            try:
                one()
            except Exception as exc:
                with lock:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(limit_s + 60)
    return latencies, errors, time.perf_counter() - t0


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


def _cpu_seconds(pid: int) -> float | None:
    """User+system CPU seconds of process ``pid`` so far (Linux ``/proc``), else ``None``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load_row(
    label: str, clients: int, total: int, limit_s: float, one: Callable[[], None], pid: int
) -> None:
    cpu0, own0 = _cpu_seconds(pid), time.process_time()
    lat, errs, wall = bench_load(clients, total, limit_s, one)
    cpu1, own1 = _cpu_seconds(pid), time.process_time()
    err = ", ".join(f"{k} {v}" for k, v in sorted(errs.items())) or "0"
    done = max(len(lat), 1)
    cpu = "n/a"
    if cpu0 is not None and cpu1 is not None:
        cpu = f"{(cpu1 - cpu0) / done * 1000:.2f}"
    print(
        f"| {label} | {len(lat):,} | {err} | {wall:.1f} | {len(lat) / wall:,.0f} | "
        f"{_pct(lat, 0.5):.1f} | {_pct(lat, 0.99):.1f} | {max(lat, default=0):.1f} | {cpu} | "
        f"{(own1 - own0) / done * 1000:.2f} |"
    )


def print_load(clients: int, total: int, limit_s: float) -> None:
    """The load section: new connection per request (baseline backlog 5, then ours), then the
    openai SDK with a pool."""
    print(f"\n## Load: {clients} concurrent clients, {total:,} streamed requests\n")
    print(
        "| server, client | done | errors | wall s | req/s | p50 ms | p99 ms | max ms "
        "| server CPU ms/req | client CPU ms/req |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    with serve_process(backlog=5) as (_, port5, pid5):
        label = "baseline: listen backlog 5 (socketserver's), http.client, new connection each"
        _load_row(label, clients, total, limit_s, lambda: _raw_request(port5), pid5)
    with serve_process() as (base_url, port, pid):
        sdk = openai.OpenAI(
            base_url=base_url,
            api_key="bench",
            max_retries=0,
            timeout=30,
            http_client=httpx2.Client(
                verify=ssl.create_default_context(),
                limits=httpx2.Limits(max_connections=clients, max_keepalive_connections=clients),
            ),
        )

        body: dict[str, Any] = {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
        }

        def sdk_request() -> None:
            stream = sdk.chat.completions.create(**body)
            if not list(stream):
                raise RuntimeError("empty stream")

        for label, one in (
            ("oapi_server, http.client, new connection each", lambda: _raw_request(port)),
            (
                "oapi_server, http.client, keep-alive connection each",
                lambda: _keepalive_request(port),
            ),
            ("oapi_server, openai SDK, max_retries=0, one pooled client", sdk_request),
        ):
            _load_row(label, clients, total, limit_s, one, pid)
        sdk.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--clients", type=int, default=50, help="concurrent load clients")
    ap.add_argument("--requests", type=int, default=2000, help="load requests in all")
    ap.add_argument("--load-seconds", type=float, default=120.0, help="time bound per load run")
    ap.add_argument("--load-only", action="store_true", help="run only the load section")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="runs=10, chunks=1000, repeats=2, clients=5, requests=50",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.chunks, args.repeats = 10, 1000, 2
        args.clients, args.requests = 5, 50
    if args.load_only:
        print_load(args.clients, args.requests, args.load_seconds)
        return 0

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
    print_load(args.clients, args.requests, args.load_seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
