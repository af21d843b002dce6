"""Provider profiles: what each provider is allowed to deviate in, as data.

A profile gives, per rule code, a severity (``error``, ``warn``, ``info`` or ``off``), a whitelist
of extension field paths (not reported under OAS014) and a few named relaxations that rules read.
Profiles only relax the strict ``openai`` profile, except where the evidence says a provider
promises more (``deepseek`` enforces OAS036 and the cache hit+miss identity). Every relaxation
cites its evidence: a key of ``research/invariants.md`` in brackets, or a file of the shipped corpus
(``tests/data/corpus``).

Extension paths: ``x_groq`` (chunk), ``choices[].X``, ``choices[].delta.X``,
``choices[].delta.tool_calls[].X``, ``choices[].logprobs.X``, ``usage.X``,
``usage.prompt_tokens_details.X``, ``usage.completion_tokens_details.X``; a trailing ``.*``
allows a whole subtree (for example ``x_groq.*``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from operator import itemgetter
from types import MappingProxyType
from typing import Any

from ..core.profiles import (
    NO_SEVERITY,
    ProfileRegistry,
    SeverityOverride,
    allows_extension,
    check_severity,
    merged_onto,
    parse_profile_line,
    register_profile,
)
from .models import ChatCompletionChunk

__all__ = [
    "PROFILES",
    "PROFILE_REGISTRY",
    "Profile",
    "SeverityOverride",
    "detect_profile",
    "get_profile",
    "profile_from_chunk",
    "profile_from_url",
    "register_profile",
]


@dataclass(frozen=True)
class Profile:
    """What one provider may deviate in; build custom ones with ``Profile(extends="openai")``."""

    name: str
    description: str = ""
    extends: str | Profile | None = None
    #: Per-rule severity, overriding the catalog's (``off`` disables the rule).
    severity: Mapping[str, SeverityOverride] = field(default_factory=lambda: NO_SEVERITY)
    #: Extension field paths this provider is known to send (not reported under OAS014).
    extensions: frozenset[str] = frozenset()
    #: Finish reasons allowed besides the spec's (OAS012).
    finish_reasons: frozenset[str] = frozenset()
    #: Service tiers allowed besides the spec's (OAS012).
    service_tiers: frozenset[str] = frozenset()
    #: Usage may ride on the finish chunk instead of a separate ``choices: []`` chunk (OAS026).
    usage_on_finish_chunk: bool = False
    #: Usage may come on one more chunk after the finish that repeats the finished choices with
    #: an empty delta and a null or the same finish_reason (OAS023, OAS024, OAS026).
    usage_after_finish: bool = False
    #: ``x_groq.usage`` counts as the stream's usage (OAS026/OAS027).
    usage_in_x_groq: bool = False
    #: Azure filter chunks (empty id, only filter data) are exempt from envelope and
    #: constancy rules and are not deltas (OAS009-011, OAS015-017, OAS024, OAS039).
    filter_chunks: bool = False
    #: ``total_tokens`` may include reasoning tokens not counted in ``completion_tokens`` (xAI).
    reasoning_outside_completion: bool = False
    #: ``prompt_cache_hit_tokens + prompt_cache_miss_tokens == prompt_tokens`` (DeepSeek).
    cache_hit_identity: bool = False
    #: Request hosts (suffix match) that select this profile under ``auto``.
    hosts: tuple[str, ...] = ()
    #: Request ports that select this profile under ``auto`` (local servers), after the hosts.
    ports: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        from .rules import RULES_BY_CODE

        check_severity(self.name, self.severity, RULES_BY_CODE)

    def resolve(self) -> Profile:
        """This profile merged onto its parent chain: the form the checker uses."""
        if self.extends is None:
            return self
        parent = get_profile(self.extends) if isinstance(self.extends, str) else self.extends
        parent = parent.resolve()
        merged = merged_onto(self, parent, own=("name", "description", "hosts", "ports"))
        return replace(self, **merged)

    def allows_extension(self, path: str) -> bool:
        """Whether ``path`` (e.g. ``choices[].delta.reasoning``) is a known extension here."""
        return allows_extension(self.extensions, path)


def _p(**kwargs: Any) -> Profile:
    kwargs.setdefault("extends", "openai")
    if "severity" in kwargs:
        kwargs["severity"] = MappingProxyType(dict(kwargs["severity"]))
    return Profile(**kwargs)


_REASONING_WARN: dict[str, SeverityOverride] = {
    # Profiles that declare a reasoning field hold it to OAS036 at warn [ai-compat].
    "OAS036": "warn",
}

_BUILTINS: list[Profile] = [
    Profile(
        name="openai",
        description="Strict: the OpenAPI contract and api.openai.com's recorded behaviour.",
        hosts=("api.openai.com",),
    ),
    _p(
        name="azure",
        description="Azure OpenAI: filter prologue/annotation chunks and filter results.",
        hosts=(".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com"),
        # Prologue {"choices":[],"created":0,"id":"","model":"","object":""...} and async
        # annotation chunks [mentat#429] [ai-fx-azure]; corpus azure__*.sse.
        filter_chunks=True,
        extensions=frozenset(
            {
                "prompt_filter_results",
                "prompt_annotations",
                "choices[].content_filter_results",
                "choices[].content_filter_offsets",
                "choices[].content_filter_raw",
                "choices[].content_filter_result",
                # Usage extras on the usage chunk: azure__gpt-5-mini_latency-checkpoint.sse,
                # azure__async-filter_annotation-mid-stream.sse.
                "latency_checkpoint",
                "routing",
                "usage.latency_checkpoint",
            }
        ),
        severity={
            # CRLF framing reported [orcarouter#98].
            "OAS003": "info",
        },
    ),
    _p(
        name="deepseek",
        description="DeepSeek: keep-alives, reasoning_content, repeated role, usage on finish.",
        hosts=("api.deepseek.com",),
        extensions=frozenset(
            {
                "choices[].delta.reasoning_content",
                "usage.prompt_cache_hit_tokens",
                "usage.prompt_cache_miss_tokens",
                "choices[].logprobs.reasoning_content",
            }
        ),
        # insufficient_system_resource [oi-resp].
        finish_reasons=frozenset({"insufficient_system_resource"}),
        # Usage on the finish chunk [oi-resp]; corpus deepseek__deepseek-reasoner_*.sse and
        # seed deepseek-chat__hello.sse.
        usage_on_finish_chunk=True,
        cache_hit_identity=True,
        severity={
            "OAS005": "info",  # `: keep-alive` while queued [ds-rate]
            # Role repeated in every delta [oi-resp]; seed deepseek-chat__hello.sse. Normal here,
            # yet openai-python's .stream() makes it 'assistantassistant...' (client matrix,
            # corpus:seed/deepseek-chat__hello.sse): a warning, not silence.
            "OAS021": "warn",
            # Tool-call id repeated in later fragments [lc4j#4544].
            "OAS032": "warn",
            # Reasoning strictly before the answer is documented [ds-reasoning].
            "OAS036": "error",
        },
    ),
    _p(
        name="qwen",
        description="Qwen / DashScope compatible mode: explicit nulls, repeated tool ids.",
        hosts=("dashscope.aliyuncs.com", "dashscope-intl.aliyuncs.com", ".aliyuncs.com"),
        extensions=frozenset({"choices[].delta.reasoning_content"}),
        severity={
            **_REASONING_WARN,
            # Continuation fragments repeat "id":"" and "type":"function" [lc4j#4544];
            # corpus dashscope__qwen3-max_tool-call-empty-id-fragments.sse.
            "OAS032": "warn",
            # An empty-arguments fragment after the arguments were complete, in a choice
            # without the finish_reason key: same file.
            "OAS011": "warn",
        },
    ),
    _p(
        name="groq",
        description="Groq: x_groq with usage and timings, extra service tiers.",
        hosts=("api.groq.com",),
        extensions=frozenset(
            {
                "x_groq.*",
                "usage.queue_time",
                "usage.prompt_time",
                "usage.completion_time",
                "usage.total_time",
                "choices[].delta.reasoning",
                # groq__gpt-oss-120b_*.sse (channel), groq__compound_*.sse (executed_tools).
                "choices[].delta.channel",
                "choices[].delta.executed_tools",
            }
        ),
        service_tiers=frozenset({"on_demand", "performance"}),  # [semrouter#3813]
        usage_in_x_groq=True,  # [ai#1651]
        # Usage on the finish chunk plus the include_usage chunk [portkey#1338];
        # corpus groq__kimi-k2_usage-twice.sse, groq__llama-3.3-70b_tool-call-single-chunk.sse.
        usage_on_finish_chunk=True,
        severity={
            **_REASONING_WARN,
            "OAS027": "info",  # x_groq.usage regardless of include_usage [ai#1651]
            # groq/compound sends no role delta: groq__compound_id-changes-every-chunk.sse.
            "OAS021": "warn",
            # created is stamped per chunk, so long streams cross a second boundary:
            # groq__gpt-oss-120b_event-error-tool-choice-required.sse (…841 -> …842),
            # groq__compound_id-changes-every-chunk.sse.
            "OAS016": "warn",
        },
    ),
    _p(
        name="openrouter",
        description="OpenRouter: processing comments, usage always, error finish reason.",
        hosts=("openrouter.ai",),
        extensions=frozenset(
            {
                # [koog-or] [lc-or-chunk]; provider, cost and cost_details in every
                # openrouter__*.sse of the corpus.
                "provider",
                "choices[].native_finish_reason",
                "choices[].error",
                "choices[].delta.reasoning",
                "choices[].delta.reasoning_details",
                "usage.cost",
                "usage.is_byok",
                "usage.cost_details",
                "usage.*",
            }
        ),
        finish_reasons=frozenset({"error"}),  # [koog-or]
        # After the finish chunk, one more chunk repeats the choice with an empty delta and
        # carries the usage (finish_reason null, or the same again): corpus
        # openrouter__claude-sonnet-4.5_reasoning-details.sse (null),
        # openrouter__kimi-k2.5_parallel-tool-calls.sse and
        # openrouter__deepseek-chat_web-search-annotations.sse (repeated).
        usage_after_finish=True,
        severity={
            **_REASONING_WARN,
            "OAS005": "info",  # `: OPENROUTER PROCESSING` [or-stream]
            "OAS027": "off",  # usage always included [or-sdk-streamopts]
            # role "assistant" in every delta, whatever the upstream (Google, Amazon Bedrock,
            # OpenAI, Chutes, Novita): every openrouter__*.sse file of the corpus. openai-python's
            # .stream() concatenates it (client matrix): a warning, not silence.
            "OAS021": "warn",
        },
    ),
    _p(
        name="mistral",
        description="Mistral: padding field p, usage on the finish chunk, extra finish reasons.",
        hosts=("api.mistral.ai",),
        extensions=frozenset({"p"}),  # [ai-fx-mistral]; mistral__mistral-small_p-padding-field.sse
        finish_reasons=frozenset({"model_length", "error"}),  # [portkey-mistral]
        # content, finish_reason and usage share the final chunk [ai-fx-mistral].
        usage_on_finish_chunk=True,
    ),
    _p(
        name="gemini",
        description="Gemini OpenAI compatibility: no tool-call index, stop for tool calls.",
        hosts=("generativelanguage.googleapis.com",),
        extensions=frozenset({"choices[].delta.tool_calls[].extra_content"}),
        severity={
            # Tool-call fragments without index [openmaic#1556] [py#2806]: still fails
            # openai-python, so kept at error; `stop` for streamed tool calls [genai#2868].
            "OAS025": "info",
        },
    ),
    _p(
        name="xai",
        description="xAI: reasoning_content, created drifts, reasoning outside completion tokens.",
        hosts=("api.x.ai",),
        extensions=frozenset(
            {
                "choices[].delta.reasoning_content",
                "usage.num_sources_used",
                "usage.cost_in_usd_ticks",
            }
        ),
        reasoning_outside_completion=True,  # [ai-fx-xai]
        severity={
            **_REASONING_WARN,
            "OAS016": "warn",  # created changes within a stream [ai-fx-xai]
            "OAS011": "warn",  # no finish_reason key on intermediate choices [ai-fx-xai]
        },
    ),
    _p(
        name="vllm",
        description="vLLM: fingerprint on the terminal chunk only, reasoning field.",
        extensions=frozenset(
            {
                "choices[].stop_reason",
                "choices[].token_ids",
                "prompt_token_ids",
                "prompt_text",
                "metrics",
                "usage.prompt_tokens_details.created_cache_tokens",
                "usage.prompt_tokens_details.multimodal_tokens",
                "choices[].delta.reasoning",
                "choices[].delta.reasoning_content",
            }
        ),
        severity={
            **_REASONING_WARN,
            "OAS018": "info",  # system_fingerprint only on the terminal chunk [vllm-protocol]
            "OAS037": "info",  # logprobs without refusal key [vllm-protocol]
        },
    ),
    _p(
        name="llamacpp",
        description="llama.cpp server: timings, created per chunk, role re-sent, usage by default.",
        extensions=frozenset(
            {
                "timings",
                "timings.*",
                "prompt_progress",
                "__verbose",
                "choices[].delta.reasoning_content",
            }
        ),
        usage_on_finish_chunk=True,  # before PR #15444 [llama#15444]
        severity={
            "OAS016": "off",  # created = time(0) per chunk [llama-task]
            # role re-sent with progress chunks [llama-task]; breaks openai-python's .stream()
            "OAS021": "warn",
            "OAS027": "off",  # usage on by default [llama#15444]
            "OAS018": "info",  # build-info fingerprint [llama-task]
        },
    ),
    _p(
        name="ollama",
        description="Ollama /v1: role and content in every delta, reasoning field.",
        ports=(11434,),  # Ollama's default port [ollama-openai]
        extensions=frozenset({"choices[].delta.reasoning"}),
        severity={
            # role in every delta [ollama-openai]; breaks openai-python's .stream()
            "OAS021": "warn",
            "OAS022": "off",  # content "" in every delta [ollama-openai]
            "OAS016": "warn",  # older builds stamp created per chunk [ollama-openai]
        },
    ),
    _p(
        name="anthropic",
        description="Anthropic OpenAI SDK compatibility: n=1, logprobs ignored.",
        hosts=("api.anthropic.com",),
        severity={"OAS037": "off"},  # logprobs ignored [anthropic-compat]
    ),
    _p(
        name="lenient",
        description="Framing, JSON, schema types and tool-call assembly only.",
        extensions=frozenset({"*"}),
        severity={
            code: "off"
            for code in (
                "OAS002",
                "OAS003",
                "OAS004",
                "OAS005",
                "OAS009",
                "OAS010",
                "OAS011",
                "OAS012",
                "OAS014",
                "OAS015",
                "OAS016",
                "OAS017",
                "OAS018",
                "OAS019",
                "OAS020",
                "OAS021",
                "OAS022",
                "OAS023",
                "OAS024",
                "OAS025",
                "OAS026",
                "OAS027",
                "OAS028",
                "OAS034",
                "OAS035",
                "OAS036",
                "OAS037",
                "OAS039",
                "OAS040",
                "OAS042",  # usage bookkeeping, like OAS026-OAS028
            )
        },
    ),
]


def _rules() -> Mapping[str, Any]:
    from .rules import RULES_BY_CODE  # the catalog imports this module: looked up when needed

    return RULES_BY_CODE


#: The chat profiles by name: the built-ins, then those registered (:func:`register_profile`).
PROFILE_REGISTRY: ProfileRegistry[Profile] = ProfileRegistry(
    Profile, _BUILTINS, surface="chat", title="chat", noun="profile", rules=_rules
)

#: Built-in profile names in catalog order.
PROFILES: tuple[str, ...] = PROFILE_REGISTRY.builtins


def get_profile(name: str | Profile) -> Profile:
    """The resolved profile of that name; a clear ``ValueError`` lists the valid names."""
    return PROFILE_REGISTRY.get(name)


def parse_profile_spec(spec: str) -> Profile:
    """A chat profile from one line of text (``oapi_profiles``); a clear ``ValueError`` names a
    bad setting. The line's form is :func:`core.profiles.parse_profile_line`'s, which also
    makes the Responses profile of a line."""
    prof: Profile = parse_profile_line(spec, [PROFILE_REGISTRY])[0]
    return prof


#: What :func:`profile_from_chunk` looks at. A chunk signals a provider only through a non-null
#: value of one of these fields, this fingerprint, or (with :data:`SIGNAL_DELTA_FIELD` in a
#: delta) a model with this prefix. Code that must know a chunk cannot signal without asking
#: (``fastpath.PlainChunkGate`` under ``auto``) reasons from these.
SIGNAL_FIELDS: tuple[str, ...] = ("x_groq", "timings", "prompt_filter_results")
SIGNAL_FINGERPRINT = "fp_ollama"
SIGNAL_MODEL_PREFIX = "deepseek-"
SIGNAL_DELTA_FIELD = "reasoning_content"
_SIGNAL_FIELDS = itemgetter(*SIGNAL_FIELDS, "system_fingerprint", "model")


def profile_from_url(url: str | None) -> tuple[Profile, str] | None:
    """The profile and reason the request host (or a local server's port) selects under
    ``auto``, or None."""
    return PROFILE_REGISTRY.from_url(url)


def profile_from_chunk(chunk: Any) -> tuple[Profile, str] | None:
    """The profile and reason a chunk's provider signal selects under ``auto``, or None.

    Split out of :func:`detect_profile` so that a checker can look at each chunk as it parses
    it (the first chunk that signals decides), instead of collecting them all first.
    """
    if type(chunk) is ChatCompletionChunk:
        # The common answer, "no signal", in one C call: this runs for every chunk of a stream.
        x_groq, timings, pfr, fp, model = _SIGNAL_FIELDS(chunk.__dict__)
        if (
            x_groq is None
            and timings is None
            and pfr is None
            and fp != SIGNAL_FINGERPRINT
            and not (model and model.startswith(SIGNAL_MODEL_PREFIX))
        ):
            return None
    if getattr(chunk, "x_groq", None) is not None:
        return get_profile("groq"), "auto: the stream carries x_groq"
    if getattr(chunk, "timings", None) is not None:
        return get_profile("llamacpp"), "auto: the stream carries llama.cpp timings"
    if getattr(chunk, "prompt_filter_results", None) is not None:
        return get_profile("azure"), "auto: the stream carries prompt_filter_results"
    if getattr(chunk, "system_fingerprint", None) == SIGNAL_FINGERPRINT:
        return get_profile("ollama"), f"auto: system_fingerprint {SIGNAL_FINGERPRINT}"
    model = getattr(chunk, "model", None) or ""
    if model.startswith(SIGNAL_MODEL_PREFIX):
        for choice in getattr(chunk, "choices", None) or ():
            delta = getattr(choice, "delta", None)
            if delta is not None and SIGNAL_DELTA_FIELD in delta.model_fields_set:
                return get_profile("deepseek"), (f"auto: reasoning_content from model {model}")
    return None


def detect_profile(url: str | None, chunks: Iterable[Any]) -> tuple[Profile, str]:
    """Pick a profile from the request host, else from the stream itself, else ``openai``.

    ``chunks`` are ``ChatCompletionChunk`` objects (or anything with the same attributes).
    Returns the resolved profile and a one-line reason for the report.
    """
    found = profile_from_url(url)
    if found is not None:
        return found
    for chunk in chunks:
        found = profile_from_chunk(chunk)
        if found is not None:
            return found
    return get_profile("openai"), "auto: no provider signal, strict default"
