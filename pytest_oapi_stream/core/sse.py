"""Incremental Server-Sent Events decoder: byte (or str) pieces -> :class:`SSEEvent`.

First stage of the flow ``bytes -> SSE events -> typed chunks -> rules -> report``.
It follows the WHATWG event-stream parsing rules, with the departures a stream
*checker* needs (documented on :class:`SSEDecoder`), and records framing facts
(:class:`FramingFacts`) that the rules report on.

Offsets
    Every offset is a **byte offset** into the whole stream as received, the
    stripped leading BOM included. ``str`` pieces are treated as already-decoded
    text: they are encoded to UTF-8 (lone surrogates with ``surrogatepass``, so they
    surface as invalid UTF-8) and then decoded exactly like ``bytes``, so offsets
    for ``str`` input count the UTF-8 bytes of the text, never characters.

Line numbers are 1-based; LF, CRLF and a bare CR each end one line.

Performance: the common framing (LF or CRLF line endings, ``data: {...}`` events
of one line each, ``: comment`` blocks) goes through a fast path that splits the
buffer on ``"\\n\\ndata: "`` and builds events directly (a piece that is exactly
one event takes a shorter path still); everything else falls back to a
line-by-line state machine. Both paths produce identical events and facts, and
the decoder is linear in the input size however the input is split (pieces are
never rescanned; an incomplete line waits as a list of pieces until it ends).
"""

from __future__ import annotations

import codecs
import contextlib
import re
import threading
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field

__all__ = [
    "MAX_INVALID_UTF8_OFFSETS",
    "Comment",
    "FramingFacts",
    "SSEDecoder",
    "SSEEvent",
    "aiter_sse",
    "iter_sse",
    "parse_sse",
]

MAX_INVALID_UTF8_OFFSETS = 20
"""How many invalid UTF-8 offsets :attr:`FramingFacts.invalid_utf8` keeps (all are counted)."""

_BOM = b"\xef\xbb\xbf"
_FIELD_END = re.compile(rb"[:\r\n]")  # where a line's field name ends
_FIELD_PEEK = 32  # bytes after a leading BOM read for the first field name
_ERRORS = "pytest_oapi_stream.core.sse.record"


@dataclass(slots=True, frozen=True)
class SSEEvent:
    """One dispatched SSE event, with where it sat in the stream so rules can point at it."""

    data: str
    """The ``data`` lines joined with ``"\\n"`` (``""`` when there was no data line)."""
    event: str | None
    """Value of the last ``event:`` line, ``None`` if none."""
    id: str | None
    """Value of this event's last valid ``id:`` line (one containing NUL is ignored)."""
    retry: int | None
    """Value of the last valid ``retry:`` line (ASCII digits only), ``None`` if none."""
    offset: int
    """Byte offset of the event's first field line in the whole stream."""
    line: int
    """1-based line number of the event's first field line."""
    data_lines: int
    """Number of ``data`` lines."""
    nospace: bool
    """Some ``data:`` line had a non-empty value not preceded by a space (``data:{...}``)."""
    other_fields: tuple[str, ...]
    """Names of fields other than data/event/id/retry, in order of appearance."""
    has_data: bool
    """The event had at least one ``data`` line (WHATWG would not dispatch it otherwise)."""
    terminated: bool
    """The event was ended by a blank line (``False``: flushed by ``close()`` at EOF)."""
    index: int
    """0-based count of events dispatched before this one."""


class _EventBuilder:
    """Mutable twin of :class:`SSEEvent` (same slots), turned into one by ``__class__`` swap.

    A frozen dataclass ``__init__`` costs ~1 µs for 12 fields (one ``object.__setattr__``
    per field); filling this twin and swapping its class costs a quarter of that, which
    matters on the hot path. Both classes have the same ``__slots__``, so the layouts
    are compatible and the result is a genuine, immutable ``SSEEvent``.
    """

    __slots__ = (
        "data",
        "data_lines",
        "event",
        "has_data",
        "id",
        "index",
        "line",
        "nospace",
        "offset",
        "other_fields",
        "retry",
        "terminated",
    )
    data: str
    event: str | None
    id: str | None
    retry: int | None
    offset: int
    line: int
    data_lines: int
    nospace: bool
    other_fields: tuple[str, ...]
    has_data: bool
    terminated: bool
    index: int


