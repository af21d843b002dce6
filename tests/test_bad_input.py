"""Bad input never crashes the checker: it becomes violations (or a clear SourceError)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_oapi_stream import CheckedChunks, SourceError, check_chunk_stream

DATA = Path(__file__).parent / "data"
CLEAN = (DATA / "corpus" / "openai__gpt-4o_tool-calls-parallel.sse").read_bytes()
TEXT = (DATA / "corpus" / "openai__gpt-4o_text_include-usage.sse").read_bytes()


def _codes(data: bytes | str, **kw: object) -> set[str]:
    return set(check_chunk_stream(data, profile="openai", **kw).codes("info"))  # type: ignore[arg-type]


def test_clean_corpus_stream_is_ok() -> None:
    report = check_chunk_stream(CLEAN, profile="openai")
    assert report.ok, report.format()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("null", "OAS007"),
        ("[1, 2]", "OAS007"),
        ('"text"', "OAS007"),
        ("42", "OAS007"),
        ("{not json", "OAS007"),
        ('{"id": "x"' + "}" * 0, "OAS007"),
    ],
)
def test_non_object_payloads_are_oas007(payload: str, code: str) -> None:
    body = f"data: {payload}\n\n".encode() + TEXT
    report = check_chunk_stream(body, profile="openai")
    hits = [v for v in report.violations if v.code == code]
    assert hits and hits[0].severity == "error"
    assert "line 1" in hits[0].message


def test_random_bytes_give_violations_not_exceptions() -> None:
    import random

    rng = random.Random(7)
    for _ in range(50):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        report = check_chunk_stream(blob)
        assert not report.ok  # no [DONE], no chunk: at least OAS008/OAS041


def test_truncated_stream_reports_done_and_finish() -> None:
    cut = CLEAN[: len(CLEAN) // 2]
    codes = _codes(cut)
    assert "OAS008" in codes
    assert "OAS023" in codes


def test_ten_megabyte_line() -> None:
    big = "x" * (10 * 1024 * 1024)
    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1732500000,
        "model": "m",
        "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": big}, "finish_reason": "stop"}
        ],
    }
    body = ("data: " + json.dumps(chunk) + "\n\ndata: [DONE]\n\n").encode()
    pieces = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    report = check_chunk_stream(pieces, profile="openai")
    assert report.ok, report.format()
    assert report.stream is not None and len(report.stream.text) == len(big)


def test_deeply_nested_json_is_a_violation() -> None:
    nested = '{"id": "c", "choices": [], "x": ' + "[" * 5000 + "]" * 5000 + "}"
    report = check_chunk_stream(f"data: {nested}\n\ndata: [DONE]\n\n", profile="openai")
    assert not report.ok


def test_bom_in_the_middle_and_nul_bytes() -> None:
    lines = TEXT.split(b"\n\n")
    lines.insert(3, b"data: \xef\xbb\xbf{}")
    lines.insert(5, b"data: {\x00}")
    report = check_chunk_stream(b"\n\n".join(lines), profile="openai")
    assert "OAS007" in report.codes()
    assert sum(1 for v in report.violations if v.code == "OAS007") == 2


def test_invalid_utf8_reported_with_byte_offset() -> None:
    at = TEXT.index(b"Hello") if b"Hello" in TEXT else 200
    body = TEXT[:at] + b"\xff\xfe" + TEXT[at:]
    report = check_chunk_stream(body, profile="openai")
    hits = [v for v in report.violations if v.code == "OAS001"]
    assert hits, report.format()
    assert str(at) in hits[0].message


def test_unknown_source_type_is_a_clear_error() -> None:
    with pytest.raises(SourceError, match="cannot read a stream from object"):
        check_chunk_stream(object())
    with pytest.raises(SourceError, match="single chunk"):
        check_chunk_stream({"id": "x"})


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such stream file"):
        check_chunk_stream(tmp_path / "nope.sse")


def test_unknown_profile_and_ignore_code() -> None:
    with pytest.raises(ValueError, match="unknown profile 'nope'; known profiles: auto"):
        check_chunk_stream(CLEAN, profile="nope")
    with pytest.raises(ValueError, match="unknown rule 'OAS999'"):
        check_chunk_stream(CLEAN, ignore=["OAS999"])


def _verdict(data: bytes | list[bytes]) -> tuple[list[str], list[tuple[str, int | None]]]:
    report = check_chunk_stream(data, profile="openai")
    assert report.stream is not None
    chunks = [c.model_dump_json() for c in report.stream.chunks]
    return chunks, [(v.code, v.chunk) for v in report.violations]


_WHOLE = {name: _verdict(data) for name, data in {"clean": CLEAN, "text": TEXT}.items()}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(_WHOLE)),
    cuts=st.lists(st.integers(min_value=0, max_value=len(TEXT)), max_size=40),
)
def test_any_split_gives_same_chunks_and_verdict(name: str, cuts: list[int]) -> None:
    data = CLEAN if name == "clean" else TEXT
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert _verdict(pieces) == _WHOLE[name]


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600))
def test_checker_never_raises_on_arbitrary_bytes(blob: bytes) -> None:
    data = TEXT[:300] + blob
    report = check_chunk_stream(data, profile="openai")
    # the iterating mode reaches the same verdict without raising from inside
    it = CheckedChunks(data, profile="openai", raise_on_error=False)
    seen = sum(1 for _ in it)
    assert it.report is not None and report.stream is not None
    assert seen == len(report.stream.chunks)
    assert it.report.codes() == report.codes()
