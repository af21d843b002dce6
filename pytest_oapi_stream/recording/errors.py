"""The errors of the vcrpy recording layer; each message says what to do next."""

from __future__ import annotations


class CassetteError(Exception):
    """Base of the errors this layer raises; the message says what to do next."""


class CassetteMissingError(CassetteError):
    """A test needs a cassette that does not exist and the mode does not allow recording."""


class UnmatchedRequestError(CassetteError):
    """A request found no unplayed interaction in the cassette, and the mode does not record."""


class NetworkBlockedError(CassetteError, RuntimeError):
    """A replayed test tried to open a connection to a non-loopback host."""


class VcrInternalsError(CassetteError):
    """The vcrpy internals we patch for re-chunked replay are not what we expect."""


class BrokenCassetteError(CassetteError):
    """A cassette file exists but cannot be replayed; ``reason`` is the CLI's one-line reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LeftoverTempFileWarning(UserWarning):
    """A temporary file of an interrupted cassette write was found (and removed when stale)."""
