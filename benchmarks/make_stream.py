#!/usr/bin/env python3
"""Deterministic generators for OpenAI-compatible SSE chat-completion streams.

A copy of the generator behind ``/work/shared/bench/BASELINE.md`` (same bytes, same sha256), kept
here so that ``bench_check.py`` runs from a clean clone.

Three stream kinds, each parameterised by ``n`` = the number of JSON chunks
(``data: {...}`` events), *excluding* the ``data: [DONE]`` terminator and
``: keep-alive`` comments:

* ``text``      gpt-4o-style text stream: first chunk carries ``role: assistant``
                and ``content: ""``; content chunks carry one short token each;
                the finish chunk has ``delta: {}`` + ``finish_reason: "stop"``;
                with ``include_usage`` every chunk has ``"usage": null`` and a
                final usage chunk has ``"choices": []``.
* ``tools``     gpt-4o-style stream with 3 parallel tool calls (index 0, 1, 2,
                emitted one after the other as OpenAI does); each call opens with
                id/type/name/``arguments: ""`` and its JSON arguments then arrive
                in small fragments; ends with ``finish_reason: "tool_calls"`` and
                the usage chunk.
* ``reasoning`` DeepSeek-reasoner-style stream: ``reasoning_content`` deltas,
                then ``content`` deltas, ``: keep-alive`` SSE comments before the
                first chunk and now and then between chunks (as DeepSeek sends
                while a request waits), usage on the finish chunk.

Everything is derived from ``random.Random(seed)``, so the bytes are identical
from run to run (``sha256`` is printed by the CLI and by baseline.py).

OpenAI's current API also adds an ``"obfuscation"`` padding string to every
chunk (``stream_options.include_obfuscation`` defaults to true); it is on by
default here for ``text``/``tools`` and can be switched off.

CLI:  python make_stream.py --out DIR [--sizes 1000 10000 100000] [--kinds text tools reasoning]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import string
import sys
import uuid

KINDS = ("text", "tools", "reasoning")
DEFAULT_SIZES = (1_000, 10_000, 100_000)

CREATED = 1732500000  # fixed "created" timestamp (same for every chunk, as the API does)
OPENAI_MODEL = "gpt-4o-2024-08-06"
DEEPSEEK_MODEL = "deepseek-reasoner"

# Short tokens roughly like what a BPE tokenizer emits: mostly words with a
# leading space, punctuation, newlines, markdown, numbers and some non-ASCII.
_WORDS = (  # noqa: SIM905
    "the of and to in is that for it as with was on be by this are from at or an have not "
    "which but can all one more will also has their its they been data model stream token "
    "value function result test chunk event parse check invariant request response client "
    "server cache latency python pytest plugin schema field type string number object array "
    "null true false error retry timeout buffer decoder encoder payload content delta choice"
).split()
_PUNCT = [
    ".",
    ",",
    ":",
    ";",
    "!",
    "?",
    "(",
    ")",
    "'s",
    "-",
    '"',
    "**",
    "`",
    "```",
    "\n",
    "\n\n",
    " -",
    " 1",
    " 2",
    "0",
    "%",
]
_UNICODE = [
    " café",
    " naïve",
    "—",
    " “quoted”",
    "…",
    " 東京",
    "中文",
    " 🙂",
    " ✅",
    " Größe",
    " π",
    " →",
]
_CONT = ["ing", "ed", "s", "ly", "er", "tion", "ment", "ize", "able"]


def _token(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.70:
        w = rng.choice(_WORDS)
        if rng.random() < 0.08:
            w = w.capitalize()
        return " " + w
    if r < 0.80:
        return rng.choice(_CONT)
    if r < 0.96:
        return rng.choice(_PUNCT)
    return rng.choice(_UNICODE)


_ALNUM = string.ascii_letters + string.digits


def _rand_str(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(_ALNUM, k=n))


def _dumps(obj) -> str:
    # The APIs send compact JSON with raw UTF-8 (no \\uXXXX escaping of non-ASCII).
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _event(obj) -> str:
    return "data: " + _dumps(obj) + "\n\n"


_DONE = "data: [DONE]\n\n"
_KEEPALIVE = ": keep-alive\n\n"


class _OpenAIChunker:
    """Builds gpt-4o-shaped chunk dicts with the API's key order."""

    def __init__(self, rng: random.Random, include_usage: bool, obfuscation: bool):
        self.rng = rng
        self.include_usage = include_usage
        self.obfuscation = obfuscation
        self.id = "chatcmpl-" + _rand_str(rng, 29)
        self.fingerprint = "fp_" + "".join(rng.choices("0123456789abcdef", k=10))

    def chunk(self, choices, usage=None, final_usage=False) -> dict:
        d = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": OPENAI_MODEL,
            "service_tier": "default",
            "system_fingerprint": self.fingerprint,
            "choices": choices,
        }
        if self.include_usage:
            d["usage"] = usage if final_usage else None
        if self.obfuscation:
            d["obfuscation"] = _rand_str(self.rng, self.rng.randint(2, 12))
        return d

    @staticmethod
    def choice(delta: dict, finish_reason=None) -> list:
        return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]

    @staticmethod
    def usage(prompt: int, completion: int, reasoning: int = 0) -> dict:
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }


