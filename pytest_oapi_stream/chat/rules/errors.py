"""Catalog section I (OAS038-OAS041): in-stream errors, created in seconds, U+FFFD, no chunk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..models import ChatCompletionChunk
from .context import RuleContext

if TYPE_CHECKING:
    from ...core.sse import SSEEvent

EARLIEST_CREATED = 1577836800  # 2020-01-01
MS_THRESHOLD = 100_000_000_000  # anything above is not Unix seconds
FUTURE_SLACK = 600


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
