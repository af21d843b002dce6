"""Why each rule has its severity: the contract clause, and what real clients do (the matrix).

``EVIDENCE[code]`` gives the basis of a rule's strict (``openai``) severity, with source keys of
the research notes (``[oapi]``, ``[py-acc]``...), and the cells of the client matrix
(``docs/clients.md``, ``tests/data/client_matrix.json``) where a client raises or assembles a
wrong result. ``tests/chat/test_client_matrix.py`` checks every cell named here against the
pinned matrix, and that every error-level rule has a cell or a clause. ``HINTS`` are the short
impact notes an error finding's message carries when it does not name a client itself.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CUT_TRUNCATION",
    "EVIDENCE",
    "HINTS",
    "QUIET_END",
    "QUIET_TRUNCATION",
    "Evidence",
    "Impact",
    "cut_message",
    "hint_for",
]


@dataclass(frozen=True)
class Impact:
    """One matrix cell: ``client`` on stream ``cell`` does ``effect`` (a part of the cell)."""

    client: str
    cell: str
    effect: str


@dataclass(frozen=True)
class Evidence:
    """The basis of one rule's severity: a contract clause and/or client impacts."""

    basis: str
    clause: str | None = None
    impacts: tuple[Impact, ...] = ()


def _i(client: str, cell: str, effect: str) -> Impact:
    return Impact(client, cell, effect)


PY, PYS = "openai-py iterate", "openai-py .stream()"
LC, LL = "langchain", "litellm"
NODE, NODES, AI = "openai-node iterate", "openai-node .stream()", "ai-sdk streamText"

