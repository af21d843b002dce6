"""The rule catalog: one table, ``RULES``, with each rule's code, name, severity and checks.

Codes and names are the stable public API of ``SPEC-invariants.md``. A rule's checks hook into
three points of the one-way flow: ``on_event`` (each SSE event, framing), ``on_chunk`` (each typed
chunk, before the assembler takes it in) and ``on_end`` (the whole stream). They read the shared
``RuleContext`` and report through ``ctx.emit``; the profile decides each finding's severity.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ..core.report import Violation
from ..core.rules import (
    BYTE_RULES,
    Emitter,
    Rule,
    Tally,
    failed_request,
)
from ..core.sources import HttpInfo
from .assembly import Assembler
from .evidence import hint_for
from .models import (
    ChatCompletionChunk,
    Choice,
    ChoiceLogprobs,
    CompletionTokensDetails,
    Delta,
    FunctionCallFragment,
    PromptTokensDetails,
    TokenLogprob,
    ToolCallFragment,
    Usage,
    spec_fields,
)

if TYPE_CHECKING:
    from ..core.sse import FramingFacts, SSEEvent
    from .profiles import Profile

__all__ = ["RULES", "RULES_BY_CODE", "HttpInfo", "Rule", "RuleContext", "failed_request"]

FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})
SERVICE_TIERS = frozenset({"auto", "default", "flex", "scale", "priority", "fast"})
EARLIEST_CREATED = 1577836800  # 2020-01-01
MS_THRESHOLD = 100_000_000_000  # anything above is not Unix seconds
FUTURE_SLACK = 600


@dataclass
class RuleContext(Emitter):
    """Everything the checks share while one stream passes through."""

    profile: Profile
    request: dict[str, Any] | None
    ignore: frozenset[str]
    framing: bool = True
    http: HttpInfo | None = None
    http_body: bytes | None = None  # the body of a failed request (see failed_request)
    now: float = field(default_factory=time.time)
    findings: list[Violation] = field(default_factory=list)
    asm: Assembler = field(default_factory=Assembler)
    # The current position.
    pos: int = -1
    raw: str | None = None
    is_filter: bool = False
    # Stream-level state.
    chunks: int = 0
    ref: ChatCompletionChunk | None = None
    done: int = 0
    done_event: int | None = None
    data_after_done: int = 0
    error_events: int = 0
    error_after: int = 0
    usages: list[tuple[int, Usage, bool]] = field(default_factory=list)
    annotation_after_usage: int = 0
    usage_trailers: set[int] = field(default_factory=set)
    ext_seen: dict[str, int] = field(default_factory=dict)  # path -> first chunk index
    ext_order: list[str] = field(default_factory=list)  # ext_seen's keys, for readers to resume
    choice_mex: int = 0  # no choice index below this is unseen (OAS020, amortised linear)
    tool_ids: dict[str, int] = field(default_factory=dict)
    reasoning_fields: set[str] = field(default_factory=set)
    fingerprints: set[str] = field(default_factory=set)
    fingerprint_missing: int = 0
    fingerprint_absent: int = 0
    tallies: dict[str, Tally] = field(default_factory=dict)
    # OAS043: (choice, field) -> deltas whose list entries have no integer index.
    unindexed: dict[tuple[int | None, str], int] = field(default_factory=dict)
    facts: FramingFacts | None = None
    last_event: SSEEvent | None = None

    def __post_init__(self) -> None:
        req = self.request or {}
        n = req.get("n")
        self.n: int = n if isinstance(n, int) and n > 0 else 1
        opts = req.get("stream_options")
        include = opts.get("include_usage") if isinstance(opts, dict) else None
        self.include_usage: bool | None = bool(include) if self.request is not None else None
        tc = req.get("tool_choice")
        self.named_tool_choice: bool = isinstance(tc, dict) or tc == "required"
        self.logprobs_requested: bool | None = (
            bool(req.get("logprobs")) if self.request is not None else None
        )
        top = req.get("top_logprobs")
        self.top_logprobs: int | None = top if isinstance(top, int) else None
        self.init_levels(RULES, self.profile.severity, self.ignore)

    def hint(self, code: str, message: str) -> str:
        """An error's message with what real clients do (chat/evidence.py, the client matrix)."""
        return hint_for(code, message)


EventCheck = Callable[[RuleContext, "SSEEvent"], None]
ChunkCheck = Callable[[RuleContext, ChatCompletionChunk], None]
EndCheck = Callable[[RuleContext], None]


# ---------------------------------------------------------------- A. framing and termination


def _event_field_event(ctx: RuleContext, ev: SSEEvent) -> None:
    names = [
        n for n, v in (("event", ev.event), ("id", ev.id), ("retry", ev.retry)) if v is not None
    ]
    names += list(ev.other_fields)
    if not ev.has_data:
        fields = ", ".join(f"`{n}:`" for n in names) or "no fields"
        known = ev.event is not None or ev.id is not None or ev.retry is not None
        ctx.emit(
            "OAS006",
            None,
            f"event at line {ev.line} has {fields} but no `data:`; "
            + (
                "openai-python calls json() on it and raises"
                if known
                else "clients ignore unknown fields, so its payload is lost"
            ),
        )
        return
    if names and ev.event != "error":
        ctx.tally("OAS006", ctx.pos + 1, f"SSE field(s) {', '.join(names)} at line {ev.line}")


def _event_field_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS006", "OAS006", minor=True, what="event")


def _done_end(ctx: RuleContext) -> None:
    if ctx.done == 0:
        if ctx.error_events:
            return  # an error event ends a stream without [DONE] (OAS038 reports it)
        if ctx.asm.choices and all(m.finish_chunk is not None for m in ctx.asm.choices.values()):
            msg = "no `data: [DONE]` after the finish (clients end quietly)"
        else:
            msg = (
                "no `data: [DONE]`: the stream is truncated; four of seven clients return the "
                "partial answer without an error"
            )
        ctx.emit("OAS008", None, msg)
    elif ctx.done > 1:
        ctx.emit("OAS008", None, f"`data: [DONE]` sent {ctx.done} times")
    if ctx.data_after_done:
        ctx.emit(
            "OAS008",
            None,
            f"{ctx.data_after_done} data event(s) after `[DONE]`; "
            "openai-python stops reading at [DONE] and drops them",
        )


# ------------------------------------------------------------------- B. envelope and schema


def _object_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    if c.object != "chat.completion.chunk" and not ctx.is_filter:
        ctx.tally(
            "OAS009",
            ctx.pos,
            f"object is {c.object!r}, not 'chat.completion.chunk'",
            field="object",
        )


