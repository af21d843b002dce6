"""The fault table of Responses streams: named ways a ``/v1/responses`` stream goes wrong.

The rows are ``chat.faults.Fault`` rows and the machinery is chat's (``normalize_faults``,
``apply_chunk_faults``, ``apply_byte_faults``, ``transport_plan`` take a table): each fault names
the rule of the Responses catalog it breaks (OAS101-OAS138) and, with ``also``, the rules it
breaks on the way. Event faults edit the script (one dict per event, ``chat.script`` items);
``crlf``, ``keepalive_comments`` and the transport and HTTP faults are chat's own rows, shared.

Faults that remove or insert events renumber ``sequence_number`` so that only their own rule
breaks; the sequence faults are the ones that break the numbering.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..chat.faults import FAULTS as CHAT_FAULTS
from ..chat.faults import Fault, FaultNotApplicable, Hint
from ..chat.script import DONE, Done, Item, dumps
from ..core.surface import Surface
from .builder import TERMINAL_TYPES, renumber

__all__ = ["ALL_FAULTS", "FAULT_TABLES", "RESPONSE_FAULTS", "SHARED", "surface_faults"]

_TWO_ITEMS = Hint("tool_calls", [{"name": "get_weather", "arguments": {"city": "Paris"}}])

Events = list[Item]


def _positions(items: Events) -> list[int]:
    return [i for i, it in enumerate(items) if isinstance(it, dict)]


def _numbered(items: Events) -> list[dict[str, Any]]:
    return [it for it in items if isinstance(it, dict) and "sequence_number" in it]


def _need_index(name: str, n: int, count: int, low: int = 1) -> None:
    if not low <= n < count:
        raise FaultNotApplicable(
            f"fault {name}={n}: the stream has {count} numbered events, so {name} must be "
            f"between {low} and {count - 1}"
        )


def _of_type(items: Events, *types: str) -> list[dict[str, Any]]:
    return [it for it in items if isinstance(it, dict) and it.get("type") in types]


def _terminal(items: Events, name: str) -> int:
    for i in range(len(items) - 1, -1, -1):
        it = items[i]
        if isinstance(it, dict) and it.get("type") in TERMINAL_TYPES:
            return i
    raise FaultNotApplicable(f"fault {name}: the stream has no terminal event")


def _item_events(items: Events, index: int) -> list[dict[str, Any]]:
    """The events of the item at ``output_index`` (added and done included)."""
    return [it for it in items if isinstance(it, dict) and it.get("output_index") == index]


# --------------------------------------------------------------------------- sequence numbers


def _sequence_gap(items: Events, n: int) -> Events:
    evs = _numbered(items)
    _need_index("sequence_gap", n, len(evs))
    for ev in evs[n:]:
        ev["sequence_number"] += 1
    return items


def _sequence_duplicate(items: Events, n: int) -> Events:
    evs = _numbered(items)
    _need_index("sequence_duplicate", n, len(evs))
    for ev in evs[n:]:
        ev["sequence_number"] -= 1
    return items


def _sequence_reset(items: Events, n: int) -> Events:
    evs = _numbered(items)
    _need_index("sequence_reset", n, len(evs))
    renumber(evs[n:], 0)
    return items


# --------------------------------------------------------------------------- items


def _output_index_skip(items: Events, _: Any) -> Events:
    moved = 0
    for ev in items:
        if isinstance(ev, dict) and isinstance(ev.get("output_index"), int):
            ev["output_index"] += 1
            moved += 1
    if not moved:
        raise FaultNotApplicable("fault output_index_skip: the stream has no output item")
    return items


def _output_index_out_of_range(items: Events, _: Any) -> Events:
    count = len(_of_type(items, "response.output_item.added"))
    target = next(
        (
            it
            for it in items
            if isinstance(it, dict) and "item_id" in it and isinstance(it.get("output_index"), int)
        ),
        None,
    )
    if target is None:
        raise FaultNotApplicable(
            "fault output_index_out_of_range needs an event that names an item (a delta)"
        )
    target["output_index"] = count + 5
    return items


def _drop_item_added(items: Events, _: Any) -> Events:
    added = _of_type(items, "response.output_item.added")
    if not added:
        raise FaultNotApplicable("fault drop_item_added: the stream has no output_item.added")
    out = [it for it in items if it is not added[-1]]
    renumber(out)
    return out


def _item_null(items: Events, _: Any) -> Events:
    added = _of_type(items, "response.output_item.added")
    if not added:
        raise FaultNotApplicable("fault item_null: the stream has no output_item.added")
    added[0]["item"] = None
    return items


def _item_id_other(items: Events, _: Any) -> Events:
    added = _of_type(items, "response.output_item.added")
    if len(added) < 2:
        raise FaultNotApplicable(
            "fault item_id_other needs a stream with two items (the id of one is put on an "
            "event of the other)",
            _TWO_ITEMS,
        )
    first_id = (added[0].get("item") or {}).get("id")
    second = added[1].get("output_index", 1)
    target = next(
        (ev for ev in _item_events(items, second) if "item_id" in ev),
        None,
    )
    if target is None:
        raise FaultNotApplicable("fault item_id_other: the second item streams no event")
    target["item_id"] = first_id
    return items


_DONE_TEXT = {
    "response.output_text.done": "text",
    "response.refusal.done": "refusal",
    "response.reasoning_summary_text.done": "text",
    "response.reasoning_text.done": "text",
    "response.function_call_arguments.done": "arguments",
}


def _delta_mismatch(items: Events, _: Any) -> Events:
    for ev in items:
        if isinstance(ev, dict) and ev.get("type") in _DONE_TEXT:
            key = _DONE_TEXT[ev["type"]]
            if isinstance(ev.get(key), str) and ev[key]:
                # Only the done event differs: the part, item and output keep the deltas' text.
                ev[key] = ev[key][:-1] + ("?" if ev[key][-1] != "?" else "!")
                return items
    raise FaultNotApplicable("fault delta_mismatch: the stream has no done text to differ from")


def _drop_last_item_done(items: Events, _: Any) -> Events:
    added = _of_type(items, "response.output_item.added")
    if not added:
        raise FaultNotApplicable("fault drop_last_item_done: the stream has no output item")
    last = added[-1].get("output_index", len(added) - 1)
    gone = {id(ev) for ev in _item_events(items, last) if ev.get("type", "").endswith(".done")}
    out = [it for it in items if id(it) not in gone]
    renumber(out)
    return out


# --------------------------------------------------------------------------- lifecycle


def _drop_terminal(items: Events, _: Any) -> Events:
    i = _terminal(items, "drop_terminal")
    return [it for k, it in enumerate(items) if k != i]


def _terminal_twice(items: Events, _: Any) -> Events:
    i = _terminal(items, "terminal_twice")
    again = json.loads(dumps(items[i]))
    out = [*items[: i + 1], again, *items[i + 1 :]]
    renumber(out)
    return out


def _response_done(items: Events, _: Any) -> Events:
    i = _terminal(items, "response_done")
    ev = items[i]
    assert isinstance(ev, dict)
    if ev.get("type") != "response.completed":
        raise FaultNotApplicable("fault response_done: the stream does not end completed")
    ev["type"] = "response.done"
    return items


def _error_event_at(items: Events, n: int) -> Events:
    evs = _numbered(items) or [it for it in items if isinstance(it, dict)]
    _need_index("error_event_at", n, len(evs), low=2)
    cut = items.index(evs[n])
    snapshot: dict[str, Any] = next(
        (
            it["response"]
            for it in reversed(items[:cut])
            if isinstance(it, dict) and "response" in it
        ),
        {},
    )
    message = "The server had an error while processing your request. Sorry about that!"
    error = {"type": "server_error", "code": "server_error", "message": message, "param": None}
    failed = {
        **json.loads(dumps(snapshot)),
        "status": "failed",
        "error": {"code": "server_error", "message": message},
        "output": [],
        "usage": None,
    }
    out: Events = [
        *items[:cut],
        {"type": "error", "error": error, "sequence_number": 0},
        {"type": "response.failed", "response": failed, "sequence_number": 0},
    ]
    renumber(out)
    return out


def _usage_in_progress(items: Events, _: Any) -> Events:
    i = _terminal(items, "usage_in_progress")
    final = items[i]
    assert isinstance(final, dict)
    usage = (final.get("response") or {}).get("usage")
    progress = _of_type(items, "response.in_progress")
    if not progress or not isinstance(usage, dict):
        raise FaultNotApplicable(
            "fault usage_in_progress needs a response.in_progress event and a final usage"
        )
    progress[0]["response"]["usage"] = json.loads(dumps(usage))
    return items


def _done_appended(items: Events, _: Any) -> Events:
    if any(isinstance(it, Done) for it in items):
        raise FaultNotApplicable("fault done_appended: the stream already ends with [DONE]")
    return [*items, DONE]


def _truncate_after(items: Events, n: int) -> Events:
    pos = _positions(items)
    if not 1 <= n < len(pos):
        raise FaultNotApplicable(
            f"fault truncate_after={n}: the stream has {len(pos)} events, so truncate_after "
            f"must be between 1 and {len(pos) - 1}"
        )
    return items[: pos[n - 1] + 1]


def _chat_chunks(items: Events, _: Any) -> Events:
    """The same answer as chat.completion.chunk events, then ``[DONE]`` (a proxy that answers
    ``/responses`` with the chat wire format)."""
    created: dict[str, Any] = next(
        (it["response"] for it in items if isinstance(it, dict) and "response" in it), {}
    )
    head = {
        "id": "chatcmpl-" + str(created.get("id", "oapistream"))[-29:],
        "object": "chat.completion.chunk",
        "created": created.get("created_at", 0),
        "model": created.get("model", "gpt-4o-mini"),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**head, "choices": [choice]}

    out: Events = [chunk({"role": "assistant", "content": ""})]
    calls: dict[int, int] = {}
    for ev in items:
        if not isinstance(ev, dict):
            continue
        etype = ev.get("type")
        if etype == "response.output_text.delta":
            out.append(chunk({"content": ev.get("delta")}))
        elif (
            etype == "response.output_item.added"
            and (ev.get("item") or {}).get("type") == "function_call"
        ):
            item = ev["item"]
            calls[ev.get("output_index", 0)] = len(calls)
            tc = {
                "index": calls[ev.get("output_index", 0)],
                "id": item.get("call_id"),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": ""},
            }
            out.append(chunk({"tool_calls": [tc]}))
        elif etype == "response.function_call_arguments.delta":
            tc = {
                "index": calls.get(ev.get("output_index", 0), 0),
                "function": {"arguments": ev.get("delta")},
            }
            out.append(chunk({"tool_calls": [tc]}))
    out.append(chunk({}, "tool_calls" if calls else "stop"))
    out.append(DONE)
    return out


# --------------------------------------------------------------------------- the table


def _row(
    name: str, param: str, rule: str | None, doc: str, transform: Any, also: tuple[str, ...] = ()
) -> Fault:
    return Fault(name, "chunk", param, rule, doc, also, chunk_transform=transform)  # type: ignore[arg-type]


#: Chat's rows that apply unchanged to a Responses stream (SSE bytes, transport, HTTP).
SHARED = (
    "keepalive_comments",
    "crlf",
    "split_utf8",
    "delay_ms",
    "stall_after",
    "disconnect_after_bytes",
    "http_status",
    "retry_after",
    "http_status_count",
)

_OWN: tuple[Fault, ...] = (
    _row(
        "sequence_gap",
        "int",
        "OAS107",
        "From event N (0-based) on, sequence_number skips one: a gap (warn).",
        _sequence_gap,
    ),
    _row(
        "sequence_duplicate",
        "int",
        "OAS107",
        "Event N repeats the sequence_number of event N-1 (later ones follow it): not increasing.",
        _sequence_duplicate,
    ),
    _row(
        "sequence_reset",
        "int",
        "OAS107",
        "From event N on, sequence_number starts again at 0 (two counters, llama.cpp#24957).",
        _sequence_reset,
    ),
    _row(
        "output_index_skip",
        "flag",
        "OAS122",
        "Every output_index is one too high: the first item opens index 1, not 0.",
        _output_index_skip,
    ),
    _row(
        "output_index_out_of_range",
        "flag",
        "OAS123",
        "The first event that names an item points at an output_index no item was added at.",
        _output_index_out_of_range,
        also=("OAS131", "OAS134"),  # the orphaned event's part: content or summary
    ),
    _row(
        "drop_item_added",
        "flag",
        "OAS123",
        "Leave out the last response.output_item.added: its item's events come unannounced.",
        _drop_item_added,
        also=("OAS129",),
    ),
    _row(
        "item_null",
        "flag",
        "OAS109",
        "The first response.output_item.added carries item: null.",
        _item_null,
        also=("OAS125",),
    ),
    _row(
        "item_id_other",
        "flag",
        "OAS125",
        "The first event of the second item carries the first item's id as its item_id.",
        _item_id_other,
    ),
    _row(
        "delta_mismatch",
        "flag",
        "OAS132",
        "The first done text event (output_text.done, ...) differs from its joined deltas.",
        _delta_mismatch,
    ),
    _row(
        "drop_last_item_done",
        "flag",
        "OAS123",
        "Leave out the done events of the last item (vLLM harmony streams, vllm#37071).",
        _drop_last_item_done,
    ),
    _row(
        "error_event_at",
        "int",
        "OAS120",
        "Replace event N and everything after it by an error event (nested, as api.openai.com "
        "sends it) and response.failed.",
        _error_event_at,
        also=("OAS121",),
    ),
    _row(
        "usage_in_progress",
        "flag",
        "OAS118",
        "Put the final usage on response.in_progress already.",
        _usage_in_progress,
    ),
    _row(
        "response_done",
        "flag",
        "OAS114",
        "End with response.done instead of response.completed (some gateways, cockpit#2328).",
        _response_done,
        also=("OAS108", "OAS110"),
    ),
    _row(
        "terminal_twice",
        "flag",
        "OAS114",
        "Send the terminal event twice.",
        _terminal_twice,
    ),
    _row(
        "drop_terminal",
        "flag",
        "OAS114",
        "Leave out the terminal event: the stream ends without response.completed.",
        _drop_terminal,
    ),
    _row(
        "truncate_after",
        "int",
        "OAS114",
        "Keep only the first N events: no terminal event, open items and parts.",
        _truncate_after,
        also=("OAS123", "OAS131"),
    ),
    _row(
        "done_appended",
        "flag",
        "OAS104",
        "Append data: [DONE] after the terminal event (Open Responses, OpenRouter).",
        _done_appended,
    ),
    _row(
        "chat_chunks",
        "flag",
        None,
        "Answer /responses with the same answer as chat.completion.chunk events and [DONE] "
        "(a proxy that speaks only chat); checkers refuse it as not a Responses stream.",
        _chat_chunks,
    ),
)

_SHARED_ROWS = tuple(
    replace(CHAT_FAULTS[name], also=("OAS114",))
    if name == "disconnect_after_bytes"
    else CHAT_FAULTS[name]
    for name in SHARED
)

#: Every Responses fault by name, in application order: event faults, then chat's shared rows.
RESPONSE_FAULTS: Mapping[str, Fault] = {f.name: f for f in (*_OWN, *_SHARED_ROWS)}

#: The fault table of each surface.
FAULT_TABLES: Mapping[Surface, Mapping[str, Fault]] = {
    "chat": CHAT_FAULTS,
    "responses": RESPONSE_FAULTS,
}
#: Every fault name of either surface (chat's rows first), to validate names and values once;
#: a name both tables hold (``error_event_at``, ``truncate_after``) takes the same parameter.
ALL_FAULTS: Mapping[str, Fault] = {**RESPONSE_FAULTS, **CHAT_FAULTS}


def surface_faults(surface: Surface, faults: Mapping[str, Any]) -> dict[str, Any] | None:
    """(Normalized) ``faults`` in ``surface``'s table order, or ``None`` when one of them is
    not a fault of that surface."""
    table = FAULT_TABLES[surface]
    if any(name not in table for name in faults):
        return None
    return {name: faults[name] for name in table if name in faults}
