"""Where the fake provider's answers come from: the script a test set, and its faults.

One ``Source`` is active at a time (the last one a test set): a built stream (``ScriptSource``,
from ``chat.builder``), an SSE body (``SSESource``), a list of chunks (``ChunksSource``) or a
vcrpy cassette's responses (``CassetteSource``). Each turns a request into an ``Answer`` with its
chunk and byte faults applied; the transport faults it carries (``plan``) are left to the
transport. No I/O but reading a cassette; no HTTP.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..chat.builder import (
    DONE,
    Item,
    assemble_completion,
    build_items,
    encode_items,
    items_from_sse,
    split_events,
)
from ..chat.faults import (
    FaultSpec,
    TransportPlan,
    apply_byte_faults,
    apply_chunk_faults,
    check_transport,
    has_chunk_faults,
    normalize_faults,
    transport_plan,
)
from .answers import JSON_TYPE, SSE_TYPE, Answer, Body, Events, json_body

__all__ = [
    "CassetteSource",
    "ChunksSource",
    "Recorded",
    "SSESource",
    "ScriptSource",
    "Source",
    "load_cassette",
]


class Source:
    """Where answers come from; ``faults`` are normalized and apply to every streamed answer."""

    def __init__(self, faults: FaultSpec) -> None:
        self.faults = normalize_faults(faults)
        self.plan: TransportPlan = transport_plan(self.faults)
        self._lock = threading.Lock()
        self._failures_left = self.plan.http_status_count

    def take_http_failure(self) -> bool:
        """Whether this request gets the ``http_status`` fault (counts ``http_status_count``)."""
        if self.plan.http_status is None:
            return False
        with self._lock:
            if self._failures_left is None:
                return True
            if self._failures_left <= 0:
                return False
            self._failures_left -= 1
            return True

    def answer(self, request: Mapping[str, Any] | None, stream: bool) -> Answer:
        raise NotImplementedError

    def _stream_items(self, items: list[Item]) -> Events:
        items = apply_chunk_faults(items, self.faults)
        events = apply_byte_faults(encode_items(items), self.faults)
        return Events(events)

    def dry_run(self) -> None:
        """Build one streamed answer now, so a fault that cannot apply fails at the call site."""
        answer = self.answer(None, True)
        if isinstance(answer, Events):
            check_transport(answer.events, self.faults)


class ScriptSource(Source):
    """Answers built by ``builder.build_items`` from the recipe and each request."""

    def __init__(self, recipe: Mapping[str, Any], faults: FaultSpec) -> None:
        super().__init__(faults)
        self.recipe = dict(recipe)

    def answer(self, request: Mapping[str, Any] | None, stream: bool) -> Answer:
        if stream:
            return self._stream_items(build_items(**self.recipe, request=request))
        recipe = {**self.recipe, "usage": True}
        return Body(200, json_body(assemble_completion(build_items(**recipe, request=request))))


class SSESource(Source):
    """Answers that replay one SSE body (bytes kept exactly unless a chunk fault edits them)."""

    def __init__(self, data: bytes, faults: FaultSpec) -> None:
        super().__init__(faults)
        self.data = data
        self._events = split_events(data)

    def answer(self, request: Mapping[str, Any] | None, stream: bool) -> Answer:
        if not stream:
            return Body(200, json_body(assemble_completion(items_from_sse(self.data))))
        if has_chunk_faults(self.faults):
            return self._stream_items(items_from_sse(self.data))
        return Events(apply_byte_faults(self._events, self.faults))


class ChunksSource(Source):
    """Answers that stream a given list of chunk dicts, then ``[DONE]`` unless ``done=False``."""

    def __init__(self, chunks: Sequence[Mapping[str, Any]], done: bool, faults: FaultSpec) -> None:
        super().__init__(faults)
        self.items: list[Item] = [json.loads(json.dumps(c)) for c in chunks]
        if done:
            self.items.append(DONE)

    def answer(self, request: Mapping[str, Any] | None, stream: bool) -> Answer:
        if not stream:
            return Body(200, json_body(assemble_completion(self.items)))
        return self._stream_items(self.items)


@dataclass(frozen=True)
class Recorded:
    """One recorded response of a cassette: status, content type and (decoded) body."""

    status: int
    content_type: str
    body: bytes

    @property
    def is_sse(self) -> bool:
        return "event-stream" in self.content_type.lower()


class CassetteSource(Source):
    """Answers that replay a vcrpy cassette's chat-completion responses in order.

    Once every recorded response was served, the last one repeats (like ``stream()``, whose
    last setting answers every later request).
    """

    def __init__(self, responses: list[Recorded], faults: FaultSpec) -> None:
        super().__init__(faults)
        if not responses:
            raise ValueError("the cassette holds no chat-completion response to serve")
        self.responses = responses
        self._next = 0

    def _take(self, advance: bool = True) -> Recorded:
        with self._lock:
            rec = self.responses[min(self._next, len(self.responses) - 1)]
            if advance:
                self._next += 1
            return rec

    def dry_run(self) -> None:
        rec = self._take(advance=False)
        if rec.is_sse:
            answer = self._replay(rec, True)
            if isinstance(answer, Events):
                check_transport(answer.events, self.faults)

    def answer(self, request: Mapping[str, Any] | None, stream: bool) -> Answer:
        return self._replay(self._take(), stream)

    def _replay(self, rec: Recorded, stream: bool) -> Answer:
        if not rec.is_sse or rec.status != 200:
            return Body(rec.status, rec.body, rec.content_type or JSON_TYPE)
        if not stream:
            return Body(200, json_body(assemble_completion(items_from_sse(rec.body))))
        if has_chunk_faults(self.faults):
            return self._stream_items(items_from_sse(rec.body))
        return Events(apply_byte_faults(split_events(rec.body), self.faults), rec.content_type)


def load_cassette(path: str | os.PathLike[str]) -> list[Recorded]:
    """The chat-completion responses of a vcrpy cassette (YAML or JSON), in order."""
    from ..recording.files import RecordingError, cassette_interactions, looks_like_sse

    try:
        interactions = cassette_interactions(Path(path))
    except RecordingError as exc:
        raise ValueError(str(exc)) from None
    chat = [i for i in interactions if i.is_chat] or interactions
    out: list[Recorded] = []
    for it in chat:
        ctype = it.content_type
        if not ctype and looks_like_sse(it.body):
            ctype = SSE_TYPE
        out.append(Recorded(it.status, ctype or JSON_TYPE, it.body))
    return out
