"""Drives the flow: SSE events -> typed chunks -> rule checks -> report.

``check_chunk_stream`` returns a ``Report``; ``assert_valid_chunk_stream`` returns the
``ChunkStream`` or raises ``StreamContractError``; ``iter_checked_chunks`` checks chunks as they
arrive without keeping them (memory does not grow with the stream). Async twins read async sources.
A Responses API stream (by its request path, else its first payload: core/surface.py) is refused
with a ``SourceError`` pointing to ``check_response_stream``, never judged as a chat stream.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..core import defaults
from ..core.report import Report, StreamContractError
from ..core.sources import Source, SourceError, aiter_pieces, open_source
from ..core.sse import FramingFacts, SSEDecoder, SSEEvent
from ..core.surface import surface_of_path
from . import fastpath
from .assembly import AssembledMessage, Assembler
from .fastpath import PlainChunkGate
from .models import ChatCompletionChunk, Usage
from .parse import ParsedPayload, parse_chunk, parse_payload
from .profiles import Profile, detect_profile, get_profile, profile_from_chunk, profile_from_url
from .rules import RULES, HttpInfo, RuleContext, error_event, failed_request, stream_usage

__all__ = [
    "CheckedChunks",
    "ChunkStream",
    "aassert_valid_chunk_stream",
    "acheck_chunk_stream",
    "assert_valid_chunk_stream",
    "check_chunk_stream",
    "check_lean",
    "iter_checked_chunks",
]

#: Called with each chunk of a stream, in order (see :func:`check_lean`).
ChunkObserver = Callable[[ChatCompletionChunk], None]


@dataclass
class ChunkStream:
    """A parsed stream: its chunks and what a client would assemble from them."""

    chunks: list[ChatCompletionChunk]
    messages: list[AssembledMessage]
    usage: Usage | None
    comments: list[str]
    extensions: dict[str, int]
    profile: Profile
    errors: list[Any] = field(default_factory=list)
    done: bool = False
    events: int = 0

    @property
    def message(self) -> AssembledMessage | None:
        """The message of choice 0 (the usual case of ``n=1``)."""
        return self.messages[0] if self.messages else None

    @property
    def text(self) -> str:
        """The content of choice 0, or ``""``."""
        msg = self.message
        return (msg.content or "") if msg is not None else ""


def _is_filter_chunk(c: ChatCompletionChunk) -> bool:
    """Azure's prologue and asynchronous-filter annotation chunks (empty id, filter data only)."""
    if c.id:
        return False
    if c.prompt_filter_results is not None or c.prompt_annotations is not None:
        return True
    choices = c.choices
    if not choices:
        return c.object == "" or c.object is None
    return all(
        ch.delta is None
        and (ch.content_filter_results is not None or ch.content_filter_offsets is not None)
        for ch in choices
    )


_USE_RESPONSES = (
    "not a chat completions stream: check it with check_response_stream / "
    "assert_valid_response_stream (or their async twins)"
)


def _refuse_responses_url(src: Source, url: str | None) -> bool:
    """``SourceError`` when the request URL names the Responses API (core/surface.py).

    Returns whether the URL left the surface open, so that the first payload decides.
    """
    url = url or src.url
    surface = surface_of_path(url)
    if surface == "responses":
        path = urlsplit(url or "").path  # the path alone: a query may hold a key
        raise SourceError(
            f"{src.label}: this is a Responses API stream (its request path {path} is the "
            f"Responses API's), {_USE_RESPONSES}"
        )
    return surface is None


def _refuse_responses_item(item: Any, label: str) -> None:
    """``SourceError`` when a stream's first payload is a Responses event (``response.*``)."""
    kind = item.get("type") if isinstance(item, dict) else None
    if isinstance(kind, str) and kind.startswith("response."):
        raise SourceError(
            f"{label}: this is a Responses API stream (its first payload is a {kind} event), "
            + _USE_RESPONSES
        )


def _first_payload(events: list[SSEEvent], label: str) -> bool:
    """Look for the stream's first JSON payload in ``events``; ``False`` once it was seen.

    Refuses a Responses stream there (core/surface.py decides by the first payload when the
    URL does not say). Called per decoded piece until it returns ``False``, never per chunk.
    """
    for ev in events:
        if not ev.has_data or ev.data == "[DONE]":
            continue
        try:
            payload = json.loads(ev.data)
        except (ValueError, RecursionError):
            continue
        _refuse_responses_item(payload, label)
        return False
    return True


