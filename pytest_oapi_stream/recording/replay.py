"""Re-chunked replay: vcrpy replays a body as one blob; we hand it to the client in many pieces.

Split inside lines, between the two newlines of an event, inside UTF-8 characters, so the client's
own SSE decoder is exercised as on a real network. A body the provider cut (``cuts.py``) ends
with the error the client's transport raised, recorded and replayed alike.
"""

from __future__ import annotations

import contextlib
import inspect
import random
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from .cuts import Cut, recorded_cuts
from .errors import CassetteError, VcrInternalsError

#: How a replayed body is cut into pieces: ``random`` (seeded, awkward split points),
#: ``bytes`` (one byte a piece; thorough but slow for big bodies), ``off`` (one blob, as vcrpy).
RECHUNK_STRATEGIES: tuple[str, ...] = ("random", "bytes", "off")


def rechunk(body: bytes, seed: int, strategy: str = "random") -> list[bytes]:
    """Cut ``body`` into the pieces a replayed response delivers, deterministically from ``seed``.

    ``random`` always splits inside the first ``data:`` field names, between the two newlines
    ending an event, between CR and LF, and inside multi-byte UTF-8 characters (up to 32 of
    each), delivers the first 512 bytes in 1-8 byte pieces, and adds random cut points (about
    one per 64 bytes, at most 4096, so a 3 MB stream stays cheap to replay).
    """
    n = len(body)
    if strategy == "off" or n <= 1:
        return [body]
    if strategy == "bytes":
        return [body[i : i + 1] for i in range(n)]
    if strategy != "random":
        raise ValueError(f"unknown rechunk strategy {strategy!r}; use one of {RECHUNK_STRATEGIES}")
    rng = random.Random(seed)
    cuts: set[int] = set()

    def first(pattern: bytes, offset: int, limit: int = 32) -> None:
        for k, m in enumerate(re.finditer(pattern, body)):
            if k >= limit:
                break
            cuts.add(m.start() + offset)

    first(rb"data:", 3, 16)
    first(rb"\n\n", 1)
    first(rb"\r\n", 1)
    first(rb"[\xc0-\xf7][\x80-\xbf]", 1)  # after the lead byte of a multi-byte character
    first(rb"[\xe0-\xf7][\x80-\xbf][\x80-\xbf]", 2)
    pos = 0
    while pos < min(n, 512):
        pos += rng.randint(1, 8)
        cuts.add(pos)
    count = min(max(1, n // 64), 4096, n - 1)
    cuts.update(rng.sample(range(1, n), count))
    points = sorted(c for c in cuts if 0 < c < n)
    pieces = []
    prev = 0
    for c in points:
        pieces.append(body[prev:c])
        prev = c
    pieces.append(body[prev:])
    return pieces


class _Rechunker:
    """The active re-chunking policy: strategy plus a per-cassette seed and response counter."""

    def __init__(self, strategy: str, seed: int) -> None:
        self.strategy = strategy
        self.seed = seed
        self.count = 0

    def pieces(self, body: bytes) -> list[bytes]:
        self.count += 1
        return rechunk(body, self.seed + self.count, self.strategy)


_RECHUNK_LOCK = threading.Lock()
_active_rechunker: _Rechunker | None = None
_STREAM_CLASSES: dict[type[Any], type[Any]] = {}  # keyed by the module's ByteStream class


def _rechunked_stream_class(httpx_module: Any) -> type[Any]:
    """A byte stream class of ``httpx_module`` (httpx or httpx2) yielding pre-cut pieces."""
    cls = _STREAM_CLASSES.get(httpx_module.ByteStream)
    if cls is None:

        class RechunkedStream(httpx_module.SyncByteStream, httpx_module.AsyncByteStream):  # type: ignore[misc]
            """A replayed response body delivered in several pieces (then its cut, if any)."""

            def __init__(self, pieces: list[bytes], error: BaseException | None = None) -> None:
                self._pieces = pieces
                self._error = error

            def __iter__(self) -> Iterator[bytes]:
                yield from self._pieces
                if self._error is not None:
                    raise self._error

            async def __aiter__(self) -> Any:
                for piece in self._pieces:
                    yield piece
                if self._error is not None:
                    raise self._error

        cls = _STREAM_CLASSES[httpx_module.ByteStream] = RechunkedStream
    return cls


def _check_signature(func: Any, expected: Sequence[str], where: str) -> None:
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        params = []
    if params[: len(expected)] != list(expected):
        raise VcrInternalsError(
            f"re-chunked replay patches {where}({', '.join(expected)}), but this vcrpy has "
            f"{where}({', '.join(params)}). Set `oapi_rechunk = off` in the ini file (replay as "
            "one blob) or pin a vcrpy version this plugin supports."
        )


@contextlib.contextmanager
def rechunked_replay(strategy: str, seed: int) -> Iterator[None]:
    """While active, bodies replayed by vcrpy reach the client in pieces from :func:`rechunk`,
    and a body the provider cut ends with its error (recorded now, or replayed).

    What we patch and why (vcrpy has no hook for this; vcrpy 8.2-9.4 internals):

    * ``vcr.stubs.httpx_stubs._deserialize_response(vcr_response, httpx)``: builds the replayed
      ``httpx``/``httpx2`` ``Response`` with one ``ByteStream(body)``. We wrap it and swap the
      response's ``stream`` for one that yields the pieces (sync and async). This covers httpx,
      httpx2 and so the openai SDK (sync and async).
    * ``vcr.stubs.VCRHTTPResponse.stream(amt, decode_content)``: what ``requests`` and urllib3
      iterate; it read fixed ``amt``-byte blocks from a ``BytesIO``. Ours yields the pieces
      (never more than ``amt`` bytes each).
    * while recording, what :func:`cuts.recorded_cuts` names.

    Both are checked before patching; if vcrpy changed them, :class:`VcrInternalsError` says
    to set ``oapi_rechunk = off``. With ``strategy="off"`` a body is replayed in one blob, as
    vcrpy does; only a cut body is still handed on by us (its error after it), and only when
    vcrpy's internals are as expected.
    """
    global _active_rechunker
    if strategy not in RECHUNK_STRATEGIES:
        raise ValueError(f"unknown rechunk strategy {strategy!r}; use one of {RECHUNK_STRATEGIES}")
    import vcr.stubs as stubs
    from vcr.stubs import httpx_stubs

    original_deserialize = getattr(httpx_stubs, "_deserialize_response", None)
    original_stream = getattr(stubs.VCRHTTPResponse, "stream", None)
    off = strategy == "off"
    try:
        _check_signature(original_deserialize, ("vcr_response", "httpx"), "_deserialize_response")
        _check_signature(original_stream, ("self", "amt"), "VCRHTTPResponse.stream")
    except VcrInternalsError:
        if not off:
            raise
        yield  # one blob, as vcrpy replays it (a cut body then ends without its error)
        return
    rechunker = _Rechunker(strategy, seed)

    def deserialize_response(vcr_response: Any, httpx: Any) -> Any:
        response = original_deserialize(vcr_response, httpx)  # type: ignore[misc]
        cut = Cut.from_response(vcr_response)
        if off and cut is None:
            return response
        body = (vcr_response.get("body") or {}).get("string")
        if isinstance(body, bytes) and isinstance(response.stream, httpx.ByteStream):
            error = cut.httpx_error(httpx) if cut is not None else None
            response.stream = _rechunked_stream_class(httpx)(rechunker.pieces(body), error)
        return response

    def stream(self: Any, amt: int | None = 65536, decode_content: Any = None) -> Iterator[bytes]:
        cut = Cut.from_response(getattr(self, "recorded_response", None))
        if off and cut is None:
            yield from original_stream(self, amt, decode_content)  # type: ignore[misc]
            return
        for piece in rechunker.pieces(self.read()):
            if amt:
                for i in range(0, len(piece), amt):
                    yield piece[i : i + amt]
            else:
                yield piece
        if cut is not None:
            raise cut.urllib3_error()

    def cut_stream(httpx: Any, body: bytes, error: BaseException) -> Any:
        return _rechunked_stream_class(httpx)(rechunker.pieces(body), error)

    with _RECHUNK_LOCK:
        if _active_rechunker is not None:
            raise CassetteError("two cassettes are active at once; nest them in one test only")
        _active_rechunker = rechunker
        httpx_stubs._deserialize_response = deserialize_response
        stubs.VCRHTTPResponse.stream = stream
    try:
        with recorded_cuts(cut_stream):
            yield
    finally:
        with _RECHUNK_LOCK:
            httpx_stubs._deserialize_response = original_deserialize
            stubs.VCRHTTPResponse.stream = original_stream
            _active_rechunker = None
