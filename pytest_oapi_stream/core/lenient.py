"""Lenient parsing shared by the surfaces: what a payload that failed validation is.

The surfaces' parsers validate each payload in one call (their fast path). Only a payload that
fails comes here: :func:`decode_object` says whether it is a JSON object at all (not JSON, or an
array, a string...: not a payload), and :func:`repair` keeps each schema error with its field
path, nulls out the offending value and validates again, so the rules still see a typed object
and the report names everything that is wrong (chat OAS013, Responses OAS109).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

__all__ = [
    "MAX_REPAIRS",
    "SchemaError",
    "as_object",
    "decode_object",
    "format_path",
    "kind_of",
    "null_out",
    "real_loc",
    "repair",
    "short",
]

#: Validations after the first failed one before a payload is given up as unrepairable.
MAX_REPAIRS = 8
_JSON_ERRORS = ("json_invalid", "json_type")
_KINDS = {
    "list": "an array",
    "str": "a string",
    "int": "a number",
    "float": "a number",
    "bool": "a boolean",
}

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class SchemaError:
    """A JSON value of the wrong type, at ``path`` (e.g. ``choices[0].delta.content``)."""

    path: str
    message: str
    value: str


def format_path(loc: tuple[Any, ...]) -> str:
    """``("choices", 0, "delta")`` -> ``choices[0].delta``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def short(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def real_loc(doc: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The part of a pydantic error location that exists in ``doc`` (drops union tags)."""
    out: list[Any] = []
    node = doc
    for part in loc:
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
        else:
            break
        out.append(part)
    return tuple(out)


def null_out(doc: Any, loc: tuple[Any, ...]) -> bool:
    """Replace the value at ``loc`` by None (in an object) or {} (in a list)."""
    if not loc:
        return False
    parent = doc
    for part in loc[:-1]:
        parent = parent[part]
    last = loc[-1]
    if isinstance(parent, list):
        parent[last] = {}
    else:
        parent[last] = None
    return True


def kind_of(doc: Any) -> str:
    """What a decoded JSON value is, for messages: ``an array``, ``a string``, ``null``..."""
    if doc is None:
        return "null"
    name = type(doc).__name__
    return _KINDS.get(name, name)


def as_object(doc: Any) -> dict[str, Any] | str:
    """``doc`` if it is a JSON object, else why it is not a payload (a sentence)."""
    if isinstance(doc, dict):
        return doc
    return f"payload is {kind_of(doc)}, not a JSON object"


def decode_object(data: str, errors: Sequence[Mapping[str, Any]]) -> dict[str, Any] | str:
    """The JSON object of a payload whose validation failed with ``errors``, or why it is none
    (``not valid JSON (...)``, ``payload is an array, not a JSON object``)."""
    for error in errors:
        if error["type"] in _JSON_ERRORS:
            return f"not valid JSON ({error['msg']})"
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as err:
        return f"not valid JSON ({err})"
    return as_object(doc)


def repair(
    doc: dict[str, Any],
    validate: Callable[[dict[str, Any]], _T],
    errors: Sequence[Mapping[str, Any]] | None = None,
    *,
    keep: Collection[tuple[Any, ...]] = (),
) -> tuple[_T | None, list[SchemaError]]:
    """``validate(doc)`` after nulling out every value a schema error points at.

    ``errors`` are those of a validation of ``doc`` that already failed (None: validate first).
    Each round records each error's path once (:class:`SchemaError`), nulls the values out and
    validates again, up to :data:`MAX_REPAIRS` times. Locations in ``keep`` are neither recorded
    nor nulled (a union's discriminator). Returns the validated object, or None when the
    payload could not be repaired, and the schema errors found (``doc`` is changed in place).
    """
    schema: list[SchemaError] = []
    if errors is None:
        try:
            return validate(doc), schema
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
    seen: set[str] = set()
    for _ in range(MAX_REPAIRS):
        changed = False
        for item in errors:
            loc = real_loc(doc, tuple(item["loc"]))
            if loc in keep:
                continue
            path = format_path(loc)
            if path and path not in seen:
                seen.add(path)
                schema.append(SchemaError(path, item["msg"], short(item.get("input"))))
            changed |= null_out(doc, loc)
        if not changed:
            break
        try:
            return validate(doc), schema
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
    return None, schema