def _object_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS009", "OAS009")


def _required_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    if ctx.is_filter:
        return
    missing = []
    if not c.id:
        missing.append("id" if c.id is None else "id (empty)")
    if c.created is None:
        missing.append("created")
    if not c.model:
        missing.append("model" if c.model is None else "model (empty)")
    if c.choices is None:
        missing.append("choices (null)" if "choices" in c.model_fields_set else "choices")
    if missing:
        ctx.tally("OAS010:" + ",".join(missing), ctx.pos, "missing: " + ", ".join(missing))


def _required_end(ctx: RuleContext) -> None:
    for key in [k for k in ctx.tallies if k.startswith("OAS010:")]:
        ctx.flush_tally(key, "OAS010")


def _choice_fields_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    if ctx.is_filter:
        # Azure's asynchronous-filter annotations are exempt as envelopes, yet the usual loop
        # reads choices[0].delta and raises on them (client matrix: azure__async-filter_*).
        if any(ch.delta is None for ch in c.choices or ()):
            ctx.tally(
                "OAS011-filter",
                ctx.pos,
                "Azure filter annotation with a choice but no `delta`; the usual loop "
                "(chunk.choices[0].delta) raises AttributeError on it",
            )
        return
    for i, ch in enumerate(c.choices or ()):
        if ch.index is None:
            ctx.emit("OAS011", ctx.pos, "choice without an integer `index`", path=f"choices[{i}]")
        if ch.delta is None:
            ctx.emit(
                "OAS011",
                ctx.pos,
                "choice without a `delta` object; clients dereference it",
                path=f"choices[{i}]",
            )
        if "finish_reason" not in ch.model_fields_set:
            ctx.tally("OAS011-finish", ctx.pos, "choice without the `finish_reason` key")


def _choice_fields_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS011-finish", "OAS011", minor=True)
    ctx.flush_tally("OAS011-filter", "OAS011", minor=True)


def _enum_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    prof = ctx.profile
    for i, ch in enumerate(c.choices or ()):
        fr = ch.finish_reason
        if fr is not None and fr not in FINISH_REASONS and fr not in prof.finish_reasons:
            ctx.emit(
                "OAS012",
                ctx.pos,
                f"finish_reason {fr!r} is not one of the spec's",
                path=f"choices[{i}].finish_reason",
            )
        d = ch.delta
        if d is None:
            continue
        if d.role is not None and d.role != "assistant":
            ctx.emit(
                "OAS012",
                ctx.pos,
                f"role {d.role!r}, expected 'assistant'",
                path=f"choices[{i}].delta.role",
                minor=True,
            )
        for j, tc in enumerate(d.tool_calls or ()):
            if tc.type is not None and tc.type != "function" and tc.type != "":
                ctx.emit(
                    "OAS012",
                    ctx.pos,
                    f"tool call type {tc.type!r}, expected 'function'",
                    path=f"choices[{i}].delta.tool_calls[{j}].type",
                )
    tier = c.service_tier
    if tier is not None and tier not in SERVICE_TIERS and tier not in prof.service_tiers:
        ctx.tally(
            "OAS012-tier",
            ctx.pos,
            f"service_tier {tier!r} is not one of the spec's",
            field="service_tier",
        )


def _enum_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS012-tier", "OAS012", minor=True)


def _ext_check(ctx: RuleContext, obj: BaseModel, prefix: str, spec: frozenset[str]) -> None:
    fs = obj.model_fields_set
    extra = obj.__pydantic_extra__
    if fs <= spec and not extra:
        return
    names = set(fs - spec)
    if extra:
        names.update(extra)
    for name in names:
        path = prefix + name
        if path in ctx.ext_seen:
            continue
        ctx.ext_seen[path] = ctx.pos
        ctx.ext_order.append(path)
        if ctx.profile.allows_extension(path):
            continue
        known = "" if name in type(obj).model_fields else " (unknown to the models, kept)"
        ctx.emit("OAS014", ctx.pos, f"extension field `{path}`{known}", path=path)


_S_CHUNK = spec_fields(ChatCompletionChunk)
_S_CHOICE = spec_fields(Choice)
_S_DELTA = spec_fields(Delta)
_S_TOOL = spec_fields(ToolCallFragment)
_S_FN = spec_fields(FunctionCallFragment)
_S_LOGPROBS = spec_fields(ChoiceLogprobs)
_S_USAGE = spec_fields(Usage)
_S_PTD = spec_fields(PromptTokensDetails)
_S_CTD = spec_fields(CompletionTokensDetails)


def _extension_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    _ext_check(ctx, c, "", _S_CHUNK)
    for ch in c.choices or ():
        _ext_check(ctx, ch, "choices[].", _S_CHOICE)
        d = ch.delta
        if d is not None:
            _ext_check(ctx, d, "choices[].delta.", _S_DELTA)
            for tc in d.tool_calls or ():
                _ext_check(ctx, tc, "choices[].delta.tool_calls[].", _S_TOOL)
                if tc.function is not None:
                    _ext_check(ctx, tc.function, "choices[].delta.tool_calls[].function.", _S_FN)
        if ch.logprobs is not None:
            _ext_check(ctx, ch.logprobs, "choices[].logprobs.", _S_LOGPROBS)
    u = c.usage
    if u is not None:
        _ext_check(ctx, u, "usage.", _S_USAGE)
        if u.prompt_tokens_details is not None:
            _ext_check(ctx, u.prompt_tokens_details, "usage.prompt_tokens_details.", _S_PTD)
        if u.completion_tokens_details is not None:
            _ext_check(ctx, u.completion_tokens_details, "usage.completion_tokens_details.", _S_CTD)


# --------------------------------------------------------------------- C. constancy


