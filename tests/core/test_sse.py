"""Tests for the SSE decoder (pytest_oapi_stream.core.sse): WHATWG rules, framing facts, splits."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_oapi_stream.core.sse import (
    MAX_INVALID_UTF8_OFFSETS,
    Comment,
    FramingFacts,
    SSEDecoder,
    SSEEvent,
    aiter_sse,
    iter_sse,
    parse_sse,
)

DATA_DIR = Path(__file__).parents[1] / "data"


def feed_all(pieces: Iterable[bytes | str]) -> tuple[list[SSEEvent], FramingFacts]:
    """Feed pieces one by one, then close; return all events and the facts."""
    dec = SSEDecoder()
    events: list[SSEEvent] = []
    for piece in pieces:
        events += dec.feed(piece)
    events += dec.close()
    return events, dec.facts


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """Split ``data`` at the given cut points (clamped, sorted, deduplicated)."""
    points = sorted({min(max(c, 0), len(data)) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def every_split(data: bytes) -> list[list[bytes]]:
    """All two-piece splits plus the byte-by-byte split of a short stream."""
    out = [[data[:i], data[i:]] for i in range(len(data) + 1)]
    out.append([data[i : i + 1] for i in range(len(data))])
    return out


def ev(data: str, offset: int, line: int, index: int, **kw: object) -> SSEEvent:
    """An expected event with the defaults of a one-line, blank-terminated data event."""
    fields: dict[str, object] = {
        "data": data,
        "event": None,
        "id": None,
        "retry": None,
        "offset": offset,
        "line": line,
        "data_lines": 1,
        "nospace": False,
        "other_fields": (),
        "has_data": True,
        "terminated": True,
        "index": index,
    }
    fields.update(kw)
    return SSEEvent(**fields)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- basics


def test_single_data_event() -> None:
    events, facts = parse_sse(b'data: {"a":1}\n\n')
    assert events == [ev('{"a":1}', 0, 1, 0)]
    assert facts.line_endings == frozenset({"lf"})
    assert facts.lf_offset == 13
    assert facts.crlf_offset is None and facts.cr_offset is None
    assert facts.lines == 2 and facts.events == 1 and facts.total_bytes == 15
    assert not facts.bom and not facts.unterminated_line
    assert facts.invalid_utf8 == [] and facts.invalid_utf8_count == 0


def test_offsets_lines_and_indexes_of_successive_events() -> None:
    data = b"data: a\n\ndata: bb\n\n\n\ndata: c\n\n"
    events, facts = parse_sse(data)
    assert events == [ev("a", 0, 1, 0), ev("bb", 9, 3, 1), ev("c", 21, 7, 2)]
    assert facts.lines == 8
    for e in events:
        assert data[e.offset :].startswith(b"data: ")


def test_event_is_frozen_slotted_dataclass() -> None:
    (e,), _ = parse_sse(b"data: x\n\n")
    assert type(e) is SSEEvent
    assert not hasattr(e, "__dict__")
    with pytest.raises(AttributeError):
        e.data = "y"  # type: ignore[misc]
    # fast-path and slow-path events compare and hash alike
    (slow,), _ = parse_sse(b"data: x\nevent: m\n\n")
    assert slow.data == e.data and hash(e) == hash(ev("x", 0, 1, 0))


def test_blank_lines_only_give_no_events() -> None:
    for data in (b"", b"\n", b"\n\n\n\n", b"\r\r\r", b"\r\n\r\n", b"\n\r\n\r"):
        events, facts = parse_sse(data)
        assert events == []
        assert facts.events == 0


def test_multiline_data_joined_with_lf() -> None:
    events, _ = parse_sse(b"data: first\ndata: second\ndata:\ndata: fourth\n\n")
    assert events == [ev("first\nsecond\n\nfourth", 0, 1, 0, data_lines=4)]


def test_data_without_space_sets_nospace() -> None:
    events, _ = parse_sse(b'data:{"a":1}\n\ndata: {"b":2}\n\ndata:\n\n')
    assert [e.data for e in events] == ['{"a":1}', '{"b":2}', ""]
    assert [e.nospace for e in events] == [True, False, False]


def test_only_one_space_after_colon_is_stripped() -> None:
    events, _ = parse_sse(b"data:  two\n\nevent:\tx\ndata\n\n")
    assert events[0].data == " two" and not events[0].nospace
    assert events[1].event == "\tx"
    assert events[1].data == "" and events[1].has_data and events[1].data_lines == 1


def test_line_without_colon_is_a_field_with_empty_value() -> None:
    events, _ = parse_sse(b"data\ndata\n\nevent\n\n")
    assert events[0].data == "\n" and events[0].data_lines == 2
    assert events[1].event == "" and not events[1].has_data


def test_event_id_retry_fields() -> None:
    data = b"event: message\nid: 42\nretry: 3000\ndata: x\n\n"
    (e,), _ = parse_sse(data)
    assert e == ev("x", 0, 1, 0, event="message", id="42", retry=3000)


def test_last_field_value_wins_and_id_is_per_event() -> None:
    events, _ = parse_sse(b"event: a\nevent: b\nid: 1\nid: 2\ndata: x\n\ndata: y\n\n")
    assert (events[0].event, events[0].id) == ("b", "2")
    assert (events[1].event, events[1].id) == (None, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"0", 0),
        (b"1500", 1500),
        (b"007", 7),
        (b"", None),
        (b"12a", None),
        (b"-5", None),
        (b"1.5", None),
        (b" 10", None),  # one space is the separator, the second makes it invalid
        ("١٢".encode(), None),  # non-ASCII digits do not count
        (b"9" * 5000, None),  # beyond int()'s digit limit: ignored, not raised
    ],
)
def test_retry_digits_only(value: bytes, expected: int | None) -> None:
    (e,), _ = parse_sse(b"retry: " + value + b"\ndata: x\n\n")
    assert e.retry == expected


def test_invalid_retry_does_not_clear_valid_one() -> None:
    (e,), _ = parse_sse(b"retry: 10\nretry: x\ndata: y\n\n")
    assert e.retry == 10


def test_id_containing_nul_is_ignored() -> None:
    (e,), _ = parse_sse(b"id: ok\nid: a\x00b\ndata: x\n\n")
    assert e.id == "ok"
    (e2,), _ = parse_sse(b"id: a\x00b\ndata: x\n\n")
    assert e2.id is None
    (e3,), _ = parse_sse(b"id\ndata: x\n\n")
    assert e3.id == ""


def test_unknown_fields_recorded_in_order() -> None:
    (e,), _ = parse_sse(b"foo: 1\ndata: x\nData: y\nx-bar\nfoo: 2\n\n")
    assert e.other_fields == ("foo", "Data", "x-bar", "foo")
    assert e.data == "x" and e.data_lines == 1


def test_event_without_data_is_dispatched() -> None:
    events, facts = parse_sse(b"event: ping\n\ndata: x\n\n")
    assert events == [
        ev("", 0, 1, 0, event="ping", data_lines=0, has_data=False),
        ev("x", 13, 3, 1),
    ]
    assert facts.events == 2


def test_ignored_field_values_still_open_an_event() -> None:
    events, _ = parse_sse(b"retry: soon\n\n")
    assert events == [ev("", 0, 1, 0, data_lines=0, has_data=False)]


def test_unterminated_last_event_dispatched_at_close() -> None:
    data = b'data: {"a":1}\n\ndata: [DONE]\n'
    dec = SSEDecoder()
    assert dec.feed(data) == [ev('{"a":1}', 0, 1, 0)]
    assert dec.close() == [ev("[DONE]", 15, 3, 1, terminated=False)]
    assert dec.close() == []  # idempotent
    assert not dec.facts.unterminated_line
    assert dec.facts.lines == 3


def test_last_line_without_line_ending_is_parsed() -> None:
    events, facts = parse_sse(b"data: a\n\ndata: [DONE]")
    assert events[-1] == ev("[DONE]", 9, 3, 1, terminated=False)
    assert facts.unterminated_line
    assert facts.lines == 3


def test_feed_after_close_is_an_error() -> None:
    dec = SSEDecoder()
    dec.close()
    with pytest.raises(ValueError, match="after close"):
        dec.feed(b"data: x\n\n")


# --------------------------------------------------------------------------- comments


def test_comments_recorded_with_offsets_and_not_dispatched() -> None:
    data = b": keep-alive\n\n:no-space\ndata: x\n:  two spaces\n\n:\n"
    events, facts = parse_sse(data)
    assert events == [ev("x", 24, 4, 0)]
    assert facts.comments == [
        Comment("keep-alive", 0, 1),
        Comment("no-space", 14, 3),
        Comment(" two spaces", 32, 5),
        Comment("", 47, 7),
    ]
    for c in facts.comments:
        assert data[c.offset : c.offset + 1] == b":"


def test_comment_only_block_dispatches_nothing() -> None:
    events, facts = parse_sse(b": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\n")
    assert events == []
    assert [c.text for c in facts.comments] == ["OPENROUTER PROCESSING"] * 2


def test_comment_before_first_field_does_not_move_event_offset() -> None:
    (e,), facts = parse_sse(b": hi\ndata: x\n\n")
    assert (e.offset, e.line) == (5, 2)
    assert facts.comments == [Comment("hi", 0, 1)]


# --------------------------------------------------------------------------- line endings


def test_crlf_stream() -> None:
    data = b"data: a\r\n\r\n: c\r\n\r\ndata: b\r\nevent: e\r\n\r\n"
    events, facts = parse_sse(data)
    assert events == [ev("a", 0, 1, 0), ev("b", 18, 5, 1, event="e")]
    assert facts.line_endings == frozenset({"crlf"})
    assert facts.crlf_offset == 7
    assert facts.lf_offset is None and facts.cr_offset is None
    assert facts.comments == [Comment("c", 11, 3)]
    assert facts.lines == 7


def test_cr_only_stream() -> None:
    data = b"data: a\r\rdata: b\rdata: c\r\r"
    events, facts = parse_sse(data)
    assert events == [ev("a", 0, 1, 0), ev("b\nc", 9, 3, 1, data_lines=2)]
    assert facts.line_endings == frozenset({"cr"})
    assert facts.cr_offset == 7
    assert facts.lf_offset is None and facts.crlf_offset is None
    assert facts.lines == 5


def test_crlf_split_between_cr_and_lf_counts_once() -> None:
    pieces = [b"data: a\r", b"\n\r", b"\ndata: b\r", b"\n", b"\r", b"\n"]
    events, facts = feed_all(pieces)
    assert events == [ev("a", 0, 1, 0), ev("b", 11, 3, 1)]
    assert facts.line_endings == frozenset({"crlf"})
    assert facts.cr_offset is None
    assert facts.crlf_offset == 7
    assert facts.lines == 4
    assert (events, facts) == parse_sse(b"".join(pieces))


def test_cr_at_end_of_piece_followed_by_other_byte_is_bare_cr() -> None:
    events, facts = feed_all([b"data: a\r", b"\r", b"data: b\n\n"])
    assert events == [ev("a", 0, 1, 0), ev("b", 9, 3, 1)]
    assert facts.cr_offset == 7 and facts.crlf_offset is None and facts.lf_offset == 16
    assert facts.line_endings == frozenset({"cr", "lf"})


def test_cr_at_very_end_of_stream_is_bare_cr() -> None:
    events, facts = feed_all([b"data: a\r"])
    assert events == [ev("a", 0, 1, 0, terminated=False)]
    assert facts.cr_offset == 7 and facts.line_endings == frozenset({"cr"})
    assert not facts.unterminated_line


def test_mixed_line_endings_record_first_of_each() -> None:
    data = b"data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\n"
    events, facts = parse_sse(data)
    assert [e.data for e in events] == ["a", "b", "c", "d"]
    assert facts.lf_offset == 7
    assert facts.crlf_offset == 16
    assert facts.cr_offset == 27
    assert facts.line_endings == frozenset({"lf", "crlf", "cr"})
    assert [e.offset for e in events] == [0, 9, 20, 29]
    assert [e.line for e in events] == [1, 3, 5, 7]


def test_lf_then_cr_is_two_line_endings() -> None:
    events, facts = parse_sse(b"data: a\n\rdata: b\n\n")
    assert [e.data for e in events] == ["a", "b"]
    assert facts.lf_offset == 7 and facts.cr_offset == 8 and facts.crlf_offset is None


# --------------------------------------------------------------------------- BOM and UTF-8


def test_leading_bom_stripped_and_recorded() -> None:
    events, facts = parse_sse(b"\xef\xbb\xbfdata: x\n\n")
    assert events == [ev("x", 3, 1, 0)]
    assert facts.bom
    assert facts.total_bytes == 12


def test_leading_bom_split_across_pieces() -> None:
    events, facts = feed_all([b"\xef", b"\xbb", b"\xbfdata: x\n\n"])
    assert events == [ev("x", 3, 1, 0)] and facts.bom


@pytest.mark.parametrize(
    ("pieces", "field_"),
    [
        ([b"\xef\xbb\xbfdata: x\n\n"], "data"),
        ([b"\xef\xbb\xbf", b"ev", b"ent: a\ndata: x\n\n"], "event"),
        ([b"\xef\xbb\xbf: hi\n\ndata: x\n\n"], ""),
        ([b"\xef\xbb\xbf", b"da"], "da"),  # the stream ends inside the first field name
        ([b"data: x\n\n"], None),
    ],
)
def test_the_field_after_a_leading_bom_is_recorded(pieces: list[bytes], field_: str | None) -> None:
    # The first line's field name is what a client that keeps the BOM misreads (OAS001).
    events, facts = feed_all(pieces)
    assert facts.bom_field == field_
    assert facts.bom is (field_ is not None)
    whole, _ = parse_sse(b"".join(pieces))
    assert events == whole


def test_only_one_leading_bom_is_stripped() -> None:
    (e,), facts = parse_sse(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n")
    assert facts.bom
    assert e.other_fields == ("\ufeffdata",) and not e.has_data


def test_bom_in_the_middle_is_kept() -> None:
    events, facts = parse_sse(b"data: a\xef\xbb\xbfb\n\n\xef\xbb\xbfdata: c\n\n")
    assert not facts.bom
    assert events[0].data == "a\ufeffb"
    assert events[1].other_fields == ("\ufeffdata",)


def test_bom_prefix_alone_is_invalid_utf8() -> None:
    events, facts = feed_all([b"\xef\xbb"])
    assert not facts.bom
    assert facts.invalid_utf8 == [0] and facts.invalid_utf8_count == 1
    assert events == [SSEEvent("", None, None, None, 0, 1, 0, False, ("\ufffd",), False, False, 0)]
    assert facts.unterminated_line


def test_str_bom_is_stripped_too() -> None:
    events, facts = parse_sse("\ufeffdata: x\n\n")
    assert facts.bom and events == [ev("x", 3, 1, 0)]


def test_utf8_character_split_across_pieces() -> None:
    text = 'data: {"c": "€ 😀 ü"}\n\n'.encode()
    for pieces in every_split(text):
        events, facts = feed_all(pieces)
        assert events == [ev('{"c": "€ 😀 ü"}', 0, 1, 0)]
        assert facts.invalid_utf8_count == 0


def test_invalid_utf8_replaced_with_exact_byte_offsets() -> None:
    data = b"data: ok\n\ndata: a\xffb\xe2\x82\n\n: c\xc3\n\nevent: \xf0\x9f\n\n"
    events, facts = parse_sse(data)
    assert [e.data for e in events[:2]] == ["ok", "a\ufffdb\ufffd"]
    assert events[2].event == "\ufffd"
    assert facts.invalid_utf8 == [17, 19, 26, 36]
    assert facts.invalid_utf8_count == 4
    assert facts.comments == [Comment("c\ufffd", 23, 5)]
    for off in facts.invalid_utf8:
        assert data[off] >= 0x80


def test_invalid_utf8_in_field_name_and_nonascii_offsets() -> None:
    data = "data: é\n\n".encode() + b"\xfe: v\ndata: x\n\n"
    events, facts = parse_sse(data)
    assert events[0] == ev("é", 0, 1, 0)
    assert events[1].other_fields == ("\ufffd",) and events[1].offset == 10
    assert facts.invalid_utf8 == [10]


def test_invalid_utf8_inside_a_run_of_regular_events() -> None:
    data = b"data: a\n\ndata: \xffb\n\ndata: c\xc3\n\nfoo: \xfe\n\n"
    events, facts = parse_sse(data)
    assert [e.data for e in events] == ["a", "\ufffdb", "c\ufffd", ""]
    assert facts.invalid_utf8 == [15, 26, 34]
    assert events[3].other_fields == ("foo",)


def test_invalid_utf8_list_is_capped_but_all_counted() -> None:
    data = b"data: " + b"\xff" * 100 + b"\n\n"
    (e,), facts = parse_sse(data)
    assert e.data == "\ufffd" * 100
    assert facts.invalid_utf8 == list(range(6, 6 + MAX_INVALID_UTF8_OFFSETS))
    assert facts.invalid_utf8_count == 100


def test_invalid_utf8_counted_exactly_past_the_cap() -> None:
    fffd = "\ufffd".encode()
    bad = b"\xff" * 15 + fffd + b"\xe2\x82" + b"\xc3" + fffd + b"\xf0\x9f\x98" + b"x\xef" + fffd
    data = b"data: " + bad + b"\n\ndata: \xfe" + fffd + b"\n\n" + b"data: " + bad + b"\n\n"
    events, facts = parse_sse(data)
    assert facts.invalid_utf8_count == 2 * 19 + 1
    assert len(facts.invalid_utf8) == MAX_INVALID_UTF8_OFFSETS
    assert events[0].data == events[2].data == bad.decode("utf-8", "replace")
    assert parse_sse(data) == _reference(data)


def test_invalid_utf8_same_result_for_any_split() -> None:
    data = b"data: a\xe2\x82\xacb\xe2\x82\n\n:\xff\ndata:\xc3\n"
    whole = parse_sse(data)
    for pieces in every_split(data):
        assert feed_all(pieces) == whole


def test_str_input_offsets_count_utf8_bytes() -> None:
    text = "data: é\n\ndata: x\n\n"
    events_s, facts_s = parse_sse(text)
    events_b, facts_b = parse_sse(text.encode())
    assert events_s == events_b and facts_s == facts_b
    assert events_s[1].offset == 10
    assert facts_s.total_bytes == len(text.encode())


def test_str_and_bytes_pieces_can_be_mixed() -> None:
    events, _ = feed_all(["data: é", b"\n\n", "data: x\n", b"\n"])
    assert events == [ev("é", 0, 1, 0), ev("x", 10, 3, 1)]


def test_str_lone_surrogate_surfaces_as_invalid_utf8() -> None:
    (e,), facts = parse_sse("data: a\ud800b\n\n")
    assert "\ufffd" in e.data and facts.invalid_utf8_count >= 1


def test_nul_bytes_are_kept_in_data() -> None:
    (e,), _ = parse_sse(b"data: a\x00b\n\n")
    assert e.data == "a\x00b"


def test_one_event_per_piece() -> None:
    pieces = [
        b"data: a\n\n",
        b"data: b\n\n",
        b": ping\n\n",
        b"data: c\r\n\n",  # CRLF then LF: not the one-event shortcut
        b"data:d\n\n",
        b"data: e\n\n",
    ]
    events, facts = feed_all(pieces)
    assert events == [
        ev("a", 0, 1, 0),
        ev("b", 9, 3, 1),
        ev("c", 26, 7, 2),
        ev("d", 36, 9, 3, nospace=True),
        ev("e", 44, 11, 4),
    ]
    assert facts.comments == [Comment("ping", 18, 5)]
    assert facts.crlf_offset == 33 and facts.lines == 12
    assert (events, facts) == parse_sse(b"".join(pieces))


def test_open_event_continued_by_next_piece() -> None:
    events, _ = feed_all([b"data: a\n", b"data: x\n\ndata: y\n\ndata: z\n\n"])
    assert events == [ev("a\nx", 0, 1, 0, data_lines=2), ev("y", 17, 4, 1), ev("z", 26, 6, 2)]


_RICH = (
    b': hi\n\ndata: {"a": 1}\n\ndata: x\ndata: y\n\nevent: ping\n\n'
    b"data: \xc3\xa9\xe2\x82\xac\n\n: c\ndata:z\nid: 7\nretry: 9\nfoo: 1\n\n"
    b"data: 1\n\ndata: 2\n\ndata: \xff\n\ndata: [DONE]\n"
)


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_every_split_of_a_rich_stream(eol: bytes) -> None:
    data = _RICH.replace(b"\n", eol)
    whole = parse_sse(data)
    assert whole == _reference(data)
    assert len(whole[0]) == 9
    for pieces in every_split(data):
        assert feed_all(pieces) == whole


# --------------------------------------------------------------------------- input types


def test_non_bytes_piece_raises_type_error_naming_the_type() -> None:
    dec = SSEDecoder()
    with pytest.raises(TypeError, match="int"):
        dec.feed(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="NoneType"):
        dec.feed(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="dict"):
        list(iter_sse([{"data": 1}]))  # type: ignore[list-item]


def test_bytearray_and_memoryview_pieces_accepted() -> None:
    events, _ = feed_all([bytearray(b"data: a\n"), memoryview(b"\ndata: b\n\n")])  # type: ignore[list-item]
    assert [e.data for e in events] == ["a", "b"]


def test_empty_pieces_are_harmless() -> None:
    events, facts = feed_all([b"", "", b"data: a", b"", b"\n\n", b""])
    assert events == [ev("a", 0, 1, 0)]
    assert facts == parse_sse(b"data: a\n\n")[1]


def test_iter_sse_yields_incrementally_and_fills_decoder_facts() -> None:
    seen: list[str] = []

    def pieces() -> Iterable[bytes]:
        yield b"data: a\n\nda"
        seen.append("second piece requested")
        yield b"ta: b\n\n: c\n\ndata: [DONE]\n"

    dec = SSEDecoder()
    it = iter_sse(pieces(), dec)
    first = next(it)
    assert first.data == "a" and seen == []
    rest = list(it)
    assert [e.data for e in rest] == ["b", "[DONE]"]
    assert rest[-1].terminated is False
    assert dec.facts.comments == [Comment("c", 18, 5)]


def test_iter_sse_accepts_a_single_bytes_or_str() -> None:
    assert [e.data for e in iter_sse(b"data: a\n\n")] == ["a"]
    assert [e.data for e in iter_sse("data: a\n\n")] == ["a"]


def test_aiter_sse() -> None:
    async def pieces() -> AsyncIterator[bytes | str]:
        for p in (b"data: a\r", b"\n\r\n", "data: é", b"\n"):
            yield p

    async def collect() -> tuple[list[SSEEvent], FramingFacts]:
        dec = SSEDecoder()
        return [e async for e in aiter_sse(pieces(), dec)], dec.facts

    events, facts = asyncio.run(collect())
    assert events == [ev("a", 0, 1, 0), ev("é", 11, 3, 1, terminated=False)]
    assert facts.line_endings == frozenset({"crlf", "lf"})


# --------------------------------------------------------------------------- size / linearity


def test_ten_megabyte_line_in_64k_pieces() -> None:
    payload = b'{"content": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    data = b"data: " + payload + b"\n\ndata: [DONE]\n\n"
    pieces = [data[i : i + 65536] for i in range(0, len(data), 65536)]
    events, facts = feed_all(pieces)
    assert len(events) == 2
    assert len(events[0].data) == len(payload)
    assert events[0].data == payload.decode()
    assert events[1] == ev("[DONE]", len(payload) + 8, 3, 1)
    assert facts.total_bytes == len(data) and facts.lines == 4


def test_ten_megabyte_multiline_event_in_64k_pieces() -> None:
    line = b"data: " + b"y" * 94 + b"\n"
    data = b"event: big\n" + line * (10 * 1024 * 1024 // len(line)) + b"\n"
    pieces = [data[i : i + 65536] for i in range(0, len(data), 65536)]
    events, facts = feed_all(pieces)
    assert len(events) == 1 and facts.lines == len(data.splitlines())
    n = (len(data) - 12) // len(line)
    assert events[0].data_lines == n and events[0].event == "big"
    assert len(events[0].data) == n * 94 + (n - 1)


def test_one_byte_at_a_time() -> None:
    data = (
        b": hello\n\n"
        + b"".join(b'data: {"i": %d, "t": "\xc3\xa9"}\n\n' % i for i in range(400))
        + b"data: [DONE]\n\n"
    )
    assert feed_all([data[i : i + 1] for i in range(len(data))]) == parse_sse(data)


# --------------------------------------------------------------------------- real recordings


def _recordings() -> list[Path]:
    return sorted((DATA_DIR / "corpus").glob("*.sse")) + sorted((DATA_DIR / "seed").glob("*.sse"))


def test_real_recordings_exist() -> None:
    assert len(_recordings()) >= 3


@pytest.mark.parametrize("path", _recordings(), ids=lambda p: p.name)
def test_real_recording_decodes(path: Path) -> None:
    raw = path.read_bytes()
    events, facts = parse_sse(raw)
    data_lines = [line for line in raw.splitlines() if line.startswith(b"data:")]
    with_data = [e for e in events if e.has_data]
    assert len(with_data) == len(data_lines)
    assert all(e.data_lines == 1 for e in with_data)
    assert facts.invalid_utf8_count == 0
    # each event's offset and line point at its own first field line
    starts = [0] + [m.end() for m in re.finditer(rb"\n", raw)]
    for e in events:
        assert starts[e.line - 1] == e.offset
    for e in with_data:
        assert raw[e.offset : e.offset + 5] in (b"data:", b"event")
    # the same events and facts when the bytes arrive in odd-sized pieces
    pieces = [raw[i : i + 997] for i in range(0, len(raw), 997)]
    assert feed_all(pieces) == (events, facts)


def test_recording_with_leading_space_artifact() -> None:
    raw = DATA_DIR / "corpus" / "openrouter-novita__kimi-k2_cassette-leading-space-artifact.sse"
    events, _ = parse_sse(raw.read_bytes())
    # " data: {...}" is a field named " data": dispatched without data, as WHATWG reads it
    assert events[0].other_fields == (" data",) and not events[0].has_data
    assert events[-1].data == "[DONE]"


# --------------------------------------------------------------------------- properties


@dataclass
class _Built:
    """A generated stream and what decoding it must give."""

    data: bytes
    events: list[SSEEvent]
    facts: FramingFacts


@dataclass
class _Writer:
    """Serialises lines with a line-ending style and tracks the expected facts."""

    style: str
    endings: list[str]
    out: bytearray = field(default_factory=bytearray)
    line: int = 1
    facts: FramingFacts = field(default_factory=FramingFacts)
    prev: str = ""
    k: int = 0

    def write(self, text: str, *, last: bool = False, ending: bool = True) -> tuple[int, int]:
        offset, line = len(self.out), self.line
        self.out += text.encode()
        if not ending:
            return offset, line
        eol = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}.get(self.style)
        if eol is None:  # mixed: one of the drawn endings per line
            eol = self.endings[self.k % len(self.endings)]
            self.k += 1
            if self.prev == "\r" and text == "" and eol != "\r":
                eol = "\r"  # "\r" then "\n" would read as one CRLF
        pos = len(self.out)
        kind = {"\n": "lf", "\r\n": "crlf", "\r": "cr"}[eol]
        if getattr(self.facts, f"{kind}_offset") is None:
            setattr(self.facts, f"{kind}_offset", pos)
        self.out += eol.encode()
        self.prev = eol
        self.line += 1
        return offset, line


_value = st.one_of(
    st.text(st.characters(exclude_characters="\r\n", exclude_categories=["Cs"]), max_size=12),
    st.dictionaries(st.text(max_size=5), st.text(max_size=8), max_size=3).map(
        lambda d: json.dumps(d, ensure_ascii=False)
    ),
    st.sampled_from(["[DONE]", '{"choices": []}', "é€😀", "\ufeff", "a:b", " lead"]),
)
_name = st.sampled_from(["foo", "Data", "x-y", "EVENT", "dat", "data2", "é"])


@st.composite
def _streams(draw: st.DrawFn) -> _Built:
    style = draw(st.sampled_from(["lf", "crlf", "cr", "mixed"]))
    endings = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=1, max_size=5))
    w = _Writer(style, endings)
    expected: list[SSEEvent] = []
    bom = draw(st.booleans())
    if bom:
        w.out += b"\xef\xbb\xbf"
        w.facts.bom = True
    n_items = draw(st.integers(0, 12))
    unterminated_event = draw(st.booleans())
    for item in range(n_items):
        is_last = item == n_items - 1
        kind = draw(st.sampled_from(["data", "data", "data", "event", "comment", "blank"]))
        if kind == "blank":
            w.write("")
            continue
        if kind == "comment":
            text = draw(_value)
            sp = draw(st.booleans())
            off, ln = w.write(":" + (" " if sp else "") + text)
            w.facts.comments.append(Comment(text if sp else _strip1(text), off, ln))
            w.write("")
            continue
        n_lines = draw(st.sampled_from([1, 1, 1, 2, 4]))  # mostly the fast path's shape
        data: list[str] = []
        event = eid = retry = None
        other: list[str] = []
        nospace = False
        first: tuple[int, int] | None = None
        for j in range(n_lines):
            what = draw(
                st.sampled_from(["data"] * 3 + ["event", "id", "retry", "other", "comment"])
                if kind == "event"
                else st.sampled_from(["data"])
            )
            sp = draw(st.sampled_from([True, True, True, False]))
            value = draw(_value)
            parsed = value if sp else _strip1(value)
            bare = what == "data" and value == "" and draw(st.booleans())
            if what == "comment":
                off, ln = w.write(":" + (" " if sp else "") + value)
                w.facts.comments.append(Comment(parsed, off, ln))
                continue
            if what == "retry":
                value = parsed = str(draw(st.integers(0, 10**6)))
                sp = True
            name = draw(_name) if what == "other" else what
            line_text = name if bare else f"{name}:{' ' if sp else ''}{value}"
            final = is_last and unterminated_event and j == n_lines - 1
            no_eol = final and draw(st.booleans())
            off, ln = w.write(line_text, ending=not no_eol)
            if no_eol:
                w.facts.unterminated_line = True
            if first is None:
                first = (off, ln)
            if what == "data":
                data.append(parsed)
                nospace = nospace or (not bare and not sp and value != "" and value[0] != " ")
            elif what == "event":
                event = parsed
            elif what == "id":
                if "\x00" not in parsed:
                    eid = parsed
            elif what == "retry":
                retry = int(parsed)
            else:
                other.append(name)
        terminated = not (is_last and unterminated_event)
        if terminated:
            w.write("")
        if first is not None:
            expected.append(
                SSEEvent(
                    "\n".join(data),
                    event,
                    eid,
                    retry,
                    first[0],
                    first[1],
                    len(data),
                    nospace,
                    tuple(other),
                    bool(data),
                    terminated,
                    len(expected),
                )
            )
    w.facts.total_bytes = len(w.out)
    w.facts.events = len(expected)
    w.facts.lines = w.line - (0 if w.facts.unterminated_line else 1)
    if bom:
        w.facts.bom_field = _bom_field(bytes(w.out))
    return _Built(bytes(w.out), expected, w.facts)


def _strip1(value: str) -> str:
    """What the parser leaves of a value written right after the colon."""
    return value[1:] if value.startswith(" ") else value


_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(_streams())
def test_generated_stream_decodes_to_expected_events(built: _Built) -> None:
    events, facts = parse_sse(built.data)
    assert events == built.events
    assert facts == built.facts


@_SETTINGS
@given(_streams(), st.lists(st.integers(0, 2000), max_size=12))
def test_any_split_gives_same_events_and_facts(built: _Built, cuts: list[int]) -> None:
    whole = parse_sse(built.data)
    assert feed_all(split_at(built.data, cuts)) == whole
    blocks = [m.end() for m in re.finditer(rb"\n\n|\r\n\r\n|\r\r", built.data)]
    assert feed_all(split_at(built.data, blocks)) == whole  # one event per piece
    assert feed_all(split_at(built.data, [c % 7 + i * 7 for i, c in enumerate(cuts)])) == whole


@_SETTINGS
@given(_streams())
def test_str_input_same_as_bytes(built: _Built) -> None:
    assert parse_sse(built.data.decode("utf-8")) == parse_sse(built.data)


_TOKENS = [
    b"data: ",
    b"data:",
    b"data",
    b"event: e",
    b"id: 1",
    b"retry: 50",
    b"x: y",
    b":",
    b": c",
    b"\n",
    b"\n\n",
    b"\r",
    b"\r\n",
    b"\n\ndata: ",
    b" ",
    b"x",
    b'{"a": 1}',
    b"\x00",
    b"\xff",
    b"\xe2\x82",
    b"\xac",
    b"\xef\xbb\xbf",
    "é".encode(),
]
_soup = st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from(_TOKENS), max_size=40).map(b"".join),
)


@_SETTINGS
@given(_soup, st.lists(st.integers(0, 400), max_size=10))
def test_arbitrary_bytes_never_raise_and_split_does_not_matter(
    data: bytes, cuts: list[int]
) -> None:
    whole = parse_sse(data)
    assert whole == _reference(data)
    assert feed_all(split_at(data, cuts)) == whole


def test_arbitrary_bytes_one_at_a_time_sample() -> None:
    data = b"".join(_TOKENS) * 3 + b"".join(reversed(_TOKENS)) * 3
    whole = parse_sse(data)
    assert whole == _reference(data)
    assert feed_all([data[i : i + 1] for i in range(len(data))]) == whole


# --------------------------------------------------------------------------- reference model


@dataclass
class _Pending:
    """The reference model's event under construction."""

    offset: int
    line: int
    data: list[str] = field(default_factory=list)
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    nospace: bool = False
    other: list[str] = field(default_factory=list)


