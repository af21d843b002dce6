"""What the fake provider answers, as values: a streamed body (SSE events) or a one-piece body.

Sources build these, routes choose them, the transport writes them. ``error_body`` renders the
OpenAI-style ``{"error": {...}}`` body for a status, so every error the server sends has the
shape a real provider's has.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

__all__ = ["JSON_TYPE", "SSE_TYPE", "Answer", "Body", "Events", "error_body", "json_body"]

SSE_TYPE = "text/event-stream; charset=utf-8"
JSON_TYPE = "application/json"


@dataclass
class Events:
    """A streamed answer: the SSE events to write, one write each."""

    events: list[bytes]
    content_type: str = SSE_TYPE


@dataclass
class Body:
    """A one-piece answer (JSON completion, recorded non-stream response, error)."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)


Answer = Events | Body


def json_body(obj: Any) -> bytes:
    """``obj`` as a JSON body (UTF-8, non-ASCII kept as is)."""
    return json.dumps(obj, ensure_ascii=False).encode()


_ERRORS: Mapping[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported.",
    ),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model does not exist or you do not have access to it.",
    ),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests. Please try again in 1s.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
    504: ("server_error", None, "Gateway timeout."),
}


_DEFAULT_CODE: Any = object()


def error_body(
    status: int,
    message: str | None = None,
    *,
    param: str | None = None,
    code: str | None = _DEFAULT_CODE,
) -> bytes:
    """An OpenAI-style error body ``{"error": {message, type, param, code}}`` for ``status``."""
    etype, ecode, emsg = _ERRORS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None, "")
    )
    if not emsg:
        try:
            emsg = HTTPStatus(status).phrase + "."
        except ValueError:
            emsg = f"HTTP {status}."
    return json_body(
        {
            "error": {
                "message": message or emsg,
                "type": etype,
                "param": param,
                "code": ecode if code is _DEFAULT_CODE else code,
            }
        }
    )
