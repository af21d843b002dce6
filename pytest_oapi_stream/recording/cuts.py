"""Streams the provider cut: keep what arrived while recording, mark the cut, replay it.

vcrpy reads a whole response body before the client sees any of it; a read that fails half-way
(the provider closes or resets the connection) reached the client as the bare error, with no
event, and nothing was written. Here the read error is caught while vcrpy records, the bytes that
arrived are recorded with a marker naming the error, and the client gets those bytes, then an
error of the type its transport raised. Replay reads the marker and does the same.

The marker is one mapping in the recorded response, after its body::

    oapi_cut:
      error: httpx.RemoteProtocolError
      message: peer closed connection without sending complete message body (incomplete ...)

What is patched (vcrpy 9.x internals; each is checked first, and left alone if it changed):
``vcr.stubs.httpx_stubs._vcr_handle_request`` / ``_vcr_handle_async_request`` (httpx, httpx2 and
so the openai SDK), ``vcr.stubs.VCRConnection.getresponse`` (requests and urllib3),
``vcr.stubs.aiohttp_stubs.record_response`` / ``build_response`` (aiohttp), and the gzip
and deflate entries of ``vcr.filters.AVAILABLE_DECOMPRESSORS`` (a cut compressed body decodes
as far as it arrived, instead of being stored compressed under headers saying it is not).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from ..core.cut import CUT_KEY, CutMarker

#: Builds what the client reads from a cut response: (httpx module, bytes that arrived, error).
StreamFactory = Callable[[Any, bytes, BaseException], Any]


class Cut(CutMarker):
    """The marker (``core/cut.py``: reading, writing, describing it), and the error each
    client's transport raises at the cut when it is replayed."""

    def httpx_error(self, httpx: Any) -> BaseException:
        """The error an ``httpx``/``httpx2`` client gets at the cut: the recorded class of the
        same name when that module has it, else ``RemoteProtocolError`` (``ReadTimeout`` for a
        timeout) when the cassette was recorded by another client."""
        same_kind = self.error.startswith("httpx")  # httpx or httpx2: the same classes
        kind = getattr(httpx, self._name, None) if same_kind else None
        if not (isinstance(kind, type) and issubclass(kind, httpx.TransportError)):
            kind = httpx.ReadTimeout if "Timeout" in self._name else httpx.RemoteProtocolError
        error: BaseException = kind(self.message)
        return error

    def urllib3_error(self) -> BaseException:
        """The error urllib3 raises at the cut (requests turns ``ProtocolError`` into its
        ``ChunkedEncodingError`` and ``ReadTimeoutError`` into its ``ConnectionError``)."""
        from urllib3 import exceptions

        if "Timeout" in self._name:
            error = exceptions.ReadTimeoutError.__new__(exceptions.ReadTimeoutError)
            Exception.__init__(error, self.message)  # its own __init__ prefixes a pool
            error.pool, error.url = None, None  # type: ignore[assignment]
            return error
        return exceptions.ProtocolError(self.message)


class _Caught:
    """The read error of one recorded response (None while the body read whole)."""

    error: BaseException | None = None


class _CatchingStream:
    """A transport's response stream that ends, instead of raising, at a transport error."""

    def __init__(self, stream: Any, errors: type[BaseException], caught: _Caught) -> None:
        self._stream = stream
        self._errors = errors
        self._caught = caught

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        except self._errors as exc:
            self._caught.error = exc

    async def __aiter__(self) -> Any:
        try:
            async for piece in self._stream:
                yield piece
        except self._errors as exc:
            self._caught.error = exc

    def close(self) -> None:
        with contextlib.suppress(*self._quiet()):
            self._stream.close()

    async def aclose(self) -> None:
        with contextlib.suppress(*self._quiet()):
            await self._stream.aclose()

    def _quiet(self) -> tuple[type[BaseException], ...]:
        return (Exception,) if self._caught.error is not None else ()


def _mark(cassette: Any, before: int, cut: Cut) -> None:
    """Add the marker to the interaction vcrpy just appended (none when a filter dropped it)."""
    data = getattr(cassette, "data", None)
    if isinstance(data, list) and len(data) > before and isinstance(data[-1][1], dict):
        data[-1][1][CUT_KEY] = cut.to_dict()


def _signature_is(func: Any, expected: tuple[str, ...]) -> bool:
    try:
        return tuple(inspect.signature(func).parameters)[: len(expected)] == expected
    except (TypeError, ValueError):
        return False


_HTTPX_ARGS = ("cassette", "real_handle_request", "self", "real_request", "httpx")
_HTTPX_ASYNC_ARGS = ("cassette", "real_handle_async_request", "self", "real_request", "httpx")


