"""Drives the Responses flow: SSE events -> typed events -> rule checks -> report.

``check_response_stream`` returns a ``Report`` whose ``.stream`` is a :class:`ResponseStream`
(the events and the response a client would assemble); ``assert_valid_response_stream`` returns
the ``ResponseStream`` or raises ``StreamContractError``; ``iter_checked_response_events`` checks
events as they arrive without keeping them. Async twins read async sources. Sources are those of
the chat functions (``core/sources.py``) plus lists of event dicts or event models.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..core.driver import windows
from ..core.report import Report, StreamContractError
from ..core.rules import failed_request
from ..core.sources import HttpInfo, Source, SourceError, aiter_pieces, open_source
from ..core.sse import FramingFacts, SSEDecoder, SSEEvent
from . import fastpath
from .assembly import AssembledItem
from .models import EventBase, Response, ResponseError, ResponseUsage
from .parse import ParsedEvent, parse_event, parse_event_dict
from .profiles import (
    ResponseProfile,
    detect_response_profile,
    get_response_profile,
    response_profile_from_event,
    response_profile_from_url,
)
from .rules import RULES, RULES_BY_CODE, ResponseContext

__all__ = [
    "CheckedResponseEvents",
    "ResponseReport",
    "ResponseStream",
    "aassert_valid_response_stream",
    "acheck_response_stream",
    "assert_valid_response_stream",
    "check_response_stream",
    "iter_checked_response_events",
]


@dataclass
class ResponseStream:
    """A checked Responses stream: its events and the response a client would assemble."""

    events: list[EventBase]
    output: list[AssembledItem]
    response: Response | None
    """The terminal event's own ``response`` (what ``get_final_response()`` returns)."""
    created: Response | None
    terminal: str | None
    """``response.completed`` / ``.incomplete`` / ``.failed``, or ``None`` (truncated)."""
    error: ResponseError | None
    profile: ResponseProfile
    extensions: dict[str, int] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    errors: list[EventBase] = field(default_factory=list)
    done: bool = False
    event_count: int = 0
    named_events: int = 0
    """Payload events that came with an ``event:`` line (the stream shape's framing fact)."""

    @property
    def chunks(self) -> list[EventBase]:
        """The events (the name code written against a chat ``ChunkStream`` uses)."""
        return self.events

    @property
    def status(self) -> str | None:
        """The terminal status (``completed``, ``incomplete``, ``failed``) or ``None``."""
        if self.response is not None and self.response.status is not None:
            return self.response.status
        return self.terminal.removeprefix("response.") if self.terminal else None

    @property
    def usage(self) -> ResponseUsage | None:
        """Usage of the terminal snapshot."""
        return self.response.usage if self.response is not None else None

    @property
    def output_text(self) -> str:
        """The joined text of every message's ``output_text`` parts (like the SDK's)."""
        return "".join(i.text for i in self.output if i.type == "message")

    @property
    def function_calls(self) -> list[AssembledItem]:
        """The function-call items, with name, call id, arguments and ``parsed_arguments``."""
        return [i for i in self.output if i.type == "function_call"]

    @property
    def reasoning(self) -> list[AssembledItem]:
        """The reasoning items (``.summary`` texts, ``.reasoning_text``)."""
        return [i for i in self.output if i.type == "reasoning"]

    @property
    def refusal(self) -> str | None:
        """The joined refusals of the messages, or ``None``."""
        parts = [i.refusal for i in self.output if i.refusal is not None]
        return "".join(parts) if parts else None

    @property
    def annotations(self) -> list[Any]:
        """Every annotation of every message, in order."""
        return [a for i in self.output for a in i.annotations]


#: A report on a Responses stream.
ResponseReport = Report[ResponseStream, ResponseProfile]

Check = Callable[[ResponseContext, Any], None]


