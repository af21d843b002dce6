"""Typed models of a streamed Responses API answer: every event, the ``Response``, its items.

Pydantic v2 in strict mode (a wrong JSON type is a schema error the checker reports, never a
silent coercion) with ``extra="allow"`` (fields outside the API reference are kept in
``model_extra`` and reported under OAS110, never dropped). Every field is optional: which fields an
event must carry is a rule (OAS109), not a parse failure. Events form one union discriminated on
``type`` (:data:`ResponseStreamEvent`); a type outside the reference parses as
:class:`UnknownEvent` (OAS108). Output items, content parts and annotations are unions on their own
``type`` with an ``Unknown*`` fallback, so a new item type never breaks the event that carries it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

__all__ = [
    "EVENT_MODELS",
    "EVENT_TYPES",
    "LIFECYCLE_TYPES",
    "TERMINAL_TYPES",
    "Annotation",
    "ContentPart",
    "ErrorEvent",
    "EventBase",
    "OutputItem",
    "Response",
    "ResponseError",
    "ResponseStreamEvent",
    "ResponseUsage",
    "UnknownEvent",
    "event_adapter",
    "field_of",
]


def field_of(obj: Any, name: str) -> Any:
    """A declared field of a model (``None`` when absent), never a same-named extension field:
    an event may carry any key, and the rules must not mistake ``{"item": 1}`` on an event type
    without an ``item`` for one."""
    if obj is None:
        return None
    return obj.__dict__.get(name)


class _Part(BaseModel):
    """Base of every model: strict JSON types, unknown fields kept, never dropped."""

    model_config = ConfigDict(strict=True, extra="allow", protected_namespaces=())


# ------------------------------------------------------------------------------ annotations


class _AnnotationBase(_Part):
    type: str = ""


class UrlCitation(_AnnotationBase):
    """A web citation: the url, its title and where in the text it applies."""

    type: Literal["url_citation"] = "url_citation"
    url: str | None = None
    title: str | None = None
    start_index: int | None = None
    end_index: int | None = None


class FileCitation(_AnnotationBase):
    """A citation of an uploaded file (file search)."""

    type: Literal["file_citation"] = "file_citation"
    file_id: str | None = None
    filename: str | None = None
    index: int | None = None


class ContainerFileCitation(_AnnotationBase):
    """A citation of a file in a code-interpreter container."""

    type: Literal["container_file_citation"] = "container_file_citation"
    container_id: str | None = None
    file_id: str | None = None
    filename: str | None = None
    start_index: int | None = None
    end_index: int | None = None


class FilePath(_AnnotationBase):
    """A path to a generated file."""

    type: Literal["file_path"] = "file_path"
    file_id: str | None = None
    index: int | None = None


class UnknownAnnotation(_AnnotationBase):
    """An annotation type outside the reference (kept as sent)."""


_ANNOTATION_TAGS = frozenset(
    {"url_citation", "file_citation", "container_file_citation", "file_path"}
)


def _tag(known: frozenset[str]) -> Any:
    def tag(v: Any) -> str:
        t = v.get("type") if isinstance(v, dict) else getattr(v, "type", None)
        return t if isinstance(t, str) and t in known else "unknown"  # [1] is no tag either

    return tag


Annotation = Annotated[
    Annotated[UrlCitation, Tag("url_citation")]
    | Annotated[FileCitation, Tag("file_citation")]
    | Annotated[ContainerFileCitation, Tag("container_file_citation")]
    | Annotated[FilePath, Tag("file_path")]
    | Annotated[UnknownAnnotation, Tag("unknown")],
    Discriminator(_tag(_ANNOTATION_TAGS)),
]

# ------------------------------------------------------------------------------ content parts


class TopLogprob(_Part):
    """One alternative token."""

    token: str | None = None
    logprob: float | int | None = None
    bytes: list[int] | None = None


class Logprob(_Part):
    """One sampled token with its log probability (``include: message.output_text.logprobs``)."""

    token: str | None = None
    logprob: float | int | None = None
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] | None = None


class _PartBase(_Part):
    type: str = ""


class OutputTextPart(_PartBase):
    """Text of a message, with its annotations and logprobs."""

    type: Literal["output_text"] = "output_text"
    text: str | None = None
    annotations: list[Annotation] | None = None
    logprobs: list[Logprob] | None = None


class RefusalPart(_PartBase):
    """A refusal instead of text."""

    type: Literal["refusal"] = "refusal"
    refusal: str | None = None


class ReasoningTextPart(_PartBase):
    """Raw reasoning text (DeepSeek, LM Studio, OpenRouter, vLLM)."""

    type: Literal["reasoning_text"] = "reasoning_text"
    text: str | None = None


class SummaryTextPart(_PartBase):
    """One part of a reasoning summary."""

    type: Literal["summary_text"] = "summary_text"
    text: str | None = None


class UnknownPart(_PartBase):
    """A part type outside the reference (kept as sent)."""


_PART_TAGS = frozenset({"output_text", "refusal", "reasoning_text", "summary_text"})

ContentPart = Annotated[
    Annotated[OutputTextPart, Tag("output_text")]
    | Annotated[RefusalPart, Tag("refusal")]
    | Annotated[ReasoningTextPart, Tag("reasoning_text")]
    | Annotated[SummaryTextPart, Tag("summary_text")]
    | Annotated[UnknownPart, Tag("unknown")],
    Discriminator(_tag(_PART_TAGS)),
]

# ------------------------------------------------------------------------------ output items


class _ItemBase(_Part):
    id: str | None = None
    type: str = ""
    status: str | None = None


class MessageItem(_ItemBase):
    """An assistant message: content parts (text or refusal)."""

    type: Literal["message"] = "message"
    role: str | None = None
    content: list[ContentPart] | None = None
    phase: str | None = None


class FunctionCallItem(_ItemBase):
    """A call of a function tool: name, call id and the JSON arguments text."""

    type: Literal["function_call"] = "function_call"
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    namespace: str | None = None
    caller: Any = None


class ReasoningItem(_ItemBase):
    """Reasoning: summary parts, raw reasoning text parts, encrypted content."""

    type: Literal["reasoning"] = "reasoning"
    summary: list[ContentPart] | None = None
    content: list[ContentPart] | None = None
    encrypted_content: str | None = None


class WebSearchCallItem(_ItemBase):
    """A hosted web search."""

    type: Literal["web_search_call"] = "web_search_call"
    action: Any = None


class FileSearchCallItem(_ItemBase):
    """A hosted file search."""

    type: Literal["file_search_call"] = "file_search_call"
    queries: list[str] | None = None
    results: Any = None


class CodeInterpreterCallItem(_ItemBase):
    """A hosted code-interpreter run."""

    type: Literal["code_interpreter_call"] = "code_interpreter_call"
    code: str | None = None
    container_id: str | None = None
    outputs: Any = None


class McpCallItem(_ItemBase):
    """A call of a remote MCP tool."""

    type: Literal["mcp_call"] = "mcp_call"
    name: str | None = None
    arguments: str | None = None
    server_label: str | None = None
    output: Any = None
    error: Any = None
    approval_request_id: str | None = None


class McpListToolsItem(_ItemBase):
    """The tool list of a remote MCP server."""

    type: Literal["mcp_list_tools"] = "mcp_list_tools"
    server_label: str | None = None
    tools: Any = None
    error: Any = None


class CustomToolCallItem(_ItemBase):
    """A call of a freeform custom tool: its input is text, not JSON."""

    type: Literal["custom_tool_call"] = "custom_tool_call"
    call_id: str | None = None
    name: str | None = None
    input: str | None = None
    namespace: str | None = None


class ShellCallItem(_ItemBase):
    """A hosted shell call."""

    type: Literal["shell_call"] = "shell_call"
    call_id: str | None = None
    action: Any = None
    environment: Any = None


class ImageGenerationCallItem(_ItemBase):
    """A hosted image generation."""

    type: Literal["image_generation_call"] = "image_generation_call"
    result: str | None = None


class UnknownItem(_ItemBase):
    """Any other item type (computer calls, apply_patch, compaction...), kept as sent."""


_ITEM_CLASSES: dict[str, type[_ItemBase]] = {
    "message": MessageItem,
    "function_call": FunctionCallItem,
    "reasoning": ReasoningItem,
    "web_search_call": WebSearchCallItem,
    "file_search_call": FileSearchCallItem,
    "code_interpreter_call": CodeInterpreterCallItem,
    "mcp_call": McpCallItem,
    "mcp_list_tools": McpListToolsItem,
    "custom_tool_call": CustomToolCallItem,
    "shell_call": ShellCallItem,
    "image_generation_call": ImageGenerationCallItem,
}

OutputItem = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[ReasoningItem, Tag("reasoning")]
    | Annotated[WebSearchCallItem, Tag("web_search_call")]
    | Annotated[FileSearchCallItem, Tag("file_search_call")]
    | Annotated[CodeInterpreterCallItem, Tag("code_interpreter_call")]
    | Annotated[McpCallItem, Tag("mcp_call")]
    | Annotated[McpListToolsItem, Tag("mcp_list_tools")]
    | Annotated[CustomToolCallItem, Tag("custom_tool_call")]
    | Annotated[ShellCallItem, Tag("shell_call")]
    | Annotated[ImageGenerationCallItem, Tag("image_generation_call")]
    | Annotated[UnknownItem, Tag("unknown")],
    Discriminator(_tag(frozenset(_ITEM_CLASSES))),
]

# ------------------------------------------------------------------------------ the Response


class InputTokensDetails(_Part):
    """Cached (and, since mid-2026, cache-write) input tokens."""

    cached_tokens: int | None = None
    cache_write_tokens: int | None = None


class OutputTokensDetails(_Part):
    """Reasoning tokens among the output tokens."""

    reasoning_tokens: int | None = None


class ResponseUsage(_Part):
    """Token counts of the response (on the terminal snapshot only)."""

    input_tokens: int | None = None
    input_tokens_details: InputTokensDetails | None = None
    output_tokens: int | None = None
    output_tokens_details: OutputTokensDetails | None = None
    total_tokens: int | None = None


class ResponseError(_Part):
    """``response.error`` of a failed response (also the nested form of an ``error`` event)."""

    code: str | int | None = None
    message: str | None = None
    type: str | None = None
    param: str | None = None


class IncompleteDetails(_Part):
    """Why a response is incomplete (``max_output_tokens``, ``content_filter``)."""

    reason: str | None = None


class Response(_Part):
    """The Response object as the lifecycle events carry it (a snapshot, then the final one)."""

    id: str | None = None
    object: str | None = None
    created_at: int | float | None = None
    completed_at: int | float | None = None
    model: str | None = None
    status: str | None = None
    output: list[OutputItem] | None = None
    usage: ResponseUsage | None = None
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    # Request echoes: typed loosely, compared across snapshots (OAS117).
    background: bool | None = None
    conversation: Any = None
    instructions: Any = None
    max_output_tokens: int | None = None
    max_tool_calls: int | None = None
    metadata: Any = None
    moderation: Any = None
    parallel_tool_calls: bool | None = None
    previous_response_id: str | None = None
    prompt: Any = None
    prompt_cache_key: str | None = None
    prompt_cache_options: Any = None
    prompt_cache_retention: Any = None
    reasoning: Any = None
    safety_identifier: str | None = None
    service_tier: str | None = None
    temperature: float | int | None = None
    text: Any = None
    tool_choice: Any = None
    tools: Any = None
    top_logprobs: int | None = None
    top_p: float | int | None = None
    truncation: Any = None
    user: Any = None
    # Observed on api.openai.com, not typed in the SDK.
    frequency_penalty: float | int | None = None
    presence_penalty: float | int | None = None
    store: bool | None = None
    tool_usage: Any = None


# ------------------------------------------------------------------------------ events


class EventBase(_Part):
    """Every event: its ``type`` and ``sequence_number``."""

    type: str = ""
    sequence_number: int | None = None


class _ResponseEvent(EventBase):
    response: Response | None = None


class ResponseCreated(_ResponseEvent):
    type: Literal["response.created"] = "response.created"


class ResponseQueued(_ResponseEvent):
    type: Literal["response.queued"] = "response.queued"


class ResponseInProgress(_ResponseEvent):
    type: Literal["response.in_progress"] = "response.in_progress"


class ResponseCompleted(_ResponseEvent):
    type: Literal["response.completed"] = "response.completed"


class ResponseIncomplete(_ResponseEvent):
    type: Literal["response.incomplete"] = "response.incomplete"


class ResponseFailed(_ResponseEvent):
    type: Literal["response.failed"] = "response.failed"


class _OutputIndexed(EventBase):
    output_index: int | None = None


class _ItemScoped(_OutputIndexed):
    item_id: str | None = None


class OutputItemAdded(_OutputIndexed):
    type: Literal["response.output_item.added"] = "response.output_item.added"
    item: OutputItem | None = None


class OutputItemDone(_OutputIndexed):
    type: Literal["response.output_item.done"] = "response.output_item.done"
    item: OutputItem | None = None


class _ContentScoped(_ItemScoped):
    content_index: int | None = None


class ContentPartAdded(_ContentScoped):
    type: Literal["response.content_part.added"] = "response.content_part.added"
    part: ContentPart | None = None


class ContentPartDone(_ContentScoped):
    type: Literal["response.content_part.done"] = "response.content_part.done"
    part: ContentPart | None = None


class OutputTextDelta(_ContentScoped):
    type: Literal["response.output_text.delta"] = "response.output_text.delta"
    delta: str | None = None
    logprobs: list[Logprob] | None = None
    obfuscation: str | None = None


class OutputTextDone(_ContentScoped):
    type: Literal["response.output_text.done"] = "response.output_text.done"
    text: str | None = None
    logprobs: list[Logprob] | None = None


class OutputTextAnnotationAdded(_ContentScoped):
    type: Literal["response.output_text.annotation.added"] = "response.output_text.annotation.added"
    annotation_index: int | None = None
    annotation: Annotation | None = None


class RefusalDelta(_ContentScoped):
    type: Literal["response.refusal.delta"] = "response.refusal.delta"
    delta: str | None = None
    obfuscation: str | None = None


class RefusalDone(_ContentScoped):
    type: Literal["response.refusal.done"] = "response.refusal.done"
    refusal: str | None = None


class ReasoningTextDelta(_ContentScoped):
    type: Literal["response.reasoning_text.delta"] = "response.reasoning_text.delta"
    delta: str | None = None
    obfuscation: str | None = None


class ReasoningTextDone(_ContentScoped):
    type: Literal["response.reasoning_text.done"] = "response.reasoning_text.done"
    text: str | None = None


class _SummaryScoped(_ItemScoped):
    summary_index: int | None = None


class ReasoningSummaryPartAdded(_SummaryScoped):
    type: Literal["response.reasoning_summary_part.added"] = "response.reasoning_summary_part.added"
    part: ContentPart | None = None


class ReasoningSummaryPartDone(_SummaryScoped):
    type: Literal["response.reasoning_summary_part.done"] = "response.reasoning_summary_part.done"
    part: ContentPart | None = None
    status: str | None = None


class ReasoningSummaryTextDelta(_SummaryScoped):
    type: Literal["response.reasoning_summary_text.delta"] = "response.reasoning_summary_text.delta"
    delta: str | None = None
    obfuscation: str | None = None


class ReasoningSummaryTextDone(_SummaryScoped):
    type: Literal["response.reasoning_summary_text.done"] = "response.reasoning_summary_text.done"
    text: str | None = None


class FunctionCallArgumentsDelta(_ItemScoped):
    type: Literal["response.function_call_arguments.delta"] = (
        "response.function_call_arguments.delta"
    )
    delta: str | None = None
    obfuscation: str | None = None


class FunctionCallArgumentsDone(_ItemScoped):
    type: Literal["response.function_call_arguments.done"] = "response.function_call_arguments.done"
    arguments: str | None = None
    name: str | None = None


class CustomToolCallInputDelta(_ItemScoped):
    type: Literal["response.custom_tool_call_input.delta"] = "response.custom_tool_call_input.delta"
    delta: str | None = None
    obfuscation: str | None = None


class CustomToolCallInputDone(_ItemScoped):
    type: Literal["response.custom_tool_call_input.done"] = "response.custom_tool_call_input.done"
    input: str | None = None


class McpCallArgumentsDelta(_ItemScoped):
    type: Literal["response.mcp_call_arguments.delta"] = "response.mcp_call_arguments.delta"
    delta: str | None = None
    obfuscation: str | None = None


class McpCallArgumentsDone(_ItemScoped):
    type: Literal["response.mcp_call_arguments.done"] = "response.mcp_call_arguments.done"
    arguments: str | None = None


class CodeInterpreterCodeDelta(_ItemScoped):
    type: Literal["response.code_interpreter_call_code.delta"] = (
        "response.code_interpreter_call_code.delta"
    )
    delta: str | None = None
    obfuscation: str | None = None


class CodeInterpreterCodeDone(_ItemScoped):
    type: Literal["response.code_interpreter_call_code.done"] = (
        "response.code_interpreter_call_code.done"
    )
    code: str | None = None


class ImageGenerationPartialImage(_ItemScoped):
    type: Literal["response.image_generation_call.partial_image"] = (
        "response.image_generation_call.partial_image"
    )
    partial_image_b64: str | None = None
    partial_image_index: int | None = None
    background: str | None = None
    output_format: str | None = None
    quality: str | None = None
    size: str | None = None


class ShellCallCommandAdded(_OutputIndexed):
    type: Literal["response.shell_call_command.added"] = "response.shell_call_command.added"
    command_index: int | None = None
    command: str | None = None


class ShellCallCommandDelta(_OutputIndexed):
    type: Literal["response.shell_call_command.delta"] = "response.shell_call_command.delta"
    command_index: int | None = None
    delta: str | None = None
    obfuscation: str | None = None


class ShellCallCommandDone(_OutputIndexed):
    type: Literal["response.shell_call_command.done"] = "response.shell_call_command.done"
    command_index: int | None = None
    command: str | None = None


class ShellCallOutputContentDelta(_ItemScoped):
    type: Literal["response.shell_call_output_content.delta"] = (
        "response.shell_call_output_content.delta"
    )
    command_index: int | None = None
    delta: Any = None


class ShellCallOutputContentDone(_ItemScoped):
    type: Literal["response.shell_call_output_content.done"] = (
        "response.shell_call_output_content.done"
    )
    command_index: int | None = None
    output: Any = None


class AudioDelta(EventBase):
    type: Literal["response.audio.delta"] = "response.audio.delta"
    delta: str | None = None


class AudioDone(EventBase):
    type: Literal["response.audio.done"] = "response.audio.done"


class AudioTranscriptDelta(EventBase):
    type: Literal["response.audio.transcript.delta"] = "response.audio.transcript.delta"
    delta: str | None = None


class AudioTranscriptDone(EventBase):
    type: Literal["response.audio.transcript.done"] = "response.audio.transcript.done"


class ErrorEvent(EventBase):
    """An in-stream error: flat (``code``/``message``/``param``, the schema) or nested
    (``error: {...}``, what api.openai.com sends)."""

    type: Literal["error"] = "error"
    code: str | int | None = None
    message: str | None = None
    param: str | None = None
    error: ResponseError | None = None


class KeepAlive(EventBase):
    """``keepalive`` (typed in openai-node)."""

    type: Literal["keepalive"] = "keepalive"


class UnknownEvent(EventBase):
    """An event type outside the reference: kept with every field (OAS108)."""


class _Status(_ItemScoped):
    """A hosted tool's progress event: only ``item_id`` and ``output_index``."""


