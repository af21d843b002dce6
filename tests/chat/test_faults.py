"""The fault table: validation, preconditions, composition, and the rule each fault breaks."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_oapi_stream import RULES_BY_CODE, check_chunk_stream
from pytest_oapi_stream.chat import builder as b
from pytest_oapi_stream.chat import faults as f

TOOLS = [{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}]

#: A value for every fault that takes one, used across the parametrized tests.
VALUES: dict[str, Any] = {
    "change_id_at": 3,
    "error_event_at": 3,
    "truncate_after": 3,
    "delay_ms": 1,
    "stall_after": 2,
    "disconnect_after_bytes": 100,
    "http_status": 429,
    "retry_after": 2,
    "http_status_count": 1,
}


def value_of(name: str) -> Any:
    return VALUES.get(name, True)


def broken_stream(faults: dict[str, Any], **kw: Any) -> tuple[bytes, dict[str, Any]]:
    """The SSE body of a built stream with chunk and byte faults applied, and its request."""
    req: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [], "stream": True}
    if kw.get("usage"):
        req["stream_options"] = {"include_usage": True}
    norm = f.normalize_faults(faults)
    items = f.apply_chunk_faults(b.build_items(request=req, **kw), norm)
    return b"".join(f.apply_byte_faults(b.encode_items(items), norm)), req


# --------------------------------------------------------------------------- the table


def test_table_entries_are_complete() -> None:
    kinds = {"chunk": "chunk_transform", "bytes": "byte_transform"}
    for name, fault in f.FAULTS.items():
        assert fault.name == name
        assert fault.doc and fault.doc.endswith(".") and len(fault.doc) < 100
        assert fault.rule is None or fault.rule in RULES_BY_CODE
        assert all(code in RULES_BY_CODE for code in fault.also)
        if fault.kind in kinds:
            assert getattr(fault, kinds[fault.kind]) is not None, name
        else:
            assert fault.chunk_transform is None and fault.byte_transform is None


def test_the_issue_faults_are_all_there_with_their_rules() -> None:
    expected = {
        "drop_done": "OAS008",
        "truncate_after": "OAS008",
        "change_id_at": "OAS015",
        "usage_every_chunk": "OAS026",
        "role_every_delta": "OAS021",
        "repeat_tool_ids": "OAS032",
        "tool_index_missing": "OAS029",
        "error_event_at": "OAS038",
        "crlf": "OAS003",
        "split_utf8": None,
        "delay_ms": None,
        "stall_after": None,
        "keepalive_comments": "OAS005",
        "http_status": "OAS002",
        "disconnect_after_bytes": None,
    }
    assert {name: f.FAULTS[name].rule for name in expected} == expected
    assert "OAS023" in f.FAULTS["truncate_after"].also


# --------------------------------------------------------------------------- validation


def test_normalize_accepts_mappings_and_names_in_table_order() -> None:
    assert f.normalize_faults({"drop_done": True, "change_id_at": 2}) == {
        "change_id_at": 2,
        "drop_done": True,
    }
    assert f.normalize_faults(["crlf", "truncate_after=4", "delay_ms=2.5"]) == {
        "truncate_after": 4,
        "crlf": True,
        "delay_ms": 2.5,
    }
    assert f.normalize_faults("drop_done") == {"drop_done": True}
    assert f.normalize_faults({"drop_done": False}) == {}
    assert f.normalize_faults(None) == {}


def test_unknown_fault_names_the_valid_ones() -> None:
    with pytest.raises(ValueError) as exc:
        f.normalize_faults({"drop_dne": True})
    msg = str(exc.value)
    assert "'drop_dne'" in msg
    assert all(name in msg for name in f.FAULTS)


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ({"drop_done": 1}, "fault 'drop_done' takes True or False, got 1"),
        ({"truncate_after": "3"}, "fault 'truncate_after' takes an integer >= 0, got '3'"),
        ({"truncate_after": 2.5}, "fault 'truncate_after' takes an integer, got 2.5"),
        ({"truncate_after": True}, "fault 'truncate_after' takes an integer >= 0, got True"),
        ({"change_id_at": -1}, "fault 'change_id_at' takes a value >= 0, got -1"),
        ({"http_status": 200}, "fault 'http_status' takes an HTTP error status (400-599)"),
        ({"retry_after": 1}, "'retry_after' only applies together with 'http_status'"),
        ({"http_status": 429, "http_status_count": 0}, "takes an integer >= 1"),
        (["truncate_after"], "fault 'truncate_after' takes a value (truncate_after=...)"),
        (["crlf=maybe"], "fault 'crlf' takes true or false, got 'maybe'"),
        (["delay_ms=soon"], "fault 'delay_ms' takes a number, got 'soon'"),
        ([3], "faults must be names or a mapping"),
    ],
)
def test_bad_parameters_name_the_fault(faults: Any, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        f.normalize_faults(faults)
    assert message in str(exc.value)


def test_parse_fault_arg() -> None:
    assert f.parse_fault_arg("drop_done") == ("drop_done", True)
    assert f.parse_fault_arg("crlf=off") == ("crlf", False)
    assert f.parse_fault_arg(" http_status = 503 ") == ("http_status", 503)
    assert f.parse_fault_arg("retry_after=0.5") == ("retry_after", 0.5)


def test_transport_plan_defaults_retry_after_for_429_and_503() -> None:
    assert f.transport_plan(f.normalize_faults({"http_status": 429})).retry_after == 1
    assert f.transport_plan(f.normalize_faults({"http_status": 500})).retry_after is None
    plan = f.transport_plan(f.normalize_faults({"delay_ms": 20, "stall_after": 3}))
    assert plan.delay_s == pytest.approx(0.02) and plan.stall_after == 3


# --------------------------------------------------------------------------- preconditions


@pytest.mark.parametrize(
    ("faults", "kw", "message"),
    [
        ({"repeat_tool_ids": True}, {}, "repeat_tool_ids needs a stream with a tool call"),
        ({"tool_index_missing": True}, {}, "tool_index_missing needs a stream with tool calls"),
        ({"truncate_after": 50}, {}, "truncate_after=50: the stream has 9 JSON chunks"),
        ({"change_id_at": 0}, {}, "change_id_at must be between 1 and 8"),
        ({"error_event_at": 10}, {}, "error_event_at must be between 0 and 9"),
        ({"drop_done": True, "truncate_after": 2}, {}, "the stream has no [DONE] to drop"),
        ({"role_every_delta": True}, {"as_provider": "ollama"}, "no delta without a role"),
    ],
)
def test_faults_that_cannot_apply_raise(faults: Any, kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as exc:
        broken_stream(faults, **kw)
    assert message in str(exc.value)


def test_split_utf8_needs_a_multibyte_character() -> None:
    norm = f.normalize_faults({"split_utf8": True})
    with pytest.raises(ValueError, match="split_utf8 needs a multi-byte character"):
        f.check_transport(b.encode_items(b.build_items(text="plain")), norm)
    f.check_transport(b.encode_items(b.build_items(text="naïve")), norm)


def test_chunk_faults_never_modify_their_input() -> None:
    items = b.build_items(tool_calls=TOOLS)
    before = b.encode_items(items)
    f.apply_chunk_faults(items, f.normalize_faults({"repeat_tool_ids": True, "change_id_at": 2}))
    assert b.encode_items(items) == before


# --------------------------------------------------------------------------- effects


def test_truncate_after_keeps_n_chunks() -> None:
    data, _ = broken_stream({"truncate_after": 3})
    assert data.count(b"data: ") == 3 and b"[DONE]" not in data


def test_error_event_at_replaces_the_rest() -> None:
    data, _ = broken_stream({"error_event_at": 2})
    events = b.split_events(data)
    assert len(events) == 3
    assert events[-1].startswith(b'data: {"error":{"message":"The server had an error')


def test_change_id_at_changes_ids_from_n_on() -> None:
    data, _ = broken_stream({"change_id_at": 4})
    ids = [c["id"] for c in b.items_from_sse(data) if isinstance(c, dict)]
    assert len(set(ids[:4])) == 1 and len(set(ids[4:])) == 1 and ids[0] != ids[4]


def test_crlf_rewrites_every_line_ending() -> None:
    data, _ = broken_stream({"crlf": True, "keepalive_comments": True})
    assert data.count(b"\r\n") == data.count(b"\n")
    assert b": keep-alive\r\n\r\n" in data


def test_usage_every_chunk_is_a_running_count() -> None:
    data, _ = broken_stream({"usage_every_chunk": True}, usage=True)
    usages = [c["usage"] for c in b.items_from_sse(data) if isinstance(c, dict)]
    counts = [u["completion_tokens"] for u in usages]
    assert counts == sorted(counts) and all(u is not None for u in usages)


def test_repeat_tool_ids_and_missing_index() -> None:
    data, _ = broken_stream({"repeat_tool_ids": True}, tool_calls=TOOLS)
    frags = [
        tc
        for c in b.items_from_sse(data)
        if isinstance(c, dict)
        for ch in c["choices"]
        for tc in ch["delta"].get("tool_calls", [])
    ]
    assert len(frags) > 2 and len({fr["id"] for fr in frags}) == 1
    assert all(fr["function"]["name"] == "get_weather" for fr in frags)
    data, _ = broken_stream({"tool_index_missing": True}, tool_calls=TOOLS)
    assert b'"index":0,"id"' not in data and b'"tool_calls":[{"function"' in data


# --------------------------------------------------------------------------- the checker


_STREAM_FAULTS = [n for n, flt in f.FAULTS.items() if flt.kind in ("chunk", "bytes")]


@pytest.mark.parametrize("name", _STREAM_FAULTS)
def test_each_stream_fault_breaks_its_rule(name: str) -> None:
    kw = {"tool_calls": TOOLS} if "tool" in name else {}
    data, req = broken_stream({name: value_of(name)}, **kw)
    clean, _ = broken_stream({}, **kw)
    fault = f.FAULTS[name]
    report = check_chunk_stream(data, profile="openai", request=req)
    codes = {v.code for v in report.violations}
    assert fault.rule in codes, report.format()
    unexpected = {
        v.code
        for v in report.violations
        if v.severity != "info" and v.code not in {fault.rule, *fault.also}
    }
    assert unexpected == set(), report.format()
    baseline = check_chunk_stream(clean, profile="openai", request=req)
    assert fault.rule not in {v.code for v in baseline.violations}


def test_faults_compose() -> None:
    data, req = broken_stream({"drop_done": True, "crlf": True, "change_id_at": 2})
    codes = {v.code for v in check_chunk_stream(data, profile="openai", request=req).violations}
    assert {"OAS008", "OAS003", "OAS015"} <= codes


def test_faults_apply_to_provider_styles_too() -> None:
    data, req = broken_stream({"change_id_at": 3}, as_provider="deepseek")
    report = check_chunk_stream(data, profile="deepseek", request=req)
    assert "OAS015" in {v.code for v in report.failures}


def test_docs_list_every_fault_and_provider_style() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "server.md").read_text()
    for name, fault in f.FAULTS.items():
        rule = fault.rule or "—"
        assert f"| `{name}` | {fault.param} | {rule}" in doc, name
        assert fault.doc in doc, name
    for style in b.PROVIDER_STYLES:
        assert f"`{style}`" in doc, style
