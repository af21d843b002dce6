"""Build scripted chat-completion streams: chunk lists, SSE events and non-stream completions.

Pure functions, no I/O, no pytest: ``oapi_server`` serves what these build, and tests can call them
directly. The default output follows OpenAI's recorded streams (corpus ``openai__*.sse``) and
passes the strict ``openai`` profile. ``as_provider`` reshapes the same script the way one
provider's real streams look; the deviations per provider are DATA (``chat.styles``), each with
the corpus file or research source that shows it, applied by ``chat.deviations``.

Script items and their SSE encoding live in ``chat.script``; their names are re-exported here.
"""

from __future__ import annotations

import random
import re
import string
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from .deviations import Ctx, Ev, apply_deviations
from .script import (
    DONE,
    Comment,
    Done,
    Item,
    RawEvent,
    encode_event,
    encode_items,
    error_payload,
    items_from_sse,
    split_events,
)
from .script import dumps as _dumps
from .styles import PROVIDER_STYLES, Deviation, ProviderStyle, get_style

__all__ = [
    "DEFAULT_TEXT",
    "DONE",
    "PROVIDER_STYLES",
    "Comment",
    "Deviation",
    "Done",
    "Item",
    "ProviderStyle",
    "RawEvent",
    "assemble_completion",
    "build_chunks",
    "build_items",
    "build_sse",
    "encode_event",
    "encode_items",
    "error_payload",
    "items_from_sse",
    "split_events",
    "split_pieces",
]

DEFAULT_TEXT: Final = "Hello! How can I help you today?"
#: ``created`` of every built stream unless given: a fixed, plausible Unix time (OAS039).
DEFAULT_CREATED: Final = 1732500000
DEFAULT_MODEL: Final = "gpt-4o-mini"

# --------------------------------------------------------------------------- pieces

_WORDS = re.compile(r"\s*\S+\s*$|\s*\S+|\s+")
_JSON_TOKENS = re.compile(r"\s*[\w.\-]+|\s*[^\w\s]+|\s+")


def split_pieces(text: str, *, json_like: bool = False) -> list[str]:
    """Cut text into token-like deltas (a word with its leading space; trailing space kept)."""
    if not text:
        return []
    pattern = _JSON_TOKENS if json_like else _WORDS
    return [m.group(0) for m in pattern.finditer(text)]


def _pieces(value: str | Sequence[str] | None, *, json_like: bool = False) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return split_pieces(value, json_like=json_like)
    pieces = list(value)
    for p in pieces:
        if not isinstance(p, str):
            raise TypeError(f"text pieces must be strings, got {type(p).__name__}")
    return pieces


# --------------------------------------------------------------------------- ids


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


_ID_FORMATS: Mapping[str, Callable[[random.Random, int], str]] = {
    "openai": lambda r, c: "chatcmpl-" + _alnum(r, 29),
    "uuid": lambda r, c: _uuid(r),
    "chatcmpl-uuid": lambda r, c: "chatcmpl-" + _uuid(r),
    "hex32": lambda r, c: f"{r.getrandbits(128):032x}",
    "openrouter": lambda r, c: f"gen-{c}-{_alnum(r, 20)}",
    "ollama": lambda r, c: f"chatcmpl-{r.randrange(999)}",
    "vllm": lambda r, c: f"chatcmpl-{r.getrandbits(64):016x}",
    "llamacpp": lambda r, c: "chatcmpl-" + _alnum(r, 32),
}


def _tool_call_specs(
    tool_calls: Sequence[Mapping[str, Any]] | None, rng: random.Random
) -> list[tuple[str, str, str]]:
    """Normalise tool calls to (id, name, arguments-json) triples."""
    out: list[tuple[str, str, str]] = []
    for i, call in enumerate(tool_calls or ()):
        if not isinstance(call, Mapping):
            raise TypeError(f"tool_calls[{i}] must be a mapping, got {type(call).__name__}")
        fn = call.get("function")
        spec: Mapping[str, Any] = fn if isinstance(fn, Mapping) else call
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"tool_calls[{i}] needs a non-empty 'name'")
        args = spec.get("arguments", {})
        args_text = args if isinstance(args, str) else _dumps(args)
        call_id = call.get("id") or "call_" + _alnum(rng, 24)
        out.append((str(call_id), name, args_text))
    return out


def _request_flags(request: Mapping[str, Any] | None) -> tuple[bool, int | None, str | None]:
    if not request:
        return False, None, None
    opts = request.get("stream_options")
    include = bool(isinstance(opts, Mapping) and opts.get("include_usage"))
    n = request.get("n")
    model = request.get("model")
    return (
        include,
        n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None,
        model if isinstance(model, str) and model else None,
    )