def text_stream(
    n: int, *, seed: int = 0, include_usage: bool = True, obfuscation: bool = True
) -> bytes:
    """gpt-4o text stream with exactly ``n`` JSON chunks."""
    fixed = 3 if include_usage else 2  # role chunk + finish chunk (+ usage chunk)
    if n < fixed:
        raise ValueError(f"n must be >= {fixed}")
    rng = random.Random(f"text:{seed}")
    c = _OpenAIChunker(rng, include_usage, obfuscation)
    parts = [_event(c.chunk(c.choice({"role": "assistant", "content": "", "refusal": None})))]
    n_content = n - fixed
    for _ in range(n_content):
        parts.append(_event(c.chunk(c.choice({"content": _token(rng)}))))
    parts.append(_event(c.chunk(c.choice({}, "stop"))))
    if include_usage:
        parts.append(_event(c.chunk([], c.usage(37, n_content), final_usage=True)))
    parts.append(_DONE)
    return "".join(parts).encode("utf-8")


_TOOLS = (
    ("get_weather", "location"),
    ("search_documents", "query"),
    ("create_calendar_event", "title"),
)


def _tool_arguments(rng: random.Random, min_len: int, key: str) -> str:
    """A JSON object (compact, as models emit it) whose text is at least ``min_len`` chars."""
    words = []
    obj = {key: " ".join(rng.choice(_WORDS) for _ in range(3)), "unit": "celsius", "notes": words}
    length = len(_dumps(obj))
    while length < min_len:
        w = rng.choice(_WORDS) + ("" if rng.random() < 0.7 else " " + rng.choice(_WORDS))
        words.append(w)
        length += len(w) + 3  # quotes + comma
    return _dumps(obj)


def _fragment(rng: random.Random, s: str, k: int) -> list[str]:
    """Split ``s`` into exactly ``k`` non-empty fragments at random (deterministic) cut points."""
    if k <= 1:
        return [s]
    cuts = sorted(rng.sample(range(1, len(s)), k - 1))
    out, prev = [], 0
    for cut in cuts:
        out.append(s[prev:cut])
        prev = cut
    out.append(s[prev:])
    return out


