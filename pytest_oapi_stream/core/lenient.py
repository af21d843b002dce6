"""Lenient parsing helpers shared by the surfaces: where a payload breaks its schema.

A payload that fails validation is not dropped: each schema error is kept with its field path,
the offending value is nulled out and the payload validated again, so the rules still see a typed
object and the report names everything that is wrong (chat OAS013, Responses OAS109).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["SchemaError", "format_path", "null_out", "real_loc", "short"]


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
