"""Rule-table machinery shared by the surfaces, and the byte-level rules both surfaces apply.

A surface's catalog is one tuple of :class:`Rule` rows (stable code, name, strict severity,
scope, summary) whose checks hook into three points of the flow: ``on_event`` (each SSE event),
``on_chunk`` (each typed payload: a chat chunk, a Responses event) and ``on_end`` (the whole
stream). Checks report through their surface's context, which derives each finding's severity
from the profile (:class:`Emitter`).

The byte-level checks (OAS001 ``sse-utf8`` with the leading BOM, OAS002 ``sse-http-envelope``
with the failed request, OAS003 ``sse-line-endings``, OAS004 ``sse-data-field``, OAS005
``sse-comments``) are written once here and sit in both catalogs: they read only the decoder's
framing facts, the HTTP envelope (and a failed request's body) and the current event, which every
surface's context exposes (:class:`FramingContext`). ``failed_request`` tells the drivers when
to hand a body to OAS002 alone instead of decoding it as a stream.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .report import SEVERITY_RANK, Severity, Violation, excerpt, excerpt_at, printable

if TYPE_CHECKING:
    from .sources import HttpInfo
    from .sse import FramingFacts, SSEEvent

__all__ = [
    "BYTE_RULES",
    "SEVERITY_NAMES",
    "Emitter",
    "FramingContext",
    "Rule",
    "Tally",
    "comments_end",
    "data_field_end",
    "data_field_event",
    "error_message",
    "failed_request",
    "http_end",
    "last_key",
    "line_endings_end",
    "utf8_end",
]

SEVERITY_NAMES: dict[int, Severity] = {1: "info", 2: "warn", 3: "error"}


@dataclass(frozen=True)
class Rule:
    """One row of a catalog: stable code and name, strict severity, scope and its checks.

    ``types`` narrows ``on_chunk`` to payloads of those ``type`` values (Responses events;
    empty = every payload), so a driver can dispatch each event only to the checks it concerns.
    """

    code: str
    name: str
    severity: Severity
    scope: str
    summary: str
    on_event: Callable[[Any, Any], None] | None = None
    on_chunk: Callable[[Any, Any], None] | None = None
    on_end: Callable[[Any], None] | None = None
    framing: bool = False  # needs the SSE bytes (skipped for already-parsed chunks)
    serves: tuple[str, ...] = ()  # other codes the same checks report (one shared pass)
    types: frozenset[str] = frozenset()


@dataclass
class Tally:
    """Aggregates repeated findings of one rule into one violation (first place, count)."""

    first: int
    message: str
    excerpt: str | None
    count: int = 1
    path: str | None = None


def last_key(path: str | None) -> str | None:
    """``choices[0].delta.role`` -> ``role``."""
    if not path:
        return None
    last = path.rsplit(".", 1)[-1]
    return last.split("[", 1)[0] or None


class Emitter:
    """Severity per code from a profile, findings, and tallies: the reporting half of a context.

    A surface's context subclasses it and sets ``rules`` (code -> Rule), ``levels`` (code ->
    rank, 0 = off), ``request`` and the current position (``pos``, ``raw``).
    """

    rules: Mapping[str, Rule]
    #: The violation class a finding is recorded as (a surface may name its unit: "event").
    violation_type: type[Violation] = Violation
    levels: dict[str, int]
    findings: list[Violation]
    tallies: dict[str, Tally]
    request: Any
    pos: int
    raw: str | None
    # Where each key sits in the text last excerpted (_excerpt): a chunk's findings share its
    # text, and searching it again per finding would cost its length each time.
    _found_in: str | None = None
    _found: dict[str, int] | None = None

    def hint(self, code: str, message: str) -> str:
        """An error finding's message with what real clients do (a surface may add it)."""
        return message

    def init_levels(
        self, rules: tuple[Rule, ...], severity: Mapping[str, str], ignore: frozenset[str]
    ) -> None:
        """Fill ``levels`` from the catalog's severities, the profile's and the ignore list."""
        self.rules = {r.code: r for r in rules}
        self.levels = {}
        for rule in rules:
            level = severity.get(rule.code, rule.severity)
            if rule.code in ignore:
                level = "off"
            self.levels[rule.code] = SEVERITY_RANK[level]

    def active(self, code: str) -> bool:
        """Whether a rule runs at all under this profile (not off, not ignored)."""
        return self.levels.get(code, 0) > 0

    def emit(
        self,
        code: str,
        chunk: int | None,
        message: str,
        *,
        path: str | None = None,
        text: str | None = None,
        minor: int = 0,
        needs_request: bool = False,
        key: str | None = None,
    ) -> None:
        """Record a finding; its severity comes from the profile, ``minor`` levels lower
        (``True`` = one) but never below info. The excerpt is ``text`` (default: the current
        payload) from near the JSON ``key`` (default: the last name in ``path``)."""
        level = self.levels.get(code, 0)
        if level == 0:
            return
        if minor and level > 1:
            level = max(1, level - minor)
        if needs_request and self.request is None:
            level = 1
            message += " (request unknown: reported as info)"
        if level == 3:
            message = self.hint(code, message)
        if text is None and chunk is not None and chunk == self.pos:
            text = self.raw
        self.findings.append(
            self.violation_type(
                code=code,
                rule=self.rules[code].name,
                severity=SEVERITY_NAMES[level],
                chunk=chunk,
                message=printable(message),
                path=printable(path) if path else path,
                excerpt=self._excerpt(text, key or last_key(path)),
            )
        )

    def _excerpt(self, text: str | None, key: str | None) -> str | None:
        """``excerpt_at(text, key)``, finding ``key`` in ``text`` once per text."""
        if text is None or not key:
            return excerpt_at(text, key)
        if text is not self._found_in or self._found is None:
            self._found_in = text
            self._found = {}
        at = self._found.get(key)
        if at is None:
            at = self._found[key] = text.find(f'"{key}"')
        return excerpt_at(text, key, at=at)

    def tally(
        self,
        key: str,
        chunk: int,
        message: str,
        field: str | None = None,
        path: str | None = None,
    ) -> None:
        """Count a finding that is reported once per stream with its first place."""
        t = self.tallies.get(key)
        if t is None:
            text = self._excerpt(self.raw, field or last_key(path))
            self.tallies[key] = Tally(chunk, message, text, path=path)
        else:
            t.count += 1

    def flush_tally(
        self,
        key: str,
        code: str,
        *,
        minor: bool = False,
        what: str = "chunk",
        needs_request: bool = False,
    ) -> None:
        """Emit a tallied finding, saying how many places share it."""
        t = self.tallies.pop(key, None)
        if t is None:
            return
        msg = t.message
        if t.count > 1:
            msg += f" ({t.count} {what}s in all)"
        self.emit(
            code,
            t.first,
            msg,
            path=t.path,
            text=t.excerpt,
            minor=minor,
            needs_request=needs_request,
        )


