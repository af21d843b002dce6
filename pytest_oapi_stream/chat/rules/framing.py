"""Catalog section A, framing and termination (OAS006, OAS008): checks on SSE events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..evidence import QUIET_END, QUIET_TRUNCATION
from .context import RuleContext

if TYPE_CHECKING:
    from ...core.sse import SSEEvent


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
            msg = f"no `data: [DONE]` after the finish ({QUIET_END})"
        else:
            msg = f"no `data: [DONE]`: the stream is truncated; {QUIET_TRUNCATION}"
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
