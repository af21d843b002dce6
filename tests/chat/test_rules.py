"""The rule catalog, rule by rule: a stream that breaks each rule, and streams that keep it.

Every case names the code, the severity under the strict ``openai`` profile (or the profile
given), the chunk index (``None`` for stream-level findings) and a phrase the message or field
path must contain, so a finding at the wrong place or with a useless message fails the test.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import streams as s
from streams import REQUEST, args, choice, chunk, edit, sse, usage

from pytest_oapi_stream import (
    RULES,
    ChatCompletionChunk,
    CheckedChunks,
    Profile,
    Report,
    StreamContractError,
    Violation,
    aassert_valid_chunk_stream,
    acheck_chunk_stream,
    assert_valid_chunk_stream,
    check_chunk_stream,
    get_profile,
    iter_checked_chunks,
)

T = s.text()  # 0 role, 1 "Hello", 2 " world", 3 finish, 4 usage
TL = s.tools()  # 0 opens call_a, 1-2 its args, 3 opens call_b, 4 its args, 5 finish, 6 usage
LP = s.with_logprobs()
N2 = s.two_choices()
R = s.reasoning()
ERR = (
    'data: {"error": {"message": "boom", "type": "server_error", "param": null, "code": null}}\n\n'
)


def all_chunks(chunks: list[dict[str, Any]], **top: Any) -> list[dict[str, Any]]:
    """Every chunk with ``top`` fields set."""
    return [{**c, **top} for c in chunks]


def insert(chunks: list[dict[str, Any]], at: int, *new: dict[str, Any]) -> list[dict[str, Any]]:
    return [*chunks[:at], *new, *chunks[at:]]


def check(
    source: Any, profile: str | Profile = "openai", request: Any = REQUEST, **kw: Any
) -> Report:
    if isinstance(source, list):
        source = sse(source)
    return check_chunk_stream(source, profile=profile, request=request, **kw)


def hits(report: Report, code: str) -> list[Violation]:
    return [v for v in report.violations if v.code == code]


def B(code: str, where: str, needle: str, source: Any, **opts: Any) -> Any:
    """One breaking case: ``source`` yields ``code`` at ``where`` ("error@2": severity and chunk
    index; "warn": a stream-level finding) with ``needle`` in its message or path."""
    severity, _, at = where.partition("@")
    chunk_at = int(at) if at else None
    return pytest.param(code, severity, chunk_at, needle, source, opts, id=f"{code}-{needle[:24]}")


def dl(chunks: list[dict[str, Any]], at: int, key: str, value: Any) -> list[dict[str, Any]]:
    """Set (``...``: delete) ``choices[0].delta.<key>`` of chunk ``at``."""
    return edit(chunks, at, f"choices.0.delta.{key}", value)


def tc(chunks: list[dict[str, Any]], at: int, key: str, value: Any) -> list[dict[str, Any]]:
    """Set (``...``: delete) ``choices[0].delta.tool_calls[0].<key>`` of chunk ``at``."""
    return edit(chunks, at, f"choices.0.delta.tool_calls.0.{key}", value)


U = {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
_A, _B = json.dumps(T[1]).split(", ", 1)  # one chunk's JSON over two data lines
HTTP_JSON = {"content-type": "application/json"}
HTTP_SSE = {"content-type": "text/event-stream; charset=utf-8"}
FUTURE = int(time.time()) + 86400 * 30
ARGS = "function.arguments"
HEAD = sse(T[:1], done=False)  # the first event, then a test's own text
HEAD2 = sse(T[:2], done=False)
FINISH, TOTAL, REASON = "choices.0.finish_reason", "usage.total_tokens", "reasoning_content"
LPR = REQUEST | {"logprobs": True}


def resp(status: int, headers: dict[str, str], body: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, content=body.encode())


# fmt: off
BREAKS = [
    # A. framing and termination
    B("OAS001", "error", "invalid UTF-8 at byte offset", sse(T).encode().replace(b"l", b"\xff", 1)),
    B("OAS001", "error", "BOM opens the body; openai-python", b"\xef\xbb\xbf" + sse(T).encode()),
    B("OAS002", "warn", "Content-Type 'application/json'", resp(200, HTTP_JSON, sse(T))),
    B("OAS002", "warn", "HTTP status 500", resp(500, HTTP_SSE, sse(T))),
    B("OAS002", "warn", "a 200 error body", resp(200, HTTP_JSON, ERR[6:])),
    B("OAS002", "error", "the request failed: HTTP 429: 'boom'", resp(429, HTTP_JSON, ERR[6:])),
    B("OAS002", "error", "HTTP 502 (text/html)", resp(502, {"content-type": "text/html"}, "<h1>")),
    B("OAS003", "warn", "CRLF line endings", sse(T).replace("\n", "\r\n")),
    B("OAS003", "warn", "bare CR line endings", sse(T).replace("\n", "\r")),
    B("OAS004", "warn@1", "without a space", HEAD + sse(T[1:]).replace("data: ", "data:", 2)),
    B("OAS004", "warn@1", "2 `data:` lines", HEAD + f"data: {_A},\ndata: {_B}\n\n" + sse(T[2:])),
    B("OAS004", "info", "not ended by a blank line", sse(T, done=False) + "data: [DONE]"),
    B("OAS005", "info", "keep-alive", ": keep-alive\n\n" + sse(T)),
    B("OAS006", "warn@1", "SSE field(s) event at line 3", HEAD + "event: delta\n" + sse(T[1:])),
    B("OAS006", "error", "`event:` but no `data:`; openai-python",
      HEAD + "event: ping\n\n" + sse(T[1:])),
    B("OAS006", "error", "` data:` but no `data:`; clients ignore", " " + sse(T)),
    B("OAS007", "error", "null, not a JSON object", HEAD + "data: null\n\n" + sse(T[1:])),
    B("OAS007", "error", "not valid JSON", HEAD + "data: {oops\n\n" + sse(T[1:])),
    B("OAS008", "error", "truncated; four of seven clients", sse(T[:2], done=False)),
    B("OAS008", "error", "after the finish (clients end quietly)", sse(T, done=False)),
    B("OAS008", "error", "sent 2 times", sse(T) + "data: [DONE]\n\n"),
    B("OAS008", "error", "after `[DONE]`", sse(T) + sse([usage()], done=False)),
    B("OAS008", "error", "not exactly `[DONE]`", sse(T, done=False) + "data: [DONE]!\n\n"),
    # B. envelope and schema
    B("OAS009", "error@2", "object is 'chat.completion'", edit(T, 2, "object", "chat.completion")),
    B("OAS010", "error@1", "missing: id", edit(T, 1, "id", ...)),
    B("OAS010", "error@1", "model (empty)", edit(T, 1, "model", "")),
    B("OAS010", "error@2", "choices (null)", edit(T, 2, "choices", None)),
    B("OAS011", "error@1", "without a `delta`", edit(T, 1, "choices.0.delta", ...)),
    B("OAS011", "error@1", "without an integer `index`", edit(T, 1, "choices.0.index", ...)),
    B("OAS011", "warn@1", "`finish_reason` key", edit(T, 1, "choices.0.finish_reason", ...)),
    B("OAS012", "error@3", "'end_turn'", edit(T, 3, "choices.0.finish_reason", "end_turn")),
    B("OAS012", "warn@0", "role 'user'", dl(T, 0, "role", "user")),
    B("OAS012", "error@0", "type 'custom'", tc(TL, 0, "type", "custom")),
    B("OAS012", "warn@0", "service_tier 'on_demand'", all_chunks(T, service_tier="on_demand")),
    B("OAS013", "error@1", "choices[0].delta.content", dl(T, 1, "content", [{"type": "text"}])),
    B("OAS013", "error@1", ARGS, tc(TL, 1, ARGS, {"city": "Paris"})),
    B("OAS013", "error@2", "created", edit(T, 2, "created", "1727000000")),
    B("OAS014", "info@1", "x_trace", edit(T, 1, "x_trace", "abc")),
    B("OAS014", "info@1", "choices[].delta.reasoning", dl(T, 1, "reasoning", "hm")),
    # C. constancy
    B("OAS015", "error@2", "'chatcmpl-other'", edit(T, 2, "id", "chatcmpl-other")),
    B("OAS016", "error@2", "created 1727000001", edit(T, 2, "created", s.CREATED + 1)),
    B("OAS017", "warn@2", "'gpt-4o-mini'", edit(T, 2, "model", "gpt-4o-mini")),
    B("OAS018", "warn", "takes 2 values", edit(T, 2, "system_fingerprint", "fp_other")),
    B("OAS018", "info", "missing on 1 chunk", edit(T, 2, "system_fingerprint", ...)),
    B("OAS018", "warn@2", "service_tier 'priority'",
      edit(all_chunks(T, service_tier="default"), 2, "service_tier", "priority")),
    # D. choices and deltas
    B("OAS019", "error@1", "outside [0, 1)", edit(T, 1, "choices.0.index", 1)),
    B("OAS019", "info@1", "request unknown", edit(T, 1, "choices.0.index", 1), request=None),
    B("OAS019", "error@1", "twice in one chunk",
      edit(T, 1, "choices", [choice(content="a"), choice(content="b")])),
    B("OAS020", "error@0", "choice 1 appears before choice 0", [N2[1], N2[0], *N2[2:]],
      request=REQUEST | {"n": 2}),
    B("OAS020", "error@0", "choice 2 appears before choice 1",
      [chunk(choice(0, role="assistant", content="x"), choice(2, role="assistant", content="y")),
       chunk(choice(0, finish="stop"), choice(2, finish="stop")), usage()],
      request=REQUEST | {"n": 3}),
    B("OAS021", "error@1", "role repeated", dl(T, 1, "role", "assistant")),
    B("OAS021", "error@0", "never carries a role", dl(T, 0, "role", ...)),
    B("OAS021", "warn@0", "first delta has no role", dl(dl(T, 0, "role", ...), 1, "role", "x")),
    B("OAS022", "info@1", "contentless delta", edit(T, 1, "choices.0.delta", {})),
    B("OAS022", "info@1", "`tool_calls: []`", dl(T, 1, "tool_calls", [])),
    # E. finish
    B("OAS023", "error@2", "never gets a finish_reason", [*T[:3], T[4]]),
    B("OAS023", "error@4", "second finish_reason 'stop'", insert(T, 4, T[3])),
    B("OAS024", "error@4", "after its finish at chunk 3", insert(T, 4, chunk(choice(content="x")))),
    B("OAS025", "warn@5", "finishes with 'stop'", edit(TL, 5, FINISH, "stop")),
    B("OAS025", "warn@3", "streamed no tool call", edit(T, 3, FINISH, "tool_calls")),
    # F. usage
    B("OAS026", "error@3", "usage on a chunk that has choices",
      [*T[:3], chunk(choice(finish="stop"), usage=U)]),
    B("OAS026", "error@5", "usage sent 2 times", [*T, usage()]),
    B("OAS026", "error@5", "after the usage chunk", [*T, chunk(choice(content="more"))]),
    B("OAS026", "error@3", "before the finish of choice(s) 0", [*T[:3], T[4], T[3]]),
    B("OAS027", "warn@4", "not requested", T, request={"stream": True}),
    B("OAS027", "info@4", "request unknown", T, request=None),
    B("OAS028", "error@4", "total_tokens 99 != prompt_tokens 9", edit(T, 4, TOTAL, 99)),
    B("OAS028", "error@4", "usage without `total_tokens`", edit(T, 4, TOTAL, ...)),
    B("OAS028", "warn@4", "cached_tokens 50 > prompt_tokens 9",
      edit(T, 4, "usage.prompt_tokens_details", {"cached_tokens": 50})),
    B("OAS028", "warn@4", "reasoning_tokens 7 > completion_tokens 3",
      edit(T, 4, "usage.completion_tokens_details", {"reasoning_tokens": 7})),
    B("OAS028", "warn@5", "decreased from 3 to 1", [*T, usage(completion=1)]),
    B("OAS028", "error@3", "prompt_cache_hit_tokens 5",
      edit(R, 3, "usage.prompt_cache_hit_tokens", 5), profile="deepseek"),
    # G. tool calls
    B("OAS029", "error@1", "without `index`", tc(TL, 1, "index", ...)),
    B("OAS030", "error@3", "index 2 opens where 1 was expected",
      tc(tc(TL, 3, "index", 2), 4, "index", 2)),
    B("OAS030", "error@3", "reused for another call", tc(TL, 3, "index", 0)),
    B("OAS030", "warn@4", "interleaved", insert(TL, 4, chunk(choice(tool_calls=[args(0, " ")])))),
    B("OAS031", "error@0", "lacks function.name", tc(TL, 0, "function.name", ...)),
    B("OAS031", "error@3", "lacks id, type 'function'", tc(tc(TL, 3, "id", ...), 3, "type", ...)),
    B("OAS032", "error@1", "repeats id", tc(TL, 1, "id", "call_a")),
    B("OAS032", "warn@1", "repeats type", tc(TL, 1, "type", "function")),
    B("OAS033", "warn@0", "not one JSON object", tc(TL, 2, ARGS, ' "Paris"')),
    B("OAS033", "warn@3", "JSON list, not an object", tc(TL, 4, ARGS, "[1]")),
    B("OAS033", "info@3", "empty arguments", tc(TL, 4, ARGS, "")),
    B("OAS033", "error@0", "cumulative snapshots",
      insert(tc(TL, 2, ARGS, '{"city": "Paris"}'), 1, chunk(choice(tool_calls=[args(0, '{"ci')])))),
    B("OAS034", "warn@3", "'call_a' already used at chunk 0", tc(TL, 3, "id", "call_a")),
    # H. content, refusal, reasoning, logprobs
    B("OAS035", "warn@0", "both content and refusal", dl(s.refusal(), 2, "content", "Sure")),
    B("OAS036", "info@2", "after its answer started at chunk 1", dl(T, 2, REASON, "hm")),
    B("OAS036", "error@3", "after its answer started at chunk 2",
      dl(R, 3, REASON, "hm"), profile="deepseek"),
    B("OAS036", "warn", "two field names",
      insert(R, 2, chunk(choice(reasoning="more"))), profile="vllm"),
    B("OAS037", "warn@1", "logprob 0.5 > 0",
      edit(LP, 1, "choices.0.logprobs.content.0.logprob", 0.5), request=LPR),
    B("OAS037", "warn@2", "bytes are not the UTF-8 of token",
      edit(LP, 2, "choices.0.logprobs.content.0.bytes", [32, 101]), request=LPR),
    B("OAS037", "warn@1", "lacks token, logprob, bytes",
      edit(LP, 1, "choices.0.logprobs.content.0.bytes", ...), request=LPR),
    B("OAS037", "warn@1", "2 top_logprobs, 1 requested",
      edit(LP, 1, "choices.0.logprobs.content.0.top_logprobs", [s.logprob("a"), s.logprob("b")]),
      request=LPR | {"top_logprobs": 1}),
    B("OAS037", "warn@1", "`logprobs` was not requested", LP),
    B("OAS037", "info@1", "request unknown", LP, request=None),
    # I. errors, time, text
    B("OAS038", "error", "in-stream error at line 5: 'boom'", HEAD2 + ERR),
    B("OAS038", "error", "`event: error` at line 5", HEAD2 + "event: error\n" + ERR),
    B("OAS038", "error", "numeric error.code",
      HEAD2 + ERR.replace("null}}", "500}}")),
    B("OAS038", "warn", "2 chunk(s) after an in-stream error",
      HEAD2 + ERR + sse(T[2:4])),
    B("OAS038", "error@2", "chunk carries an error: 'cut'",
      edit(T, 2, "error", {"message": "cut", "type": "server_error"})),
    B("OAS039", "error@0", "looks like milliseconds", all_chunks(T, created=s.CREATED * 1000)),
    B("OAS039", "warn@0", "created is 0", all_chunks(T, created=0)),
    B("OAS039", "warn@0", "before 2020", all_chunks(T, created=1_000_000)),
    B("OAS039", "warn@0", "in the future", all_chunks(T, created=FUTURE)),
    B("OAS040", "warn@1", "U+FFFD in content", dl(T, 1, "content", "Hel\ufffd")),
    B("OAS040", "warn@2", "U+FFFD in arguments", tc(TL, 2, ARGS, ' "Pa\ufffds"}')),
    B("OAS041", "error", "no chunk with a choice before [DONE]", [usage()]),
    # J. found by the client matrix
    B("OAS042", "error", "no usage chunk came", T[:4]),
    B("OAS042", "error", "no usage chunk came", sse(T[:4], done=False).replace("\n", "\r\n")),
    B("OAS043", "error@2", "accumulator raises RuntimeError",
      dl(dl(T, 1, "annotations", [s.citation(0)]), 2, "annotations", [s.citation(1)])),
    B("OAS043", "error@2", "`citations` entries without `index`",
      dl(dl(T, 1, "citations", [{"url": "a"}]), 2, "citations", [{"url": "b"}])),
    B("OAS043", "info", "in one delta of choice 0", dl(T, 1, "annotations", [s.citation(0)])),
]
# fmt: on


@pytest.mark.parametrize(("code", "severity", "at", "needle", "source", "opts"), BREAKS)
def test_rule_breaks(
    code: str, severity: str, at: int | None, needle: str, source: Any, opts: dict[str, Any]
) -> None:
    report = check(source, **opts)
    found = hits(report, code)
    assert found, f"{code} not reported:\n{report.format(include_info=True)}"
    where = [v for v in found if needle in f"{v.message} {v.path or ''}"]
    assert where, f"{code}: no finding says {needle!r}:\n{report.format(include_info=True)}"
    v = where[0]
    assert (v.severity, v.chunk) == (severity, at), v.line()
    assert v.rule == next(r.name for r in RULES if r.code == code)


def test_every_rule_has_a_breaking_case() -> None:
    assert [r.code for r in RULES] == [f"OAS{i:03d}" for i in range(1, 44)]
    covered = {p.values[0] for p in BREAKS}
    assert covered == {r.code for r in RULES}


CLEAN = [
    pytest.param(T, "openai", REQUEST, id="text"),
    pytest.param(TL, "openai", REQUEST, id="parallel-tools"),
    pytest.param(s.refusal(), "openai", REQUEST, id="refusal"),
    pytest.param(LP, "openai", REQUEST | {"logprobs": True, "top_logprobs": 0}, id="logprobs"),
    pytest.param(N2, "openai", REQUEST | {"n": 2}, id="n2"),
    pytest.param(R, "deepseek", REQUEST, id="deepseek-reasoning"),
]


@pytest.mark.parametrize(("chunks", "profile", "request_"), CLEAN)
def test_clean_baselines_have_no_finding_at_all(
    chunks: list[dict[str, Any]], profile: str, request_: Any
) -> None:
    report = check(chunks, profile, request_)
    assert report.violations == [], report.format(include_info=True)
    assert report.stream is not None and report.stream.done


def test_clean_baseline_assembles_messages() -> None:
    stream = assert_valid_chunk_stream(sse(TL), profile="openai", request=REQUEST)
    msg = stream.message
    assert msg is not None and msg.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments) for c in msg.tool_calls] == [
        ("call_a", "get_w", '{"city": "Paris"}'),
        ("call_b", "get_t", "{}"),
    ]
    assert stream.usage is not None and stream.usage.total_tokens == 12
    assert check(T).stream.text == "Hello world"  # type: ignore[union-attr]


def _moderation() -> dict[str, Any]:
    return chunk(moderation={"input": {"flagged": False}, "output": {"flagged": False}})


def _azure_filter() -> dict[str, Any]:
    pfr = [{"prompt_index": 0, "content_filter_results": {}}]
    return {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": pfr,
    }


# Streams close to a violation that real providers send, and that the rule must accept.
KEEPS = [
    pytest.param("OAS026", R, "deepseek", id="usage-on-finish-deepseek"),
    pytest.param(
        "OAS021", edit(T, 1, "choices.0.delta.role", None), "openai", id="explicit-null-role-qwen"
    ),
    pytest.param("OAS008", sse(T) + ": bye\n\n", "openai", id="comment-after-done"),
    pytest.param("OAS042", [*T[:2]], "openai", id="unfinished-stream-is-oas023s"),
    pytest.param("OAS042", HEAD2 + ERR, "openai", id="error-stream-is-oas038s"),
    pytest.param(
        "OAS043",
        dl(dl(T, 1, "annotations", [s.citation(0, 0)]), 2, "annotations", [s.citation(1, 1)]),
        "openai",
        id="annotations-with-index",
    ),
    pytest.param(
        "OAS043", dl(dl(T, 1, "tags", ["a"]), 2, "tags", ["b"]), "openai", id="list-of-strings"
    ),
    pytest.param(
        "OAS012",
        edit(R, 3, "choices.0.finish_reason", "insufficient_system_resource"),
        "deepseek",
        id="deepseek-finish-reason",
    ),
    pytest.param("OAS010", [_azure_filter(), *T], "azure", id="azure-prompt-filter-chunk"),
    pytest.param("OAS039", [_azure_filter(), *T], "azure", id="azure-created-0"),
    pytest.param("OAS015", [_azure_filter(), *T], "azure", id="azure-empty-id"),
    pytest.param(
        "OAS018", all_chunks(T, system_fingerprint=None), "openai", id="fingerprint-null-everywhere"
    ),
    pytest.param(
        "OAS022",
        edit(T, 1, "choices.0.delta", {"content": "", "refusal": "no"}),
        "openai",
        id="refusal-is-payload",
    ),
    pytest.param(
        "OAS033",
        edit(TL, 4, "choices.0.delta.tool_calls.0.function.arguments", "{}"),
        "openai",
        id="empty-object-arguments",
    ),
]


@pytest.mark.parametrize(("code", "source", "profile"), KEEPS)
def test_rule_keeps(code: str, source: Any, profile: str) -> None:
    report = check(source, profile)
    assert not hits(report, code), report.format(include_info=True)


def _openrouter(trailer_finish: str | None, **delta: Any) -> list[dict[str, Any]]:
    """OpenRouter's shape: role in every delta, then the usage on one more chunk after the finish
    (corpus openrouter__claude-sonnet-4.5_reasoning-details.sse, ..._kimi-k2.5_parallel-...)."""
    body = [dl(c, 0, "role", "assistant")[0] for c in ([c] for c in T[:4])]
    trailer = chunk(choice(finish=trailer_finish, role="assistant", content="", **delta), usage=U)
    return [*body, trailer]


@pytest.mark.parametrize("finish", [None, "stop"])
def test_openrouter_usage_after_finish(finish: str | None) -> None:
    stream = _openrouter(finish)
    # The repeated role is OpenRouter's shape, but openai-python's .stream() concatenates it.
    assert check(stream, "openrouter").codes("warn") == ["OAS021"]
    assert check(stream, "openrouter").ok
    strict = check(stream, "openai")
    assert {"OAS021", "OAS024", "OAS026"} <= set(strict.codes("error"))
    # Something new on that chunk is still a delta after the finish.
    late = check(_openrouter(finish, refusal="late"), "openrouter")
    expected = ["OAS023"] * (finish is not None) + ["OAS024", "OAS026"]
    assert [(v.code, v.chunk) for v in late.failures] == [(c, 4) for c in expected]
    other = check(_openrouter("length"), "openrouter")
    assert "second finish_reason 'length'" in hits(other, "OAS023")[0].message


@pytest.mark.parametrize(("code", "severity", "at", "needle", "source", "opts"), BREAKS)
def test_a_finding_survives_ignoring_every_other_rule(
    code: str, severity: str, at: int | None, needle: str, source: Any, opts: dict[str, Any]
) -> None:
    """Rules that share one pass over the chunks (``Rule.serves``) still run alone."""
    others = [r.code for r in RULES if r.code != code]
    report = check(source, ignore=others, **opts)
    assert any(needle in f"{v.message} {v.path or ''}" for v in hits(report, code))
    assert {v.code for v in report.violations} == {code}


def test_out_of_range_choice_is_reported_once_per_index() -> None:
    found = hits(check(N2, request=None), "OAS019")  # n unknown: 1 is assumed
    assert [(v.severity, v.chunk, v.path) for v in found] == [("info", 1, "choices[0].index")]
    assert "choice index 1 outside [0, 1) (3 chunks in all)" in found[0].message
    assert [v.severity for v in hits(check(N2), "OAS019")] == ["error"]  # the request says n=1


def test_fingerprint_erased_by_a_later_chunk_is_info() -> None:
    erased = check(edit(T, 4, "system_fingerprint", None))
    assert [v.message for v in hits(erased, "OAS018")] == [
        "system_fingerprint missing on 1 chunk(s) after one carried it; "
        "openai-python overwrites the snapshot's value with None"
    ]
    late = check([edit(T, i, "system_fingerprint", None)[i] for i in range(4)] + [T[4]])
    assert [(v.severity, v.message) for v in hits(late, "OAS018")] == [
        ("info", "system_fingerprint absent from the first 4 chunk(s)")
    ]


def test_annotation_after_usage_is_a_warning() -> None:
    # Real gpt-5 streams end like this, and both SDKs' stream helpers lose the usage on it
    # (client matrix: usage_null_trailer): legal, but it breaks clients, so at least warn.
    found = hits(check([*T, _moderation()]), "OAS026")
    assert [(v.severity, v.chunk) for v in found] == [("warn", None)]
    assert "openai-node's finalChatCompletion() then report usage None" in found[0].message


def test_azure_filter_annotation_without_delta_warns_under_azure() -> None:
    # Azure's asynchronous filter sends choices without `delta` after the text; the usual
    # loop (choice.delta.content) raises AttributeError on them (client matrix).
    note = {
        "choices": [{"index": 0, "content_filter_results": {"hate": {"filtered": False}}}],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
    }
    found = hits(check(insert(T, 3, note), "azure"), "OAS011")
    assert [(v.severity, v.chunk) for v in found] == [("warn", 3)]
    assert "raises AttributeError" in found[0].message
    assert not hits(check([_azure_filter(), *T], "azure"), "OAS011")  # prologue: no choice


def test_xai_reasoning_in_the_total_is_a_warning_under_xai() -> None:
    # xAI counts reasoning tokens in total_tokens only; its profile accepts that, but LiteLLM
    # and the AI SDK rebuild the total without them (client matrix: xai__* rows).
    xai_usage = {**U, "total_tokens": 19, "completion_tokens_details": {"reasoning_tokens": 7}}
    stream = edit(T, 4, "usage", xai_usage)
    found = hits(check(stream, "xai"), "OAS028")
    assert [(v.severity, v.chunk) for v in found] == [("warn", 4)]
    assert "LiteLLM and the AI SDK report a total of 12" in found[0].message
    assert hits(check(stream), "OAS028")[0].severity == "error"


def test_azure_prologue_with_empty_model_warns_under_azure() -> None:
    found = hits(check([_azure_filter(), *T], "azure"), "OAS017")
    assert [(v.severity, v.chunk) for v in found] == [("warn", 0)]
    assert "the AI SDK takes both from it" in found[0].message


def test_same_usage_twice_warns_where_the_profile_allows_it() -> None:
    # Groq sends its usage on the finish chunk and again on the include_usage chunk (corpus
    # groq__kimi-k2_usage-twice.sse); LangChain adds both up (client matrix), so: warn.
    twice = edit(T, 3, "usage", U)
    found = hits(check(twice, "groq"), "OAS026")
    assert [(v.severity, v.chunk) for v in found] == [("warn", 4)]
    assert "LangChain adds the copies up" in found[0].message
    assert [v.severity for v in hits(check(twice), "OAS026")] == ["error"]  # openai: misplaced


def test_failed_request_is_reported_once_without_the_cascade() -> None:
    # A 429 with a JSON body is no SSE: before, OAS006, OAS008 and OAS041 judged it as a stream.
    source = resp(429, HTTP_JSON, '{"error": {"message": "Rate limit reached", "type": "x"}}')
    report = check(source)
    assert [(v.code, v.severity) for v in report.violations] == [("OAS002", "error")]
    assert "HTTP 429: 'Rate limit reached'" in report.violations[0].message
    assert not report.ok
    it = CheckedChunks(resp(429, HTTP_JSON, ERR[6:]), profile="openai", raise_on_error=False)
    assert list(it) == []
    assert it.report is not None and [v.code for v in it.report.violations] == ["OAS002"]
    with pytest.raises(StreamContractError, match="HTTP 500"):
        list(iter_checked_chunks(resp(500, HTTP_JSON, ERR[6:]), profile="openai"))


@pytest.mark.anyio
async def test_failed_request_async_source() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield ERR[6:].encode()

    source = httpx.Response(503, headers=HTTP_JSON, content=body())
    report = await acheck_chunk_stream(source, profile="openai")
    assert [(v.code, v.severity) for v in report.violations] == [("OAS002", "error")]


@pytest.mark.parametrize(
    "request_", [{"stream": True}, REQUEST | {"stream_options": {}}, None], ids=str
)
def test_missing_usage_needs_include_usage_in_the_request(request_: Any) -> None:
    assert not hits(check(T[:4], request=request_), "OAS042")


def test_named_tool_choice_may_finish_with_stop() -> None:
    stream = edit(TL, 5, "choices.0.finish_reason", "stop")
    named = REQUEST | {"tool_choice": {"type": "function", "function": {"name": "get_w"}}}
    assert not hits(check(stream, request=named), "OAS025")
    assert hits(check(stream, request=REQUEST | {"tool_choice": "auto"}), "OAS025")


# ------------------------------------------------------------------ profiles and options


BROKEN = edit(
    edit(T, 2, "id", "chatcmpl-other"), 1, "model", "gpt-4o-mini"
)  # OAS015 error, OAS017 warn


@pytest.mark.parametrize(
    ("level", "expected"), [("off", None), ("info", "info"), ("warn", "warn"), ("error", "error")]
)
def test_profile_severity_override(level: str, expected: str | None) -> None:
    prof = Profile(name="mine", extends="openai", severity={"OAS015": level})  # type: ignore[dict-item]
    report = check(BROKEN, prof)
    assert [v.severity for v in hits(report, "OAS015")] == ([expected] if expected else [])
    assert report.ok is (expected != "error")
    assert report.profile.name == "mine" and report.profile_reason == "given as a Profile"


def test_minor_findings_are_one_level_lower() -> None:
    stream = edit(T, 1, "choices.0.finish_reason", ...)  # a minor OAS011 finding
    assert [v.severity for v in hits(check(stream), "OAS011")] == ["warn"]
    for level, expected in (("warn", "info"), ("info", "info")):
        prof = Profile(name="x", extends="openai", severity={"OAS011": level})  # type: ignore[dict-item]
        assert [v.severity for v in hits(check(stream, prof), "OAS011")] == [expected]


def test_builtin_profile_relaxes_and_inherits() -> None:
    repeated = edit(T, 1, "choices.0.delta.role", "assistant")
    # deepseek repeats the role [oi-resp]: a warning there (the client matrix shows
    # openai-python's .stream() concatenating it), an error under openai.
    assert [v.severity for v in hits(check(repeated, "deepseek"), "OAS021")] == ["warn"]
    assert [v.severity for v in hits(check(repeated, "openai"), "OAS021")] == ["error"]
    mine = Profile(name="mine", extends="deepseek", severity={"OAS017": "off"})
    resolved = mine.resolve()
    assert resolved.usage_on_finish_chunk and resolved.severity["OAS021"] == "warn"
    assert resolved.severity["OAS017"] == "off"
    assert check(R, mine).violations == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"severity": {"OAS999": "warn"}},
        {"severity": {"OAS015": "fatal"}},
    ],
)
def test_custom_profile_rejects_unknown_codes_and_levels(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"OAS999|fatal"):
        Profile(name="bad", extends="openai", **kwargs)


def test_unknown_profile_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"known profiles: auto, .*openrouter"):
        get_profile("nope")
    with pytest.raises(ValueError, match="unknown profile"):
        check(T, "nope")


@pytest.mark.parametrize(
    "ignore", [["OAS015"], ["id-constant"], "OAS015", "id-constant, model-constant"]
)
def test_ignore_by_code_or_name(ignore: Any) -> None:
    report = check(BROKEN, ignore=ignore)
    assert not hits(report, "OAS015") and report.ok
    assert "OAS015" in report.ignored and "ignored: OAS015" in report.format()


def test_ignore_unknown_rule_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown rule 'OAS099'"):
        check(T, ignore=["OAS099"])


def test_strict_makes_warnings_fail() -> None:
    warn_only = edit(T, 2, "model", "gpt-4o-mini")  # OAS017 warn
    assert check(warn_only).ok
    report = check(warn_only, strict=True)
    assert not report.ok and [v.code for v in report.failures] == ["OAS017"]
    assert "[strict: warnings fail]" in report.format()
    with pytest.raises(StreamContractError, match="OAS017 model-constant"):
        assert_valid_chunk_stream(sse(warn_only), profile="openai", request=REQUEST, strict=True)
    assert assert_valid_chunk_stream(sse(warn_only), profile="openai", request=REQUEST).chunks


@pytest.mark.parametrize(
    ("code", "source"),
    [
        ("OAS027", T),
        ("OAS019", edit(T, 1, "choices.0.index", 1)),
        ("OAS037", LP),
        ("OAS025", edit(TL, 5, FINISH, "stop")),  # a named tool_choice would allow `stop`
    ],
)
def test_request_dependent_findings_drop_to_info_without_request(code: str, source: Any) -> None:
    with_req = hits(check(source, request={"stream": True}), code)
    without = hits(check(source, request=None), code)
    assert with_req and with_req[0].severity in ("warn", "error")
    assert [v.severity for v in without] == ["info"]
    assert "request unknown" in without[0].message


def test_stream_contract_error_names_everything() -> None:
    with pytest.raises(StreamContractError) as info:
        assert_valid_chunk_stream(sse(BROKEN), profile="openai", request=REQUEST)
    text = str(info.value)
    assert "stream contract violated" in text and "1 error(s), 1 warning(s)" in text
    assert "profile: openai (chosen explicitly)" in text
    assert "OAS015 id-constant [error] at chunk 2: id 'chatcmpl-other'" in text
    assert "OAS017 model-constant [warn] at chunk 1" in text
    assert '> {"id": "chatcmpl-other"' in text  # the excerpt starts at the offending key
    assert isinstance(info.value, AssertionError)
    assert [v.code for v in info.value.violations] == ["OAS017", "OAS015"]
    with pytest.raises(
        StreamContractError, match=r"profile: groq \(auto: request host api\.groq\.com\)"
    ):
        assert_valid_chunk_stream(
            sse(BROKEN), url="https://api.groq.com/openai/v1/chat/completions"
        )


def test_traceback_hides_plugin_frames(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user=f"""
        from pytest_oapi_stream import assert_valid_chunk_stream, iter_checked_chunks
        BODY = {sse(BROKEN)!r}

        def test_assert():
            assert_valid_chunk_stream(BODY, profile="openai")

        def test_iter():
            for _ in iter_checked_chunks(BODY, profile="openai"):
                pass
        """
    )
    # -rN: no short summary, which CI=true would print in full (a third copy of the message).
    result = pytester.runpytest("-p", "no:cacheprovider", "-rN")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert out.count("StreamContractError: stream contract violated") == 2
    assert "OAS015 id-constant [error] at chunk 2" in out
    assert "pytest_oapi_stream/" not in out  # no frame of the package's files
    assert (
        "test_user.py:5: StreamContractError" in out
        and "test_user.py:8: StreamContractError" in out
    )


# ------------------------------------------------------------------------ auto detection


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.openai.com/v1/chat/completions", "openai"),
        ("https://api.deepseek.com/chat/completions", "deepseek"),
        ("https://my-res.openai.azure.com/openai/deployments/x/chat/completions", "azure"),
        ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions", "qwen"),
        ("https://api.groq.com/openai/v1/chat/completions", "groq"),
        ("https://openrouter.ai/api/v1/chat/completions", "openrouter"),
        ("https://generativelanguage.googleapis.com/v1beta/openai/chat/completions", "gemini"),
        ("http://localhost:11434/v1/chat/completions", "ollama"),
        ("https://example.com/v1/chat/completions", "openai"),
    ],
)
def test_auto_profile_from_url_host(url: str, expected: str) -> None:
    report = check_chunk_stream(sse(T), url=url)
    assert report.profile.name == expected
    assert report.profile_reason.startswith("auto: ")


@pytest.mark.parametrize(
    ("chunks", "expected", "reason"),
    [
        (edit(T, 3, "x_groq", {"id": "req_1"}), "groq", "x_groq"),
        (edit(T, 3, "timings", {"predicted_n": 2}), "llamacpp", "timings"),
        ([_azure_filter(), *T], "azure", "prompt_filter_results"),
        (all_chunks(T, system_fingerprint="fp_ollama"), "ollama", "fp_ollama"),
        (all_chunks(R, model="deepseek-reasoner"), "deepseek", "reasoning_content"),
        (R, "openai", "no provider signal"),  # reasoning_content alone is not DeepSeek
        (T, "openai", "no provider signal"),
    ],
)
def test_auto_profile_from_stream_signals(
    chunks: list[dict[str, Any]], expected: str, reason: str
) -> None:
    report = check_chunk_stream(sse(chunks))
    assert report.profile.name == expected and reason in report.profile_reason


# ------------------------------------------------------------------------- sources and modes


def _verdict(report: Report) -> list[tuple[str, str, int | None]]:
    return [(v.code, v.severity, v.chunk) for v in report.violations]


SOURCES_BROKEN = edit(T, 1, "choices.0.delta.role", "assistant")  # OAS021 at chunk 1


def test_chunk_list_sources_dicts_models_and_openai_sdk() -> None:
    from openai.types.chat import ChatCompletionChunk as SdkChunk

    expected = [("OAS021", "error", 1)]
    as_sse = check(SOURCES_BROKEN)
    assert _verdict(as_sse) == expected
    for items in (
        SOURCES_BROKEN,
        [ChatCompletionChunk.model_validate(c) for c in SOURCES_BROKEN],
        [SdkChunk.model_validate(c) for c in SOURCES_BROKEN],
    ):
        report = check_chunk_stream(items, profile="openai", request=REQUEST)
        assert _verdict(report) == expected
        assert report.stream is not None and report.stream.text == "Hello world"


def test_chunk_lists_skip_framing_rules() -> None:
    report = check_chunk_stream(T[:1], profile="openai", request=REQUEST)  # no [DONE], truncated
    assert not hits(report, "OAS008")
    assert hits(report, "OAS023")


@pytest.mark.parametrize(("code", "severity", "at", "needle", "source", "opts"), BREAKS)
def test_iterating_gives_the_same_verdict(
    code: str, severity: str, at: int | None, needle: str, source: Any, opts: dict[str, Any]
) -> None:
    kept = check(source, **opts)
    src = sse(source) if isinstance(source, list) else source
    opts = {"profile": "openai", "request": REQUEST, **opts}
    it = CheckedChunks(src, raise_on_error=False, **opts)
    chunks = list(it)
    assert it.report is not None
    assert it.report.violations == kept.violations
    assert len(chunks) == len(kept.stream.chunks)  # type: ignore[union-attr]


def test_iter_checked_chunks_yields_then_raises() -> None:
    seen = []
    with pytest.raises(StreamContractError, match="OAS015"):
        for c in iter_checked_chunks(sse(BROKEN), profile="openai", request=REQUEST):
            seen.append(c)
    assert len(seen) == len(BROKEN)
    assert [c.id for c in iter_checked_chunks(sse(T), profile="openai", request=REQUEST)] == [
        s.ID
    ] * 5


async def _pieces(text: str, size: int = 7) -> AsyncIterator[bytes]:
    data = text.encode()
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.mark.anyio
async def test_async_twins() -> None:
    report = await acheck_chunk_stream(_pieces(sse(BROKEN)), profile="openai", request=REQUEST)
    assert _verdict(report) == _verdict(check(BROKEN))
    stream = await aassert_valid_chunk_stream(_pieces(sse(TL)), profile="openai", request=REQUEST)
    assert [c.name for c in stream.messages[0].tool_calls] == ["get_w", "get_t"]
    with pytest.raises(StreamContractError, match="OAS015 id-constant"):
        await aassert_valid_chunk_stream(_pieces(sse(BROKEN)), profile="openai", request=REQUEST)
    it = CheckedChunks(
        _pieces(sse(BROKEN)), profile="openai", request=REQUEST, raise_on_error=False
    )
    ids = [c.id async for c in it]
    assert len(ids) == 5 and it.report is not None and _verdict(it.report) == _verdict(report)
    with pytest.raises(TypeError, match="acheck_chunk_stream"):
        check_chunk_stream(_pieces(sse(T)))


def test_leading_bom_before_a_comment_line_is_a_warning() -> None:
    # openai-python misreads only the comment (`\ufeff:` is an unknown field): nothing is lost.
    report = check(b"\xef\xbb\xbf: keep-alive\n\n" + sse(T).encode())
    assert [(v.code, v.severity) for v in hits(report, "OAS001")] == [("OAS001", "warn")]
    assert not hits(check(sse(T).encode()), "OAS001")
    clean = check(resp(200, HTTP_SSE, sse(T)))
    assert not hits(clean, "OAS001") and not hits(clean, "OAS002")