EVIDENCE: dict[str, Evidence] = {
    "OAS001": Evidence(
        "Invalid UTF-8 makes the SDKs' strict decoders raise [py-sse]; a leading BOM is legal "
        "SSE [whatwg-sse] but openai-python does not strip it and loses the first event when "
        "the body opens with its `data:` line (Responses streams too: the same SSEDecoder drops "
        "response.created, and responses.stream() raises RuntimeError). Before an `event:` or "
        "comment line only that line is misread: a warning.",
        impacts=(
            _i(PY, "variant:invalid_utf8@text", "raised UnicodeDecodeError"),
            _i(LC, "variant:invalid_utf8@text", "raised UnicodeDecodeError"),
            _i(NODE, "variant:invalid_utf8@text", "wrong: text"),
            _i(PY, "variant:bom@text", "wrong: role null"),
            _i(PYS, "variant:bom@tool", "wrong: role null"),
        ),
    ),
    "OAS002": Evidence(
        "A non-2xx answer is a failed request: every client raises its status error, so it is "
        "an error, reported once with the error's message. A 200 answer that is not "
        "text/event-stream, or a non-200 2xx, is a warning [py-response].",
        clause="[oapi]: pre-stream failures are non-2xx JSON error bodies [or-errors]",
        impacts=(
            _i(PY, "fault:http_status=429@text", "raised RateLimitError"),
            _i(LC, "fault:http_status=500@text", "raised OpenAIAPIError"),
            _i(LL, "fault:http_status=429@text", "raised RateLimitError"),
            _i(AI, "fault:http_status=500@tool", "raised AI_APICallError"),
        ),
    ),
    "OAS003": Evidence(
        "CRLF is legal SSE and all seven clients read it (fault crlf: all ok); hand-rolled "
        "parsers that split on \\n\\n do not [xuan#194] [cc-switch#1787]: a warning."
    ),
    "OAS004": Evidence(
        "`data:` without its space is legal SSE that the SDKs accept [py-sse]; parsers that "
        "slice `data: ` drop every event [freellmapi#1087]: a warning."
    ),
    "OAS005": Evidence(
        "Comments are legal and every client skips them (fault keepalive_comments: all ok)."
    ),
    "OAS006": Evidence(
        "An event without `data:` makes the SDKs parse an empty payload and raise [py-sse] "
        "[node-sse]; other SSE fields are legal but unexpected (warn).",
        impacts=(
            _i(PY, "variant:event_without_data@text", "raised JSONDecodeError"),
            _i(LC, "variant:event_without_data@text", "raised JSONDecodeError"),
            _i(NODE, "variant:event_without_data@text", "raised SyntaxError"),
        ),
    ),
    "OAS007": Evidence(
        "Every payload is a chunk object [oapi]; a `null` payload crashes six of seven clients.",
        clause="[oapi] `CreateChatCompletionStreamResponse` is an object",
        impacts=(
            _i(PY, "variant:null_payload@text", "raised AttributeError"),
            _i(NODE, "variant:null_payload@text", "raised TypeError"),
            _i(AI, "variant:null_payload@text", "raised AI_TypeValidationError"),
        ),
    ),
    "OAS008": Evidence(
        "The contract ends a stream with `data: [DONE]`. A missing terminator after the finish "
        "and usage harms no client (fault drop_done: all ok), but a stream cut short is silent "
        "in four of seven clients, which return the partial answer without an error "
        "(fault truncate_after); the others raise.",
        clause='[oapi] `stream`: "terminated by a `data: [DONE]` message"',
        impacts=(
            _i(PY, "fault:truncate_after=3@text", "wrong: text"),
            _i(PYS, "fault:truncate_after=3@text", "wrong: text"),
            _i(LC, "fault:truncate_after=3@text", "wrong: model null"),
            _i(NODE, "fault:truncate_after=3@text", "wrong: text"),
            _i(AI, "fault:truncate_after=3@text", "raised AI_InvalidResponseDataError"),
        ),
    ),
    "OAS009": Evidence(
        "`object` is the constant `chat.completion.chunk`; openai-python's `.stream()` skips "
        "any other chunk [py-acc], losing what it carries (mlx-lm's usage chunk, Perplexity's "
        "finish chunk), and strictly typed clients reject it [oi-resp].",
        clause="[oapi] `object` enum",
        impacts=(
            _i(
                PYS,
                "corpus:corpus/mlx-lm__qwen-27b-4bit_keepalive-comments-usage-object-completion.sse",
                "usage null",
            ),
            _i(
                PYS,
                "corpus:corpus/perplexity__sonar_citations-completion-done.sse",
                "finish_reason null",
            ),
        ),
    ),
    "OAS010": Evidence(
        "`id`, `created`, `model`, `choices` are required; `choices: null` crashes clients "
        "[pai#5165] [litellm#4429].",
        clause="[oapi] required properties of the chunk",
    ),
    "OAS011": Evidence(
        "`index` and `delta` are required and dereferenced by every client [node#1015] "
        "[litellm#3811]; a missing `finish_reason` key is a warning. Azure's asynchronous "
        "filter annotations (choices without `delta`) are Azure's documented shape, so the "
        "azure profile exempts them as envelopes, but the usual loop raises on them: a "
        "warning there.",
        clause="[oapi] required properties of a choice",
        impacts=(
            _i(
                PY,
                "corpus:corpus/azure__async-filter_annotation-mid-stream.sse",
                "raised AttributeError",
            ),
        ),
    ),
    "OAS012": Evidence(
        "Enumerations of the contract; strict decoders reject unknown values [oi-resp] "
        "[semrouter#3813].",
        clause="[oapi] enums of finish_reason, role, tool type, service_tier",
    ),
    "OAS013": Evidence(
        "Types of the contract. Mistral's content arrays (corpus) make the usual loop raise "
        "and openai-node assemble '[object Object]'.",
        clause="[oapi] `content`/`refusal` are strings, `arguments` a string",
        impacts=(
            _i(
                PY,
                "corpus:corpus/mistral__magistral-medium_thinking-content-array.sse",
                "raised TypeError",
            ),
            _i(
                NODES,
                "corpus:corpus/mistral__magistral-medium_thinking-content-array.sse",
                "wrong: text",
            ),
        ),
    ),
    "OAS014": Evidence("Extensions are allowed; reported for profiling only."),
    "OAS015": Evidence(
        'The contract says "each chunk has the same ID", and openai-node\'s `.stream()` '
        "reports the later id (fault change_id_at); the other clients keep the first.",
        clause='[oapi]: "Each chunk has the same ID."',
        impacts=(_i(NODES, "fault:change_id_at=2@text", "wrong: id"),),
    ),
    "OAS016": Evidence(
        "No client compares `created`, but the contract is explicit.",
        clause='[oapi]: "Each chunk has the same timestamp."',
    ),
    "OAS017": Evidence(
        "Clients keep the first model [py-acc] [ai-compat]: a warning. Azure's prompt-filter "
        "prologue (empty model and id) is exempt as an envelope under azure, but the AI SDK "
        "takes the response's id and model from it and reports neither: a warning there too.",
        impacts=(
            _i(AI, "corpus:corpus/azure__gpt-4o_prompt-filter-first_2025.sse", "wrong: id null"),
        ),
    ),
    "OAS018": Evidence("Legal; openai-python keeps the last fingerprint [py-acc]: a warning."),
    "OAS019": Evidence(
        "A choice index outside [0, n): openai-python's `.stream()` raises IndexError, "
        "openai-node's raises, and the usual loops (which read choice 0) lose the answer.",
        impacts=(
            _i(PYS, "variant:choice_index_1@text", "raised IndexError"),
            _i(NODES, "variant:choice_index_1@text", "raised OpenAIError"),
            _i(PY, "variant:choice_index_1@text", "wrong: role null"),
        ),
    ),
    "OAS020": Evidence(
        "openai-python's snapshot is indexed by choice: a choice that appears before the lower "
        "ones raises IndexError [py-acc].",
        impacts=(_i(PYS, "variant:choice_index_1@tool", "raised IndexError"),),
    ),
    "OAS021": Evidence(
        "Compared on text, tools and usage, a repeated role harms no client; compared on every "
        "field, openai-python's `.stream()` concatenates it ('assistantassistant…', ten times "
        "on the DeepSeek seed), which the API rejects when the message is sent back. A missing "
        "role makes openai-node's `.stream()` raise.",
        impacts=(
            _i(PYS, "fault:role_every_delta@text", 'wrong: role "assistantassistant'),
            _i(PYS, "corpus:seed/deepseek-chat__hello.sse", 'wrong: role "assistantassistant'),
            _i(NODES, "variant:role_missing@text", "raised OpenAIError"),
        ),
    ),
    "OAS022": Evidence("Noise, legal; no client is affected."),
    "OAS023": Evidence(
        "One finish per choice. A second finish chunk makes LangChain join the two "
        "('stopstop'); a choice that never finishes is a cut stream that four clients return "
        "silently.",
        impacts=(
            _i(LC, "variant:finish_twice@text", 'wrong: model "gpt-4o-mini-2024-07-18gpt'),
            _i(PY, "fault:truncate_after=3@text", "wrong: text"),
        ),
    ),
    "OAS024": Evidence(
        "A delta after the finish (here a repeated finish chunk) is added to the finished "
        "message: LangChain joins model and finish_reason twice.",
        impacts=(_i(LC, "variant:finish_twice@tool", "wrong: model"),),
    ),
    "OAS025": Evidence(
        "Agent loops branch on `tool_calls` [genai#2868]; OpenAI itself answers "
        "`stop` for a named tool_choice: a warning."
    ),
    "OAS026": Evidence(
        "Usage comes once, last. LangChain adds up every usage it sees (fault "
        "usage_every_chunk; Groq's usage sent twice, which the groq profile therefore reports "
        "as a warning); a `choices: []` chunk after the usage chunk (OpenAI's own gpt-5 "
        "moderation chunk) makes both SDKs' stream helpers end with usage None: legal, so a "
        "warning, but never info.",
        clause="[oapi] `stream_options.include_usage`: the usage chunk comes before [DONE]",
        impacts=(
            _i(LC, "fault:usage_every_chunk@text", "wrong: usage"),
            _i(LC, "corpus:corpus/groq__kimi-k2_usage-twice.sse", "wrong: usage"),
            _i(PYS, "variant:usage_null_trailer@text", "wrong: usage null"),
            _i(NODES, "variant:usage_null_trailer@text", "wrong: usage null"),
            _i(
                PYS,
                "corpus:corpus/openai__gpt-5_moderation-chunk-after-usage.sse",
                "wrong: usage null",
            ),
        ),
    ),
    "OAS027": Evidence("Usage without asking is an extra the contract does not promise: warn."),
    "OAS028": Evidence(
        "The contract defines total = prompt + completion. xAI counts reasoning tokens in the "
        "total only (its profile allows it), and LiteLLM and the AI SDK recompute the total "
        "without them: a warning under xai.",
        clause="[oapi] `CompletionUsage.total_tokens`",
        impacts=(
            _i(AI, "corpus:corpus/xai__grok-3-mini_reasoning-content.sse", "wrong: usage"),
            _i(LL, "corpus:corpus/xai__grok-4-fast_parallel-tool-calls.sse", "wrong: usage"),
        ),
    ),
    "OAS029": Evidence(
        "`index` is the one required field of a tool-call fragment. Without it openai-python's "
        "`.stream()` raises TypeError, openai-node's `.stream()` drops the call and LangChain "
        "loses the arguments.",
        clause="[oapi] `ChatCompletionMessageToolCallChunk.index` is required",
        impacts=(
            _i(PYS, "fault:tool_index_missing@tool", "raised TypeError"),
            _i(NODES, "fault:tool_index_missing@tool", "wrong: tool_calls null"),
            _i(LC, "fault:tool_index_missing@tool", "wrong: tool_calls"),
        ),
    ),
    "OAS030": Evidence(
        "A gap in the tool-call indexes: openai-python's `.stream()` raises IndexError and "
        "openai-node's `.stream()` raises.",
        impacts=(
            _i(PYS, "variant:tool_index_gap@tools2", "raised IndexError"),
            _i(NODES, "variant:tool_index_gap@tools2", "raised OpenAIError"),
        ),
    ),
    "OAS031": Evidence(
        "Without an id on the first fragment no client keeps the call's id (they leave it "
        "empty or make one up, which breaks the tool message round trip) and LiteLLM drops the "
        "calls.",
        impacts=(
            _i(PY, "variant:tool_first_no_id@tool", "wrong: tool_calls"),
            _i(LL, "variant:tool_first_no_id@tool", "wrong: tool_calls null"),
            _i(AI, "variant:tool_first_no_id@tool", "wrong: tool_calls"),
        ),
    ),
    "OAS032": Evidence(
        "Later fragments that repeat id and name are concatenated by openai-python's "
        "`.stream()` and by LangChain ('call_acall_a', 'get_wget_w').",
        impacts=(
            _i(PYS, "fault:repeat_tool_ids@tool", "wrong: tool_calls"),
            _i(LC, "fault:repeat_tool_ids@tool", "wrong: tool_calls"),
        ),
    ),
    "OAS033": Evidence(
        "Arguments that are not a string or are cumulative are errors. Invalid JSON is a "
        "warning: the contract says the model may produce it, though the AI SDK raises and the "
        "others hand over an unparsable string.",
        clause='[oapi] `arguments`: "the model does not always generate valid JSON"',
        impacts=(
            _i(AI, "variant:tool_args_invalid@tool", "raised error part"),
            _i(PY, "variant:tool_args_invalid@tool", "wrong: tool_calls"),
        ),
    ),
    "OAS034": Evidence("Duplicate tool-call ids make tool results ambiguous [litellm#40040]."),
    "OAS035": Evidence("Legal but unlike OpenAI's refusals [py-fixtures]: a warning."),
    "OAS036": Evidence("OpenAI sends no reasoning text here; provider profiles raise it."),
    "OAS037": Evidence("Logprob shape details; the SDKs append entries as sent [py-acc]."),
    "OAS038": Evidence(
        "An in-stream error is a failed completion: every client raises.",
        impacts=(
            _i(PY, "fault:error_event_at=2@text", "raised APIError"),
            _i(LL, "fault:error_event_at=2@text", "raised MidStreamFallbackError"),
            _i(AI, "fault:error_event_at=2@text", "raised error part"),
        ),
    ),
    "OAS039": Evidence(
        "`created` is Unix seconds; milliseconds overflow clients [zed#32982].",
        clause="[oapi] `created`: Unix timestamp (in seconds)",
    ),
    "OAS040": Evidence("U+FFFD is valid text that cannot be repaired [lucebox#641]: a warning."),
    "OAS041": Evidence(
        "A 200 stream without one chunk: openai-python's `.stream()` raises AssertionError, "
        "LangChain ValueError, openai-node's `.stream()` and the AI SDK raise, the loops "
        "return nothing.",
        impacts=(
            _i(PYS, "variant:no_chunks@text", "raised AssertionError"),
            _i(LC, "variant:no_chunks@text", "raised ValueError"),
            _i(AI, "variant:no_chunks@text", "raised AI_InvalidResponseDataError"),
        ),
    ),
    "OAS042": Evidence(
        "With `include_usage` the contract promises a usage chunk before [DONE] (vLLM-swift "
        "#19 and TGI #2531 report servers that omit it); without it every client ends with "
        "usage None (LiteLLM invents an estimate).",
        clause="[oapi] `stream_options.include_usage`",
        impacts=(
            _i(PY, "variant:usage_missing@text", "wrong: usage null"),
            _i(AI, "variant:usage_missing@text", "wrong: usage null"),
            _i(LL, "variant:usage_missing@text", "wrong: usage"),
        ),
    ),
    "OAS043": Evidence(
        "Lists in a delta are merged by `index`: openai-python's `.stream()` raises "
        "RuntimeError on the second delta whose `annotations` entries have none (the OpenRouter "
        "web-search recording).",
        impacts=(
            _i(PYS, "variant:annotations_no_index@text", "raised RuntimeError"),
            _i(
                PYS,
                "corpus:corpus/openrouter__deepseek-chat_web-search-annotations.sse",
                "raised RuntimeError",
            ),
        ),
    ),
}

