"""Catalog section C, the response (OAS111-OAS121, OAS137): order, terminal, snapshots, usage."""

from __future__ import annotations

from typing import Any

from ..models import TERMINAL_TYPES, EventBase, field_of
from .context import ResponseContext, _kind

EARLIEST_CREATED = 1577836800  # 2020-01-01
MS_THRESHOLD = 100_000_000_000  # anything above is not Unix seconds
FUTURE_SLACK = 600


def _first_created(ctx: ResponseContext, ev: EventBase) -> None:
    if ctx.first_type is not None:
        return
    ctx.first_type = ev.type
    if ev.type == "response.created":
        return
    if ctx.starting_after is not None:
        return  # a resumed stream starts where the client asked
    seq = ev.sequence_number
    maybe_resumed = isinstance(seq, int) and seq > 0
    ctx.emit(
        "OAS111",
        ctx.pos,
        f"the first event is {ev.type}, not response.created; openai-python's stream helper "
        "raises RuntimeError",
        needs_request=maybe_resumed,
        key="type",
    )


def _created_snapshot(ctx: ResponseContext, ev: EventBase) -> None:
    resp = field_of(ev, "response")
    if resp is None:
        return
    problems = []
    background = resp.background or ctx.background
    allowed = ("in_progress", "queued") if background else ("in_progress",)
    if resp.status not in allowed:
        problems.append(f"status {resp.status!r}, expected {' or '.join(allowed)}")
    if resp.output:
        problems.append(f"{len(resp.output)} output item(s) already (the SDKs append to it)")
    if resp.usage is not None:
        problems.append("usage is not null")
    if resp.error is not None:
        problems.append("error is not null")
    if problems:
        ctx.emit("OAS112", ctx.pos, "response.created: " + "; ".join(problems), key="status")


_LIFE_STATUS = {"response.queued": "queued", "response.in_progress": "in_progress"}


def _lifecycle(ctx: ResponseContext, ev: EventBase) -> None:
    t = ev.type
    seen = ctx.lifecycle
    n = seen.get(t, 0)
    seen[t] = n + 1
    if n:
        ctx.tally(f"OAS113 {t}", ctx.pos, f"{_kind(t)} sent {n + 1} times", field="type")
    elif t == "response.queued" and seen.get("response.in_progress"):
        ctx.emit("OAS113", ctx.pos, "response.queued after response.in_progress", key="type")
    elif t != "response.created" and "response.created" not in seen and ctx.starting_after is None:
        pass  # OAS111 reports the missing created
    if t == "response.created" and ctx.chunks > 0 and n == 0:
        ctx.emit("OAS113", ctx.pos, "response.created is not the first event", key="type")
    if ctx.asm.added and t != "response.created":
        ctx.tally(f"OAS113 late {t}", ctx.pos, f"{_kind(t)} after the first output item")
    resp = field_of(ev, "response")
    want = _LIFE_STATUS.get(t)
    if want is not None and resp is not None and resp.status != want:
        ctx.emit("OAS113", ctx.pos, f"{_kind(t)} with status {resp.status!r}", key="status")
    if t == "response.queued" and ctx.background is False:
        ctx.emit("OAS113", ctx.pos, "response.queued without background: true", key="type")


def _lifecycle_end(ctx: ResponseContext) -> None:
    for key in [k for k in ctx.tallies if k.startswith("OAS113 ")]:
        ctx.flush_tally(key, "OAS113", what="event")


def _any_event_terminal(ctx: ResponseContext, ev: EventBase) -> None:
    terminal = ev.type in TERMINAL_TYPES
    if ctx.terminals:
        ctx.after_terminal += 1
        if terminal and ctx.terminals == 1:
            # One finding per event: a second terminal is also an event after the terminal.
            ctx.emit(
                "OAS114",
                ctx.pos,
                f"a second terminal event ({ev.type}), after the one at event "
                f"{ctx.terminal_at}; clients stop at the first",
                key="type",
            )
        elif ctx.after_terminal == 1:
            ctx.emit(
                "OAS114",
                ctx.pos,
                f"{ev.type} after the terminal event; clients stop at the terminal event",
                key="type",
            )
    if terminal:
        ctx.terminals += 1
        if ctx.terminal_at is None:
            ctx.terminal_at = ctx.pos


def _terminal_end(ctx: ResponseContext) -> None:
    if ctx.terminals:
        return
    last = f"; the last event was #{ctx.chunks - 1}" if ctx.chunks else ""
    ctx.emit(
        "OAS114",
        None,
        "no response.completed / .incomplete / .failed: the stream is truncated"
        + last
        + " (openai-python's get_final_response() raises)",
    )


def _terminal_status(ctx: ResponseContext, ev: EventBase) -> None:
    resp = field_of(ev, "response")
    if resp is None or ctx.terminals > 1:
        return
    t = ev.type
    want = t.removeprefix("response.")
    problems = []
    if resp.status != want:
        problems.append(f"status {resp.status!r}")
    if t == "response.incomplete":
        if resp.incomplete_details is None or not resp.incomplete_details.reason:
            problems.append("no incomplete_details.reason")
    elif t == "response.failed":
        if resp.error is None or not resp.error.message:
            problems.append("no response.error with a message")
    else:
        if resp.error is not None:
            problems.append("error is not null")
        if resp.incomplete_details is not None:
            problems.append("incomplete_details is not null")
    if problems:
        ctx.emit("OAS115", ctx.pos, f"{_kind(t)}: " + "; ".join(problems), key="status")


