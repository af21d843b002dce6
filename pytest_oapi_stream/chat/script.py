"""Stream scripts as data: the items of an SSE stream, and their bytes.

A *script* is a list of items: a ``dict`` is one JSON chunk (``data: {...}``), ``Comment`` is an SSE
comment line, ``RawEvent`` is an already framed SSE event (e.g. ``event: error``), ``DONE`` is the
``data: [DONE]`` terminator. ``encode_items`` renders a script as SSE events (one ``bytes`` each,
the server writes each separately); ``items_from_sse`` parses an SSE body back into items so chunk
faults can edit recorded streams. Pure functions, no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

__all__ = [
    "DONE",
    "Comment",
    "Done",
    "Item",
    "RawEvent",
    "dumps",
    "encode_event",
    "encode_items",
    "error_payload",
    "items_from_sse",
    "split_events",
]


@dataclass(frozen=True)
class Comment:
    """An SSE comment event, encoded as ``: text`` + blank line (keep-alives, processing notes)."""

    text: str


@dataclass(frozen=True)
class RawEvent:
    """An SSE event written verbatim (it must end with its blank line), e.g. ``event: error``."""

    text: str


@dataclass(frozen=True)
class Done:
    """The ``data: [DONE]`` terminator (use the ``DONE`` singleton)."""


DONE: Final = Done()

Item: TypeAlias = dict[str, Any] | Comment | RawEvent | Done


def dumps(obj: Any) -> str:
    """Compact JSON (no spaces, non-ASCII kept), as providers send chunks."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def encode_event(item: Item) -> bytes:
    """One item as the bytes of one SSE event, LF line endings, blank line included."""
    if isinstance(item, dict):
        return b"data: " + dumps(item).encode() + b"\n\n"
    if isinstance(item, Done):
        return b"data: [DONE]\n\n"
    if isinstance(item, Comment):
        return b"".join(b": " + line.encode() + b"\n" for line in item.text.split("\n")) + b"\n"
    return item.text.encode()


def encode_items(items: Iterable[Item]) -> list[bytes]:
    """Every item as its own SSE event (the server writes each one separately)."""
    return [encode_event(item) for item in items]


_EVENT_END = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")


def split_events(data: bytes) -> list[bytes]:
    """Cut an SSE body into events, each keeping its own bytes up to and including its blank line.

    Joining the result gives ``data`` back exactly; a trailing piece without a blank line is kept.
    """
    out: list[bytes] = []
    start = 0
    for m in _EVENT_END.finditer(data):
        out.append(data[start : m.end()])
        start = m.end()
    if start < len(data):
        out.append(data[start:])
    return out


_LINE_SPLIT = re.compile(r"\r\n|\r|\n")


def items_from_sse(data: bytes | str) -> list[Item]:
    """Parse an SSE body into items so chunk-level faults can edit it.

    A lone ``data:`` line holding a JSON object becomes a dict (re-encoded compactly later),
    ``[DONE]`` becomes ``DONE``, comment-only events become ``Comment``; anything else
    (``event:`` lines, multi-line data, invalid JSON) is kept verbatim as ``RawEvent``.
    """
    raw = data if isinstance(data, bytes) else data.encode()
    items: list[Item] = []
    for ev in split_events(raw):
        text = ev.decode("utf-8", errors="surrogateescape")
        lines = [ln for ln in _LINE_SPLIT.split(text) if ln != ""]
        if not lines:
            continue
        if all(ln.startswith(":") for ln in lines):
            text_lines = (ln[2:] if ln.startswith(": ") else ln[1:] for ln in lines)
            items.append(Comment("\n".join(text_lines)))
            continue
        if len(lines) == 1 and lines[0].startswith("data:"):
            payload = lines[0][5:]
            payload = payload[1:] if payload.startswith(" ") else payload
            if payload == "[DONE]":
                items.append(DONE)
                continue
            try:
                obj = json.loads(payload)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                items.append(obj)
                continue
        if not text.endswith(("\n\n", "\r\r", "\r\n\r\n")):
            text += "\n\n"
        items.append(RawEvent(text))
    return items


def error_payload(
    message: str = "The server had an error while processing your request. Sorry about that!",
    type: str = "server_error",
    code: str | int | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    """An OpenAI-style ``{"error": {...}}`` payload, as OpenAI sends one mid-stream (OAS038)."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}
