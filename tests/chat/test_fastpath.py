"""The checker's fast path (``fastpath.py``) never changes a verdict, and stays in use.

Differential tests: every corpus and seed stream, and several hundred mutated streams (one
field of one mid-stream chunk changed in each way a rule cares about, under every built-in
profile), are checked with the fast path on and off; the reports must be identical. A last test
makes sure the fast path actually takes the common chunks of a clean stream, so that a rule
added to the table without a review of ``fastpath.py`` fails here instead of silently halving
the checker's speed.
"""

from __future__ import annotations

import copy
import json
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import streams as S

from pytest_oapi_stream import check_chunk_stream
from pytest_oapi_stream.chat import fastpath
from pytest_oapi_stream.chat.check import CheckedChunks
from pytest_oapi_stream.chat.rules import RULES
from pytest_oapi_stream.core.report import Report

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parents[1] / "data"
STREAM_FILES = sorted((DATA / "corpus").glob("*.sse")) + sorted((DATA / "seed").glob("*.sse"))

sys.path.insert(0, str(ROOT / "benchmarks"))
try:
    import make_stream
except ImportError:  # pragma: no cover - benchmarks/ is not in the sdist
    make_stream = None

Chunk = dict[str, Any]


@contextmanager
def fast_path(enabled: bool) -> Iterator[None]:
    saved = fastpath.ENABLED
    fastpath.ENABLED = enabled
    try:
        yield
    finally:
        fastpath.ENABLED = saved


def summary(report: Report) -> tuple[Any, ...]:
    """Everything a user can read from a report, in comparable form."""
    s = report.stream
    assert s is not None
    return (
        report.violations,
        report.profile.name,
        report.profile_reason,
        s.messages,
        s.usage,
        s.comments,
        s.extensions,
        s.errors,
        s.done,
        s.events,
        [c.model_dump() for c in s.chunks],
    )


def both_ways(source: Any, **kwargs: Any) -> None:
    """Keep mode and iterating mode give the same report with and without the fast path."""
    results = []
    for enabled in (False, True):
        with fast_path(enabled):
            keep = check_chunk_stream(source, **kwargs)
            it = CheckedChunks(source, raise_on_error=False, **kwargs)
            n = sum(1 for _ in it)
            assert it.report is not None
            results.append((summary(keep), summary(it.report)[:-1], n))
    slow, fast = results
    hint = (
        "the fast path changed the report: a per-chunk check changed in rules.py; update its "
        "no-op conditions in fastpath.PlainChunkGate.take"
    )
    assert fast[0] == slow[0], f"keep mode: {hint}"
    assert fast[1] == slow[1], f"iterating mode: {hint}"
    assert fast[2] == slow[2]


@pytest.mark.parametrize("path", STREAM_FILES, ids=lambda p: p.name)
def test_corpus_reports_do_not_depend_on_the_fast_path(path: Path) -> None:
    data = path.read_bytes()
    both_ways(data)
    both_ways(data, profile="openai", request=S.REQUEST)


# ----------------------------------------------------------------------------- mutations


def _choice(c: Chunk) -> Chunk | None:
    choices = c.get("choices")
    return choices[0] if isinstance(choices, list) and choices else None


def _delta(c: Chunk) -> Chunk | None:
    ch = _choice(c)
    d = ch.get("delta") if ch else None
    return d if isinstance(d, dict) else None


def _frag(c: Chunk) -> Chunk | None:
    d = _delta(c)
    tcs = d.get("tool_calls") if d else None
    return tcs[0] if isinstance(tcs, list) and tcs else None


def _set(getter: Callable[[Chunk], Chunk | None], key: str, value: Any) -> Callable[[Chunk], bool]:
    def apply(c: Chunk) -> bool:
        node = getter(c)
        if node is None:
            return False
        if value is ...:
            node.pop(key, None)
        else:
            node[key] = copy.deepcopy(value)
        return True

    return apply


def _top(key: str, value: Any) -> Callable[[Chunk], bool]:
    return _set(lambda c: c, key, value)


def _append_text(key: str, text: str) -> Callable[[Chunk], bool]:
    def apply(c: Chunk) -> bool:
        d = _delta(c)
        if d is None or not isinstance(d.get(key), str):
            return False
        d[key] += text
        return True

    return apply


