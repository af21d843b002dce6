"""Requests as the fake provider receives them: the body off the wire, the record, the checks.

``read_body`` takes a request body off the connection (``Content-Length`` or chunked), within
the size cap; ``RecordedRequest`` is what tests read back from ``OAPIServer.requests``;
``check_chat_request`` answers a chat-completion request that a real provider would refuse with
the 400 it would send. No socket handling here beyond reading from a file object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any, Protocol

from .answers import Body, error_body

__all__ = ["MAX_BODY", "BadRequest", "RecordedRequest", "check_chat_request", "read_body"]

#: The largest request body read (larger ones get a 413 before any of it is read).
MAX_BODY = 64 * 1024 * 1024


class Reader(Protocol):
    """The part of a buffered binary file that body reading uses."""

    def read(self, size: int = ..., /) -> bytes: ...
    def readline(self, size: int = ..., /) -> bytes: ...


class BadRequest(Exception):
    """A request that cannot be read: answered with ``status`` and closes the connection."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it: method, path, query, headers, raw body, JSON."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    #: The parsed JSON body, or ``None`` when the body is empty or not valid JSON.
    json: Any = None
    #: The raw header lines in the order received (names as sent).
    raw_headers: tuple[tuple[str, str], ...] = ()

    @property
    def stream(self) -> bool:
        """Whether the request asked for a streamed answer (``"stream": true``)."""
        return isinstance(self.json, dict) and self.json.get("stream") is True


def read_body(rfile: Reader, headers: Message) -> bytes | None:
    """The request body, or ``None`` when the client went away mid-body.

    Raises ``BadRequest`` (400 malformed framing, 413 over ``MAX_BODY``).
    """
    te = headers.get("Transfer-Encoding", "")
    if "chunked" in te.lower():
        parts: list[bytes] = []
        total = 0
        while True:
            line = rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest(400, "Malformed chunked request body.") from None
            if size == 0:
                while rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                raise BadRequest(413, "Request body too large.")
            parts.append(rfile.read(size))
            rfile.readline(1024)
    length_header = headers.get("Content-Length")
    if not length_header:
        return b""
    try:
        length = int(length_header)
        if length < 0:
            raise ValueError(length)
    except ValueError:
        raise BadRequest(400, "Invalid Content-Length header.") from None
    if length > MAX_BODY:
        raise BadRequest(413, "Request body too large.")
    body = rfile.read(length)
    if len(body) < length:  # the client went away mid-body
        return None
    return body


def parse_json(body: bytes) -> Any:
    """The JSON value of a body, or ``None`` when it is empty or not valid JSON."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def check_chat_request(data: Any) -> Body | None:
    """The 400 a provider sends for this chat-completion request body, or ``None`` if valid."""
    if data is None:
        return Body(
            400,
            error_body(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means "
                "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                "payload, but what was sent was not valid JSON.)",
            ),
        )
    if not isinstance(data, dict):
        return Body(400, error_body(400, "The request body must be a JSON object."))
    if "messages" not in data:
        return Body(
            400,
            error_body(
                400,
                "Missing required parameter: 'messages'.",
                param="messages",
                code="missing_required_parameter",
            ),
        )
    return None