def _status_event(name: str) -> type[_Status]:
    cls = type(
        "".join(p.capitalize() for p in name.replace(".", "_").split("_")),
        (_Status,),
        {"__annotations__": {"type": Literal[name]}, "type": name},
    )
    return cls


#: Hosted-tool progress events (``item_id`` + ``output_index`` only), with their item type.
STATUS_EVENTS: dict[str, str] = {
    "response.web_search_call.in_progress": "web_search_call",
    "response.web_search_call.searching": "web_search_call",
    "response.web_search_call.completed": "web_search_call",
    "response.file_search_call.in_progress": "file_search_call",
    "response.file_search_call.searching": "file_search_call",
    "response.file_search_call.completed": "file_search_call",
    "response.code_interpreter_call.in_progress": "code_interpreter_call",
    "response.code_interpreter_call.interpreting": "code_interpreter_call",
    "response.code_interpreter_call.completed": "code_interpreter_call",
    "response.mcp_call.in_progress": "mcp_call",
    "response.mcp_call.completed": "mcp_call",
    "response.mcp_call.failed": "mcp_call",
    "response.mcp_list_tools.in_progress": "mcp_list_tools",
    "response.mcp_list_tools.completed": "mcp_list_tools",
    "response.mcp_list_tools.failed": "mcp_list_tools",
    "response.image_generation_call.in_progress": "image_generation_call",
    "response.image_generation_call.generating": "image_generation_call",
    "response.image_generation_call.completed": "image_generation_call",
    "response.compaction.compacting": "compaction",
}