def _fn_args(text: str) -> Callable[[Chunk], bool]:
    def apply(c: Chunk) -> bool:
        f = _frag(c)
        if f is None or not isinstance(f.get("function"), dict):
            return False
        f["function"]["arguments"] = str(f["function"].get("arguments") or "") + text
        return True

    return apply


def _fn_name(c: Chunk) -> bool:
    f = _frag(c)
    if f is None:
        return False
    f.setdefault("function", {})["name"] = "other_tool"
    return True


def _two_choices(c: Chunk) -> bool:
    ch = _choice(c)
    if ch is None:
        return False
    second = copy.deepcopy(ch)
    second["index"] = 1
    c["choices"].append(second)
    return True


def _two_fragments(c: Chunk) -> bool:
    d = _delta(c)
    f = _frag(c)
    if d is None or f is None:
        return False
    d["tool_calls"].append(copy.deepcopy(f))
    return True


def _second_fragment_opens(c: Chunk) -> bool:
    d = _delta(c)
    if d is None or not _frag(c):
        return False
    d["tool_calls"].append(S.call(5, "call_new", "new_tool"))
    return True


USAGE = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
LOGPROBS = {"content": [S.logprob("x")], "refusal": None}

MUTATIONS: dict[str, Callable[[Chunk], bool]] = {
    "id": _top("id", "chatcmpl-other"),
    "id-empty": _top("id", ""),
    "id-missing": _top("id", ...),
    "created": _top("created", 1732500001),
    "created-ms": _top("created", 1732500000000),
    "created-zero": _top("created", 0),
    "created-future": _top("created", 4102444800),
    "model": _top("model", "gpt-4o-mini"),
    "model-empty": _top("model", ""),
    "fingerprint": _top("system_fingerprint", "fp_other"),
    "fingerprint-missing": _top("system_fingerprint", ...),
    "fingerprint-null": _top("system_fingerprint", None),
    "tier": _top("service_tier", "flex"),
    "tier-unknown": _top("service_tier", "on_demand"),
    "tier-missing": _top("service_tier", ...),
    "object": _top("object", "chat.completion"),
    "ext-top": _top("x_custom", 1),
    "ext-choice": _set(_choice, "stop_reason", None),
    "ext-delta": _set(_delta, "channel", "analysis"),
    "ext-tool": _set(_frag, "extra_content", {"k": 1}),
    "usage": _top("usage", USAGE),
    "usage-null": _top("usage", None),
    "x_groq": _top("x_groq", {"id": "req_1", "usage": USAGE}),
    "error-top": _top("error", {"message": "boom", "type": "server_error"}),
    "error-choice": _set(_choice, "error", {"message": "boom"}),
    "choices-empty": _top("choices", []),
    "choices-null": _top("choices", None),
    "two-choices": _two_choices,
    "index-1": _set(_choice, "index", 1),
    "index-neg": _set(_choice, "index", -1),
    "index-missing": _set(_choice, "index", ...),
    "finish": _set(_choice, "finish_reason", "stop"),
    "finish-weird": _set(_choice, "finish_reason", "eos"),
    "finish-key-missing": _set(_choice, "finish_reason", ...),
    "logprobs": _set(_choice, "logprobs", LOGPROBS),
    "delta-null": _set(_choice, "delta", None),
    "delta-empty": _set(_choice, "delta", {}),
    "role": _set(_delta, "role", "assistant"),
    "role-user": _set(_delta, "role", "user"),
    "refusal": _set(_delta, "refusal", "I can't"),
    "refusal-fffd": _append_text("refusal", "\ufffd"),
    "refusal-fffd-add": _set(_delta, "refusal", "no\ufffd"),
    "content-empty": _set(_delta, "content", ""),
    "content-null": _set(_delta, "content", None),
    "content-wrong-type": _set(_delta, "content", 5),
    "content-fffd": _append_text("content", "\ufffd"),
    "content-add": _set(_delta, "content", "late text"),
    "reasoning-late": _set(_delta, "reasoning_content", "late thought"),
    "reasoning-other-field": _set(_delta, "reasoning", "thought"),
    "reasoning-fffd": _append_text("reasoning_content", "\ufffd"),
    "reasoning-other-fffd": _set(_delta, "reasoning", "thought\ufffd"),
    "tool-calls-empty": _set(_delta, "tool_calls", []),
    "tool-add": _set(_delta, "tool_calls", [S.args(0, "{}")]),
    "tool-id": _set(_frag, "id", "call_zzz"),
    "tool-id-empty": _set(_frag, "id", ""),
    "tool-type": _set(_frag, "type", "function"),
    "tool-type-weird": _set(_frag, "type", "custom"),
    "tool-name": _fn_name,
    "tool-fffd": _fn_args("\ufffd"),
    "tool-index-0": _set(_frag, "index", 0),
    "tool-index-gap": _set(_frag, "index", 7),
    "tool-index-neg": _set(_frag, "index", -1),
    "tool-index-missing": _set(_frag, "index", ...),
    "tool-two-fragments": _two_fragments,
    "tool-second-fragment-opens": _second_fragment_opens,
    "tool-function-null": _set(_frag, "function", None),
}


