"""Which surface a recorded stream belongs to: chat completions or the Responses API.

The request path decides when it is known (``.../chat/completions``; ``.../responses`` or
``.../responses/{id}`` when resuming); otherwise the first JSON payload does: a ``type`` that
starts with ``response.`` is a Responses event (SPEC-responses.md, "A stream is a Responses stream
when...").
"""

from __future__ import annotations

import json
import os
import re
from typing import Literal
from urllib.parse import urlsplit

__all__ = [
    "ADVICE",
    "API",
    "SURFACES",
    "TITLE",
    "Surface",
    "sniff_file",
    "surface_of",
    "surface_of_path",
    "surface_of_payload",
]

Surface = Literal["chat", "responses"]
SURFACES: tuple[Surface, ...] = ("chat", "responses")

#: What a stream of each surface is called in messages, its API, and where to check it instead.
TITLE: dict[str, str] = {"chat": "chat completions stream", "responses": "Responses API stream"}
API: dict[str, str] = {"chat": "chat completions API", "responses": "Responses API"}
ADVICE: dict[str, str] = {
    "chat": "check it with check_chunk_stream / assert_valid_chunk_stream (or their async twins)",
    "responses": (
        "check it with check_response_stream / assert_valid_response_stream (or their async twins)"
    ),
}

_RESPONSES_PATH = re.compile(r"/responses(/[^/]+)?$")
_SNIFF = 65536


def surface_of_path(url: str | None) -> Surface | None:
    """The surface a request URL names, or ``None`` when the path does not say."""
    if not url:
        return None
    try:
        path = urlsplit(url).path.rstrip("/")
    except ValueError:
        return None
    if path.endswith("/chat/completions"):
        return "chat"
    if _RESPONSES_PATH.search(path):
        return "responses"
    return None


def surface_of_payload(payload: object) -> tuple[Surface | None, str]:
    """The surface one decoded JSON payload belongs to, and what it is (for a message); ``None``
    when it says neither (a broken payload is judged by the surface it was given to)."""
    if not isinstance(payload, dict):
        return None, ""
    kind = payload.get("type")
    if isinstance(kind, str) and kind.startswith("response."):
        return "responses", f"a {kind} event"
    if not isinstance(kind, str) and payload.get("object") == "chat.completion.chunk":
        return "chat", "a chat.completion.chunk"
    return None, ""


def surface_of(url: str | None, body: bytes | str) -> Surface:
    """The request path's surface, else the first JSON payload's, else ``chat``."""
    by_path = surface_of_path(url)
    if by_path is not None:
        return by_path
    head = body[:_SNIFF]
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            continue
        try:
            payload = json.loads(data)
        except ValueError:
            continue
        kind = payload.get("type") if isinstance(payload, dict) else None
        if isinstance(kind, str) and kind.startswith("response."):
            return "responses"
        return "chat"
    return "chat"


def sniff_file(path: str | os.PathLike[str]) -> Surface:
    """The surface of an ``.sse`` file from its first payload, reading only the file's head."""
    with open(path, "rb") as fh:
        return surface_of(None, fh.read(_SNIFF))
