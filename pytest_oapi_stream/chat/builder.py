"""Build scripted chat-completion streams: chunk lists, SSE events and non-stream completions.

Pure functions, no I/O, no pytest: ``oapi_server`` serves what these build, and tests can call them
directly. The default output follows OpenAI's recorded streams (corpus ``openai__*.sse``) and
passes the strict ``openai`` profile. ``as_provider`` reshapes the same script the way one
provider's real streams look; the deviations per provider are DATA (``PROVIDER_STYLES``), each
with the corpus file or research source that shows it.

A *script* is a list of items: a ``dict`` is one JSON chunk (``data: {...}``), ``Comment`` is an SSE
comment line, ``RawEvent`` is an already framed SSE event (e.g. ``event: error``), ``DONE`` is the
``data: [DONE]`` terminator.
"""

from __future__ import annotations

import json
import random
import re
import string
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

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


# --------------------------------------------------------------------------- script items


@dataclass(frozen=True)
class Comment:
    """An SSE comment event, encoded as ``: text`` + blank line (keep-alives, processing notes)."""

    text: str


@dataclass(frozen=True)
class RawEvent:
    """An SSE event written verbatim (it must end with its blank line), e.g. ``event: error``."""

    text: str


@dataclass(frozen=True)
class Done:
    """The ``data: [DONE]`` terminator (use the ``DONE`` singleton)."""


DONE: Final = Done()

Item: TypeAlias = dict[str, Any] | Comment | RawEvent | Done


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def encode_event(item: Item) -> bytes:
    """One item as the bytes of one SSE event, LF line endings, blank line included."""
    if isinstance(item, dict):
        return b"data: " + _dumps(item).encode() + b"\n\n"
    if isinstance(item, Done):
        return b"data: [DONE]\n\n"
    if isinstance(item, Comment):
        return b"".join(b": " + line.encode() + b"\n" for line in item.text.split("\n")) + b"\n"
    return item.text.encode()


def encode_items(items: Iterable[Item]) -> list[bytes]:
    """Every item as its own SSE event (the server writes each one separately)."""
    return [encode_event(item) for item in items]


_EVENT_END = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")


def split_events(data: bytes) -> list[bytes]:
    """Cut an SSE body into events, each keeping its own bytes up to and including its blank line.

    Joining the result gives ``data`` back exactly; a trailing piece without a blank line is kept.
    """
    out: list[bytes] = []
    start = 0
    for m in _EVENT_END.finditer(data):
        out.append(data[start : m.end()])
        start = m.end()
    if start < len(data):
        out.append(data[start:])
    return out


_LINE_SPLIT = re.compile(r"\r\n|\r|\n")


def items_from_sse(data: bytes | str) -> list[Item]:
    """Parse an SSE body into items so chunk-level faults can edit it.

    A lone ``data:`` line holding a JSON object becomes a dict (re-encoded compactly later),
    ``[DONE]`` becomes ``DONE``, comment-only events become ``Comment``; anything else
    (``event:`` lines, multi-line data, invalid JSON) is kept verbatim as ``RawEvent``.
    """
    raw = data if isinstance(data, bytes) else data.encode()
    items: list[Item] = []
    for ev in split_events(raw):
        text = ev.decode("utf-8", errors="surrogateescape")
        lines = [ln for ln in _LINE_SPLIT.split(text) if ln != ""]
        if not lines:
            continue
        if all(ln.startswith(":") for ln in lines):
            text_lines = (ln[2:] if ln.startswith(": ") else ln[1:] for ln in lines)
            items.append(Comment("\n".join(text_lines)))
            continue
        if len(lines) == 1 and lines[0].startswith("data:"):
            payload = lines[0][5:]
            payload = payload[1:] if payload.startswith(" ") else payload
            if payload == "[DONE]":
                items.append(DONE)
                continue
            try:
                obj = json.loads(payload)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                items.append(obj)
                continue
        if not text.endswith(("\n\n", "\r\r", "\r\n\r\n")):
            text += "\n\n"
        items.append(RawEvent(text))
    return items


