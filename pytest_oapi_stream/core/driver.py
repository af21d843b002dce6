"""The check driver, written once for both surfaces: a source's pieces -> the SSE decoder -> a
surface's run (parse, rules, assembly) -> the report, in each of three modes.

* **keep** (``check_*``): one pass that keeps the parsed items. Under ``auto`` with no request
  host that decides, the run *watches* the items it checks for a provider signal and raises
  :class:`Restart` at one; the pass starts again under that profile (from the source's start
  when it can be read again, else from the events it kept meanwhile).
* **lean** (:func:`check_lean`, the CLI's): keep mode keeping nothing per item; a file is read
  again from its start on a restart, so memory does not grow with the file.
* **iterating** (:class:`Checked`): items handed out as they arrive, nothing kept; the profile
  is fixed at the first item (there is no looking ahead).

A surface plugs in with a :class:`Surface` (how its profiles resolve, how a run is made, what its
items are) and a :class:`Run` subclass (one pass of its rules over one stream). The driver also
refuses a stream of the other surface (by its request path or its first payload), reports a
failed request as OAS002 alone, and validates the arguments every check function shares.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import urlsplit

from . import defaults
from .profiles import ProfileRegistry
from .report import Report, StreamContractError
from .rules import Rule, failed_request
from .sources import Source, SourceError, aiter_pieces, open_source
from .sse import FramingFacts, SSEDecoder, SSEEvent
from .surface import ADVICE, API, TITLE, surface_of_path, surface_of_payload

__all__ = [
    "WINDOW",
    "Checked",
    "Found",
    "Options",
    "Restart",
    "Run",
    "Surface",
    "acheck",
    "check",
    "check_lean",
    "options",
    "windows",
]

T = TypeVar("T")
#: A resolved profile and the one-line reason it was chosen (``Report.profile_reason``).
Found = tuple[Any, str]
#: Called with each item of a stream, in order (lean mode's observers: shapes).
Observer = Callable[[Any], None]

WINDOW = 1 << 16


def windows(piece: bytes | str) -> Iterator[bytes | str]:
    """``piece`` in slices of at most 64 KiB (or 64 Ki characters).

    A whole recorded body arrives as one piece; decoded at once it would turn into one list
    holding every event of the stream. Fed in windows, the decoder holds one window's events at
    a time: the iterating mode's memory does not grow with the stream, and each event is checked
    while its bytes are still in the CPU cache. The decoder's output does not depend on how its
    input is split.
    """
    n = len(piece)
    if n <= 2 * WINDOW:
        yield piece
        return
    for start in range(0, n, WINDOW):
        yield piece[start : start + WINDOW]


class Restart(Exception):
    """A provider signal in an item chose the profile: check the stream again from its start."""

    def __init__(self, found: Found) -> None:
        super().__init__(found[1])
        self.found = found


@dataclass
class Options:
    """The arguments of one check, validated: the opened source and how to judge it."""

    src: Source
    profile: Any  # a name or a surface's profile object
    ignore: tuple[str, ...]
    strict: bool
    request: dict[str, Any] | None
    url: str | None  # the given URL, else the source's own
    raw: Any = None  # the source as given (an iterating check may open it again, sync)
    origin: str = ""  # where an omitted profile came from (core.defaults), for the reason


class Run(Generic[T]):
    """One pass of a surface's rules over one stream (its profile is fixed before the first item).

    A surface subclasses it: ``event`` checks one SSE event, ``item`` one entry of an
    already-parsed list, ``finish`` runs the stream-level checks and builds the report (with
    :meth:`report`). ``ctx`` is the surface's rule context (a ``core.rules.Emitter``).
    """

    rules: ClassVar[tuple[Rule, ...]]
    ctx: Any
    end_checks: list[Callable[[Any], None]]
    reason: str
    strict: bool
    label: str | None

    def event(self, ev: SSEEvent) -> T | None:
        """Check one SSE event; its typed item when it carried one."""
        raise NotImplementedError

    def item(self, item: Any, index: int) -> T | None:
        """Check entry ``index`` of an already-parsed list (no framing); its typed item."""
        raise NotImplementedError

    def finish(self, facts: FramingFacts | None) -> Report[Any, Any]:
        """Run the stream-level checks and build the report."""
        raise NotImplementedError

    def report(self, stream: Any) -> Report[Any, Any]:
        """The report of this run: its findings in stream order, then catalog order."""
        ctx = self.ctx
        order = _order(self.rules)
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

    def fail(self, body: bytes) -> Report[Any, Any]:
        """A non-2xx answer that is no event stream: OAS002 alone, with its status and message;
        its JSON error body is no stream to judge (no cascade of payload rules)."""
        self.ctx.http_body = body
        self.end_checks = [r.on_end for r in self.rules if r.code == "OAS002" and r.on_end]
        return self.finish(None)


_ORDERS: dict[int, dict[str, int]] = {}


def _order(rules: tuple[Rule, ...]) -> dict[str, int]:
    order = _ORDERS.get(id(rules))
    if order is None:
        order = _ORDERS[id(rules)] = {r.code: i for i, r in enumerate(rules)}
    return order


class Surface(Generic[T]):
    """What a surface plugs into the driver; one instance per surface (``chat.check.CHAT``)."""

    #: ``chat`` or ``responses`` (core/surface.py's names).
    name: str
    #: The rule table (for ``ignore=`` validation and report order).
    rules: tuple[Rule, ...]
    #: The ``ignore=`` error's hint: the codes and an example name.
    codes: str
    example: str
    #: The public names the driver's messages point to.
    check_name: str
    acheck_name: str

    #: The surface's profiles (its class, built-ins and custom ones; ``core/profiles.py``).
    profiles: ProfileRegistry[Any]

    def fixed(self, profile: Any, url: str | None) -> Found | None:
        """The profile when the stream cannot change it (given, or chosen by the request host);
        ``None`` under ``auto`` when the stream decides. A bad profile raises here."""
        registry = self.profiles
        if isinstance(profile, registry.cls):
            return profile.resolve(), "given as a Profile"
        if not isinstance(profile, str):
            raise TypeError(
                f"profile: expected a name or a {registry.cls.__name__}, got {profile!r}"
            )
        if profile == "auto":
            return registry.from_url(url)
        return registry.get(profile), "chosen explicitly"

    def fallback(self, url: str | None) -> Found:
        """What applies under ``auto`` when nothing signals: the request host's, else the
        strict default."""
        found = self.profiles.from_url(url)
        if found is not None:
            return found
        return self.profiles.get("openai"), "auto: no provider signal, strict default"

    def signal(self, item: T) -> Found | None:
        """The profile a provider signal in ``item`` selects under ``auto``, or ``None``."""
        raise NotImplementedError

    def first(self, data: str) -> T | None:
        """The typed item of one payload, when it is one (the iterating mode's profile decider)."""
        raise NotImplementedError

    def first_item(self, item: Any, index: int) -> T | None:
        """:meth:`first` for an entry of an already-parsed list."""
        raise NotImplementedError

    def run(
        self,
        found: Found,
        o: Options,
        *,
        keep: bool,
        framing: bool,
        watch: bool = False,
        lean: bool = False,
        observe: Observer | None = None,
    ) -> Run[T]:
        """A fresh run under ``found``: ``keep`` the items, check ``framing`` (not for lists),
        ``watch`` for provider signals (raising :class:`Restart`), ``lean`` keeps nothing per
        item, ``observe`` sees each item."""
        raise NotImplementedError

    def prepare(self, source: Any, request: dict[str, Any] | None) -> tuple[Any, Any]:
        """The source and request to check, from what the user passed (a hook)."""
        return source, request


# ------------------------------------------------------------------------------- arguments


def check_ignore(s: Surface[Any], ignore: Iterable[str] | None) -> tuple[str, ...]:
    """``ignore=`` as rule codes: codes or names, a list or a comma-separated str."""
    if ignore is None:
        return ()
    if isinstance(ignore, str):
        ignore = [c.strip() for c in ignore.split(",") if c.strip()]
    if not isinstance(ignore, Iterable):
        raise TypeError(
            f"ignore: expected rule codes or names (a list of str), not {type(ignore).__name__}"
        )
    by_name = {r.name: r.code for r in s.rules}
    known = {r.code for r in s.rules}
    out = []
    for code in ignore:
        if not isinstance(code, str):
            raise TypeError(
                f"ignore: expected rule codes or names (str), got {type(code).__name__} {code!r}"
            )
        code = by_name.get(code, code).upper()
        if code not in known:
            raise ValueError(
                f"ignore: unknown rule {code!r}; {s.codes} or their names (e.g. {s.example!r})"
            )
        out.append(code)
    return tuple(out)


def _check_call(request: Any, url: Any) -> None:
    """``TypeError`` naming ``request`` or ``url`` when it is not what a check can use."""
    if request is not None and not isinstance(request, Mapping):
        raise TypeError(
            "request: expected the JSON request body as a dict (e.g. json.loads(body)), "
            f"not {type(request).__name__}"
        )
    if url is not None and not isinstance(url, str):
        raise TypeError(f"url: expected the request URL as a str, not {type(url).__name__}")


def options(
    s: Surface[Any],
    source: Any,
    profile: Any,
    ignore: Iterable[str] | None,
    strict: bool | None,
    request: dict[str, Any] | None,
    url: str | None,
    *,
    prefer_sync: bool = False,
) -> Options:
    """Validate a check's arguments (omitted ones from ``core.defaults``) and open its source."""
    ambient = defaults.current() if profile is None else None
    origin = ambient.profile_origin if ambient is not None else ""
    profile, ignore, strict, request, url = defaults.resolve(
        source, profile, ignore, strict, request, url
    )
    codes = check_ignore(s, ignore)
    _check_call(request, url)
    raw = source
    source, request = s.prepare(source, request)
    src = open_source(source, prefer_sync=prefer_sync)
    o = Options(src, profile, codes, bool(strict), request, url or src.url, raw, origin)
    _fixed(s, o)  # a bad profile fails before anything is read
    return o


def _fixed(s: Surface[Any], o: Options) -> Found | None:
    """:meth:`Surface.fixed`, its reason naming where a profile the caller omitted was set
    (``from the oapi marker``) rather than "chosen explicitly"."""
    found = s.fixed(o.profile, o.url)
    if found is not None and o.origin and isinstance(o.profile, str) and o.profile != "auto":
        return found[0], f"from {o.origin}"
    return found


def valid_stream(report: Report[Any, Any]) -> Any:
    """The ``assert_valid_*`` functions' answer: the report's stream, or ``StreamContractError``
    naming every failing rule."""
    __tracebackhide__ = True
    if not report.ok:
        raise StreamContractError(report)
    assert report.stream is not None
    return report.stream


# ---------------------------------------------------------------------- the other surface


_IN_MEMORY = frozenset({"bytes", "text", "iterable", "async iterable", "chunk list"})


def _where(label: str) -> str:
    """``path: `` for a message about a source that has a name (a file, a response), else
    nothing: "bytes" says nothing the caller does not know, and a cassette names itself."""
    return "" if label in _IN_MEMORY else f"{label}: "


def _refuse_by_path(s: Surface[Any], o: Options) -> bool:
    """``SourceError`` when the request URL names the other surface.

    Returns ``True``: the first payload is looked at too (:func:`_sniff`), since a payload of
    the other surface cannot be judged whatever the path says (a gateway that answers
    ``/responses`` with chat chunks is refused, not reported as a broken Responses stream).
    """
    named = surface_of_path(o.url)
    if named is not None and named != s.name:
        path = urlsplit(o.url or "").path  # the path alone: a query may hold a key
        raise SourceError(
            f"{_where(o.src.label)}this is a {TITLE[named]} (its request path {path} is the "
            f"{API[named]}'s), not a {TITLE[s.name]}: {ADVICE[named]}"
        )
    return True


def _refuse_payload(s: Surface[Any], payload: Any, label: str) -> None:
    """``SourceError`` when a stream's first payload belongs to the other surface."""
    named, what = surface_of_payload(payload)
    if named is not None and named != s.name:
        raise SourceError(
            f"{_where(label)}this is a {TITLE[named]} (its first payload is {what}), "
            f"not a {TITLE[s.name]}: {ADVICE[named]}"
        )


def _sniff(s: Surface[Any], events: list[SSEEvent], label: str) -> bool:
    """Look for the stream's first JSON payload in ``events``; ``False`` once it was seen.

    Called per decoded piece until it returns ``False``, never per item.
    """
    for ev in events:
        if not ev.has_data or ev.data == "[DONE]":
            continue
        try:
            payload = json.loads(ev.data)
        except (ValueError, RecursionError):
            continue
        _refuse_payload(s, payload, label)
        return False
    return True


class _Decoding:
    """The SSE decoder over a source's pieces, each fed in :func:`windows`; the first payload
    is looked at for the other surface (:func:`_sniff`) until it was seen."""

    def __init__(self, s: Surface[Any], label: str, sniff: bool) -> None:
        self.s = s
        self.label = label
        self.sniff = sniff
        self.decoder = SSEDecoder()

    def feed(self, whole: bytes | str) -> Iterator[list[SSEEvent]]:
        """The events each window of ``whole`` completes."""
        for piece in windows(whole):
            events = self.decoder.feed(piece)
            if self.sniff:
                self.sniff = _sniff(self.s, events, self.label)
            yield events

    def close(self) -> list[SSEEvent]:
        """The events of an unterminated last event, once the source is exhausted."""
        events = self.decoder.close()
        if self.sniff:
            self.sniff = _sniff(self.s, events, self.label)
        return events


# ----------------------------------------------------------------------------- keep mode


def _as_bytes(piece: bytes | str) -> bytes:
    return piece.encode("utf-8") if isinstance(piece, str) else piece


class _Pass(Generic[T]):
    """Keep mode over SSE events in one pass: each event is parsed and checked as decoded.

    The result is the one of decoding the whole stream, parsing every payload, resolving the
    profile, then checking; but each item is checked right after it is parsed, while it is
    still in the CPU cache. Under ``auto`` with no deciding host, the run starts under the
    fallback profile and *watches*: at a provider signal it raises :class:`Restart`. A source
    that can be read again (``replayable``) is then decoded again by the caller; for any other
    source the events are kept meanwhile and replayed here (parsing them again). Keeping them
    costs memory for the whole of a stream that never signals, which is why sources that can
    be read twice are not kept.
    """

    def __init__(
        self,
        s: Surface[T],
        o: Options,
        *,
        replayable: bool,
        found: Found | None,
        framing: bool = True,
        lean: bool = False,
        observe: Callable[[], Observer] | None = None,
    ) -> None:
        self.s = s
        self.o = o
        self.framing = framing
        self.lean = lean
        self.observe = observe
        fixed = found if found is not None else _fixed(s, o)
        watch = fixed is None
        self.history: list[SSEEvent] | None = [] if watch and not replayable else None
        self.run = self._new(fixed if fixed is not None else s.fallback(o.url), watch)

    def _new(self, found: Found, watch: bool = False) -> Run[T]:
        return self.s.run(
            found,
            self.o,
            keep=not self.lean,
            framing=self.framing,
            watch=watch,
            lean=self.lean,
            observe=self.observe() if self.observe is not None else None,
        )

    def events(self, events: list[SSEEvent]) -> None:
        """Parse and check these events, in order (raises :class:`Restart`, see the class)."""
        history = self.history
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
            except Restart as restart:
                self.history = None
                run = self.run = self._new(restart.found)
                for old in history:
                    run.event(old)
                self.events(events[i + 1 :])
                return


def _check_list(s: Surface[T], o: Options) -> Report[Any, Any]:
    """Keep mode for an already-parsed list (no framing); a signal restarts it from its start."""
    items = o.src.chunks
    assert items is not None
    if items:
        _refuse_payload(s, items[0], o.src.label)
    found: Found | None = None
    while True:
        p = _Pass(s, o, replayable=True, found=found, framing=False)
        try:
            for i, item in enumerate(items):
                p.run.item(item, i)
        except Restart as restart:
            found = restart.found
            continue
        return p.run.finish(None)


def failed(s: Surface[Any], o: Options, body: bytes) -> Report[Any, Any]:
    """The report on a failed request: OAS002 alone (see :meth:`Run.fail`)."""
    found = _fixed(s, o) or s.fallback(o.url)
    return s.run(found, o, keep=False, framing=True).fail(body)


def check(
    s: Surface[Any],
    o: Options,
    *,
    reopen: Callable[[], Source] | None = None,
    observe: Callable[[], Observer] | None = None,
) -> Report[Any, Any]:
    """Keep mode (lean with ``reopen``, which opens the source again for a restart)."""
    if o.src.kind == "async":
        raise TypeError(f"this source is async: use `await {s.acheck_name}(...)`")
    by_payload = _refuse_by_path(s, o)
    # No cyclic collection while a stream's objects pile up (it would dominate otherwise).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        src = o.src
        if src.kind == "chunks":
            return _check_list(s, o)
        assert src.pieces is not None
        if failed_request(src.http):
            return failed(s, o, b"".join(_as_bytes(p) for p in src.pieces))
        # A list of pieces (bytes, text, a read response) can be decoded a second time.
        replayable = type(src.pieces) is list or reopen is not None
        found: Found | None = None
        first = True
        while True:
            if not first and reopen is not None:
                src = reopen()
            first = False
            p = _Pass(
                s,
                o,
                replayable=replayable,
                found=found,
                lean=reopen is not None,
                observe=observe,
            )
            d = _Decoding(s, src.label, by_payload)
            pieces = src.pieces
            assert pieces is not None
            try:
                for whole in pieces:
                    for events in d.feed(whole):
                        p.events(events)
                p.events(d.close())
            except Restart as restart:
                found = restart.found
                continue
            p.history = None
            return p.run.finish(d.decoder.facts)
    finally:
        if was_enabled:
            gc.enable()


async def acheck(s: Surface[Any], o: Options) -> Report[Any, Any]:
    """Keep mode for an async source (a sync one is checked as :func:`check` does)."""
    if o.src.kind != "async":
        return check(s, o)
    by_payload = _refuse_by_path(s, o)
    src = o.src
    if failed_request(src.http):
        return failed(s, o, b"".join([_as_bytes(p) async for p in aiter_pieces(src)]))
    p = _Pass(s, o, replayable=False, found=None)
    d = _Decoding(s, src.label, by_payload)
    async for whole in aiter_pieces(src):
        for events in d.feed(whole):
            p.events(events)
    p.events(d.close())
    p.history = None
    return p.run.finish(d.decoder.facts)


def check_lean(
    s: Surface[Any],
    source: str | bytes | os.PathLike[str],
    *,
    profile: Any = "auto",
    ignore: Iterable[str] = (),
    strict: bool = False,
    request: dict[str, Any] | None = None,
    url: str | None = None,
    observe: Callable[[], Observer] | None = None,
) -> Report[Any, Any]:
    """Keep mode for a file or a body, keeping nothing per item (the CLI's).

    The report has every violation, but its ``stream`` holds no items, and a path is read in
    blocks (read again from its start when ``auto`` meets a provider signal), so memory does
    not grow with the file. ``observe`` makes a fresh callback per pass over the stream, which
    sees every item in order (the last pass's callback saw the whole stream).
    """
    if isinstance(source, os.PathLike):
        source = Path(source)
    elif not isinstance(source, (str, bytes)):
        raise TypeError(f"check_lean reads a path, bytes or str, not {type(source).__name__}")
    o = options(s, source, profile, ignore, strict, request, url)
    return check(s, o, reopen=lambda: open_source(source), observe=observe)


# ------------------------------------------------------------------------ iterating mode


class _Feed(Generic[T]):
    """The iterating mode's state, shared by sync and async iteration: pieces -> checked items.

    Under ``auto`` without a deciding host the first item fixes the profile; events before it
    wait. Items come back per piece (as they arrive); :meth:`finish` builds the report after
    the last item was handed out.
    """

    def __init__(self, s: Surface[T], o: Options, sniff: bool) -> None:
        self.s = s
        self.o = o
        self.fixed = _fixed(s, o)
        self.run: Run[T] | None = None
        self.pending: list[SSEEvent] = []
        self.pending_items: list[tuple[Any, int]] = []
        self.decoding = _Decoding(s, o.src.label, sniff)
        self.sniff = sniff  # for a list: its first item is looked at

    def _start(self, first: T | None, *, framing: bool = True) -> Run[T]:
        s = self.s
        found = self.fixed
        if found is None and first is not None:
            found = s.signal(first)
        if found is None:
            found = s.fallback(self.o.url)
        return s.run(found, self.o, keep=False, framing=framing)

    def take(self, ev: SSEEvent) -> T | None:
        run = self.run
        if run is not None:
            return run.event(ev)
        if self.fixed is not None:
            run = self.run = self._start(None)
            return run.event(ev)
        first = None
        if ev.has_data and not ev.data.startswith("[DONE]"):
            first = self.s.first(ev.data)
        if first is None:
            self.pending.append(ev)
            return None
        run = self.run = self._start(first)
        for old in self.pending:
            run.event(old)
        self.pending.clear()
        return run.event(ev)

    def feed(self, whole: bytes | str) -> Iterator[T]:
        """The items completed by one piece of the stream, one at a time (nothing kept)."""
        for events in self.decoding.feed(whole):
            for ev in events:
                out = self.take(ev)
                if out is not None:
                    yield out

    def close(self) -> Iterator[T]:
        """The items of an unterminated last event, once the source is exhausted."""
        for ev in self.decoding.close():
            out = self.take(ev)
            if out is not None:
                yield out

    def items(self, items: list[Any]) -> Iterator[T]:
        """Already-parsed list entries (no framing to check)."""
        if items and self.sniff:
            _refuse_payload(self.s, items[0], self.o.src.label)
        for i, item in enumerate(items):
            run = self.run
            if run is None:
                first = self.s.first_item(item, i) if self.fixed is None else None
                if first is None and self.fixed is None:
                    self.pending_items.append((item, i))
                    continue
                run = self.run = self._start(first, framing=False)
                for old, j in self.pending_items:
                    run.item(old, j)
                self.pending_items.clear()
            out = run.item(item, i)
            if out is not None:
                yield out

    def finish(self, framing: bool) -> Report[Any, Any]:
        run = self.run
        if run is None:
            run = self.run = self._start(None, framing=framing)
            for ev in self.pending:
                run.event(ev)
            for item, i in self.pending_items:
                run.item(item, i)
        return run.finish(self.decoding.decoder.facts if framing else None)


class Checked(Generic[T]):
    """Iterate typed items as they arrive, checked on the way, without keeping them.

    The profile is fixed from ``url`` and the first item (``auto`` cannot look ahead here).
    After the last item ``.report`` holds the verdict; with ``raise_on_error`` a failing stream
    raises ``StreamContractError`` at the end of the iteration. Works with ``for`` and
    ``async for``. A surface subclasses it, naming its :class:`Surface` in ``surface``.
    """

    surface: ClassVar[Surface[Any]]

    def __init__(
        self,
        source: Any,
        *,
        profile: Any = None,
        ignore: Iterable[str] | None = None,
        strict: bool | None = None,
        request: dict[str, Any] | None = None,
        url: str | None = None,
        raise_on_error: bool = True,
    ) -> None:
        self._o = options(self.surface, source, profile, ignore, strict, request, url)
        self._sniff = _refuse_by_path(self.surface, self._o)
        self._raise = raise_on_error
        self.report: Report[Any, Any] | None = None

    def _end(self, report: Report[Any, Any]) -> None:
        __tracebackhide__ = True
        self.report = report
        if self._raise and not report.ok:
            raise StreamContractError(report)

    def __iter__(self) -> Iterator[T]:
        __tracebackhide__ = True
        o = self._o
        src = o.src
        if src.kind == "async" and src.also_sync:  # iterates both ways: this is the sync way
            src = o.src = open_source(o.raw, prefer_sync=True)
        if src.kind == "async":
            raise TypeError("this source is async: iterate with `async for`")
        feed: _Feed[T] = _Feed(self.surface, o, self._sniff)
        if src.kind == "chunks":
            assert src.chunks is not None
            yield from feed.items(src.chunks)
            self._end(feed.finish(framing=False))
            return
        assert src.pieces is not None
        if failed_request(src.http):
            self._end(failed(self.surface, o, b"".join(_as_bytes(p) for p in src.pieces)))
            return
        for whole in src.pieces:
            yield from feed.feed(whole)
        yield from feed.close()
        self._end(feed.finish(framing=True))

    async def __aiter__(self) -> AsyncIterator[T]:
        __tracebackhide__ = True
        o = self._o
        src = o.src
        if src.kind != "async":
            for item in self:
                yield item
            return
        if failed_request(src.http):
            body = b"".join([_as_bytes(p) async for p in aiter_pieces(src)])
            self._end(failed(self.surface, o, body))
            return
        feed: _Feed[T] = _Feed(self.surface, o, self._sniff)
        async for whole in aiter_pieces(src):
            for item in feed.feed(whole):
                yield item
        for item in feed.close():
            yield item
        self._end(feed.finish(framing=True))