def _constancy_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    if ctx.is_filter:
        if ctx.pos == 0 and not (c.id and c.model):
            # Azure's prompt-filter prologue is exempt as an envelope, but clients that take
            # the response's id and model from the first chunk get neither (client matrix:
            # the AI SDK on azure__*; [ai-fx-placeholder]).
            ctx.emit(
                "OAS017",
                0,
                "the first chunk (a filter chunk) has an empty model and id; the AI SDK takes "
                "both from it and reports neither",
            )
        return
    ref = ctx.ref
    if ref is None:
        return
    if c.id != ref.id and c.id:
        ctx.tally(
            "OAS015", ctx.pos, f"id {c.id!r} differs from the first chunk's {ref.id!r}", field="id"
        )
    if c.created != ref.created and c.created is not None:
        ctx.tally(
            "OAS016",
            ctx.pos,
            f"created {c.created} differs from the first chunk's {ref.created}",
            field="created",
        )
    if c.model != ref.model and c.model:
        ctx.tally(
            "OAS017",
            ctx.pos,
            f"model {c.model!r} differs from the first chunk's {ref.model!r}",
            field="model",
        )
    fp = c.system_fingerprint
    if fp is not None:
        ctx.fingerprints.add(fp)
    elif ctx.fingerprints:
        ctx.fingerprint_missing += 1  # null or absent after a value: the SDK snapshot loses it
    else:
        ctx.fingerprint_absent += 1
    if (
        c.service_tier is not None
        and ref.service_tier is not None
        and c.service_tier != ref.service_tier
    ):
        ctx.tally(
            "OAS018-tier",
            ctx.pos,
            f"service_tier {c.service_tier!r} differs from {ref.service_tier!r}",
            field="service_tier",
        )


def _id_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS015", "OAS015")


def _created_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS016", "OAS016")


def _model_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS017", "OAS017")


def _fingerprint_end(ctx: RuleContext) -> None:
    if ctx.ref is not None and ctx.ref.system_fingerprint is not None:
        ctx.fingerprints.add(ctx.ref.system_fingerprint)
    if len(ctx.fingerprints) > 1:
        values = ", ".join(repr(v) for v in sorted(ctx.fingerprints)[:3])
        ctx.emit(
            "OAS018", None, f"system_fingerprint takes {len(ctx.fingerprints)} values: {values}"
        )
    ctx.flush_tally("OAS018-tier", "OAS018")
    if ctx.fingerprint_missing:
        ctx.emit(
            "OAS018",
            None,
            f"system_fingerprint missing on {ctx.fingerprint_missing} chunk(s) after one "
            "carried it; openai-python overwrites the snapshot's value with None",
            minor=True,
        )
    elif ctx.fingerprints and ctx.fingerprint_absent:
        ctx.emit(
            "OAS018",
            None,
            f"system_fingerprint absent from the first {ctx.fingerprint_absent} chunk(s)",
            minor=True,
        )


# ------------------------------------------------------------------- D. choices and deltas


def _index_range_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    seen: set[int] = set()
    for i, ch in enumerate(c.choices or ()):
        idx = ch.index
        if idx is None:
            continue
        if idx in seen:
            ctx.emit(
                "OAS019", ctx.pos, f"choice index {idx} twice in one chunk", path=f"choices[{i}]"
            )
        seen.add(idx)
        if idx < 0 or idx >= ctx.n:
            ctx.tally(
                f"OAS019:{idx}",
                ctx.pos,
                f"choice index {idx} outside [0, {ctx.n})",
                path=f"choices[{i}].index",
            )


def _index_range_end(ctx: RuleContext) -> None:
    for key in [k for k in ctx.tallies if k.startswith("OAS019:")]:
        idx = int(key[7:])
        ctx.flush_tally(key, "OAS019", needs_request=idx >= 0)


def _index_order_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    if ctx.is_filter:
        return
    known = ctx.asm.choices
    opened: set[int] = set()  # new indexes earlier in this chunk (0 and 2 together skip 1)
    # The lowest index neither known nor opened: both sets only grow, so it only moves up
    # (kept across chunks for `known`: each step is taken once per stream, not per chunk).
    mex = ctx.choice_mex
    while mex in known:
        mex += 1
    ctx.choice_mex = mex
    expected = mex
    for i, ch in enumerate(c.choices or ()):
        idx = ch.index
        if idx is None or idx in known or idx < 0 or idx in opened:
            continue
        while expected in known or expected in opened:
            expected += 1
        opened.add(idx)
        if idx != expected:
            ctx.emit(
                "OAS020",
                ctx.pos,
                f"choice {idx} appears before choice {expected}",
                path=f"choices[{i}].index",
            )


def _role_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    if ctx.is_filter:
        return
    known = ctx.asm.choices
    for _i, ch in enumerate(c.choices or ()):
        d = ch.delta
        if d is None or ch.index is None:
            continue
        msg = known.get(ch.index)
        if msg is not None and msg.role is not None and d.role is not None:
            ctx.tally(
                "OAS021-repeat",
                ctx.pos,
                f"role repeated in a later delta of choice {ch.index}; openai-python's "
                "accumulator makes it 'assistantassistant'",
                field="role",
            )


def _role_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS021-repeat", "OAS021")
    for msg in ctx.asm.choices.values():
        if msg.role is None:
            ctx.emit(
                "OAS021",
                msg.first_chunk,
                f"choice {msg.index} never carries a role; "
                "openai-node throws 'missing role for choice'",
            )
        elif not msg.first_role:
            ctx.emit(
                "OAS021",
                msg.first_chunk,
                f"choice {msg.index}'s first delta has no role (it comes later)",
                minor=True,
            )


def _has_payload(ch: Choice) -> bool:
    d = ch.delta
    if ch.logprobs is not None and (ch.logprobs.content or ch.logprobs.refusal):
        return True
    if d is None:
        return False
    return bool(
        d.content
        or d.refusal
        or d.tool_calls
        or d.reasoning_content
        or d.reasoning
        or d.reasoning_details
        or d.function_call
        or d.audio
        or d.annotations
        or d.__pydantic_extra__
    )


def _noise_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    if ctx.is_filter:
        return
    known = ctx.asm.choices
    for ch in c.choices or ():
        d = ch.delta
        if d is not None and d.tool_calls is not None and not d.tool_calls:
            ctx.tally("OAS022-tools", ctx.pos, "`tool_calls: []` in a delta", field="tool_calls")
        if ch.index not in known or ch.finish_reason is not None or d is None:
            continue
        if not _has_payload(ch):
            ctx.tally("OAS022-empty", ctx.pos, f"contentless delta for choice {ch.index}")


def _noise_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS022-tools", "OAS022")
    ctx.flush_tally("OAS022-empty", "OAS022")


# ---------------------------------------------------------------------------- E. finish


