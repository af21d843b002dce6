"""Provider styles as data: how each provider's streams differ from OpenAI's, with evidence.

``PROVIDER_STYLES`` maps a built-in profile name to a ``ProviderStyle``: its default model, id
format, ``system_fingerprint`` and an ordered list of ``Deviation(op, evidence, params)``. Each
deviation names the corpus file (``tests/data/corpus``, seeds in ``tests/data/seed``) or the
research source that shows it; ``chat.deviations`` holds the operations that apply them, and
``chat.builder`` the stream they reshape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PROVIDER_STYLES", "Deviation", "ProviderStyle", "Ref", "get_style"]


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
    #: One of the formats of ``builder._ID_FORMATS``.
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


def get_style(name: str | None) -> ProviderStyle:
    """The style of ``name`` (``None``: OpenAI's); ``ValueError`` naming the choices otherwise."""
    if name is None:
        return PROVIDER_STYLES["openai"]
    try:
        return PROVIDER_STYLES[name]
    except KeyError:
        raise ValueError(
            f"unknown as_provider {name!r}; choose one of: {', '.join(PROVIDER_STYLES)}"
        ) from None
