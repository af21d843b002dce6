"""Misuse of the check functions gets a TypeError/ValueError naming the argument (issue 10, 6).

Before, each of these raised from deep inside (json's encoder, RuleContext, the profile
resolver, the SSE windowing) with a message about internals: a raw TypeError, RecursionError
or AttributeError.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from pytest_oapi_stream import (
    acheck_chunk_stream,
    assert_valid_chunk_stream,
    check_chunk_stream,
    iter_checked_chunks,
)

CHUNK: dict[str, Any] = {
    "id": "c",
    "object": "chat.completion.chunk",
    "created": 1700000000,
    "model": "m",
    "choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": None}],
}
DONE = b"data: [DONE]\n\n"


def deep(levels: int) -> dict[str, Any]:
    top: dict[str, Any] = {}
    cur = top
    for _ in range(levels):
        cur["a"] = {}
        cur = cur["a"]
    return top


CASES: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    (
        "set",
        lambda: check_chunk_stream([CHUNK, {**CHUNK, "x": {1, 2}}]),
        TypeError,
        "item 1 of the chunk list holds a set at x",
    ),
    (
        "bytes",
        lambda: check_chunk_stream([{**CHUNK, "choices": [{"delta": {"content": b"ab"}}]}]),
        TypeError,
        "item 0 of the chunk list holds a bytes at choices[0].delta.content",
    ),
    (
        "deep",
        lambda: check_chunk_stream([{**CHUNK, "x": deep(100_000)}]),
        ValueError,
        "item 0 of the chunk list is nested more than 200 levels deep",
    ),
    (
        "mixed pieces",
        lambda: check_chunk_stream(iter([b"data: {}\n\n", 5])),
        TypeError,
        "piece 1 of the iterable is int",
    ),
    (
        "request",
        lambda: check_chunk_stream(DONE, request="x"),  # type: ignore[arg-type]
        TypeError,
        "request: expected the JSON request body as a dict",
    ),
    (
        "url",
        lambda: check_chunk_stream(DONE, url=5),  # type: ignore[arg-type]
        TypeError,
        "url: expected the request URL as a str, not int",
    ),
    (
        "ignore",
        lambda: check_chunk_stream(DONE, ignore=[5]),  # type: ignore[list-item]
        TypeError,
        "ignore: expected rule codes or names (str), got int 5",
    ),
    (
        "ignore not iterable",
        lambda: check_chunk_stream(DONE, ignore=5),  # type: ignore[arg-type]
        TypeError,
        "ignore: expected rule codes or names",
    ),
    (
        "assert request",
        lambda: assert_valid_chunk_stream(DONE, request=["x"]),  # type: ignore[arg-type]
        TypeError,
        "request: expected the JSON request body as a dict",
    ),
    (
        "iterating url",
        lambda: list(iter_checked_chunks(DONE, url=b"http://x")),  # type: ignore[arg-type]
        TypeError,
        "url: expected the request URL as a str, not bytes",
    ),
    (
        "iterating chunk list",
        lambda: list(iter_checked_chunks([CHUNK, {**CHUNK, "x": object()}])),
        TypeError,
        "item 1 of the chunk list holds a object at x",
    ),
]


@pytest.mark.parametrize(
    ("call", "kind", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_misuse_names_the_argument(
    call: Callable[[], object], kind: type[Exception], words: str
) -> None:
    with pytest.raises(kind) as info:
        call()
    assert words in str(info.value)
    assert not isinstance(info.value, RecursionError)


def test_async_sources_are_checked_piece_by_piece_too() -> None:
    async def pieces() -> AsyncIterator[object]:
        yield b"data: [DONE]\n\n"
        yield 5

    with pytest.raises(TypeError, match="piece 1 of the iterable is int"):
        asyncio.run(acheck_chunk_stream(pieces()))
    with pytest.raises(TypeError, match="request: expected the JSON request body"):
        asyncio.run(acheck_chunk_stream(pieces(), request="x"))  # type: ignore[arg-type]


def test_ignore_none_means_nothing_ignored_and_a_mapping_request_is_fine() -> None:
    from types import MappingProxyType

    report = check_chunk_stream(
        [CHUNK],
        ignore=None,  # type: ignore[arg-type]
        request=MappingProxyType({"n": 1}),  # type: ignore[arg-type]
    )
    assert "OAS021" in report.codes()
