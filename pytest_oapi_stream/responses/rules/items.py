"""Catalog section D, output items (OAS122-OAS129): indexes, lifecycle, ids, status, output."""

from __future__ import annotations

from typing import Any

from ..assembly import ItemState
from ..models import EVENT_TYPES, LIFECYCLE_TYPES, STATUS_EVENTS, TERMINAL_TYPES, field_of
from .context import ResponseContext, _in_item, _kind, next_index


def _item_added(ctx: ResponseContext, ev: Any) -> None:
    idx = ev.output_index
    if not isinstance(idx, int):
        return
    prior = ctx.asm.items.get(idx)
    expected = next_index(ctx.asm.items, ctx.asm.added, ctx.asm.resumed)
    if prior is not None and prior.added:
        ctx.emit("OAS122", ctx.pos, f"output_index {idx} added a second time", key="output_index")
    elif expected is not None and idx != expected:
        ctx.emit(
            "OAS122",
            ctx.pos,
            f"output_item.added with output_index {idx}, expected {expected}; "
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
                if b is None and item.adopted:
                    continue  # added before a resumed stream's first event: not known here
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


def _differs(value: str, built: str, partial: bool) -> bool:
    """``value`` is not what was streamed: not equal to it, or for a partial (resumed) text,
    not ending with it."""
    return not value.endswith(built) if partial else value != built


def _compare_item(
    ctx: ResponseContext, code: str, st: ItemState, item: Any, where: str, minor: int = 0
) -> bool:
    """Whether ``item`` holds what the stream built for ``st``; reports the first difference.

    A part or item opened before a resumed stream's first event was built from the deltas
    after the resume point only: its text must end the item's, not equal it.
    """
    for i, part in enumerate(field_of(item, "content") or ()):
        built = st.parts.get(i)
        if built is None:
            continue
        value = field_of(part, "text")
        if part.type == "refusal":
            value = field_of(part, "refusal")
        if value is not None and _differs(value, built.text, built.adopted):
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
            text = field_of(part, "text")
            if (
                built is not None
                and isinstance(text, str)
                and _differs(text, built.text, built.adopted)
            ):
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
        if (
            known
            and built_text is not None
            and isinstance(value, str)
            and _differs(value, built_text, st.adopted)
        ):
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
    """OAS129: the terminal response's output holds the items the stream streamed.

    In a resumed stream, items done before its first event are not in it: each item it
    streamed is compared with the final output at its own ``output_index``, and an id or type
    it never saw (an item added before the resume point) is not compared.
    """
    resp = ev.response
    if resp is None or ev.type == "response.failed" or ctx.terminals > 1:
        return
    output = resp.output or []
    streamed = [st for _, st in sorted(ctx.asm.items.items()) if st.added]
    resumed = ctx.starting_after is not None
    if not resumed and len(output) != len(streamed):
        ctx.emit(
            "OAS129",
            ctx.pos,
            f"the final output has {len(output)} item(s), the stream added {len(streamed)}; "
            "get_final_response() differs from what was streamed",
            key="output",
        )
        return
    for i, st in enumerate(streamed):
        at = st.index if resumed else i
        if not 0 <= at < len(output):
            ctx.emit(
                "OAS129",
                ctx.pos,
                f"the stream has output_index {st.index}, the final output only "
                f"{len(output)} item(s)",
                key="output",
            )
            return
        final = output[at]
        same_id = final.id == st.id or (resumed and st.id is None)
        same_type = final.type == st.type or (resumed and st.type is None)
        if not (same_id and same_type):
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