class _Run:
    """One pass of the rules over one stream (the profile is fixed before the first chunk)."""

    def __init__(
        self,
        profile: Profile,
        reason: str,
        *,
        request: dict[str, Any] | None,
        ignore: Iterable[str],
        strict: bool,
        framing: bool,
        http: HttpInfo | None,
        keep: bool,
        label: str | None,
        watch: bool = False,
        lean: bool = False,
        observe: ChunkObserver | None = None,
    ) -> None:
        ignored = frozenset(ignore)
        self.ctx = ctx = RuleContext(
            profile=profile,
            request=request,
            ignore=ignored,
            framing=framing,
            http=http,
            asm=Assembler(keep_text=not lean),
        )
        self.reason = reason
        self.strict = strict
        self.keep = keep
        self.lean = lean
        self.observe = observe
        self.label = label
        self.chunks: list[ChatCompletionChunk] = []
        self.errors: list[Any] = []
        self.events = 0
        active = [r for r in RULES if any(ctx.active(c) for c in (r.code, *r.serves))]
        if not framing:
            active = [r for r in active if not r.framing]
        self.event_checks = [r.on_event for r in active if r.on_event is not None]
        self.chunk_checks: list[Callable[[RuleContext, ChatCompletionChunk], None]] = [
            r.on_chunk for r in active if r.on_chunk is not None
        ]
        self.end_checks = [r.on_end for r in active if r.on_end is not None]
        self.json_on = ctx.active("OAS007")
        self.types_on = ctx.active("OAS013")
        self.filter_chunks = profile.filter_chunks
        # Fast path (fastpath.py): plain events and chunks skip checks that cannot find anything.
        self.plain_events = fastpath.covers_events(self.event_checks)
        # Under auto, every chunk checked the long way is looked at for a provider signal, which
        # raises _Restart; the gate takes only chunks that provably carry none.
        self.watch = watch
        self.gate = (
            PlainChunkGate(ctx, self.chunk_checks, watch=watch)
            if PlainChunkGate.usable(self.chunk_checks)
            else None
        )

    def event(
        self, ev: SSEEvent, parsed: ChatCompletionChunk | ParsedPayload | None = None
    ) -> ChatCompletionChunk | None:
        """Check one SSE event; returns its chunk when it carried one.

        ``parsed`` is what :func:`parse_chunk` made of the event's data, when already known.
        """
        ctx = self.ctx
        self.events += 1
        ctx.last_event = ev
        # One `data: ` line and nothing else (fastpath.plain_event, inlined: it is per event).
        if not (
            self.plain_events
            and ev.data_lines == 1
            and not ev.nospace
            and ev.event is None
            and ev.id is None
            and ev.retry is None
            and not ev.other_fields
        ):
            for check in self.event_checks:
                check(ctx, ev)
        if not ev.has_data:
            return None
        data = ev.data
        if data == "[DONE]":
            ctx.done += 1
            return None
        if ctx.done:
            ctx.data_after_done += 1
            if self.watch:
                self._watch_late(data)
            return None
        if data.startswith("[DONE]"):
            ctx.done += 1
            ctx.emit("OAS008", None, f"terminator {data[:20]!r} is not exactly `[DONE]`")
            return None
        if parsed is None:
            parsed = parse_chunk(data)
        if not isinstance(parsed, ParsedPayload):  # a valid chunk: the common case
            if ev.event == "error":
                error_event(ctx, ev, None)
            self.chunk(parsed, data)
            return parsed
        if parsed.kind == "invalid":
            if ev.event == "error":
                error_event(ctx, ev, None)
            ctx.emit("OAS007", None, f"event at line {ev.line}: {parsed.problem}", text=data)
            return None
        if parsed.kind == "error":
            self.errors.append(parsed.error)
            error_event(ctx, ev, parsed.error)
            return None
        chunk = parsed.chunk
        assert chunk is not None
        if ev.event == "error":
            error_event(ctx, ev, None)
        if parsed.schema_errors and self.types_on:
            for err in parsed.schema_errors:
                ctx.emit(
                    "OAS013",
                    ctx.chunks,
                    f"{err.path}: {err.message} (got {err.value})",
                    path=err.path,
                    text=data,
                )
        self.chunk(chunk, data)
        return chunk

    def chunk(self, chunk: ChatCompletionChunk, raw: str | None) -> None:
        """Check one typed chunk and take it into the assembled messages."""
        ctx = self.ctx
        pos = ctx.chunks
        gate = self.gate
        if gate is not None and gate.take(chunk, pos):
            # Every chunk check is a no-op here and the gate fed the assembler (fastpath.py):
            # one choice, nothing new, so no filter chunk and no usage.
            ctx.pos = pos
            ctx.raw = raw
            ctx.is_filter = False
            if ctx.error_events:
                ctx.error_after += 1
            ctx.chunks = pos + 1
            if self.keep:
                self.chunks.append(chunk)
            if self.observe is not None:
                self.observe(chunk)
            return
        self._check_chunk(chunk, raw)

    def _check_chunk(self, chunk: ChatCompletionChunk, raw: str | None) -> None:
        """Run every chunk check on ``chunk`` and feed the assembler (the long way)."""
        ctx = self.ctx
        pos = ctx.chunks
        ctx.pos = pos
        ctx.raw = raw
        is_filter = self.filter_chunks and _is_filter_chunk(chunk)
        ctx.is_filter = is_filter
        if ctx.error_events:
            ctx.error_after += 1
        if ctx.ref is None and not is_filter:
            ctx.ref = chunk
        for check in self.chunk_checks:
            check(ctx, chunk)
        usage = stream_usage(ctx.profile, chunk)
        if usage is not None:
            ctx.usages.append((pos, usage, bool(chunk.choices)))
        if not is_filter:
            ctx.asm.feed(chunk, pos)
        ctx.chunks = pos + 1
        if self.keep:
            self.chunks.append(chunk)
        if self.watch:
            _look_for_signal(chunk)
        if self.observe is not None:
            self.observe(chunk)
        if self.gate is not None:
            self.gate.refresh()

    def _watch_late(self, data: str) -> None:
        """A chunk after ``[DONE]`` still counts for ``auto`` (as in ``detect_profile``)."""
        parsed = parse_payload(data)
        if parsed.kind == "chunk" and parsed.chunk is not None:
            _look_for_signal(parsed.chunk)

    def finish(self, facts: FramingFacts | None) -> Report:
        """Run the stream-level checks and build the report."""
        ctx = self.ctx
        ctx.facts = facts
        ctx.pos = -1
        ctx.raw = None
        for check in self.end_checks:
            check(ctx)
        messages = ctx.asm.finish() if not self.lean else []
        usage = ctx.usages[-1][1] if ctx.usages else None
        comments = [c.text for c in facts.comments] if facts is not None else []
        stream = ChunkStream(
            chunks=self.chunks,
            messages=messages,
            usage=usage,
            comments=comments,
            extensions=dict(sorted(ctx.ext_seen.items())),
            profile=ctx.profile,
            errors=self.errors,
            done=ctx.done > 0,
            events=self.events,
        )
        order = {r.code: i for i, r in enumerate(RULES)}
        violations = sorted(
            ctx.findings,
            key=lambda v: (v.chunk if v.chunk is not None else 1 << 62, order[v.code]),
        )
        return Report(
            violations=violations,
            profile=ctx.profile,
            profile_reason=self.reason,
            strict=self.strict,
            stream=stream,
            source=self.label,
            ignored=tuple(sorted(ctx.ignore)),
        )


