"""Linear time on hostile streams (issue 10, point 1): every rule and the fast path.

Each stream below makes per-chunk work that scans what came before quadratic. They run at a size
a quadratic path needs minutes for (measured before the fix: 40k new extension fields ~7 min,
32k choices in one chunk ~3 min) and a linear one a second or two. Nothing here is timed: a
regression shows as a suite that hangs. ``benchmarks/bench_hostile.py`` measures the ratios.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_oapi_stream import check_chunk_stream
from pytest_oapi_stream.chat import fastpath

ENV = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1700000000,
    "model": "gpt-4o",
    "system_fingerprint": "fp_1",
}


def sse(chunks: list[dict[str, Any]]) -> str:
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {**ENV, "choices": choices, **extra}


def call(i: int, *, indexed: bool = True, ident: bool = True) -> dict[str, Any]:
    c: dict[str, Any] = {"type": "function", "function": {"name": "f", "arguments": "{}"}}
    if indexed:
        c["index"] = i
    if ident:
        c["id"] = f"call_{i}"
    return c


def tool_stream(deltas: list[dict[str, Any]]) -> str:
    first = chunk([{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}])
    body = [chunk([{"index": 0, "delta": d, "finish_reason": None}]) for d in deltas]
    last = chunk([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}])
    return sse([first, *body, last])


def ext_fields(n: int) -> str:
    first = chunk([{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}])
    body = [
        chunk([{"index": 0, "delta": {"content": "a"}, "finish_reason": None}], **{f"x_{i}": 1})
        for i in range(n)
    ]
    return sse([first, *body, chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])])


def usage_choices(n: int) -> str:
    delta = {"role": "assistant", "content": "x"}
    return sse(
        [
            chunk(
                [{"index": i, "delta": delta, "finish_reason": "stop"}],
                usage={"prompt_tokens": 1, "completion_tokens": i, "total_tokens": i + 1},
            )
            for i in range(n)
        ]
    )


def choices_one_chunk(n: int) -> str:
    choices = [
        {"index": i, "delta": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}
        for i in reversed(range(n))
    ]
    return sse([chunk(choices)])


def test_a_new_extension_field_on_every_chunk() -> None:
    n = 30_000
    report = check_chunk_stream(ext_fields(n), profile="openai")
    assert report.codes() == ["OAS014"]
    assert len([v for v in report.violations if v.code == "OAS014"]) == n
    assert report.stream is not None and report.stream.text == "a" * n


def test_many_tool_calls_in_one_chunk() -> None:
    n = 64_000
    report = check_chunk_stream(tool_stream([{"tool_calls": [call(i) for i in range(n)]}]))
    assert report.ok and report.codes() == []
    msg = report.stream.message if report.stream else None
    assert msg is not None and len(msg.tool_calls) == n


def test_many_tool_calls_in_one_chunk_each_with_a_finding() -> None:
    n = 32_000
    text = tool_stream([{"tool_calls": [call(i, ident=False) for i in range(n)]}])
    report = check_chunk_stream(text, profile="openai")
    found = [v for v in report.violations if v.code == "OAS031"]
    assert len(found) == n
    assert found[-1].excerpt is not None and '"tool_calls"' in found[-1].excerpt


@pytest.mark.parametrize("indexed", [True, False], ids=["indexed", "no-index"])
def test_one_new_tool_call_per_chunk(indexed: bool) -> None:
    n = 20_000
    text = tool_stream([{"tool_calls": [call(i, indexed=indexed)]} for i in range(n)])
    report = check_chunk_stream(text, profile="openai")
    assert report.codes("warn") == ([] if indexed else ["OAS029"])
    msg = report.stream.message if report.stream else None
    assert msg is not None and [c.id for c in msg.tool_calls[-2:]] == [
        f"call_{n - 2}",
        f"call_{n - 1}",
    ]


def test_usage_on_every_chunk_of_many_choices() -> None:
    n = 24_000
    report = check_chunk_stream(usage_choices(n), profile="openai", request={"n": n})
    assert report.codes() == ["OAS026", "OAS027"]


def test_many_choices_opening_in_one_chunk() -> None:
    n = 32_000
    report = check_chunk_stream(choices_one_chunk(n), profile="openai", request={"n": n})
    assert report.codes() == ["OAS020"]
    assert report.stream is not None and len(report.stream.messages) == n


@pytest.mark.parametrize(
    "text",
    [
        ext_fields(50),
        tool_stream([{"tool_calls": [call(i)]} for i in range(50)]),
        tool_stream([{"tool_calls": [call(i, indexed=False)]} for i in range(50)]),
        tool_stream([{"tool_calls": [call(i) for i in range(50)]}]),
        tool_stream([{"tool_calls": [call(i) for i in (3, 1, 0, 2)]}]),
        usage_choices(50),
        choices_one_chunk(50),
    ],
)
def test_hostile_shapes_give_the_same_report_with_and_without_the_fast_path(text: str) -> None:
    saved = fastpath.ENABLED
    try:
        fastpath.ENABLED = False
        slow = check_chunk_stream(text, profile="openai", request={"n": 50})
    finally:
        fastpath.ENABLED = saved
    fast = check_chunk_stream(text, profile="openai", request={"n": 50})
    assert fast.violations == slow.violations
    assert fast.stream is not None and slow.stream is not None
    assert [m.to_dict() for m in fast.stream.messages] == [
        m.to_dict() for m in slow.stream.messages
    ]
