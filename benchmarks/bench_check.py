#!/usr/bin/env python3
"""Speed and memory of parse+check (issue 2), against two baselines over the same bytes.

Usage::

    python benchmarks/bench_check.py [--sizes 1000 10000 100000] [--kinds text tools reasoning]
                                     [--quick] [--repeats R] [--out FILE]

The streams are generated in-process by ``make_stream.py`` (a copy of the generator behind
``BASELINE.md``: gpt-4o text, gpt-4o with three parallel tool calls, DeepSeek reasoning with
``: keep-alive`` comments). For each stream every method runs on the same bytes, in the same run:

* **L0**: ``bytes.splitlines`` + ``json.loads`` per ``data:`` line, keeping the dicts, with the
  garbage collector on: the pure-Python floor (as in ``BASELINE.md``).
* **O1**: the openai SDK's own path, as its ``Stream`` builds chunks: ``openai._streaming.
  SSEDecoder`` + ``sse.json()`` + ``client._process_response_data(..., cast_to=
  ChatCompletionChunk)`` (the default, non-strict client: ``construct_type``).
* **keep**: ``check_chunk_stream(data, request=...)``: decode, parse, check every rule, keep
  every typed chunk (what ``assert_valid_chunk_stream`` does).
* **iter**: ``for chunk in iter_checked_chunks(data, request=...)``: chunks checked as they
  arrive and not kept.

Timing: best of R runs per method, methods interleaved round-robin within each repeat (start
rotated) so that machine noise hits them alike, with a ``gc.collect()`` before every call. The
clock is wall time (``time.perf_counter``), or with ``--clock cpu`` the process's CPU time
(``time.process_time``), which a busy shared machine disturbs much less. Ratios are between best
times of the same run. Memory: a separate pass of the iterating mode under ``tracemalloc``
(Python-allocator memory only) at every size; the input bytes are allocated before tracing
starts.

The cassette pass writes the 10k-chunk text stream as a vcrpy cassette with the plugin's own
writer (``cassettes.ReadableYamlSerializer``) and times ``cassettes.load_interactions`` (vcrpy's
deserializer on the libyaml ``CSafeLoader``) against parse+check of the loaded body.

This is a benchmark script, never a timed test: ``tests/test_benchmarks_smoke.py`` only runs it
with ``--quick --sizes 200`` and checks that it prints its tables.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import operator
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_stream
from pydantic import BaseModel, ConfigDict

from pytest_oapi_stream import check_chunk_stream, iter_checked_chunks
from pytest_oapi_stream.chat import models as M
from pytest_oapi_stream.chat.models import ChatCompletionChunk
from pytest_oapi_stream.core.sse import SSEDecoder, parse_sse

perf_counter = time.perf_counter
#: The clock the timings use; ``--clock cpu`` switches it to the process's CPU time.
clock = time.perf_counter

#: The request each generated stream answers (what a cassette would record): usage was asked
#: for, so a clean stream gets a clean report.
REQUESTS: dict[str, dict[str, Any]] = {
    "text": {"model": "gpt-4o", "stream": True, "stream_options": {"include_usage": True}},
    "tools": {
        "model": "gpt-4o",
        "stream": True,
        "stream_options": {"include_usage": True},
        "tools": [{"type": "function", "function": {"name": n}} for n, _ in make_stream._TOOLS],
    },
    "reasoning": {
        "model": "deepseek-reasoner",
        "stream": True,
        "stream_options": {"include_usage": True},
    },
}

TARGET_KEEP_L0 = 1.5  # keep mode at most 1.5x L0 at 10k and 100k chunks
TARGET_KEEP_O1 = 10.0  # ... and at least 10x faster than the openai SDK path
TARGET_ITER_L0 = 1.0  # iterating mode at most 1.0x L0
TARGET_LOAD = 0.5  # cassette load at most 0.5x the parse


# ---------------------------------------------------------------------------------- methods


def m_l0(data: bytes, _loads: Callable[[bytes], Any] = json.loads) -> list[Any]:
    """The floor: CR/LF split, one ``json.loads`` per ``data:`` line, dicts kept (GC on)."""
    out: list[Any] = []
    append = out.append
    for line in data.splitlines():
        if line.startswith(b"data:"):
            p = line[5:]
            if p == b" [DONE]" or p == b"[DONE]":
                break
            append(_loads(p))
    return out


def _openai_o1() -> tuple[Callable[[bytes], list[Any]] | None, str]:
    """The openai SDK path (``Stream.__stream__``, default client), or None and why not."""
    try:
        import openai
        from openai._streaming import SSEDecoder as OAIDecoder
        from openai._utils import is_mapping
        from openai.types.chat import ChatCompletionChunk as OAIChunk
    except ImportError as exc:  # pragma: no cover - openai is a dev dependency
        return None, f"openai not importable ({exc})"
    try:
        import httpx2 as httpx_mod  # what openai >= 3 builds on
    except ImportError:  # pragma: no cover - older openai releases build on httpx
        import httpx as httpx_mod
    client = openai.OpenAI(api_key="sk-bench", max_retries=0)
    response = httpx_mod.Response(
        200, request=httpx_mod.Request("POST", "https://api.openai.com/v1/chat/completions")
    )
    process = client._process_response_data

    def m_o1(data: bytes) -> list[Any]:
        # Mirrors openai._streaming.Stream.__stream__ for chat.completions (as baseline.py).
        out: list[Any] = []
        append = out.append
        for sse in OAIDecoder().iter_bytes(iter((data,))):
            if sse.data.startswith("[DONE]"):
                break
            if sse.event and sse.event.startswith("thread."):
                raise RuntimeError("unexpected assistants event")
            d = sse.json()
            if is_mapping(d) and d.get("error"):
                raise RuntimeError(f"stream error: {d['error']!r}")
            append(process(data=d, cast_to=OAIChunk, response=response))
        return out

    return m_o1, f"openai {openai.__version__}"


def m_keep(data: bytes, request: dict[str, Any]) -> Any:
    """Ours, keep mode: parse and check everything, keep every typed chunk."""
    return check_chunk_stream(data, request=request)


def m_iter(data: bytes, request: dict[str, Any]) -> int:
    """Ours, iterating mode: check each chunk as it arrives, keep none; returns the count."""
    n = 0
    for _ in iter_checked_chunks(data, request=request):
        n += 1
    return n


# ---------------------------------------------------------------------------------- timing


def time_round_robin(calls: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """Run each zero-argument call ``repeats`` times, interleaved; returns the wall times."""
    keys = list(calls)
    times: dict[str, list[float]] = {k: [] for k in keys}
    for r in range(repeats):
        rot = r % len(keys)
        for k in keys[rot:] + keys[:rot]:
            fn = calls[k]
            gc.collect()
            t0 = clock()
            out = fn()
            t1 = clock()
            times[k].append(t1 - t0)
            del out
    return times


def peak_memory(fn: Callable[[], Any]) -> tuple[int, int]:
    """``(peak, still allocated at return)`` bytes traced while ``fn`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        out = fn()
        cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del out
    return peak, cur


def repeats_for(n: int, override: int | None, quick: bool) -> int:
    """Best-of-R: more repeats for small streams, where noise weighs more."""
    if override:
        return override
    if quick:
        return 2
    if n <= 20_000:
        return 5
    return 3


# ---------------------------------------------------------------------------------- cassette


def cassette_pass(data: bytes, n: int, repeats: int, request: dict[str, Any]) -> dict[str, Any]:
    """Write ``data`` as a vcrpy cassette with the plugin's writer, time loading it vs parsing.

    Uses ``cassettes.ReadableYamlSerializer`` (libyaml dumper, the SSE body as a literal block)
    and ``cassettes.load_interactions`` (vcrpy's deserializer over libyaml's ``CSafeLoader``).
    """
    import yaml

    from pytest_oapi_stream.recording import cassettes

    interaction = {
        "request": {
            "method": "POST",
            "uri": "https://api.openai.com/v1/chat/completions",
            "body": json.dumps(request),
            "headers": {"Content-Type": ["application/json"]},
        },
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["text/event-stream; charset=utf-8"]},
            "body": {"string": data.decode("utf-8")},
        },
    }
    text = cassettes.ReadableYamlSerializer.serialize({"interactions": [interaction], "version": 1})
    with tempfile.TemporaryDirectory(prefix="oapi-bench-") as tmp:
        path = Path(tmp) / f"text_{n}.yaml"
        path.write_text(text, encoding="utf-8")
        loaded = cassettes.load_interactions(path)
        if len(loaded) != 1 or loaded[0].body != data:
            raise AssertionError("the cassette did not load back byte for byte")
        body = loaded[0].body

        def load() -> Any:
            return cassettes.load_interactions(path)

        def parse() -> Any:
            return check_chunk_stream(body, request=request, url=loaded[0].uri)

        def load_and_check() -> Any:
            (it,) = cassettes.load_interactions(path)
            return check_chunk_stream(it.body, request=request, url=it.uri)

        times = time_round_robin(
            {
                "load": load,
                "parse": parse,
                "L0": lambda: m_l0(body),
                "load+check": load_and_check,
            },
            repeats,
        )
    return {
        "n": n,
        "bytes": len(data),
        "file_bytes": len(text.encode("utf-8")),
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
        "loader": cassettes._Loader.__mro__[1].__name__,
        "best": {k: min(v) for k, v in times.items()},
        "repeats": repeats,
    }


# ---------------------------------------------------------------------------------- breakdown


class _SpecPart(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", protected_namespaces=())


class _SpecFunction(_SpecPart):
    name: str | None = None
    arguments: str | None = None


class _SpecToolCall(_SpecPart):
    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: _SpecFunction | None = None
    custom: dict[str, Any] | None = None


class _SpecDelta(_SpecPart):
    role: str | None = None
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[_SpecToolCall] | None = None
    function_call: _SpecFunction | None = None
    audio: dict[str, Any] | None = None
    annotations: list[Any] | None = None


class _SpecChoice(_SpecPart):
    index: int | None = None
    delta: _SpecDelta | None = None
    finish_reason: str | None = None
    logprobs: dict[str, Any] | None = None


class _SpecUsage(_SpecPart):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    prompt_tokens_details: dict[str, Any] | None = None
    completion_tokens_details: dict[str, Any] | None = None


class _SpecChunk(_SpecPart):
    """What the models would be with the OpenAI contract's fields only (no typed extensions)."""

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[_SpecChoice] | None = None
    usage: _SpecUsage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    obfuscation: str | None = None
    moderation: dict[str, Any] | None = None


_SPEC_MODELS = {
    M.ChatCompletionChunk: _SpecChunk,
    M.Choice: _SpecChoice,
    M.Delta: _SpecDelta,
    M.ToolCallFragment: _SpecToolCall,
    M.FunctionCallFragment: _SpecFunction,
    M.Usage: _SpecUsage,
}
for _full, _spec in _SPEC_MODELS.items():  # the comparison must follow models.py
    if set(_spec.model_fields) != set(M.spec_fields(_full)):  # pragma: no cover
        raise ImportError(f"{_spec.__name__} must have the spec fields of {_full.__name__}")


def breakdown(data: bytes, n: int, repeats: int, request: dict[str, Any]) -> dict[str, float]:
    """Where both modes spend their time, and the floor that parsing alone sets.

    ``decode`` is the SSE decoder fed 64 KiB windows (as both modes feed it); ``validate_kept``
    is one ``validate_json`` per payload with the GC off and every chunk kept (keep mode's
    parse), ``validate_dropped`` the same with the GC on and nothing kept (the iterating mode's).
    What is left of each mode (the rules, the fast path, assembly, the driver) is its time minus
    decoding and its validation; decoding plus validation is the floor no checker built on
    these models can go below. ``spec_kept``/``spec_dropped`` validate into models that have
    only the OpenAI contract's fields (``_SpecChunk``): what dropping the typed provider
    extensions from the models would save. All in µs per chunk, from one round-robin with L0.
    """
    events, _ = parse_sse(data)
    payloads = [e.data for e in events if e.has_data and not e.data.startswith("[DONE]")]
    del events  # nothing GC-tracked stays alive while timing
    validate = ChatCompletionChunk.__pydantic_validator__.validate_json
    window = 1 << 16

    def decode() -> int:
        dec = SSEDecoder()
        count = 0
        for start in range(0, len(data), window):
            count += len(dec.feed(data[start : start + window]))
        return count + len(dec.close())

    def validate_kept() -> list[Any]:
        gc.disable()
        try:
            return [validate(p) for p in payloads]
        finally:
            gc.enable()

    def validate_dropped() -> None:
        for p in payloads:
            validate(p)

    spec = _SpecChunk.__pydantic_validator__.validate_json
    envelope = operator.itemgetter("id", "created", "model", "system_fingerprint")

    def minimal(keep: bool) -> list[Any]:
        # The least any checker of these models does per chunk: decode, validate, compare the
        # envelope with the first chunk's and collect the delta's text. No rule runs.
        kept: list[Any] = []
        texts: list[str] = []
        dec = SSEDecoder()
        first = None
        if keep:
            gc.disable()
        try:
            for start in range(0, len(data), window):
                for ev in dec.feed(data[start : start + window]):
                    if not ev.has_data or ev.data == "[DONE]":
                        continue
                    c = validate(ev.data)
                    key = envelope(c.__dict__)
                    if first is None:
                        first = key
                    elif key != first:
                        raise AssertionError("the envelope changed")
                    if c.choices:
                        d = c.choices[0].delta
                        if d is not None:
                            t = d.content or d.reasoning_content
                            if t:
                                texts.append(t)
                    if keep:
                        kept.append(c)
        finally:
            if keep:
                gc.enable()
        return kept

    def spec_kept() -> list[Any]:
        gc.disable()
        try:
            return [spec(p) for p in payloads]
        finally:
            gc.enable()

    def spec_dropped() -> None:
        for p in payloads:
            spec(p)

    times = time_round_robin(
        {
            "L0": lambda: m_l0(data),
            "decode": decode,
            "validate_kept": validate_kept,
            "validate_dropped": validate_dropped,
            "spec_kept": spec_kept,
            "spec_dropped": spec_dropped,
            "min_keep": lambda: minimal(True),
            "min_iter": lambda: minimal(False),
            "keep": lambda: m_keep(data, request),
            "iter": lambda: m_iter(data, request),
        },
        repeats,
    )
    best = {k: min(v) / n * 1e6 for k, v in times.items()}
    best["keep_rest"] = best["keep"] - best["decode"] - best["validate_kept"]
    best["iter_rest"] = best["iter"] - best["decode"] - best["validate_dropped"]
    return best


# ---------------------------------------------------------------------------------- report


def machine_info() -> list[str]:
    """Markdown lines describing the machine and the package versions."""

    def ver(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "–"

    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import yaml

    pkgs = ", ".join(
        f"{p} {ver(p)}"
        for p in ("pytest-oapi-stream", "pydantic", "pydantic-core", "openai", "PyYAML", "vcrpy")
    )
    return [
        f"- machine: {os.cpu_count()} CPUs, {cpu}, {platform.platform()}",
        f"- python: {platform.python_implementation()} {platform.python_version()}",
        f"- packages: {pkgs}; PyYAML with libyaml: {getattr(yaml, '__with_libyaml__', False)}",
        f"- gc thresholds: {gc.get_threshold()}",
        f"- date (UTC): {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())}",
    ]


def _loadavg() -> str:
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return "?"


def _fmt_rate(x: float) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.0f}k"
    return f"{x:.0f}"


def _mark(ok: bool | None) -> str:
    return "" if ok is None else (" ✓" if ok else " ✗")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the markdown report."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=None, help="chunks per stream")
    ap.add_argument(
        "--kinds", nargs="+", choices=make_stream.KINDS, default=list(make_stream.KINDS)
    )
    ap.add_argument("--quick", action="store_true", help="small sizes, 2 repeats (smoke run)")
    ap.add_argument("--repeats", type=int, default=None, help="best of R (default by size)")
    ap.add_argument("--cassette-n", type=int, default=None, help="chunks in the cassette stream")
    ap.add_argument("--no-breakdown", action="store_true", help="skip the time breakdown")
    ap.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: time.perf_counter (default); cpu: time.process_time (for busy machines)",
    )
    ap.add_argument("--out", default=None, help="also write the markdown report to this file")
    args = ap.parse_args(argv)
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    sizes = args.sizes or ([1_000] if args.quick else list(make_stream.DEFAULT_SIZES))
    t_start = perf_counter()

    def log(msg: str) -> None:
        print(f"[{perf_counter() - t_start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    m_o1, o1_note = _openai_o1()
    rows: list[dict[str, Any]] = []
    mem: dict[tuple[str, int], tuple[int, int]] = {}
    for kind in args.kinds:
        request = REQUESTS[kind]
        for n in sizes:
            data = make_stream.make(kind, n)
            # Sanity: a clean stream, every chunk parsed, both modes agree.
            report = check_chunk_stream(data, request=request)
            assert report.stream is not None
            if not report.ok or len(report.stream.chunks) != n:
                raise AssertionError(f"{kind} {n}: unexpected report\n{report.format()}")
            if m_iter(data, request) != n:
                raise AssertionError(f"{kind} {n}: the iterating mode lost chunks")
            codes, profile_name = report.codes(), report.profile.name
            # Nothing big may stay alive while timing: every live object makes each full
            # collection of the GC-on methods (L0, O1) slower, which would flatter the ratios.
            del report
            r = repeats_for(n, args.repeats, args.quick)
            log(f"{kind} {n:,}: {len(data):,} bytes, best of {r}")
            calls: dict[str, Callable[[], Any]] = {
                "L0": lambda data=data: m_l0(data),
                "keep": lambda data=data, req=request: m_keep(data, req),
                "iter": lambda data=data, req=request: m_iter(data, req),
            }
            if m_o1 is not None:
                calls["O1"] = lambda data=data, f=m_o1: f(data)
            times = time_round_robin(calls, r)
            best = {k: min(v) for k, v in times.items()}
            rows.append(
                {
                    "kind": kind,
                    "n": n,
                    "bytes": len(data),
                    "sha": hashlib.sha256(data).hexdigest()[:16],
                    "best": best,
                    "repeats": r,
                    "codes": codes,
                    "profile": profile_name,
                }
            )
            log(f"{kind} {n:,}: tracemalloc pass of the iterating mode")
            mem[(kind, n)] = peak_memory(lambda data=data, req=request: m_iter(data, req))

    bd: dict[str, dict[str, float]] = {}
    if not args.no_breakdown:
        bn = 10_000 if 10_000 in sizes else max(sizes)
        for kind in args.kinds:
            log(f"breakdown {kind} {bn:,}")
            bd[kind] = breakdown(
                make_stream.make(kind, bn),
                bn,
                repeats_for(bn, args.repeats, args.quick),
                REQUESTS[kind],
            )
            bd[kind]["n"] = bn

    cn = args.cassette_n or (min(10_000, max(sizes)) if args.quick else 10_000)
    log(f"cassette pass: text {cn:,}")
    cas = cassette_pass(
        make_stream.make("text", cn),
        cn,
        repeats_for(cn, args.repeats, args.quick),
        REQUESTS["text"],
    )

    md = ["# bench_check: parse+check speed and memory", ""]
    md += machine_info()
    md.append(f"- O1 baseline: {o1_note}")
    md.append(
        "- clock: "
        + ("CPU time of the process (`time.process_time`)" if args.clock == "cpu" else "wall")
        + f"; load average at the start: {_loadavg()}"
    )
    md.append(f"- command: `python benchmarks/bench_check.py {' '.join(argv or sys.argv[1:])}`")
    md += ["", "## Streams", ""]
    md.append("| stream | N chunks | bytes | sha256 (16 hex) | profile | report codes | R |")
    md.append("|---|---:|---:|---|---|---|---:|")
    for row in rows:
        md.append(
            f"| {row['kind']} | {row['n']:,} | {row['bytes']:,} | `{row['sha']}` | "
            f"{row['profile']} | {', '.join(row['codes']) or '–'} | {row['repeats']} |"
        )

    md += ["", "## Ratio table (best times of the same run)", ""]
    md.append(
        "keep = `check_chunk_stream`, iter = `iter_checked_chunks`; ✓/✗: target met at 10k and "
        f"100k chunks (keep ≤ {TARGET_KEEP_L0}×L0 and ≥ {TARGET_KEEP_O1:.0f}× faster than O1; "
        f"iter ≤ {TARGET_ITER_L0}×L0)."
    )
    md.append("")
    md.append(
        "| stream | N | L0 µs/chunk | O1 µs/chunk | keep µs/chunk | iter µs/chunk | "
        "keep chunks/s | iter chunks/s | keep/L0 | iter/L0 | O1/keep | O1/iter | O1/L0 |"
    )
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    verdicts: list[bool] = []
    for row in rows:
        b, n = row["best"], row["n"]
        us = {k: v / n * 1e6 for k, v in b.items()}
        judged = n >= 10_000
        keep_l0 = b["keep"] / b["L0"]
        iter_l0 = b["iter"] / b["L0"]
        o1 = b.get("O1")
        ok_keep = keep_l0 <= TARGET_KEEP_L0 if judged else None
        ok_o1 = (o1 / b["keep"] >= TARGET_KEEP_O1) if (judged and o1) else None
        ok_iter = iter_l0 <= TARGET_ITER_L0 if judged else None
        verdicts += [v for v in (ok_keep, ok_o1, ok_iter) if v is not None]
        md.append(
            f"| {row['kind']} | {n:,} | {us['L0']:.2f} | "
            + (f"{us['O1']:.1f}" if o1 else "–")
            + f" | {us['keep']:.2f} | {us['iter']:.2f} | {_fmt_rate(n / b['keep'])} | "
            f"{_fmt_rate(n / b['iter'])} | **{keep_l0:.2f}**{_mark(ok_keep)} | "
            f"**{iter_l0:.2f}**{_mark(ok_iter)} | "
            + (f"**{o1 / b['keep']:.1f}**{_mark(ok_o1)}" if o1 else "–")
            + " | "
            + (f"{o1 / b['iter']:.1f}" if o1 else "–")
            + " | "
            + (f"{o1 / b['L0']:.1f}" if o1 else "–")
            + " |"
        )

    md += ["", "## Iterating mode: peak memory (tracemalloc)", ""]
    md.append(
        "Peak traced while `iter_checked_chunks` runs over the whole stream (the input bytes "
        "were allocated before tracing); *left* is what is still allocated when it returns "
        "(the report, with the assembled message)."
    )
    md.append("")
    md.append("| stream | N | stream MiB | peak KiB | left KiB | peak bytes/chunk |")
    md.append("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        peak, left = mem[(row["kind"], row["n"])]
        md.append(
            f"| {row['kind']} | {row['n']:,} | {row['bytes'] / 2**20:.1f} | {peak / 1024:,.0f} | "
            f"{left / 1024:,.0f} | {peak / row['n']:,.1f} |"
        )

    if bd:
        md += ["", "## Where the time goes, and the floor set by parsing (µs per chunk)", ""]
        md.append(
            "One round-robin per stream with its own L0. decode = the SSE decoder over 64 KiB "
            "windows; validate kept = `validate_json` of every payload, kept, GC off (keep "
            "mode's parse); validate dropped = the same, GC on, nothing kept (the iterating "
            "mode's); rest = the mode minus decode and its validation (rules, fast path, "
            "assembly, driver); floor = (decode + validation) / L0: what a checker on these "
            "models costs before it checks anything. The last two columns validate into "
            "models with only the OpenAI contract's fields (no typed provider extensions), "
            "kept and dropped: the floor such models would set. *minimal* is the least any "
            "checker of these models does: decode, validate, compare each chunk's envelope "
            "with the first one's and collect the text, with no rule; kept with the GC off "
            "(keep) or dropped (iter)."
        )
        md.append("")
        md.append(
            "| stream | N | L0 | decode | validate kept | keep | keep rest | keep floor ×L0 | "
            "validate dropped | iter | iter rest | iter floor ×L0 | "
            "spec-only kept (floor ×L0) | spec-only dropped (floor ×L0) | "
            "minimal keep ×L0 | minimal iter ×L0 |"
        )
        md.append(
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        )
        for kind, v in bd.items():
            l0 = v["L0"]
            md.append(
                f"| {kind} | {int(v['n']):,} | {l0:.2f} | {v['decode']:.2f} | "
                f"{v['validate_kept']:.2f} | {v['keep']:.2f} | {v['keep_rest']:.2f} | "
                f"{(v['decode'] + v['validate_kept']) / l0:.2f} | {v['validate_dropped']:.2f} | "
                f"{v['iter']:.2f} | {v['iter_rest']:.2f} | "
                f"{(v['decode'] + v['validate_dropped']) / l0:.2f} | "
                f"{v['spec_kept']:.2f} ({(v['decode'] + v['spec_kept']) / l0:.2f}) | "
                f"{v['spec_dropped']:.2f} ({(v['decode'] + v['spec_dropped']) / l0:.2f}) | "
                f"{v['min_keep'] / l0:.2f} | {v['min_iter'] / l0:.2f} |"
            )

    cb = cas["best"]
    load_ratio = cb["load"] / cb["parse"]
    ok_load = load_ratio <= TARGET_LOAD
    verdicts.append(ok_load)
    md += ["", f"## vcrpy cassette: text stream, {cas['n']:,} chunks", ""]
    md.append(
        f"- written by `cassettes.ReadableYamlSerializer` ({cas['file_bytes']:,} bytes of YAML for "
        f"{cas['bytes']:,} bytes of SSE), loaded by `cassettes.load_interactions` "
        f"(loader base `{cas['loader']}`, libyaml: {cas['libyaml']}); best of {cas['repeats']}"
    )
    md.append("")
    md.append("| what | best ms | ×parse (keep) | ×L0 |")
    md.append("|---|---:|---:|---:|")
    for key, label in (
        ("load", "load the cassette"),
        ("parse", "parse+check the body (keep)"),
        ("L0", "L0 over the body"),
        ("load+check", "load + parse+check"),
    ):
        md.append(
            f"| {label} | {cb[key] * 1e3:.1f} | {cb[key] / cb['parse']:.2f} | "
            f"{cb[key] / cb['L0']:.2f} |"
        )
    md.append("")
    md.append(f"load / parse = **{load_ratio:.2f}**{_mark(ok_load)} (target ≤ {TARGET_LOAD})")

    met = sum(verdicts)
    md += ["", f"Targets met: {met} of {len(verdicts)} judged.", ""]
    md.append(f"_total runtime {perf_counter() - t_start:.0f} s_")
    text = "\n".join(md) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