if sorted(_EventBuilder.__slots__) != sorted(SSEEvent.__slots__):  # pragma: no cover
    raise ImportError("_EventBuilder.__slots__ must name the fields of SSEEvent")


@dataclass(slots=True, frozen=True)
class Comment:
    """An SSE comment line (``:text``); recorded because keep-alives and provider notes matter."""

    text: str
    """The line without its leading ``:`` and one optional space."""
    offset: int
    """Byte offset of the comment line in the whole stream."""
    line: int
    """1-based line number of the comment line."""


@dataclass(slots=True, eq=True)
class FramingFacts:
    """Stream-level framing observations the rule checker reports on (filled while decoding)."""

    bom: bool = False
    """A UTF-8 BOM opened the stream (it was stripped; a BOM elsewhere stays in the text)."""
    bom_field: str | None = None
    """After a leading BOM: the field name of the first line (``""`` for a comment or an empty
    line), the field a client that keeps the BOM misreads; ``None`` without a BOM."""
    lf_offset: int | None = None
    """Byte offset of the first LF line ending (not part of a CRLF), ``None`` if none."""
    crlf_offset: int | None = None
    """Byte offset of the CR of the first CRLF line ending, ``None`` if none."""
    cr_offset: int | None = None
    """Byte offset of the first bare CR line ending, ``None`` if none."""
    invalid_utf8: list[int] = field(default_factory=list)
    """Byte offsets of the first :data:`MAX_INVALID_UTF8_OFFSETS` invalid UTF-8 sequences."""
    invalid_utf8_count: int = 0
    """Number of invalid UTF-8 sequences (each decoded as U+FFFD)."""
    comments: list[Comment] = field(default_factory=list)
    """Every comment line, in stream order."""
    total_bytes: int = 0
    """Bytes received (``str`` pieces count their UTF-8 encoding)."""
    lines: int = 0
    """Lines seen: terminated lines, plus an unterminated last line once closed."""
    events: int = 0
    """Events dispatched so far."""
    unterminated_line: bool = False
    """The stream ended inside a line (no line ending after its last bytes)."""

    @property
    def line_endings(self) -> frozenset[str]:
        """The line-ending styles seen, a subset of ``{"lf", "crlf", "cr"}``."""
        seen = []
        if self.lf_offset is not None:
            seen.append("lf")
        if self.crlf_offset is not None:
            seen.append("crlf")
        if self.cr_offset is not None:
            seen.append("cr")
        return frozenset(seen)


class _InvalidSink(threading.local):
    """Per-thread target of the codec error handler while a slow decode runs."""

    facts: FramingFacts | None = None
    base: int = 0


_sink = _InvalidSink()
_WINDOW = 1 << 16


def _data_event(
    data: str, offset: int, line: int, index: int, event: str | None = None
) -> SSEEvent:
    """Build the common event (one ``data: `` line, blank-line terminated, optionally after
    one ``event: `` line) quickly."""
    ev = object.__new__(_EventBuilder)
    ev.data = data
    ev.event = event
    ev.id = None
    ev.retry = None
    ev.offset = offset
    ev.line = line
    ev.data_lines = 1
    ev.nospace = False
    ev.other_fields = ()
    ev.has_data = True
    ev.terminated = True
    ev.index = index
    ev.__class__ = SSEEvent  # type: ignore[assignment]
    return ev  # type: ignore[return-value]


