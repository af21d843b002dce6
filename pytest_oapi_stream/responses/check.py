"""Drives the Responses flow: SSE events -> typed events -> rule checks -> report.

``check_response_stream`` returns a ``Report`` whose ``.stream`` is a :class:`ResponseStream`
(the events and the response a client would assemble); ``assert_valid_response_stream`` returns
the ``ResponseStream`` or raises ``StreamContractError``; ``iter_checked_response_events`` checks
events as they arrive without keeping them. Async twins read async sources. Sources are those of
the chat functions (``core/sources.py``) plus lists of event dicts or event models. The modes, the
restart under ``auto`` and the refusal of a chat stream are the shared driver's
(``core/driver.py``); this module is what the Responses surface plugs into it: :class:`_Run` (one
pass of the Responses rules) and :data:`RESPONSES` (profiles, payloads, signals).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..core import driver
from ..core.driver import Checked, Found, Options, Restart, Run, Surface
from ..core.report import Report
from ..core.sources import HttpInfo, SourceError
from ..core.sse import FramingFacts, SSEEvent
from . import fastpath
from .assembly import AssembledItem
from .models import EventBase, Response, ResponseError, ResponseUsage, field_of
from .parse import ParsedEvent, parse_event, parse_event_dict
from .profiles import RESPONSE_PROFILE_REGISTRY, ResponseProfile, response_profile_from_event
from .rules import RULES, ResponseContext

__all__ = [
    "RESPONSES",
    "CheckedResponseEvents",
    "ResponseReport",
    "ResponseStream",
    "aassert_valid_response_stream",
    "acheck_response_stream",
    "assert_valid_response_stream",
    "check_response_lean",
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


class _Run(Run[EventBase]):
    """One pass of the Responses rules over one stream (the profile is fixed before the first
    event; under ``auto`` a watching run raises ``Restart`` at a snapshot's provider signal)."""

    rules = RULES

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
        watch: bool = False,
        observe: Callable[[Any], None] | None = None,
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
        self.watch = watch
        self.observe = observe
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
        self.resumed = ctx.asm.resumed
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
                # A plain delta (fastpath.py): no extension field, so no provider signal.
                ctx.chunks = pos + 1
                if self.keep:
                    self.events.append(event)
                if self.observe is not None:
                    self.observe(event)
                return event
        if self.resumed and field_of(event, "output_index") is not None:
            ctx.asm.adopt(event, pos)
        for check in self._checks(event.type):
            check(ctx, event)
        ctx.asm.feed(event, pos)
        ctx.chunks = pos + 1
        if self.keep:
            self.events.append(event)
        if self.watch:
            found = response_profile_from_event(event)
            if found is not None:
                raise Restart(found)
        if self.observe is not None:
            self.observe(event)
        return event

    def item(self, item: Any, index: int) -> EventBase | None:
        """Check entry ``index`` of an event list (an event model or its dict)."""
        return self.payload(_parse_item(item), None)

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
        return self.report(
            ResponseStream(
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
        )


def _parse_item(item: Any) -> EventBase | ParsedEvent:
    if isinstance(item, EventBase):
        return item
    if isinstance(item, dict):
        return parse_event_dict(item)
    return ParsedEvent("invalid", problem=f"item is {type(item).__name__}, not an event")


class _Responses(Surface[EventBase]):
    """What the Responses surface plugs into the shared driver (``core/driver.py``)."""

    name = "responses"
    rules = RULES
    codes = "Responses codes are OAS001-OAS005, OAS040, OAS101-OAS138"
    example = "sequence-increasing"
    check_name = "check_response_stream"
    acheck_name = "acheck_response_stream"
    profiles = RESPONSE_PROFILE_REGISTRY

    def signal(self, item: EventBase) -> Found | None:
        return response_profile_from_event(item)

    def first(self, data: str) -> EventBase | None:
        parsed = parse_event(data)
        return parsed.event if isinstance(parsed, ParsedEvent) else parsed

    def first_item(self, item: Any, index: int) -> EventBase | None:
        parsed = _parse_item(item)
        return parsed.event if isinstance(parsed, ParsedEvent) else parsed

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
            url=o.url,
            ignore=o.ignore,
            strict=o.strict,
            framing=framing,
            http=o.src.http,
            keep=keep and not lean,
            label=o.src.label,
            watch=watch,
            observe=observe,
        )

    def prepare(self, source: Any, request: dict[str, Any] | None) -> tuple[Any, Any]:
        """The raw SDK ``Stream`` under ``client.responses.stream(...)``'s stream, with the
        ``starting_after`` it resumed with (the request context of OAS107/OAS111)."""
        mod = type(source).__module__
        if mod.startswith("openai") and hasattr(source, "_raw_stream"):
            after = getattr(source, "_starting_after", None)
            if after is not None and (request is None or "starting_after" not in request):
                request = {**(request or {}), "starting_after": after}
            return source._raw_stream, request
        if mod.startswith("openai") and type(source).__name__.endswith("StreamManager"):
            raise SourceError(
                "a stream manager was given: enter it first, "
                "`with client.responses.stream(...) as stream:` and pass `stream`"
            )
        return source, request


#: The Responses surface, as the driver sees it.
RESPONSES = _Responses()


def check_response_lean(
    source: Any,
    *,
    profile: str | ResponseProfile = "auto",
    ignore: Iterable[str] = (),
    strict: bool = False,
    request: dict[str, Any] | None = None,
    url: str | None = None,
    observe: Callable[[], Callable[[EventBase], None]] | None = None,
) -> ResponseReport:
    """``check_response_stream`` for a file or a body, keeping no events (the CLI's).

    The report has every violation and the assembled response, but no ``events``; a path is
    read in blocks (again from its start when ``auto`` meets a provider signal). The assembled
    texts are still kept: the rules compare the joined deltas with the done events' texts.
    ``observe`` makes a fresh callback per pass, which sees every event in order.
    """
    return driver.check_lean(
        RESPONSES,
        source,
        profile=profile,
        ignore=ignore,
        strict=strict,
        request=request,
        url=url,
        observe=observe,
    )


def check_response_stream(
    source: Any,
    *,
    profile: str | ResponseProfile | None = None,
    ignore: Iterable[str] | None = None,
    strict: bool | None = None,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> ResponseReport:
    """Parse a Responses stream and check every rule; never raises for a broken stream.

    Omitted arguments default to ``auto``, no ignored rule, not strict; inside a marked pytest
    test, to the marker's settings and the stream's recorded request (``core.defaults``)."""
    o = driver.options(RESPONSES, source, profile, ignore, strict, request, url, prefer_sync=True)
    return driver.check(RESPONSES, o)


async def acheck_response_stream(
    source: Any,
    *,
    profile: str | ResponseProfile | None = None,
    ignore: Iterable[str] | None = None,
    strict: bool | None = None,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> ResponseReport:
    """``check_response_stream`` for async sources (httpx async responses, ``AsyncStream``)."""
    o = driver.options(RESPONSES, source, profile, ignore, strict, request, url)
    return await driver.acheck(RESPONSES, o)


def assert_valid_response_stream(
    source: Any,
    *,
    profile: str | ResponseProfile | None = None,
    ignore: Iterable[str] | None = None,
    strict: bool | None = None,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> ResponseStream:
    """Check a Responses stream; return its ``ResponseStream``, or raise
    ``StreamContractError`` naming every failing rule (errors; warnings too when ``strict``)."""
    __tracebackhide__ = True
    report = check_response_stream(
        source, profile=profile, ignore=ignore, strict=strict, request=request, url=url
    )
    stream: ResponseStream = driver.valid_stream(report)
    return stream


async def aassert_valid_response_stream(
    source: Any,
    *,
    profile: str | ResponseProfile | None = None,
    ignore: Iterable[str] | None = None,
    strict: bool | None = None,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> ResponseStream:
    """``assert_valid_response_stream`` for async sources."""
    __tracebackhide__ = True
    report = await acheck_response_stream(
        source, profile=profile, ignore=ignore, strict=strict, request=request, url=url
    )
    stream: ResponseStream = driver.valid_stream(report)
    return stream


class CheckedResponseEvents(Checked[EventBase]):
    """Iterate typed events as they arrive, checked on the way, without keeping them.

    After the last event ``.report`` holds the verdict (its stream has no ``events``, but the
    assembled output); with ``raise_on_error`` a failing stream raises ``StreamContractError``
    at the end of the iteration. Works with ``for`` and ``async for``.
    """

    surface = RESPONSES

    def __init__(
        self,
        source: Any,
        *,
        profile: str | ResponseProfile | None = None,
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


def iter_checked_response_events(
    source: Any,
    *,
    profile: str | ResponseProfile | None = None,
    ignore: Iterable[str] | None = None,
    strict: bool | None = None,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> Iterator[EventBase]:
    """Yield each typed event as it arrives, checked on the way; raises at the end on failure."""
    __tracebackhide__ = True
    yield from CheckedResponseEvents(
        source, profile=profile, ignore=ignore, strict=strict, request=request, url=url
    )