def tools_stream(
    n: int, *, seed: int = 0, include_usage: bool = True, obfuscation: bool = True, n_calls: int = 3
) -> bytes:
    """gpt-4o stream with ``n_calls`` parallel tool calls, exactly ``n`` JSON chunks."""
    fixed = n_calls + 1 + (1 if include_usage else 0)  # header per call + finish (+ usage)
    n_frag = n - fixed
    if n_frag < n_calls:
        raise ValueError(f"n too small for {n_calls} tool calls")
    rng = random.Random(f"tools:{seed}")
    c = _OpenAIChunker(rng, include_usage, obfuscation)
    per_call = [n_frag // n_calls + (1 if i < n_frag % n_calls else 0) for i in range(n_calls)]
    parts = []
    for i, k in enumerate(per_call):
        name, key = _TOOLS[i % len(_TOOLS)]
        header = {
            "index": i,
            "id": "call_" + _rand_str(rng, 24),
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        if i == 0:
            delta = {"role": "assistant", "content": None, "tool_calls": [header], "refusal": None}
        else:
            delta = {"tool_calls": [header]}
        parts.append(_event(c.chunk(c.choice(delta))))
        # ~4 characters per fragment, like tokenised JSON arguments.
        args = _tool_arguments(rng, 4 * k + 16, key)
        for frag in _fragment(rng, args, k):
            parts.append(
                _event(
                    c.chunk(
                        c.choice({"tool_calls": [{"index": i, "function": {"arguments": frag}}]})
                    )
                )
            )
    parts.append(_event(c.chunk(c.choice({}, "tool_calls"))))
    if include_usage:
        parts.append(_event(c.chunk([], c.usage(212, n_frag), final_usage=True)))
    parts.append(_DONE)
    return "".join(parts).encode("utf-8")


def reasoning_stream(
    n: int,
    *,
    seed: int = 0,
    reasoning_share: float = 0.6,
    keepalive_every: int = 2000,
    leading_keepalives: int = 3,
) -> bytes:
    """DeepSeek-reasoner-style stream: exactly ``n`` JSON chunks (keep-alives not counted)."""
    fixed = 2  # role chunk + finish chunk (which carries usage)
    body = n - fixed
    if body < 2:
        raise ValueError("n must be >= 4")
    rng = random.Random(f"reasoning:{seed}")
    cid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    fp = "fp_" + "".join(rng.choices("0123456789abcdef", k=10)) + "_prod0820"

    def chunk(delta, finish_reason=None, usage=None):
        d = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": DEEPSEEK_MODEL,
            "system_fingerprint": fp,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if usage is not None:
            d["usage"] = usage
        return _event(d)

    n_reason = max(1, int(body * reasoning_share))
    parts = [_KEEPALIVE] * leading_keepalives
    parts.append(chunk({"role": "assistant", "content": None, "reasoning_content": ""}))
    for i in range(body):
        if keepalive_every and i and i % keepalive_every == 0:
            parts.append(_KEEPALIVE)
        if i < n_reason:
            parts.append(chunk({"content": None, "reasoning_content": _token(rng)}))
        else:
            parts.append(chunk({"content": _token(rng), "reasoning_content": None}))
    usage = {
        "prompt_tokens": 19,
        "completion_tokens": body,
        "total_tokens": 19 + body,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": n_reason},
        "prompt_cache_hit_tokens": 0,
        "prompt_cache_miss_tokens": 19,
    }
    parts.append(chunk({"content": "", "reasoning_content": None}, "stop", usage))
    parts.append(_DONE)
    return "".join(parts).encode("utf-8")


GENERATORS = {"text": text_stream, "tools": tools_stream, "reasoning": reasoning_stream}


def make(kind: str, n: int, seed: int = 0) -> bytes:
    return GENERATORS[kind](n, seed=seed)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", required=True, help="directory to write <kind>_<n>.sse files into")
    ap.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    ap.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for kind in args.kinds:
        for n in args.sizes:
            data = make(kind, n, args.seed)
            path = os.path.join(args.out, f"{kind}_{n}.sse")
            with open(path, "wb") as f:
                f.write(data)
            print(f"{path}\t{len(data)} bytes\tsha256={sha256(data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
