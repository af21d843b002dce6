"""The lenient slow path both parsers share: is a failed payload an object, and its repair."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from pytest_oapi_stream.chat.parse import parse_payload
from pytest_oapi_stream.core.lenient import (
    MAX_REPAIRS,
    SchemaError,
    decode_object,
    kind_of,
    repair,
)
from pytest_oapi_stream.responses.parse import ParsedEvent, parse_event


class Part(BaseModel):
    text: str | None = None


class Doc(BaseModel):
    type: str
    n: int | None = None
    parts: list[Part] = []


def _errors(data: str) -> list[Any]:
    with pytest.raises(ValidationError) as info:
        Doc.model_validate_json(data)
    return list(info.value.errors(include_url=False))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("{", "not valid JSON (Invalid JSON: EOF while parsing an object"),
        ("[1, 2]", "payload is an array, not a JSON object"),
        ("null", "payload is null, not a JSON object"),
        ('"x"', "payload is a string, not a JSON object"),
        ("1.5", "payload is a number, not a JSON object"),
        ("true", "payload is a boolean, not a JSON object"),
    ],
)
def test_a_payload_that_is_no_object_is_named(data: str, problem: str) -> None:
    found = decode_object(data, _errors(data))
    assert isinstance(found, str) and found.startswith(problem)
    # both parsers say the same
    assert (parse_payload(data).problem or "").startswith(problem)
    event = parse_event(data)
    assert isinstance(event, ParsedEvent) and (event.problem or "").startswith(problem)


def test_kind_of_names_json_values() -> None:
    values: list[Any] = [None, [], "", 0, 0.5, False, {}]
    assert [kind_of(v) for v in values] == [
        "null",
        "an array",
        "a string",
        "a number",
        "a number",
        "a boolean",
        "dict",
    ]


def test_repair_nulls_out_each_broken_value_and_names_it_once() -> None:
    data = '{"type": "t", "n": "many", "parts": [{"text": 5}, 7, {"text": "ok"}]}'
    doc = decode_object(data, _errors(data))
    assert isinstance(doc, dict)
    calls: list[int] = []

    def validate(d: dict[str, Any]) -> Doc:
        calls.append(1)
        return Doc.model_validate(d)

    fixed, schema = repair(doc, validate, _errors(data))
    assert fixed is not None and fixed.n is None and fixed.parts[2].text == "ok"
    assert [e.path for e in schema] == ["n", "parts[0].text", "parts[1]"]
    assert schema[0] == SchemaError("n", schema[0].message, '"many"')
    assert len(calls) == 1  # the errors given count as the first validation


def test_repair_keeps_the_locations_it_is_told_to() -> None:
    doc: dict[str, Any] = {"type": 3, "n": "x"}
    fixed, schema = repair(doc, Doc.model_validate, keep={("type",)})
    assert fixed is None  # `type` stays wrong: the payload cannot be repaired
    assert [e.path for e in schema] == ["n"] and doc["type"] == 3
    fixed, schema = repair({"type": 3}, Doc.model_validate)
    assert fixed is None and [e.path for e in schema] == ["type"]  # nulled, still required


def test_repair_gives_up_after_a_bounded_number_of_validations() -> None:
    calls: list[int] = []

    def never(d: dict[str, Any]) -> Doc:
        calls.append(1)
        return Doc.model_validate({"type": None})

    fixed, schema = repair({"type": "t", "n": 1}, never)
    assert fixed is None and [e.path for e in schema] == ["type"]
    assert len(calls) == 1 + MAX_REPAIRS


def test_both_parsers_repair_the_same_way() -> None:
    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": 5}, "finish_reason": None}],
    }
    parsed = parse_payload(json.dumps(chunk))
    assert parsed.kind == "chunk" and parsed.chunk is not None
    assert [e.path for e in parsed.schema_errors] == ["choices[0].delta.content"]
    event = parse_event(
        json.dumps(
            {
                "type": "response.output_text.delta",
                "sequence_number": 3,
                "item_id": "msg_1",
                "output_index": 0,
                "content_index": "zero",
                "delta": "hi",
                "logprobs": [],
            }
        )
    )
    assert isinstance(event, ParsedEvent) and event.event is not None
    assert [e.path for e in event.schema_errors] == ["content_index"]
    assert event.event.type == "response.output_text.delta" and event.problem is None
