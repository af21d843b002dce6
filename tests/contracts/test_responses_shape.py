"""Stream shapes of Responses streams: what they keep, what they drop, one sentence per change."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_oapi_stream import check_response_stream
from pytest_oapi_stream.cli import main
from pytest_oapi_stream.contracts.shape import render_shape, stream_shape
from pytest_oapi_stream.contracts.shape_diff import diff_shapes

CORPUS = Path(__file__).parents[1] / "data" / "corpus-responses"
FUNC = CORPUS / "openai__gpt-4o_function-call.sse"
TEXT = CORPUS / "openai__gpt-4o_text.sse"
ROUTER = CORPUS / "openrouter__gpt-oss-20b_data-only-done-sentinel.sse"
CHAT = Path(__file__).parents[1] / "data" / "corpus" / "openai__gpt-4o_text_include-usage.sse"


def shape_of(body: bytes) -> dict[str, Any]:
    return stream_shape(check_response_stream(body))


def rewrite(body: bytes, edit: Callable[[dict[str, Any]], dict[str, Any] | None]) -> bytes:
    """The stream with each payload passed through ``edit`` (None drops the event)."""
    out = []
    for block in body.decode().split("\n\n"):
        lines = block.split("\n")
        data = [i for i, line in enumerate(lines) if line.startswith("data: {")]
        if data:
            payload = edit(json.loads(lines[data[0]][6:]))
            if payload is None:
                continue
            lines[data[0]] = "data: " + json.dumps(payload)
        out.append("\n".join(lines))
    return "\n\n".join(out).encode()


def test_every_corpus_stream_has_a_deterministic_shape_without_ids_or_text() -> None:
    for path in sorted(CORPUS.glob("*.sse")):
        body = path.read_bytes()
        text = render_shape(shape_of(body))
        assert text == render_shape(shape_of(body)), path.name
        assert "resp_" not in text, path.name
        assert "sequence_number: <number>" in text or "no-sequence" in path.name


def test_the_shape_names_events_items_parts_usage_and_the_terminal() -> None:
    shape = shape_of(TEXT.read_bytes())
    assert shape["surface"] == "responses"
    assert shape["events"][:2] == ["response.created", "response.in_progress"]
    assert shape["events"].count("response.output_text.delta") == 1  # repetition collapsed
    (item,) = shape["items"]
    assert item["type"] == "message" and item["parts"] == ["output_text"]
    assert (
        item["lifecycle"][0] == "output_item.added" and item["lifecycle"][-1] == "output_item.done"
    )
    assert shape["usage"]["placement"] == ["response.completed"]
    assert shape["terminal"] == "response.completed" and shape["terminator"] == "missing"
    assert shape["event_names"] == "all"
    delta = shape["fields"]["response.output_text.delta"]
    assert delta["delta"] == "<text>" and delta["item_id"] == "<id>"


def test_a_rewording_keeps_the_shape() -> None:
    body = TEXT.read_bytes()
    old = shape_of(body)
    # Other ids (everywhere alike), other timestamps, other words: the same structure.
    ids = {m.group(0) for m in re.finditer(rb"(resp|msg)_[0-9a-f]{20,}", body)}
    for n, ident in enumerate(sorted(ids)):
        body = body.replace(ident, ident[:4] + b"%040d" % n)
    body = re.sub(rb'"created_at":\d+', b'"created_at":1700000000', body)
    body = body.replace("Olá".encode(), b"Bonjour")
    assert diff_shapes(old, shape_of(body)) == []


def test_argument_deltas_gone_is_one_sentence() -> None:
    body = FUNC.read_bytes()
    new = rewrite(body, lambda ev: None if ev["type"].endswith("arguments.delta") else ev)
    sentences = diff_shapes(shape_of(body), shape_of(new))
    assert sentences[0] == (
        "the function_call item no longer streams argument deltas, only "
        "`function_call_arguments.done`"
    )
    assert not any("no longer sent" in s for s in sentences)  # not repeated


def test_usage_moved_is_one_sentence() -> None:
    body = FUNC.read_bytes()
    usage = {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}

    def move(ev: dict[str, Any]) -> dict[str, Any]:
        if ev["type"] == "response.in_progress":
            ev["response"]["usage"] = usage
        if ev["type"] == "response.completed":
            ev["response"]["usage"] = None
        return ev

    sentences = diff_shapes(shape_of(body), shape_of(rewrite(body, move)))
    assert sentences[0] == "usage moved from `response.completed` to `response.in_progress`"
    assert not any("response.usage" in s for s in sentences)


def test_event_names_and_done_sentinel() -> None:
    named = TEXT.read_bytes()
    bare = b"\n".join(line for line in named.split(b"\n") if not line.startswith(b"event:"))
    assert "events now carry `event:` names" in diff_shapes(shape_of(bare), shape_of(named))
    assert "events no longer carry `event:` names" in diff_shapes(shape_of(named), shape_of(bare))
    done = named.rstrip(b"\n") + b"\n\ndata: [DONE]\n\n"
    assert "`data: [DONE]` now ends the stream" in diff_shapes(shape_of(named), shape_of(done))
    router = shape_of(ROUTER.read_bytes())
    assert router["event_names"] == "none" and router["terminator"] == "present"


def test_terminal_and_new_fields() -> None:
    body = TEXT.read_bytes()

    def incomplete(ev: dict[str, Any]) -> dict[str, Any]:
        if ev["type"] == "response.completed":
            ev["type"] = "response.incomplete"
            ev["response"]["status"] = "incomplete"
            ev["response"]["incomplete_details"] = {"reason": "max_output_tokens"}
        return ev

    sentences = diff_shapes(shape_of(body), shape_of(rewrite(body, incomplete)))
    assert sentences[0] == (
        "the stream now ends with `response.incomplete` (was `response.completed`)"
    )

    def extra(ev: dict[str, Any]) -> dict[str, Any]:
        if ev["type"] == "response.output_text.delta":
            ev["x_trace"] = {"a": 1, "b": "z"}
        return ev

    sentences = diff_shapes(shape_of(body), shape_of(rewrite(body, extra)))
    assert "`response.output_text.delta` events now carry `x_trace`" in sentences


def test_a_chat_stream_turning_into_a_responses_stream_is_said() -> None:
    from pytest_oapi_stream import check_chunk_stream

    chat = stream_shape(check_chunk_stream(CHAT.read_bytes()))
    assert diff_shapes(chat, shape_of(TEXT.read_bytes())) == [
        "the stream is now a Responses stream (was a chat completions stream)"
    ]


def test_cli_diff_of_two_responses_recordings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = FUNC.read_bytes()
    new = tmp_path / "new.sse"
    new.write_bytes(
        rewrite(body, lambda ev: None if ev["type"].endswith("arguments.delta") else ev)
    )
    assert main(["diff", str(FUNC), str(FUNC)]) == 0
    capsys.readouterr()
    assert main(["diff", str(FUNC), str(new)]) == 1
    out = capsys.readouterr().out
    assert "no longer streams argument deltas" in out
    shape_file = tmp_path / "old.shape.yaml"
    assert main(["shape", str(FUNC)]) == 0
    shape_file.write_text(capsys.readouterr().out)
    assert yaml.safe_load(shape_file.read_text())["streams"][0]["surface"] == "responses"
    assert main(["diff", str(shape_file), str(FUNC)]) == 0


def test_repeated_blocks_collapse_so_the_model_s_choices_do_not_flap_the_shape() -> None:
    from pytest_oapi_stream.responses.shape import _collapse

    one_or_ten = ["d", "d", "a", "d", "d", "a", "d"]  # deltas around annotations
    assert _collapse(one_or_ten) == ["d", "a", "d"]
    parts = ["pa", "t", "t", "td", "pd", "pa", "t", "td", "pd", "pa", "t", "td", "pd"]
    assert _collapse(parts) == ["pa", "t", "td", "pd"]
    assert _collapse(["a", "b", "c"]) == ["a", "b", "c"]
    three = shape_of((CORPUS / "azure__gpt-5-mini_reasoning-summary-3-parts.sse").read_bytes())
    reasoning = three["items"][0]
    assert reasoning["lifecycle"].count("reasoning_summary_part.added") == 1
    assert reasoning["parts"] == ["summary_text"]


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.sse")), ids=lambda p: p.stem)
def test_the_cli_shape_keeps_no_events_and_equals_the_kept_stream_s(path: Path) -> None:
    """``oapi-stream shape`` takes a Responses shape in its checking pass (``check_response_lean``
    with a ``ResponseShapeBuilder``): the same document as from a kept stream."""
    from pytest_oapi_stream.cli.contracts import load_document
    from pytest_oapi_stream.responses.check import check_response_lean

    lean = check_response_lean(path)
    assert lean.stream is not None and lean.stream.events == []
    doc = load_document(path)
    assert doc["streams"] == [stream_shape(check_response_stream(path))]
