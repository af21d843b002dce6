"""Catalog section E, parts (OAS130-OAS136, OAS138, OAS040): lifecycle, joined text, indexes."""

from __future__ import annotations

import json
from typing import Any

from ..assembly import ITEM_TEXT_FAMILIES, TEXT_FAMILIES, PartState
from ..models import field_of
from .context import ResponseContext, _in_item, _kind, next_index
from .items import _short


def _content_added(ctx: ResponseContext, ev: Any) -> None:
    st = _in_item(ctx, ev)
    ci = ev.content_index
    if st is None or not isinstance(ci, int):
        return
    expected = next_index(st.parts, sum(1 for p in st.parts.values() if p.added), st.adopted)
    if ci in st.parts and st.parts[ci].added:
        ctx.emit("OAS130", ctx.pos, f"content_index {ci} added twice", key="content_index")
    elif expected is not None and ci != expected:
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
        elif (
            part.type in ("output_text", "refusal", "reasoning_text")
            and not part.text_done
            and not part.adopted  # its .done may have come before the resume point
        ):
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
    # A part or item opened before a resumed stream's first event (Assembler.adopt): its deltas
    # here are the tail of its text, so they must end the done value, not equal it.
    partial = False
    if fam in TEXT_FAMILIES:
        part = _part_of(ctx, ev)
        value = field_of(ev, TEXT_FAMILIES[fam][1])
        built, deltas = (part.text, part.deltas) if part is not None else ("", 0)
        partial = part is not None and part.adopted
    elif fam in ITEM_TEXT_FAMILIES:
        st = _in_item(ctx, ev)
        value = field_of(ev, ITEM_TEXT_FAMILIES[fam])
        built, deltas = (st.pieces.value(), st.deltas) if st is not None else ("", 0)
        partial = st is not None and st.adopted
    elif t == "response.reasoning_summary_text.done":
        part = _part_of(ctx, ev, summary=True)
        value = ev.text
        built, deltas = (part.text, part.deltas) if part is not None else ("", 0)
        partial = part is not None and part.adopted
    elif t in ("response.content_part.done", "response.reasoning_summary_part.done"):
        part = _part_of(ctx, ev, summary=t.endswith("summary_part.done"))
        p = ev.part
        value = field_of(p, "text") if p is not None else None
        if p is not None and p.type == "refusal":
            value = field_of(p, "refusal")
        if part is None or value is None or (part.done_text is None and not part.deltas):
            return
        if part.adopted and part.done_text is None:
            if not value.endswith(part.text):
                ctx.tally(
                    "OAS132",
                    ctx.pos,
                    f"{_kind(t)} part text {_short(value)} does not end with the "
                    f"{_short(part.text)} streamed after the resume point",
                )
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
    if partial:
        if deltas and built is not None and not value.endswith(built):
            ctx.tally(
                "OAS132",
                ctx.pos,
                f"{_kind(t)} is {_short(value)} but the {deltas} deltas after the resume point "
                f"join to {_short(built)}, which does not end it",
            )
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
        added = sum(1 for p in st.summaries.values() if p.added)
        expected = next_index(st.summaries, added, st.adopted)
        if part is not None and part.added:
            ctx.emit("OAS134", ctx.pos, f"summary_index {si} added twice", key="summary_index")
        elif expected is not None and si != expected:
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
    elif t.endswith("summary_part.done") and not part.text_done and not part.adopted:
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
    if part is not None and part.adopted:
        return  # annotations may have come before a resumed stream's first event
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
        if built is None or built.adopted or not built.annotations or anns is None:
            continue  # an adopted part's first annotations came before the resume point
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
