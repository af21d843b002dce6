"""Assembles the Response a client would build from the events, without the SDK's failure modes.

The :class:`Assembler` follows the stream: items by ``output_index``, their content parts,
summary parts and argument/input/code text, joined from the deltas (a ``*.done`` value stands in
where no delta came). Where openai-python's ``ResponseStreamState`` raises (an event for an item or
part that was never added, an out-of-range index) the assembler keeps the data in an implicit item
or part instead, so nothing a server sent is lost; the rules report the broken order. The rules
read the same state (items, parts, counts) while the stream passes, so it is built once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .models import (
    Annotation,
    EventBase,
    OutputItem,
    Response,
    ResponseError,
    ResponseUsage,
    field_of,
)

__all__ = ["AssembledItem", "AssembledPart", "Assembler", "ItemState", "PartState"]

#: Events that carry a content part's text, by family: (part type, value field of ``.done``).
TEXT_FAMILIES: dict[str, tuple[str, str]] = {
    "response.output_text": ("output_text", "text"),
    "response.refusal": ("refusal", "refusal"),
    "response.reasoning_text": ("reasoning_text", "text"),
}
#: Events that carry an item's own text (arguments, input, code), with the ``.done`` field.
ITEM_TEXT_FAMILIES: dict[str, str] = {
    "response.function_call_arguments": "arguments",
    "response.custom_tool_call_input": "input",
    "response.mcp_call_arguments": "arguments",
    "response.code_interpreter_call_code": "code",
}
#: The item type an event family implies, for an item a resumed stream never added.
_FAMILY_ITEM: dict[str, str] = {
    "response.output_text": "message",
    "response.refusal": "message",
    "response.reasoning_text": "reasoning",
    "response.reasoning_summary_text": "reasoning",
    "response.reasoning_summary_part": "reasoning",
    "response.function_call_arguments": "function_call",
    "response.custom_tool_call_input": "custom_tool_call",
    "response.mcp_call_arguments": "mcp_call",
    "response.code_interpreter_call_code": "code_interpreter_call",
}


class TextBuffer:
    """Delta texts joined as they come, in blocks: memory is the text, not one object per delta.

    Also notes whether every delta repeats the one before it (cumulative deltas, OAS135).
    """

    __slots__ = ("blocks", "cumulative", "last", "recent")

    _BLOCK = 256

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.recent: list[str] = []
        self.last: str | None = None
        self.cumulative = True

    def add(self, text: str) -> None:
        """Append one delta's text."""
        last = self.last
        if last is not None and not (last and text.startswith(last)):
            self.cumulative = False
        self.last = text
        recent = self.recent
        recent.append(text)
        if len(recent) >= self._BLOCK:
            self.blocks.append("".join(recent))
            recent.clear()

    def value(self) -> str:
        """The joined text so far."""
        if self.blocks:
            return "".join(self.blocks) + "".join(self.recent)
        return "".join(self.recent)


class PartState:
    """One content or summary part as the stream builds it."""

    __slots__ = (
        "added",
        "adopted",
        "annotations",
        "closed",
        "deltas",
        "done_text",
        "index",
        "pieces",
        "text_done",
        "type",
    )

    def __init__(self, index: int, type_: str | None, added: bool) -> None:
        self.index = index
        self.type = type_
        self.added = added
        self.adopted = False  # opened before a resumed stream's first event (Assembler.adopt)
        self.pieces = TextBuffer()
        self.deltas = 0
        self.done_text: str | None = None
        self.text_done = 0
        self.closed = 0
        self.annotations: list[Any] = []

    @property
    def text(self) -> str:
        """The joined deltas, or the ``.done`` text when no delta came."""
        if self.deltas or self.done_text is None:
            return self.pieces.value()
        return self.done_text


class ItemState:
    """One output item as the stream builds it."""

    __slots__ = (
        "added",
        "added_item",
        "added_pos",
        "adopted",
        "call_id",
        "deltas",
        "done_count",
        "done_item",
        "done_text",
        "done_text_count",
        "id",
        "index",
        "name",
        "parts",
        "pieces",
        "summaries",
        "type",
    )

    def __init__(self, index: int, item: Any, pos: int, added: bool) -> None:
        self.index = index
        self.added = added
        self.adopted = False  # added before a resumed stream's first event (Assembler.adopt)
        self.added_item = item
        self.added_pos = pos
        self.id: str | None = field_of(item, "id")
        self.type: str | None = field_of(item, "type")
        self.call_id: str | None = field_of(item, "call_id")
        self.name: str | None = field_of(item, "name")
        self.done_count = 0
        self.done_item: Any = None
        self.parts: dict[int, PartState] = {}
        self.summaries: dict[int, PartState] = {}
        self.pieces = TextBuffer()
        self.deltas = 0
        self.done_text: str | None = None
        self.done_text_count = 0

    @property
    def text(self) -> str | None:
        """Joined argument/input/code deltas (or the ``.done`` value when none came)."""
        if self.deltas:
            return self.pieces.value()
        return self.done_text


