"""The chat completions surface's check: SSE events -> typed chunks -> rule checks -> report.

``check_chunk_stream`` returns a ``Report``; ``assert_valid_chunk_stream`` returns the
``ChunkStream`` or raises ``StreamContractError``; ``iter_checked_chunks`` checks chunks as they
arrive without keeping them (memory does not grow with the stream). Async twins read async sources.
The modes, the restart under ``auto`` and the refusal of a Responses API stream are the shared
driver's (``core/driver.py``); this module is what chat plugs into it: :class:`_Run` (one pass of
the chat rules) and :data:`CHAT` (profiles, payloads, signals).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..core import driver
from ..core.driver import Checked, Found, Options, Restart, Run, Surface
from ..core.report import Report
from ..core.sse import FramingFacts, SSEEvent
from . import fastpath
from .assembly import AssembledMessage, Assembler
from .fastpath import PlainChunkGate
from .models import ChatCompletionChunk, Usage
from .parse import ParsedPayload, parse_chunk, parse_payload
from .profiles import PROFILE_REGISTRY, Profile, profile_from_chunk
from .rules import RULES, HttpInfo, RuleContext, error_event, stream_usage

__all__ = [
    "CHAT",
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


def _look_for_signal(chunk: ChatCompletionChunk) -> None:
    """Raise :class:`Restart` when ``chunk`` selects a profile under ``auto``."""
    found = profile_from_chunk(chunk)
    if found is not None:
        raise Restart(found)


class _Run(Run[ChatCompletionChunk]):
    """One pass of the chat rules over one stream (the profile is fixed before the first chunk)."""

    rules = RULES

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
        self.framing = framing
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
        # raises Restart; the gate takes only chunks that provably carry none.
        self.watch = watch
        self.gate = (
            PlainChunkGate(ctx, self.chunk_checks, watch=watch)
            if PlainChunkGate.usable(self.chunk_checks)
            else None
        )

    def event(self, ev: SSEEvent) -> ChatCompletionChunk | None:
        """Check one SSE event; returns its chunk when it carried one."""
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

    def item(self, item: Any, index: int) -> ChatCompletionChunk | None:
        """Check entry ``index`` of a chunk list (a chunk, or its dict as it came as JSON)."""
        ctx = self.ctx
        p = _to_chunk(item, index)
        if p.kind == "error":
            self.errors.append(p.error)
            ctx.error_events += 1
            ctx.emit("OAS038", None, f"in-stream error: {p.error!r}")
            return None
        if p.chunk is None or p.kind != "chunk":
            ctx.emit("OAS007", None, f"item {index} of the chunk list: {p.problem}")
            return None
        for err in p.schema_errors:
            ctx.emit(
                "OAS013",
                ctx.chunks,
                f"{err.path}: {err.message} (got {err.value})",
                path=err.path,
            )
        self.chunk(p.chunk, None)
        return p.chunk

    def finish(self, facts: FramingFacts | None) -> Report:
        """Run the stream-level checks and build the report."""
        ctx = self.ctx
        ctx.facts = facts
        ctx.pos = -1
        ctx.raw = None
        if not self.framing:
            ctx.done = max(ctx.done, 1)  # a chunk list has no terminator to check
        for check in self.end_checks:
            check(ctx)
        messages = ctx.asm.finish() if not self.lean else []
        usage = ctx.usages[-1][1] if ctx.usages else None
        comments = [c.text for c in facts.comments] if facts is not None else []
        return self.report(
            ChunkStream(
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
        )


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
    try:
        text = json.dumps(item)
    except (TypeError, ValueError, RecursionError):
        problem = _json_problem(item) or (ValueError, "is no JSON data")
        raise problem[0](f"source: item {index} of the chunk list {problem[1]}") from None
    return parse_payload(text)


class _Chat(Surface[ChatCompletionChunk]):
    """What the chat surface plugs into the shared driver (``core/driver.py``)."""

    name = "chat"
    rules = RULES
    codes = f"codes are OAS001-{RULES[-1].code}"
    example = "id-constant"
    check_name = "check_chunk_stream"
    acheck_name = "acheck_chunk_stream"
    profiles = PROFILE_REGISTRY

    def signal(self, item: ChatCompletionChunk) -> Found | None:
        return profile_from_chunk(item)

    def first(self, data: str) -> ChatCompletionChunk | None:
        parsed = parse_payload(data)
        return parsed.chunk if parsed.kind == "chunk" else None

    def first_item(self, item: Any, index: int) -> ChatCompletionChunk | None:
        parsed = _to_chunk(item, index)
        return parsed.chunk if parsed.kind == "chunk" else None

    def run(
        self,
        found: Found,
        o: Options,
        *,
        keep: bool,
        framing: bool,
        watch: bool = False,
        lean: bool = False,
        observe: Callable[[Any], None] | None = None,
    ) -> _Run:
        return _Run(
            found[0],
            found[1],
            request=o.request,
            ignore=o.ignore,
            strict=o.strict,
            framing=framing,
            http=o.src.http,
            keep=keep,
            label=o.src.label,
            watch=watch,
            lean=lean,
            observe=observe,
        )


#: The chat surface, as the driver sees it.
CHAT = _Chat()


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
    return driver.check_lean(
        CHAT,
        source,
        profile=profile,
        ignore=ignore,
        strict=strict,
        request=request,
        url=url,
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
    o = driver.options(CHAT, source, profile, ignore, strict, request, url, prefer_sync=True)
    return driver.check(CHAT, o)


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
    o = driver.options(CHAT, source, profile, ignore, strict, request, url)
    return await driver.acheck(CHAT, o)


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
    stream: ChunkStream = driver.valid_stream(report)
    return stream


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
    stream: ChunkStream = driver.valid_stream(report)
    return stream


class CheckedChunks(Checked[ChatCompletionChunk]):
    """Iterate typed chunks as they arrive, checked on the way, without keeping them.

    The profile is fixed from ``url`` and the first chunk (``auto`` cannot look ahead here).
    After the last chunk, ``.report`` holds the verdict; with ``raise_on_error`` a failing
    stream raises ``StreamContractError`` at the end of the iteration.
    """

    surface = CHAT

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
        super().__init__(
            source,
            profile=profile,
            ignore=ignore,
            strict=strict,
            request=request,
            url=url,
            raise_on_error=raise_on_error,
        )


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
