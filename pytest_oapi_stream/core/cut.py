"""A stream the provider cut: the marker a recording carries, and the events that arrived whole.

Pure (no vcrpy, no pytest): the vcrpy layer (``recording/cuts.py``) writes and replays the
marker, the file readers (``recording/files.py``) read it for the CLI and the reports, and both
judge a cut body by :func:`complete_events`, so a cut reads the same everywhere.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, TypeVar

__all__ = ["CUT_KEY", "CutMarker", "complete_events"]

#: The key of the marker in a recorded response.
CUT_KEY = "oapi_cut"

_M = TypeVar("_M", bound="CutMarker")


@dataclasses.dataclass(frozen=True)
class CutMarker:
    """A response body the provider cut: the error the client's transport raised, and its text."""

    error: str  # ``httpx.RemoteProtocolError``, ``urllib3.ProtocolError``: top module.class name
    message: str

    @classmethod
    def of(cls: type[_M], exc: BaseException) -> _M:
        """The marker of a read error caught while recording."""
        kind = type(exc)
        # urllib3's ProtocolError carries (message, cause): keep the message, not a tuple's repr
        first = exc.args[0] if exc.args else None
        message = first if isinstance(first, str) and len(exc.args) > 1 else str(exc)
        return cls(f"{kind.__module__.split('.')[0]}.{kind.__name__}", message)

    @classmethod
    def from_response(cls: type[_M], response: Any) -> _M | None:
        """The marker of a recorded response dict, or None (a whole body; an old cassette).

        A marker edited into another shape (``oapi_cut: yes``) still means the body was cut:
        replayed without its error, a cut body would read as a provider's malformed stream.
        """
        marker = response.get(CUT_KEY) if isinstance(response, Mapping) else None
        if marker is None or marker is False:
            return None
        if not isinstance(marker, Mapping):
            marker = {}
        error = marker.get("error")
        return cls(
            error if isinstance(error, str) and error else "RemoteProtocolError",
            str(marker.get("message") or "the provider cut the connection"),
        )

    def to_dict(self) -> dict[str, str]:
        """The marker as stored in the cassette."""
        return {"error": self.error, "message": self.message}

    @property
    def _name(self) -> str:
        return self.error.rsplit(".", 1)[-1]

    def describe(self, received: int) -> str:
        """One phrase for messages: ``stream cut by the provider after N bytes (error: ...)``."""
        return f"stream cut by the provider after {received} bytes ({self.error}: {self.message})"


_LINE_END = rb"(?:\r\n|\r(?!\n)|\n)"
_EVENT_END = re.compile(_LINE_END + _LINE_END)


def complete_events(body: bytes) -> bytes:
    """``body`` up to the end of its last complete SSE event: what a client decoded before a
    cut. The piece after it is an artifact of the cut, not of the provider's framing; judged, it
    would read as a malformed event (not ended, not valid JSON) instead of a truncated stream."""
    end = 0
    for match in _EVENT_END.finditer(body):
        end = match.end()
    return body[:end]