def _bom_field(data: bytes) -> str:
    """The first line's field name after a leading BOM (up to ':', CR or LF; 32 bytes at most)."""
    head = re.match(rb"[^:\r\n]{0,32}", data[3:])
    assert head is not None
    return head.group().decode("utf-8", "replace")


def _reference(data: bytes) -> tuple[list[SSEEvent], FramingFacts]:
    """A slow, obviously-correct decoder of a whole stream, to compare the real one with."""
    facts = FramingFacts(total_bytes=len(data))
    start = 0
    if data.startswith(b"\xef\xbb\xbf"):
        facts.bom = True
        facts.bom_field = _bom_field(data)
        start = 3

    def decode(raw: bytes, offset: int) -> str:
        out = []
        i = 0
        while True:
            try:
                out.append(raw[i:].decode())
                return "".join(out)
            except UnicodeDecodeError as exc:
                out.append(raw[i : i + exc.start].decode() + "\ufffd")
                facts.invalid_utf8_count += 1
                if len(facts.invalid_utf8) < MAX_INVALID_UTF8_OFFSETS:
                    facts.invalid_utf8.append(offset + i + exc.start)
                i += exc.end

    lines: list[tuple[bytes, int]] = []
    pos = start
    for m in re.finditer(rb"\r\n|\r|\n", data[start:]):
        end = start + m.start()
        kind = {b"\n": "lf", b"\r\n": "crlf", b"\r": "cr"}[m.group()]
        if getattr(facts, f"{kind}_offset") is None:
            setattr(facts, f"{kind}_offset", end)
        lines.append((data[pos:end], pos))
        pos = start + m.end()
    if pos < len(data):
        lines.append((data[pos:], pos))
        facts.unterminated_line = True
    facts.lines = len(lines)

    events: list[SSEEvent] = []
    cur: _Pending | None = None

    def dispatch(p: _Pending, terminated: bool) -> None:
        events.append(
            SSEEvent(
                "\n".join(p.data),
                p.event,
                p.id,
                p.retry,
                p.offset,
                p.line,
                len(p.data),
                p.nospace,
                tuple(p.other),
                bool(p.data),
                terminated,
                len(events),
            )
        )

    for number, (raw, offset) in enumerate(lines, start=1):
        if raw == b"":
            if cur is not None:
                dispatch(cur, True)
                cur = None
            continue
        if raw.startswith(b":"):
            skip = 2 if raw.startswith(b": ") else 1
            facts.comments.append(Comment(decode(raw[skip:], offset + skip), offset, number))
            continue
        name, colon, value = raw.partition(b":")
        skip = len(name) + len(colon) + (1 if colon and value.startswith(b" ") else 0)
        known = name in (b"data", b"event", b"id", b"retry")
        other = "" if known else decode(name, offset)  # bytes are decoded in stream order
        text = decode(raw[skip:], offset + skip)
        if cur is None:
            cur = _Pending(offset, number)
        if name == b"data":
            cur.data.append(text)
            if colon and value and not value.startswith(b" "):
                cur.nospace = True
        elif name == b"event":
            cur.event = text
        elif name == b"id":
            if "\x00" not in text:
                cur.id = text
        elif name == b"retry":
            if re.fullmatch(rb"[0-9]+", raw[skip:]) and len(text) <= 4300:
                cur.retry = int(text)
        else:
            cur.other.append(other)
    if cur is not None:
        dispatch(cur, False)
    facts.events = len(events)
    return events, facts