def _finish_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    if ctx.is_filter:
        return
    known = ctx.asm.choices
    if c.usage is not None and _usage_trailer(ctx, c):
        return
    for ch in c.choices or ():
        msg = known.get(ch.index) if ch.index is not None else None
        if msg is None or msg.finish_chunk is None:
            continue
        if ch.finish_reason is not None:
            ctx.emit(
                "OAS023",
                ctx.pos,
                f"second finish_reason {ch.finish_reason!r} for choice "
                f"{ch.index} (first at chunk {msg.finish_chunk}); LangChain joins them "
                f"({ch.finish_reason * 2!r})",
            )
        ctx.tally(
            f"OAS024:{ch.index}",
            ctx.pos,
            f"delta for choice {ch.index} after its finish at chunk {msg.finish_chunk}",
        )


def _finish_end(ctx: RuleContext) -> None:
    if ctx.error_events:
        return
    for msg in ctx.asm.choices.values():
        if msg.finish_chunk is None:
            ctx.emit(
                "OAS023",
                msg.last_chunk,
                f"choice {msg.index} never gets a finish_reason: truncated stream; four of "
                "seven clients return the partial answer without an error",
            )


def _after_finish_end(ctx: RuleContext) -> None:
    for key in [k for k in ctx.tallies if k.startswith("OAS024:")]:
        ctx.flush_tally(key, "OAS024")


def _finish_tools_end(ctx: RuleContext) -> None:
    for msg in ctx.asm.choices.values():
        if msg.finish_reason is None:
            continue
        if msg.first_tool_chunk is not None and msg.finish_reason != "tool_calls":
            if ctx.named_tool_choice:
                continue
            ctx.emit(
                "OAS025",
                msg.finish_chunk,
                f"choice {msg.index} streamed tool calls but "
                f"finishes with {msg.finish_reason!r}; agent loops end the turn",
                # A named tool_choice makes OpenAI itself answer `stop` [vllm-serving].
                needs_request=True,
            )
        elif msg.first_tool_chunk is None and msg.finish_reason == "tool_calls":
            ctx.emit(
                "OAS025",
                msg.finish_chunk,
                f"choice {msg.index} finishes with 'tool_calls' but streamed no tool call",
            )


# ----------------------------------------------------------------------------- F. usage


def stream_usage(profile: Profile, c: ChatCompletionChunk) -> Usage | None:
    """The usage a chunk carries where the profile allows it (top level, or ``x_groq.usage``)."""
    if c.usage is not None:
        return c.usage
    if profile.usage_in_x_groq and c.x_groq is not None and c.x_groq.usage is not None:
        return c.x_groq.usage
    return None


def _usage_trailer(ctx: RuleContext, c: ChatCompletionChunk) -> bool:
    """A usage chunk after the finish that repeats the finished choices with nothing new (an empty
    delta, no or the same finish_reason), where the profile allows it (``usage_after_finish``)."""
    if not ctx.profile.usage_after_finish or c.usage is None or not c.choices:
        return False
    known = ctx.asm.choices
    for ch in c.choices:
        msg = known.get(ch.index) if ch.index is not None else None
        if msg is None or msg.finish_chunk is None or _has_payload(ch):
            return False
        if ch.finish_reason is not None and ch.finish_reason != msg.finish_reason:
            return False
    return True


def _usage_place_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    if c.usage is not None and _usage_trailer(ctx, c):
        ctx.usage_trailers.add(ctx.pos)
    if ctx.usages and c.usage is None and not ctx.is_filter:
        if c.choices:
            ctx.tally(
                "OAS026-after",
                ctx.pos,
                "a chunk with choices after the usage chunk; "
                "openai-python overwrites the usage with None",
            )
        else:
            ctx.annotation_after_usage += 1


def _usage_place_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS026-after", "OAS026")
    usages = ctx.usages
    if not usages:
        return
    if ctx.annotation_after_usage:
        # OpenAI's own moderation chunk (gpt-5) does this, yet both SDKs' stream helpers lose
        # the usage: they assign `usage` from every chunk [py-acc] [node-stream]. Client
        # matrix: variant usage_null_trailer, corpus openai__gpt-5_moderation-chunk-after-usage.
        ctx.emit(
            "OAS026",
            None,
            f"{ctx.annotation_after_usage} annotation chunk(s) (choices: []) after the usage "
            "chunk: openai-python's .stream() and openai-node's finalChatCompletion() then "
            "report usage None",
            minor=1,
        )
    prof = ctx.profile
    placed = []
    finishes = {m.finish_chunk for m in ctx.asm.choices.values()}  # once, not per usage chunk
    for pos, usage, on_choices in usages:
        if not on_choices:
            placed.append((pos, usage))
            continue
        finish_here = pos in finishes
        if (prof.usage_on_finish_chunk and finish_here) or pos in ctx.usage_trailers:
            placed.append((pos, usage))
            continue
        ctx.tally(
            "OAS026-choices",
            pos,
            "usage on a chunk that has choices"
            + ("" if finish_here else " (not the finish chunk)")
            + "; clients that treat usage as the terminal chunk drop its delta",
        )
    ctx.flush_tally("OAS026-choices", "OAS026")
    if len(placed) > 1:
        same = all(_usage_key(u) == _usage_key(placed[0][1]) for _, u in placed)
        if not (same and prof.usage_on_finish_chunk):
            ctx.emit("OAS026", placed[1][0], f"usage sent {len(placed)} times")
        else:
            # The profile allows the repeat (Groq), but LangChain adds the copies up: a warning
            # (client matrix: corpus groq__kimi-k2_usage-twice.sse, langchain usage doubled).
            ctx.emit(
                "OAS026",
                placed[1][0],
                f"the same usage sent {len(placed)} times; LangChain adds the copies up",
                minor=1,
            )
    unfinished = [
        m.index
        for m in ctx.asm.choices.values()
        if m.finish_chunk is None or m.finish_chunk > usages[-1][0]
    ]
    if unfinished and not ctx.error_events:
        ctx.emit(
            "OAS026",
            usages[-1][0],
            f"usage before the finish of choice(s) {', '.join(map(str, unfinished))}",
        )


def _usage_key(u: Usage) -> tuple[int | None, int | None, int | None]:
    return (u.prompt_tokens, u.completion_tokens, u.total_tokens)


def _usage_opt_in_end(ctx: RuleContext) -> None:
    if not ctx.usages or ctx.include_usage:
        return
    ctx.emit(
        "OAS027",
        ctx.usages[0][0],
        "usage sent although `stream_options.include_usage` was not requested",
        needs_request=True,
    )


