"""Catalog section B, event schema (OAS106-OAS110): sequence numbers, types, fields, extensions."""

from __future__ import annotations

from typing import Any

from ..models import (
    EVENT_TYPES,
    LIFECYCLE_TYPES,
    STATUS_EVENTS,
    TERMINAL_TYPES,
    EventBase,
    UnknownEvent,
    field_of,
)
from .context import ResponseContext


def _seq_present(ctx: ResponseContext, ev: EventBase) -> None:
    if ev.sequence_number is None:
        ctx.tally("OAS106", ctx.pos, f"{ev.type} without an integer sequence_number")


def _seq_present_end(ctx: ResponseContext) -> None:
    ctx.flush_tally("OAS106", "OAS106", what="event")


def _seq_increasing(ctx: ResponseContext, ev: EventBase) -> None:
    seq = ev.sequence_number
    if seq is None:
        return
    last = ctx.last_seq
    if last is None:
        ctx.first_seq = seq
        start = 0 if ctx.starting_after is None else ctx.starting_after + 1
        if seq != start:
            resumed = ctx.starting_after is None and seq > 0 and ev.type != "response.created"
            ctx.emit(
                "OAS107",
                ctx.pos,
                f"the first sequence_number is {seq}, expected {start}"
                + (" (a resumed stream? pass the request's starting_after)" if resumed else ""),
                minor=1,
                needs_request=resumed,
                key="sequence_number",
            )
    elif seq <= last:
        ctx.tally(
            "OAS107-order",
            ctx.pos,
            f"sequence_number {seq} after {last}: not increasing",
            field="sequence_number",
        )
    elif seq != last + 1:
        ctx.tally(
            "OAS107-gap",
            ctx.pos,
            f"sequence_number jumps from {last} to {seq}",
            field="sequence_number",
        )
    ctx.last_seq = seq if last is None or seq > last else last


def _seq_increasing_end(ctx: ResponseContext) -> None:
    ctx.flush_tally("OAS107-order", "OAS107", what="event")
    ctx.flush_tally("OAS107-gap", "OAS107", minor=True, what="event")


def _type_known(ctx: ResponseContext, ev: EventBase) -> None:
    if isinstance(ev, UnknownEvent) and ev.type not in EVENT_TYPES:
        ctx.unknown_types.setdefault(ev.type, []).append(ctx.pos)


def _type_known_end(ctx: ResponseContext) -> None:
    for t, places in ctx.unknown_types.items():
        prefixed = ":" in t
        n = len(places)
        ctx.emit(
            "OAS108",
            places[0],
            f"event type {t!r} is not in the API reference"
            + (" (a prefixed extension)" if prefixed else "; openai-node's stream helper throws")
            + (f" ({n} events)" if n > 1 else ""),
            minor=1 if prefixed else 0,
            key="type",
        )


_IDX = ("item_id", "output_index")
_CI = (*_IDX, "content_index")
_SI = (*_IDX, "summary_index")
#: Required fields per event type (beyond ``type`` and ``sequence_number``: OAS101, OAS106),
#: calibrated on the corpus: ``name`` on function_call_arguments.done is never sent (§4).
REQUIRED: dict[str, tuple[str, ...]] = {
    **{t: ("response",) for t in LIFECYCLE_TYPES | TERMINAL_TYPES},
    "response.output_item.added": ("output_index", "item"),
    "response.output_item.done": ("output_index", "item"),
    "response.content_part.added": (*_CI, "part"),
    "response.content_part.done": (*_CI, "part"),
    "response.output_text.delta": (*_CI, "delta", "logprobs"),
    "response.output_text.done": (*_CI, "text", "logprobs"),
    "response.output_text.annotation.added": (*_CI, "annotation_index", "annotation"),
    "response.refusal.delta": (*_CI, "delta"),
    "response.refusal.done": (*_CI, "refusal"),
    "response.reasoning_text.delta": (*_CI, "delta"),
    "response.reasoning_text.done": (*_CI, "text"),
    "response.reasoning_summary_part.added": (*_SI, "part"),
    "response.reasoning_summary_part.done": (*_SI, "part"),
    "response.reasoning_summary_text.delta": (*_SI, "delta"),
    "response.reasoning_summary_text.done": (*_SI, "text"),
    "response.function_call_arguments.delta": (*_IDX, "delta"),
    "response.function_call_arguments.done": (*_IDX, "arguments"),
    "response.custom_tool_call_input.delta": (*_IDX, "delta"),
    "response.custom_tool_call_input.done": (*_IDX, "input"),
    "response.mcp_call_arguments.delta": (*_IDX, "delta"),
    "response.mcp_call_arguments.done": (*_IDX, "arguments"),
    "response.code_interpreter_call_code.delta": (*_IDX, "delta"),
    "response.code_interpreter_call_code.done": (*_IDX, "code"),
    "response.shell_call_command.added": ("output_index", "command_index", "command"),
    "response.shell_call_command.delta": ("output_index", "command_index", "delta"),
    "response.shell_call_command.done": ("output_index", "command_index", "command"),
    **{t: _IDX for t in STATUS_EVENTS},
}
ITEM_REQUIRED: dict[str, tuple[str, ...]] = {
    "message": ("id", "role", "status", "content"),
    "function_call": ("call_id", "name", "arguments"),
    "reasoning": ("id", "summary"),
    "custom_tool_call": ("call_id", "name", "input"),
}
SNAPSHOT_REQUIRED = ("id", "object", "created_at", "model", "output")
ANNOTATION_REQUIRED: dict[str, tuple[str, ...]] = {
    "url_citation": ("url", "title", "start_index", "end_index"),
    "file_citation": ("file_id",),
    "container_file_citation": ("container_id", "file_id"),
    "file_path": ("file_id",),
}


