"""Catalog section H (OAS035-OAS037): content vs refusal, reasoning first, logprobs shape."""

from __future__ import annotations

from ..models import ChatCompletionChunk, TokenLogprob
from .context import RuleContext


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