@dataclass
class AssembledPart:
    """A content part of an assembled item: its type, text and annotations."""

    index: int
    type: str | None
    text: str
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class AssembledItem:
    """One output item as a client would assemble it from the stream."""

    index: int
    id: str | None
    type: str | None
    status: str | None
    done: bool
    content: list[AssembledPart] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    item: OutputItem | None = None
    """The item of ``output_item.done`` (or of ``.added`` when it never finished)."""

    @property
    def text(self) -> str:
        """The joined text of the item's ``output_text`` parts."""
        return "".join(p.text for p in self.content if p.type == "output_text")

    @property
    def refusal(self) -> str | None:
        """The joined refusal parts, or ``None`` when the item refused nothing."""
        parts = [p.text for p in self.content if p.type == "refusal"]
        return "".join(parts) if parts else None

    @property
    def reasoning_text(self) -> str:
        """Raw reasoning text (``reasoning_text`` parts of a reasoning item)."""
        return "".join(p.text for p in self.content if p.type == "reasoning_text")

    @property
    def annotations(self) -> list[Annotation]:
        """Every annotation of the item's text parts, in order."""
        return [a for p in self.content for a in p.annotations]

    @property
    def parsed_arguments(self) -> Any:
        """The arguments parsed as JSON (``None`` when absent or not valid JSON)."""
        if self.arguments is None:
            return None
        try:
            return json.loads(self.arguments)
        except ValueError:
            return None


