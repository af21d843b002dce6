"""Secret filters: headers and query parameters redacted, every value seen scrubbed from the text.

A provider that echoes a key in an error body, or a cookie value in a redirect URL, is caught by
the text scrub (:class:`SecretSink`), which the persister applies to the whole cassette.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

#: What a filtered secret becomes in a cassette.
REDACTED = "REDACTED"

#: Headers (request and response) whose values never reach disk.
DEFAULT_FILTER_HEADERS: tuple[str, ...] = (
    "authorization",
    "api-key",
    "x-api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "set-cookie",
    "proxy-authorization",
)

#: Query parameters whose values never reach disk (Gemini's and Azure's key parameters).
DEFAULT_FILTER_QUERY_PARAMETERS: tuple[str, ...] = ("key", "api-key", "api_key")

_MIN_SECRET_LEN = 8
_NAME_MAX = 200  # bytes; most file systems allow 255, leave room for ".yaml" and temp names
_FORBIDDEN_IN_NAMES = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


class SecretSink:
    """Collects the secret values the filters saw, to scrub them from the whole cassette text.

    Filters replace the headers and parameters they know; a provider that echoes a key in an
    error body, or a cookie value in a redirect URL, is caught by the text scrub.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, value: Any) -> None:
        """Remember ``value`` (a header value, a list of them, a query value) as a secret."""
        if isinstance(value, (list, tuple)):
            for v in value:
                self.add(v)
            return
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str):
            return
        candidates = {value.strip()}
        scheme, _, token = value.strip().partition(" ")
        if token and scheme.isalpha():  # "Bearer sk-...", "Basic ..."
            candidates.add(token.strip())
        for part in value.split(";"):  # cookies: "a=b; c=d"
            candidates.add(part.strip())
            candidates.add(part.partition("=")[2].strip())
        self._values.update(c for c in candidates if len(c) >= _MIN_SECRET_LEN and c != REDACTED)

    def __len__(self) -> int:
        return len(self._values)

    def scrub(self, text: str) -> str:
        """``text`` with every remembered secret replaced by :data:`REDACTED`, longest first."""
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, REDACTED)
        return text


def _filter_entries(names: Iterable[Any], secrets: SecretSink) -> list[tuple[str, Any]]:
    """vcrpy ``filter_headers``/``filter_query_parameters`` entries that redact and remember.

    A bare name becomes ``(name, redact)``; a ``(name, replacement)`` pair is kept as given.
    Names are case-insensitive and a later entry wins (the user's over the defaults).
    """

    def redact(key: str, value: Any, request: Any) -> str:
        secrets.add(value)
        return REDACTED

    entries: dict[str, tuple[str, Any]] = {}
    for entry in names:
        if isinstance(entry, (tuple, list)):
            name, replacement = entry
        else:
            name, replacement = entry, redact
        entries.pop(name.lower(), None)
        entries[name.lower()] = (name, replacement)
    return list(entries.values())


def _response_header_filter(
    names: Iterable[str], secrets: SecretSink
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``before_record_response`` hook redacting ``set-cookie``, ``openai-organization``, ..."""
    lowered = {n.lower() for n in names}

    def filter_response(response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers")
        if isinstance(headers, dict):
            for key in list(headers):
                if key.lower() in lowered:
                    values = headers[key]
                    secrets.add(values)
                    count = len(values) if isinstance(values, list) else 1
                    headers[key] = [REDACTED] * count
        return response

    return filter_response