def _usage_math_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    u = stream_usage(ctx.profile, c)
    if u is None:
        return
    p, comp, total = u.prompt_tokens, u.completion_tokens, u.total_tokens
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = getattr(u, name)
        if value is None:
            ctx.emit("OAS028", ctx.pos, f"usage without `{name}`", path=f"usage.{name}")
        elif value < 0:
            ctx.emit("OAS028", ctx.pos, f"negative {name} {value}", path=f"usage.{name}")
    ctd, ptd = u.completion_tokens_details, u.prompt_tokens_details
    reasoning = ctd.reasoning_tokens if ctd is not None else None
    if p is not None and comp is not None and total is not None and total != p + comp:
        outside = (
            ctx.profile.reasoning_outside_completion
            and reasoning is not None
            and total == p + comp + reasoning
        )
        if not outside:
            ctx.emit(
                "OAS028",
                ctx.pos,
                f"total_tokens {total} != prompt_tokens {p} + completion_tokens {comp}",
            )
        else:
            # xAI's way, allowed by its profile; but clients that rebuild the total drop the
            # reasoning tokens (client matrix: xai__* rows, LiteLLM and the AI SDK).
            ctx.emit(
                "OAS028",
                ctx.pos,
                f"total_tokens {total} counts {reasoning} reasoning tokens that completion_tokens "
                f"{comp} leaves out; LiteLLM and the AI SDK report a total of {p + comp}",
                minor=1,
            )
    if ptd is not None and p is not None:
        for name in ("cached_tokens", "audio_tokens", "text_tokens", "image_tokens"):
            v = getattr(ptd, name)
            if v is not None and v > p:
                ctx.emit(
                    "OAS028",
                    ctx.pos,
                    f"prompt_tokens_details.{name} {v} > prompt_tokens {p}",
                    minor=True,
                )
    if ctd is not None and comp is not None:
        if (
            reasoning is not None
            and reasoning > comp
            and not ctx.profile.reasoning_outside_completion
        ):
            ctx.emit(
                "OAS028",
                ctx.pos,
                f"reasoning_tokens {reasoning} > completion_tokens {comp}",
                minor=True,
            )
        acc, rej = ctd.accepted_prediction_tokens, ctd.rejected_prediction_tokens
        if acc is not None and rej is not None and acc + rej > comp:
            ctx.emit(
                "OAS028",
                ctx.pos,
                f"accepted + rejected prediction tokens {acc + rej} > completion_tokens {comp}",
                minor=True,
            )
    if ctx.profile.cache_hit_identity and p is not None:
        hit, miss = u.prompt_cache_hit_tokens, u.prompt_cache_miss_tokens
        if hit is not None and miss is not None and hit + miss != p:
            ctx.emit(
                "OAS028",
                ctx.pos,
                f"prompt_cache_hit_tokens {hit} + prompt_cache_miss_tokens "
                f"{miss} != prompt_tokens {p}",
            )
    if ctx.usages:
        prev = ctx.usages[-1][1]
        if (prev.completion_tokens or 0) > (comp or 0):
            ctx.emit(
                "OAS028",
                ctx.pos,
                f"completion_tokens decreased from {prev.completion_tokens} to {comp}",
                minor=True,
            )


# ------------------------------------------------------------------------ G. tool calls


def _tool_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    """OAS029-OAS032 and OAS034 in one pass over the fragments (state lives in the assembler)."""
    for i, ch in enumerate(c.choices or ()):
        d = ch.delta
        if d is None or not d.tool_calls:
            continue
        msg = ctx.asm.choices.get(ch.index) if ch.index is not None else None
        calls = msg._calls if msg is not None else {}
        last_open = msg.top_call if msg is not None else None  # max(calls), kept by the assembler
        opened_here: set[int] = set()
        top_here: int | None = None  # max(opened_here)
        for j, tc in enumerate(d.tool_calls):
            path = f"choices[{i}].delta.tool_calls[{j}]"
            idx = tc.index
            fn = tc.function
            name = fn.name if fn is not None else None
            if idx is None:
                ctx.tally(
                    "OAS029",
                    ctx.pos,
                    "tool-call fragment without `index`; openai-python's .stream() raises "
                    "TypeError, openai-node's .stream() drops the call",
                    field="tool_calls",
                )
                continue
            if idx < 0:
                ctx.emit("OAS029", ctx.pos, f"negative tool-call index {idx}", path=path)
                continue
            existing = calls.get(idx)
            is_first = existing is None and idx not in opened_here
            if is_first:
                expected = last_open + 1 if last_open is not None else 0
                if top_here is not None:
                    expected = max(expected, top_here + 1)
                if idx != expected and ctx.active("OAS030"):
                    ctx.emit(
                        "OAS030",
                        ctx.pos,
                        f"tool call index {idx} opens where {expected} was expected (gap)",
                        path=f"{path}.index",
                    )
                opened_here.add(idx)
                if top_here is None or idx > top_here:
                    top_here = idx
                missing = []
                if not tc.id:
                    missing.append("id")
                if tc.type != "function":
                    missing.append("type 'function'")
                if not name:
                    missing.append("function.name")
                if missing and ctx.active("OAS031"):
                    ctx.emit(
                        "OAS031",
                        ctx.pos,
                        f"first fragment of tool call {idx} lacks " + ", ".join(missing),
                        path=path,
                    )
                if tc.id:
                    prior = ctx.tool_ids.get(tc.id)
                    if prior is not None:
                        ctx.emit(
                            "OAS034",
                            ctx.pos,
                            f"tool-call id {tc.id!r} already used at chunk {prior}",
                            path=f"{path}.id",
                        )
                    else:
                        ctx.tool_ids[tc.id] = ctx.pos
            else:
                if existing is not None:
                    if (tc.id and existing.id and tc.id != existing.id) or (
                        name and existing.name and name != existing.name
                    ):
                        ctx.emit(
                            "OAS030",
                            ctx.pos,
                            f"tool-call index {idx} reused for another "
                            f"call ({existing.id}/{existing.name} -> {tc.id}/{name})",
                            path=path,
                        )
                        continue
                    if last_open is not None and idx < last_open:
                        ctx.tally(
                            "OAS030-interleave",
                            ctx.pos,
                            f"fragments of tool call {idx} "
                            f"after call {last_open} opened (interleaved)",
                        )
                if tc.id or name:
                    repeated = ", ".join(
                        k for k, v in (("id", tc.id), ("function.name", name)) if v
                    )
                    ctx.tally(
                        "OAS032-strong",
                        ctx.pos,
                        f"later fragment of tool call {idx} "
                        f"repeats {repeated}; openai-python concatenates it "
                        "(e.g. 'call_acall_a')",
                    )
                elif tc.type is not None or tc.id == "" or name == "":
                    ctx.tally(
                        "OAS032-weak",
                        ctx.pos,
                        f"later fragment of tool call {idx} repeats type or an empty id/name",
                    )


