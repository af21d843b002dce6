"""Every Responses rule, broken by one edit of a real recording, and kept by the recording itself.

Each case names the rule, the corpus file it starts from and the one edit that breaks it. The
unedited file must not report the rule at all (not even as info); the edited one must report it at
the stated severity or above.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from resp_streams import (
    ANNOTATIONS,
    CALL,
    CORPUS,
    QUOTA,
    SUMMARY,
    TEXT,
    Events,
    edited,
    events,
    first,
    index,
    raw,
    renumber,
    sse,
)

from pytest_oapi_stream import (
    RESPONSE_RULES,
    CheckedResponseEvents,
    StreamContractError,
    acheck_response_stream,
    check_response_stream,
    iter_checked_response_events,
)
from pytest_oapi_stream.core.report import SEVERITY_RANK
from pytest_oapi_stream.responses.rules import RULES_BY_CODE


@dataclass
class Case:
    code: str
    base: str
    make: Callable[[], Any]  # the broken source
    severity: str = "error"
    kwargs: dict[str, Any] | None = None


def _ev(name: str, edit: Callable[[Events], Events | None], **kw: Any) -> Callable[[], bytes]:
    return lambda: sse(edited(name, edit), **kw)


def _set(etype: str, **fields: Any) -> Callable[[Events], None]:
    def edit(evs: Events) -> None:
        first(evs, etype).update(fields)

    return edit


def _resp(etype: str, **fields: Any) -> Callable[[Events], None]:
    def edit(evs: Events) -> None:
        first(evs, etype)["response"].update(fields)

    return edit


def _pop(etype: str, key: str, at: int = 0) -> Callable[[Events], None]:
    def edit(evs: Events) -> None:
        [ev for ev in evs if ev["type"] == etype][at].pop(key)

    return edit


def _drop(etype: str) -> Callable[[Events], Events]:
    def edit(evs: Events) -> Events:
        del evs[index(evs, etype)]
        return renumber(evs)

    return edit


def _insert(at_type: str, ev: dict[str, Any]) -> Callable[[Events], Events]:
    def edit(evs: Events) -> Events:
        evs.insert(index(evs, at_type), ev)
        return renumber(evs)

    return edit


def _bytes(name: str, old: bytes, new: bytes, count: int = 1) -> Callable[[], bytes]:
    def make() -> bytes:
        body = raw(name)
        assert old in body
        return body.replace(old, new, count)

    return make


def _dup(etype: str) -> Callable[[Events], Events]:
    def edit(evs: Events) -> Events:
        i = index(evs, etype)
        evs.insert(i + 1, dict(evs[i]))
        return renumber(evs)

    return edit


def _wrong_content_type() -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "application/json"}, content=raw(TEXT))


def _usage_early(evs: Events) -> None:
    usage = first(evs, "response.completed")["response"]["usage"]
    first(evs, "response.in_progress")["response"]["usage"] = usage


def _total_off(evs: Events) -> None:
    first(evs, "response.completed")["response"]["usage"]["total_tokens"] += 1


def _final_text(evs: Events) -> None:
    first(evs, "response.completed")["response"]["output"][0]["content"][0]["text"] = "Hi"


def _done_text(evs: Events) -> None:
    first(evs, "response.output_item.done")["item"]["content"][0]["text"] = "Hi"


def _text_done(evs: Events) -> None:
    first(evs, "response.output_text.done")["text"] = "Hi"


def _args(value: str) -> Callable[[Events], None]:
    def edit(evs: Events) -> None:
        for ev in evs:
            if ev["type"] == "response.function_call_arguments.delta":
                ev["delta"] = ""
            if ev["type"] == "response.function_call_arguments.done":
                ev["arguments"] = value
            if ev["type"] == "response.output_item.done":
                ev["item"]["arguments"] = value
        first(evs, "response.function_call_arguments.delta")["delta"] = value
        first(evs, "response.completed")["response"]["output"][0]["arguments"] = value

    return edit


def _no_arg_deltas(evs: Events) -> Events:
    return renumber([e for e in evs if e["type"] != "response.function_call_arguments.delta"])


def _created_at(value: Any) -> Callable[[Events], None]:
    def edit(evs: Events) -> None:
        for ev in evs:
            if "response" in ev:
                ev["response"]["created_at"] = value

    return edit


def _text_into_call(evs: Events) -> Events:
    item_id = first(evs, "response.output_item.added")["item"]["id"]
    at = index(evs, "response.function_call_arguments.done")
    evs.insert(
        at,
        {
            "type": "response.output_text.delta",
            "sequence_number": 0,
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
            "delta": "x",
            "logprobs": [],
        },
    )
    return renumber(evs)


def _swap_seq(evs: Events) -> None:
    evs[4]["sequence_number"], evs[5]["sequence_number"] = 5, 4


def _dup_item_ids(evs: Events) -> None:
    first(evs, "response.output_item.added")["item"]["call_id"] = ""


def _ann_index(evs: Events) -> None:
    first(evs, "response.output_text.annotation.added")["annotation_index"] = 3


CASES = [
    Case("OAS001", TEXT, _bytes(TEXT, b'"delta":"', b'"delta":"\xff')),
    # A 200 stream with the wrong Content-Type is one level down (clients still read it), as
    # in the chat table; a failed request is the error (test_failed_request_* below).
    Case("OAS002", TEXT, _wrong_content_type, "warn"),
    Case("OAS003", TEXT, _bytes(TEXT, b"\n", b"\r\n", -1), "warn"),
    Case("OAS004", TEXT, _bytes(TEXT, b"data: {", b"data:{"), "warn"),
    Case(
        "OAS005",
        TEXT,
        _bytes(TEXT, b"event: response.created", b": hi\n\nevent: response.created"),
        "info",
    ),
    Case("OAS040", TEXT, _bytes(TEXT, b'"delta":"', '"delta":"\ufffd'.encode()), "warn"),
    Case("OAS101", TEXT, _bytes(TEXT, b"data: {", b"data: nope\n\ndata: {"), "error"),
    Case("OAS102", TEXT, _bytes(TEXT, b"event: response.in_progress", b"event: response.queued")),
    Case("OAS103", TEXT, _ev(TEXT, lambda e: None, names=False), "warn"),
    Case("OAS104", TEXT, lambda: raw(TEXT) + b"data: [DONE]\n\ndata: [DONE]\n\n"),
    Case(
        "OAS105",
        TEXT,
        _bytes(TEXT, b"event: response.created", b"id: 1\nevent: response.created"),
        "info",
    ),
    Case("OAS106", TEXT, _ev(TEXT, _pop("response.content_part.added", "sequence_number"))),
    Case("OAS107", TEXT, _ev(TEXT, _swap_seq)),
    Case(
        "OAS108",
        TEXT,
        _ev(
            TEXT, _insert("response.completed", {"type": "response.thinking", "sequence_number": 0})
        ),
        "warn",
    ),
    Case(
        "OAS109",
        TEXT,
        _ev(TEXT, _pop("response.output_text.delta", "logprobs")),
    ),
    Case("OAS110", TEXT, _ev(TEXT, _set("response.output_text.delta", x_trace="1")), "info"),
    Case("OAS111", TEXT, _ev(TEXT, _drop("response.created"))),
    Case("OAS112", TEXT, _ev(TEXT, _resp("response.created", status="completed"))),
    Case("OAS113", TEXT, _ev(TEXT, _dup("response.in_progress")), "warn"),
    Case("OAS114", TEXT, _ev(TEXT, _drop("response.completed"))),
    Case("OAS115", TEXT, _ev(TEXT, _resp("response.completed", status="failed"))),
    Case("OAS116", TEXT, _ev(TEXT, _resp("response.completed", id="resp_other"))),
    Case("OAS117", TEXT, _ev(TEXT, _resp("response.completed", instructions="be brief"))),
    Case("OAS118", TEXT, _ev(TEXT, _usage_early)),
    Case("OAS119", TEXT, _ev(TEXT, _total_off)),
    Case("OAS120", TEXT, lambda: raw(QUOTA)),
    Case("OAS121", TEXT, lambda: raw(QUOTA), "warn"),
    Case("OAS122", TEXT, _ev(TEXT, _set("response.output_item.added", output_index=1))),
    Case("OAS123", TEXT, _ev(TEXT, _drop("response.output_item.done"))),
    Case("OAS124", CALL, _ev(CALL, _dup_item_ids)),
    Case("OAS125", TEXT, _ev(TEXT, _set("response.output_text.delta", item_id="msg_other"))),
    Case("OAS126", CALL, _ev(CALL, _text_into_call)),
    Case(
        "OAS127",
        TEXT,
        _ev(
            TEXT,
            lambda e: first(e, "response.output_item.added")["item"].update(status="completed"),
        ),
        "warn",
    ),
    Case("OAS128", TEXT, _ev(TEXT, _done_text)),
    Case("OAS129", TEXT, _ev(TEXT, _final_text)),
    Case("OAS130", TEXT, _ev(TEXT, _set("response.content_part.added", content_index=1))),
    Case("OAS131", TEXT, _ev(TEXT, _drop("response.output_text.done"))),
    Case("OAS132", TEXT, _ev(TEXT, _text_done)),
    Case(
        "OAS133",
        TEXT,
        _ev(
            TEXT,
            lambda e: first(e, "response.content_part.added").update(
                part={"type": "refusal", "refusal": ""}
            ),
        ),
    ),
    Case(
        "OAS134",
        SUMMARY,
        _ev(SUMMARY, _set("response.reasoning_summary_part.added", summary_index=1)),
    ),
    Case("OAS135", CALL, _ev(CALL, _args("[1]"))),
    Case("OAS136", ANNOTATIONS, _ev(ANNOTATIONS, _ann_index), "warn"),
    Case("OAS137", TEXT, _ev(TEXT, _created_at(1782321657000))),
    Case("OAS138", CALL, _ev(CALL, _no_arg_deltas), "warn"),
]


def test_every_rule_has_a_case() -> None:
    assert sorted({c.code for c in CASES}) == sorted(r.code for r in RESPONSE_RULES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.code)
def test_the_edit_breaks_the_rule(case: Case) -> None:
    report = check_response_stream(case.make(), profile="openai", **(case.kwargs or {}))
    found = [v for v in report.violations if v.code == case.code]
    assert found, report.format(include_info=True)
    assert max(SEVERITY_RANK[v.severity] for v in found) >= SEVERITY_RANK[case.severity]
    assert all(v.rule == RULES_BY_CODE[case.code].name for v in found)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.code)
def test_the_recording_keeps_the_rule(case: Case) -> None:
    report = check_response_stream(raw(case.base), profile="openai")
    assert case.code not in report.codes("info"), report.format(include_info=True)


def test_rule_codes_and_names_follow_the_spec() -> None:
    """Codes and names are public API: spot-check the table against SPEC-responses.md."""
    names = {r.code: r.name for r in RESPONSE_RULES}
    assert names["OAS101"] == "event-json-object"
    assert names["OAS114"] == "terminal-once-last"
    assert names["OAS129"] == "final-output-matches-items"
    assert names["OAS138"] == "deltas-before-done"
    assert [c for c in names if c.startswith("OAS1")] == [f"OAS{n}" for n in range(101, 139)]


def test_two_terminal_events_are_one_finding() -> None:
    """OAS114: a terminal event right after the terminal event is one finding, not two.

    It is both "an event after the terminal event" and "a second terminal event"; one
    message naming both places says all a user needs.
    """
    first_at = index(events(TEXT), "response.completed")
    report = check_response_stream(_ev(TEXT, _dup("response.completed"))(), profile="openai")
    found = [v for v in report.violations if v.code == "OAS114"]
    assert [v.chunk for v in found] == [first_at + 1], report.format()
    assert "second terminal event (response.completed)" in found[0].message
    assert f"event {first_at};" in found[0].message


def test_events_then_a_second_terminal_are_two_findings() -> None:
    """OAS114: a delta after the terminal event, then a second terminal: two places, two facts."""

    def edit(evs: Events) -> Events:
        at = index(evs, "response.completed")
        evs[at + 1 : at + 1] = [dict(first(evs, "response.output_text.delta")), dict(evs[at])]
        return renumber(evs)

    first_at = index(events(TEXT), "response.completed")
    report = check_response_stream(_ev(TEXT, edit)(), profile="openai")
    found = [v for v in report.violations if v.code == "OAS114"]
    assert [v.chunk for v in found] == [first_at + 1, first_at + 2], report.format()
    assert "output_text.delta after the terminal event" in found[0].message
    assert "second terminal event (response.completed)" in found[1].message


def test_done_sentinel_severities() -> None:
    """OAS104: info when last, error when misplaced, warn when absent under openresponses."""
    last = check_response_stream(sse(events(TEXT), done=True), profile="openai")
    assert [v.severity for v in last.violations if v.code == "OAS104"] == ["info"]
    evs = events(TEXT)
    early = sse(evs[:-1]) + b"data: [DONE]\n\n" + sse(evs[-1:])
    report = check_response_stream(early, profile="openai")
    assert "OAS104" in report.codes("error")
    absent = check_response_stream(raw(TEXT), profile="openresponses")
    assert [v.severity for v in absent.violations if v.code == "OAS104"] == ["warn"]
    kept = check_response_stream(sse(events(TEXT), done=True), profile="openresponses")
    assert "OAS104" not in kept.codes("info")


def test_resumed_stream_needs_the_request() -> None:
    """A stream resumed with starting_after starts at in_progress: legal with the request."""
    name = "openai__gpt-4.1-mini_background-resume-starting-after.sse"
    bare = check_response_stream(raw(name), profile="openai")
    assert bare.codes("warn") == []
    assert {"OAS107", "OAS111"} <= set(bare.codes("info"))
    with_request = check_response_stream(raw(name), profile="openai", request={"starting_after": 1})
    assert with_request.codes("info") == []
    wrong = check_response_stream(raw(name), profile="openai", request={"stream": True})
    assert "OAS111" in wrong.codes("error")


def test_invalid_arguments_json_is_a_warning() -> None:
    report = check_response_stream(sse(edited(CALL, _args('{"a":'))), profile="openai")
    assert [v.severity for v in report.violations if v.code == "OAS135"] == ["warn"]


def test_incomplete_with_last_item_open_is_a_warning() -> None:
    evs = edited(TEXT, _drop("response.output_item.done"))
    term = first(evs, "response.completed")
    term["type"] = "response.incomplete"
    term["response"].update(status="incomplete", incomplete_details={"reason": "max_output_tokens"})
    report = check_response_stream(sse(evs), profile="openai")
    assert [v.severity for v in report.violations if v.code == "OAS123"] == ["warn"]


def test_cumulative_argument_deltas_are_an_error() -> None:
    """Each delta repeating the text so far (a chat-habit bug): the join is not the arguments."""

    def cumulative(evs: Events) -> None:
        deltas = [e for e in evs if e["type"] == "response.function_call_arguments.delta"]
        so_far = ""
        for ev in deltas:
            so_far += ev["delta"]
            ev["delta"] = so_far

    report = check_response_stream(sse(edited(CALL, cumulative)), profile="openai")
    found = [v for v in report.violations if v.code == "OAS135"]
    assert found and found[0].severity == "error" and "cumulative" in found[0].message


def test_done_item_with_other_annotations_is_oas136() -> None:
    def drop(evs: Events) -> None:
        item = [e for e in evs if e["type"] == "response.output_item.done"][-1]["item"]
        item["content"][0]["annotations"] = []

    report = check_response_stream(sse(edited(ANNOTATIONS, drop)), profile="openai")
    assert "OAS136" in report.codes("warn"), report.format()


def test_an_incomplete_item_in_a_completed_response_is_oas127() -> None:
    def incomplete(evs: Events) -> None:
        first(evs, "response.output_item.done")["item"]["status"] = "incomplete"
        first(evs, "response.completed")["response"]["output"][0]["status"] = "incomplete"

    report = check_response_stream(sse(edited(TEXT, incomplete)), profile="openai")
    found = [v for v in report.violations if v.code == "OAS127"]
    assert found and "ends response.completed" in found[0].message, report.format()


# ------------------------------------------------------------- OAS001/OAS002 shared with chat

FAILED_BODY = b'{"error": {"message": "Rate limit reached", "type": "requests"}}'
JSON_HEADERS = {"content-type": "application/json"}


def _codes(report: Any) -> list[tuple[str, str]]:
    return [(v.code, v.severity) for v in report.violations]


def test_failed_request_is_one_error_without_the_cascade() -> None:
    # Before: OAS002 info plus OAS101/OAS102/OAS114... judging the JSON error body as events.
    report = check_response_stream(httpx.Response(429, headers=JSON_HEADERS, content=FAILED_BODY))
    assert _codes(report) == [("OAS002", "error")]
    assert "HTTP 429: 'Rate limit reached'" in report.violations[0].message
    assert report.violations[0].excerpt is not None
    assert "Rate limit reached" in report.violations[0].excerpt
    assert not report.ok
    assert report.stream is not None and report.stream.event_count == 0


def test_failed_request_iterating_mode() -> None:
    it = CheckedResponseEvents(
        httpx.Response(500, headers=JSON_HEADERS, content=FAILED_BODY), raise_on_error=False
    )
    assert list(it) == []
    assert it.report is not None and _codes(it.report) == [("OAS002", "error")]
    with pytest.raises(StreamContractError, match="HTTP 500: 'Rate limit reached'"):
        list(iter_checked_response_events(httpx.Response(500, content=FAILED_BODY)))


@pytest.mark.anyio
async def test_failed_request_async_sources() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield FAILED_BODY

    source = httpx.Response(429, headers=JSON_HEADERS, content=body())
    report = await acheck_response_stream(source)
    assert _codes(report) == [("OAS002", "error")]
    assert "'Rate limit reached'" in report.violations[0].message
    it = CheckedResponseEvents(
        httpx.Response(503, headers=JSON_HEADERS, content=body()), raise_on_error=False
    )
    assert [e async for e in it] == []
    assert it.report is not None and _codes(it.report) == [("OAS002", "error")]


def test_a_failed_sse_answer_is_still_read_as_a_stream() -> None:
    # A non-2xx text/event-stream is no failed request: its events are judged, OAS002 warns.
    source = httpx.Response(500, headers={"content-type": "text/event-stream"}, content=raw(TEXT))
    report = check_response_stream(source, profile="openai")
    assert _codes(report) == [("OAS002", "warn")]
    assert report.stream is not None and report.stream.event_count > 0


def test_leading_bom_before_a_data_line_is_an_error() -> None:
    # openai-python keeps the BOM: `\ufeffdata` is an unknown field, the first event is lost
    # (responses.create drops response.created; responses.stream() raises RuntimeError).
    body = b"\xef\xbb\xbf" + sse(events(TEXT), names=False)
    found = [v for v in check_response_stream(body, profile="openai").violations if v.code < "OAS1"]
    assert [(v.code, v.severity) for v in found] == [("OAS001", "error")]  # OAS103: no names
    assert "silently drops the first event" in found[0].message


def test_leading_bom_before_an_event_line_is_a_warning() -> None:
    # Only the first event's name is lost; the SDKs read the type from the JSON.
    report = check_response_stream(b"\xef\xbb\xbf" + raw(TEXT), profile="openai")
    assert _codes(report) == [("OAS001", "warn")]
    assert "`event:` line reads as an unknown field" in report.violations[0].message


def test_clean_stream_has_neither() -> None:
    ok = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=raw(TEXT))
    report = check_response_stream(ok, profile="openai")
    assert not {"OAS001", "OAS002"} & set(report.codes("info"))


# --------------------------------------------------------------- a stream resumed mid-item


def _resume(name: str, k: int) -> tuple[bytes, dict[str, Any]]:
    """The stream of ``name`` as ``GET /responses/{id}?starting_after=N`` sends it from event
    ``k`` on (what came before, the client saw before its connection dropped)."""
    evs = events(name)
    return sse(evs[k:]), {"starting_after": evs[k - 1]["sequence_number"]}


RESUMABLE = sorted(p.name for p in CORPUS.glob("*.sse") if "no-sequence" not in p.name)


@pytest.mark.parametrize("name", RESUMABLE)
def test_a_resume_at_any_event_finds_nothing_the_whole_stream_does_not(name: str) -> None:
    """Inside an item, a part, a text or between annotations: items and parts the resumed
    stream never added were added before the resume point (OAS123/OAS131 do not fire), its
    deltas are the tail of the done texts (OAS132, OAS128, OAS129 compare the tail), and its
    indexes continue from what came before (OAS122, OAS130, OAS134, OAS136)."""
    whole = {v.code for v in check_response_stream(CORPUS / name).violations}
    n = len(events(name))
    for k in range(2, n - 1, max(1, n // 12)):  # a dozen resume points per recording
        body, request = _resume(name, k)
        report = check_response_stream(body, request=request)
        new = sorted({v.code for v in report.violations} - whole)
        assert not new, (k, [v.message for v in report.violations if v.code in new])


def test_a_resumed_stream_whose_deltas_do_not_end_the_done_text_is_still_an_error() -> None:
    evs = events(TEXT)
    k = index(evs, "response.output_text.delta") + 1  # resumed between the two deltas
    for e in evs[k:]:
        if e["type"] == "response.output_text.delta":
            e["delta"] = "X" + e["delta"]
            break
    report = check_response_stream(
        sse(evs[k:]), request={"starting_after": evs[k - 1]["sequence_number"]}
    )
    assert "OAS132" in report.codes("error")
    assert (
        "after the resume point" in next(v for v in report.violations if v.code == "OAS132").message
    )


def test_a_part_never_added_in_an_item_the_resumed_stream_added_is_still_an_error() -> None:
    evs = events(TEXT)
    k = index(evs, "response.output_item.added")
    rest = [e for e in evs[k:] if e["type"] != "response.content_part.added"]
    report = check_response_stream(
        sse(rest), request={"starting_after": evs[k - 1]["sequence_number"]}
    )
    assert "OAS131" in report.codes("error")