class _Run:
    """One pass of the rules over one stream (the profile is fixed before the first event)."""

    def __init__(
        self,
        profile: ResponseProfile,
        reason: str,
        *,
        request: dict[str, Any] | None,
        url: str | None,
        ignore: Iterable[str],
        strict: bool,
        framing: bool,
        http: HttpInfo | None,
        keep: bool,
        label: str | None,
    ) -> None:
        self.ctx = ctx = ResponseContext(
            profile=profile,
            request=request,
            ignore=frozenset(ignore),
            framing=framing,
            http=http,
            url=url,
        )
        self.reason = reason
        self.strict = strict
        self.keep = keep
        self.label = label
        self.events: list[EventBase] = []
        self.named = 0
        active = [r for r in RULES if any(ctx.active(c) for c in (r.code, *r.serves))]
        if not framing:
            active = [r for r in active if not r.framing]
        self.active = active
        self.event_checks = [r.on_event for r in active if r.on_event is not None]
        self.end_checks = [r.on_end for r in active if r.on_end is not None]
        self.dispatch: dict[str, list[Check]] = {}
        self.types_on = ctx.active("OAS109")
        self.fast = fastpath.ENABLED
        self.json_on = ctx.active("OAS101")

    def _checks(self, etype: str) -> list[Check]:
        checks = self.dispatch.get(etype)
        if checks is None:
            checks = self.dispatch[etype] = [
                r.on_chunk
                for r in self.active
                if r.on_chunk is not None and (not r.types or etype in r.types)
            ]
        return checks

    def event(self, ev: SSEEvent) -> EventBase | None:
        """Check one SSE event; returns its typed event when it carried one."""
        ctx = self.ctx
        ctx.last_event = ev
        for check in self.event_checks:
            check(ctx, ev)
        if not ev.has_data:
            return None
        data = ev.data
        if data == "[DONE]":
            ctx.done += 1
            if not ctx.terminals:
                ctx.done_before_terminal += 1
            return None
        if ctx.done:
            ctx.data_after_done += 1
            return None
        ctx.sse = ev
        if ev.event is not None:
            self.named += 1
        return self.payload(parse_event(data), data)

    def payload(self, parsed: EventBase | ParsedEvent, raw: str | None) -> EventBase | None:
        """Check one parsed payload and take it into the assembled response."""
        ctx = self.ctx
        pos = ctx.chunks
        ctx.pos = pos
        ctx.raw = raw
        if isinstance(parsed, ParsedEvent):
            if parsed.chat and pos == 0:
                raise SourceError(
                    "this is a chat completions stream (its first payload is a "
                    "chat.completion.chunk), not a Responses stream: check it with "
                    "check_chunk_stream / assert_valid_chunk_stream"
                )
            if parsed.event is None:
                if self.json_on:
                    ctx.tally("OAS101", pos, f"event #{pos}: {parsed.problem}")
                ctx.chunks = pos + 1
                return None
            event = parsed.event
            if self.types_on:
                for err in parsed.schema_errors:
                    ctx.tally(
                        f"OAS109 schema {event.type} {err.path}",
                        pos,
                        f"{event.type}: {err.path}: {err.message} (got {err.value})",
                        path=err.path,
                    )
        else:
            event = parsed
            if self.fast and event.type in fastpath.TYPES and fastpath.take(ctx, event):
                ctx.chunks = pos + 1
                if self.keep:
                    self.events.append(event)
                return event
        for check in self._checks(event.type):
            check(ctx, event)
        ctx.asm.feed(event, pos)
        ctx.chunks = pos + 1
        if self.keep:
            self.events.append(event)
        return event

    def finish(self, facts: FramingFacts | None) -> ResponseReport:
        """Run the stream-level checks and build the report."""
        ctx = self.ctx
        ctx.facts = facts
        ctx.pos = -1
        ctx.raw = None
        ctx.flush_tally("OAS101", "OAS101", what="event")
        for check in self.end_checks:
            check(ctx)
        asm = ctx.asm
        stream = ResponseStream(
            events=self.events,
            output=asm.output(),
            response=asm.response,
            created=asm.created,
            terminal=asm.terminal.type if asm.terminal is not None else None,
            error=asm.error,
            profile=ctx.profile,
            extensions=dict(sorted(ctx.ext_seen.items())),
            comments=[c.text for c in facts.comments] if facts is not None else [],
            errors=list(asm.errors),
            done=ctx.done > 0,
            event_count=ctx.chunks,
            named_events=self.named,
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


def _check_ignore(ignore: Iterable[str]) -> tuple[str, ...]:
    if isinstance(ignore, str):
        ignore = [c.strip() for c in ignore.split(",") if c.strip()]
    by_name = {r.name: r.code for r in RULES}
    out = []
    for code in ignore:
        if not isinstance(code, str):
            raise TypeError(f"ignore: expected rule codes or names, got {type(code).__name__}")
        code = by_name.get(code, code).upper()
        if code not in RULES_BY_CODE:
            raise ValueError(
                f"ignore: unknown rule {code!r}; Responses codes are OAS001-OAS005, OAS040, "
                "OAS101-OAS138 or their names (e.g. 'sequence-increasing')"
            )
        out.append(code)
    return tuple(out)


def _fixed(profile: str | ResponseProfile, url: str | None) -> tuple[ResponseProfile, str] | None:
    """The profile when it does not depend on the stream; ``None`` = auto, decided by events."""
    if isinstance(profile, ResponseProfile):
        return profile.resolve(), "given as a Profile"
    if not isinstance(profile, str):
        raise TypeError(f"profile: expected a name or a ResponseProfile, got {profile!r}")
    if profile == "auto":
        return response_profile_from_url(url)
    return get_response_profile(profile), "chosen explicitly"


class _Feed:
    """Pieces -> checked events, for every mode: the profile is fixed at the first event under
    ``auto`` (its snapshot carries the provider's signals), earlier non-events wait for it."""

    def __init__(self, owner: _Options, keep: bool) -> None:
        self.o = owner
        self.keep = keep
        self.run: _Run | None = None
        self.fixed = _fixed(owner.profile, owner.url)
        self.pending: list[SSEEvent] = []
        self.decoder = SSEDecoder()

    def _start(self, first: EventBase | None) -> _Run:
        found = self.fixed
        if found is None:
            found = response_profile_from_event(first) if first is not None else None
            if found is None:
                found = detect_response_profile(None)
        o = self.o
        return _Run(
            found[0],
            found[1],
            request=o.request,
            url=o.url,
            ignore=o.ignore,
            strict=o.strict,
            framing=o.src.kind != "chunks",
            http=o.src.http,
            keep=self.keep,
            label=o.src.label,
        )

    def take(self, ev: SSEEvent) -> EventBase | None:
        run = self.run
        if run is not None:
            return run.event(ev)
        if self.fixed is not None:
            run = self.run = self._start(None)
            return run.event(ev)
        # auto without a deciding host: the first event's snapshot decides.
        parsed = parse_event(ev.data) if ev.has_data and ev.data != "[DONE]" else None
        if parsed is None or (isinstance(parsed, ParsedEvent) and parsed.event is None):
            self.pending.append(ev)
            return None
        first = parsed if isinstance(parsed, EventBase) else parsed.event
        run = self.run = self._start(first)
        for old in self.pending:
            run.event(old)
        self.pending.clear()
        return run.event(ev)

    def feed(self, whole: bytes | str) -> Iterator[EventBase]:
        for piece in windows(whole):
            for ev in self.decoder.feed(piece):
                out = self.take(ev)
                if out is not None:
                    yield out

    def close(self) -> Iterator[EventBase]:
        for ev in self.decoder.close():
            out = self.take(ev)
            if out is not None:
                yield out

    def items(self, items: list[Any]) -> Iterator[EventBase]:
        """Already-parsed events (dicts or models): no framing to check."""
        for item in items:
            parsed = _parse_item(item)
            if self.run is None:
                self.run = self._start(parsed if isinstance(parsed, EventBase) else None)
            out = self.run.payload(parsed, None)
            if out is not None:
                yield out

    def finish(self) -> ResponseReport:
        run = self.run
        if run is None:
            run = self.run = self._start(None)
            for ev in self.pending:
                run.event(ev)
        return run.finish(self.decoder.facts if self.o.src.kind != "chunks" else None)


def _parse_item(item: Any) -> EventBase | ParsedEvent:
    if isinstance(item, EventBase):
        return item
    if isinstance(item, dict):
        return parse_event_dict(item)
    return ParsedEvent("invalid", problem=f"item is {type(item).__name__}, not an event")


@dataclass
class _Options:
    src: Source
    profile: str | ResponseProfile
    ignore: tuple[str, ...]
    strict: bool
    request: dict[str, Any] | None
    url: str | None


def _options(
    source: Any,
    profile: str | ResponseProfile,
    ignore: Iterable[str],
    strict: bool,
    request: dict[str, Any] | None,
    url: str | None,
) -> _Options:
    codes = _check_ignore(ignore)
    if request is not None and not isinstance(request, dict):
        raise TypeError(f"request: expected the JSON request body as a dict, got {request!r}")
    mod = type(source).__module__
    if mod.startswith("openai") and hasattr(source, "_raw_stream"):
        # The stream of `client.responses.stream(...)`: read its raw SDK Stream, and keep the
        # starting_after it resumed with (the request context of OAS107/OAS111).
        after = getattr(source, "_starting_after", None)
        if after is not None and (request is None or "starting_after" not in request):
            request = {**(request or {}), "starting_after": after}
        source = source._raw_stream
    elif mod.startswith("openai") and type(source).__name__.endswith("StreamManager"):
        raise SourceError(
            "a stream manager was given: enter it first, "
            "`with client.responses.stream(...) as stream:` and pass `stream`"
        )
    src = open_source(source)
    _fixed(profile, url)  # a bad profile fails before reading
    return _Options(src, profile, codes, bool(strict), request, url or src.url)


def _as_bytes(piece: bytes | str) -> bytes:
    return piece.encode("utf-8") if isinstance(piece, str) else piece


def _failed_request(o: _Options, body: bytes) -> ResponseReport:
    """A non-2xx answer that is no event stream: report the failure (OAS002) and nothing else;
    its JSON error body is no event to judge (no OAS101/OAS1xx cascade)."""
    feed = _Feed(o, keep=False)
    run = feed.run = feed._start(None)
    run.ctx.http_body = body
    run.end_checks = [r.on_end for r in RULES if r.code == "OAS002" and r.on_end is not None]
    return run.finish(None)


def _check_sync(o: _Options) -> ResponseReport:
    was_enabled = gc.isenabled()
    gc.disable()  # thousands of kept event objects make the collector dominate otherwise
    try:
        feed = _Feed(o, keep=True)
        if o.src.kind == "chunks":
            assert o.src.chunks is not None
            for _ in feed.items(o.src.chunks):
                pass
            return feed.finish()
        assert o.src.pieces is not None
        if failed_request(o.src.http):
            return _failed_request(o, b"".join(_as_bytes(p) for p in o.src.pieces))
        for whole in o.src.pieces:
            for _ in feed.feed(whole):
                pass
        for _ in feed.close():
            pass
        return feed.finish()
    finally:
        if was_enabled:
            gc.enable()


def check_response_stream(
    source: Any,
    *,
    profile: str | ResponseProfile = "auto",
    ignore: Iterable[str] = (),
    strict: bool = False,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> ResponseReport:
    """Parse a Responses stream and check every rule; never raises for a broken stream."""
    o = _options(source, profile, ignore, strict, request, url)
    if o.src.kind == "async":
        raise TypeError("this source is async: use `await acheck_response_stream(...)`")
    return _check_sync(o)


async def acheck_response_stream(
    source: Any,
    *,
    profile: str | ResponseProfile = "auto",
    ignore: Iterable[str] = (),
    strict: bool = False,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> ResponseReport:
    """``check_response_stream`` for async sources (httpx async responses, ``AsyncStream``)."""
    o = _options(source, profile, ignore, strict, request, url)
    if o.src.kind != "async":
        return _check_sync(o)
    if failed_request(o.src.http):
        return _failed_request(o, b"".join([_as_bytes(p) async for p in aiter_pieces(o.src)]))
    feed = _Feed(o, keep=True)
    async for whole in aiter_pieces(o.src):
        for _ in feed.feed(whole):
            pass
    for _ in feed.close():
        pass
    return feed.finish()


def assert_valid_response_stream(
    source: Any,
    *,
    profile: str | ResponseProfile = "auto",
    ignore: Iterable[str] = (),
    strict: bool = False,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> ResponseStream:
    """Check a Responses stream; return its ``ResponseStream``, or raise
    ``StreamContractError`` naming every failing rule (errors; warnings too when ``strict``)."""
    __tracebackhide__ = True
    report = check_response_stream(
        source, profile=profile, ignore=ignore, strict=strict, request=request, url=url
    )
    if not report.ok:
        raise StreamContractError(report)
    assert report.stream is not None
    return report.stream


async def aassert_valid_response_stream(
    source: Any,
    *,
    profile: str | ResponseProfile = "auto",
    ignore: Iterable[str] = (),
    strict: bool = False,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> ResponseStream:
    """``assert_valid_response_stream`` for async sources."""
    __tracebackhide__ = True
    report = await acheck_response_stream(
        source, profile=profile, ignore=ignore, strict=strict, request=request, url=url
    )
    if not report.ok:
        raise StreamContractError(report)
    assert report.stream is not None
    return report.stream


class CheckedResponseEvents:
    """Iterate typed events as they arrive, checked on the way, without keeping them.

    After the last event ``.report`` holds the verdict (its stream has no ``events``, but the
    assembled output); with ``raise_on_error`` a failing stream raises ``StreamContractError``
    at the end of the iteration. Works with ``for`` and ``async for``.
    """

    def __init__(
        self,
        source: Any,
        *,
        profile: str | ResponseProfile = "auto",
        ignore: Iterable[str] = (),
        strict: bool = False,
        request: dict[str, Any] | None = None,
        url: str | None = None,
        raise_on_error: bool = True,
    ) -> None:
        self._o = _options(source, profile, ignore, strict, request, url)
        self._raise = raise_on_error
        self.report: ResponseReport | None = None

    def _end(self, feed: _Feed | None, body: bytes = b"") -> None:
        """The verdict; ``feed`` is ``None`` for a failed request (OAS002 alone on ``body``)."""
        __tracebackhide__ = True
        self.report = feed.finish() if feed is not None else _failed_request(self._o, body)
        if self._raise and not self.report.ok:
            raise StreamContractError(self.report)

    def __iter__(self) -> Iterator[EventBase]:
        __tracebackhide__ = True
        src = self._o.src
        if src.kind == "async":
            raise TypeError("this source is async: iterate with `async for`")
        feed = _Feed(self._o, keep=False)
        if src.kind == "chunks":
            assert src.chunks is not None
            yield from feed.items(src.chunks)
        else:
            assert src.pieces is not None
            if failed_request(src.http):
                self._end(None, b"".join(_as_bytes(p) for p in src.pieces))
                return
            for whole in src.pieces:
                yield from feed.feed(whole)
            yield from feed.close()
        self._end(feed)

    async def __aiter__(self) -> AsyncIterator[EventBase]:
        __tracebackhide__ = True
        src = self._o.src
        if src.kind != "async":
            for event in self:
                yield event
            return
        if failed_request(src.http):
            self._end(None, b"".join([_as_bytes(p) async for p in aiter_pieces(src)]))
            return
        feed = _Feed(self._o, keep=False)
        async for whole in aiter_pieces(src):
            for event in feed.feed(whole):
                yield event
        for event in feed.close():
            yield event
        self._end(feed)


def iter_checked_response_events(
    source: Any,
    *,
    profile: str | ResponseProfile = "auto",
    ignore: Iterable[str] = (),
    strict: bool = False,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> Iterator[EventBase]:
    """Yield each typed event as it arrives, checked on the way; raises at the end on failure."""
    __tracebackhide__ = True
    yield from CheckedResponseEvents(
        source, profile=profile, ignore=ignore, strict=strict, request=request, url=url
    )
