#!/usr/bin/env python3
"""Benchmark of ``oapi_server`` on the Responses API: streaming rate to the openai SDK.

One ``N``-event Responses text stream (``--events``, default 10,000), built by
``responses.builder`` (created, in_progress, item and part events, N-9 text deltas, done events,
completed):

* *memory*: the openai SDK's ``Stream`` of ``ResponseStreamEvent`` over an in-memory
  ``httpx2.Response`` holding the same bytes (the SDK's cost with no network at all);
* *served (sse)*: ``client.responses.create(stream=True)`` against the loopback server replaying
  the bytes (``serve_sse``), every event its own write;
* *served (built)*: the same, the server building the stream per request (``stream()``);
* *raw*: the same bytes read by httpx ``iter_raw`` (transport only, no parsing);
* *build*: ``build_response_sse`` alone, beside chat's ``build_sse`` for the same words.

The ratio ``served rate / memory rate`` is the fake provider's overhead as a test pays it (the
chat benchmark's target: at least 0.5). Methods are interleaved round-robin per repeat, with
``gc.collect()`` before each call; medians of ``--repeats``.

Usage: python benchmarks/bench_server_responses.py [--events 10000] [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import httpx2
import openai
from openai.types.responses import ResponseStreamEvent

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_oapi_stream.chat.builder import build_sse
from pytest_oapi_stream.responses.builder import build_response_sse
from pytest_oapi_stream.server import OAPIServer

_SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}
#: Events of a text stream besides its deltas: created, in_progress, item added, part added,
#: text done, part done, item done, completed.
_FIXED = 8


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="1,000 events, 2 repeats (smoke test)")
    args = p.parse_args(argv)
    if args.quick:
        args.events, args.repeats = 1_000, 2
    print(
        f"Python {platform.python_version()}, openai {openai.__version__}, "
        f"httpx2 {httpx2.__version__}, {platform.machine()}"
    )
    words = [f" w{i % 1000}" for i in range(args.events - _FIXED)]
    data = build_response_sse(text=words)
    n_events = data.count(b"\ndata: {")
    assert n_events == args.events, n_events

    server = OAPIServer().start()
    built = OAPIServer().start()
    server.serve_sse(data)
    built.stream(words)
    http = httpx.Client(timeout=60)
    clients = {
        s: openai.OpenAI(
            base_url=s.base_url,
            api_key="bench",
            max_retries=0,
            http_client=httpx2.Client(timeout=60),
        )
        for s in (server, built)
    }
    request = httpx2.Request("POST", server.base_url + "/responses")
    body = {"model": "gpt-4o", "input": "x", "stream": True}

    def memory() -> int:
        resp = httpx2.Response(
            200, headers=_SSE_HEADERS, stream=httpx2.ByteStream(data), request=request
        )
        stream = openai.Stream(
            cast_to=ResponseStreamEvent,  # type: ignore[arg-type]
            response=resp,
            client=clients[server],
        )
        return len(list(stream))

    def served_sse() -> int:
        return len(list(clients[server].responses.create(**body)))

    def served_built() -> int:
        return len(list(clients[built].responses.create(**body)))

    def raw_httpx() -> int:
        with http.stream("POST", server.base_url + "/responses", json=body) as r:
            return sum(len(p) for p in r.iter_raw())

    def build() -> int:
        return len(build_response_sse(text=words))

    def build_chat() -> int:
        return len(build_sse(text=words))

    methods: dict[str, Callable[[], int]] = {
        "memory": memory,
        "served_sse": served_sse,
        "served_built": served_built,
        "raw": raw_httpx,
        "build": build,
        "build_chat": build_chat,
    }
    assert memory() == served_sse() == served_built() == n_events
    assert raw_httpx() == len(data) == build()
    times: dict[str, list[float]] = {k: [] for k in methods}
    for rep in range(args.repeats):
        names = list(methods)
        names = names[rep % len(names) :] + names[: rep % len(names)]
        for name in names:
            gc.collect()
            t0 = time.perf_counter()
            methods[name]()
            times[name].append(time.perf_counter() - t0)
    for c in clients.values():
        c.close()
    server.stop()
    built.stop()
    http.close()

    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"\n## {n_events:,}-event Responses stream ({len(data):,} bytes) through the openai SDK\n"
    )
    print("| method | repeats | median ms | events/s |")
    print("|---|---:|---:|---:|")
    labels = {
        "memory": "SDK Stream[ResponseStreamEvent] over in-memory httpx2.Response",
        "served_sse": "SDK responses.create(stream=True), serve_sse",
        "served_built": "SDK responses.create(stream=True), stream() (built per request)",
        "raw": "httpx iter_raw from oapi_server (no parsing)",
        "build": "build_response_sse alone",
        "build_chat": "chat build_sse of the same words (baseline)",
    }
    for name, t in med.items():
        print(f"| {labels[name]} | {args.repeats} | {t * 1000:.1f} | {n_events / t:,.0f} |")
    print(
        f"\nserved rate / in-memory rate = **{med['memory'] / med['served_sse']:.2f}** (sse), "
        f"**{med['memory'] / med['served_built']:.2f}** (built) (chat's target >= 0.5)"
    )
    print(f"Responses build / chat build = **{med['build'] / med['build_chat']:.2f}**")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