def _chunks_of(sse: bytes | str) -> list[Chunk]:
    text = sse.decode() if isinstance(sse, bytes) else sse
    out = []
    for line in text.splitlines():
        if line.startswith("data: {"):
            out.append(json.loads(line[6:]))
    return out


def _render(chunks: list[Chunk]) -> str:
    body = "".join(f"data: {json.dumps(c, ensure_ascii=False)}\n\n" for c in chunks)
    return ": keep-alive\n\n" + body + "data: [DONE]\n\n"


def _bases() -> dict[str, list[Chunk]]:
    bases = {
        "text": S.text("Hel", "lo", " wor", "ld", "!", " How", " are", " you?"),
        "tools": S.tools(),
        "reasoning": S.reasoning(),
        "two-choices": S.two_choices(),
        "refusal": S.refusal(),
        "logprobs": S.with_logprobs(),
    }
    # OpenRouter/Groq style reasoning field, and Groq's x_groq on every chunk.
    bases["reasoning-field"] = [
        S.chunk(S.choice(role="assistant", content="", reasoning="")),
        *(S.chunk(S.choice(reasoning=t)) for t in ("Let", " me", " think", ".")),
        *(S.chunk(S.choice(content=t)) for t in ("Four", ".")),
        S.chunk(S.choice(finish="stop")),
        S.usage(),
    ]
    bases["x-groq"] = [{**c, "x_groq": {"id": "req_01"}} for c in S.text("a", "b", "c", "d")]
    if make_stream is not None:
        for kind in make_stream.KINDS:
            bases[f"gen-{kind}"] = _chunks_of(make_stream.make(kind, 24))
    return bases


PROFILE_CYCLE = (
    "openai",
    "deepseek",
    "azure",
    "groq",
    "lenient",
    "ollama",
    "llamacpp",
    "xai",
    "qwen",
    "openrouter",
    "mistral",
    "vllm",
    "gemini",
    "anthropic",
)


Case = tuple[str, str, list[Chunk], dict[str, Any]]


