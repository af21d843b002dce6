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

from ..core.lenient import SchemaError, as_object, decode_object, repair, short
from .models import EVENT_MODELS, EventBase, UnknownEvent, event_adapter

__all__ = ["ParsedEvent", "parse_event", "parse_event_dict"]

_validate_json = event_adapter.validator.validate_json
_validate_python = event_adapter.validator.validate_python
#: Where a schema error is not nulled out: the union's discriminator.
_KEEP = frozenset({("type",)})


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


def parse_event(data: str) -> EventBase | ParsedEvent:
    """The typed event of ``data``; a :class:`ParsedEvent` when it is not a clean event."""
    try:
        event: EventBase = _validate_json(data)
    except ValidationError as exc:
        doc = decode_object(data, exc.errors(include_url=False))
        if isinstance(doc, str):
            return ParsedEvent("invalid", problem=doc)
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


def _slow(decoded: Any) -> ParsedEvent:
    doc = as_object(decoded)
    if isinstance(doc, str):
        return ParsedEvent("invalid", problem=doc)
    etype = doc.get("type")
    if not isinstance(etype, str):
        what = "no `type`" if "type" not in doc else f"`type` {short(etype)} is not a string"
        chat = doc.get("object") == "chat.completion.chunk"
        return ParsedEvent("invalid", problem=f"payload has {what}", chat=chat)
    model: type[EventBase] = EVENT_MODELS.get(etype, UnknownEvent)
    event, schema = repair(doc, model.model_validate, keep=_KEEP)
    if event is None:
        return ParsedEvent(
            "event",
            event=model.model_construct(type=etype),
            schema_errors=schema,
            problem="the event could not be repaired for checking",
        )
    return ParsedEvent("event", event=event, schema_errors=schema)