def _prompt_tokens(request: Mapping[str, Any] | None) -> int:
    """A stable, plausible prompt size: about one token per word of the request's messages."""
    words = 0
    for msg in (request or {}).get("messages") or ():
        content = msg.get("content") if isinstance(msg, Mapping) else None
        if isinstance(content, str):
            words += len(content.split())
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    words += len(part["text"].split())
    return 8 + words if request else 12


def build_items(
    *,
    text: str | Sequence[str] | None = None,
    reasoning: str | Sequence[str] | None = None,
    tool_calls: Sequence[Mapping[str, Any]] | None = None,
    refusal: str | Sequence[str] | None = None,
    usage: bool | None = None,
    n: int | None = None,
    model: str | None = None,
    finish_reason: str | None = None,
    as_provider: str | None = None,
    created: int | None = None,
    seed: int = 0,
    request: Mapping[str, Any] | None = None,
) -> list[Item]:
    """Build one streamed completion as script items, ending with ``DONE``.

    ``text``/``reasoning``/``refusal`` are strings (cut into word-sized deltas) or explicit
    lists of deltas; ``text`` defaults to ``DEFAULT_TEXT`` unless tool calls or a refusal are
    given (``text=""`` streams no content at all). ``tool_calls`` is a list of
    ``{"name", "arguments" (dict or JSON text), "id"?}``. ``usage``, ``n`` and ``model``
    default to what ``request`` (the JSON request body) asks for: usage only with
    ``stream_options.include_usage``, like OpenAI. ``as_provider`` names a built-in
    profile whose deviations to reproduce (``PROVIDER_STYLES``).
    """
    style = get_style(as_provider)
    include_req, n_req, model_req = _request_flags(request)
    include_usage = include_req if usage is None else bool(usage)
    n_choices = n if n is not None else (n_req or 1)
    if not isinstance(n_choices, int) or isinstance(n_choices, bool) or n_choices < 1:
        raise ValueError(f"n must be a positive integer, got {n_choices!r}")
    rng = random.Random(seed)
    created_at = DEFAULT_CREATED if created is None else created
    chunk_id = _ID_FORMATS[style.id_format](rng, created_at)
    model_name = model or model_req or style.model

    if text is None and not tool_calls and refusal is None:
        text = DEFAULT_TEXT
    text_pieces = _pieces(text)
    reasoning_pieces = _pieces(reasoning)
    refusal_pieces = _pieces(refusal)
    calls = _tool_call_specs(tool_calls, rng)
    if refusal_pieces and text_pieces:
        raise ValueError("a choice streams either text or refusal, not both (OAS035)")
    finish = finish_reason or ("tool_calls" if calls else "stop")

    def chunk(choices: list[dict[str, Any]]) -> dict[str, Any]:
        c: dict[str, Any] = {
            "id": chunk_id,
            "object": "chat.completion.chunk",
            "created": created_at,
            "model": model_name,
        }
        if style.system_fingerprint is not None:
            c["system_fingerprint"] = style.system_fingerprint
        c["choices"] = choices
        return c

    def choice(i: int, delta: dict[str, Any], fin: str | None = None) -> dict[str, Any]:
        return {"index": i, "delta": delta, "logprobs": None, "finish_reason": fin}

    # Per choice: the ordered events before its finish chunk (OpenAI interleaves n > 1).
    per_choice: list[list[Ev]] = []
    for i in range(n_choices):
        evs: list[Ev] = []
        first: dict[str, Any] = {"role": "assistant"}
        if refusal_pieces:
            first.update(content=None, refusal="")
        elif text_pieces or reasoning_pieces or not calls:
            first.update(content="", refusal=None)
        else:
            first["content"] = None
        evs.append(Ev("role", i, chunk([choice(i, first)])))
        evs += [
            Ev("reasoning", i, chunk([choice(i, {"reasoning_content": p})]))
            for p in reasoning_pieces
        ]
        evs += [Ev("content", i, chunk([choice(i, {"content": p})])) for p in text_pieces]
        evs += [Ev("refusal", i, chunk([choice(i, {"refusal": p})])) for p in refusal_pieces]
        for j, (call_id, name, args) in enumerate(calls):
            opening = {
                "index": j,
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            evs.append(Ev("tool_first", i, chunk([choice(i, {"tool_calls": [opening]})])))
            for frag in split_pieces(args, json_like=True):
                tc = {"index": j, "function": {"arguments": frag}}
                evs.append(Ev("tool_args", i, chunk([choice(i, {"tool_calls": [tc]})])))
        per_choice.append(evs)

    events: list[Ev] = []
    longest = max(len(e) for e in per_choice)
    for k in range(longest):
        events += [evs[k] for evs in per_choice if k < len(evs)]
    events += [Ev("finish", i, chunk([choice(i, {}, finish)])) for i in range(n_choices)]

    completion = n_choices * (
        len(text_pieces)
        + len(reasoning_pieces)
        + len(refusal_pieces)
        + sum(len(split_pieces(a, json_like=True)) + 1 for _, _, a in calls)
    )
    prompt = _prompt_tokens(request)
    usage_obj: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": n_choices * len(reasoning_pieces),
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    if include_usage:
        u = chunk([])
        u["usage"] = usage_obj
        events.append(Ev("usage", None, u))

    ctx = Ctx(
        has_reasoning=bool(reasoning_pieces),
        include_usage=include_usage,
        usage=usage_obj,
        rng=rng,
        created=created_at,
        chunk_id=chunk_id,
    )
    apply_deviations(events, ctx, style)

    items: list[Item] = []
    for ev in events:
        if ev.comment is not None:
            items.append(Comment(ev.comment))
        elif ev.chunk is not None:
            items.append(ev.chunk)
    items.append(DONE)
    return items


def build_chunks(**kwargs: Any) -> list[dict[str, Any]]:
    """The JSON chunks of ``build_items(**kwargs)`` (no comments, no terminator)."""
    return [it for it in build_items(**kwargs) if isinstance(it, dict)]


def build_sse(**kwargs: Any) -> bytes:
    """The SSE body of ``build_items(**kwargs)``: what ``oapi_server`` sends without faults."""
    return b"".join(encode_items(build_items(**kwargs)))


# --------------------------------------------------------------------------- non-stream


def assemble_completion(items: Iterable[Item]) -> dict[str, Any]:
    """Assemble a non-stream ``chat.completion`` object from a script's chunks.

    What a provider answers to the same request with ``"stream": false``: one message per
    choice (content, refusal, reasoning, tool calls joined), the finish reason and the usage
    (computed from the chunks when the script carries none, as non-stream answers always do).
    """
    head: dict[str, Any] = {}
    usage: dict[str, Any] | None = None
    messages: dict[int, dict[str, Any]] = {}
    finish: dict[int, str | None] = {}
    pieces = 0
    for it in items:
        if not isinstance(it, dict) or ("error" in it and "choices" not in it):
            continue
        if it.get("id") and not head:
            head = {k: it.get(k) for k in ("id", "created", "model", "system_fingerprint")}
        u = it.get("usage")
        if isinstance(u, dict):
            usage = u
        for ch in it.get("choices") or ():
            if not isinstance(ch, dict) or not isinstance(ch.get("index"), int):
                continue
            msg = messages.setdefault(
                ch["index"], {"role": "assistant", "content": None, "refusal": None}
            )
            delta = ch.get("delta") or {}
            for key in ("content", "refusal", "reasoning_content", "reasoning"):
                val = delta.get(key)
                if isinstance(val, str):
                    msg[key] = (msg.get(key) or "") + val
                    pieces += 1
            for tc in delta.get("tool_calls") or ():
                calls = msg.setdefault("tool_calls", [])
                idx = tc.get("index", len(calls) if tc.get("id") else len(calls) - 1)
                while len(calls) <= idx:
                    calls.append(
                        {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
                    )
                call = calls[idx]
                if tc.get("id"):
                    call["id"] = tc["id"]
                fn = tc.get("function") or {}
                if fn.get("name"):
                    call["function"]["name"] = fn["name"]
                if isinstance(fn.get("arguments"), str):
                    call["function"]["arguments"] += fn["arguments"]
                    pieces += 1
            if ch.get("finish_reason"):
                finish[ch["index"]] = ch["finish_reason"]
    if usage is None:
        usage = {"prompt_tokens": 12, "completion_tokens": pieces, "total_tokens": 12 + pieces}
    out: dict[str, Any] = {
        "id": head.get("id") or "chatcmpl-oapistream",
        "object": "chat.completion",
        "created": head.get("created") or DEFAULT_CREATED,
        "model": head.get("model") or DEFAULT_MODEL,
        "choices": [
            {
                "index": i,
                "message": messages[i],
                "logprobs": None,
                "finish_reason": finish.get(i, "stop"),
            }
            for i in sorted(messages)
        ],
        "usage": usage,
    }
    if head.get("system_fingerprint") is not None:
        out["system_fingerprint"] = head["system_fingerprint"]
    return out