def _resolve(
    profile: str | Profile, url: str | None, chunks: list[ChatCompletionChunk]
) -> tuple[Profile, str]:
    if isinstance(profile, Profile):
        return profile.resolve(), "given as a Profile"
    if profile == "auto":
        return detect_profile(url, chunks)
    return get_profile(profile), "chosen explicitly"


_MAX_DEPTH = 200  # deeper than any chunk; far below where json and pydantic recurse too deep

_JSON_SCALARS = (str, int, float, bool, type(None))


def _json_problem(item: Any) -> tuple[type[Exception], str] | None:
    """What keeps ``item`` from being JSON data (a set, bytes, too deep...), with its path."""
    stack: list[tuple[Any, str, int]] = [(item, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > _MAX_DEPTH:
            return ValueError, f"is nested more than {_MAX_DEPTH} levels deep (at {path[:80]}...)"
        if isinstance(value, dict):
            for key, sub in value.items():
                if not isinstance(key, _JSON_SCALARS):
                    return TypeError, f"has a {type(key).__name__} key at {path or 'the top'}"
                stack.append((sub, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(value, (list, tuple)):
            stack.extend((sub, f"{path}[{i}]", depth + 1) for i, sub in enumerate(value))
        elif not isinstance(value, _JSON_SCALARS):
            where = f"at {path}" if path else "itself"
            return TypeError, f"holds a {type(value).__name__} {where} (chunks are JSON data)"
    return None


def _to_chunk(item: ChatCompletionChunk | dict[str, Any], index: int = 0) -> ParsedPayload:
    """A chunk of a chunk list, parsed as if it came as JSON; ``TypeError``/``ValueError``
    naming the item and the place when it is no JSON data."""
    if isinstance(item, ChatCompletionChunk):
        return ParsedPayload("chunk", chunk=item)
    import json

    try:
        text = json.dumps(item)
    except (TypeError, ValueError, RecursionError):
        problem = _json_problem(item) or (ValueError, "is no JSON data")
        raise problem[0](f"source: item {index} of the chunk list {problem[1]}") from None
    return parse_payload(text)


def _check_call(request: Any, url: Any) -> None:
    """``TypeError`` naming ``request`` or ``url`` when it is not what a check can use."""
    if request is not None and not isinstance(request, Mapping):
        raise TypeError(
            "request: expected the JSON request body as a dict (e.g. json.loads(body)), "
            f"not {type(request).__name__}"
        )
    if url is not None and not isinstance(url, str):
        raise TypeError(f"url: expected the request URL as a str, not {type(url).__name__}")


def _check_chunks(
    src: Source,
    profile: str | Profile,
    request: dict[str, Any] | None,
    ignore: Iterable[str],
    strict: bool,
    url: str | None,
) -> Report:
    """Keep mode for an already-parsed chunk list (no framing to check)."""
    assert src.chunks is not None
    if src.chunks and surface_of_path(url or src.url) is None:
        _refuse_responses_item(src.chunks[0], src.label)
    parsed = [_to_chunk(c, i) for i, c in enumerate(src.chunks)]
    chunks = [p.chunk for p in parsed if p.kind == "chunk" and p.chunk is not None]
    prof, reason = _resolve(profile, url or src.url, chunks)
    run = _Run(
        prof,
        reason,
        request=request,
        ignore=ignore,
        strict=strict,
        framing=False,
        http=src.http,
        keep=True,
        label=src.label,
    )
    for p in parsed:
        if p.kind == "chunk" and p.chunk is not None:
            for err in p.schema_errors:
                run.ctx.emit(
                    "OAS013",
                    run.ctx.chunks,
                    f"{err.path}: {err.message} (got {err.value})",
                    path=err.path,
                )
            run.chunk(p.chunk, None)
        elif p.kind == "error":
            run.errors.append(p.error)
            run.ctx.error_events += 1
            run.ctx.emit("OAS038", None, f"in-stream error: {p.error!r}")
    run.ctx.done = 1  # a chunk list has no terminator to check
    return run.finish(None)


class _Restart(Exception):
    """A chunk's provider signal chose the profile: check the stream again from its start."""

    def __init__(self, found: tuple[Profile, str]) -> None:
        super().__init__(found[1])
        self.found = found


def _look_for_signal(chunk: ChatCompletionChunk) -> None:
    """Raise :class:`_Restart` when ``chunk`` selects a profile under ``auto``."""
    found = profile_from_chunk(chunk)
    if found is not None:
        raise _Restart(found)


class _KeepPass:
    """Keep mode over SSE pieces in one pass: each event is parsed and checked as it is decoded.

    The result is the one of decoding the whole stream, parsing every payload, resolving the
    profile, then checking; but each chunk is checked right after it is parsed, while it is
    still in the CPU cache (1-2 µs a chunk, a fifth of the work, on the benchmark's streams).

    ``profile="auto"`` without a request host that decides looks at every chunk for a
    provider signal (:func:`detect_profile`: the first chunk that signals decides). The checks
    start under the profile that applies when no chunk signals, in a run that *watches*: it
    looks at each chunk it checks the long way and raises :class:`_Restart` at a signal, and
    its fast-path gate takes only chunks that cannot signal. Then the run restarts under the
    signalled profile (usually at the first chunk, so little is redone). A source that can be
    read again (``replayable``: bytes, text, a read response) is decoded again from its start;
    for any other source the events are kept meanwhile and replayed, parsing them again.
    Keeping them costs memory and time for the whole of a stream that never signals, which is
    why sources that can be read twice are not kept.
    """

    def __init__(
        self,
        src: Source,
        profile: str | Profile,
        request: dict[str, Any] | None,
        ignore: Iterable[str],
        strict: bool,
        url: str | None,
        *,
        replayable: bool = False,
        found: tuple[Profile, str] | None = None,
        lean: bool = False,
        observe: Callable[[], ChunkObserver] | None = None,
    ) -> None:
        _check_call(request, url)
        self._src = src
        self._lean = lean
        self._observe = observe
        self._request = request
        self._ignore = ignore
        self._strict = strict
        url = url or src.url
        fixed = found
        if fixed is None:
            fixed = profile_from_url(url) if profile == "auto" else _resolve(profile, url, [])
        # Chunks may still change the profile (auto, no host signal): the run watches, and
        # a source that cannot be read again keeps its events meanwhile.
        watch = fixed is None
        self._history: list[SSEEvent] | None = [] if watch and not replayable else None
        if fixed is None:
            fixed = detect_profile(url, ())  # what applies if no chunk signals
        self.run = self._new_run(*fixed, watch=watch)

    def _new_run(self, profile: Profile, reason: str, *, watch: bool = False) -> _Run:
        return _Run(
            profile,
            reason,
            request=self._request,
            ignore=self._ignore,
            strict=self._strict,
            framing=True,
            http=self._src.http,
            keep=not self._lean,
            label=self._src.label,
            watch=watch,
            lean=self._lean,
            observe=self._observe() if self._observe is not None else None,
        )

    def events(self, events: list[SSEEvent]) -> None:
        """Parse and check these events, in order (raises :class:`_Restart`, see the class)."""
        history = self._history
        if history is None:  # settled, or watching a source that can be read again
            event = self.run.event
            for ev in events:
                event(ev)
            return
        run = self.run
        for i, ev in enumerate(events):
            history.append(ev)
            try:
                run.event(ev)
            except _Restart as restart:
                self._history = None
                run = self.run = self._new_run(*restart.found)
                for old in history:
                    run.event(old)
                self.events(events[i + 1 :])
                return

    def finish(self, facts: FramingFacts) -> Report:
        """The stream-level checks and the report."""
        self._history = None
        return self.run.finish(facts)


def _failed_request(
    src: Source,
    body: bytes,
    profile: str | Profile,
    request: dict[str, Any] | None,
    ignore: tuple[str, ...],
    strict: bool,
    url: str | None,
) -> Report:
    """A non-2xx answer that is no event stream: report the failure (OAS002) and nothing else."""
    prof, reason = _resolve(profile, url or src.url, [])
    run = _Run(
        prof,
        reason,
        request=request,
        ignore=ignore,
        strict=strict,
        framing=True,
        http=src.http,
        keep=False,
        label=src.label,
    )
    run.ctx.http_body = body
    run.end_checks = [r.on_end for r in RULES if r.code == "OAS002" and r.on_end is not None]
    return run.finish(None)


def _as_bytes(piece: bytes | str) -> bytes:
    return piece.encode("utf-8") if isinstance(piece, str) else piece


def _check_sync(
    src: Source,
    profile: str | Profile,
    request: dict[str, Any] | None,
    ignore: tuple[str, ...],
    strict: bool,
    url: str | None,
    *,
    reopen: Callable[[], Source] | None = None,
    observe: Callable[[], ChunkObserver] | None = None,
) -> Report:
    """Check a sync source; ``reopen`` (lean mode) opens it again for a restart under auto."""
    _check_call(request, url)
    by_payload = _refuse_responses_url(src, url)
    was_enabled = gc.isenabled()
    gc.disable()  # tens of thousands of kept objects make the collector dominate otherwise
    try:
        if src.kind == "chunks":
            return _check_chunks(src, profile, request, ignore, strict, url)
        assert src.pieces is not None
        if failed_request(src.http):
            body = b"".join(_as_bytes(p) for p in src.pieces)
            return _failed_request(src, body, profile, request, ignore, strict, url)
        # A list of pieces (bytes, text, a read response) can be decoded a second time.
        replayable = type(src.pieces) is list or reopen is not None
        found = None
        first = True
        while True:
            if not first and reopen is not None:
                src = reopen()
            first = False
            keep = _KeepPass(
                src,
                profile,
                request,
                ignore,
                strict,
                url,
                replayable=replayable,
                found=found,
                lean=reopen is not None,
                observe=observe,
            )
            decoder = SSEDecoder()
            pieces = src.pieces
            assert pieces is not None
            sniff = by_payload
            try:
                for whole in pieces:
                    for piece in _windows(whole):
                        events = decoder.feed(piece)
                        if sniff:
                            sniff = _first_payload(events, src.label)
                        keep.events(events)
                events = decoder.close()
                if sniff:
                    _first_payload(events, src.label)
                keep.events(events)
            except _Restart as restart:
                found = restart.found
                continue
            return keep.finish(decoder.facts)
    finally:
        if was_enabled:
            gc.enable()


def check_lean(
    source: str | bytes | os.PathLike[str],
    *,
    profile: str | Profile = "auto",
    ignore: Iterable[str] = (),
    strict: bool = False,
    request: dict[str, Any] | None = None,
    url: str | None = None,
    observe: Callable[[], ChunkObserver] | None = None,
) -> Report:
    """``check_chunk_stream`` for a file or a body, keeping nothing per chunk.

    For the CLI's ``check``, ``shape`` and ``diff`` on files of any size: the report has every
    violation, but its ``stream`` holds no chunks and no messages, and a path is read in
    blocks (read again from its start when ``auto`` meets a provider signal), so memory does
    not grow with the file. ``observe`` makes a fresh callback per pass over the stream, which
    sees every chunk in order (the last pass's callback saw the whole stream).
    """
    codes = _check_ignore(ignore)
    if isinstance(source, os.PathLike):
        source = Path(source)
    elif not isinstance(source, (str, bytes)):
        raise TypeError(f"check_lean reads a path, bytes or str, not {type(source).__name__}")
    src = open_source(source)
    return _check_sync(
        src,
        profile,
        request,
        codes,
        strict,
        url,
        reopen=lambda: open_source(source),
        observe=observe,
    )


def check_chunk_stream(
    source: Any,
    *,
    profile: str | Profile | None = None,
    ignore: Iterable[str] | None = None,
    strict: bool | None = None,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> Report:
    """Parse ``source`` and check every rule; never raises for a broken stream (see ``.ok``).

    Omitted arguments default to ``auto``, no ignored rule, not strict; inside a marked pytest
    test, to the marker's settings and the stream's recorded request (``core.defaults``)."""
    profile, ignore, strict, request, url = defaults.resolve(
        source, profile, ignore, strict, request, url
    )
    codes = _check_ignore(ignore)
    src = open_source(source, prefer_sync=True)
    if src.kind == "async":
        raise TypeError("this source is async: use `await acheck_chunk_stream(...)`")
    return _check_sync(src, profile, request, codes, strict, url)


async def acheck_chunk_stream(
    source: Any,
    *,
    profile: str | Profile | None = None,
    ignore: Iterable[str] | None = None,
    strict: bool | None = None,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> Report:
    """``check_chunk_stream`` for async sources (httpx async responses, openai ``AsyncStream``)."""
    profile, ignore, strict, request, url = defaults.resolve(
        source, profile, ignore, strict, request, url
    )
    codes = _check_ignore(ignore)
    src = open_source(source)
    if src.kind != "async":
        return _check_sync(src, profile, request, codes, strict, url)
    _check_call(request, url)
    by_payload = _refuse_responses_url(src, url)
    if failed_request(src.http):
        body = b"".join([_as_bytes(p) async for p in aiter_pieces(src)])
        return _failed_request(src, body, profile, request, codes, strict, url)
    keep = _KeepPass(src, profile, request, codes, strict, url)
    decoder = SSEDecoder()
    sniff = by_payload
    async for whole in aiter_pieces(src):
        for piece in _windows(whole):
            events = decoder.feed(piece)
            if sniff:
                sniff = _first_payload(events, src.label)
            keep.events(events)
    events = decoder.close()
    if sniff:
        _first_payload(events, src.label)
    keep.events(events)
    return keep.finish(decoder.facts)


def _check_ignore(ignore: Iterable[str] | None) -> tuple[str, ...]:
    from .rules import RULES_BY_CODE

    if ignore is None:
        return ()
    if isinstance(ignore, str):
        ignore = [c.strip() for c in ignore.split(",") if c.strip()]
    if not isinstance(ignore, Iterable):
        raise TypeError(
            f"ignore: expected rule codes or names (a list of str), not {type(ignore).__name__}"
        )
    codes = tuple(ignore)
    by_name = {r.name: r.code for r in RULES}
    out = []
    for code in codes:
        if not isinstance(code, str):
            raise TypeError(
                f"ignore: expected rule codes or names (str), got {type(code).__name__} {code!r}"
            )
        code = by_name.get(code, code).upper()
        if code not in RULES_BY_CODE:
            raise ValueError(
                f"ignore: unknown rule {code!r}; codes are OAS001-{RULES[-1].code} "
                "or their names (e.g. 'id-constant')"
            )
        out.append(code)
    return tuple(out)


def assert_valid_chunk_stream(
    source: Any,
    *,
    profile: str | Profile | None = None,
    ignore: Iterable[str] | None = None,
    strict: bool | None = None,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> ChunkStream:
    """Check ``source``; return its ``ChunkStream``, or raise ``StreamContractError`` naming
    every failing rule (errors; warnings too when ``strict``)."""
    __tracebackhide__ = True
    report = check_chunk_stream(
        source, profile=profile, ignore=ignore, strict=strict, request=request, url=url
    )
    if not report.ok:
        raise StreamContractError(report)
    assert report.stream is not None
    return report.stream


async def aassert_valid_chunk_stream(
    source: Any,
    *,
    profile: str | Profile | None = None,
    ignore: Iterable[str] | None = None,
    strict: bool | None = None,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> ChunkStream:
    """``assert_valid_chunk_stream`` for async sources."""
    __tracebackhide__ = True
    report = await acheck_chunk_stream(
        source, profile=profile, ignore=ignore, strict=strict, request=request, url=url
    )
    if not report.ok:
        raise StreamContractError(report)
    assert report.stream is not None
    return report.stream


_WINDOW = 1 << 16


def _windows(piece: bytes | str) -> Iterator[bytes | str]:
    """``piece`` in slices of at most 64 KiB (or 64 Ki characters).

    A whole recorded body arrives as one piece; decoded at once it would turn into one list
    holding every event of the stream. Fed in windows, the decoder holds one window's events
    at a time: the iterating mode's memory does not grow with the stream, and keep mode
    checks each event while its bytes are still in the CPU cache. The decoder's output does
    not depend on how its input is split.
    """
    n = len(piece)
    if n <= 2 * _WINDOW:
        yield piece
        return
    for start in range(0, n, _WINDOW):
        yield piece[start : start + _WINDOW]


class CheckedChunks:
    """Iterate typed chunks as they arrive, checked on the way, without keeping them.

    The profile is fixed from ``url`` and the first chunk (``auto`` cannot look ahead here).
    After the last chunk, ``.report`` holds the verdict; with ``raise_on_error`` a failing
    stream raises ``StreamContractError`` at the end of the iteration.
    """

    def __init__(
        self,
        source: Any,
        *,
        profile: str | Profile | None = None,
        ignore: Iterable[str] | None = None,
        strict: bool | None = None,
        request: dict[str, Any] | None = None,
        url: str | None = None,
        raise_on_error: bool = True,
    ) -> None:
        profile, ignore, strict, request, url = defaults.resolve(
            source, profile, ignore, strict, request, url
        )
        _check_call(request, url)
        self._raw = source
        self._src = open_source(source)
        self._profile = profile
        self._ignore = _check_ignore(ignore)
        self._strict = strict
        self._request = request
        self._url = url or self._src.url
        self._by_payload = _refuse_responses_url(self._src, self._url)
        self._raise = raise_on_error
        self.report: Report | None = None

    def _start(self, first: ChatCompletionChunk | None) -> _Run:
        prof, reason = _resolve(self._profile, self._url, [first] if first is not None else [])
        return _Run(
            prof,
            reason,
            request=self._request,
            ignore=self._ignore,
            strict=self._strict,
            framing=self._src.kind != "chunks",
            http=self._src.http,
            keep=False,
            label=self._src.label,
        )

    def _end(self, run: _Run | None, facts: FramingFacts | None) -> None:
        __tracebackhide__ = True
        if run is None:
            run = self._start(None)
        self.report = run.finish(facts)
        if self._raise and not self.report.ok:
            raise StreamContractError(self.report)

    def __iter__(self) -> Iterator[ChatCompletionChunk]:
        __tracebackhide__ = True
        src = self._src
        if src.kind == "async" and src.also_sync:  # iterates both ways: this is the sync way
            src = self._src = open_source(self._raw, prefer_sync=True)
        if src.kind == "async":
            raise TypeError("this source is async: iterate with `async for`")
        run: _Run | None = None
        if src.kind == "chunks":
            assert src.chunks is not None
            if src.chunks and self._by_payload:
                _refuse_responses_item(src.chunks[0], src.label)
            for i, item in enumerate(src.chunks):
                p = _to_chunk(item, i)
                if p.chunk is None or p.kind != "chunk":
                    continue
                if run is None:
                    run = self._start(p.chunk)
                run.chunk(p.chunk, None)
                yield p.chunk
            if run is not None:
                run.ctx.done = 1
            self._end(run, None)
            return
        assert src.pieces is not None
        if failed_request(src.http):
            self._failed(b"".join(_as_bytes(p) for p in src.pieces))
            return
        feed = _Feed(self)
        for whole in src.pieces:
            yield from feed.feed(whole)
        yield from feed.close()
        feed.finish()

    async def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]:
        __tracebackhide__ = True
        src = self._src
        if src.kind == "chunks":
            for parsed_chunk in self:
                yield parsed_chunk
            return
        if failed_request(src.http):
            self._failed(b"".join([_as_bytes(p) async for p in aiter_pieces(src)]))
            return
        feed = _Feed(self)
        async for whole in aiter_pieces(src):
            for chunk in feed.feed(whole):
                yield chunk
        for chunk in feed.close():
            yield chunk
        feed.finish()

    def _failed(self, body: bytes) -> None:
        """A failed request yields no chunk; its report has OAS002 alone (see _failed_request)."""
        __tracebackhide__ = True
        args = (self._profile, self._request, self._ignore, self._strict, self._url)
        self.report = _failed_request(self._src, body, *args)
        if self._raise and not self.report.ok:
            raise StreamContractError(self.report)

    def _one(
        self, run: _Run | None, ev: SSEEvent, pending: list[SSEEvent]
    ) -> tuple[ChatCompletionChunk | None, _Run | None]:
        if run is not None:
            return run.event(ev), run
        # Hold events until the first chunk fixes the profile.
        parsed = None
        if ev.has_data and not ev.data.startswith("[DONE]"):
            parsed = parse_payload(ev.data)
        if parsed is None or parsed.kind != "chunk":
            pending.append(ev)
            return None, None
        run = self._start(parsed.chunk)
        for old in pending:
            run.event(old)
        pending.clear()
        return run.event(ev, parsed), run


class _Feed:
    """The iterating mode's state, shared by sync and async iteration: pieces -> checked chunks.

    Chunks come back per piece (as they arrive); ``finish`` runs the stream-level checks and
    raises for a failing stream, after the last chunk was handed out.
    """

    def __init__(self, owner: CheckedChunks) -> None:
        self.owner = owner
        self.run: _Run | None = None
        self.pending: list[SSEEvent] = []
        self.decoder = SSEDecoder()
        self.sniff = owner._by_payload  # until the first payload was seen (_first_payload)

    def _take(self, ev: SSEEvent) -> ChatCompletionChunk | None:
        if self.run is None:
            chunk, self.run = self.owner._one(None, ev, self.pending)
            return chunk
        return self.run.event(ev)

    def feed(self, whole: bytes | str) -> Iterator[ChatCompletionChunk]:
        """The chunks completed by one piece of the stream, one at a time (nothing kept)."""
        for piece in _windows(whole):
            events = self.decoder.feed(piece)
            if self.sniff:
                self.sniff = _first_payload(events, self.owner._src.label)
            for ev in events:
                chunk = self._take(ev)
                if chunk is not None:
                    yield chunk

    def close(self) -> Iterator[ChatCompletionChunk]:
        """The chunks of an unterminated last event, once the source is exhausted."""
        events = self.decoder.close()
        if self.sniff:
            self.sniff = _first_payload(events, self.owner._src.label)
        for ev in events:
            chunk = self._take(ev)
            if chunk is not None:
                yield chunk

    def finish(self) -> None:
        """Stream-level checks; raises ``StreamContractError`` when asked to and it fails."""
        __tracebackhide__ = True
        run = self.run
        if run is None and self.pending:
            run = self.owner._start(None)
            for ev in self.pending:
                run.event(ev)
        self.owner._end(run, self.decoder.facts)


def iter_checked_chunks(
    source: Any,
    *,
    profile: str | Profile | None = None,
    ignore: Iterable[str] | None = None,
    strict: bool | None = None,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> Iterator[ChatCompletionChunk]:
    """Yield each typed chunk as it arrives, checked on the way; raises at the end on failure."""
    __tracebackhide__ = True
    yield from CheckedChunks(
        source, profile=profile, ignore=ignore, strict=strict, request=request, url=url
    )