@contextlib.contextmanager
def recorded_cuts(make_stream: StreamFactory) -> Iterator[None]:
    """While active, a recorded body whose read fails part-way is kept, marked and handed on.

    ``make_stream(httpx, body, error)`` builds the httpx byte stream the client then reads
    (the bytes that arrived, then ``error``). Where vcrpy's internals are not as expected,
    that client is left to vcrpy (a cut records nothing, as before).
    """
    import vcr.stubs as stubs
    from vcr.stubs import httpx_stubs

    sync_original = getattr(httpx_stubs, "_vcr_handle_request", None)
    async_original = getattr(httpx_stubs, "_vcr_handle_async_request", None)
    getresponse_original = getattr(stubs.VCRConnection, "getresponse", None)
    patches: list[tuple[Any, str, Any]] = []

    def handle_request(
        cassette: Any, real_handle_request: Any, self: Any, real_request: Any, httpx: Any
    ) -> Any:
        caught = _Caught()

        def handle(transport: Any, request: Any) -> Any:
            response = real_handle_request(transport, request)
            response.stream = _CatchingStream(response.stream, httpx.TransportError, caught)
            return response

        before = len(cassette.data)
        response = sync_original(cassette, handle, self, real_request, httpx)  # type: ignore[misc]
        return _hand_on(cassette, before, caught, response, httpx)

    async def handle_async_request(
        cassette: Any, real_handle_async_request: Any, self: Any, real_request: Any, httpx: Any
    ) -> Any:
        caught = _Caught()

        async def handle(transport: Any, request: Any) -> Any:
            response = await real_handle_async_request(transport, request)
            response.stream = _CatchingStream(response.stream, httpx.TransportError, caught)
            return response

        before = len(cassette.data)
        response = await async_original(cassette, handle, self, real_request, httpx)  # type: ignore[misc]
        return _hand_on(cassette, before, caught, response, httpx)

    def _hand_on(cassette: Any, before: int, caught: _Caught, response: Any, httpx: Any) -> Any:
        if caught.error is None:
            return response
        _mark(cassette, before, Cut.of(caught.error))
        body = b"".join(response.stream)  # what vcrpy recorded (a ByteStream of the bytes read)
        response.stream = make_stream(httpx, body, caught.error)
        return response

    def getresponse(self: Any, *args: Any, **kwargs: Any) -> Any:
        real = self.__dict__.get("real_connection")
        caught = _Caught()
        wrapped = real is not None and hasattr(real, "_response_options")
        if wrapped:
            real.getresponse = _lazy_getresponse(real, real.getresponse, caught)
        before = len(self.cassette.data)
        try:
            response = getresponse_original(self, *args, **kwargs)  # type: ignore[misc]
        finally:
            if wrapped:
                real.__dict__.pop("getresponse", None)
        if caught.error is not None:
            cut = Cut.of(caught.error)
            _mark(self.cassette, before, cut)
            response.recorded_response[CUT_KEY] = cut.to_dict()
            with contextlib.suppress(Exception):
                real.close()  # the provider closed it; never hand it back to the pool
        return response

    httpx_ok = _signature_is(sync_original, _HTTPX_ARGS)
    if httpx_ok and _signature_is(async_original, _HTTPX_ASYNC_ARGS):
        patches += [
            (httpx_stubs, "_vcr_handle_request", handle_request),
            (httpx_stubs, "_vcr_handle_async_request", handle_async_request),
        ]
    if _signature_is(getresponse_original, ("self",)):
        patches.append((stubs.VCRConnection, "getresponse", getresponse))
    patches += _aiohttp_patches()
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)
    decompressors = _decompressors()
    saved = dict(decompressors)
    decompressors.update(
        {name: _partial_decompressor(wbits) for name, wbits in _WBITS.items() if name in saved}
    )
    try:
        yield
    finally:
        decompressors.update(saved)
        for owner, name, original in originals:
            setattr(owner, name, original)


#: zlib's ``wbits`` of the encodings vcrpy decodes with zlib (gzip: header and trailer).
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


def _decompressors() -> dict[str, Any]:
    """vcrpy's table of body decompressors by content encoding (empty if it has none)."""
    from vcr import filters

    table = getattr(filters, "AVAILABLE_DECOMPRESSORS", None)
    return table if isinstance(table, dict) else {}


def _partial_decompressor(wbits: int) -> Callable[[bytes], bytes]:
    """vcrpy's decompressor, but a body cut short decodes as far as it arrived (vcrpy's own gives
    up on it and keeps the compressed bytes); a body that is not compressed stays as is."""

    def decompress(body: bytes) -> bytes:
        try:
            decoder = zlib.decompressobj(wbits)
            return decoder.decompress(body) + decoder.flush()
        except zlib.error:
            return body  # vcrpy's assumption: already decompressed

    return decompress