#: Request echoes that do not change across snapshots (OAS117); service_tier resolves (§4).
CONSTANT_FIELDS = (
    "background",
    "instructions",
    "max_output_tokens",
    "max_tool_calls",
    "parallel_tool_calls",
    "previous_response_id",
    "temperature",
    "tool_choice",
    "tools",
    "top_p",
    "truncation",
)


def _snapshots(ctx: ResponseContext, ev: EventBase) -> None:
    resp = field_of(ev, "response")
    if resp is None:
        return
    first = ctx.snapshot
    if first is None:
        ctx.snapshot = resp
        if not resp.id:
            ctx.emit("OAS116", ctx.pos, "the response id is empty", key="id")
        return
    if resp.id != first.id:
        ctx.tally(
            "OAS116",
            ctx.pos,
            f"{_kind(ev.type)} has response id {resp.id!r}, the first snapshot {first.id!r}",
            field="id",
        )
    for name in ("created_at", "object"):
        if getattr(resp, name) != getattr(first, name):
            ctx.tally(
                f"OAS117 {name}",
                ctx.pos,
                f"{name} changed from {getattr(first, name)!r} to {getattr(resp, name)!r}",
                field=name,
            )
    if resp.model != first.model:
        ctx.tally("OAS117 model", ctx.pos, f"model changed from {first.model!r} to {resp.model!r}")
    sent = first.model_fields_set & resp.model_fields_set
    for name in CONSTANT_FIELDS:
        a, b = getattr(first, name), getattr(resp, name)
        if a != b and name in sent:
            ctx.tally(f"OAS117 {name}", ctx.pos, f"{name} changed across snapshots", field=name)


def _snapshots_end(ctx: ResponseContext) -> None:
    ctx.flush_tally("OAS116", "OAS116", what="snapshot")
    for key in [k for k in ctx.tallies if k.startswith("OAS117 ")]:
        ctx.flush_tally(key, "OAS117", minor=key == "OAS117 model", what="snapshot")


def _usage_place(ctx: ResponseContext, ev: EventBase) -> None:
    resp = field_of(ev, "response")
    if resp is None:
        return
    t = ev.type
    if t in TERMINAL_TYPES:
        if resp.usage is None and t != "response.failed":
            ctx.emit("OAS118", ctx.pos, f"{_kind(t)} without usage", key="usage")
    elif resp.usage is not None:
        ctx.emit("OAS118", ctx.pos, f"usage on {_kind(t)}, before the terminal event", key="usage")


def _usage_math(ctx: ResponseContext, ev: EventBase) -> None:
    resp = field_of(ev, "response")
    u = resp.usage if resp is not None else None
    if u is None:
        return
    i, o, total = u.input_tokens, u.output_tokens, u.total_tokens
    if i is not None and o is not None and total is not None and total != i + o:
        ctx.emit(
            "OAS119",
            ctx.pos,
            f"total_tokens {total} != input_tokens {i} + output_tokens {o}",
            key="total_tokens",
        )
    det = u.input_tokens_details
    cached = det.cached_tokens if det is not None else None
    if cached is not None and i is not None and cached > i:
        ctx.emit("OAS119", ctx.pos, f"cached_tokens {cached} > input_tokens {i}", key="cached")
    odet = u.output_tokens_details
    reasoning = odet.reasoning_tokens if odet is not None else None
    if reasoning is not None and o is not None and reasoning > o:
        ctx.emit(
            "OAS119", ctx.pos, f"reasoning_tokens {reasoning} > output_tokens {o}", key="reasoning"
        )


def _error_event(ctx: ResponseContext, ev: Any) -> None:
    ctx.error_events += 1
    nested = ev.error
    message = ev.message or (nested.message if nested is not None else None)
    code = ev.code if ev.code is not None else (nested.code if nested is not None else None)
    ctx.emit(
        "OAS120",
        ctx.pos,
        f"in-stream error{f' {code}' if code is not None else ''}: {message or '(no message)'}",
        key="message",
    )
    if ev.message:
        return
    if nested is not None and nested.message:
        ctx.emit(
            "OAS121",
            ctx.pos,
            "the error is nested (error.message), not the schema's flat code/message/param",
            key="error",
        )
    else:
        ctx.emit("OAS121", ctx.pos, "error event without a message, flat or nested")


def _created_at(ctx: ResponseContext, ev: EventBase) -> None:
    resp = field_of(ev, "response")
    if resp is None or ctx.created_at_checked:
        return
    ctx.created_at_checked = True
    c = resp.created_at
    if c is None:
        return
    if c > MS_THRESHOLD:
        ctx.emit("OAS137", ctx.pos, f"created_at {c} is in milliseconds", key="created_at")
    elif c <= 0:
        ctx.emit("OAS137", ctx.pos, f"created_at is {c}", minor=1, key="created_at")
    elif c < EARLIEST_CREATED or c > ctx.now + FUTURE_SLACK:
        ctx.emit(
            "OAS137", ctx.pos, f"created_at {c} is not a plausible time", minor=1, key="created_at"
        )
    elif isinstance(c, float):
        ctx.emit("OAS137", ctx.pos, f"created_at {c} is a float", minor=2, key="created_at")
