"""Scripted Responses streams for the fake provider: the chat scripts, told as Responses events.

``build_response_items`` takes the keywords of ``chat.builder.build_items`` (text, reasoning,
tool calls, refusal, usage, model, ``as_provider``, ...) and builds the stream api.openai.com
sends for them on ``POST /v1/responses``: ``response.created``, ``response.in_progress``, one
item per part of the answer (reasoning, message, function calls), each opened, streamed and
closed, then ``response.completed`` with the output and usage (framing calibrated on
``tests/data/corpus-responses/openai__*.sse``: ``event:`` names, ``sequence_number`` from 0,
``obfuscation`` padding each delta to a multiple of 16 characters, no ``[DONE]``).
``as_provider`` reshapes it by the style data of ``responses.styles``.

Script items are the chat ones (``chat.script``): a dict is one event; ``encode_response_items``
writes it with its ``event:`` line unless the style drops them. Pure functions, no I/O.
"""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from ..chat.builder import (  # the script keywords mean what they mean for chat
    DEFAULT_CREATED,
    DEFAULT_TEXT,
    _pieces,
    _uuid,
    split_pieces,
)
from ..chat.script import DONE, Comment, Done, Item, RawEvent, dumps, encode_event, split_events
from .styles import ResponseStyle, get_response_style

__all__ = [
    "TERMINAL_TYPES",
    "assemble_response",
    "build_response_events",
    "build_response_items",
    "build_response_sse",
    "encode_response_items",
    "renumber",
    "response_items_from_sse",
]

TERMINAL_TYPES: Final = ("response.completed", "response.incomplete", "response.failed")

# --------------------------------------------------------------------------- ids


_HEX = "0123456789abcdef"
_ALNUM = string.ascii_letters + string.digits
_B36 = string.ascii_lowercase + string.digits


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(_HEX, k=n))


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(_ALNUM, k=n))


def _b36(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(_B36, k=n))


class _Ids:
    """Response and item ids in a server's format (``ResponseStyle.id_format``)."""

    def __init__(self, fmt: str, rng: random.Random, created: int) -> None:
        self.fmt = fmt
        self.rng = rng
        self.prefix = _hex(rng, 24)  # OpenAI's item ids share the response id's first 24 hex
        if fmt == "openai":
            self.response = "resp_" + self.prefix + _hex(rng, 26)
        elif fmt in ("uuid", "xai"):
            self.response = _uuid(rng)
        elif fmt == "openrouter":
            self.response = f"gen-{created}-{_alnum(rng, 20)}"
        else:
            self.response = "resp_" + _hex(rng, 48)

    def item(self, kind: str) -> str:
        prefix = {"message": "msg", "function_call": "fc", "reasoning": "rs"}[kind]
        if self.fmt == "openai":
            return f"{prefix}_{self.prefix}{_hex(self.rng, 26)}"
        if self.fmt == "uuid":
            return _uuid(self.rng)
        if self.fmt == "xai":
            return (
                f"{prefix}_{self.response}" if kind != "function_call" else f"fc_{_uuid(self.rng)}"
            )
        if self.fmt == "openrouter":
            return f"{prefix}_tmp_{_b36(self.rng, 11)}"
        return f"{prefix}_{_b36(self.rng, 23)}"

    def call(self) -> str:
        if self.fmt == "uuid":
            return "call_00_" + _alnum(self.rng, 24)
        return "call_" + _alnum(self.rng, 24)


# --------------------------------------------------------------------------- the script


def _calls(tool_calls: Sequence[Mapping[str, Any]] | None) -> list[tuple[str | None, str, str]]:
    out: list[tuple[str | None, str, str]] = []
    for i, call in enumerate(tool_calls or ()):
        if not isinstance(call, Mapping):
            raise TypeError(f"tool_calls[{i}] must be a mapping, got {type(call).__name__}")
        fn = call.get("function")
        spec: Mapping[str, Any] = fn if isinstance(fn, Mapping) else call
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"tool_calls[{i}] needs a non-empty 'name'")
        args = spec.get("arguments", {})
        call_id = call.get("call_id") or call.get("id")
        out.append(
            (
                str(call_id) if call_id else None,
                name,
                args if isinstance(args, str) else dumps(args),
            )
        )
    return out