def _record_invalid(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: behave like ``"replace"`` and record the sequence's offset."""
    if not isinstance(exc, UnicodeDecodeError):  # pragma: no cover - decode-only handler
        raise exc
    facts = _sink.facts
    if facts is None:  # pragma: no cover - only installed around _decode_recording
        return "\ufffd", exc.end
    facts.invalid_utf8_count += 1
    if len(facts.invalid_utf8) < MAX_INVALID_UTF8_OFFSETS:
        facts.invalid_utf8.append(_sink.base + exc.start)
        return "\ufffd", exc.end
    # Offsets are no longer kept: finish in C rather than one Python call per bad byte.
    rest = exc.object[exc.end :]
    return "\ufffd" + _replace_counting(rest, facts), len(exc.object)


def _replace_counting(raw: bytes, facts: FramingFacts) -> str:
    """Decode with ``"replace"`` and only count the invalid sequences (offsets list full).

    Each invalid sequence becomes one U+FFFD, and an encoded U+FFFD (EF BF BD) in the
    input always decodes as itself (EF is never a continuation byte), so the count is
    the U+FFFD count of the text minus the EF BF BD count of the bytes.
    """
    text = raw.decode("utf-8", "replace")
    facts.invalid_utf8_count += text.count("\ufffd") - raw.count(b"\xef\xbf\xbd")
    return text


codecs.register_error(_ERRORS, _record_invalid)


def _decode_recording(raw: bytes, offset: int, facts: FramingFacts) -> str:
    """Decode ``raw`` (which sits at byte ``offset``) with replacement, recording bad bytes."""
    if len(facts.invalid_utf8) >= MAX_INVALID_UTF8_OFFSETS:
        return _replace_counting(raw, facts)
    _sink.facts = facts
    _sink.base = offset
    try:
        return raw.decode("utf-8", _ERRORS)
    finally:
        _sink.facts = None


def _to_bytes(piece: object) -> bytes:
    """Normalise one input piece to bytes; ``TypeError`` names any other type."""
    if isinstance(piece, bytes):
        return piece
    if isinstance(piece, str):
        try:
            return piece.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: keep them, as invalid UTF-8
            return piece.encode("utf-8", "surrogatepass")
    if isinstance(piece, (bytearray, memoryview)):
        return bytes(piece)
    raise TypeError(f"SSE input pieces must be bytes or str, not {type(piece).__name__}")


class SSEDecoder:
    """Incremental SSE decoder: ``feed()`` pieces split anywhere, then ``close()``.

    Follows the WHATWG event-stream rules (UTF-8 with replacement, one leading BOM
    stripped, LF/CRLF/CR line endings, ``:`` comments, ``field: value`` with one
    optional space, ``data``/``event``/``id``/``retry`` fields) except that, because a
    checker must see what a client would choke on:

    * an event with fields but no ``data`` line is dispatched (``has_data=False``);
    * a pending event not ended by a blank line is dispatched by ``close()``
      (``terminated=False``), and an unterminated last line is still parsed;
    * ``id`` is per event (this event's own ``id:`` line), not the sticky
      last-event-id buffer; unknown field names are kept in ``other_fields``.

    Any field line (even one whose value is ignored, such as ``retry: x``) opens an
    event; comment lines do not. The events returned across all ``feed()``/``close()``
    calls, and the final :attr:`facts`, do not depend on how the input was split.
    Nothing raises on content; only a piece that is not bytes/str raises ``TypeError``.
    """

    __slots__ = (
        "_closed",
        "_cr_pending",
        "_data",
        "_ev_event",
        "_ev_id",
        "_ev_line",
        "_ev_nospace",
        "_ev_offset",
        "_ev_other",
        "_ev_retry",
        "_head",
        "_index",
        "_line",
        "_pos",
        "_started",
        "_tail",
        "facts",
    )

    facts: FramingFacts
    """Framing facts gathered so far; final once :meth:`close` has run."""

    def __init__(self) -> None:
        """Create a decoder with empty state and fresh :class:`FramingFacts`."""
        self.facts = FramingFacts()
        self._closed = False
        self._started = False  # leading-BOM check done
        self._head = b""  # first bytes, held until the BOM check can be made
        self._tail: list[bytes] = []  # pieces of the current, still incomplete line
        self._pos = 0  # byte offset of the current (incomplete) line
        self._line = 1  # its 1-based line number
        self._cr_pending = False  # the byte before _pos is a CR whose LF may come next
        self._index = 0
        # the event under construction; _ev_offset < 0 means none is pending
        self._ev_offset = -1
        self._ev_line = 0
        self._data: list[str] = []
        self._ev_event: str | None = None
        self._ev_id: str | None = None
        self._ev_retry: int | None = None
        self._ev_nospace = False
        self._ev_other: list[str] = []

    # ------------------------------------------------------------------ public API

    def feed(self, piece: bytes | bytearray | memoryview | str) -> list[SSEEvent]:
        """Decode one more piece and return the events it completed (possibly none).

        Raises ``TypeError`` for a piece that is neither bytes-like nor str, and
        ``ValueError`` if called after :meth:`close`.
        """
        data = piece if type(piece) is bytes else _to_bytes(piece)
        if self._closed:
            raise ValueError("SSEDecoder.feed() called after close()")
        if not data:
            return []
        facts = self.facts
        n = len(data)
        facts.total_bytes += n
        if (
            n - 2 == data.find(b"\n")
            and data[-1] == 0x0A
            and data.startswith(b"data: ")
            and self._ev_offset < 0
            and not self._tail
            and self._started
            and not self._cr_pending
            and data.find(b"\r") < 0
        ):
            # The live-streaming case: the piece is exactly one "data: ...\n\n" event.
            pos = self._pos
            try:
                text = data[6:-2].decode()
            except UnicodeDecodeError:
                text = _decode_recording(data[6:-2], pos + 6, facts)
            if facts.lf_offset is None:
                facts.lf_offset = pos + n - 2
            index = self._index
            self._index = facts.events = index + 1
            self._pos = pos + n
            self._line += 2
            facts.lines = self._line - 1
            return [_data_event(text, pos, self._line - 2, index)]
        if not self._started:
            data = self._check_bom(data, final=False)
            if not data:
                return []
        out: list[SSEEvent] = []
        n = len(data)
        if n > _WINDOW * 2:
            # A huge piece (a whole recorded body) goes through in windows: the split parts
            # and decoded strings of one window stay in cache, which is measurably faster.
            view = memoryview(data)
            for start in range(0, n, _WINDOW):
                self._process(bytes(view[start : start + _WINDOW]), out)
        else:
            self._process(data, out)
        self.facts.lines = self._line - 1
        return out

    def _process(self, data: bytes, out: list[SSEEvent]) -> None:
        """Route ``data`` (after the pending tail) to the LF, CRLF or general line splitter."""
        if self._cr_pending:
            self._cr_pending = False
            if data[0] == 0x0A:  # the CR that ended the previous piece was half of a CRLF
                if self.facts.crlf_offset is None:
                    self.facts.crlf_offset = self._pos - 1
                self._pos += 1
                data = data[1:]
                if not data:
                    return
            elif self.facts.cr_offset is None:
                self.facts.cr_offset = self._pos - 1
        # bytes.find, not ``in``: on CPython 3.11 ``b"x" in data`` is several times slower
        has_cr = data.find(b"\r") >= 0
        if not has_cr and data.find(b"\n") < 0:
            self._tail.append(data)  # no line ends here: nothing to do until one arrives
            return
        if self._tail:
            self._tail.append(data)
            data = b"".join(self._tail)
            self._tail = []
        if not has_cr:
            self._run_lf(data, False, out)
            return
        lf = data.replace(b"\r\n", b"\n")
        if lf.find(b"\r") < 0 and len(data) - len(lf) == lf.count(b"\n"):
            self._run_lf(lf, True, out)  # CRLF only: the fast path with shifted offsets
        else:
            self._run_general(data, out)

    def close(self) -> list[SSEEvent]:
        """Flush the last line and any unterminated event at EOF; idempotent."""
        if self._closed:
            return []
        self._closed = True
        out: list[SSEEvent] = []
        facts = self.facts
        if not self._started:
            data = self._check_bom(b"", final=True)
            if data:
                self._tail.append(data)
        if self._cr_pending:
            self._cr_pending = False
            if facts.cr_offset is None:
                facts.cr_offset = self._pos - 1
        if self._tail:
            raw = b"".join(self._tail)
            self._tail = []
            facts.unterminated_line = True
            self._line_slow(raw, self._pos, self._line, out)
            self._pos += len(raw)
            self._line += 1
        facts.lines = self._line - 1
        if self._ev_offset >= 0:
            self._dispatch(False, out)
        return out

    # ------------------------------------------------------------------ internals

    def _check_bom(self, data: bytes, final: bool) -> bytes:
        """Hold the first bytes until a leading BOM can be told apart, then strip it."""
        head = self._head + data
        if not final and len(head) < 3 and _BOM.startswith(head):
            self._head = head
            return b""
        if head.startswith(_BOM):
            first = _FIELD_END.search(head, 3, 3 + _FIELD_PEEK)
            if first is None and not final and len(head) < 3 + _FIELD_PEEK:
                self._head = head  # hold until the first line's field name is known
                return b""
            end = first.start() if first is not None else min(len(head), 3 + _FIELD_PEEK)
            self.facts.bom = True
            self.facts.bom_field = head[3:end].decode("utf-8", "replace")
            self._head = b""
            self._started = True
            self._pos = 3
            return head[3:]
        self._head = b""
        self._started = True
        return head

    def _run_lf(self, buf: bytes, crlf: bool, out: list[SSEEvent]) -> None:
        """Process ``buf``, whose line endings are all LF (``crlf``: all were CRLF, now LF).

        ``buf`` starts at the beginning of a line. It is split on ``"\\n\\ndata: "``, so
        that in a regular stream every part between the first and the last is exactly
        one event's payload; those become events without any per-line work. Offsets
        count original bytes: with ``crlf`` each LF in ``buf`` stands for two bytes.
        """
        facts = self.facts
        if crlf:
            if facts.crlf_offset is None:  # no line ending precedes it: no shift
                facts.crlf_offset = self._pos + buf.find(b"\n")
        elif facts.lf_offset is None:
            facts.lf_offset = self._pos + buf.find(b"\n")
        eol = 2 if crlf else 1
        parts = buf.split(b"\n\ndata: ")
        k = len(parts) - 1
        if k == 0:
            self._segment(buf, eol, False, out)
            return
        first = parts[0]
        if self._ev_offset < 0 and first.find(b"\n") < 0:
            self._block(first, eol, out)  # the usual case: one line, then the blank line
        else:
            self._segment(first, eol, True, out)
        if k > 1:
            pos = self._pos
            ln = self._line
            index = self._index
            step = 6 + 2 * eol  # the blank line and the next "data: "
            new = object.__new__
            builder = _EventBuilder
            event_cls = SSEEvent
            for i in range(1, k):
                p = parts[i]
                if p.find(b"\n") < 0:  # one data line: build the event directly
                    try:
                        text = p.decode()
                    except UnicodeDecodeError:
                        text = _decode_recording(p, pos + 6, facts)
                    ev = new(builder)
                    ev.data = text
                    ev.event = None
                    ev.id = None
                    ev.retry = None
                    ev.offset = pos
                    ev.line = ln
                    ev.data_lines = 1
                    ev.nospace = False
                    ev.other_fields = ()
                    ev.has_data = True
                    ev.terminated = True
                    ev.index = index
                    ev.__class__ = event_cls  # type: ignore[assignment]
                    out.append(ev)  # type: ignore[arg-type]
                    index += 1
                    pos += len(p) + step
                    ln += 2
                else:
                    self._pos = pos
                    self._line = ln
                    self._index = index
                    self._segment(b"data: " + p, eol, True, out)
                    pos = self._pos
                    ln = self._line
                    index = self._index
            self._pos = pos
            self._line = ln
            self._index = facts.events = index
        last = parts[k]
        if last.find(b"\n") < 0:  # the usual case: an event cut inside its data line
            self._tail.append(b"data: " + last)
        else:
            self._segment(b"data: " + last, eol, False, out)

    def _segment(self, seg: bytes, eol: int, complete: bool, out: list[SSEEvent]) -> None:
        """Process LF-ended ``seg`` block by block (blocks are separated by blank lines).

        With ``complete`` a blank line follows ``seg``, so its last block is complete too;
        otherwise the last block holds complete lines of a still open event and then the
        incomplete line, which is kept for the next piece.
        """
        blocks = seg.split(b"\n\n")
        n = len(blocks) if complete else len(blocks) - 1
        i = 0
        if n > 0 and self._ev_offset >= 0:  # an event is open: its lines continue here
            self._block_lines(blocks[0], eol, True, out)
            i = 1
        while i < n:
            self._block(blocks[i], eol, out)
            i += 1
        if not complete:
            rest = blocks[-1]
            nl = rest.rfind(b"\n")
            if nl >= 0:
                self._block_lines(rest[:nl], eol, False, out)
                rest = rest[nl + 1 :]
            if rest:
                self._tail.append(rest)

    def _block(self, block: bytes, eol: int, out: list[SSEEvent]) -> None:
        """Process one block of lines followed by a blank line, with no event open."""
        if not block:  # two blank lines in a row, nothing to dispatch
            self._pos += 2 * eol
            self._line += 2
            return
        if block.find(b"\n") < 0:
            pos = self._pos
            if block[:6] == b"data: ":
                try:
                    text = block[6:].decode()
                except UnicodeDecodeError:
                    text = _decode_recording(block[6:], pos + 6, self.facts)
                index = self._index
                out.append(_data_event(text, pos, self._line, index))
                self._index = self.facts.events = index + 1
                self._pos = pos + len(block) + 2 * eol
                self._line += 2
                return
            if block[:1] == b":":
                start = 2 if block[1:2] == b" " else 1
                try:
                    text = block[start:].decode()
                except UnicodeDecodeError:
                    text = _decode_recording(block[start:], pos + start, self.facts)
                self.facts.comments.append(Comment(text, pos, self._line))
                self._pos = pos + len(block) + 2 * eol
                self._line += 2
                return
        elif eol == 1 and block[:7] == b"event: ":
            # `event: NAME` + `data: {...}`: every event of a Responses stream at OpenAI.
            nl = block.find(b"\n")
            if block[nl + 1 : nl + 7] == b"data: " and block.find(b"\n", nl + 1) < 0:
                try:
                    name = block[7:nl].decode()
                    text = block[nl + 7 :].decode()
                except UnicodeDecodeError:
                    pass  # the line-by-line path records where
                else:
                    pos = self._pos
                    index = self._index
                    out.append(_data_event(text, pos, self._line, index, name))
                    self._index = self.facts.events = index + 1
                    self._pos = pos + len(block) + 2
                    self._line += 3
                    return
        self._block_lines(block, eol, True, out)

    def _block_lines(self, block: bytes, eol: int, blank: bool, out: list[SSEEvent]) -> None:
        """Feed each line of LF-separated ``block`` (and a blank one if ``blank``) to the parser."""
        pos = self._pos
        ln = self._line
        for raw in block.split(b"\n"):
            self._line_slow(raw, pos, ln, out)
            pos += len(raw) + eol
            ln += 1
        if blank:
            self._line_slow(b"", pos, ln, out)
            pos += eol
            ln += 1
        self._pos = pos
        self._line = ln

    def _run_general(self, buf: bytes, out: list[SSEEvent]) -> None:
        """Process ``buf`` line by line with any mix of LF, CRLF and bare CR endings."""
        facts = self.facts
        pos = self._pos
        ln = self._line
        lines = buf.splitlines(keepends=True)
        end = len(lines) - 1
        for k, raw in enumerate(lines):
            last2 = raw[-2:]
            if last2 == b"\r\n":
                if facts.crlf_offset is None:
                    facts.crlf_offset = pos + len(raw) - 2
                body = raw[:-2]
            elif last2[-1:] == b"\n":
                if facts.lf_offset is None:
                    facts.lf_offset = pos + len(raw) - 1
                body = raw[:-1]
            elif last2[-1:] == b"\r":
                if k == end:  # its LF, if any, is in the next piece
                    self._cr_pending = True
                elif facts.cr_offset is None:
                    facts.cr_offset = pos + len(raw) - 1
                body = raw[:-1]
            else:  # the incomplete last line
                self._tail.append(raw)
                break
            self._line_slow(body, pos, ln, out)
            pos += len(raw)
            ln += 1
        self._pos = pos
        self._line = ln

    def _line_slow(self, raw: bytes, offset: int, ln: int, out: list[SSEEvent]) -> None:
        """Apply one line (without its ending) at byte ``offset`` to the event state machine."""
        if not raw:
            if self._ev_offset >= 0:
                self._dispatch(True, out)
            return
        facts = self.facts
        if raw[0] == 0x3A:  # ':' comment
            start = 2 if raw[1:2] == b" " else 1
            facts.comments.append(Comment(self._decode(raw[start:], offset + start), offset, ln))
            return
        colon = raw.find(b":")
        if colon < 0:
            name = raw
            vstart = len(raw)
        else:
            name = raw[:colon]
            vstart = colon + 2 if raw[colon + 1 : colon + 2] == b" " else colon + 1
        if self._ev_offset < 0:
            self._ev_offset = offset
            self._ev_line = ln
        if name == b"data":
            value = self._decode(raw[vstart:], offset + vstart)
            self._data.append(value)
            if value and vstart == colon + 1:
                self._ev_nospace = True
        elif name == b"event":
            self._ev_event = self._decode(raw[vstart:], offset + vstart)
        elif name == b"id":
            value = self._decode(raw[vstart:], offset + vstart)
            if "\x00" not in value:
                self._ev_id = value
        elif name == b"retry":
            value = self._decode(raw[vstart:], offset + vstart)
            if value.isascii() and value.isdigit():
                with contextlib.suppress(ValueError):  # more digits than int() takes
                    self._ev_retry = int(value)
        else:
            self._ev_other.append(self._decode(name, offset))
            self._decode(raw[vstart:], offset + vstart)  # unused, but bad bytes are recorded

    def _decode(self, raw: bytes, offset: int) -> str:
        """Decode UTF-8 with replacement, recording invalid sequences at their offsets."""
        try:
            return raw.decode()
        except UnicodeDecodeError:
            return _decode_recording(raw, offset, self.facts)

    def _dispatch(self, terminated: bool, out: list[SSEEvent]) -> None:
        """Emit the pending event and reset the event state."""
        data = self._data
        out.append(
            SSEEvent(
                data="\n".join(data),
                event=self._ev_event,
                id=self._ev_id,
                retry=self._ev_retry,
                offset=self._ev_offset,
                line=self._ev_line,
                data_lines=len(data),
                nospace=self._ev_nospace,
                other_fields=tuple(self._ev_other),
                has_data=bool(data),
                terminated=terminated,
                index=self._index,
            )
        )
        self._index += 1
        self.facts.events = self._index
        self._ev_offset = -1
        self._data = []
        self._ev_event = None
        self._ev_id = None
        self._ev_retry = None
        self._ev_nospace = False
        if self._ev_other:
            self._ev_other = []


def iter_sse(
    pieces: Iterable[bytes | str] | bytes | str, decoder: SSEDecoder | None = None
) -> Iterator[SSEEvent]:
    """Yield the events of a sync iterable of pieces as they complete, then close.

    A bare ``bytes``/``str`` is taken as one piece. Pass ``decoder`` to read its
    :attr:`SSEDecoder.facts` afterwards.
    """
    dec = SSEDecoder() if decoder is None else decoder
    if isinstance(pieces, (bytes, str)):
        yield from dec.feed(pieces)
    else:
        for piece in pieces:
            yield from dec.feed(piece)
    yield from dec.close()


async def aiter_sse(
    pieces: AsyncIterable[bytes | str], decoder: SSEDecoder | None = None
) -> AsyncIterator[SSEEvent]:
    """Async twin of :func:`iter_sse` for async iterables (httpx ``aiter_bytes()`` etc.)."""
    dec = SSEDecoder() if decoder is None else decoder
    async for piece in pieces:
        for event in dec.feed(piece):
            yield event
    for event in dec.close():
        yield event


def parse_sse(data: bytes | str) -> tuple[list[SSEEvent], FramingFacts]:
    """Decode a whole stream at once; returns its events and final framing facts."""
    dec = SSEDecoder()
    events = dec.feed(data)
    events += dec.close()
    return events, dec.facts
