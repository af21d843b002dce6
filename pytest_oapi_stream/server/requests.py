"""Requests as the fake provider receives them: the body off the wire, the record, the checks.

``read_body`` takes a request body off the connection (``Content-Length`` or chunked), within
the size cap; ``RecordedRequest`` is what tests read back from ``OAPIServer.requests``;
``check_chat_request`` answers a chat-completion request that a real provider would refuse with
the 400 it would send. No socket handling here beyond reading from a file object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any, Protocol
from urllib.parse import parse_qs

from .answers import Body, error_body

__all__ = [
    "MAX_BODY",
    "MAX_MODEL_LENGTH",
    "MAX_N",
    "BadRequest",
    "RecordedRequest",
    "RetrieveQuery",
    "check_chat_request",
    "check_responses_request",
    "parse_retrieve_query",
    "read_body",
]

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


_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_LINE_MAX = 1024


def _chunk_size(line: bytes) -> int:
    """The size of a chunk-size line (``HEX[;ext]CRLF``); ``BadRequest`` when malformed."""
    if not line.endswith(b"\n"):
        raise BadRequest(400, "Malformed chunked request body: a chunk-size line is cut short.")
    digits = line.split(b";", 1)[0].strip(b" \t\r\n")
    if not _CHUNK_SIZE.fullmatch(digits):
        shown = digits[:20].decode("ascii", "backslashreplace")
        raise BadRequest(400, f"Malformed chunked request body: chunk size {shown!r} is not hex.")
    return int(digits, 16)


def read_body(rfile: Reader, headers: Message) -> bytes | None:
    """The request body, or ``None`` when the client went away mid-body.

    Raises ``BadRequest`` (400 malformed framing, 413 over ``MAX_BODY``). A chunked body is
    read chunk by chunk: each size must be 1 to 16 hex digits and the running total stays under
    ``MAX_BODY`` before a byte of the chunk is read, so nothing is read past the cap.
    """
    te = headers.get("Transfer-Encoding", "")
    if "chunked" in te.lower():
        parts: list[bytes] = []
        total = 0
        while True:
            line = rfile.readline(_LINE_MAX)
            if not line:
                return None  # the client went away
            size = _chunk_size(line)
            if size == 0:
                for _ in range(100):  # trailer fields, then the blank line
                    trailer = rfile.readline(_LINE_MAX)
                    if trailer in (b"\r\n", b"\n", b""):
                        return b"".join(parts)
                raise BadRequest(400, "Malformed chunked request body: too many trailer lines.")
            total += size
            if total > MAX_BODY:
                raise BadRequest(413, "Request body too large.")
            data = rfile.read(size)
            if len(data) < size:
                return None  # the client went away mid-chunk
            parts.append(data)
            end = rfile.readline(_LINE_MAX)
            if not end:
                return None
            if end not in (b"\r\n", b"\n"):
                raise BadRequest(
                    400, "Malformed chunked request body: chunk data longer than its size."
                )
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
    """The JSON value of a body, or ``None`` when it is empty, not valid JSON, or nested past
    what the JSON decoder can take (``[[[...]]]`` 100k deep raises ``RecursionError``)."""
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


#: The most choices a request may ask for (OpenAI's limit): ``n`` multiplies the answer.
MAX_N = 128
#: The longest model name accepted: the request's model is echoed in every chunk.
MAX_MODEL_LENGTH = 256

_KIND_NAMES = {
    "array": "an array",
    "object": "an object",
    "boolean": "a boolean",
    "integer": "an integer",
    "string": "a string",
}


def _kind_of(value: Any) -> str:
    """How OpenAI's errors name a JSON value's type ("an integer", "a string", "null", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _is(kind: str, value: Any) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    types: dict[str, type | tuple[type, ...]] = {
        "array": list,
        "object": dict,
        "boolean": bool,
        "string": str,
    }
    return isinstance(value, types[kind])


def _invalid(param: str, message: str, code: str) -> Body:
    return Body(400, error_body(400, message, param=param, code=code))


def _wrong_type(param: str, kind: str, value: Any) -> Body:
    return _invalid(
        param,
        f"Invalid type for '{param}': expected {_KIND_NAMES[kind]}, "
        f"but got {_kind_of(value)} instead.",
        "invalid_type",
    )


#: Optional top-level fields the server reads or that size the answer: (type, min, max).
#: ``None`` is accepted for each (the API's default), as OpenAI does.
_FIELDS: dict[str, tuple[str, int | None, int | None]] = {
    "model": ("string", None, MAX_MODEL_LENGTH),
    "stream": ("boolean", None, None),
    "stream_options": ("object", None, None),
    "n": ("integer", 1, MAX_N),
    "logprobs": ("boolean", None, None),
    "top_logprobs": ("integer", 0, 20),
    "max_tokens": ("integer", 1, None),
    "max_completion_tokens": ("integer", 1, None),
    "tools": ("array", None, None),
}


def _check_field(
    param: str, value: Any, kind: str, low: int | None, high: int | None
) -> Body | None:
    if not _is(kind, value):
        return _wrong_type(param, kind, value)
    if kind == "string" and high is not None and len(value) > high:
        return _invalid(
            param,
            f"Invalid '{param}': string too long. Expected a string with maximum length "
            f"{high}, but got a string with length {len(value)} instead.",
            "string_above_max_length",
        )
    if kind == "integer":
        if low is not None and value < low:
            return _invalid(
                param,
                f"Invalid '{param}': integer below minimum value. Expected a value >= {low}, "
                f"but got {value} instead.",
                "integer_below_min_value",
            )
        if high is not None and value > high:
            return _invalid(
                param,
                f"Invalid '{param}': integer above maximum value. Expected a value <= {high}, "
                f"but got {value} instead.",
                "integer_above_max_value",
            )
    return None


#: What a Responses request may carry that the server reads or that sizes an answer.
_RESPONSES_FIELDS: dict[str, tuple[str, int | None, int | None]] = {
    "model": ("string", None, MAX_MODEL_LENGTH),
    "stream": ("boolean", None, None),
    "instructions": ("string", None, None),
    "max_output_tokens": ("integer", 16, None),
    "tools": ("array", None, None),
    "reasoning": ("object", None, None),
    "text": ("object", None, None),
    "metadata": ("object", None, None),
}


def check_responses_request(data: Any) -> Body | None:
    """The 400 api.openai.com sends for this ``/responses`` request body, or ``None`` if valid:
    a JSON object whose ``input`` (when given) is a string or an array, and whose fields the
    server echoes have their types."""
    bad = _not_an_object(data)
    if bad is not None:
        return bad
    value = data.get("input")
    if value is not None and not isinstance(value, str | list):
        return _invalid(
            "input",
            f"Invalid type for 'input': expected one of a string or an array, "
            f"but got {_kind_of(value)} instead.",
            "invalid_type",
        )
    for name, (kind, low, high) in _RESPONSES_FIELDS.items():
        value = data.get(name)
        if value is not None:
            bad = _check_field(name, value, kind, low, high)
            if bad is not None:
                return bad
    return None


@dataclass(frozen=True)
class RetrieveQuery:
    """The query of ``GET .../responses/{id}`` the server reads: stream, and resume after which
    ``sequence_number``."""

    stream: bool = False
    starting_after: int | None = None


_BOOLS = {"true": True, "false": False}
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def parse_retrieve_query(query: str) -> RetrieveQuery | Body:
    """The retrieve query's ``stream`` and ``starting_after``, or the 400 naming a value that
    is not a boolean / an integer (the last of repeated parameters counts)."""
    params = parse_qs(query, keep_blank_values=True)
    stream = params.get("stream", ["false"])[-1]
    if stream.lower() not in _BOOLS:
        return _invalid(
            "stream",
            f"Invalid value for 'stream': expected a boolean (true or false), "
            f"but got {stream[:64]!r} instead.",
            "invalid_value",
        )
    after = params.get("starting_after", [None])[-1]
    if after is not None and not _INTEGER.fullmatch(after.strip()):
        return _invalid(
            "starting_after",
            f"Invalid value for 'starting_after': expected an integer (a sequence_number), "
            f"but got {after[:64]!r} instead.",
            "invalid_value",
        )
    return RetrieveQuery(_BOOLS[stream.lower()], None if after is None else int(after))


def _not_an_object(data: Any) -> Body | None:
    """The 400 for a body that is not JSON (``None``) or not a JSON object."""
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
    return None


def check_chat_request(data: Any) -> Body | None:
    """The 400 a provider sends for this chat-completion request body, or ``None`` if valid.

    Checks what the server reads (``messages``, ``stream``, ``stream_options``, ``n``,
    ``model``) and what sizes an answer, with OpenAI's messages and limits (``n`` <= 128),
    so a hostile request gets a 400 naming its field, never a server error or a huge answer.
    """
    bad = _not_an_object(data)
    if bad is not None:
        return bad
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
    messages = data["messages"]
    if not isinstance(messages, list):
        return _wrong_type("messages", "array", messages)
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            return _wrong_type(f"messages[{i}]", "object", message)
    for name, (kind, low, high) in _FIELDS.items():
        value = data.get(name)
        if value is not None:
            bad = _check_field(name, value, kind, low, high)
            if bad is not None:
                return bad
    options = data.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage") is not None:
        bad = _check_field(
            "stream_options.include_usage", options["include_usage"], "boolean", None, None
        )
        if bad is not None:
            return bad
    return None