class FramingContext(Protocol):
    """What the byte-level checks read: framing facts, the HTTP envelope, the current event."""

    facts: FramingFacts | None
    http: HttpInfo | None
    http_body: bytes | None  # the body of a failed request (see failed_request)
    pos: int
    chunks: int
    last_event: SSEEvent | None

    def emit(
        self,
        code: str,
        chunk: int | None,
        message: str,
        *,
        path: str | None = None,
        text: str | None = None,
        minor: int = 0,
        needs_request: bool = False,
        key: str | None = None,
    ) -> None: ...

    def tally(
        self,
        key: str,
        chunk: int,
        message: str,
        field: str | None = None,
        path: str | None = None,
    ) -> None: ...

    def flush_tally(
        self,
        key: str,
        code: str,
        *,
        minor: bool = False,
        what: str = "chunk",
        needs_request: bool = False,
    ) -> None: ...


# ---------------------------------------------------------------- byte-level rules (both surfaces)


def utf8_end(ctx: FramingContext) -> None:
    """OAS001: invalid UTF-8 anywhere in the stream, and a leading BOM.

    SSE allows one leading BOM [whatwg-sse], but openai-python's decoder (``SSEDecoder`` in
    openai/_streaming.py, used by chat and Responses streams alike) keeps it: the first line's
    field name becomes ``\ufeffdata`` (or ``\ufeffevent``), an unknown field. A ``data:`` first
    line is lost with its event (client matrix: bom); an ``event:`` first line loses only the
    event name, which the SDKs do not read (they take ``type`` from the JSON): one level down.
    """
    facts = ctx.facts
    if facts is None:
        return
    if facts.invalid_utf8_count:
        offsets = ", ".join(str(o) for o in facts.invalid_utf8[:5])
        more = "" if facts.invalid_utf8_count <= 5 else f" and {facts.invalid_utf8_count - 5} more"
        ctx.emit(
            "OAS001",
            None,
            f"invalid UTF-8 at byte offset {offsets}{more}; openai-python's strict decode raises "
            "UnicodeDecodeError there",
        )
    if facts.bom:
        field = facts.bom_field
        if field == "data":
            ctx.emit(
                "OAS001",
                None,
                "a UTF-8 BOM opens the body; openai-python does not strip it and silently drops "
                "the first event (its `data:` line reads as an unknown field)",
            )
        else:
            what = f"`{field}:` line" if field else "line"
            ctx.emit(
                "OAS001",
                None,
                f"a UTF-8 BOM opens the body; openai-python does not strip it, so its first {what} "
                "reads as an unknown field (the event's data is kept)",
                minor=True,
            )


def failed_request(http: HttpInfo | None) -> bool:
    """A non-2xx answer that is not an event stream: the request failed before a stream began,
    so there is no stream to check (only OAS002 reports it, with the error's message)."""
    if http is None or http.status is None or 200 <= http.status < 300:
        return False
    ctype = (http.content_type or "").split(";", 1)[0].strip().lower()
    return ctype != "text/event-stream"


