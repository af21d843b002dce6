"""Provider styles of Responses streams as data: how each server's stream differs from OpenAI's.

``RESPONSE_STYLES`` maps a built-in Responses profile name to a ``ResponseStyle``: its default
model, id format, framing (``event:`` lines or not, ``[DONE]`` or not), whether deltas carry
``obfuscation``, how reasoning streams (summary parts, or raw ``reasoning_text`` content parts)
and an ordered list of ``Deviation(op, evidence, params)`` applied to the built events by
``responses.builder``. Every setting that differs from OpenAI names its evidence: a file of
``tests/data/corpus-responses`` or a source key of ``research/responses-invariants.md``.
The ``Deviation`` row is the chat one (``chat.styles``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..chat.styles import Deviation

__all__ = ["RESPONSE_STYLES", "Deviation", "ResponseStyle", "get_response_style"]


def _d(op: str, evidence: str, **params: Any) -> Deviation:
    return Deviation(op, evidence, params)


@dataclass(frozen=True)
class ResponseStyle:
    """How one server's Responses streams look; ``evidence`` backs each non-OpenAI setting."""

    name: str
    model: str
    #: ``openai`` (``resp_`` + 50 hex, item ids sharing its prefix), ``uuid`` (bare UUIDs),
    #: ``xai`` (UUID response id, ``msg_<uuid>`` items), ``openrouter`` (``gen-...``, ``*_tmp_``),
    #: ``short`` (``resp_`` + 48 hex, ``msg_`` + 24 base36: LM Studio).
    id_format: str = "openai"
    #: ``event: <type>`` before each ``data:`` line (api.openai.com does).
    event_names: bool = True
    #: ``data: [DONE]`` after the terminal event.
    done: bool = False
    #: ``obfuscation`` padding on every delta (api.openai.com, Azure).
    obfuscation: bool = True
    #: ``summary``: reasoning as ``reasoning_summary_*`` events (OpenAI, xAI); ``text``: as
    #: ``reasoning_text`` content parts (DeepSeek, LM Studio, OpenRouter, vLLM).
    reasoning: Literal["summary", "text"] = "summary"
    #: Where the settings above that differ from OpenAI come from.
    evidence: str = ""
    deviations: tuple[Deviation, ...] = ()


_OR_FILE = "openrouter__gpt-oss-20b_data-only-done-sentinel.sse"
_LMS_FILE = "lmstudio__glm-4.7-flash_reasoning-function-call-no-arg-deltas.sse"
_XAI_FILE = "xai__grok-4.3_reasoning-summary-text.sse"
_DS_FILE = "deepseek__deepseek-v4-flash_reasoning-function-call.sse"

#: Per built-in Responses profile name, how that server's streams deviate from OpenAI's.
RESPONSE_STYLES: Mapping[str, ResponseStyle] = {
    "openai": ResponseStyle("openai", "gpt-4o-2024-08-06", evidence="openai__gpt-4o_text.sse"),
    "azure": ResponseStyle(
        "azure",
        "gpt-5-mini",
        evidence="azure__gpt-5-mini_reasoning-summary-3-parts.sse",
        deviations=(
            _d(
                "response_fields",
                "azure-foundry__gpt-5-nano_text.sse",
                fields={"content_filters": None},
            ),
        ),
    ),
    "xai": ResponseStyle(
        "xai",
        "grok-4.3",
        id_format="xai",
        obfuscation=False,
        evidence=_XAI_FILE,
        deviations=(
            # sequence_number is the first key of every event
            _d("sequence_first", _XAI_FILE),
            # usage extras on the terminal snapshot
            _d(
                "usage_fields",
                _XAI_FILE,
                fields={
                    "num_sources_used": 0,
                    "num_server_side_tools_used": 0,
                    "cost_in_usd_ticks": 5143500,
                },
            ),
            # reasoning items carry status (OpenAI's never do)
            _d("item_status", _XAI_FILE, item_type="reasoning"),
        ),
    ),
    "deepseek": ResponseStyle(
        "deepseek",
        "deepseek-v4-flash",
        id_format="uuid",
        obfuscation=False,
        reasoning="text",
        evidence=_DS_FILE,
        deviations=(
            _d("response_fields", _DS_FILE, fields={"content_filters": None}),
            _d("item_status", _DS_FILE, item_type="reasoning"),
            # message items with phase "final_answer"
            _d(
                "item_fields",
                "deepseek__deepseek-v4-flash_reasoning-text.sse",
                item_type="message",
                fields={"phase": "final_answer"},
            ),
        ),
    ),
    "openrouter": ResponseStyle(
        "openrouter",
        "openai/gpt-oss-20b",
        id_format="openrouter",
        event_names=False,
        done=True,
        obfuscation=False,
        reasoning="text",
        evidence=_OR_FILE,
        deviations=(
            _d("comments", _OR_FILE, text="OPENROUTER PROCESSING", before_first=1),
            _d("response_fields", _OR_FILE, fields={"output_text": ""}),
            _d("usage_fields", _OR_FILE, fields={"cost": 1.13e-05, "is_byok": False}),
        ),
    ),
    "lmstudio": ResponseStyle(
        "lmstudio",
        "zai-org/glm-4.7-flash",
        id_format="short",
        obfuscation=False,
        reasoning="text",
        evidence=_LMS_FILE,
        deviations=(
            # function calls: no argument deltas, only function_call_arguments.done
            _d("drop_events", _LMS_FILE, types=("response.function_call_arguments.delta",)),
            _d("item_status", _LMS_FILE, item_type="reasoning"),
        ),
    ),
    "llamacpp": ResponseStyle(
        "llamacpp",
        "gpt-oss-20b",
        obfuscation=False,
        reasoning="text",
        evidence="[llamacpp-test]",
        deviations=(
            # return_progress: prompt_progress on response.in_progress (one per step)
            _d(
                "event_fields",
                "[llamacpp-test]",
                types=("response.in_progress",),
                fields={
                    "prompt_progress": {"total": 12, "cache": 0, "processed": 12, "time_ms": 3}
                },
            ),
            # timings_per_token: timings on text deltas and on response.completed
            _d(
                "event_fields",
                "[llamacpp-test]",
                types=("response.output_text.delta", "response.completed"),
                fields={
                    "timings": {
                        "prompt_n": 12,
                        "prompt_ms": 3.1,
                        "predicted_n": 1,
                        "predicted_ms": 9.8,
                    }
                },
            ),
        ),
    ),
    "ollama": ResponseStyle(
        "ollama",
        "gpt-oss:20b",
        obfuscation=False,
        reasoning="text",
        evidence="[ollama-resp]",
    ),
    "vllm": ResponseStyle(
        "vllm",
        "openai/gpt-oss-20b",
        obfuscation=False,
        reasoning="text",
        evidence="[vllm#24938] [vllm#35184]",
    ),
}


def get_response_style(name: str | None) -> ResponseStyle:
    """The style of a built-in Responses profile (``None``: OpenAI's); ``ValueError`` otherwise."""
    if name is None:
        return RESPONSE_STYLES["openai"]
    try:
        return RESPONSE_STYLES[name]
    except KeyError:
        raise ValueError(
            f"unknown as_provider {name!r} for Responses streams; known: "
            f"{', '.join(sorted(RESPONSE_STYLES))}"
        ) from None
