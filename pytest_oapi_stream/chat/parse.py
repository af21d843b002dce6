"""SSE event payload -> typed chunk, lenient where the schema is broken.

The fast path is one ``model_validate_json`` per payload. Only when that fails does the slow path
run (``core/lenient.py``): classify the failure (not JSON, not an object, or wrong field types),
keep every schema error with its field path, null out the offending values and validate again,
so the rules still see a typed chunk and the report can say everything that is wrong, not only
the first pydantic error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..core.lenient import SchemaError, decode_object, format_path, repair
from .models import ChatCompletionChunk, ErrorObject

__all__ = ["ParsedPayload", "SchemaError", "format_path", "parse_chunk", "parse_payload"]

# The validator itself: ``model_validate_json`` only forwards to it, and the extra Python call
# costs ~0.4 µs a chunk (a tenth of the validation).
_validate_json = ChatCompletionChunk.__pydantic_validator__.validate_json


@dataclass(slots=True)
class ParsedPayload:
    """What one ``data`` payload turned out to be: a chunk, an error object, or not a chunk."""

    kind: str  # "chunk" | "error" | "invalid"
    chunk: ChatCompletionChunk | None = None
    error: ErrorObject | None = None
    problem: str | None = None
    schema_errors: list[SchemaError] = field(default_factory=list)


def parse_chunk(data: str) -> ChatCompletionChunk | ParsedPayload:
    """:func:`parse_payload` without its wrapper in the common case.

    A payload that validates as a chunk (no schema error, not an error object) is returned as
    the ``ChatCompletionChunk`` itself, so the hot loop allocates nothing besides the model;
    every other payload gives the same ``ParsedPayload`` as :func:`parse_payload`.
    """
    try:
        chunk: ChatCompletionChunk = _validate_json(data)
    except ValidationError as exc:
        return _slow_path(data, exc)
    except (ValueError, RecursionError) as exc:  # pragma: no cover - pydantic wraps these
        return ParsedPayload("invalid", problem=f"not JSON: {exc}")
    if chunk.error is not None and chunk.choices is None:
        return ParsedPayload("error", chunk=chunk, error=chunk.error)
    return chunk


def parse_payload(data: str) -> ParsedPayload:
    """Parse one event's ``data`` into a chunk, an in-stream error, or an ``invalid`` verdict."""
    parsed = parse_chunk(data)
    if isinstance(parsed, ParsedPayload):
        return parsed
    return ParsedPayload("chunk", chunk=parsed)


def _revalidate(doc: dict[str, Any]) -> ChatCompletionChunk:
    chunk: ChatCompletionChunk = _validate_json(json.dumps(doc))
    return chunk


def _slow_path(data: str, exc: ValidationError) -> ParsedPayload:
    errors = exc.errors(include_url=False)
    doc = decode_object(data, errors)
    if isinstance(doc, str):
        return ParsedPayload("invalid", problem=doc)
    chunk, schema = repair(doc, _revalidate, errors)
    if chunk is None:
        return ParsedPayload(
            "chunk",
            chunk=ChatCompletionChunk.model_construct(),
            schema_errors=schema,
            problem="the chunk could not be repaired for checking",
        )
    if chunk.error is not None and chunk.choices is None:
        return ParsedPayload("error", chunk=chunk, error=chunk.error, schema_errors=schema)
    return ParsedPayload("chunk", chunk=chunk, schema_errors=schema)