def _tool_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS029", "OAS029", what="fragment")
    ctx.flush_tally("OAS030-interleave", "OAS030", minor=True)
    ctx.flush_tally("OAS032-strong", "OAS032", what="fragment")
    ctx.flush_tally("OAS032-weak", "OAS032", minor=True, what="fragment")


def _tool_args_end(ctx: RuleContext) -> None:
    for msg in ctx.asm.choices.values():
        for idx in sorted(msg._calls):
            call = msg._calls[idx]
            parts = call._parts
            args = "".join(parts)
            where = f"choices[{msg.index}] tool call {idx}"
            if not args:
                ctx.emit(
                    "OAS033",
                    call.first_chunk,
                    f"{where} ({call.name}) has empty arguments (not even `{{}}`)",
                    minor=2,  # info: vLLM sends "" for argument-less tools [vllm-test-fc]
                    text=None,
                )
                continue
            if len(parts) > 2 and all(
                parts[k].startswith(parts[k - 1]) and parts[k - 1] for k in range(1, len(parts))
            ):
                ctx.emit(
                    "OAS033",
                    call.first_chunk,
                    f"{where}: argument fragments are cumulative snapshots, not increments",
                    text=args,
                )
                continue
            try:
                value = json.loads(args)
            except ValueError as exc:
                ctx.emit(
                    "OAS033",
                    call.first_chunk,
                    f"{where} ({call.name}): arguments are not "
                    f"one JSON object ({exc.__class__.__name__}: {exc})",
                    minor=True,
                    text=args,
                )
                continue
            if not isinstance(value, dict):
                ctx.emit(
                    "OAS033",
                    call.first_chunk,
                    f"{where}: arguments are JSON {type(value).__name__}, not an object",
                    minor=True,
                    text=args,
                )


# ---------------------------------------------------- H. content, refusal, reasoning, logprobs


def _refusal_end(ctx: RuleContext) -> None:
    for msg in ctx.asm.choices.values():
        if msg._content and msg._refusal:
            ctx.emit(
                "OAS035", msg.first_chunk, f"choice {msg.index} streams both content and refusal"
            )


def _reasoning_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    for ch in c.choices or ():
        d = ch.delta
        if d is None or (not d.reasoning_content and not d.reasoning):
            continue
        name = "reasoning_content" if d.reasoning_content else "reasoning"
        if d.reasoning_content and d.reasoning:
            ctx.tally(
                "OAS036-both", ctx.pos, "both `reasoning_content` and `reasoning` in one delta"
            )
        ctx.reasoning_fields.add(name)
        msg = ctx.asm.choices.get(ch.index) if ch.index is not None else None
        if msg is not None and (
            msg.first_content_chunk is not None or msg.first_tool_chunk is not None
        ):
            first = min(x for x in (msg.first_content_chunk, msg.first_tool_chunk) if x is not None)
            ctx.tally(
                "OAS036-order",
                ctx.pos,
                f"reasoning for choice {ch.index} after its answer started at chunk {first}",
            )


def _reasoning_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS036-order", "OAS036")
    ctx.flush_tally("OAS036-both", "OAS036")
    if len(ctx.reasoning_fields) > 1:
        ctx.emit(
            "OAS036",
            None,
            "reasoning uses two field names: " + ", ".join(sorted(ctx.reasoning_fields)),
        )


def _logprob_entries(ctx: RuleContext, entries: list[TokenLogprob], path: str) -> None:
    for k, e in enumerate(entries):
        where = f"{path}[{k}]"
        if (
            e.token is None
            or e.logprob is None
            or "bytes" not in e.model_fields_set
            or e.top_logprobs is None
        ):
            ctx.emit(
                "OAS037",
                ctx.pos,
                "logprob entry lacks token, logprob, bytes or top_logprobs",
                path=where,
            )
            continue
        if e.logprob > 0:
            ctx.emit("OAS037", ctx.pos, f"logprob {e.logprob} > 0", path=f"{where}.logprob")
        if e.bytes is not None:
            if any(b < 0 or b > 255 for b in e.bytes):
                ctx.emit("OAS037", ctx.pos, "bytes outside 0-255", path=f"{where}.bytes")
            elif bytes(e.bytes) != e.token.encode("utf-8") and "\ufffd" not in e.token:
                ctx.emit(
                    "OAS037", ctx.pos, "bytes are not the UTF-8 of token", path=f"{where}.bytes"
                )
        if ctx.top_logprobs is not None and len(e.top_logprobs) > ctx.top_logprobs:
            ctx.emit(
                "OAS037",
                ctx.pos,
                f"{len(e.top_logprobs)} top_logprobs, {ctx.top_logprobs} requested",
                path=f"{where}.top_logprobs",
            )


def _logprobs_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    for i, ch in enumerate(c.choices or ()):
        lp = ch.logprobs
        if lp is None:
            continue
        if ctx.logprobs_requested is not True and (lp.content or lp.refusal):
            ctx.tally(
                "OAS037-unasked", ctx.pos, "logprobs sent although `logprobs` was not requested"
            )
        if lp.content:
            _logprob_entries(ctx, lp.content, f"choices[{i}].logprobs.content")
        if lp.refusal:
            _logprob_entries(ctx, lp.refusal, f"choices[{i}].logprobs.refusal")


def _logprobs_end(ctx: RuleContext) -> None:
    t = ctx.tallies.pop("OAS037-unasked", None)
    if t is not None:
        ctx.emit("OAS037", t.first, t.message, text=t.excerpt, needs_request=True)


# ---------------------------------------------------------------- I. errors, time, text


def error_event(ctx: RuleContext, ev: SSEEvent, err: Any) -> None:
    """An ``{"error": {...}}`` payload or an ``event: error``: always a failure, shape named."""
    ctx.error_events += 1
    line = ev.line
    text = ev.data
    if err is None:
        ctx.emit(
            "OAS038", None, f"`event: error` at line {line} without an error object", text=text
        )
        return
    msg = getattr(err, "message", None)
    problems = []
    if not isinstance(msg, str):
        problems.append("no error.message")
    if not isinstance(getattr(err, "type", None), str):
        problems.append("no error.type")
    if isinstance(getattr(err, "code", None), int):
        problems.append("numeric error.code")
    detail = f" ({'; '.join(problems)})" if problems else ""
    kind = "`event: error`" if ev.event == "error" else "in-stream error"
    ctx.emit("OAS038", None, f"{kind} at line {line}: {msg!r}{detail}", text=text)


