"""Catalog section B, envelope and schema (OAS009-OAS014): each chunk's object and fields."""

from __future__ import annotations

from pydantic import BaseModel

from ..models import (
    ChatCompletionChunk,
    Choice,
    ChoiceLogprobs,
    CompletionTokensDetails,
    Delta,
    FunctionCallFragment,
    PromptTokensDetails,
    ToolCallFragment,
    Usage,
    spec_fields,
)
from .context import RuleContext

FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})
SERVICE_TIERS = frozenset({"auto", "default", "flex", "scale", "priority", "fast"})


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