def _lazy_getresponse(real: Any, original: Any, caught: _Caught) -> Any:
    """urllib3's ``getresponse`` reading the body itself, stopping (not raising) at a cut.

    vcrpy asks urllib3 to preload the body, which raises at a cut and keeps nothing; this reads
    it as requests would (``stream()``), keeps the pieces that arrived, and hands vcrpy a
    response whose ``data`` is them.
    """

    def getresponse(*args: Any, **kwargs: Any) -> Any:
        options = getattr(real, "_response_options", None)
        if options is None or not getattr(options, "preload_content", False):
            return original(*args, **kwargs)
        real._response_options = options._replace(preload_content=False)
        return _ReadResponse(original(*args, **kwargs), options.decode_content, caught)

    return getresponse


class _ReadResponse:
    """A urllib3 response whose ``data`` is the body read up to its end or its cut."""

    def __init__(self, response: Any, decode_content: bool, caught: _Caught) -> None:
        from urllib3.exceptions import ProtocolError, ReadTimeoutError

        self._response = response
        pieces = []
        try:
            for piece in response.stream(65536, decode_content=decode_content):
                pieces.append(piece)
        except (ProtocolError, ReadTimeoutError) as exc:
            caught.error = exc
            with contextlib.suppress(Exception):
                response.close()
        self.data = b"".join(pieces)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._response, name)


def _aiohttp_patches() -> list[tuple[Any, str, Any]]:
    """vcrpy's aiohttp stub, recording a cut body and replaying its error (none without aiohttp
    or when vcrpy's stub is not as expected)."""
    try:
        from vcr.stubs import aiohttp_stubs
    except ImportError:
        return []
    record_original = getattr(aiohttp_stubs, "record_response", None)
    build_original = getattr(aiohttp_stubs, "build_response", None)
    mock_stream = getattr(aiohttp_stubs, "MockStream", None)
    if not (
        _signature_is(record_original, ("cassette", "vcr_request", "response"))
        and _signature_is(build_original, ("vcr_request", "vcr_response", "history"))
        and isinstance(mock_stream, type)
    ):
        return []
    import aiohttp

    class CutStream(mock_stream):  # type: ignore[misc, valid-type]
        """aiohttp's stream reader over the bytes that arrived; drained, it raises the cut."""

        def __init__(self, body: bytes, error: BaseException) -> None:
            super().__init__(body)
            self._eof = False  # MockStream ended it; a cut stream ends with its error instead
            self._cut_error = error

        async def _wait(self, func_name: str) -> None:
            raise self._cut_error

    class CutResponse(aiohttp_stubs.MockClientResponse):  # type: ignore[misc]
        """vcrpy's replayed response, reading through its stream (vcrpy's returns the whole
        body): ``read()``, ``text()`` and ``json()`` raise the cut, as a live response's do."""

        async def read(self) -> bytes:
            return bytes(await self.content.read())

        async def text(self, encoding: str = "utf-8", errors: str = "strict") -> str:
            return (await self.read()).decode(encoding, errors)

        async def json(self, *args: Any, **kwargs: Any) -> Any:
            return json.loads(await self.text())

    async def record_response(cassette: Any, vcr_request: Any, response: Any) -> Any:
        pieces: list[bytes] = []
        try:
            async for piece in response.content.iter_any():
                pieces.append(piece)
        except aiohttp.ClientPayloadError as exc:
            before = len(cassette.data)
            body = b"".join(pieces)
            response.content = mock_stream(body)  # what vcrpy's own reads and records
            await record_original(cassette, vcr_request, response)  # type: ignore[misc]
            _mark(cassette, before, Cut.of(exc))
            response._body = None  # read() goes through the stream and raises, as live
            response.content = CutStream(body, exc)
            return None
        except aiohttp.ClientConnectionError:
            if pieces:
                raise
        if pieces:
            response.content = mock_stream(b"".join(pieces))
        return await record_original(cassette, vcr_request, response)  # type: ignore[misc]

    def build_response(vcr_request: Any, vcr_response: Any, history: Any) -> Any:
        response = build_original(vcr_request, vcr_response, history)  # type: ignore[misc]
        cut = Cut.from_response(vcr_response)
        if cut is not None and isinstance(response, aiohttp_stubs.MockClientResponse):
            body = response._body or b""
            response._body = None
            response.content = CutStream(body, aiohttp.ClientPayloadError(cut.message))
            response.__class__ = CutResponse
        return response

    return [
        (aiohttp_stubs, "record_response", record_response),
        (aiohttp_stubs, "build_response", build_response),
    ]