def _error_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    if c.error is not None:
        ctx.error_events += 1
        ctx.emit("OAS038", ctx.pos, f"chunk carries an error: {c.error.message!r}", path="error")
    for i, ch in enumerate(c.choices or ()):
        if ch.error is not None:
            ctx.error_events += 1
            ctx.emit(
                "OAS038",
                ctx.pos,
                f"choice carries an error: {ch.error.message!r}",
                path=f"choices[{i}].error",
            )


def _error_end(ctx: RuleContext) -> None:
    if ctx.error_after:
        ctx.emit("OAS038", None, f"{ctx.error_after} chunk(s) after an in-stream error", minor=True)


def _created_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    t = c.created
    if t is None or ctx.is_filter:
        return
    if t > MS_THRESHOLD:
        ctx.tally(
            "OAS039-ms",
            ctx.pos,
            f"created {t} looks like milliseconds, not Unix seconds",
            field="created",
        )
    elif t == 0:
        ctx.tally(
            "OAS039-zero", ctx.pos, "created is 0 (a placeholder, not a time)", field="created"
        )
    elif t < EARLIEST_CREATED:
        ctx.tally("OAS039-old", ctx.pos, f"created {t} is before 2020", field="created")
    elif t > ctx.now + FUTURE_SLACK:
        ctx.tally("OAS039-future", ctx.pos, f"created {t} is in the future", field="created")


def _created_secs_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS039-ms", "OAS039")
    for key in ("OAS039-zero", "OAS039-old", "OAS039-future"):
        ctx.flush_tally(key, "OAS039", minor=True)


def _fffd_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    for ch in c.choices or ():
        d = ch.delta
        if d is None:
            continue
        for name in ("content", "refusal", "reasoning_content", "reasoning"):
            text = getattr(d, name)
            if text and "\ufffd" in text:
                ctx.tally(
                    "OAS040",
                    ctx.pos,
                    f"U+FFFD in {name}: a character was split and decoded per token",
                    field=name,
                )
                break
        for tc in d.tool_calls or ():
            fn = tc.function
            if fn is not None and fn.arguments and "\ufffd" in fn.arguments:
                ctx.tally(
                    "OAS040",
                    ctx.pos,
                    "U+FFFD in arguments: a character was split and decoded per token",
                    field="arguments",
                )


def _fffd_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS040", "OAS040")


def _no_chunks_end(ctx: RuleContext) -> None:
    if not ctx.asm.choices and not ctx.error_events:
        ctx.emit("OAS041", None, "no chunk with a choice" + (" before [DONE]" if ctx.done else ""))


# ------------------------------------------------------------- J. found by the client matrix


def _usage_requested_end(ctx: RuleContext) -> None:
    """OAS042: ``include_usage`` asked, every choice finished, and no usage ever came."""
    if not ctx.include_usage or ctx.usages or ctx.error_events or not ctx.asm.choices:
        return
    if any(m.finish_chunk is None for m in ctx.asm.choices.values()):
        return  # a truncated stream: OAS008/OAS023 report it
    ctx.emit(
        "OAS042",
        None,
        "`stream_options.include_usage` was requested but no usage chunk came; every client "
        "ends with usage None",
    )


# Lists in a delta that clients merge entry by entry (tool_calls has OAS029).
_MERGED_BY_INDEX = ("annotations",)


def _delta_lists_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    """OAS043: list entries in a delta without an integer ``index`` (merged by index)."""
    for ch in c.choices or ():
        d = ch.delta
        if d is None:
            continue
        lists = [(name, getattr(d, name)) for name in _MERGED_BY_INDEX]
        extra = d.__pydantic_extra__
        if extra:
            lists += [(k, v) for k, v in extra.items() if type(v) is list]
        for name, value in lists:
            if not value or not any(
                isinstance(e, dict) and not isinstance(e.get("index"), int) for e in value
            ):
                continue
            key = (ch.index, name)
            seen = ctx.unindexed.get(key, 0)
            ctx.unindexed[key] = seen + 1
            if seen == 1:  # the second delta: where openai-python's accumulator raises
                ctx.emit(
                    "OAS043",
                    ctx.pos,
                    f"`{name}` entries without `index` in a second delta of choice {ch.index}; "
                    "openai-python's accumulator raises RuntimeError (Expected list delta entry "
                    "to have an `index` key)",
                    path=f"choices[{ch.index}].delta.{name}",
                    key=name,
                )


def _delta_lists_end(ctx: RuleContext) -> None:
    for (idx, name), count in ctx.unindexed.items():
        if count == 1:
            ctx.emit(
                "OAS043",
                None,
                f"`{name}` entries without `index` in one delta of choice {idx}; clients that "
                "merge the list by index could not merge a second one",
                minor=2,
            )


# ------------------------------------------------------------------------------ the table

# The tool-call pass serves OAS029-OAS032 and OAS034 together; it runs when any of them is on.
TOOL_CODES = ("OAS030", "OAS031", "OAS032", "OAS034")
# The constancy pass serves OAS015-OAS018.
CONSTANCY_CODES = ("OAS016", "OAS017", "OAS018")