def _variants(base: list[Chunk], mutate: Callable[[Chunk], bool]) -> Iterator[tuple[str, list]]:
    """The base with one chunk mutated (second, middle), and with every chunk mutated."""
    n = len(base)
    for at in sorted({2, n // 2}):
        chunks = copy.deepcopy(base)
        if at < n and mutate(chunks[at]):
            yield f"@{at}", chunks
    chunks = copy.deepcopy(base)
    if sum(mutate(c) for c in chunks):
        yield "@all", chunks


def _cases() -> dict[str, list[Case]]:
    rng = random.Random(20261125)
    cases: dict[str, list[Case]] = {}
    k = 0
    for base_name, base in _bases().items():
        for mut_name, mutate in MUTATIONS.items():
            group = cases.setdefault(f"{base_name}/{mut_name}", [])
            for where, chunks in _variants(base, mutate):
                # Under auto (which follows the stream) and one of the profiles in turn.
                for profile in ("auto", PROFILE_CYCLE[k % len(PROFILE_CYCLE)]):
                    kwargs: dict[str, Any] = {"profile": profile}
                    if k % 3:
                        kwargs["request"] = S.REQUEST
                    k += 1
                    label = f"{base_name}/{mut_name}{where}"
                    group.append((label, _render(chunks), chunks, kwargs))
        # Several mutations at once, at random places.
        group = cases.setdefault(f"{base_name}/random", [])
        names = list(MUTATIONS)
        for _ in range(12):
            chunks = copy.deepcopy(base)
            applied = []
            for _ in range(rng.randint(2, 4)):
                name = rng.choice(names)
                at = rng.randrange(1, len(base))
                if MUTATIONS[name](chunks[at]):
                    applied.append(f"{name}@{at}")
            kwargs = {"profile": rng.choice(PROFILE_CYCLE)}
            group.append((f"{base_name}/{'+'.join(applied)}", _render(chunks), chunks, kwargs))
    return {name: group for name, group in cases.items() if group}


CASES = _cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_mutated_stream_reports_do_not_depend_on_the_fast_path(name: str) -> None:
    for label, sse, _, kwargs in CASES[name]:
        try:
            both_ways(sse, **kwargs)
        except AssertionError as exc:
            raise AssertionError(f"{label} {kwargs}: {exc}") from None


def test_chunk_lists_do_not_depend_on_the_fast_path() -> None:
    every = [case for group in CASES.values() for case in group]
    for _, _, chunks, kwargs in every[::7]:
        both_ways(copy.deepcopy(chunks), **kwargs)


# ------------------------------------------------------------------------- still in use


def _admitted(source: Any, **kwargs: Any) -> int:
    per_gate: dict[int, list[int]] = {}  # keep mode may restart its run (profile=auto)
    original = fastpath.PlainChunkGate.take

    def counting(self: fastpath.PlainChunkGate, c: Any, pos: int) -> bool:
        ok = original(self, c, pos)
        per_gate.setdefault(id(self), [0, 0])[ok] += 1
        return ok

    fastpath.PlainChunkGate.take = counting  # type: ignore[method-assign]
    try:
        report = check_chunk_stream(source, **kwargs)
    finally:
        fastpath.PlainChunkGate.take = original  # type: ignore[method-assign]
    assert report.ok, report.format()
    return list(per_gate.values())[-1][1]


def test_every_per_chunk_check_is_covered_by_the_fast_path() -> None:
    """A new per-chunk or per-event check needs its no-op conditions in fastpath.py."""
    uncovered = sorted(
        f"{r.code} {getattr(fn, '__name__', fn)}"
        for r in RULES
        for fn in (r.on_chunk, r.on_event)
        if fn is not None and fn.__name__ not in fastpath.CHUNK_CHECKS + fastpath.EVENT_CHECKS
    )
    assert not uncovered, (
        "checks not reviewed for the fast path (they switch it off, halving the speed): "
        f"{uncovered}; add their no-op conditions to fastpath.PlainChunkGate.take "
        "(or plain_event) and their names to CHUNK_CHECKS/EVENT_CHECKS"
    )


def test_the_fast_path_finds_every_check_it_names() -> None:
    """fastpath finds its checks by name on ``chat.rules``: a name missing there (a check moved
    or no longer imported) silently switches the fast path off for every stream."""
    assert fastpath.covers_events([r.on_event for r in RULES if r.on_event is not None])
    assert fastpath.PlainChunkGate.usable([r.on_chunk for r in RULES if r.on_chunk is not None])


@pytest.mark.skipif(make_stream is None, reason="benchmarks/ is not shipped in the sdist")
@pytest.mark.parametrize("kind", ["text", "tools", "reasoning"])
def test_the_fast_path_takes_the_common_chunks(kind: str) -> None:
    data = make_stream.make(kind, 300)
    taken = _admitted(data, request=S.REQUEST)
    assert taken >= 290, f"only {taken} of 300 chunks took the fast path"


# -------------------------------------------------- keep mode's one pass and profile=auto


def _late_signal_streams() -> dict[str, str]:
    """Streams whose provider signal comes late (keep mode must restart under it)."""
    timings = {"prompt_n": 9, "predicted_n": 3}
    text = S.text("a", "b", "c")
    late_timings = [*text[:-1], {**text[-1], "timings": timings}]
    late_groq = [*text[:-1], {**text[-1], "x_groq": {"id": "req_1", "usage": USAGE}}]
    # Chunks the fast path could take while auto is undecided: the signal field was seen
    # before with a null value, so only looking at the value finds it (fastpath._may_signal).
    long_text = S.text(*"abcdefgh")
    null_first = [{**long_text[0], "timings": None, "prompt_filter_results": None}]
    mid = len(long_text) // 2

    def with_mid(extra: dict[str, Any], model: str | None = None) -> str:
        chunks = copy.deepcopy(null_first + long_text[1:])
        if model is not None:
            for c in chunks:
                c["model"] = model
        chunks[mid].update(extra)
        return _render(chunks)

    # reasoning_content first arrives in a chunk of another model (no signal there), then
    # (null) in one of the deepseek- model: that one signals.
    deepseek = copy.deepcopy(long_text)
    for c in deepseek:
        c["model"] = "deepseek-chat"
    deepseek[1]["model"] = "other-model"
    deepseek[1]["choices"][0]["delta"]["reasoning_content"] = None
    deepseek[mid]["choices"][0]["delta"]["reasoning_content"] = None
    return {
        "llamacpp-timings-last": _render(late_timings),
        "groq-x_groq-last": _render(late_groq),
        "after-done": _render(text) + f"data: {json.dumps(late_timings[-1])}\n\n",
        "no-signal": _render(text),
        "timings-null-then-mid": with_mid({"timings": timings}),
        "filter-null-then-mid": with_mid({"prompt_filter_results": [{"prompt_index": 0}]}),
        "timings-mid-unseen": _render(
            [*long_text[:mid], {**long_text[mid], "timings": timings}, *long_text[mid + 1 :]]
        ),
        "deepseek-reasoning-after-other-model": _render(deepseek),
    }


LATE_SIGNAL_STREAMS = _late_signal_streams()
#: Every corpus and seed stream, and the late-signal streams: what keep mode's auto must get right.
AUTO_STREAMS: dict[str, bytes | str] = {
    **{p.name: p.read_bytes() for p in STREAM_FILES},
    **LATE_SIGNAL_STREAMS,
}


@pytest.mark.parametrize(
    "data",
    list(AUTO_STREAMS.values()),
    ids=list(AUTO_STREAMS),
)
def test_keep_mode_decides_auto_over_all_chunks(data: bytes | str) -> None:
    """One pass gives what parsing everything, then detect_profile, then checking gives."""
    from pytest_oapi_stream.chat.parse import parse_payload
    from pytest_oapi_stream.chat.profiles import detect_profile
    from pytest_oapi_stream.core.sse import parse_sse

    events, _ = parse_sse(data)
    chunks = []
    for ev in events:
        if ev.has_data and not ev.data.startswith("[DONE]"):
            p = parse_payload(ev.data)
            if p.kind == "chunk" and p.chunk is not None:
                chunks.append(p.chunk)
    profile, reason = detect_profile(None, chunks)
    report = check_chunk_stream(data)
    assert (report.profile.name, report.profile_reason) == (profile.name, reason)
    explicit = check_chunk_stream(data, profile=profile)
    assert (
        summary(report)[:1] + summary(report)[3:] == summary(explicit)[:1] + summary(explicit)[3:]
    )


def _one_shot(data: bytes | str) -> Iterator[bytes]:
    """``data`` as a generator of small pieces: a source that cannot be read twice."""
    raw = data.encode() if isinstance(data, str) else data
    for start in range(0, len(raw), 97):
        yield raw[start : start + 97]


@pytest.mark.parametrize(
    "data",
    list(AUTO_STREAMS.values()),
    ids=list(AUTO_STREAMS),
)
def test_keep_mode_restarts_or_replays_alike(data: bytes | str) -> None:
    """A late provider signal: bytes are decoded again, a one-shot source replays its events.

    Both must give the report of checking under the signalled profile from the start.
    """
    again = check_chunk_stream(data)
    replayed = check_chunk_stream(_one_shot(data))
    assert summary(replayed) == summary(again)


@pytest.mark.parametrize("name", sorted(LATE_SIGNAL_STREAMS))
def test_auto_finds_late_signals_with_oas014_ignored(name: str) -> None:
    """Without OAS014 the gate cannot rule out signal fields: it must take nothing meanwhile."""
    data = LATE_SIGNAL_STREAMS[name]
    plain = check_chunk_stream(data)
    ignored = check_chunk_stream(data, ignore=["OAS014"])
    assert (ignored.profile.name, ignored.profile_reason) == (
        plain.profile.name,
        plain.profile_reason,
    )
