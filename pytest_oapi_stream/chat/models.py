"""Typed models of a streamed ``chat.completion.chunk`` and every part of it.

Pydantic v2 models in strict mode, so a wrong JSON type is a validation error the checker can
report (OAS013), never a silent coercion. Every field is optional: which fields a chunk must carry
is a rule (OAS010/OAS011), not a parse failure. Provider extensions are typed fields; anything
else is kept in ``model_extra`` (``extra="allow"``) and reported under OAS014, never dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = [
    "ChatCompletionChunk",
    "Choice",
    "ChoiceLogprobs",
    "CompletionTokensDetails",
    "ContentFilterOffsets",
    "Delta",
    "ErrorObject",
    "FunctionCallFragment",
    "LlamaCppTimings",
    "PromptFilterResult",
    "PromptTokensDetails",
    "TokenLogprob",
    "ToolCallFragment",
    "TopLogprob",
    "Usage",
    "XGroq",
    "spec_fields",
]


class _Part(BaseModel):
    """Base of every part: strict JSON types, unknown fields kept, never dropped."""

    model_config = ConfigDict(strict=True, extra="allow", protected_namespaces=())


class ErrorObject(_Part):
    """An OpenAI-style error object, sent in-stream as ``{"error": {...}}`` (OAS038)."""

    message: str | None = None
    type: str | None = None
    param: str | None = None
    code: str | int | None = None
    # OpenRouter [or-errors]
    metadata: dict[str, Any] | None = None
    # Groq tool_use_failed
    failed_generation: str | None = None
    status_code: int | None = None


class FunctionCallFragment(_Part):
    """``function`` part of a tool-call fragment: name on the first fragment, argument text."""

    name: str | None = None
    arguments: str | None = None


class ToolCallFragment(_Part):
    """One element of ``delta.tool_calls``: fragments of one call share an ``index``."""

    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: FunctionCallFragment | None = None
    # openai-node accumulates custom tool calls [node-stream]
    custom: dict[str, Any] | None = None
    # Gemini thought signatures [openmaic#1556]
    extra_content: dict[str, Any] | None = None


class TopLogprob(_Part):
    """One alternative token in ``top_logprobs``."""

    token: str | None = None
    logprob: float | None = None
    bytes: list[int] | None = None


class TokenLogprob(_Part):
    """Log probability of one emitted token (``logprobs.content[]``/``logprobs.refusal[]``)."""

    token: str | None = None
    logprob: float | None = None
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] | None = None


class ChoiceLogprobs(_Part):
    """``choices[].logprobs``: per-token entries for content or refusal."""

    content: list[TokenLogprob] | None = None
    refusal: list[TokenLogprob] | None = None
    # DeepSeek [oi-resp]
    reasoning_content: list[TokenLogprob] | None = None


class Delta(_Part):
    """``choices[].delta``: the increment of one choice's message."""

    role: str | None = None
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCallFragment] | None = None
    function_call: FunctionCallFragment | None = None
    audio: dict[str, Any] | None = None
    annotations: list[Any] | None = None
    # Reasoning extensions: DeepSeek/xAI/llama.cpp and vLLM/Ollama/OpenRouter/Groq
    reasoning_content: str | None = None
    reasoning: str | None = None
    reasoning_details: list[Any] | None = None


class ContentFilterOffsets(_Part):
    """Azure asynchronous filter: which part of the text an annotation covers."""

    check_offset: int | None = None
    start_offset: int | None = None
    end_offset: int | None = None


class Choice(_Part):
    """One element of ``choices``: a delta for choice ``index``."""

    index: int | None = None
    delta: Delta | None = None
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None
    # Azure [ai-fx-azure]
    content_filter_results: dict[str, Any] | None = None
    content_filter_offsets: ContentFilterOffsets | None = None
    # OpenRouter [koog-or]
    native_finish_reason: str | None = None
    error: ErrorObject | None = None
    # vLLM [vllm-protocol]
    stop_reason: int | str | None = None
    token_ids: list[int] | None = None
    # SGLang-style (Azure Foundry DeepSeek)
    matched_stop: int | str | None = None


class PromptTokensDetails(_Part):
    """``usage.prompt_tokens_details``."""

    cached_tokens: int | None = None
    audio_tokens: int | None = None
    text_tokens: int | None = None
    image_tokens: int | None = None
    cache_write_tokens: int | None = None


