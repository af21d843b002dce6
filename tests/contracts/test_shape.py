"""Stream shapes and their diffs: deterministic, blind to wording, ids and timestamps, and one
sentence for each structural change a provider upgrade can bring (the issue's five and more)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_oapi_stream import check_chunk_stream
from pytest_oapi_stream.contracts.shape import (
    SHAPE_FORMAT,
    ShapeError,
    is_shape_path,
    load_shape,
    parse_shape,
    render_shape,
    shape_document,
    shape_path_for,
    stream_shape,
    write_shape,
)
from pytest_oapi_stream.contracts.shape_diff import (
    check_shape_change,
    compare_with_stored,
    diff_shapes,
    record_shape,
)

CORPUS = Path(__file__).parents[1] / "data" / "corpus"
CORPUS_FILES = sorted(CORPUS.glob("*.sse"))

TEXT = "openai__gpt-4o_text_include-usage"
TOOL = "openai__gpt-4o_tool-call-single"
REASONING = "deepseek__deepseek-reasoner_reasoning-content"

Item = dict[str, Any] | str  # a JSON chunk, or a raw SSE block kept as is


# ------------------------------------------------------------------------------ helpers


def items(name: str) -> list[Item]:
    """A corpus stream as chunk dicts (raw blocks such as ``[DONE]`` kept as text)."""
    text = (CORPUS / f"{name}.sse").read_text(encoding="utf-8")
    out: list[Item] = []
    for block in re.split(r"\n\n+", text.strip("\n")):
        lines = block.split("\n")
        data = [ln[5:].lstrip(" ") for ln in lines if ln.startswith("data:")]
        if len(lines) == 1 and data and data[0] != "[DONE]":
            out.append(json.loads(data[0]))
        else:
            out.append(block)
    return out


def sse(stream: list[Item]) -> bytes:
    blocks = [
        "data: " + json.dumps(x, ensure_ascii=False) if isinstance(x, dict) else x for x in stream
    ]
    return ("\n\n".join(blocks) + "\n\n").encode("utf-8")


def chunks(stream: list[Item]) -> list[dict[str, Any]]:
    return [x for x in stream if isinstance(x, dict)]


def deltas(stream: list[Item]) -> list[dict[str, Any]]:
    return [ch["delta"] for c in chunks(stream) for ch in c.get("choices") or () if "delta" in ch]


def shape_of(data: bytes, **kwargs: Any) -> dict[str, Any]:
    return stream_shape(check_chunk_stream(data, **kwargs))


def volatile(stream: list[Item]) -> list[Item]:
    """Same structure, other values: ids, timestamps, fingerprints, wording, chunk count."""
    out = copy.deepcopy(stream)
    words = iter(["Bonjour", " tout", " le", " monde", ",", " encore", " une", " fois"] * 200)
    new_ids: dict[str, str] = {}
    for c in chunks(out):
        c["id"] = new_ids.setdefault(c["id"], f"chatcmpl-AGAIN{len(new_ids):020d}")
        c["created"] = 1731000000
        if c.get("system_fingerprint"):
            c["system_fingerprint"] = "fp_0123456789"
        for ch in c.get("choices") or ():
            d = ch.get("delta") or {}
            for key in ("content", "reasoning_content", "reasoning"):
                if isinstance(d.get(key), str) and d[key]:
                    d[key] = next(words)
            for frag in d.get("tool_calls") or ():
                if frag.get("id"):
                    frag["id"] = f"call_ANOTHER{frag['id'][-12:]}"
    # A longer answer: repeat a middle text delta a few times.
    for pos, x in enumerate(out[1:], 1):
        ch = x["choices"][0] if isinstance(x, dict) and x.get("choices") else {}
        if set(ch.get("delta") or {}) == {"content"} and not ch.get("finish_reason"):
            return out[:pos] + [copy.deepcopy(x) for _ in range(4)] + out[pos:]
    return out


def usage_on_finish(stream: list[Item]) -> list[Item]:
    out = copy.deepcopy(stream)
    usage_chunk = next(c for c in chunks(out) if c.get("choices") == [] and c.get("usage"))
    out.remove(usage_chunk)
    finish = [c for c in chunks(out) if any(ch.get("finish_reason") for ch in c["choices"])]
    finish[-1]["usage"] = usage_chunk["usage"]
    return out


def id_changes(stream: list[Item]) -> list[Item]:
    out = copy.deepcopy(stream)
    for c in chunks(out)[3:]:
        c["id"] = "chatcmpl-SECONDID"
    return out


def repeat_tool_ids(stream: list[Item]) -> list[Item]:
    out = copy.deepcopy(stream)
    first: dict[str, Any] | None = None
    for d in deltas(out):
        for frag in d.get("tool_calls") or ():
            if first is None:
                first = frag
            else:
                frag["id"] = first["id"]
    return out


def whole_tool_calls(stream: list[Item]) -> list[Item]:
    """Every call in one fragment: the opening fragment gets all the arguments."""
    out = copy.deepcopy(stream)
    opening: dict[str, Any] | None = None
    keep: list[Item] = []
    for x in out:
        frags = []
        if isinstance(x, dict):
            for ch in x.get("choices") or ():
                frags += (ch.get("delta") or {}).get("tool_calls") or []
        if frags and opening is not None and "id" not in frags[0]:
            opening["function"]["arguments"] += frags[0]["function"].get("arguments", "")
            continue
        if frags:
            opening = frags[0]
        keep.append(x)
    return keep


def add_field(stream: list[Item], name: str = "x_foo", value: Any = "bar") -> list[Item]:
    out = copy.deepcopy(stream)
    for c in chunks(out):
        c[name] = value
    return out


def rename_reasoning(
    stream: list[Item], old: str = "reasoning_content", new: str = "reasoning"
) -> list[Item]:
    out = copy.deepcopy(stream)
    for d in deltas(out):
        if old in d:
            d[new] = d.pop(old)
    return out


# ------------------------------------------------------------------------------ the shape


def test_shape_is_deterministic_and_json_serialisable() -> None:
    data = (CORPUS / f"{TOOL}.sse").read_bytes()
    one, two = shape_of(data), shape_of(data)
    assert one == two
    assert json.loads(json.dumps(one)) == one
    assert render_shape(one) == render_shape(two)


def test_shape_drops_wording_ids_and_timestamps() -> None:
    shape = shape_of((CORPUS / f"{TOOL}.sse").read_bytes())
    text = render_shape(shape)
    for volatile_value in ("chatcmpl-", "call_", "1727346176", "fp_", "GetWeatherArgs", "city"):
        assert volatile_value not in text
    first = shape["chunks"]["first"]
    assert first["id"] == "<id>"
    assert first["created"] == "<timestamp>"
    assert first["choices[].delta.role"] == "assistant"
    assert first["choices[].delta.tool_calls[].id"] == "<id>"
    assert shape["chunks"]["finish"]["choices[].finish_reason"] == "tool_calls"
    # Only keys the provider sent: a later fragment carries index and arguments, nothing else.
    middle = shape["chunks"]["middle"]
    assert sorted(p for p in middle if p.startswith("choices[].delta")) == [
        "choices[].delta.tool_calls[].function.arguments",
        "choices[].delta.tool_calls[].index",
    ]
    assert "usage" not in first
    assert shape["tool_calls"]["id"] == "first-fragment-only"
    assert shape["tool_calls"]["fragments"] == "several-per-call"
    assert shape["usage"]["placement"] == ["separate-chunk"]


@pytest.mark.parametrize("name", [TEXT, TOOL, REASONING, "openai__gpt-4o_tool-calls-parallel"])
def test_other_text_ids_and_timestamps_give_the_same_shape(name: str) -> None:
    base = items(name)
    again = volatile(base)
    assert sse(again) != sse(base)
    assert diff_shapes(shape_of(sse(base)), shape_of(sse(again))) == []
    assert shape_of(sse(base)) == shape_of(sse(again))


def test_every_corpus_stream_has_a_stable_shape_that_round_trips(tmp_path: Path) -> None:
    shapes = [shape_of(p.read_bytes()) for p in CORPUS_FILES]
    doc = shape_document(shapes)
    for fmt in ("yaml", "json"):
        text = render_shape(doc, fmt)
        assert parse_shape(text) == doc
    written = write_shape(tmp_path / "corpus.yaml", doc)
    assert written == tmp_path / "corpus.shape.yaml"
    assert load_shape(written) == doc
    assert diff_shapes(doc, load_shape(written)) == []


def test_rendered_yaml_has_one_fact_a_line() -> None:
    text = render_shape(shape_of((CORPUS / f"{TEXT}.sse").read_bytes()))
    assert text.startswith("# Stream shape")
    assert f"format: {SHAPE_FORMAT}" in text
    for line in text.splitlines():
        assert not line.rstrip().endswith(("{", "[")), line  # no flow collections
    # Sections appear in stream order, not alphabetically.
    order = [text.index(f"      {s}:") for s in ("first", "middle", "finish", "after_finish")]
    assert order == sorted(order)


# ------------------------------------------------------------------------------ the diffs

Variant = Callable[[list[Item]], list[Item]]

FIVE: list[tuple[str, str, Variant, list[str]]] = [
    (
        "usage placement",
        TEXT,
        usage_on_finish,
        ["usage moved from a separate `choices: []` chunk to the finish chunk"],
    ),
    (
        "id behaviour",
        TEXT,
        id_changes,
        [
            "the chunk `id` is now changing during the stream (was the same on every chunk)",
            "OAS015 id-constant now fails",
        ],
    ),
    ("tool-call ids", TOOL, repeat_tool_ids, ["tool-call ids now repeated in later fragments"]),
    (
        "tool-call fragmentation",
        TOOL,
        whole_tool_calls,
        ["tool calls now arrive whole in one fragment (were split over several fragments)"],
    ),
    ("new extension field", TEXT, add_field, ["new field `x_foo` on every chunk"]),
    (
        "reasoning renamed",
        REASONING,
        rename_reasoning,
        ["reasoning field renamed from `reasoning_content` to `reasoning`"],
    ),
]


@pytest.mark.parametrize(("what", "name", "change", "expected"), FIVE, ids=[f[0] for f in FIVE])
def test_each_structural_change_is_named_in_a_sentence(
    what: str, name: str, change: Variant, expected: list[str]
) -> None:
    base = items(name)
    old = shape_of(sse(base))
    new = shape_of(sse(change(base)))
    sentences = diff_shapes(old, new)
    for sentence in expected:
        assert sentence in sentences, (what, sentences)
    # The same change, re-recorded with other text, ids and timestamps: the same sentences.
    assert diff_shapes(old, shape_of(sse(volatile(change(base))))) == sentences


def test_consequences_of_a_named_change_are_not_repeated() -> None:
    base = items(TEXT)
    sentences = diff_shapes(shape_of(sse(base)), shape_of(sse(usage_on_finish(base))))
    # Usage moved; the vanished `choices: []` chunk and its fields are part of that sentence.
    assert sentences == [
        "usage moved from a separate `choices: []` chunk to the finish chunk",
        "OAS026 usage-last-chunk now fails",
    ]
    renamed = diff_shapes(
        shape_of(sse(items(REASONING))),
        shape_of(sse(rename_reasoning(items(REASONING))), profile="deepseek"),
    )
    assert renamed == ["reasoning field renamed from `reasoning_content` to `reasoning`"]


def test_reverse_changes_read_the_other_way() -> None:
    base = items(TEXT)
    old, new = shape_of(sse(base)), shape_of(sse(add_field(base)))
    assert diff_shapes(new, old) == ["field `x_foo` no longer sent (was on every chunk)"]
    moved = shape_of(sse(usage_on_finish(base)))
    assert diff_shapes(moved, old)[0] == (
        "usage moved from the finish chunk to a separate `choices: []` chunk"
    )


def test_nested_new_field_is_named_once_by_its_root() -> None:
    base = items(TEXT)
    changed = add_field(base, "x_meta", {"region": "eu", "latency_ms": 12})
    assert diff_shapes(shape_of(sse(base)), shape_of(sse(changed))) == [
        "new field `x_meta` on every chunk"
    ]


def test_more_structural_changes_each_get_a_sentence() -> None:
    base = items(TEXT)
    old = shape_of(sse(base))
    no_done = [x for x in base if x != "data: [DONE]"]
    assert "the stream no longer ends with `data: [DONE]`" in diff_shapes(
        old, shape_of(sse(no_done))
    )
    keepalive = [": keep-alive", *base]
    assert diff_shapes(old, shape_of(sse(keepalive)))[0] == "new SSE comment line `: keep-alive`"
    length = copy.deepcopy(base)
    for c in chunks(length):
        for ch in c["choices"]:
            if ch.get("finish_reason"):
                ch["finish_reason"] = "length"
    assert "finish_reason now `length` (was `stop`)" in diff_shapes(old, shape_of(sse(length)))


def test_any_difference_yields_a_sentence_across_the_corpus() -> None:
    shapes = {p.stem: shape_of(p.read_bytes()) for p in CORPUS_FILES[:24]}
    for a, old in shapes.items():
        for b, new in shapes.items():
            sentences = diff_shapes(old, new)
            assert bool(sentences) == (old != new), (a, b)
            assert len(sentences) == len(set(sentences)), (a, b, sentences)


def test_documents_with_several_streams_prefix_the_stream() -> None:
    a = shape_of((CORPUS / f"{TEXT}.sse").read_bytes())
    b = shape_of(sse(add_field(items(TEXT))))
    assert diff_shapes(shape_document([a, a]), shape_document([a, b])) == [
        "stream #1: new field `x_foo` on every chunk"
    ]
    assert diff_shapes(shape_document([a]), shape_document([a, a])) == [
        "now 2 streamed response(s) (was 1)"
    ]


def test_parse_shape_rejects_what_is_not_a_shape() -> None:
    with pytest.raises(ShapeError, match="not a stream shape"):
        parse_shape("interactions: []\n")
    with pytest.raises(ShapeError, match="format"):
        parse_shape("format: oapi-stream-shape/999\nstreams: []\n")
    with pytest.raises(ShapeError, match="not valid YAML/JSON"):
        parse_shape("a: [\n")


def hand_broken(text: str) -> str:
    """A shape file as a hand edit leaves it: a value on line 9 that YAML cannot read."""
    lines = text.splitlines(keepends=True)
    assert lines[8].rstrip().endswith(": <null>"), lines[8]  # a `path: <null>` line
    lines[8] = lines[8].rstrip() + ": maybe\n"
    return "".join(lines)


def test_invalid_yaml_in_a_shape_names_the_file_line_and_column(tmp_path: Path) -> None:
    text = hand_broken(render_shape(shape_of(sse(items(TEXT)))))
    column = text.splitlines()[8].index(": maybe") + 1  # 1-based, where YAML gives up
    with pytest.raises(ShapeError) as raised:
        parse_shape(text, where="x.shape.yaml")
    message = str(raised.value)
    assert message == (
        f"x.shape.yaml: not valid YAML/JSON at line 9, column {column}: "
        "mapping values are not allowed in this context"
    )
    assert "\n" not in message


def test_shape_of_a_bare_chunk_stream_rechecks_its_chunks() -> None:
    report = check_chunk_stream((CORPUS / f"{TEXT}.sse").read_bytes())
    assert report.stream is not None
    from_stream = stream_shape(report.stream)
    assert from_stream["chunks"] == stream_shape(report)["chunks"]
    with pytest.raises(TypeError):
        stream_shape("not a report")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ cassettes


def cassette(path: Path, bodies: list[bytes], request: dict[str, Any] | None = None) -> Path:
    """A vcrpy cassette (YAML) with one streamed chat completion per body."""
    req = request or REQUEST
    doc = {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "uri": URL,
                    "headers": {"content-type": ["application/json"]},
                    "body": json.dumps(req),
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"content-type": ["text/event-stream; charset=utf-8"]},
                    "body": {"string": body.decode("utf-8")},
                },
            }
            for body in bodies
        ],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


REQUEST = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
URL = "https://api.openai.com/v1/chat/completions"


def reports(*bodies: bytes) -> list[Any]:
    """What the plugin checks after recording: each stream with its request and URL."""
    return [check_chunk_stream(b, request=REQUEST, url=URL) for b in bodies]


def test_shape_path_sits_beside_the_cassette() -> None:
    assert shape_path_for("cassettes/test_x/test_y.yaml") == Path(
        "cassettes/test_x/test_y.shape.yaml"
    )
    assert shape_path_for("c/test_y.shape.yaml") == Path("c/test_y.shape.yaml")
    assert is_shape_path("c/test_y.shape.yaml")
    assert not is_shape_path("c/test_y.yaml")


def test_record_shape_writes_then_gates_a_changed_stream(tmp_path: Path) -> None:
    base = sse(items(TEXT))
    cas = cassette(tmp_path / "test_chat.yaml", [base])
    first = record_shape(cas, reports(base))
    assert not first.changed
    stored = shape_path_for(cas).read_text(encoding="utf-8")
    # Same structure, other text and ids: passes, shape file unchanged.
    assert check_shape_change(cas, reports(sse(volatile(items(TEXT))))) == []
    # Usage moved: fails with the sentence; nothing is written until accepted.
    change = record_shape(cas, reports(sse(usage_on_finish(items(TEXT)))))
    assert change.changed and change.stored
    assert "usage moved from a separate `choices: []` chunk to the finish chunk" in change.sentences
    assert "--oapi-accept-changes" in change.message()
    assert shape_path_for(cas).read_text(encoding="utf-8") == stored
    accepted = record_shape(cas, reports(sse(usage_on_finish(items(TEXT)))), accept=True)
    assert accepted.changed
    assert shape_path_for(cas).read_text(encoding="utf-8") != stored
    assert check_shape_change(cas, reports(sse(usage_on_finish(items(TEXT))))) == []


def test_an_old_cassette_without_a_shape_is_its_own_baseline(tmp_path: Path) -> None:
    base = sse(items(TOOL))
    cas = cassette(tmp_path / "test_tool.yaml", [base])
    assert not shape_path_for(cas).exists()
    assert check_shape_change(cas, reports(base)) == []
    assert check_shape_change(cas, reports(sse(repeat_tool_ids(items(TOOL))))) == [
        "tool-call ids now repeated in later fragments",
        "OAS032 tool-later-fragments now fails",
    ]
    missing = compare_with_stored(tmp_path / "nothing.yaml", reports(base))
    assert not missing.stored and not missing.changed


def test_an_unreadable_stored_shape_is_a_change(tmp_path: Path) -> None:
    cas = tmp_path / "test_x.yaml"
    shape_path_for(cas).write_text("format: something-else\nstreams: []\n", encoding="utf-8")
    sentences = check_shape_change(cas, reports(sse(items(TEXT))))
    assert len(sentences) == 1 and sentences[0].startswith("the stored shape is unreadable")


def test_a_broken_stored_shape_says_where_and_how_to_recover(tmp_path: Path) -> None:
    """A hand-edited shape file with invalid YAML: the failure names the file, line and
    column, and both ways out; both work (accepting writes a readable shape over it)."""
    body = sse(items(TEXT))
    cas = cassette(tmp_path / "test_x.yaml", [body])
    shape = shape_path_for(cas)
    record_shape(cas, reports(body))
    good = shape.read_text(encoding="utf-8")
    shape.write_text(hand_broken(good), encoding="utf-8")
    change = compare_with_stored(cas, reports(body))
    assert change.changed and change.problem is not None
    first, second = change.message().splitlines()
    assert first.startswith(
        f"stored stream shape {shape}: not valid YAML/JSON at line 9, column "
    ), first
    assert first.endswith("mapping values are not allowed in this context")
    assert second == (
        f"The old cassette and shape are unchanged. Delete {shape.name} to compare the next "
        "recording with the cassette it was made from, or re-record with --oapi-accept-changes "
        "to replace it unread."
    )
    assert shape.read_text(encoding="utf-8") == hand_broken(good)  # nothing written
    record_shape(cas, reports(body), accept=True)
    assert shape.read_text(encoding="utf-8") == good
    shape.unlink()  # the other way out: the cassette is the baseline again
    assert not compare_with_stored(cas, reports(body)).changed


def test_the_old_cassette_baseline_is_checked_like_the_new_streams(tmp_path: Path) -> None:
    body = sse(repeat_tool_ids(items(TOOL)))
    cas = cassette(tmp_path / "test_ignored.yaml", [body])
    ignored = [check_chunk_stream(body, request=REQUEST, url=URL, ignore=["OAS032"])]
    assert check_shape_change(cas, ignored, ignore=["OAS032"]) == []
    assert check_shape_change(cas, ignored) == [
        "OAS032 tool-later-fragments now passes (was failing)"
    ]
    change = compare_with_stored(cas, ignored, ignore=["OAS032"])
    assert change.write() == shape_path_for(cas)
    assert check_shape_change(cas, ignored) == []  # now the shape file is the baseline