#: Short impact notes appended to an error finding that names no client itself.
HINTS: dict[str, str] = {
    "OAS007": "openai-python, LangChain, openai-node and the AI SDK raise on it",
    "OAS015": "openai-node's .stream() reports the later id",
    "OAS019": "out of range, it makes openai-python's .stream() raise IndexError",
    "OAS020": "openai-python's .stream() raises IndexError",
    "OAS031": "clients keep only what the first fragment carries (no id: LiteLLM drops the call)",
    "OAS032": "openai-python's .stream() and LangChain concatenate the repeats",
    "OAS038": "every client raises",
    "OAS041": "openai-python's .stream() raises AssertionError, LangChain ValueError",
}

_NAMES_A_CLIENT = ("openai-python", "openai-node", "client", "SDK", "LangChain", "LiteLLM")


def hint_for(code: str, message: str) -> str:
    """``message`` with the rule's impact hint, unless it names a client already."""
    hint = HINTS.get(code)
    if hint is None or any(name in message for name in _NAMES_A_CLIENT):
        return message
    return f"{message}; {hint}"


#: What a stream that ends cleanly before its finish or ``[DONE]`` does to clients (OAS008,
#: OAS023): the client matrix's fault ``truncate_after``, a provider closing the stream cleanly.
QUIET_TRUNCATION = "four of seven clients return the partial answer without an error"
#: What a missing ``[DONE]`` after the finish does (fault ``drop_done``).
QUIET_END = "clients end quietly"
#: The same findings of a stream the provider cut (the connection closed or reset in the
#: middle of the body): every client's transport raises there, none ends quietly.
CUT_TRUNCATION = "the provider cut the connection: every client raises"


def cut_message(message: str) -> str:
    """A truncation finding (OAS008, OAS023) of a stream known to be cut, with the client
    matrix's hint about a quiet end replaced by what a cut does (every client raises)."""
    return message.replace(QUIET_TRUNCATION, CUT_TRUNCATION).replace(QUIET_END, CUT_TRUNCATION)
