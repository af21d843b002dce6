"""Catalog section E, finish (OAS023-OAS025): one finish_reason per choice, nothing after it."""

from __future__ import annotations

from ..evidence import QUIET_TRUNCATION
from ..models import ChatCompletionChunk
from .context import RuleContext
from .usage import _usage_trailer


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
                f"choice {msg.index} never gets a finish_reason: truncated stream; "
                + QUIET_TRUNCATION,
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