def _snapshot(
    ids: _Ids, created: int, model: str, request: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The ``response`` of ``response.created``, echoing the request as api.openai.com does."""
    req = request or {}

    def echo(key: str, default: Any) -> Any:
        value = req.get(key)
        return default if value is None else value

    reasoning = req.get("reasoning") if isinstance(req.get("reasoning"), Mapping) else {}
    assert isinstance(reasoning, Mapping)
    text = req.get("text") if isinstance(req.get("text"), Mapping) else {}
    assert isinstance(text, Mapping)
    metadata = req.get("metadata")
    return {
        "id": ids.response,
        "object": "response",
        "created_at": created,
        "status": "in_progress",
        "background": bool(req.get("background") is True),
        "completed_at": None,
        "error": None,
        "frequency_penalty": 0.0,
        "incomplete_details": None,
        "instructions": echo("instructions", None),
        "max_output_tokens": echo("max_output_tokens", None),
        "max_tool_calls": echo("max_tool_calls", None),
        "model": model,
        "moderation": None,
        "output": [],
        "parallel_tool_calls": echo("parallel_tool_calls", True),
        "presence_penalty": 0.0,
        "previous_response_id": echo("previous_response_id", None),
        "prompt_cache_key": echo("prompt_cache_key", None),
        "prompt_cache_retention": "in_memory",
        "reasoning": {
            "context": None,
            "effort": reasoning.get("effort"),
            "summary": reasoning.get("summary"),
        },
        "safety_identifier": echo("safety_identifier", None),
        "service_tier": "auto",
        "store": echo("store", True),
        "temperature": echo("temperature", 1.0),
        "text": {"format": text.get("format") or {"type": "text"}, "verbosity": "medium"},
        "tool_choice": echo("tool_choice", "auto"),
        "tools": req.get("tools") if isinstance(req.get("tools"), list) else [],
        "top_logprobs": echo("top_logprobs", 0),
        "top_p": echo("top_p", 1.0),
        "truncation": echo("truncation", "disabled"),
        "usage": None,
        "user": echo("user", None),
        "metadata": metadata if isinstance(metadata, Mapping) else {},
    }


def _prompt_tokens(request: Mapping[str, Any] | None) -> int:
    """About one token per word of the request's input and instructions, plus 8."""
    if not request:
        return 12
    words = 0

    def count(value: Any) -> None:
        nonlocal words
        if isinstance(value, str):
            words += len(value.split())
        elif isinstance(value, list):
            for v in value:
                count(v)
        elif isinstance(value, Mapping):
            for key in ("content", "text"):
                count(value.get(key))

    count(request.get("input"))
    count(request.get("instructions"))
    return 8 + words


def build_response_events(
    *,
    text: str | Sequence[str] | None = None,
    reasoning: str | Sequence[str] | None = None,
    tool_calls: Sequence[Mapping[str, Any]] | None = None,
    refusal: str | Sequence[str] | None = None,
    usage: bool | None = None,
    n: int | None = None,
    model: str | None = None,
    finish_reason: str | None = None,
    as_provider: str | None = None,
    created: int | None = None,
    seed: int = 0,
    request: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The events of one streamed Response for the chat builder's script keywords.

    ``text``, ``reasoning``, ``refusal`` and ``tool_calls`` mean what they mean for chat; the
    reasoning streams first (a summary part, or ``reasoning_text`` for the styles that send raw
    reasoning), then a message (text or refusal), then one ``function_call`` item per call.
    Usage is always on the terminal response, as on api.openai.com (``usage`` is accepted for
    the chat signature). ``finish_reason="length"`` (or ``"content_filter"``) ends with
    ``response.incomplete``. ``n`` > 1 raises: a Response has one output.
    """
    style = get_response_style(as_provider)
    if n is not None and n != 1:
        raise ValueError(f"a Responses stream has one output, so n must be 1, not {n!r}")
    rng = random.Random(seed)
    created_at = DEFAULT_CREATED if created is None else created
    req_model = (request or {}).get("model")
    model_name = model or (req_model if isinstance(req_model, str) and req_model else style.model)
    if text is None and not tool_calls and refusal is None:
        text = DEFAULT_TEXT
    text_pieces = _pieces(text)
    reasoning_pieces = _pieces(reasoning)
    refusal_pieces = _pieces(refusal)
    calls = _calls(tool_calls)
    if refusal_pieces and text_pieces:
        raise ValueError("a message streams either text or refusal, not both")
    incomplete = {"length": "max_output_tokens", "content_filter": "content_filter"}.get(
        finish_reason or ""
    )
    ids = _Ids(style.id_format, rng, created_at)
    snapshot = _snapshot(ids, created_at, model_name, request)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": snapshot},
        {"type": "response.in_progress", "response": json.loads(dumps(snapshot))},
    ]
    output: list[dict[str, Any]] = []

    def delta_event(etype: str, fields: dict[str, Any], delta: str) -> dict[str, Any]:
        ev = {"type": etype, **fields, "delta": delta}
        if style.obfuscation:
            ev["obfuscation"] = _alnum(rng, 16 - len(delta) % 16)
        return ev

    def open_item(item: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        index = len(output)
        events.append({"type": "response.output_item.added", "item": item, "output_index": index})
        return index, {"item_id": item["id"], "output_index": index}

    def close_item(index: int, item: dict[str, Any]) -> None:
        events.append({"type": "response.output_item.done", "item": item, "output_index": index})
        output.append(item)

    if reasoning_pieces:
        rid = ids.item("reasoning")
        joined = "".join(reasoning_pieces)
        index, at = open_item({"id": rid, "type": "reasoning", "summary": []})
        if style.reasoning == "summary":
            part = {"type": "summary_text", "text": ""}
            at_s = {**at, "summary_index": 0}
            events.append({"type": "response.reasoning_summary_part.added", **at_s, "part": part})
            events += [
                delta_event("response.reasoning_summary_text.delta", at_s, p)
                for p in reasoning_pieces
            ]
            events.append({"type": "response.reasoning_summary_text.done", **at_s, "text": joined})
            summary = {"type": "summary_text", "text": joined}
            events.append({"type": "response.reasoning_summary_part.done", **at_s, "part": summary})
            close_item(index, {"id": rid, "type": "reasoning", "summary": [summary]})
        else:
            at_c = {**at, "content_index": 0}
            part = {"type": "reasoning_text", "text": ""}
            events.append({"type": "response.content_part.added", **at_c, "part": part})
            events += [
                delta_event("response.reasoning_text.delta", at_c, p) for p in reasoning_pieces
            ]
            events.append({"type": "response.reasoning_text.done", **at_c, "text": joined})
            raw_part = {"type": "reasoning_text", "text": joined}
            events.append({"type": "response.content_part.done", **at_c, "part": raw_part})
            close_item(
                index, {"id": rid, "type": "reasoning", "summary": [], "content": [raw_part]}
            )

    if text_pieces or refusal_pieces:
        mid = ids.item("message")
        msg = {
            "id": mid,
            "type": "message",
            "status": "in_progress",
            "content": [],
            "role": "assistant",
        }
        index, at = open_item(msg)
        at_c = {**at, "content_index": 0}
        if refusal_pieces:
            joined = "".join(refusal_pieces)
            events.append(
                {
                    "type": "response.content_part.added",
                    **at_c,
                    "part": {"type": "refusal", "refusal": ""},
                }
            )
            events += [delta_event("response.refusal.delta", at_c, p) for p in refusal_pieces]
            events.append({"type": "response.refusal.done", **at_c, "refusal": joined})
            done_part: dict[str, Any] = {"type": "refusal", "refusal": joined}
        else:
            joined = "".join(text_pieces)
            empty: dict[str, Any] = {
                "type": "output_text",
                "annotations": [],
                "logprobs": [],
                "text": "",
            }
            events.append({"type": "response.content_part.added", **at_c, "part": empty})
            events += [
                delta_event("response.output_text.delta", {**at_c, "logprobs": []}, p)
                for p in text_pieces
            ]
            events.append(
                {"type": "response.output_text.done", **at_c, "logprobs": [], "text": joined}
            )
            done_part = {"type": "output_text", "annotations": [], "logprobs": [], "text": joined}
        events.append({"type": "response.content_part.done", **at_c, "part": done_part})
        status = "incomplete" if incomplete and not calls else "completed"
        close_item(index, {**msg, "status": status, "content": [done_part]})

    for call_id, name, args in calls:
        fid = ids.item("function_call")
        item = {
            "id": fid,
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": call_id or ids.call(),
            "name": name,
        }
        index, at = open_item(item)
        events += [
            delta_event("response.function_call_arguments.delta", at, p)
            for p in split_pieces(args, json_like=True)
        ]
        events.append({"type": "response.function_call_arguments.done", **at, "arguments": args})
        close_item(index, {**item, "status": "completed", "arguments": args})

    out_tokens = (
        len(text_pieces)
        + len(reasoning_pieces)
        + len(refusal_pieces)
        + sum(len(split_pieces(a, json_like=True)) + 1 for _, _, a in calls)
    )
    prompt = _prompt_tokens(request)
    final = json.loads(dumps(snapshot))
    final.update(
        status="incomplete" if incomplete else "completed",
        completed_at=None if incomplete else created_at + 2,
        service_tier="default",
        output=output,
        usage={
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": out_tokens,
            "output_tokens_details": {"reasoning_tokens": len(reasoning_pieces)},
            "total_tokens": prompt + out_tokens,
        },
    )
    if incomplete:
        final["incomplete_details"] = {"reason": incomplete}
    terminal = "response.incomplete" if incomplete else "response.completed"
    events.append({"type": terminal, "response": final})
    for ev in events:  # after the payload, as api.openai.com orders its keys
        ev["sequence_number"] = 0
    renumber(events)
    _apply_style(events, style)
    copied: list[dict[str, Any]] = json.loads(dumps(events))  # no shared sub-objects
    return copied


def renumber(events: Iterable[Item], start: int = 0) -> None:
    """Number the events that carry ``sequence_number`` ``start``, ``start + 1``, ... in place."""
    i = start
    for ev in events:
        if isinstance(ev, dict) and "sequence_number" in ev:
            ev["sequence_number"] = i
            i += 1


# --------------------------------------------------------------------------- styles


def _objects(events: list[dict[str, Any]], key: str) -> Iterable[dict[str, Any]]:
    for ev in events:
        obj = ev.get(key)
        if isinstance(obj, dict):
            yield obj


def _apply_style(events: list[dict[str, Any]], style: ResponseStyle) -> None:
    for dev in style.deviations:
        p = dev.params
        if dev.op == "response_fields":
            for resp in _objects(events, "response"):
                resp.update(json.loads(dumps(p["fields"])))
        elif dev.op == "usage_fields":
            for resp in _objects(events, "response"):
                if isinstance(resp.get("usage"), dict):
                    resp["usage"].update(p["fields"])
        elif dev.op == "event_fields":
            for ev in events:
                if ev["type"] in p["types"]:
                    seq = ev.pop("sequence_number")
                    ev.update(json.loads(dumps(p["fields"])))
                    ev["sequence_number"] = seq
        elif dev.op == "item_status":
            for ev in events:
                item = ev.get("item")
                if isinstance(item, dict) and item.get("type") == p["item_type"]:
                    added = ev["type"] == "response.output_item.added"
                    item["status"] = "in_progress" if added else "completed"
            for resp in _objects(events, "response"):
                for item in resp.get("output") or ():
                    if item.get("type") == p["item_type"]:
                        item["status"] = "completed"
        elif dev.op == "item_fields":
            items = [ev.get("item") for ev in events]
            items += [it for r in _objects(events, "response") for it in r.get("output") or ()]
            for item in items:
                if isinstance(item, dict) and item.get("type") == p["item_type"]:
                    item.update(p["fields"])
        elif dev.op == "drop_events":
            events[:] = [ev for ev in events if ev["type"] not in p["types"]]
            renumber(events)
        elif dev.op == "sequence_first":
            for i, ev in enumerate(events):
                events[i] = {"sequence_number": ev.pop("sequence_number"), **ev}
        elif dev.op != "comments":  # comments are script items, added by build_response_items
            raise ValueError(f"unknown deviation op {dev.op!r} in style {style.name!r}")


def build_response_items(**kwargs: Any) -> list[Item]:
    """The script of ``build_response_events(**kwargs)``: events, the style's SSE comments
    first and its ``[DONE]`` last."""
    style = get_response_style(kwargs.get("as_provider"))
    items: list[Item] = []
    for dev in style.deviations:
        if dev.op == "comments":
            items += [Comment(dev.params["text"])] * dev.params["before_first"]
    items += build_response_events(**kwargs)
    if style.done:
        items.append(DONE)
    return items


def encode_response_items(items: Iterable[Item], *, names: bool = True) -> list[bytes]:
    """Every item as its own SSE event; an event dict gets its ``event: <type>`` line when
    ``names`` (api.openai.com's framing), else only ``data:`` (OpenRouter's)."""
    out = []
    for item in items:
        if names and isinstance(item, dict) and isinstance(item.get("type"), str):
            out.append(b"event: " + item["type"].encode() + b"\n" + encode_event(item))
        else:
            out.append(encode_event(item))
    return out


def build_response_sse(**kwargs: Any) -> bytes:
    """The SSE body ``oapi_server`` sends for a Responses request without faults."""
    style = get_response_style(kwargs.get("as_provider"))
    return b"".join(encode_response_items(build_response_items(**kwargs), names=style.event_names))


_LINES = re.compile(r"\r\n|\r|\n")


def response_items_from_sse(data: bytes | str) -> tuple[list[Item], bool]:
    """Parse a Responses SSE body into script items, and whether its events carry ``event:``.

    An event of one JSON ``data:`` line (with or without an ``event:`` line naming its type)
    becomes a dict; ``[DONE]`` becomes ``DONE``; comments become ``Comment``; anything else is
    kept verbatim (``RawEvent``).
    """
    raw = data if isinstance(data, bytes) else data.encode()
    items: list[Item] = []
    names = False
    for ev in split_events(raw):
        text = ev.decode("utf-8", errors="surrogateescape")
        lines = [ln for ln in _LINES.split(text) if ln != ""]
        if not lines:
            continue
        if all(ln.startswith(":") for ln in lines):
            items.append(
                Comment("\n".join(ln[2:] if ln.startswith(": ") else ln[1:] for ln in lines))
            )
            continue
        event = [ln[6:].strip() for ln in lines if ln.startswith("event:")]
        datas = [ln for ln in lines if ln.startswith("data:")]
        names = names or bool(event)
        if len(datas) == 1 and len(event) + 1 == len(lines) and len(event) <= 1:
            payload = datas[0][5:]
            payload = payload[1:] if payload.startswith(" ") else payload
            if payload == "[DONE]" and not event:
                items.append(DONE)
                continue
            try:
                obj = json.loads(payload)
            except ValueError:
                obj = None
            if isinstance(obj, dict) and (not event or event[0] == obj.get("type")):
                items.append(obj)
                continue
        if not text.endswith(("\n\n", "\r\r", "\r\n\r\n")):
            text += "\n\n"
        items.append(RawEvent(text))
    return items, names


# --------------------------------------------------------------------------- non-stream


def assemble_response(items: Iterable[Item]) -> dict[str, Any]:
    """The ``Response`` a non-stream request gets: the terminal event's response, else the last
    snapshot with the done items as its output."""
    last: dict[str, Any] | None = None
    done: list[dict[str, Any]] = []
    for it in items:
        if isinstance(it, (Done, Comment, RawEvent)) or not isinstance(it, dict):
            continue
        if it.get("type") == "response.output_item.done" and isinstance(it.get("item"), dict):
            done.append(it["item"])
        resp = it.get("response")
        if isinstance(resp, dict):
            last = resp
            if it.get("type") in TERMINAL_TYPES:
                return resp
    if last is None:
        raise ValueError("the stream holds no Response snapshot to answer a non-stream request")
    return {**last, "output": done}
