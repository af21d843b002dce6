"""Bad input never crashes the Responses checker: it becomes violations (or a clear error), and
any split of a valid stream gives the same events and verdict, sync and async."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from resp_streams import CALL, SUMMARY, TEXT, events, raw, sse

from pytest_oapi_stream import (
    CheckedResponseEvents,
    SourceError,
    acheck_response_stream,
    check_response_stream,
)

SMALL = raw(TEXT)
BODIES = {"text": SMALL, "call": raw(CALL), "summary": raw(SUMMARY)}


def _verdict(data: object) -> tuple[list[str], list[tuple[str, int | None]]]:
    report = check_response_stream(data, profile="openai")
    assert report.stream is not None
    kept = [e.model_dump_json() for e in report.stream.events]
    return kept, [(v.code, v.chunk) for v in report.violations]


_WHOLE = {name: _verdict(body) for name, body in BODIES.items()}


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(BODIES)),
    cuts=st.lists(st.integers(min_value=0, max_value=40_000), max_size=40),
)
def test_any_split_gives_the_same_events_and_verdict(name: str, cuts: list[int]) -> None:
    pieces = _split(BODIES[name], cuts)
    assert _verdict(pieces) == _WHOLE[name]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(BODIES)),
    cuts=st.lists(st.integers(min_value=0, max_value=40_000), max_size=20),
)
def test_any_split_read_async_gives_the_same_verdict(name: str, cuts: list[int]) -> None:
    pieces = _split(BODIES[name], cuts)

    async def source() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    report = asyncio.run(acheck_response_stream(source(), profile="openai"))
    assert report.stream is not None
    got = [e.model_dump_json() for e in report.stream.events]
    assert (got, [(v.code, v.chunk) for v in report.violations]) == _WHOLE[name]


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_after_a_valid_start_never_raise(blob: bytes) -> None:
    data = SMALL[:900] + blob
    report = check_response_stream(data, profile="openai")
    it = CheckedResponseEvents(data, profile="openai", raise_on_error=False)
    seen = sum(1 for _ in it)
    assert it.report is not None and report.stream is not None
    assert seen == len(report.stream.events)
    assert it.report.codes() == report.codes()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.text(max_size=8),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                lambda c: (
                    st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3)
                ),
                max_leaves=8,
            ),
            max_size=5,
        ),
        max_size=6,
    )
)
def test_arbitrary_event_dicts_never_raise(evs: list[dict[str, object]]) -> None:
    report = check_response_stream(evs, profile="openai")
    assert report.stream is not None


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=0, max_value=12),
    st.sampled_from([None, 1, "x", [], {}, 1.5, True, {"type": 3}, "response.created", -1, 10**20]),
    st.sampled_from(
        [
            "type",
            "sequence_number",
            "output_index",
            "content_index",
            "item_id",
            "delta",
            "text",
            "item",
            "part",
            "response",
            "logprobs",
        ]
    ),
)
def test_any_field_with_any_value_is_judged_not_raised(at: int, value: object, key: str) -> None:
    evs = events(TEXT)
    evs[at % len(evs)][key] = value
    report = check_response_stream(sse(evs), profile="openai")
    assert report.stream is not None
    if key in ("type", "sequence_number") and value is None:
        assert not report.ok  # OAS101 / OAS106


@pytest.mark.parametrize("tag", [[1], {"a": 1}, [], 3, None])
@pytest.mark.parametrize("key", ["item", "part", "response"])
def test_a_nested_type_of_any_json_value_is_judged_not_raised(key: str, tag: object) -> None:
    """An item's, part's or annotation's ``type`` chooses its model: a list or an object there
    (unhashable) is a schema error (OAS109), not a TypeError out of the checker."""
    evs = events(TEXT)
    for ev in evs:
        if isinstance(ev.get(key), dict):
            ev[key] = {**ev[key], "type": tag}
            if key == "response":
                ev[key]["output"] = [{"type": tag, "content": [{"type": tag}]}]
    report = check_response_stream(sse(evs), profile="openai")
    assert report.stream is not None and "OAS109" in report.codes("error"), report.format()


def test_random_bytes_give_violations_not_exceptions() -> None:
    rng = random.Random(11)
    for _ in range(50):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        report = check_response_stream(blob, profile="openai")
        assert not report.ok  # no terminal event at least (OAS114)


def test_truncation_anywhere_is_reported() -> None:
    for cut in range(0, len(SMALL), 97):
        report = check_response_stream(SMALL[:cut], profile="openai")
        assert "OAS114" in report.codes("error")


@pytest.mark.parametrize(
    "payload", ["null", "[1, 2]", '"text"', "42", "{not json", "{}", '{"type": 7}']
)
def test_non_event_payloads_are_oas101(payload: str) -> None:
    body = SMALL.replace(b"event: response.in_progress", f"data: {payload}\n\nevent: x".encode(), 1)
    report = check_response_stream(body, profile="openai")
    hits = [v for v in report.violations if v.code == "OAS101"]
    assert hits and hits[0].severity == "error", report.format()


def test_huge_line_and_deep_nesting() -> None:
    evs = events(TEXT)
    big = "x" * (5 * 1024 * 1024)
    for ev in evs:
        if ev["type"] == "response.output_text.delta":
            ev["delta"] = ""
    evs[4]["delta"] = big
    for ev in evs:
        if ev["type"] == "response.output_text.done":
            ev["text"] = big
        if ev["type"] == "response.content_part.done":
            ev["part"]["text"] = big
        if ev["type"] == "response.output_item.done":
            ev["item"]["content"][0]["text"] = big
    evs[-1]["response"]["output"][0]["content"][0]["text"] = big
    body = sse(evs)
    pieces = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    report = check_response_stream(pieces, profile="openai")
    assert report.ok, report.format()
    assert report.stream is not None and len(report.stream.output_text) == len(big)
    nested = '{"type": "response.x", "v": ' + "[" * 5000 + "]" * 5000 + "}"
    deep = SMALL + f"data: {nested}\n\n".encode()
    assert not check_response_stream(deep, profile="openai").ok


def test_invalid_utf8_is_oas001_with_its_offset() -> None:
    at = SMALL.index(b'"delta":"') + 9
    body = SMALL[:at] + b"\xff\xfe" + SMALL[at:]
    hits = [v for v in check_response_stream(body).violations if v.code == "OAS001"]
    assert hits and str(at) in hits[0].message


def test_unknown_sources_are_clear_errors() -> None:
    with pytest.raises(SourceError):
        check_response_stream(object())
    with pytest.raises(SourceError):
        check_response_stream({"type": "response.created"})


def test_a_list_with_junk_items_is_judged() -> None:
    evs: list[object] = list(events(TEXT))
    evs.insert(3, "not an event")
    evs.insert(5, json.dumps({"type": "response.created"}))
    with pytest.raises(SourceError):  # a list must be all events or all pieces
        check_response_stream(evs)