def error_message(body: bytes) -> str | None:
    """``error.message`` of an OpenAI-style error body (or a bare ``message``), if any."""
    try:
        obj = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return None
    err = obj.get("error") if isinstance(obj, dict) else None
    if isinstance(err, dict):
        obj = err
    msg = obj.get("message") if isinstance(obj, dict) else None
    if isinstance(msg, str):
        return msg
    return err if isinstance(err, str) else None


def http_end(ctx: FramingContext) -> None:
    """OAS002, strict level error (client matrix: every client raises on a failed request): a
    failed request is reported once with its message (the drivers hand its body over alone,
    ``http_body``); a wrong status or Content-Type on a stream is one level down (a warning)."""
    http = ctx.http
    if http is None:
        return
    status = http.status
    ctype = (http.content_type or "").split(";", 1)[0].strip().lower()
    is_sse = ctype == "text/event-stream"
    body = ctx.http_body
    if body is not None:
        msg = error_message(body)
        ctx.emit(
            "OAS002",
            None,
            f"the request failed: HTTP {status}"
            + (f": {msg!r}" if msg is not None else f" ({http.content_type or 'no Content-Type'})")
            + "; no stream to check (every client raises its status error)",
            text=body.decode("utf-8", "replace"),
            key="message" if msg is not None else None,
        )
        return
    if status is not None and status != 200:
        ctx.emit("OAS002", None, f"HTTP status {status} for a stream, expected 200", minor=True)
    if http.content_type is not None and not is_sse:
        ctx.emit(
            "OAS002",
            None,
            f"Content-Type {http.content_type!r}, expected text/event-stream"
            + ("" if ctx.chunks else "; a 200 error body makes the SDKs end the stream silently"),
            minor=True,
        )


def line_endings_end(ctx: FramingContext) -> None:
    """OAS003: LF line endings only."""
    facts = ctx.facts
    if facts is None:
        return
    if facts.crlf_offset is not None:
        ctx.emit(
            "OAS003",
            None,
            f"CRLF line endings (first at offset {facts.crlf_offset}); "
            "parsers that split on \\n\\n buffer or drop events",
        )
    if facts.cr_offset is not None:
        ctx.emit("OAS003", None, f"bare CR line endings (first at offset {facts.cr_offset})")


def data_field_event(ctx: FramingContext, ev: SSEEvent) -> None:
    """OAS004, per event: one ``data: `` line with its space."""
    if ev.nospace:
        ctx.tally(
            "OAS004-nospace",
            ctx.pos + 1,
            f"`data:` without a space (event at line {ev.line}); clients that slice "
            "`data: ` drop the event",
        )
    if ev.data_lines > 1:
        ctx.tally(
            "OAS004-multi",
            ctx.pos + 1,
            f"{ev.data_lines} `data:` lines in one event (line {ev.line})",
        )


def data_field_end(ctx: FramingContext) -> None:
    """OAS004, at the end: the tallies, and a last event not ended by a blank line."""
    ctx.flush_tally("OAS004-nospace", "OAS004", what="event")
    ctx.flush_tally("OAS004-multi", "OAS004", what="event")
    last = ctx.last_event
    if last is not None and not last.terminated and last.has_data:
        ctx.emit(
            "OAS004",
            None,
            f"the last event (line {last.line}) is not ended by a blank "
            "line; WHATWG parsers drop it",
            minor=last.data.strip() == "[DONE]",
        )


def comments_end(ctx: FramingContext) -> None:
    """OAS005: comment lines (keep-alives, processing notes)."""
    facts = ctx.facts
    if facts is None or not facts.comments:
        return
    first = facts.comments[0]
    ctx.emit(
        "OAS005",
        None,
        f"{len(facts.comments)} comment line(s), first at line "
        f"{first.line}: {excerpt(':' + first.text, 40)}",
    )


#: The byte-level rules every SSE surface shares (SPEC-responses.md names them too): one row
#: each, spliced into each surface's table.
BYTE_RULES: tuple[Rule, ...] = (
    Rule(
        "OAS001",
        "sse-utf8",
        "error",
        "byte",
        "the body is valid UTF-8, without a leading BOM (openai-python loses the first event)",
        on_end=utf8_end,
        framing=True,
    ),
    Rule(
        "OAS002",
        "sse-http-envelope",
        "error",
        "stream",
        "a stream is HTTP 200 text/event-stream (warn); a non-2xx answer is a failed "
        "request (error)",
        on_end=http_end,
        framing=True,
    ),
    Rule(
        "OAS003",
        "sse-line-endings",
        "warn",
        "byte",
        "lines end with LF; CRLF or bare CR reported once",
        on_end=line_endings_end,
        framing=True,
    ),
    Rule(
        "OAS004",
        "sse-data-field",
        "warn",
        "event",
        "one `data: ` line (with the space) per event",
        on_event=data_field_event,
        on_end=data_field_end,
        framing=True,
    ),
    Rule(
        "OAS005",
        "sse-comments",
        "info",
        "event",
        "comment lines are allowed and carry no data",
        on_end=comments_end,
        framing=True,
    ),
)