def error_payload(
    message: str = "The server had an error while processing your request. Sorry about that!",
    type: str = "server_error",
    code: str | int | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    """An OpenAI-style ``{"error": {...}}`` payload, as OpenAI sends one mid-stream (OAS038)."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


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


# --------------------------------------------------------------------------- provider styles


@dataclass(frozen=True)
class Deviation:
    """One way a provider's stream differs from OpenAI's: an operation name, its parameters,
    and the evidence (a corpus file under ``tests/data/corpus`` or a research source key)."""

    op: str
    evidence: str
    params: Mapping[str, Any] = field(default_factory=dict)


def _d(op: str, evidence: str, **params: Any) -> Deviation:
    return Deviation(op, evidence, params)


@dataclass(frozen=True)
class ProviderStyle:
    """How one provider's streams look: default model, id format and the deviations to apply."""

    name: str
    model: str
    #: One of the formats of ``_ID_FORMATS``.
    id_format: str = "openai"
    #: ``system_fingerprint`` on every chunk; ``None`` leaves the key out (deviations may move it).
    system_fingerprint: str | None = "fp_b40fb1c6fb"
    deviations: tuple[Deviation, ...] = ()


#: Usage reference inside usage-field templates: the value of another usage field.
@dataclass(frozen=True)
class Ref:
    """A usage-field template value that copies another usage field (e.g. ``prompt_tokens``)."""

    field: str


_AZURE_SAFE = {
    "hate": {"filtered": False, "severity": "safe"},
    "self_harm": {"filtered": False, "severity": "safe"},
    "sexual": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": False, "severity": "safe"},
}
_AZURE_PROLOGUE = {
    "choices": [],
    "created": 0,
    "id": "",
    "model": "",
    "object": "",
    "prompt_filter_results": [
        {
            "prompt_index": 0,
            "content_filter_results": {
                **_AZURE_SAFE,
                "jailbreak": {"filtered": False, "detected": False},
            },
        }
    ],
}
_ALL = ("role", "reasoning", "content", "refusal", "tool_first", "tool_args", "finish")
_NOT_ROLE = ("reasoning", "content", "refusal", "tool_first", "tool_args", "finish")
_TEXTUAL = ("content", "refusal")

#: Per built-in profile name, how that provider's streams deviate from OpenAI's, in the order the
#: deviations are applied. ``openai``, ``anthropic`` and ``lenient`` conform.
PROVIDER_STYLES: Mapping[str, ProviderStyle] = {
    "openai": ProviderStyle("openai", "gpt-4o-mini"),
    "azure": ProviderStyle(
        "azure",
        "gpt-4o-2024-08-06",
        system_fingerprint="fp_ee1d74bde0",
        deviations=(
            # First chunk: choices [], created 0, empty id/model/object, prompt_filter_results.
            _d("prologue", "azure__gpt-4o_prompt-filter-first_2025.sse", chunk=_AZURE_PROLOGUE),
            # content_filter_results on every choice: {} on the role/finish chunks, the four
            # categories on text chunks.
            _d(
                "choice_fields",
                "azure__gpt-5-nano_model-router.sse",
                kinds=("role", "finish", "tool_first", "tool_args", "reasoning"),
                fields={"content_filter_results": {}},
            ),
            _d(
                "choice_fields",
                "azure__gpt-5-nano_model-router.sse",
                kinds=_TEXTUAL,
                fields={"content_filter_results": _AZURE_SAFE},
            ),
        ),
    ),
    "deepseek": ProviderStyle(
        "deepseek",
        "deepseek-chat",
        id_format="uuid",
        system_fingerprint="fp_a49d71b8a1",
        deviations=(
            # `: keep-alive` while the request is queued [ds-rate] (documented, no recording).
            _d("comments", "[ds-rate]", text="keep-alive", before_first=2),
            # reasoning deltas carry "content": null, answer deltas "reasoning_content": null.
            _d(
                "delta_fields",
                "deepseek__deepseek-reasoner_reasoning-content.sse",
                kinds=("reasoning",),
                fields={"content": None},
            ),
            _d(
                "delta_fields",
                "deepseek__deepseek-reasoner_reasoning-content.sse",
                kinds=("content", "finish"),
                fields={"reasoning_content": None},
                only_with_reasoning=True,
            ),
            # role "assistant" in every delta, "role": null and content "" on the finish chunk.
            _d(
                "delta_fields",
                "seed deepseek-chat__hello.sse",
                kinds=("reasoning", "content", "tool_first", "tool_args"),
                fields={"role": "assistant"},
            ),
            _d(
                "delta_fields",
                "seed deepseek-chat__hello.sse",
                kinds=("finish",),
                fields={"content": "", "role": None},
            ),
            # usage on the finish chunk, never a choices:[] chunk; cache hit/miss extension.
            _d("usage_on_finish", "deepseek__deepseek-reasoner_reasoning-content.sse"),
            _d(
                "usage_fields",
                "deepseek__deepseek-reasoner_tool-call-reasoning.sse",
                fields={
                    "prompt_cache_hit_tokens": 0,
                    "prompt_cache_miss_tokens": Ref("prompt_tokens"),
                },
            ),
            # "usage": null on every chunk without usage.
            _d(
                "chunk_fields",
                "deepseek__deepseek-reasoner_reasoning-content.sse",
                kinds=_ALL,
                fields={"usage": None},
            ),
        ),
    ),
    "qwen": ProviderStyle(
        "qwen",
        "qwen-plus",
        id_format="chatcmpl-uuid",
        system_fingerprint=None,
        deviations=(
            # Explicit nulls in every delta; role null after the first one.
            _d(
                "delta_fields",
                "seed qwen-plus__include-usage.sse",
                kinds=_ALL,
                fields={"function_call": None, "refusal": None, "tool_calls": None},
            ),
            _d(
                "delta_fields",
                "seed qwen-plus__include-usage.sse",
                kinds=_NOT_ROLE,
                fields={"role": None},
            ),
            _d(
                "delta_fields",
                "dashscope__qwen3-max_reasoning.sse",
                kinds=("reasoning",),
                fields={"content": None},
            ),
            _d(
                "delta_fields",
                "dashscope__qwen3-max_reasoning.sse",
                kinds=("content", "finish"),
                fields={"reasoning_content": None},
                only_with_reasoning=True,
            ),
            # The finish chunk carries content "".
            _d(
                "delta_fields",
                "dashscope__qwen3-max_text.sse",
                kinds=("finish",),
                fields={"content": ""},
            ),
            # service_tier/system_fingerprint/usage null on every chunk; separate usage chunk.
            _d(
                "chunk_fields",
                "seed qwen-plus__include-usage.sse",
                kinds=(*_ALL, "usage"),
                fields={"service_tier": None, "system_fingerprint": None},
            ),
            _d(
                "chunk_fields",
                "seed qwen-plus__include-usage.sse",
                kinds=_ALL,
                fields={"usage": None},
            ),
            _d(
                "usage_fields",
                "seed qwen-plus__include-usage.sse",
                fields={
                    "completion_tokens_details": None,
                    "prompt_tokens_details": {"audio_tokens": None, "cached_tokens": 0},
                },
                replace=True,
            ),
        ),
    ),
    "groq": ProviderStyle(
        "groq",
        "llama-3.3-70b-versatile",
        id_format="chatcmpl-uuid",
        system_fingerprint="fp_f8b414701e",
        deviations=(
            _d(
                "delta_drop",
                "groq__kimi-k2_usage-twice.sse",
                kinds=("role",),
                keys=("refusal",),
            ),
            # Whole tool call (id, name, complete arguments) in one fragment.
            _d("whole_tool_calls", "groq__llama-3.3-70b_tool-call-single-chunk.sse"),
            # x_groq {id, seed} on the first chunk; x_groq {id, usage} and top-level usage with
            # timing fields on the finish chunk, include_usage or not; the include_usage chunk
            # repeats the usage and adds service_tier "on_demand".
            _d("x_groq", "groq__kimi-k2_usage-twice.sse"),
            _d(
                "reasoning_field",
                "groq__gpt-oss-120b_event-error-tool-validation.sse",
                name="reasoning",
            ),
        ),
    ),
    "openrouter": ProviderStyle(
        "openrouter",
        "anthropic/claude-sonnet-4.5",
        id_format="openrouter",
        system_fingerprint=None,
        deviations=(
            _d(
                "comments",
                "openrouter__claude-sonnet-4.6_processing-comments.sse",
                text="OPENROUTER PROCESSING",
                before_first=3,
            ),
            _d(
                "chunk_fields",
                "openrouter__claude-sonnet-4.6_processing-comments.sse",
                kinds=(*_ALL, "usage"),
                fields={"provider": "Amazon Bedrock"},
            ),
            _d(
                "reasoning_field",
                "openrouter__claude-sonnet-4.5_reasoning-details.sse",
                name="reasoning",
            ),
            _d("reasoning_details", "openrouter__claude-sonnet-4.5_reasoning-details.sse"),
            # role "assistant" on every delta, content "" on the finish chunk.
            _d(
                "delta_fields",
                "openrouter__claude-sonnet-4.6_processing-comments.sse",
                kinds=_NOT_ROLE,
                fields={"role": "assistant"},
            ),
            _d(
                "delta_fields",
                "openrouter__claude-sonnet-4.6_processing-comments.sse",
                kinds=("finish",),
                fields={"content": ""},
            ),
            _d("native_finish_reason", "openrouter__claude-sonnet-4.6_processing-comments.sse"),
            _d(
                "remove_choice_keys",
                "openrouter__claude-sonnet-4.6_processing-comments.sse",
                keys=("logprobs",),
            ),
            # Usage always included [or-sdk-streamopts], with cost fields.
            _d("usage_always", "[or-sdk-streamopts]"),
            _d(
                "usage_fields",
                "openrouter__claude-sonnet-4.6_processing-comments.sse",
                fields={"cost": 0.000837, "is_byok": False},
            ),
        ),
    ),
    "mistral": ProviderStyle(
        "mistral",
        "mistral-small-latest",
        id_format="hex32",
        system_fingerprint=None,
        deviations=(
            # First delta {"role": "assistant", "content": ""}, no refusal key.
            _d(
                "delta_drop",
                "mistral__mistral-large_finish-length.sse",
                kinds=("role",),
                keys=("refusal",),
            ),
            # No logprobs key on choices, no system_fingerprint.
            _d(
                "remove_choice_keys", "mistral__mistral-large_finish-length.sse", keys=("logprobs",)
            ),
            # Whole tool call in one fragment, without index and type.
            _d("whole_tool_calls", "mistral__mistral-small_tool-call-no-index.sse"),
            _d(
                "tool_call_keys",
                "mistral__mistral-small_tool-call-no-index.sse",
                remove=("index", "type"),
            ),
            # The last content (or tool call) shares the chunk with finish_reason and usage,
            # and usage is sent without include_usage.
            _d("finish_with_last_piece", "mistral__mistral-large_finish-length.sse"),
            _d("usage_always", "mistral__mistral-large_finish-length.sse"),
            _d("usage_on_finish", "mistral__mistral-large_finish-length.sse"),
            # Padding field "p" (random-length string) on every chunk but the first.
            _d("padding", "mistral__mistral-small_p-padding-field.sse", name="p", kinds=_NOT_ROLE),
        ),
    ),
    "gemini": ProviderStyle(
        "gemini",
        "gemini-2.5-flash",
        system_fingerprint=None,
        deviations=(
            # Tool-call fragments without index [openmaic#1556] [py#2806]; the call is whole.
            _d("whole_tool_calls", "[openmaic#1556]"),
            _d("tool_call_keys", "[openmaic#1556] [py#2806]", remove=("index",)),
        ),
    ),
    "xai": ProviderStyle(
        "xai",
        "grok-3-mini",
        id_format="uuid",
        system_fingerprint="fp_2a885414fb",
        deviations=(
            # The finish_reason key is absent from every choice but the finishing one.
            _d(
                "remove_choice_keys",
                "xai__grok-3-mini_reasoning-content.sse",
                keys=("finish_reason", "logprobs"),
                only_null=("finish_reason",),
            ),
            # created moves on during the stream.
            _d("created_drift", "xai__grok-3-mini_reasoning-content.sse", every=40),
            # Each tool call complete in one fragment.
            _d("whole_tool_calls", "xai__grok-4-fast_parallel-tool-calls.sse"),
            # Reasoning tokens count in total_tokens but not in completion_tokens; extras.
            _d("reasoning_outside_completion", "xai__grok-3-mini_reasoning-content.sse"),
            _d(
                "usage_fields",
                "xai__grok-3-mini_reasoning-content.sse",
                fields={"num_sources_used": 0, "cost_in_usd_ticks": 1721250},
            ),
        ),
    ),
    "vllm": ProviderStyle(
        "vllm",
        "meta-llama/Llama-3.3-70B-Instruct",
        id_format="vllm",
        system_fingerprint=None,
        deviations=(
            _d("reasoning_field", "vllm__qwen_named-tool-finish-stop.sse", name="reasoning"),
            _d(
                "delta_drop",
                "vllm-crusoe__llama-3.3-70b_prompt-token-ids.sse",
                kinds=("role",),
                keys=("refusal",),
            ),
            _d(
                "chunk_fields",
                "vllm-crusoe__llama-3.3-70b_prompt-token-ids.sse",
                kinds=("first",),
                fields={"prompt_token_ids": None, "prompt_text": None},
            ),
            _d(
                "choice_fields",
                "vllm-crusoe__llama-3.3-70b_prompt-token-ids.sse",
                kinds=_NOT_ROLE,
                fields={"token_ids": None},
            ),
            _d(
                "choice_fields",
                "vllm-crusoe__llama-3.3-70b_prompt-token-ids.sse",
                kinds=("finish",),
                fields={"stop_reason": None},
            ),
            # system_fingerprint only on the terminal chunk.
            _d(
                "fingerprint_last",
                "vllm-crusoe__llama-3.3-70b_prompt-token-ids.sse",
                value="vllm-0.24.0-tp4-6d31f84d",
            ),
        ),
    ),
    "llamacpp": ProviderStyle(
        "llamacpp",
        "openai/gpt-oss-20b",
        id_format="llamacpp",
        system_fingerprint="b7010-c27efd2bd",
        deviations=(
            # First delta: role with content null.
            _d(
                "delta_fields",
                "llamacpp__gpt-oss-20b_tool-call-timings.sse",
                kinds=("role",),
                fields={"content": None},
                replace=True,
            ),
            _d(
                "delta_drop",
                "llamacpp__gpt-oss-20b_tool-call-timings.sse",
                kinds=("role",),
                keys=("refusal",),
            ),
            _d(
                "remove_choice_keys",
                "llamacpp__gpt-oss-20b_tool-call-timings.sse",
                keys=("logprobs",),
            ),
            # created = time(0) per chunk [llama-task].
            _d("created_drift", "[llama-task]", every=25),
            # Usage on by default in a final choices:[] chunk that also carries timings.
            _d("usage_always", "[llama#15444]"),
            _d(
                "chunk_fields",
                "llamacpp__gpt-oss-20b_tool-call-timings.sse",
                kinds=("usage",),
                fields={
                    "timings": {
                        "cache_n": 0,
                        "prompt_n": 12,
                        "prompt_ms": 8.691,
                        "prompt_per_token_ms": 0.72425,
                        "prompt_per_second": 1380.75,
                        "predicted_n": 9,
                        "predicted_ms": 74.477,
                        "predicted_per_token_ms": 8.27522,
                        "predicted_per_second": 120.84,
                    }
                },
            ),
        ),
    ),
    "ollama": ProviderStyle(
        "ollama",
        "llama3.2",
        id_format="ollama",
        system_fingerprint="fp_ollama",
        deviations=(
            _d("reasoning_field", "[ollama-openai]", name="reasoning"),
            # role "assistant" and content (often "") in every delta [ollama-openai].
            _d(
                "delta_fields",
                "[ollama-openai]",
                kinds=_ALL,
                fields={"role": "assistant", "content": ""},
            ),
            # Tool calls delivered whole in one chunk [ollama-openai].
            _d("whole_tool_calls", "[ollama-openai]"),
        ),
    ),
    "anthropic": ProviderStyle("anthropic", "claude-sonnet-4-5", system_fingerprint=None),
    "lenient": ProviderStyle("lenient", "gpt-4o-mini"),
}


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


# --------------------------------------------------------------------------- building


@dataclass
class _Ev:
    """A script event while building: its kind, choice index and chunk (or comment)."""

    kind: str
    choice: int | None = None
    chunk: dict[str, Any] | None = None
    comment: str | None = None


@dataclass
class _Ctx:
    """What deviations need to know about the stream being built."""

    has_reasoning: bool
    include_usage: bool
    usage: dict[str, Any]
    rng: random.Random
    created: int
    chunk_id: str


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
    style = _style(as_provider)
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
    per_choice: list[list[_Ev]] = []
    for i in range(n_choices):
        evs: list[_Ev] = []
        first: dict[str, Any] = {"role": "assistant"}
        if refusal_pieces:
            first.update(content=None, refusal="")
        elif text_pieces or reasoning_pieces or not calls:
            first.update(content="", refusal=None)
        else:
            first["content"] = None
        evs.append(_Ev("role", i, chunk([choice(i, first)])))
        evs += [
            _Ev("reasoning", i, chunk([choice(i, {"reasoning_content": p})]))
            for p in reasoning_pieces
        ]
        evs += [_Ev("content", i, chunk([choice(i, {"content": p})])) for p in text_pieces]
        evs += [_Ev("refusal", i, chunk([choice(i, {"refusal": p})])) for p in refusal_pieces]
        for j, (call_id, name, args) in enumerate(calls):
            opening = {
                "index": j,
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            evs.append(_Ev("tool_first", i, chunk([choice(i, {"tool_calls": [opening]})])))
            for frag in split_pieces(args, json_like=True):
                tc = {"index": j, "function": {"arguments": frag}}
                evs.append(_Ev("tool_args", i, chunk([choice(i, {"tool_calls": [tc]})])))
        per_choice.append(evs)

    events: list[_Ev] = []
    longest = max(len(e) for e in per_choice)
    for k in range(longest):
        events += [evs[k] for evs in per_choice if k < len(evs)]
    events += [_Ev("finish", i, chunk([choice(i, {}, finish)])) for i in range(n_choices)]

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
        events.append(_Ev("usage", None, u))

    ctx = _Ctx(
        has_reasoning=bool(reasoning_pieces),
        include_usage=include_usage,
        usage=usage_obj,
        rng=rng,
        created=created_at,
        chunk_id=chunk_id,
    )
    for dev in style.deviations:
        _OPS[dev.op](events, ctx, **dict(dev.params))

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


def _style(name: str | None) -> ProviderStyle:
    if name is None:
        return PROVIDER_STYLES["openai"]
    try:
        return PROVIDER_STYLES[name]
    except KeyError:
        raise ValueError(
            f"unknown as_provider {name!r}; choose one of: {', '.join(PROVIDER_STYLES)}"
        ) from None


# --------------------------------------------------------------------------- deviation ops


def _choices_of(ev: _Ev) -> list[dict[str, Any]]:
    if ev.chunk is None:
        return []
    choices = ev.chunk.get("choices")
    return choices if isinstance(choices, list) else []


def _selected(events: list[_Ev], kinds: Sequence[str]) -> list[_Ev]:
    chunks = [e for e in events if e.chunk is not None and e.kind != "prologue"]
    out = [e for e in chunks if e.kind in kinds]
    if "first" in kinds and chunks and chunks[0] not in out:
        out.insert(0, chunks[0])
    if "last" in kinds and chunks and chunks[-1] not in out:
        out.append(chunks[-1])
    return out


def _op_prologue(events: list[_Ev], ctx: _Ctx, *, chunk: Mapping[str, Any]) -> None:
    events.insert(0, _Ev("prologue", None, json.loads(_dumps(chunk))))


def _op_choice_fields(
    events: list[_Ev], ctx: _Ctx, *, kinds: Sequence[str], fields: Mapping[str, Any]
) -> None:
    for ev in _selected(events, kinds):
        for ch in _choices_of(ev):
            for k, v in fields.items():
                ch.setdefault(k, json.loads(_dumps(v)))


def _op_delta_fields(
    events: list[_Ev],
    ctx: _Ctx,
    *,
    kinds: Sequence[str],
    fields: Mapping[str, Any],
    only_with_reasoning: bool = False,
    replace: bool = False,
) -> None:
    if only_with_reasoning and not ctx.has_reasoning:
        return
    for ev in _selected(events, kinds):
        for ch in _choices_of(ev):
            delta = ch.get("delta")
            if isinstance(delta, dict):
                for k, v in fields.items():
                    if replace:
                        delta[k] = v
                    else:
                        delta.setdefault(k, v)


def _op_delta_drop(
    events: list[_Ev], ctx: _Ctx, *, kinds: Sequence[str], keys: Sequence[str]
) -> None:
    for ev in _selected(events, kinds):
        for ch in _choices_of(ev):
            delta = ch.get("delta")
            if isinstance(delta, dict):
                for k in keys:
                    delta.pop(k, None)


def _op_chunk_fields(
    events: list[_Ev], ctx: _Ctx, *, kinds: Sequence[str], fields: Mapping[str, Any]
) -> None:
    for ev in _selected(events, kinds):
        assert ev.chunk is not None
        for k, v in fields.items():
            ev.chunk.setdefault(k, json.loads(_dumps(v)))


def _op_comments(events: list[_Ev], ctx: _Ctx, *, text: str, before_first: int) -> None:
    for _ in range(before_first):
        events.insert(0, _Ev("comment", None, comment=text))


def _op_reasoning_field(events: list[_Ev], ctx: _Ctx, *, name: str) -> None:
    for ev in events:
        for ch in _choices_of(ev):
            delta = ch.get("delta")
            if isinstance(delta, dict) and "reasoning_content" in delta:
                delta[name] = delta.pop("reasoning_content")


def _op_reasoning_details(events: list[_Ev], ctx: _Ctx) -> None:
    """OpenRouter repeats each reasoning delta as a ``reasoning_details`` entry."""
    for ev in events:
        for ch in _choices_of(ev):
            delta = ch.get("delta")
            if isinstance(delta, dict) and isinstance(delta.get("reasoning"), str):
                delta["reasoning_details"] = [
                    {
                        "type": "reasoning.text",
                        "text": delta["reasoning"],
                        "format": "unknown",
                        "index": 0,
                    }
                ]


def _op_native_finish_reason(events: list[_Ev], ctx: _Ctx) -> None:
    for ev in events:
        for ch in _choices_of(ev):
            ch["native_finish_reason"] = ch.get("finish_reason")


def _op_remove_choice_keys(
    events: list[_Ev], ctx: _Ctx, *, keys: Sequence[str], only_null: Sequence[str] = ()
) -> None:
    for ev in events:
        for ch in _choices_of(ev):
            for k in keys:
                if k in only_null and ch.get(k) is not None:
                    continue
                ch.pop(k, None)


def _usage_events(events: list[_Ev]) -> list[_Ev]:
    return [e for e in events if e.kind == "usage"]


def _op_usage_always(events: list[_Ev], ctx: _Ctx) -> None:
    if _usage_events(events):
        return
    template = next(e.chunk for e in events if e.chunk is not None and e.kind != "prologue")
    u = {k: v for k, v in template.items() if k != "choices"}
    u["choices"] = []
    u["usage"] = ctx.usage
    events.append(_Ev("usage", None, u))


def _op_usage_on_finish(events: list[_Ev], ctx: _Ctx) -> None:
    """Move the usage of the ``choices: []`` chunk onto the last finish chunk."""
    for ev in _usage_events(events):
        events.remove(ev)
        last_finish = [e for e in events if e.kind == "finish"][-1]
        assert last_finish.chunk is not None
        last_finish.chunk["usage"] = ev.chunk["usage"] if ev.chunk else ctx.usage


def _op_usage_fields(
    events: list[_Ev], ctx: _Ctx, *, fields: Mapping[str, Any], replace: bool = False
) -> None:
    usage = ctx.usage
    for k, v in fields.items():
        value = usage.get(v.field) if isinstance(v, Ref) else v
        if replace or k not in usage:
            usage[k] = value


def _op_reasoning_outside_completion(events: list[_Ev], ctx: _Ctx) -> None:
    details = ctx.usage.get("completion_tokens_details") or {}
    reasoning = details.get("reasoning_tokens") or 0
    ctx.usage["completion_tokens"] -= reasoning


def _op_whole_tool_calls(events: list[_Ev], ctx: _Ctx) -> None:
    """Join each call's argument fragments into its opening fragment."""
    openings: dict[tuple[int | None, int], dict[str, Any]] = {}
    keep: list[_Ev] = []
    for ev in events:
        if ev.kind in ("tool_first", "tool_args"):
            tc = _choices_of(ev)[0]["delta"]["tool_calls"][0]
            key = (ev.choice, tc["index"])
            if ev.kind == "tool_first":
                openings[key] = tc
                keep.append(ev)
            else:
                openings[key]["function"]["arguments"] += tc["function"]["arguments"]
            continue
        keep.append(ev)
    events[:] = keep


def _op_tool_call_keys(events: list[_Ev], ctx: _Ctx, *, remove: Sequence[str]) -> None:
    for ev in events:
        if ev.kind not in ("tool_first", "tool_args"):
            continue
        for ch in _choices_of(ev):
            for tc in ch["delta"].get("tool_calls") or ():
                for k in remove:
                    tc.pop(k, None)


_PIECE_KINDS = ("content", "refusal", "tool_first", "tool_args")


def _op_finish_with_last_piece(events: list[_Ev], ctx: _Ctx) -> None:
    """Merge each choice's last delta into its finish chunk (Mistral's last chunk)."""
    for fin in [e for e in events if e.kind == "finish"]:
        before = [e for e in events if e.choice == fin.choice and e.kind in _PIECE_KINDS]
        if not before:
            continue
        last = before[-1]
        fin_choice = _choices_of(fin)[0]
        fin_choice["delta"] = {**_choices_of(last)[0]["delta"], **fin_choice["delta"]}
        events.remove(last)


def _op_padding(events: list[_Ev], ctx: _Ctx, *, name: str, kinds: Sequence[str]) -> None:
    alphabet = string.ascii_lowercase + string.digits
    for ev in _selected(events, kinds):
        assert ev.chunk is not None
        ev.chunk[name] = alphabet[: ctx.rng.randrange(1, len(alphabet))]


def _op_created_drift(events: list[_Ev], ctx: _Ctx, *, every: int) -> None:
    for k, ev in enumerate(e for e in events if e.chunk is not None and e.kind != "prologue"):
        assert ev.chunk is not None
        ev.chunk["created"] = ctx.created + k // every


def _op_fingerprint_last(events: list[_Ev], ctx: _Ctx, *, value: str) -> None:
    chunks = [e for e in events if e.chunk is not None and e.kind != "prologue"]
    for ev in chunks:
        assert ev.chunk is not None
        ev.chunk.pop("system_fingerprint", None)
    assert chunks[-1].chunk is not None
    chunks[-1].chunk["system_fingerprint"] = value


def _op_x_groq(events: list[_Ev], ctx: _Ctx) -> None:
    req_id = "req_" + "".join(
        ctx.rng.choice(string.ascii_lowercase + string.digits) for _ in range(26)
    )
    chunks = [e for e in events if e.chunk is not None]
    assert chunks[0].chunk is not None
    chunks[0].chunk["x_groq"] = {"id": req_id, "seed": ctx.rng.randrange(2**31)}
    groq_usage = {
        "queue_time": 0.041520249,
        "prompt_tokens": ctx.usage["prompt_tokens"],
        "prompt_time": 0.010407901,
        "completion_tokens": ctx.usage["completion_tokens"],
        "completion_time": 0.046601227,
        "total_tokens": ctx.usage["total_tokens"],
        "total_time": 0.057009128,
    }
    last_finish = [e for e in events if e.kind == "finish"][-1]
    assert last_finish.chunk is not None
    last_finish.chunk["x_groq"] = {"id": req_id, "usage": dict(groq_usage)}
    last_finish.chunk["usage"] = dict(groq_usage)
    for ev in _usage_events(events):
        assert ev.chunk is not None
        ev.chunk["usage"] = dict(groq_usage)
        ev.chunk["service_tier"] = "on_demand"


_Op = Callable[..., None]
_OPS: Mapping[str, _Op] = {
    "prologue": _op_prologue,
    "choice_fields": _op_choice_fields,
    "delta_fields": _op_delta_fields,
    "delta_drop": _op_delta_drop,
    "chunk_fields": _op_chunk_fields,
    "comments": _op_comments,
    "reasoning_field": _op_reasoning_field,
    "reasoning_details": _op_reasoning_details,
    "native_finish_reason": _op_native_finish_reason,
    "remove_choice_keys": _op_remove_choice_keys,
    "usage_always": _op_usage_always,
    "usage_on_finish": _op_usage_on_finish,
    "usage_fields": _op_usage_fields,
    "reasoning_outside_completion": _op_reasoning_outside_completion,
    "whole_tool_calls": _op_whole_tool_calls,
    "tool_call_keys": _op_tool_call_keys,
    "finish_with_last_piece": _op_finish_with_last_piece,
    "padding": _op_padding,
    "created_drift": _op_created_drift,
    "fingerprint_last": _op_fingerprint_last,
    "x_groq": _op_x_groq,
}


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
