"""Catalog section A, framing (OAS102-OAS105): `event:` names, `[DONE]`, `id:` and `retry:`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models import EventBase
from .context import ResponseContext

if TYPE_CHECKING:
    from ...core.sse import SSEEvent


def _name_matches(ctx: ResponseContext, ev: EventBase) -> None:
    sse = ctx.sse
    if sse is not None and sse.event is not None and sse.event != ev.type:
        ctx.tally(
            "OAS102",
            ctx.pos,
            f"`event: {sse.event}` but the payload's type is {ev.type!r}",
            field="type",
        )


def _name_matches_end(ctx: ResponseContext) -> None:
    ctx.flush_tally("OAS102", "OAS102", what="event")


def _name_present(ctx: ResponseContext, ev: EventBase) -> None:
    sse = ctx.sse
    if sse is not None and sse.event is None:
        ctx.tally("OAS103", ctx.pos, f"no `event:` line before the {ev.type} payload")


def _name_present_end(ctx: ResponseContext) -> None:
    ctx.flush_tally("OAS103", "OAS103", what="event")


def _done_end(ctx: ResponseContext) -> None:
    if ctx.done == 0:
        if ctx.profile.done_required and ctx.terminals:
            ctx.emit("OAS104", None, "no `data: [DONE]` after the terminal event", minor=1)
        return
    if ctx.done > 1:
        ctx.emit("OAS104", None, f"`data: [DONE]` sent {ctx.done} times")
    if ctx.done_before_terminal:
        ctx.emit(
            "OAS104",
            None,
            "`data: [DONE]` before the terminal event: openai-python stops there and "
            "get_final_response() raises",
        )
    elif ctx.data_after_done:
        ctx.emit("OAS104", None, f"{ctx.data_after_done} data event(s) after `data: [DONE]`")
    elif ctx.done == 1 and not ctx.profile.done_required:
        ctx.emit(
            "OAS104",
            None,
            "`data: [DONE]` after the terminal event (Open Responses style; OpenAI sends none)",
            minor=2,
        )


def _id_field(ctx: ResponseContext, ev: SSEEvent) -> None:
    if ev.id is not None or ev.retry is not None:
        names = [n for n, v in (("id", ev.id), ("retry", ev.retry)) if v is not None]
        ctx.tally("OAS105", ctx.pos + 1, f"SSE field(s) {', '.join(names)} at line {ev.line}")


def _id_field_end(ctx: ResponseContext) -> None:
    ctx.flush_tally("OAS105", "OAS105", what="event")