def _required(ctx: ResponseContext, ev: EventBase) -> None:
    t = ev.type
    need = REQUIRED.get(t)
    if need is None:
        return
    optional = ctx.profile.optional
    for name in need:
        if field_of(ev, name) is None and f"event.{t}.{name}" not in optional:
            ctx.tally(f"OAS109 {t} {name}", ctx.pos, f"{t} without {name}", field=name)
    resp = field_of(ev, "response")
    if resp is not None:
        for name in SNAPSHOT_REQUIRED:
            if getattr(resp, name) is None and f"response.{name}" not in optional:
                ctx.tally(f"OAS109 {t} response.{name}", ctx.pos, f"{t} response without {name}")
    item = field_of(ev, "item")
    if item is not None:
        for name in ITEM_REQUIRED.get(item.type, ()):
            if field_of(item, name) is None and f"item.{item.type}.{name}" not in optional:
                ctx.tally(
                    f"OAS109 item {item.type} {name}",
                    ctx.pos,
                    f"{item.type} item without {name}",
                    path=f"item.{name}",
                )
    ann = field_of(ev, "annotation")
    if ann is not None:
        for name in ANNOTATION_REQUIRED.get(ann.type, ()):
            if field_of(ann, name) is None and f"annotation.{ann.type}.{name}" not in optional:
                ctx.tally(
                    f"OAS109 annotation {ann.type} {name}",
                    ctx.pos,
                    f"{ann.type} annotation without {name}",
                    path=f"annotation.{name}",
                )


def _required_end(ctx: ResponseContext) -> None:
    for key in [k for k in ctx.tallies if k.startswith("OAS109 ")]:
        ctx.flush_tally(key, "OAS109", what="event")


def _ext(ctx: ResponseContext, obj: Any, prefix: str) -> None:
    extra = getattr(obj, "__pydantic_extra__", None)
    if extra:
        seen = ctx.ext_seen
        for name in extra:
            path = f"{prefix}.{name}"
            if path not in seen and not ctx.profile.allows_extension(path):
                seen[path] = ctx.pos


def _ext_item(ctx: ResponseContext, item: Any) -> None:
    if item is None:
        return
    _ext(ctx, item, f"item.{item.type}")
    for key in ("content", "summary"):
        for part in field_of(item, key) or ():
            _ext_part(ctx, part)


def _ext_part(ctx: ResponseContext, part: Any) -> None:
    if part is None:
        return
    _ext(ctx, part, f"part.{part.type}")
    for ann in field_of(part, "annotations") or ():
        _ext(ctx, ann, f"annotation.{ann.type}")


def _extensions(ctx: ResponseContext, ev: EventBase) -> None:
    if ev.__pydantic_extra__:
        _ext(ctx, ev, f"event.{ev.type}")
    resp = field_of(ev, "response")
    if resp is not None:
        _ext(ctx, resp, "response")
        usage = resp.usage
        if usage is not None:
            _ext(ctx, usage, "usage")
            _ext(ctx, usage.input_tokens_details, "usage.input_tokens_details")
            _ext(ctx, usage.output_tokens_details, "usage.output_tokens_details")
        for item in resp.output or ():
            _ext_item(ctx, item)
    _ext_item(ctx, field_of(ev, "item"))
    _ext_part(ctx, field_of(ev, "part"))
    ann = field_of(ev, "annotation")
    if ann is not None:
        _ext(ctx, ann, f"annotation.{ann.type}")


def _extensions_end(ctx: ResponseContext) -> None:
    for path, pos in ctx.ext_seen.items():
        ctx.emit(
            "OAS110", pos, f"field {path} is not in the API reference", key=path.rsplit(".")[-1]
        )
