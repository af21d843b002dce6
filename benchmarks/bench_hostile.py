#!/usr/bin/env python3
"""Linear time on hostile streams (issue 10, point 1): each shape at N and 2N chunks/items.

Usage::

    python benchmarks/bench_hostile.py [--n 8000] [--shapes ext_fields ...] [--repeats 1]

Every shape is built so that per-chunk work scanning what came before would make the check
quadratic: a new extension field on every chunk (the fast path's extension sets), thousands of
tool calls in one chunk or one per chunk (``max`` over the open calls), usage on every chunk of
thousands of choices (usage placement), thousands of choices opening in one chunk (choice
order), index-less tool calls (the assembler), and thousands of findings in one huge chunk
(excerpts). Each is checked with ``check_chunk_stream(..., profile="openai")`` at N and 2N; a
linear path prints a ratio near 2, a quadratic one near 4. CPU time (``time.process_time``),
best of ``--repeats``; the verdict codes are printed so that a run shows they do not change.

A benchmark script, never a timed test: ``tests/chat/test_linear.py`` runs the same shapes at a
size a quadratic path would take minutes on, and ``tests/test_benchmarks_smoke.py`` runs this
script with a small N.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from typing import Any

from pytest_oapi_stream import check_chunk_stream

_ENV = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1700000000,
    "model": "gpt-4o",
    "system_fingerprint": "fp_1",
}


def _sse(chunks: list[dict[str, Any]]) -> str:
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


def _chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {**_ENV, "choices": choices, **extra}


def ext_fields(n: int) -> tuple[str, dict[str, Any] | None]:
    """Every chunk brings a new extension field ``x_i`` (issue: 10k -> 33 s, 20k -> 127 s)."""
    first = _chunk([{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}])
    body = [
        _chunk([{"index": 0, "delta": {"content": "a"}, "finish_reason": None}], **{f"x_{i}": 1})
        for i in range(n)
    ]
    last = _chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])
    return _sse([first, *body, last]), None


def _call(i: int, *, indexed: bool = True, ident: bool = True) -> dict[str, Any]:
    call: dict[str, Any] = {"type": "function", "function": {"name": "f", "arguments": "{}"}}
    if indexed:
        call["index"] = i
    if ident:
        call["id"] = f"call_{i}"
    return call


def _tool_stream(deltas: list[dict[str, Any]]) -> str:
    first = _chunk([{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}])
    body = [_chunk([{"index": 0, "delta": d, "finish_reason": None}]) for d in deltas]
    last = _chunk([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}])
    return _sse([first, *body, last])


def calls_one_chunk(n: int) -> tuple[str, dict[str, Any] | None]:
    """N tool calls opening in one chunk (issue: 16k 10.8 s, 32k 32 s)."""
    return _tool_stream([{"tool_calls": [_call(i) for i in range(n)]}]), None


def call_per_chunk(n: int) -> tuple[str, dict[str, Any] | None]:
    """One new tool call per chunk (issue: 16k 7.3 s)."""
    return _tool_stream([{"tool_calls": [_call(i)]} for i in range(n)]), None


def indexless_calls(n: int) -> tuple[str, dict[str, Any] | None]:
    """One new tool call per chunk without ``index`` (Mistral style): the assembler's part."""
    return _tool_stream([{"tool_calls": [_call(i, indexed=False)]} for i in range(n)]), None


def bad_calls_one_chunk(n: int) -> tuple[str, dict[str, Any] | None]:
    """N tool calls without ``id`` in one chunk: N findings, each with an excerpt of it."""
    return _tool_stream([{"tool_calls": [_call(i, ident=False) for i in range(n)]}]), None


def usage_choices(n: int) -> tuple[str, dict[str, Any] | None]:
    """Usage on every chunk, one new choice per chunk (issue: 4k choices 2.9 s)."""
    chunks = [
        _chunk(
            [{"index": i, "delta": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}],
            usage={"prompt_tokens": 1, "completion_tokens": i, "total_tokens": i + 1},
        )
        for i in range(n)
    ]
    return _sse(chunks), {"n": n, "stream": True}


def choices_one_chunk(n: int) -> tuple[str, dict[str, Any] | None]:
    """N choices opening in one chunk, in reverse order (choice-order rule)."""
    choices = [
        {"index": i, "delta": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}
        for i in reversed(range(n))
    ]
    return _sse([_chunk(choices)]), {"n": n, "stream": True}


SHAPES: dict[str, Callable[[int], tuple[str, dict[str, Any] | None]]] = {
    f.__name__: f
    for f in (
        ext_fields,
        calls_one_chunk,
        call_per_chunk,
        indexless_calls,
        bad_calls_one_chunk,
        usage_choices,
        choices_one_chunk,
    )
}


def _time(text: str, request: dict[str, Any] | None, repeats: int) -> tuple[float, list[str]]:
    best = float("inf")
    codes: list[str] = []
    for _ in range(repeats):
        gc.collect()
        start = time.process_time()
        report = check_chunk_stream(text, profile="openai", request=request)
        best = min(best, time.process_time() - start)
        codes = report.codes()
    return best, codes


def main() -> None:
    """Print one row per shape: seconds at N and 2N, their ratio, and the verdict codes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8000)
    parser.add_argument("--shapes", nargs="+", choices=sorted(SHAPES), default=list(SHAPES))
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    n = args.n
    print("## Hostile streams: CPU seconds at N and 2N\n")
    print("| shape | N | s at N | s at 2N | ratio 2N/N | codes |")
    print("|---|---|---|---|---|---|")
    for name in args.shapes:
        build = SHAPES[name]
        t1, codes1 = _time(*build(n), args.repeats)
        t2, codes2 = _time(*build(2 * n), args.repeats)
        assert codes1 == codes2, (name, codes1, codes2)
        ratio = t2 / t1 if t1 > 0 else float("nan")
        print(f"| {name} | {n} | {t1:.3f} | {t2:.3f} | {ratio:.2f} | {' '.join(codes1)} |")


if __name__ == "__main__":
    main()