class CompletionTokensDetails(_Part):
    """``usage.completion_tokens_details``."""

    reasoning_tokens: int | None = None
    audio_tokens: int | None = None
    text_tokens: int | None = None
    accepted_prediction_tokens: int | None = None
    rejected_prediction_tokens: int | None = None


class Usage(_Part):
    """Token usage, top level, in ``x_groq.usage`` or on a finish chunk (per profile)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None
    # DeepSeek [ds-sdk-usage]
    prompt_cache_hit_tokens: int | None = None
    prompt_cache_miss_tokens: int | None = None
    # xAI [ai-fx-xai]
    num_sources_used: int | None = None
    cost_in_usd_ticks: int | None = None
    # Groq timings, seconds [ai#1651]
    queue_time: float | None = None
    prompt_time: float | None = None
    completion_time: float | None = None
    total_time: float | None = None


class XGroq(_Part):
    """Groq's ``x_groq`` extension: request id and usage with timings."""

    id: str | None = None
    usage: Usage | None = None
    seed: int | None = None
    usage_breakdown: dict[str, Any] | None = None


class LlamaCppTimings(_Part):
    """llama.cpp's ``timings`` extension (speed counters)."""

    cache_n: int | None = None
    prompt_n: int | None = None
    prompt_ms: float | None = None
    prompt_per_token_ms: float | None = None
    prompt_per_second: float | None = None
    predicted_n: int | None = None
    predicted_ms: float | None = None
    predicted_per_token_ms: float | None = None
    predicted_per_second: float | None = None
    draft_n: int | None = None
    draft_n_accepted: int | None = None


class PromptFilterResult(_Part):
    """Azure ``prompt_filter_results[]``: filter verdicts on the prompt."""

    prompt_index: int | None = None
    content_filter_results: dict[str, Any] | None = None


class ChatCompletionChunk(_Part):
    """One ``chat.completion.chunk`` of a streamed chat completion."""

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[Choice] | None = None
    usage: Usage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    obfuscation: str | None = None
    moderation: dict[str, Any] | None = None
    # In-stream error (OAS038)
    error: ErrorObject | None = None
    # Azure [mentat#429]
    prompt_filter_results: list[PromptFilterResult] | None = None
    prompt_annotations: list[PromptFilterResult] | None = None
    # Groq [ai#1651]
    x_groq: XGroq | None = None
    # llama.cpp [llama-task]
    timings: LlamaCppTimings | None = None
    prompt_progress: dict[str, Any] | None = None
    # vLLM [vllm-protocol]
    prompt_token_ids: list[int] | None = None
    prompt_text: str | None = None
    metrics: dict[str, Any] | None = None
    # Mistral padding [ai-fx-mistral]
    p: str | None = None
    # gateways
    provider: str | None = None
    provider_specific_fields: dict[str, Any] | None = None


#: Fields each part has in the OpenAI contract; every other field is an extension (OAS014).
_SPEC: dict[type[BaseModel], frozenset[str]] = {
    ChatCompletionChunk: frozenset(
        {
            "id",
            "object",
            "created",
            "model",
            "choices",
            "usage",
            "system_fingerprint",
            "service_tier",
            "obfuscation",
            "moderation",
        }
    ),
    Choice: frozenset({"index", "delta", "finish_reason", "logprobs"}),
    Delta: frozenset(
        {"role", "content", "refusal", "tool_calls", "function_call", "audio", "annotations"}
    ),
    ToolCallFragment: frozenset({"index", "id", "type", "function", "custom"}),
    FunctionCallFragment: frozenset({"name", "arguments"}),
    ChoiceLogprobs: frozenset({"content", "refusal"}),
    TokenLogprob: frozenset({"token", "logprob", "bytes", "top_logprobs"}),
    TopLogprob: frozenset({"token", "logprob", "bytes"}),
    Usage: frozenset(
        {
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "prompt_tokens_details",
            "completion_tokens_details",
        }
    ),
    PromptTokensDetails: frozenset(
        {"cached_tokens", "audio_tokens", "text_tokens", "image_tokens", "cache_write_tokens"}
    ),
    CompletionTokensDetails: frozenset(
        {
            "reasoning_tokens",
            "audio_tokens",
            "text_tokens",
            "accepted_prediction_tokens",
            "rejected_prediction_tokens",
        }
    ),
    ErrorObject: frozenset({"message", "type", "param", "code"}),
}


def spec_fields(model: type[BaseModel]) -> frozenset[str]:
    """The field names the OpenAI contract defines for ``model``; the rest are extensions."""
    return _SPEC.get(model, frozenset(model.model_fields))
