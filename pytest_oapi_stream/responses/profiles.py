"""Provider profiles of the Responses surface: what each server may deviate in, as data.

Same mechanism as the chat profiles: per rule code a severity (``error``, ``warn``, ``info``,
``off``), a whitelist of extension field paths (not reported under OAS110) and a few named
relaxations the rules read; ``extends`` merges onto a parent. Every relaxation cites its evidence:
a file of ``tests/data/corpus-responses`` or a key of ``research/responses-invariants.md``.

Extension paths: ``response.X`` (the Response object), ``usage.X``,
``usage.input_tokens_details.X``, ``usage.output_tokens_details.X``, ``item.<type>.X``,
``part.<type>.X``, ``annotation.<type>.X``,
``event.<type>.X`` (a top-level field of one event type); a trailing ``.*`` allows a subtree.
``optional`` names required fields a provider may omit (``event.<type>.<field>``,
``annotation.<type>.<field>``): OAS109 does not report them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from ..core.profiles import (
    NO_SEVERITY,
    ProfileRegistry,
    SeverityOverride,
    allows_extension,
    check_severity,
    merged_onto,
)
from .models import field_of

__all__ = [
    "RESPONSE_PROFILES",
    "RESPONSE_PROFILE_REGISTRY",
    "ResponseProfile",
    "detect_response_profile",
    "get_response_profile",
    "register_response_profile",
    "response_profile_from_event",
    "response_profile_from_url",
]


@dataclass(frozen=True)
class ResponseProfile:
    """What one server may deviate in on ``/v1/responses``; custom ones with ``extends=``."""

    name: str
    description: str = ""
    extends: str | ResponseProfile | None = None
    #: Per-rule severity, overriding the catalog's (``off`` disables the rule).
    severity: Mapping[str, SeverityOverride] = field(default_factory=lambda: NO_SEVERITY)
    #: Extension field paths this server is known to send (not reported under OAS110).
    extensions: frozenset[str] = frozenset()
    #: Required fields this server may omit (not reported under OAS109).
    optional: frozenset[str] = frozenset()
    #: The stream must end with ``data: [DONE]`` (Open Responses): OAS104 inverted.
    done_required: bool = False
    #: Request hosts (suffix match) that select this profile under ``auto``.
    hosts: tuple[str, ...] = ()
    #: Request ports that select this profile under ``auto`` (local servers).
    ports: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        from .rules import RULES_BY_CODE

        check_severity(self.name, self.severity, RULES_BY_CODE)

    def resolve(self) -> ResponseProfile:
        """This profile merged onto its parent chain: the form the checker uses."""
        if self.extends is None:
            return self
        parent = (
            get_response_profile(self.extends)
            if isinstance(self.extends, str)
            else self.extends.resolve()
        )
        merged = merged_onto(self, parent, own=("name", "description", "hosts", "ports"))
        return replace(self, **merged)

    def allows_extension(self, path: str) -> bool:
        """Whether ``path`` (e.g. ``usage.cost``) is a known extension here."""
        return allows_extension(self.extensions, path)


def _p(**kwargs: Any) -> ResponseProfile:
    kwargs.setdefault("extends", "openai")
    if "severity" in kwargs:
        kwargs["severity"] = MappingProxyType(dict(kwargs["severity"]))
    return ResponseProfile(**kwargs)


_XAI_USAGE = frozenset(
    {
        "usage.num_sources_used",
        "usage.num_server_side_tools_used",
        "usage.cost_in_usd_ticks",
        "usage.context_details",
        "usage.context_details.*",
        "usage.server_side_tool_usage_details",
        "usage.server_side_tool_usage_details.*",
    }
)

_BUILTINS: list[ResponseProfile] = [
    ResponseProfile(
        name="openai",
        description="Strict: the API reference and api.openai.com's recorded behaviour.",
        hosts=("api.openai.com",),
    ),
    _p(
        name="azure",
        description="Azure OpenAI / Azure AI Foundry: content_filters on the response.",
        hosts=(".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com"),
        # azure__gpt-5-mini_reasoning-summary-3-parts.sse, azure-foundry__gpt-5-nano_text.sse
        extensions=frozenset({"response.content_filters"}),
    ),
    _p(
        name="xai",
        description="xAI: usage extras, created_at 0, web search shaped as a function call.",
        hosts=("api.x.ai",),
        extensions=_XAI_USAGE
        | frozenset(
            {
                # xai__grok-4-fast_web-search.sse: name, arguments, call_id "" on web_search_call
                "item.web_search_call.name",
                "item.web_search_call.arguments",
                "item.web_search_call.call_id",
            }
        ),
        optional=frozenset(
            {
                # xai__grok-2-1212_text-region-suffixed-ids.sse, xai__grok-4-fast_web-search.sse
                "event.response.output_text.done.logprobs",
                # xai__grok-4-fast_web-search.sse: url_citation with only url
                "annotation.url_citation.title",
                "annotation.url_citation.start_index",
                "annotation.url_citation.end_index",
            }
        ),
        severity={
            # xai__grok-4-fast-non-reasoning_web-search-created-at-zero.sse: created_at 0
            "OAS137": "warn",
            # xai__grok-4-fast_web-search.sse: web search item added already completed
            "OAS127": "info",
        },
    ),
    _p(
        name="deepseek",
        description="DeepSeek: content_filters, bare UUID ids, raw reasoning text.",
        hosts=("api.deepseek.com",),
        # deepseek__deepseek-v4-flash_reasoning-text.sse (content_filters: null)
        extensions=frozenset({"response.content_filters"}),
    ),
    _p(
        name="openrouter",
        description="OpenRouter: data-only framing with [DONE], temporary ids, cost in usage.",
        hosts=("openrouter.ai",),
        # openrouter__gpt-oss-20b_data-only-done-sentinel.sse
        extensions=frozenset(
            {"response.output_text", "usage.cost", "usage.is_byok", "usage.cost_details", "usage.*"}
        ),
        severity={
            "OAS103": "info",  # no `event:` lines (same file)
            "OAS129": "warn",  # final reasoning id differs from the streamed rs_tmp_ id (same file)
        },
    ),
    _p(
        name="lmstudio",
        description="LM Studio: function-call arguments only in the done event.",
        ports=(1234,),
        severity={
            # lmstudio__glm-4.7-flash_reasoning-function-call-no-arg-deltas.sse
            "OAS138": "info",
        },
    ),
    _p(
        name="vllm",
        description="vLLM: reasoning_part events of its own.",
        severity={
            # response.reasoning_part.added/.done [vllm#24938] [vllm#35184]
            "OAS108": "info",
        },
    ),
    _p(
        name="llamacpp",
        description="llama.cpp server: timings and prompt progress, repeated in_progress.",
        # No port: its default 8080 is every other local server's too; `timings` decides.
        extensions=frozenset(
            {
                # [llamacpp-test] timings_per_token, return_progress
                "event.response.output_text.delta.timings",
                "event.response.output_text.delta.timings.*",
                "event.response.completed.timings",
                "event.response.completed.timings.*",
                "event.response.in_progress.prompt_progress",
                "event.response.in_progress.prompt_progress.*",
            }
        ),
        severity={"OAS113": "info"},  # one in_progress per prompt-progress step [llamacpp-test]
    ),
    _p(
        name="ollama",
        description="Ollama /v1/responses: OpenAI framing (event:/data: pairs, no [DONE]).",
        ports=(11434,),
        # [ollama-resp] middleware/openai.go writes `event: %s\ndata: %s\n\n`; no relaxation
        # is known yet: the profile exists so that `auto` names the server.
    ),
    _p(
        name="openresponses",
        description="The Open Responses specification: `data: [DONE]` required at the end.",
        done_required=True,  # [or-spec] "The terminal event MUST be the literal string [DONE]"
    ),
]


def _rules() -> Mapping[str, Any]:
    from .rules import RULES_BY_CODE  # the catalog imports this module: looked up when needed

    return RULES_BY_CODE


#: The Responses profiles by name: the built-ins, then those registered
#: (:func:`register_response_profile`, or ``register_profile`` of either surface).
RESPONSE_PROFILE_REGISTRY: ProfileRegistry[ResponseProfile] = ProfileRegistry(
    ResponseProfile,
    _BUILTINS,
    surface="responses",
    title="Responses",
    noun="Responses profile",
    rules=_rules,
)

#: Built-in profile names in catalog order.
RESPONSE_PROFILES: tuple[str, ...] = RESPONSE_PROFILE_REGISTRY.builtins


def register_response_profile(profile: ResponseProfile) -> ResponseProfile:
    """Make a custom Responses profile selectable by name (``register_profile`` does the same
    for a profile of either surface)."""
    return RESPONSE_PROFILE_REGISTRY.register(profile)


def get_response_profile(name: str | ResponseProfile) -> ResponseProfile:
    """The resolved profile of that name; a clear ``ValueError`` lists the valid names."""
    return RESPONSE_PROFILE_REGISTRY.get(name)


def response_profile_from_url(url: str | None) -> tuple[ResponseProfile, str] | None:
    """The profile and reason the request host (or a local server's port) selects."""
    return RESPONSE_PROFILE_REGISTRY.from_url(url)


def response_profile_from_event(event: Any) -> tuple[ResponseProfile, str] | None:
    """The profile a snapshot's provider signal selects (``response.created`` usually)."""
    response = field_of(event, "response")
    if response is None:
        timings = (field_of(event, "model_extra") or {}).get("timings")
        if timings is not None:
            return get_response_profile("llamacpp"), "auto: the stream carries llama.cpp timings"
        return None
    extra = response.model_extra or {}
    model = response.model or ""
    if "content_filters" in extra:
        if model.startswith("deepseek"):
            return get_response_profile("deepseek"), f"auto: content_filters, model {model}"
        return get_response_profile("azure"), "auto: the response carries content_filters"
    rid = response.id or ""
    if rid.startswith("gen-"):
        return get_response_profile("openrouter"), "auto: OpenRouter gen- response id"
    if model.startswith("grok-"):
        return get_response_profile("xai"), f"auto: model {model}"
    return None


def detect_response_profile(
    url: str | None, events: Iterable[Any] = ()
) -> tuple[ResponseProfile, str]:
    """Pick a profile from the request host, else the stream's first signal, else ``openai``."""
    found = response_profile_from_url(url)
    if found is not None:
        return found
    for event in events:
        found = response_profile_from_event(event)
        if found is not None:
            return found
    return get_response_profile("openai"), "auto: no provider signal, strict default"
