"""Re-recording through the loopback server: each structural change of the issue's five is named,
and a stream whose text, ids and timestamps changed but whose structure did not passes.

The streams go over real HTTP (``OAPIServer`` + httpx), as a re-recording against a provider
would; the shape gate (``record_shape``) then compares them with the stored shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_oapi_stream import check_chunk_stream
from pytest_oapi_stream.contracts.shape import shape_path_for
from pytest_oapi_stream.contracts.shape_diff import record_shape

httpx = pytest.importorskip("httpx")
server_mod = pytest.importorskip("pytest_oapi_stream.server.provider")

REQUEST: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "stream": True,
    "stream_options": {"include_usage": True},
    "messages": [{"role": "user", "content": "What's the weather in Paris?"}],
}
TOOLS = [{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}]


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with server_mod.OAPIServer() as srv:
        yield srv


def fetch(server: Any, **script: Any) -> Any:
    """Script the next answer, fetch it over HTTP, check it with its request: one report."""
    raw = script.pop("raw", None)
    if raw is not None:
        server.serve_sse(raw)
    else:
        server.stream(**script)
    url = server.base_url + "/chat/completions"
    body = httpx.post(url, json=REQUEST, timeout=10).content
    return check_chunk_stream(body, request=REQUEST, url=url)


def edit(body: bytes, change: Any) -> bytes:
    """Apply ``change(chunk_dict)`` to every JSON chunk of an SSE body."""
    out = []
    for block in body.decode("utf-8").split("\n\n"):
        if block.startswith("data: {"):
            chunk = json.loads(block[6:])
            change(chunk)
            block = "data: " + json.dumps(chunk)
        out.append(block)
    return "\n\n".join(out).encode("utf-8")


def raw(server: Any, **script: Any) -> bytes:
    server.stream(**script)
    return bytes(
        httpx.post(server.base_url + "/chat/completions", json=REQUEST, timeout=10).content
    )


def add_x_foo(chunk: dict[str, Any]) -> None:
    chunk["x_foo"] = "bar"


def rename_reasoning(chunk: dict[str, Any]) -> None:
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") or {}
        if "reasoning_content" in delta:
            delta["reasoning"] = delta.pop("reasoning_content")


def test_same_structure_other_text_ids_and_timestamps_passes(server: Any, tmp_path: Path) -> None:
    cas = tmp_path / "test_weather.yaml"
    first = fetch(server, text="Sunny, 21 degrees.", reasoning="Check the forecast.", seed=1)
    assert not record_shape(cas, [first]).changed
    again = fetch(
        server,
        text="Light rain this afternoon, around fourteen degrees, with wind from the west.",
        reasoning="The user wants today's weather; look it up and answer briefly.",
        seed=7,
        created=1732600123,
    )
    assert again.stream.text != first.stream.text
    assert again.stream.chunks[0].id != first.stream.chunks[0].id
    change = record_shape(cas, [again])
    assert change.sentences == []


FIVE = [
    (
        "usage placement",
        {"text": "Sunny."},
        {"text": "Sunny.", "faults": {"usage_every_chunk": True}},
        "usage moved from a separate `choices: []` chunk to every chunk",
    ),
    (
        "id behaviour",
        {"text": "Sunny, 21 degrees."},
        {"text": "Sunny, 21 degrees.", "faults": {"change_id_at": 2}},
        "OAS015 id-constant now fails",
    ),
    (
        "tool-call fragmentation",
        {"tool_calls": TOOLS},
        {"tool_calls": TOOLS, "faults": {"repeat_tool_ids": True}},
        "tool-call ids now repeated in later fragments",
    ),
    (
        "new extension field",
        {"text": "Sunny."},
        {"text": "Sunny.", "edit": add_x_foo},
        "new field `x_foo` on every chunk",
    ),
    (
        "reasoning renamed",
        {"text": "Sunny.", "reasoning": "Look it up."},
        {"text": "Sunny.", "reasoning": "Look it up.", "edit": rename_reasoning},
        "reasoning field renamed from `reasoning_content` to `reasoning`",
    ),
]


@pytest.mark.parametrize(("what", "old", "new", "sentence"), FIVE, ids=[f[0] for f in FIVE])
def test_each_structural_change_fails_with_its_sentence(
    server: Any,
    tmp_path: Path,
    what: str,
    old: dict[str, Any],
    new: dict[str, Any],
    sentence: str,
) -> None:
    cas = tmp_path / "test_recorded.yaml"
    assert not record_shape(cas, [fetch(server, seed=1, **old)]).changed
    stored = shape_path_for(cas).read_text(encoding="utf-8")
    script = dict(new)
    change_fn = script.pop("edit", None)
    if change_fn is not None:
        report = fetch(server, raw=edit(raw(server, seed=2, **script), change_fn))
    else:
        report = fetch(server, seed=2, **script)
    change = record_shape(cas, [report])
    assert change.changed, what
    assert sentence in change.sentences, change.sentences
    assert sentence in change.message()
    # Not accepted: the stored shape is untouched.
    assert shape_path_for(cas).read_text(encoding="utf-8") == stored
