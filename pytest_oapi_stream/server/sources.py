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
from ..core.surface import SURFACES, Surface, surface_of, surface_of_path
from ..responses.builder import (
    assemble_response,
    build_response_items,
    encode_response_items,
    response_items_from_sse,
)
from ..responses.faults import ALL_FAULTS, FAULT_TABLES, surface_faults
from ..responses.styles import get_response_style
from .answers import JSON_TYPE, SSE_TYPE, Answer, Body, Events, error_body, json_body

__all__ = [
    "CassetteSource",
    "ChunksSource",
    "Recorded",
    "SSESource",
    "ScriptSource",
    "Source",
    "load_cassette",
]


_LABELS: Mapping[Surface, str] = {"chat": "chat completions", "responses": "Responses"}


class Source:
    """Where answers come from; ``faults`` are normalized and apply to every streamed answer.

    A source answers both surfaces (``chat``: ``.../chat/completions``, ``responses``:
    ``.../responses``) unless its faults or settings apply to one only: ``unavailable`` says
    why a surface cannot be answered (the request then gets a 400 naming the reason).
    """

    def __init__(self, faults: FaultSpec) -> None:
        self.faults = normalize_faults(faults, ALL_FAULTS)
        self.plan: TransportPlan = transport_plan(self.faults)
        self._lock = threading.Lock()
        self._failures_left = self.plan.http_status_count
        #: Per surface, its faults in its table's order (``None``: one does not apply there).
        self.surface_faults = {s: surface_faults(s, self.faults) for s in SURFACES}
        self.unavailable: dict[Surface, str] = {}
        for s, faults_here in self.surface_faults.items():
            if faults_here is None:
                other = [n for n in self.faults if n not in FAULT_TABLES[s]]
                self.unavailable[s] = f"fault {other[0]!r} does not apply to {_LABELS[s]} streams"
        if len(self.unavailable) == len(SURFACES):
            raise ValueError(
                "these faults apply to no single surface: " + "; ".join(self.unavailable.values())
            )

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

    def answer(
        self, request: Mapping[str, Any] | None, stream: bool, surface: Surface = "chat"
    ) -> Answer:
        """The answer to a request of ``surface`` (a 400 when this source cannot serve it)."""
        why = self.unavailable.get(surface)
        if why is not None:
            return Body(
                400,
                error_body(400, f"oapi_server cannot answer a {_LABELS[surface]} request: {why}"),
            )
        return self._answer(request, stream, surface)

    def _answer(self, request: Mapping[str, Any] | None, stream: bool, surface: Surface) -> Answer:
        raise NotImplementedError

    def _stream_items(
        self, items: list[Item], surface: Surface = "chat", names: bool = True
    ) -> Events:
        faults = self.surface_faults[surface] or {}
        table = FAULT_TABLES[surface]
        items = apply_chunk_faults(items, faults, table)
        encoded = (
            encode_items(items) if surface == "chat" else encode_response_items(items, names=names)
        )
        return Events(apply_byte_faults(encoded, faults, table))

    def surfaces(self) -> tuple[Surface, ...]:
        """The surfaces whose answers a dry run builds."""
        return SURFACES

    def dry_run(self) -> None:
        """Build one streamed answer per surface now, so a fault that cannot apply fails at the
        call site: it raises when no surface can take it; a surface that cannot is noted in
        ``unavailable`` (its requests get a 400 saying why)."""
        tried = [s for s in self.surfaces() if s not in self.unavailable]
        errors: dict[Surface, ValueError] = {}
        for s in tried:
            try:
                answer = self._answer(None, True, s)
                if isinstance(answer, Events):
                    check_transport(answer.events, self.surface_faults[s] or {})
            except ValueError as exc:
                errors[s] = exc
        if not tried:
            raise ValueError(
                "these faults apply to no surface this source serves: "
                + "; ".join(self.unavailable.values())
            )
        if len(errors) == len(tried):
            raise errors[tried[0]]
        for s, error in errors.items():
            self.unavailable[s] = str(error)


class ScriptSource(Source):
    """Answers built from the recipe and each request: ``chat.builder.build_items`` for chat,
    ``responses.builder.build_response_items`` for Responses requests."""

    def __init__(self, recipe: Mapping[str, Any], faults: FaultSpec) -> None:
        super().__init__(faults)
        self.recipe = dict(recipe)

    def _answer(self, request: Mapping[str, Any] | None, stream: bool, surface: Surface) -> Answer:
        if surface == "responses":
            items = build_response_items(**self.recipe, request=request)
            if not stream:
                return Body(200, json_body(assemble_response(items)))
            names = get_response_style(self.recipe.get("as_provider")).event_names
            return self._stream_items(items, surface, names)
        if stream:
            return self._stream_items(build_items(**self.recipe, request=request))
        recipe = {**self.recipe, "usage": True}
        return Body(200, json_body(assemble_completion(build_items(**recipe, request=request))))