_EXPLICIT: list[type[EventBase]] = [
    ResponseCreated,
    ResponseQueued,
    ResponseInProgress,
    ResponseCompleted,
    ResponseIncomplete,
    ResponseFailed,
    OutputItemAdded,
    OutputItemDone,
    ContentPartAdded,
    ContentPartDone,
    OutputTextDelta,
    OutputTextDone,
    OutputTextAnnotationAdded,
    RefusalDelta,
    RefusalDone,
    ReasoningTextDelta,
    ReasoningTextDone,
    ReasoningSummaryPartAdded,
    ReasoningSummaryPartDone,
    ReasoningSummaryTextDelta,
    ReasoningSummaryTextDone,
    FunctionCallArgumentsDelta,
    FunctionCallArgumentsDone,
    CustomToolCallInputDelta,
    CustomToolCallInputDone,
    McpCallArgumentsDelta,
    McpCallArgumentsDone,
    CodeInterpreterCodeDelta,
    CodeInterpreterCodeDone,
    ImageGenerationPartialImage,
    ShellCallCommandAdded,
    ShellCallCommandDelta,
    ShellCallCommandDone,
    ShellCallOutputContentDelta,
    ShellCallOutputContentDone,
    AudioDelta,
    AudioDone,
    AudioTranscriptDelta,
    AudioTranscriptDone,
    ErrorEvent,
    KeepAlive,
]

#: Event type -> its model (every type of the API reference, plus ``keepalive``).
EVENT_MODELS: dict[str, type[EventBase]] = {
    **{cls.model_fields["type"].default: cls for cls in _EXPLICIT},
    **{name: _status_event(name) for name in STATUS_EVENTS},
}
EVENT_TYPES: frozenset[str] = frozenset(EVENT_MODELS) | frozenset(
    # Observed on api.openai.com before the SDK typed them (vercel/ai recordings).
    {
        "response.apply_patch_call_operation_diff.delta",
        "response.apply_patch_call_operation_diff.done",
    }
)
LIFECYCLE_TYPES: frozenset[str] = frozenset(
    {"response.created", "response.queued", "response.in_progress"}
)
TERMINAL_TYPES: frozenset[str] = frozenset(
    {"response.completed", "response.incomplete", "response.failed"}
)

ResponseStreamEvent: Any = Annotated[
    Union[tuple(EVENT_MODELS.values())],  # noqa: UP007 (a union built from the table)
    Field(discriminator="type"),
]
"""One event of a Responses stream: a union discriminated on ``type``."""

event_adapter: TypeAdapter[EventBase] = TypeAdapter(ResponseStreamEvent)
