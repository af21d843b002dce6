"""The Responses streams the fake provider sent, kept by response id for the resume ``GET``.

api.openai.com lets a client whose stream dropped fetch the rest with
``GET /v1/responses/{id}?stream=true&starting_after=N``: the same events, those whose
``sequence_number`` is above N (the resumed stream starts mid-way, without ``response.created``;
corpus ``openai__gpt-4.1-mini_background-resume-starting-after.sse``). ``StoredResponses``
remembers each streamed answer (as sent, faults included) under the id of its
``response.created`` snapshot. Memory is bounded: the last ``MAX_RESPONSES`` ids and at most
``MAX_BYTES`` of events (the latest answer is always kept), the oldest forgotten first.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..responses.builder import TERMINAL_TYPES, assemble_response, response_items_from_sse
from .answers import SSE_TYPE

__all__ = ["MAX_BYTES", "MAX_RESPONSES", "StoredResponses", "StoredStream"]

#: How many streamed answers are remembered (the oldest is forgotten first).
MAX_RESPONSES = 64
#: How many bytes of remembered events at most (the latest answer is kept whatever its size).
MAX_BYTES = 64 * 1024 * 1024


#: What ``_payload`` returns for an event of comment lines only.
COMMENT: Any = object()


def _payload(event: bytes) -> Any:
    """One SSE event's JSON object (a dict), ``COMMENT`` for comment lines only, else ``None``
    (``[DONE]``, a verbatim event). A light parse: the resume reads every stored event."""
    lines = [ln for ln in event.splitlines() if ln]
    if not lines:
        return None
    if all(ln.startswith(b":") for ln in lines):
        return COMMENT
    datas = [ln for ln in lines if ln.startswith(b"data:")]
    if len(datas) != 1:
        return None
    payload = datas[0][5:]
    try:
        obj = json.loads(payload[1:] if payload.startswith(b" ") else payload)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def response_id_of(events: list[bytes]) -> str | None:
    """The id of the stream's ``response.created`` snapshot (else of its first snapshot), or
    ``None`` when the events hold no Responses snapshot (a chat body, an error)."""
    first: str | None = None
    for ev in events:
        item = _payload(ev)
        if not isinstance(item, dict):
            continue
        resp = item.get("response")
        rid = resp.get("id") if isinstance(resp, dict) else None
        if not isinstance(rid, str) or not rid:
            continue
        if item.get("type") == "response.created":
            return rid
        first = first or rid
    return first


@dataclass(frozen=True)
class StoredStream:
    """One streamed Responses answer: its events as the server framed them, one write each."""

    response_id: str
    events: tuple[bytes, ...]
    content_type: str = SSE_TYPE

    @property
    def size(self) -> int:
        return sum(len(ev) for ev in self.events)

    def after(self, starting_after: int | None) -> list[bytes]:
        """The events a resume gets: those whose ``sequence_number`` is above ``starting_after``
        (all without it). A comment goes with the event after it; events without a sequence
        number (``[DONE]``, verbatim ones) are kept, so the framing is the original's."""
        if starting_after is None:
            return list(self.events)
        out: list[bytes] = []
        pending: list[bytes] = []
        for ev in self.events:
            item = _payload(ev)
            if item is COMMENT:
                pending.append(ev)
                continue
            seq = item.get("sequence_number") if isinstance(item, dict) else None
            if isinstance(seq, int) and not isinstance(seq, bool) and seq <= starting_after:
                pending.clear()
                continue
            out.extend(pending)
            pending.clear()
            out.append(ev)
        out.extend(pending)
        return out

    def final_response(self) -> dict[str, Any]:
        """The ``Response`` a retrieve without ``stream=true`` gets: the terminal event's
        ``response``, else the last snapshot with the finished items (still in progress)."""
        for ev in reversed(self.events):  # the terminal event is last, or near it
            item = _payload(ev)
            if isinstance(item, dict) and item.get("type") in TERMINAL_TYPES:
                resp = item.get("response")
                if isinstance(resp, dict):
                    return resp
        items, _ = response_items_from_sse(b"".join(self.events))
        return assemble_response(items)


class StoredResponses:
    """The last streamed Responses answers by response id, bounded in count and bytes."""

    def __init__(self, max_responses: int = MAX_RESPONSES, max_bytes: int = MAX_BYTES) -> None:
        self.max_responses = max_responses
        self.max_bytes = max_bytes
        self._streams: OrderedDict[str, StoredStream] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def remember(self, events: list[bytes], content_type: str = SSE_TYPE) -> str | None:
        """Keep a streamed answer under its response id (a later one with the same id replaces
        it); returns the id, or ``None`` when the events carry none (nothing kept)."""
        rid = response_id_of(events)
        if rid is None:
            return None
        stored = StoredStream(rid, tuple(events), content_type)
        with self._lock:
            old = self._streams.pop(rid, None)
            if old is not None:
                self._bytes -= old.size
            self._streams[rid] = stored
            self._bytes += stored.size
            while len(self._streams) > 1 and (
                len(self._streams) > self.max_responses or self._bytes > self.max_bytes
            ):
                _, dropped = self._streams.popitem(last=False)
                self._bytes -= dropped.size
        return rid

    def get(self, response_id: str) -> StoredStream | None:
        """The remembered answer with this id, or ``None``."""
        with self._lock:
            return self._streams.get(response_id)

    def ids(self) -> list[str]:
        """The remembered response ids, oldest first."""
        with self._lock:
            return list(self._streams)

    @property
    def nbytes(self) -> int:
        """The bytes of events held now."""
        with self._lock:
            return self._bytes

    def clear(self) -> None:
        """Forget every answer."""
        with self._lock:
            self._streams.clear()
            self._bytes = 0
