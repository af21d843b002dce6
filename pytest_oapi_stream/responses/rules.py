"""The Responses rule catalog: one table, ``RULES`` (OAS101-OAS138 and the byte-level rules).

Codes and names are the stable public API of ``SPEC-responses.md``. The byte-level chat rules
(OAS001-OAS005, OAS040) apply unchanged; OAS001-OAS005 are the very functions of the chat table
(``core/rules.py``). Checks hook in as in the chat table: ``on_event`` (each SSE event),
``on_chunk`` (each typed event, narrowed by ``types``) and ``on_end``. They run *before* the
assembler takes the event in, so they see the state the event arrives into.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from ..core.report import Violation
from ..core.rules import (
    BYTE_RULES,
    Emitter,
    Rule,
    Tally,
)
from .assembly import ITEM_TEXT_FAMILIES, TEXT_FAMILIES, Assembler, ItemState, PartState
from .models import (
    EVENT_TYPES,
    LIFECYCLE_TYPES,
    STATUS_EVENTS,
    TERMINAL_TYPES,
    EventBase,
    Response,
    UnknownEvent,
    field_of,
)

if TYPE_CHECKING:
    from ..core.sources import HttpInfo
    from ..core.sse import FramingFacts, SSEEvent
    from .profiles import ResponseProfile

__all__ = ["RULES", "RULES_BY_CODE", "EventViolation", "ResponseContext"]

EARLIEST_CREATED = 1577836800  # 2020-01-01
MS_THRESHOLD = 100_000_000_000  # anything above is not Unix seconds
FUTURE_SLACK = 600


@dataclass(frozen=True, slots=True)
class EventViolation(Violation):
    """A violation on a Responses stream: its place is an event, not a chunk (the JSON keeps
    the field name ``chunk``, the stable key of ``--format json``)."""

    def line(self) -> str:
        """One readable line: code, rule, where (``event N``), message, excerpt."""
        text = Violation.line(self)
        if self.chunk is not None:
            text = text.replace(f"] at chunk {self.chunk}", f"] at event {self.chunk}", 1)
        return text


@dataclass(eq=False)
class ResponseContext(Emitter):
    """Everything the checks share while one Responses stream passes through."""

    profile: ResponseProfile
    request: dict[str, Any] | None
    ignore: frozenset[str]
    framing: bool = True
    http: HttpInfo | None = None
    http_body: bytes | None = None  # the body of a failed request (see core.rules.failed_request)
    url: str | None = None
    now: float = field(default_factory=time.time)
    findings: list[Violation] = field(default_factory=list)
    tallies: dict[str, Tally] = field(default_factory=dict)
    asm: Assembler = field(default_factory=Assembler)
    pos: int = -1
    raw: str | None = None
    sse: SSEEvent | None = None
    chunks: int = 0  # JSON events so far (the byte-level rules' name)
    facts: FramingFacts | None = None
    last_event: SSEEvent | None = None
    # Stream-level state.
    first_type: str | None = None
    first_seq: int | None = None
    last_seq: int | None = None
    expected_seq: int | None = None
    done: int = 0
    done_before_terminal: int = 0
    data_after_done: int = 0
    terminals: int = 0
    after_terminal: int = 0
    lifecycle: dict[str, int] = field(default_factory=dict)
    snapshot: Response | None = None  # the first snapshot (constants compare against it)
    created_at_checked: bool = False
    unknown_types: dict[str, list[int]] = field(default_factory=dict)
    ext_seen: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    call_ids: dict[str, int] = field(default_factory=dict)
    error_events: int = 0

    def __post_init__(self) -> None:
        self.violation_type = EventViolation
        self.init_levels(RULES, self.profile.severity, self.ignore)
        req = self.request or {}
        after = req.get("starting_after")
        if after is None and self.url:
            query = parse_qs(urlsplit(self.url).query)
            if "starting_after" in query:
                after = query["starting_after"][0]
        try:
            self.starting_after: int | None = int(after) if after is not None else None
        except (TypeError, ValueError):
            self.starting_after = None
        self.resumed_known = self.starting_after is not None or self.request is not None
        bg = req.get("background")
        self.background: bool | None = bool(bg) if self.request is not None else None


# ------------------------------------------------------------------------------ helpers


def _in_item(ctx: ResponseContext, ev: Any) -> ItemState | None:
    idx = ev.output_index
    return ctx.asm.items.get(idx) if isinstance(idx, int) else None


def _kind(t: str) -> str:
    """``response.output_text.delta`` -> ``output_text.delta`` (for messages)."""
    return t.removeprefix("response.")


# ------------------------------------------------------------------------------ A. framing


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


# ------------------------------------------------------------------------------ B. event schema


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


# ------------------------------------------------------------------------------ C. lifecycle


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
    if ctx.terminals:
        ctx.after_terminal += 1
        if ctx.after_terminal == 1:
            ctx.emit(
                "OAS114",
                ctx.pos,
                f"{ev.type} after the terminal event; clients stop at the terminal event",
                key="type",
            )
    if ev.type in TERMINAL_TYPES:
        ctx.terminals += 1
        if ctx.terminals == 2:
            ctx.emit("OAS114", ctx.pos, f"a second terminal event ({ev.type})", key="type")


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


# ------------------------------------------------------------------------------ D. output items


def _item_added(ctx: ResponseContext, ev: Any) -> None:
    idx = ev.output_index
    if not isinstance(idx, int):
        return
    prior = ctx.asm.items.get(idx)
    if prior is not None and prior.added:
        ctx.emit("OAS122", ctx.pos, f"output_index {idx} added a second time", key="output_index")
    elif idx != ctx.asm.added:
        ctx.emit(
            "OAS122",
            ctx.pos,
            f"output_item.added with output_index {idx}, expected {ctx.asm.added}; "
            "openai-python appends and then indexes the wrong item",
            key="output_index",
        )
    item = ev.item
    if item is None:
        return
    iid = item.id
    calls = item.type in ("function_call", "custom_tool_call")
    if iid is None and calls:
        pass
    elif not isinstance(iid, str) or not iid:
        ctx.emit("OAS124", ctx.pos, f"{item.type} item without a non-empty id", key="id")
    elif iid in ctx.ids:
        ctx.emit("OAS124", ctx.pos, f"item id {iid!r} used twice", key="id")
    else:
        ctx.ids[iid] = ctx.pos
    if calls:
        cid = field_of(item, "call_id")
        if not isinstance(cid, str) or not cid:
            ctx.emit("OAS124", ctx.pos, f"{item.type} without a non-empty call_id", key="call_id")
        elif cid in ctx.call_ids:
            ctx.emit("OAS124", ctx.pos, f"call_id {cid!r} used twice", key="call_id")
        else:
            ctx.call_ids[cid] = ctx.pos
    status = item.status
    if status is not None and status != "in_progress":
        ctx.tally(
            f"OAS127 added {item.type}",
            ctx.pos,
            f"{item.type} item added with status {status!r}, expected 'in_progress'",
            field="status",
        )


#: Event-family prefixes (of ``type``) -> the item types they may target (OAS126).
FAMILY_ITEMS: dict[str, frozenset[str]] = {
    "response.output_text.": frozenset({"message"}),
    "response.refusal.": frozenset({"message"}),
    "response.function_call_arguments.": frozenset({"function_call"}),
    "response.reasoning_summary_": frozenset({"reasoning"}),
    "response.reasoning_text.": frozenset({"reasoning"}),
    "response.custom_tool_call_input.": frozenset({"custom_tool_call"}),
    "response.mcp_call_arguments.": frozenset({"mcp_call"}),
    "response.code_interpreter_call_code.": frozenset({"code_interpreter_call"}),
    "response.shell_call_command.": frozenset({"shell_call"}),
}


def _expected_items(t: str) -> frozenset[str] | None:
    status_item = STATUS_EVENTS.get(t)
    if status_item is not None:
        return frozenset({status_item})
    for prefix, types in FAMILY_ITEMS.items():
        if t.startswith(prefix):
            return types
    return None


_SCOPED = frozenset(
    t
    for t in EVENT_TYPES
    if t not in LIFECYCLE_TYPES | TERMINAL_TYPES | {"error", "keepalive"}
    and not t.startswith("response.audio")
    and t != "response.output_item.added"
)


def _item_scoped(ctx: ResponseContext, ev: Any) -> None:
    """OAS123 (inside its item's life), OAS125 (ids agree), OAS126 (family fits the item)."""
    idx = field_of(ev, "output_index")
    if not isinstance(idx, int):
        return
    t = ev.type
    item = ctx.asm.items.get(idx)
    if item is None or not item.added:
        ctx.tally(
            "OAS123 unopened",
            ctx.pos,
            f"{_kind(t)} for output_index {idx}, which was never added; the SDK helpers "
            "raise IndexError",
            field="output_index",
        )
        return
    if item.done_count:
        if t == "response.output_item.done":
            ctx.emit("OAS123", ctx.pos, f"output_item.done sent twice for output_index {idx}")
        else:
            ctx.tally(
                "OAS123 after",
                ctx.pos,
                f"{_kind(t)} for output_index {idx} after its output_item.done",
                field="output_index",
            )
    iid = field_of(ev, "item_id")
    if iid is not None and item.id is not None and iid != item.id:
        ctx.tally(
            "OAS125",
            ctx.pos,
            f"item_id {iid!r} but output_index {idx} is item {item.id!r}",
            field="item_id",
        )
    if t == "response.output_item.done":
        done = ev.item
        if done is not None:
            for name in ("id", "type", "call_id"):
                a, b = field_of(done, name), getattr(item, name)
                if a != b and not (name == "id" and item.id is None and a is not None):
                    ctx.emit(
                        "OAS125",
                        ctx.pos,
                        f"output_item.done's {name} {a!r} differs from the added item's {b!r}",
                        key=name,
                    )
        return
    want = _expected_items(t)
    itype = item.type
    if want is not None and itype is not None and itype not in want:
        ctx.tally(
            f"OAS126 {t}",
            ctx.pos,
            f"{_kind(t)} on a {itype} item (expected {'/'.join(sorted(want))})",
            field="type",
        )
    if t.startswith("response.content_part."):
        ptype = field_of(ev.part, "type")
        ok = itype == "message" or (itype == "reasoning" and ptype == "reasoning_text")
        if itype is not None and not ok:
            ctx.tally(
                f"OAS126 {t}",
                ctx.pos,
                f"{_kind(t)} with a {ptype} part on a {itype} item",
                field="type",
            )


def _item_scoped_end(ctx: ResponseContext) -> None:
    _items_open_end(ctx)
    for key in [k for k in ctx.tallies if k.startswith("OAS123 ")]:
        ctx.flush_tally(key, "OAS123", what="event")
    ctx.flush_tally("OAS125", "OAS125", what="event")
    for key in [k for k in ctx.tallies if k.startswith("OAS126 ")]:
        ctx.flush_tally(key, "OAS126", what="event")


def _items_open_end(ctx: ResponseContext) -> None:
    term = ctx.asm.terminal
    if term is None:
        return  # OAS114 says the stream is truncated
    open_items = [it for it in ctx.asm.items.values() if it.added and not it.done_count]
    if not open_items:
        return
    last = max(ctx.asm.items)
    for it in open_items:
        lenient = term.type != "response.completed" and it.index == last
        ctx.emit(
            "OAS123",
            None,
            f"{it.type} item {it.id!r} (output_index {it.index}) never got its "
            f"output_item.done before {term.type}",
            minor=1 if lenient else 0,
        )


_DONE_STATUSES = frozenset({"completed", "incomplete", "failed"})


def _item_status_done(ctx: ResponseContext, ev: Any) -> None:
    item = ev.item
    if item is None:
        return
    status = item.status
    if status is None:
        if item.type in ("message", "function_call"):
            ctx.tally(
                f"OAS127 done {item.type}",
                ctx.pos,
                f"{item.type} item done without a status",
                field="status",
            )
    elif status not in _DONE_STATUSES:
        ctx.tally(
            f"OAS127 done {item.type}",
            ctx.pos,
            f"{item.type} item done with status {status!r}",
            field="status",
        )


def _item_status_end(ctx: ResponseContext) -> None:
    for key in [k for k in ctx.tallies if k.startswith("OAS127 ")]:
        ctx.flush_tally(key, "OAS127", what="item")
    # Open Responses: an item that ends incomplete is the last item, of an incomplete response.
    term = ctx.asm.terminal
    items = ctx.asm.items
    last = max(items) if items else None
    for st in items.values():
        status = field_of(st.done_item, "status")
        if status != "incomplete":
            continue
        if st.index != last:
            ctx.emit(
                "OAS127",
                None,
                f"{st.type} item {st.id!r} is incomplete but not the last item",
            )
        elif term is not None and term.type != "response.incomplete":
            ctx.emit(
                "OAS127",
                None,
                f"{st.type} item {st.id!r} is incomplete in a response that ends {term.type}",
            )


def _short(text: str | None) -> str:
    if text is None:
        return "None"
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _compare_item(
    ctx: ResponseContext, code: str, st: ItemState, item: Any, where: str, minor: int = 0
) -> bool:
    """Whether ``item`` holds what the stream built for ``st``; reports the first difference."""
    for i, part in enumerate(field_of(item, "content") or ()):
        built = st.parts.get(i)
        if built is None:
            continue
        value = field_of(part, "text")
        if part.type == "refusal":
            value = field_of(part, "refusal")
        if value is not None and value != built.text:
            ctx.emit(
                code,
                ctx.pos,
                f"{where}: content[{i}] is {_short(value)}, the stream built {_short(built.text)}",
                minor=minor,
            )
            return False
    if item.type == "reasoning":
        for i, part in enumerate(item.summary or ()):
            built = st.summaries.get(i)
            if built is not None and field_of(part, "text") != built.text:
                ctx.emit(
                    code,
                    ctx.pos,
                    f"{where}: summary[{i}] differs from the streamed summary text",
                    minor=minor,
                )
                return False
    for fname in ("arguments", "input", "code"):
        value = field_of(item, fname)
        built_text = st.text
        known = fname in type(item).model_fields
        if known and built_text is not None and isinstance(value, str) and value != built_text:
            ctx.emit(
                code,
                ctx.pos,
                f"{where}: {fname} {_short(value)}, the stream built {_short(built_text)}",
                minor=minor,
            )
            return False
    name = field_of(item, "name")
    if st.name is not None and name is not None and name != st.name:
        ctx.emit(code, ctx.pos, f"{where}: name {name!r}, added as {st.name!r}", minor=minor)
        return False
    return True


def _done_item_matches(ctx: ResponseContext, ev: Any) -> None:
    item = ev.item
    st = _in_item(ctx, ev)
    if item is None or st is None or not st.added:
        return
    _compare_item(ctx, "OAS128", st, item, f"output_item.done #{st.index}")


def _final_output(ctx: ResponseContext, ev: Any) -> None:
    resp = ev.response
    if resp is None or ev.type == "response.failed" or ctx.terminals > 1:
        return
    output = resp.output or []
    streamed = [st for _, st in sorted(ctx.asm.items.items()) if st.added]
    if len(output) != len(streamed):
        ctx.emit(
            "OAS129",
            ctx.pos,
            f"the final output has {len(output)} item(s), the stream added {len(streamed)}; "
            "get_final_response() differs from what was streamed",
            key="output",
        )
        return
    for final, st in zip(output, streamed, strict=True):
        if final.id != st.id or final.type != st.type:
            ctx.emit(
                "OAS129",
                ctx.pos,
                f"final output[{st.index}] is {final.type} {final.id!r}, the stream's is "
                f"{st.type} {st.id!r}",
                key="output",
            )
            return
        if not _compare_item(ctx, "OAS129", st, final, f"final output[{st.index}]"):
            return


# ------------------------------------------------------------------------------ E. parts


def _content_added(ctx: ResponseContext, ev: Any) -> None:
    st = _in_item(ctx, ev)
    ci = ev.content_index
    if st is None or not isinstance(ci, int):
        return
    expected = sum(1 for p in st.parts.values() if p.added)
    if ci in st.parts and st.parts[ci].added:
        ctx.emit("OAS130", ctx.pos, f"content_index {ci} added twice", key="content_index")
    elif ci != expected:
        ctx.emit(
            "OAS130",
            ctx.pos,
            f"content_part.added with content_index {ci}, expected {expected}",
            key="content_index",
        )


def _part_of(ctx: ResponseContext, ev: Any, summary: bool = False) -> PartState | None:
    st = _in_item(ctx, ev)
    if st is None:
        return None
    parts = st.summaries if summary else st.parts
    idx = ev.summary_index if summary else ev.content_index
    return parts.get(idx) if isinstance(idx, int) else None


def _part_lifecycle(ctx: ResponseContext, ev: Any) -> None:
    """OAS131 (added -> deltas -> done -> content_part.done) and OAS133 (part type)."""
    t = ev.type
    if t == "response.output_item.done":
        _parts_closed(ctx, ev)
        return
    part = _part_of(ctx, ev)
    fam, _, last = t.rpartition(".")
    if t == "response.content_part.done":
        if part is None or not part.added:
            ctx.tally("OAS131 unopened", ctx.pos, "content_part.done for a part never added")
        elif part.closed:
            ctx.tally("OAS131 twice", ctx.pos, "content_part.done twice for one part")
        elif part.type in ("output_text", "refusal", "reasoning_text") and not part.text_done:
            ctx.tally(
                "OAS131 nodone",
                ctx.pos,
                f"content_part.done without {part.type}.done before it",
            )
        return
    if t == "response.output_text.annotation.added":
        fam = "response.output_text"
    ptype = TEXT_FAMILIES[fam][0]
    if part is None or not part.added:
        ctx.tally(
            "OAS131 unopened",
            ctx.pos,
            f"{_kind(t)} for content_index {ev.content_index}, which was never added",
            field="content_index",
        )
        return
    if part.closed:
        ctx.tally("OAS131 after", ctx.pos, f"{_kind(t)} after its content_part.done")
    elif last == "done" and part.text_done:
        ctx.tally("OAS131 twice", ctx.pos, f"{_kind(t)} twice for one part")
    elif last == "delta" and part.text_done:
        ctx.tally("OAS131 after", ctx.pos, f"{_kind(t)} after {ptype}.done")
    if part.type is not None and part.type != ptype:
        ctx.tally(
            f"OAS133 {t}",
            ctx.pos,
            f"{_kind(t)} into a {part.type} part (expected {ptype})",
            field="content_index",
        )


def _parts_closed(ctx: ResponseContext, ev: Any) -> None:
    """OAS131 at output_item.done: every part of the item went through its done events."""
    st = _in_item(ctx, ev)
    if st is None or not st.added or st.done_count:
        return
    for p in st.parts.values():
        if p.added and not p.closed:
            ctx.tally(
                "OAS131 open",
                ctx.pos,
                f"output_item.done while content part {p.index} of {st.id!r} is still open",
            )
    for p in st.summaries.values():
        if p.added and not p.closed:
            ctx.tally(
                "OAS134 open",
                ctx.pos,
                f"output_item.done while summary part {p.index} of {st.id!r} is still open",
            )


def _part_end(ctx: ResponseContext) -> None:
    for key in [k for k in ctx.tallies if k.startswith("OAS131 ")]:
        ctx.flush_tally(key, "OAS131", what="event")
    for key in [k for k in ctx.tallies if k.startswith("OAS133 ")]:
        ctx.flush_tally(key, "OAS133", what="event")


def _join_equals_done(ctx: ResponseContext, ev: Any) -> None:
    """OAS132 and OAS138 at each ``*.done``: the joined deltas equal the done value."""
    t = ev.type
    fam = t.rpartition(".")[0]
    built: str | None
    deltas: int
    if fam in TEXT_FAMILIES:
        part = _part_of(ctx, ev)
        value = field_of(ev, TEXT_FAMILIES[fam][1])
        built, deltas = (part.text, part.deltas) if part is not None else ("", 0)
    elif fam in ITEM_TEXT_FAMILIES:
        st = _in_item(ctx, ev)
        value = field_of(ev, ITEM_TEXT_FAMILIES[fam])
        built, deltas = (st.pieces.value(), st.deltas) if st is not None else ("", 0)
    elif t == "response.reasoning_summary_text.done":
        part = _part_of(ctx, ev, summary=True)
        value = ev.text
        built, deltas = (part.text, part.deltas) if part is not None else ("", 0)
    elif t in ("response.content_part.done", "response.reasoning_summary_part.done"):
        part = _part_of(ctx, ev, summary=t.endswith("summary_part.done"))
        p = ev.part
        value = field_of(p, "text") if p is not None else None
        if p is not None and p.type == "refusal":
            value = field_of(p, "refusal")
        if part is None or value is None or (part.done_text is None and not part.deltas):
            return
        done_value = part.done_text if part.done_text is not None else part.text
        if value != done_value:
            ctx.tally(
                "OAS132",
                ctx.pos,
                f"{_kind(t)} part text {_short(value)} differs from the streamed "
                f"{_short(done_value)}",
            )
        return
    else:
        return
    if not isinstance(value, str):
        return
    if deltas == 0:
        if value:
            ctx.tally(
                "OAS138",
                ctx.pos,
                f"{_kind(t)} carries {len(value)} characters that no delta streamed",
            )
        return
    if built != value:
        ctx.tally(
            "OAS132",
            ctx.pos,
            f"{_kind(t)} is {_short(value)} but the {deltas} deltas join to {_short(built)}",
        )


def _join_end(ctx: ResponseContext) -> None:
    ctx.flush_tally("OAS132", "OAS132", what="part")
    ctx.flush_tally("OAS138", "OAS138", what="part")


def _summary_index(ctx: ResponseContext, ev: Any) -> None:
    t = ev.type
    st = _in_item(ctx, ev)
    si = ev.summary_index
    if st is None or not isinstance(si, int):
        return
    part = st.summaries.get(si)
    if t == "response.reasoning_summary_part.added":
        expected = sum(1 for p in st.summaries.values() if p.added)
        if part is not None and part.added:
            ctx.emit("OAS134", ctx.pos, f"summary_index {si} added twice", key="summary_index")
        elif si != expected:
            ctx.emit(
                "OAS134",
                ctx.pos,
                f"reasoning_summary_part.added with summary_index {si}, expected {expected}",
                key="summary_index",
            )
        return
    if part is None or not part.added:
        ctx.tally(
            "OAS134 unopened",
            ctx.pos,
            f"{_kind(t)} for summary_index {si}, which was never added",
            field="summary_index",
        )
    elif part.closed:
        ctx.tally("OAS134 after", ctx.pos, f"{_kind(t)} after its summary part was done")
    elif t.endswith("summary_part.done") and not part.text_done:
        ctx.tally(
            "OAS134 nodone",
            ctx.pos,
            "reasoning_summary_part.done before reasoning_summary_text.done",
        )


def _summary_end(ctx: ResponseContext) -> None:
    for key in [k for k in ctx.tallies if k.startswith("OAS134 ")]:
        ctx.flush_tally(key, "OAS134", what="event")


def _arguments_json(ctx: ResponseContext, ev: Any) -> None:
    item = ev.item
    if item is None or item.type != "function_call":
        return
    st = _in_item(ctx, ev)
    args = item.arguments
    if not isinstance(args, str):
        return  # OAS109 reports a missing or non-string value
    if st is not None and st.deltas > 1 and st.pieces.cumulative:
        ctx.emit(
            "OAS135",
            ctx.pos,
            f"argument deltas of {item.name!r} are cumulative (each repeats the last)",
            key="arguments",
        )
        return
    try:
        value = json.loads(args)
    except json.JSONDecodeError as exc:
        ctx.emit(
            "OAS135",
            ctx.pos,
            f"arguments of {item.name!r} are not valid JSON ({exc.msg} at {exc.pos})",
            minor=1,
            key="arguments",
        )
        return
    if not isinstance(value, dict):
        ctx.emit(
            "OAS135",
            ctx.pos,
            f"arguments of {item.name!r} are JSON {type(value).__name__}, not an object",
            key="arguments",
        )


def _annotation_index(ctx: ResponseContext, ev: Any) -> None:
    t = ev.type
    if t == "response.output_item.done":
        _annotations_done(ctx, ev)
        return
    part = _part_of(ctx, ev)
    if t == "response.output_text.annotation.added":
        ai = ev.annotation_index
        have = len(part.annotations) if part is not None else 0
        if isinstance(ai, int) and ai != have:
            ctx.tally(
                "OAS136",
                ctx.pos,
                f"annotation_index {ai}, expected {have}",
                field="annotation_index",
            )
        return
    p = ev.part
    if part is None or p is None or not part.annotations:
        return
    anns = field_of(p, "annotations")
    if anns is not None and len(anns) != len(part.annotations):
        ctx.tally(
            "OAS136",
            ctx.pos,
            f"content_part.done lists {len(anns)} annotation(s), the stream added "
            f"{len(part.annotations)}",
            field="annotations",
        )


def _annotations_done(ctx: ResponseContext, ev: Any) -> None:
    """OAS136 at output_item.done: each text part lists the annotations the stream added."""
    st = _in_item(ctx, ev)
    item = ev.item
    if st is None or item is None or item.type != "message":
        return
    for i, done_part in enumerate(field_of(item, "content") or ()):
        built = st.parts.get(i)
        anns = field_of(done_part, "annotations")
        if built is None or not built.annotations or anns is None:
            continue
        if len(anns) != len(built.annotations):
            ctx.tally(
                "OAS136",
                ctx.pos,
                f"output_item.done lists {len(anns)} annotation(s) in content[{i}], "
                f"the stream added {len(built.annotations)}",
                field="annotations",
            )


def _annotation_end(ctx: ResponseContext) -> None:
    ctx.flush_tally("OAS136", "OAS136", what="event")


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


_FFFD_TYPES = frozenset(
    {
        "response.output_text.delta",
        "response.refusal.delta",
        "response.reasoning_text.delta",
        "response.reasoning_summary_text.delta",
    }
)


def _fffd(ctx: ResponseContext, ev: Any) -> None:
    delta = ev.delta
    if isinstance(delta, str) and "\ufffd" in delta:
        ctx.tally("OAS040", ctx.pos, f"U+FFFD in a {_kind(ev.type)}", field="delta")


def _fffd_end(ctx: ResponseContext) -> None:
    ctx.flush_tally("OAS040", "OAS040", what="event")


# ------------------------------------------------------------------------------ the table

_T = frozenset
_RESPONSE_EVENTS = LIFECYCLE_TYPES | TERMINAL_TYPES
_DONE_TYPES = _T(
    {f"{f}.done" for f in TEXT_FAMILIES}
    | {f"{f}.done" for f in ITEM_TEXT_FAMILIES}
    | {
        "response.reasoning_summary_text.done",
        "response.content_part.done",
        "response.reasoning_summary_part.done",
    }
)
_PART_EVENTS = _T(
    {f"{f}.delta" for f in TEXT_FAMILIES}
    | {f"{f}.done" for f in TEXT_FAMILIES}
    | {"response.content_part.done", "response.output_text.annotation.added"}
)

RULES: tuple[Rule, ...] = (
    *BYTE_RULES,
    Rule(
        "OAS040",
        "text-no-replacement-char",
        "warn",
        "event",
        "no U+FFFD in text deltas",
        on_chunk=_fffd,
        on_end=_fffd_end,
        types=_FFFD_TYPES,
    ),
    Rule(
        "OAS101",
        "event-json-object",
        "error",
        "event",
        "every data payload (but a final [DONE]) is one JSON object with a string type",
    ),
    Rule(
        "OAS102",
        "event-name-matches-type",
        "error",
        "event",
        "an `event:` field equals the payload's type",
        on_chunk=_name_matches,
        on_end=_name_matches_end,
        framing=True,
    ),
    Rule(
        "OAS103",
        "event-name-present",
        "warn",
        "event",
        "every event has an `event:` field",
        on_chunk=_name_present,
        on_end=_name_present_end,
        framing=True,
    ),
    Rule(
        "OAS104",
        "done-sentinel",
        "error",
        "stream",
        "no data: [DONE] (info when last; error when misplaced or repeated)",
        on_end=_done_end,
        framing=True,
    ),
    Rule(
        "OAS105",
        "sse-id-field",
        "info",
        "event",
        "no id: / retry: fields",
        on_event=_id_field,
        on_end=_id_field_end,
        framing=True,
    ),
    Rule(
        "OAS106",
        "sequence-number-present",
        "error",
        "event",
        "every event has an integer sequence_number",
        on_chunk=_seq_present,
        on_end=_seq_present_end,
    ),
    Rule(
        "OAS107",
        "sequence-increasing",
        "error",
        "stream",
        "sequence_number strictly increases, from 0 (or starting_after + 1), no gaps",
        on_chunk=_seq_increasing,
        on_end=_seq_increasing_end,
    ),
    Rule(
        "OAS108",
        "event-type-known",
        "warn",
        "event",
        "type is an event type of the API reference (prefixed extensions: info)",
        on_chunk=_type_known,
        on_end=_type_known_end,
    ),
    Rule(
        "OAS109",
        "event-required-fields",
        "error",
        "event",
        "each known event carries its required fields with their JSON types",
        on_chunk=_required,
        on_end=_required_end,
        types=_T(REQUIRED),
    ),
    Rule(
        "OAS110",
        "extension-fields",
        "info",
        "event",
        "fields outside the reference and the profile's extensions are reported",
        on_chunk=_extensions,
        on_end=_extensions_end,
    ),
    Rule(
        "OAS111",
        "first-event-created",
        "error",
        "stream",
        "the first event is response.created (a resumed stream excepted)",
        on_chunk=_first_created,
    ),
    Rule(
        "OAS112",
        "created-snapshot",
        "error",
        "response",
        "response.created: status in_progress (queued when background), empty output, null usage",
        on_chunk=_created_snapshot,
        types=_T({"response.created"}),
    ),
    Rule(
        "OAS113",
        "lifecycle-order",
        "warn",
        "response",
        "created, then queued / in_progress once each, then items, then the terminal event",
        on_chunk=_lifecycle,
        on_end=_lifecycle_end,
        types=LIFECYCLE_TYPES,
    ),
    Rule(
        "OAS114",
        "terminal-once-last",
        "error",
        "stream",
        "exactly one terminal event, and nothing after it (missing = truncated)",
        on_chunk=_any_event_terminal,
        on_end=_terminal_end,
    ),
    Rule(
        "OAS115",
        "terminal-status",
        "error",
        "response",
        "the terminal response's status matches its event, with incomplete_details / error",
        on_chunk=_terminal_status,
        types=TERMINAL_TYPES,
    ),
    Rule(
        "OAS116",
        "response-id-constant",
        "error",
        "response",
        "every response snapshot has the same non-empty id",
        on_chunk=_snapshots,
        on_end=_snapshots_end,
        types=_RESPONSE_EVENTS,
        serves=("OAS117",),
    ),
    Rule(
        "OAS117",
        "response-fields-constant",
        "error",
        "response",
        "created_at, object, model (warn) and the request echoes do not change",
    ),
    Rule(
        "OAS118",
        "usage-terminal-only",
        "error",
        "response",
        "usage null before the terminal event, present on completed / incomplete",
        on_chunk=_usage_place,
        types=_RESPONSE_EVENTS,
    ),
    Rule(
        "OAS119",
        "usage-arithmetic",
        "error",
        "response",
        "total_tokens = input_tokens + output_tokens; details fit their parents",
        on_chunk=_usage_math,
        types=TERMINAL_TYPES,
    ),
    Rule(
        "OAS120",
        "error-event",
        "error",
        "event",
        "an error event (the stream failed)",
        on_chunk=_error_event,
        types=_T({"error"}),
        serves=("OAS121",),
    ),
    Rule(
        "OAS121",
        "error-event-shape",
        "warn",
        "event",
        "an error event has a message, flat (code, message) or nested (error: {...})",
    ),
    Rule(
        "OAS122",
        "output-index-sequential",
        "error",
        "stream",
        "output_item.added opens output_index 0, 1, 2... in order, never reused",
        on_chunk=_item_added,
        types=_T({"response.output_item.added"}),
        serves=("OAS124", "OAS127"),
    ),
    Rule(
        "OAS123",
        "item-lifecycle",
        "error",
        "item",
        "every event of an item comes between its output_item.added and .done; every item is done",
        on_chunk=_item_scoped,
        on_end=_item_scoped_end,
        types=_SCOPED,
        serves=("OAS125", "OAS126"),
    ),
    Rule(
        "OAS124",
        "item-id-unique",
        "error",
        "stream",
        "item ids (and call ids) are non-empty and unique in the response",
    ),
    Rule(
        "OAS125",
        "item-id-consistent",
        "error",
        "item",
        "an event's item_id and output_index name the same opened item",
    ),
    Rule(
        "OAS126",
        "item-type-matches-event",
        "error",
        "event",
        "an event family matches its item's type",
    ),
    Rule(
        "OAS127",
        "item-status",
        "warn",
        "item",
        "an item is in_progress when added and completed (or incomplete) when done",
        on_chunk=_item_status_done,
        on_end=_item_status_end,
        types=_T({"response.output_item.done"}),
    ),
    Rule(
        "OAS128",
        "done-item-matches-stream",
        "error",
        "item",
        "output_item.done's item holds what the stream built",
        on_chunk=_done_item_matches,
        types=_T({"response.output_item.done"}),
    ),
    Rule(
        "OAS129",
        "final-output-matches-items",
        "error",
        "stream",
        "the terminal response's output holds the streamed items, same ids, order and content",
        on_chunk=_final_output,
        types=_T({"response.completed", "response.incomplete"}),
    ),
    Rule(
        "OAS130",
        "content-index-sequential",
        "error",
        "item",
        "content_part.added opens content_index 0, 1... in order within its item",
        on_chunk=_content_added,
        types=_T({"response.content_part.added"}),
    ),
    Rule(
        "OAS131",
        "part-lifecycle",
        "error",
        "part",
        "each part goes added -> deltas -> done -> content_part.done, inside its item",
        on_chunk=_part_lifecycle,
        on_end=_part_end,
        types=_PART_EVENTS | {"response.output_item.done"},
        serves=("OAS133",),
    ),
    Rule(
        "OAS132",
        "delta-join-equals-done",
        "error",
        "part",
        "the joined deltas equal the done text",
        on_chunk=_join_equals_done,
        on_end=_join_end,
        types=_DONE_TYPES,
        serves=("OAS138",),
    ),
    Rule(
        "OAS133",
        "part-type-matches-event",
        "error",
        "part",
        "output_text.* on an output_text part, refusal.* on a refusal part...",
    ),
    Rule(
        "OAS134",
        "summary-index-sequential",
        "error",
        "item",
        "reasoning summary_index 0, 1... in order; each summary part added -> text -> done",
        on_chunk=_summary_index,
        on_end=_summary_end,
        types=_T(
            {
                "response.reasoning_summary_part.added",
                "response.reasoning_summary_part.done",
                "response.reasoning_summary_text.delta",
                "response.reasoning_summary_text.done",
            }
        ),
    ),
    Rule(
        "OAS135",
        "function-call-arguments-json",
        "error",
        "item",
        "a function call's arguments parse as one JSON object",
        on_chunk=_arguments_json,
        types=_T({"response.output_item.done"}),
    ),
    Rule(
        "OAS136",
        "annotation-index-sequential",
        "warn",
        "part",
        "annotation_index 0, 1... in order within a part",
        on_chunk=_annotation_index,
        on_end=_annotation_end,
        types=_T(
            {
                "response.output_text.annotation.added",
                "response.content_part.done",
                "response.output_item.done",
            }
        ),
    ),
    Rule(
        "OAS137",
        "created-at-unix-seconds",
        "error",
        "response",
        "created_at is integer Unix seconds",
        on_chunk=_created_at,
        types=_RESPONSE_EVENTS,
    ),
    Rule(
        "OAS138",
        "deltas-before-done",
        "warn",
        "part",
        "a part or call with non-empty done text had at least one delta",
    ),
)

RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
