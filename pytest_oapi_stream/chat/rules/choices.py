"""Catalog section D, choices and deltas (OAS019-OAS022): indexes, role, contentless chunks."""

from __future__ import annotations

from ..models import ChatCompletionChunk, Choice
from .context import RuleContext


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