RULES: tuple[Rule, ...] = (
    *BYTE_RULES,
    Rule(
        "OAS006",
        "sse-no-event-field",
        "error",
        "event",
        "no event:/id:/retry: fields (warn); an event without data (error)",
        on_event=_event_field_event,
        on_end=_event_field_end,
        framing=True,
    ),
    Rule(
        "OAS007",
        "sse-json-object",
        "error",
        "event",
        "every payload but the terminator is one JSON object",
    ),
    Rule(
        "OAS008",
        "done-terminator",
        "error",
        "stream",
        "exactly one `data: [DONE]`, last; missing = truncated",
        on_end=_done_end,
        framing=True,
    ),
    Rule(
        "OAS009",
        "chunk-object",
        "error",
        "chunk",
        "object is chat.completion.chunk",
        on_chunk=_object_chunk,
        on_end=_object_end,
    ),
    Rule(
        "OAS010",
        "chunk-required-fields",
        "error",
        "chunk",
        "id, created, model, choices present; choices never null",
        on_chunk=_required_chunk,
        on_end=_required_end,
    ),
    Rule(
        "OAS011",
        "choice-required-fields",
        "error",
        "chunk",
        "each choice has index, a delta object, the finish_reason key",
        on_chunk=_choice_fields_chunk,
        on_end=_choice_fields_end,
    ),
    Rule(
        "OAS012",
        "enum-values",
        "error",
        "chunk",
        "finish_reason, role, tool type, service_tier within the spec's values",
        on_chunk=_enum_chunk,
        on_end=_enum_end,
    ),
    Rule(
        "OAS013",
        "field-types",
        "error",
        "chunk",
        "content/refusal string or null, arguments string, counts integers",
    ),
    Rule(
        "OAS014",
        "extension-fields",
        "info",
        "chunk",
        "fields outside the spec and the profile's extensions are reported",
        on_chunk=_extension_chunk,
    ),
    Rule(
        "OAS015",
        "id-constant",
        "error",
        "stream",
        "every chunk has the same non-empty id",
        on_chunk=_constancy_chunk,
        on_end=_id_end,
        serves=CONSTANCY_CODES,
    ),
    Rule(
        "OAS016",
        "created-constant",
        "error",
        "stream",
        "every chunk has the same created",
        on_end=_created_end,
    ),
    Rule(
        "OAS017",
        "model-constant",
        "warn",
        "stream",
        "every chunk has the same model",
        on_end=_model_end,
    ),
    Rule(
        "OAS018",
        "fingerprint-tier-constant",
        "warn",
        "stream",
        "system_fingerprint, service_tier do not change",
        on_end=_fingerprint_end,
    ),
    Rule(
        "OAS019",
        "choice-index-range",
        "error",
        "chunk",
        "choice indexes in [0, n) and unique within a chunk",
        on_chunk=_index_range_chunk,
        on_end=_index_range_end,
    ),
    Rule(
        "OAS020",
        "choice-index-order",
        "error",
        "stream",
        "a new choice index first appears in order 0, 1, ...",
        on_chunk=_index_order_chunk,
    ),
    Rule(
        "OAS021",
        "role-first-only",
        "error",
        "choice",
        "role only in each choice's first delta",
        on_chunk=_role_chunk,
        on_end=_role_end,
    ),
    Rule(
        "OAS022",
        "no-empty-noise",
        "info",
        "chunk",
        "no contentless chunks; no empty tool_calls: []",
        on_chunk=_noise_chunk,
        on_end=_noise_end,
    ),
    Rule(
        "OAS023",
        "finish-once",
        "error",
        "choice",
        "exactly one non-null finish_reason per choice",
        on_chunk=_finish_chunk,
        on_end=_finish_end,
        serves=("OAS024",),  # the same pass collects deltas after the finish
    ),
    Rule(
        "OAS024",
        "nothing-after-finish",
        "error",
        "choice",
        "no delta for a choice after its finish",
        on_end=_after_finish_end,
    ),
    Rule(
        "OAS025",
        "finish-tool-calls",
        "warn",
        "choice",
        "a choice that streamed tool calls finishes with tool_calls",
        on_end=_finish_tools_end,
    ),
    Rule(
        "OAS026",
        "usage-last-chunk",
        "error",
        "stream",
        "usage once, on a choices: [] chunk after every finish",
        on_chunk=_usage_place_chunk,
        on_end=_usage_place_end,
    ),
    Rule(
        "OAS027",
        "usage-opt-in",
        "warn",
        "stream",
        "usage only when include_usage was asked",
        on_end=_usage_opt_in_end,
    ),
    Rule(
        "OAS028",
        "usage-arithmetic",
        "error",
        "chunk",
        "total = prompt + completion; details fit their parents",
        on_chunk=_usage_math_chunk,
    ),
    Rule(
        "OAS029",
        "tool-index-present",
        "error",
        "chunk",
        "every tool-call fragment has an integer index",
        on_chunk=_tool_chunk,
        on_end=_tool_end,
        serves=TOOL_CODES,
    ),
    Rule(
        "OAS030",
        "tool-index-contiguous",
        "error",
        "choice",
        "tool-call indexes start at 0, no gaps, never reused",
    ),
    Rule(
        "OAS031",
        "tool-first-fragment",
        "error",
        "choice",
        "a call's first fragment carries id, type function, function.name",
    ),
    Rule(
        "OAS032",
        "tool-later-fragments",
        "error",
        "choice",
        "later fragments carry only index and function.arguments",
    ),
    Rule(
        "OAS033",
        "tool-arguments-json",
        "error",
        "choice",
        "a call's concatenated arguments parse as one JSON object",
        on_end=_tool_args_end,
    ),
    Rule("OAS034", "tool-call-id-unique", "warn", "stream", "tool-call ids are unique"),
    Rule(
        "OAS035",
        "content-xor-refusal",
        "warn",
        "choice",
        "a choice does not stream both content and refusal",
        on_end=_refusal_end,
    ),
    Rule(
        "OAS036",
        "reasoning-before-content",
        "info",
        "choice",
        "reasoning deltas (one field name) all come before content and tool calls",
        on_chunk=_reasoning_chunk,
        on_end=_reasoning_end,
    ),
    Rule(
        "OAS037",
        "logprobs-shape",
        "warn",
        "chunk",
        "logprobs entries: token, logprob <= 0, bytes = UTF-8 of token",
        on_chunk=_logprobs_chunk,
        on_end=_logprobs_end,
    ),
    Rule(
        "OAS038",
        "error-event",
        "error",
        "event",
        "an in-stream error",
        on_chunk=_error_chunk,
        on_end=_error_end,
    ),
    Rule(
        "OAS039",
        "created-unix-seconds",
        "error",
        "chunk",
        "created is integer Unix seconds",
        on_chunk=_created_chunk,
        on_end=_created_secs_end,
    ),
    Rule(
        "OAS040",
        "text-no-replacement-char",
        "warn",
        "chunk",
        "no U+FFFD in text deltas",
        on_chunk=_fffd_chunk,
        on_end=_fffd_end,
    ),
    Rule(
        "OAS041",
        "no-chunks",
        "error",
        "stream",
        "at least one chunk with a choice before [DONE]",
        on_end=_no_chunks_end,
    ),
    # Added from the client matrix (docs/clients.md): codes after OAS041, never renumbered.
    Rule(
        "OAS042",
        "usage-requested",
        "error",
        "stream",
        "a completed stream that asked include_usage carries usage (request)",
        on_end=_usage_requested_end,
    ),
    Rule(
        "OAS043",
        "delta-list-index",
        "error",
        "chunk",
        "list entries merged across deltas (annotations) carry an integer index",
        on_chunk=_delta_lists_chunk,
        on_end=_delta_lists_end,
    ),
)

RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
