"""One SSE payload -> a typed Responses event, lenient where the schema is broken.

The fast path is one validation of the JSON against the event union. Only when that fails does
the slow path run: not JSON or not an object or no string ``type`` (OAS101), an event type outside
the reference (parsed as :class:`UnknownEvent`, OAS108), or wrong field types (each kept with its
path for OAS109, the value nulled out and the event validated again so the rules still see it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..core.lenient import SchemaError, format_path, null_out, real_loc, short
from .models import EVENT_MODELS, EventBase, UnknownEvent, event_adapter

__all__ = ["ParsedEvent", "parse_event", "parse_event_dict"]

_validate_json = event_adapter.validator.validate_json
_validate_python = event_adapter.validator.validate_python
_MAX_REPAIRS = 8


@dataclass(slots=True)
class ParsedEvent:
    """A payload that is not a clean event: ``invalid`` (no event at all) or ``event`` with the
    schema errors found on the way."""

    kind: str  # "event" | "invalid"
    event: EventBase | None = None
    problem: str | None = None
    schema_errors: list[SchemaError] = field(default_factory=list)
    chat: bool = False
    """The payload is a ``chat.completion.chunk``: the stream is of the other surface."""


def _kind_of(doc: Any) -> str:
    if doc is None:
        return "null"
    return {
        "list": "an array",
        "str": "a string",
        "int": "a number",
        "float": "a number",
        "bool": "a boolean",
    }.get(type(doc).__name__, type(doc).__name__)


def parse_event(data: str) -> EventBase | ParsedEvent:
    """The typed event of ``data``; a :class:`ParsedEvent` when it is not a clean event."""
    try:
        event: EventBase = _validate_json(data)
    except ValidationError as exc:
        if any(e["type"] in ("json_invalid", "json_type") for e in exc.errors(include_url=False)):
            msg = next(
                e["msg"]
                for e in exc.errors(include_url=False)
                if e["type"] in ("json_invalid", "json_type")
            )
            return ParsedEvent("invalid", problem=f"not valid JSON ({msg})")
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError) as err:
            return ParsedEvent("invalid", problem=f"not valid JSON ({err})")
        return _slow(doc)
    except (ValueError, RecursionError) as exc:  # pragma: no cover - pydantic wraps these
        return ParsedEvent("invalid", problem=f"not JSON: {exc}")
    return event


def parse_event_dict(doc: Any) -> EventBase | ParsedEvent:
    """:func:`parse_event` for an already-decoded payload (a list of event dicts)."""
    try:
        event: EventBase = _validate_python(doc)
    except ValidationError:
        return _slow(json.loads(json.dumps(doc)))
    return event


def _slow(doc: Any) -> ParsedEvent:
    if not isinstance(doc, dict):
        return ParsedEvent("invalid", problem=f"payload is {_kind_of(doc)}, not a JSON object")
    etype = doc.get("type")
    if not isinstance(etype, str):
        what = "no `type`" if "type" not in doc else f"`type` {short(etype)} is not a string"
        chat = doc.get("object") == "chat.completion.chunk"
        return ParsedEvent("invalid", problem=f"payload has {what}", chat=chat)
    model: type[EventBase] = EVENT_MODELS.get(etype, UnknownEvent)
    schema: list[SchemaError] = []
    seen: set[str] = set()
    for _ in range(_MAX_REPAIRS):
        try:
            return ParsedEvent("event", event=model.model_validate(doc), schema_errors=schema)
        except ValidationError as exc:
            changed = False
            for item in exc.errors(include_url=False):
                loc = real_loc(doc, tuple(item["loc"]))
                if loc == ("type",):  # the discriminator itself: keep it
                    continue
                path = format_path(loc)
                if path and path not in seen:
                    seen.add(path)
                    schema.append(SchemaError(path, item["msg"], short(item.get("input"))))
                changed |= null_out(doc, loc)
            if not changed:
                break
    return ParsedEvent(
        "event",
        event=model.model_construct(type=etype),
        schema_errors=schema,
        problem="the event could not be repaired for checking",
    )