class Assembler:
    """Follows the events and keeps the state the rules and the assembled response need."""

    def __init__(self) -> None:
        self.items: dict[int, ItemState] = {}
        #: A resumed stream (``starting_after``): items may have opened before its first event.
        self.resumed = False
        self.added = 0
        self.created: Response | None = None
        self.terminal: EventBase | None = None
        self.errors: list[EventBase] = []

    def item_of(self, ev: Any, pos: int) -> ItemState:
        """The item an event names by ``output_index``; an implicit one when never added."""
        idx = ev.output_index
        item = self.items.get(idx if isinstance(idx, int) else -1)
        if item is None:
            key = idx if isinstance(idx, int) else -1 - len(self.items)
            stub = _Stub(field_of(ev, "item_id"))
            item = self.items[key] = ItemState(key, stub, pos, added=False)
            item.type = None
        return item

    def adopt(self, ev: Any, pos: int) -> None:
        """In a resumed stream, take the item an event names as added before the resume point
        when this stream never added it (and its part, likewise): the client saw those events
        before the connection dropped, so they are no lifecycle break. The rules then compare
        such an item's texts as the tail of the done value, not the whole of it."""
        idx = ev.output_index
        t = ev.type
        if not isinstance(idx, int) or t == "response.output_item.added":
            return
        fam = t.rpartition(".")[0]
        item = self.items.get(idx)
        if item is None:
            item = ItemState(idx, _Stub(field_of(ev, "item_id")), pos, added=True)
            item.type = _FAMILY_ITEM.get(fam)
            if t == "response.output_item.done" and ev.item is not None:
                item.type = ev.item.type
                item.id = item.id or ev.item.id
            item.adopted = True
            self.items[idx] = item
        if not item.adopted:
            return  # an item of this stream: its parts must be added here
        ci = field_of(ev, "content_index")
        if isinstance(ci, int) and t != "response.content_part.added" and ci not in item.parts:
            ptype = TEXT_FAMILIES[fam][0] if fam in TEXT_FAMILIES else None
            part = item.parts[ci] = PartState(ci, ptype, added=True)
            part.adopted = True
        si = field_of(ev, "summary_index")
        summary_added = t == "response.reasoning_summary_part.added"
        if isinstance(si, int) and not summary_added and si not in item.summaries:
            part = item.summaries[si] = PartState(si, "summary_text", added=True)
            part.adopted = True

    def feed(self, ev: Any, pos: int) -> None:
        """Take one event into the state (after the rules looked at it)."""
        t = ev.type
        fam, _, last = t.rpartition(".")
        if fam in TEXT_FAMILIES:
            item = self.item_of(ev, pos)
            part = _part(item.parts, ev.content_index, TEXT_FAMILIES[fam][0])
            if last == "delta":
                if isinstance(ev.delta, str):
                    part.pieces.add(ev.delta)
                part.deltas += 1
            elif last == "done":
                part.done_text = field_of(ev, TEXT_FAMILIES[fam][1])
                part.text_done += 1
            return
        if fam in ITEM_TEXT_FAMILIES:
            item = self.item_of(ev, pos)
            if last == "delta":
                if isinstance(ev.delta, str):
                    item.pieces.add(ev.delta)
                item.deltas += 1
            elif last == "done":
                item.done_text = field_of(ev, ITEM_TEXT_FAMILIES[fam])
                item.done_text_count += 1
            return
        if t == "response.reasoning_summary_text.delta":
            part = _part(self.item_of(ev, pos).summaries, ev.summary_index, "summary_text")
            if isinstance(ev.delta, str):
                part.pieces.add(ev.delta)
            part.deltas += 1
        elif t == "response.reasoning_summary_text.done":
            part = _part(self.item_of(ev, pos).summaries, ev.summary_index, "summary_text")
            part.done_text = ev.text
            part.text_done += 1
        elif t == "response.output_item.added":
            idx = ev.output_index
            self.added += 1
            if isinstance(idx, int) and (idx not in self.items or not self.items[idx].added):
                old = self.items.get(idx)
                state = ItemState(idx, ev.item, pos, added=True)
                if old is not None:  # events came before the item was added: keep their data
                    state.parts, state.summaries, state.pieces = (
                        old.parts,
                        old.summaries,
                        old.pieces,
                    )
                    state.deltas = old.deltas
                self.items[idx] = state
        elif t == "response.output_item.done":
            item = self.item_of(ev, pos)
            item.done_count += 1
            item.done_item = ev.item
            if item.type is None and ev.item is not None:
                item.type = ev.item.type
                item.id = item.id or ev.item.id
        elif t == "response.content_part.added":
            item = self.item_of(ev, pos)
            ci = ev.content_index
            ptype = field_of(ev.part, "type")
            if isinstance(ci, int) and ci not in item.parts:
                item.parts[ci] = PartState(ci, ptype, added=True)
            elif isinstance(ci, int) and not item.parts[ci].added:
                item.parts[ci].added = True
        elif t == "response.content_part.done":
            part = _part(self.item_of(ev, pos).parts, ev.content_index, None)
            part.closed += 1
        elif t == "response.reasoning_summary_part.added":
            item = self.item_of(ev, pos)
            si = ev.summary_index
            if isinstance(si, int) and si not in item.summaries:
                item.summaries[si] = PartState(si, "summary_text", added=True)
        elif t == "response.reasoning_summary_part.done":
            part = _part(self.item_of(ev, pos).summaries, ev.summary_index, "summary_text")
            part.closed += 1
        elif t == "response.output_text.annotation.added":
            part = _part(self.item_of(ev, pos).parts, ev.content_index, "output_text")
            if ev.annotation is not None:
                part.annotations.append(ev.annotation)
        elif t == "response.created":
            if self.created is None:
                self.created = ev.response
        elif t in ("response.completed", "response.incomplete", "response.failed"):
            if self.terminal is None:
                self.terminal = ev
        elif t == "error":
            self.errors.append(ev)

    # ------------------------------------------------------------------ results

    def output(self) -> list[AssembledItem]:
        """The items in ``output_index`` order, as a client would show them."""
        out = []
        for idx in sorted(self.items):
            st = self.items[idx]
            item = st.done_item if st.done_item is not None else st.added_item
            if isinstance(item, _Stub):
                item = None
            content = [
                AssembledPart(p.index, p.type, p.text, list(p.annotations))
                for _, p in sorted(st.parts.items())
            ]
            if not content and item is not None and st.done_item is not None:
                # A done item whose parts never streamed (e.g. reasoning added and done at once).
                for i, part in enumerate(field_of(item, "content") or []):
                    text = field_of(part, "text") or field_of(part, "refusal") or ""
                    anns = list(field_of(part, "annotations") or [])
                    content.append(AssembledPart(i, part.type, text, anns))
            summary = [p.text for _, p in sorted(st.summaries.items())]
            name = st.name
            if name is None and item is not None:
                name = field_of(item, "name")
            arguments = st.text
            if arguments is None and item is not None:
                arguments = field_of(item, "arguments") or field_of(item, "input")
            out.append(
                AssembledItem(
                    index=idx,
                    id=st.id if st.id is not None else field_of(item, "id"),
                    type=st.type if st.type is not None else field_of(item, "type"),
                    status=field_of(item, "status"),
                    done=st.done_count > 0,
                    content=content,
                    summary=summary,
                    call_id=st.call_id if st.call_id is not None else field_of(item, "call_id"),
                    name=name,
                    arguments=arguments,
                    item=item,
                )
            )
        return out

    @property
    def response(self) -> Response | None:
        """The terminal event's own ``response`` (what ``get_final_response()`` returns)."""
        resp: Response | None = field_of(self.terminal, "response")
        return resp

    @property
    def usage(self) -> ResponseUsage | None:
        """Usage of the terminal snapshot."""
        resp = self.response
        return resp.usage if resp is not None else None

    @property
    def error(self) -> ResponseError | None:
        """``response.error`` of the terminal snapshot, else the first ``error`` event's."""
        resp = self.response
        if resp is not None and resp.error is not None:
            return resp.error
        for ev in self.errors:
            nested = field_of(ev, "error")
            if nested is not None:
                return nested  # type: ignore[no-any-return]
            return ResponseError(
                code=field_of(ev, "code"),
                message=field_of(ev, "message"),
                param=field_of(ev, "param"),
            )
        return None


class _Stub:
    """Stands for an item that was never added (only its events' ``item_id`` is known)."""

    type = None
    call_id = None
    name = None

    def __init__(self, item_id: Any) -> None:
        self.id = item_id if isinstance(item_id, str) else None


def _part(parts: dict[int, PartState], index: Any, type_: str | None) -> PartState:
    key = index if isinstance(index, int) else -1
    part = parts.get(key)
    if part is None:
        part = parts[key] = PartState(key, type_, added=False)
    elif part.type is None and type_ is not None:
        part.type = type_
    return part
