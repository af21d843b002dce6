#!/usr/bin/env python3
"""Speed and memory of the Responses check, against two baselines over the same bytes.

Usage::

    python benchmarks/bench_responses.py [--sizes 10000 100000] [--kinds text args summary]
                                         [--repeats R] [--clock wall|cpu]

The streams are generated in-process in api.openai.com's framing (``event:`` + ``data:``,
``sequence_number``, ``obfuscation`` on deltas, ``logprobs: []`` on text deltas): ``text`` (one
message, N text deltas), ``args`` (one function call, N argument deltas), ``summary`` (a
reasoning item with one summary part, N summary deltas, then a short message). For each stream
every method runs on the same bytes, in the same run:

* **L0**: ``bytes.splitlines`` + ``json.loads`` per ``data:`` line, keeping the dicts.
* **O1**: openai-python's own path: ``openai._streaming.SSEDecoder`` + ``sse.json()`` +
  ``construct_type(type_=ResponseStreamEvent, ...)`` (what its ``Stream`` does for a non-strict
  client) + ``ResponseStreamState.handle_event`` accumulating the response (what
  ``client.responses.stream()`` does).
* **keep**: ``check_response_stream(data)``: decode, parse, check every rule, assemble, keep
  every typed event (what ``assert_valid_response_stream`` does).
* **iter**: ``for ev in iter_checked_response_events(data)``: events checked, not kept.

Timing: best of R runs per method, methods interleaved round-robin, ``gc.collect()`` before each
call. Ratios are between best times of the same run. Memory: the iterating mode's peak under
``tracemalloc`` (Python allocations only; the input bytes are allocated before tracing starts).

A benchmark script, never a timed test: ``tests/test_benchmarks_smoke.py`` only runs it small.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from importlib import metadata
from typing import Any

from pytest_oapi_stream import check_response_stream, iter_checked_response_events

CREATED = 1782321657


def _response(status: str, output: list[Any], usage: Any) -> dict[str, Any]:
    return {
        "id": "resp_bench",
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": "gpt-4o-2024-08-06",
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "service_tier": "auto",
        "store": False,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def make(kind: str, n: int) -> bytes:
    """A Responses stream of about ``n`` events of the given kind, OpenAI's framing."""
    evs: list[dict[str, Any]] = []
    pieces = [f"tok{i % 97} " for i in range(n)]
    joined = "".join(pieces)
    evs.append({"type": "response.created", "response": _response("in_progress", [], None)})
    evs.append({"type": "response.in_progress", "response": _response("in_progress", [], None)})
    output: list[dict[str, Any]] = []
    if kind in ("text", "summary"):
        if kind == "summary":
            rid = "rs_bench"
            evs.append(
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": {"id": rid, "type": "reasoning", "summary": []},
                }
            )
            part = {"type": "summary_text", "text": ""}
            evs.append(
                {
                    "type": "response.reasoning_summary_part.added",
                    "item_id": rid,
                    "output_index": 0,
                    "summary_index": 0,
                    "part": part,
                }
            )
            for p in pieces:
                evs.append(
                    {
                        "type": "response.reasoning_summary_text.delta",
                        "item_id": rid,
                        "output_index": 0,
                        "summary_index": 0,
                        "delta": p,
                        "obfuscation": "abcDEF12",
                    }
                )
            done_part = {"type": "summary_text", "text": joined}
            evs.append(
                {
                    "type": "response.reasoning_summary_text.done",
                    "item_id": rid,
                    "output_index": 0,
                    "summary_index": 0,
                    "text": joined,
                }
            )
            evs.append(
                {
                    "type": "response.reasoning_summary_part.done",
                    "item_id": rid,
                    "output_index": 0,
                    "summary_index": 0,
                    "part": done_part,
                }
            )
            item = {"id": rid, "type": "reasoning", "summary": [done_part]}
            evs.append({"type": "response.output_item.done", "output_index": 0, "item": item})
            output.append(item)
            pieces, joined = ["Done."], "Done."
        idx = len(output)
        mid = "msg_bench"
        added = {
            "id": mid,
            "type": "message",
            "status": "in_progress",
            "content": [],
            "role": "assistant",
        }
        evs.append({"type": "response.output_item.added", "output_index": idx, "item": added})
        empty = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
        base = {"item_id": mid, "output_index": idx, "content_index": 0}
        evs.append({"type": "response.content_part.added", **base, "part": empty})
        for p in pieces:
            evs.append(
                {
                    "type": "response.output_text.delta",
                    **base,
                    "delta": p,
                    "logprobs": [],
                    "obfuscation": "abcDEF12",
                }
            )
        evs.append({"type": "response.output_text.done", **base, "text": joined, "logprobs": []})
        full = {"type": "output_text", "annotations": [], "logprobs": [], "text": joined}
        evs.append({"type": "response.content_part.done", **base, "part": full})
        item = {**added, "status": "completed", "content": [full]}
        evs.append({"type": "response.output_item.done", "output_index": idx, "item": item})
        output.append(item)
    else:
        fid = "fc_bench"
        added = {
            "id": fid,
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": "call_bench",
            "name": "lookup",
        }
        evs.append({"type": "response.output_item.added", "output_index": 0, "item": added})
        args = json.dumps({"q": joined})
        step = max(1, len(args) // n)
        chunks = [args[i : i + step] for i in range(0, len(args), step)]
        for c in chunks:
            evs.append(
                {
                    "type": "response.function_call_arguments.delta",
                    "item_id": fid,
                    "output_index": 0,
                    "delta": c,
                    "obfuscation": "abcDEF12",
                }
            )
        evs.append(
            {
                "type": "response.function_call_arguments.done",
                "item_id": fid,
                "output_index": 0,
                "arguments": args,
            }
        )
        item = {**added, "status": "completed", "arguments": args}
        evs.append({"type": "response.output_item.done", "output_index": 0, "item": item})
        output.append(item)
    usage = {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": n,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": n + 10,
    }
    evs.append({"type": "response.completed", "response": _response("completed", output, usage)})
    out = []
    for i, ev in enumerate(evs):
        ev["sequence_number"] = i
        out.append(f"event: {ev['type']}\ndata: {json.dumps(ev, separators=(',', ':'))}\n\n")
    return "".join(out).encode()


# ------------------------------------------------------------------------------ methods


def l0(data: bytes) -> int:
    kept = []
    for line in data.splitlines():
        if line.startswith(b"data: "):
            kept.append(json.loads(line[6:]))
    return len(kept)


def o1(data: bytes) -> int:
    from openai._models import construct_type
    from openai._streaming import SSEDecoder
    from openai._types import omit
    from openai.lib.streaming.responses._responses import ResponseStreamState
    from openai.types.responses import ResponseStreamEvent

    state: Any = ResponseStreamState(input_tools=omit, text_format=omit)
    n = 0
    for sse in SSEDecoder().iter_bytes(iter([data])):
        if sse.data.startswith("[DONE]"):
            break
        event = construct_type(type_=ResponseStreamEvent, value=sse.json())
        state.handle_event(event)
        n += 1
    return n


def keep(data: bytes) -> int:
    report = check_response_stream(data)
    assert report.ok, report.format()
    assert report.stream is not None
    return len(report.stream.events)


def iterate(data: bytes) -> int:
    return sum(1 for _ in iter_checked_response_events(data))


METHODS: dict[str, Callable[[bytes], int]] = {"L0": l0, "O1": o1, "keep": keep, "iter": iterate}


def best_times(data: bytes, repeats: int, clock: Callable[[], float]) -> dict[str, float]:
    best = dict.fromkeys(METHODS, float("inf"))
    names = list(METHODS)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            gc.collect()
            t0 = clock()
            METHODS[name](data)
            best[name] = min(best[name], clock() - t0)
    return best


def peak_iter(data: bytes) -> int:
    gc.collect()
    tracemalloc.start()
    for _ in iter_checked_response_events(data):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--kinds", nargs="+", default=["text", "args", "summary"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="cpu")
    args = ap.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(
        f"python {platform.python_version()}, pydantic {metadata.version('pydantic')}, "
        f"openai {metadata.version('openai')}, clock {args.clock}, best of {args.repeats}"
    )
    print()
    print("## Ratio table (µs per event; ×O1 = how many times faster than openai-python)")
    print()
    print("| stream | N events | L0 | O1 | keep | iter | keep ×O1 | iter ×O1 | keep ×L0 |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    peaks: list[tuple[str, int, int, int]] = []
    for kind in args.kinds:
        for size in args.sizes:
            data = make(kind, size)
            n = l0(data)
            assert keep(data) == n == o1(data) == iterate(data)
            t = best_times(data, args.repeats, clock)
            us = {k: v / n * 1e6 for k, v in t.items()}
            print(
                f"| {kind} | {n} | {us['L0']:.2f} | {us['O1']:.2f} | {us['keep']:.2f} | "
                f"{us['iter']:.2f} | {t['O1'] / t['keep']:.1f} | {t['O1'] / t['iter']:.1f} | "
                f"{t['keep'] / t['L0']:.2f} |"
            )
            peaks.append((kind, n, peak_iter(data), len(data)))
    print()
    print("## Iterating mode: peak memory (tracemalloc)")
    print()
    print("| stream | N events | body bytes | peak KiB | peak bytes per event |")
    print("|---|--:|--:|--:|--:|")
    for kind, n, peak, size in peaks:
        print(f"| {kind} | {n} | {size} | {peak / 1024:.0f} | {peak / n:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