def _replay(data: bytes, source: Source, stream: bool, content_type: str = SSE_TYPE) -> Answer:
    """An SSE body served as recorded: byte for byte unless an event fault edits it (with the
    fault table of the body's own surface), or assembled for a non-stream request."""
    surface = surface_of(None, data)
    if stream and source.surface_faults[surface] is None:  # a cassette mixing both surfaces
        why = source.unavailable[surface]
        message = f"oapi_server cannot replay this recorded {_LABELS[surface]} stream: {why}"
        return Body(400, error_body(400, message))
    if surface == "responses":
        items, names = response_items_from_sse(data)
        if not stream:
            return Body(200, json_body(assemble_response(items)))
        faults = source.surface_faults[surface] or {}
        if has_chunk_faults(faults, FAULT_TABLES[surface]):
            return source._stream_items(items, surface, names)
        return Events(
            apply_byte_faults(split_events(data), faults, FAULT_TABLES[surface]), content_type
        )
    if not stream:
        return Body(200, json_body(assemble_completion(items_from_sse(data))))
    faults = source.surface_faults["chat"] or {}
    if has_chunk_faults(faults):
        return source._stream_items(items_from_sse(data))
    return Events(apply_byte_faults(split_events(data), faults), content_type)


class SSESource(Source):
    """Answers that replay one SSE body (bytes kept exactly unless a chunk fault edits them),
    whatever the request's path: a chat body served on ``/responses`` stays a chat body."""

    def __init__(self, data: bytes, faults: FaultSpec) -> None:
        super().__init__(faults)
        self.data = data
        self.data_surface: Surface = surface_of(None, data)

    def surfaces(self) -> tuple[Surface, ...]:
        return (self.data_surface,)

    def answer(
        self, request: Mapping[str, Any] | None, stream: bool, surface: Surface = "chat"
    ) -> Answer:
        return self._answer(request, stream, self.data_surface)

    def _answer(self, request: Mapping[str, Any] | None, stream: bool, surface: Surface) -> Answer:
        return _replay(self.data, self, stream)


class ChunksSource(Source):
    """Answers that stream a given list of payload dicts, one event each: chat chunks (then
    ``[DONE]`` unless ``done=False``) or Responses events (``event:`` lines, ``[DONE]`` only
    with ``done=True``), told apart by the first payload's ``type``."""

    def __init__(
        self, chunks: Sequence[Mapping[str, Any]], done: bool | None, faults: FaultSpec
    ) -> None:
        self.items: list[Item] = [json.loads(json.dumps(c)) for c in chunks]
        kind = next((c.get("type") for c in self.items if isinstance(c, dict)), None)
        is_event = isinstance(kind, str) and (kind.startswith("response.") or kind == "error")
        self.data_surface: Surface = "responses" if is_event else "chat"
        super().__init__(faults)
        if done if done is not None else self.data_surface == "chat":
            self.items.append(DONE)

    def _answer(self, request: Mapping[str, Any] | None, stream: bool, surface: Surface) -> Answer:
        if self.data_surface == "responses":
            if not stream:
                return Body(200, json_body(assemble_response(self.items)))
            return self._stream_items(self.items, "responses")
        if not stream:
            return Body(200, json_body(assemble_completion(self.items)))
        return self._stream_items(self.items)

    def surfaces(self) -> tuple[Surface, ...]:
        return (self.data_surface,)

    def answer(
        self, request: Mapping[str, Any] | None, stream: bool, surface: Surface = "chat"
    ) -> Answer:
        return self._answer(request, stream, self.data_surface)


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
    """Answers that replay a vcrpy cassette's chat-completion and Responses answers in order.

    Once every recorded response was served, the last one repeats (like ``stream()``, whose
    last setting answers every later request).
    """

    def __init__(self, responses: list[Recorded], faults: FaultSpec) -> None:
        super().__init__(faults)
        if not responses:
            raise ValueError("the cassette holds no chat-completion or Responses answer to serve")
        self.responses = responses
        self._next = 0

    def _take(self, advance: bool = True) -> Recorded:
        with self._lock:
            rec = self.responses[min(self._next, len(self.responses) - 1)]
            if advance:
                self._next += 1
            return rec

    def surfaces(self) -> tuple[Surface, ...]:
        rec = self._take(advance=False)
        return (surface_of(None, rec.body),) if rec.is_sse else SURFACES

    def answer(
        self, request: Mapping[str, Any] | None, stream: bool, surface: Surface = "chat"
    ) -> Answer:
        return self._answer(request, stream, surface)

    def _answer(self, request: Mapping[str, Any] | None, stream: bool, surface: Surface) -> Answer:
        rec = self._take(advance=request is not None)
        if not rec.is_sse or rec.status != 200:
            return Body(rec.status, rec.body, rec.content_type or JSON_TYPE)
        return _replay(rec.body, self, stream, rec.content_type)


def load_cassette(path: str | os.PathLike[str]) -> list[Recorded]:
    """The chat-completion and Responses answers of a vcrpy cassette (YAML or JSON), in order."""
    from ..recording.files import RecordingError, cassette_interactions, looks_like_sse

    try:
        interactions = cassette_interactions(Path(path))
    except RecordingError as exc:
        raise ValueError(str(exc)) from None
    chat = [
        i for i in interactions if i.is_chat or surface_of_path(i.uri) == "responses"
    ] or interactions
    out: list[Recorded] = []
    for it in chat:
        ctype = it.content_type
        if not ctype and looks_like_sse(it.body):
            ctype = SSE_TYPE
        out.append(Recorded(it.status, ctype or JSON_TYPE, it.body))
    return out
