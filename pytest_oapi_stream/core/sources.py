"""Any user source -> byte pieces (or already-parsed chunks): the entrance of the flow.

Recognised without importing the client libraries: bytes, str (the SSE text), paths, iterables
and async iterables of bytes/str, httpx and httpx2 responses (sync or async, streamed or read),
requests responses, openai SDK ``Stream``/``AsyncStream`` (read from their raw HTTP response so
the framing is checked too) and lists of dicts or chunk models (framing rules then do not apply).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..chat.models import ChatCompletionChunk

__all__ = ["HttpInfo", "Source", "SourceError", "open_source"]

_READ_SIZE = 65536


@dataclass(frozen=True, slots=True)
class HttpInfo:
    """What the HTTP response said, when the source had one (for OAS002)."""

    status: int | None
    content_type: str | None


class SourceError(TypeError):
    """The object given as a stream source is not one this package can read."""


@dataclass
class Source:
    """A readable stream: byte pieces (sync or async) or parsed chunks, plus what HTTP said."""

    kind: str  # "bytes" | "async" | "chunks"
    label: str
    pieces: Iterable[bytes | str] | None = None
    apieces: AsyncIterable[bytes | str] | None = None
    chunks: list[ChatCompletionChunk | dict[str, Any]] | None = None
    http: HttpInfo | None = None
    url: str | None = None


def _read_file(path: str | os.PathLike[str]) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while True:
            block = fh.read(_READ_SIZE)
            if not block:
                return
            yield block


def _http_info(resp: Any) -> HttpInfo:
    headers = getattr(resp, "headers", None) or {}
    ctype = headers.get("content-type") if hasattr(headers, "get") else None
    status = getattr(resp, "status_code", None)
    return HttpInfo(status=status if isinstance(status, int) else None, content_type=ctype)


def _url_of(resp: Any) -> str | None:
    try:
        request = getattr(resp, "request", None)  # httpx raises when a response has no request
    except RuntimeError:
        request = None
    try:
        url = getattr(request, "url", None) if request is not None else getattr(resp, "url", None)
    except RuntimeError:
        url = None
    return str(url) if url is not None else None


def _is_httpx_response(obj: Any) -> bool:
    mod = type(obj).__module__
    return (mod.startswith("httpx") or mod.startswith("httpx2")) and hasattr(obj, "iter_bytes")


def _is_requests_response(obj: Any) -> bool:
    return type(obj).__module__.startswith("requests") and hasattr(obj, "iter_content")


def _is_openai_stream(obj: Any) -> bool:
    return type(obj).__module__.startswith("openai") and hasattr(obj, "response")


def _from_httpx(resp: Any, label: str) -> Source:
    http, url = _http_info(resp), _url_of(resp)
    content = getattr(resp, "_content", None)
    if content is not None:
        return Source("bytes", label, pieces=[content], http=http, url=url)
    stream = getattr(resp, "stream", None)
    is_async = (
        stream is not None and hasattr(stream, "__aiter__") and not hasattr(stream, "__iter__")
    )
    if is_async:
        return Source("async", label, apieces=resp.aiter_bytes(), http=http, url=url)
    return Source("bytes", label, pieces=resp.iter_bytes(), http=http, url=url)


def _from_requests(resp: Any, label: str) -> Source:
    http, url = _http_info(resp), _url_of(resp)
    if getattr(resp, "_content_consumed", False) and isinstance(
        getattr(resp, "_content", None), bytes
    ):
        return Source("bytes", label, pieces=[resp._content], http=http, url=url)
    return Source("bytes", label, pieces=resp.iter_content(_READ_SIZE), http=http, url=url)


def _as_chunks(items: list[Any], label: str) -> Source:
    chunks: list[ChatCompletionChunk | dict[str, Any]] = []
    for i, item in enumerate(items):
        if isinstance(item, (dict, ChatCompletionChunk)):
            chunks.append(item)
        elif hasattr(item, "model_dump"):
            # The openai SDK's own chunk models: keep exactly the keys the provider sent.
            chunks.append(item.model_dump(exclude_unset=True, mode="json"))
        else:
            raise SourceError(
                f"item {i} of the chunk list is {type(item).__name__}; "
                "expected dicts or chunk models"
            )
    return Source("chunks", label, chunks=chunks)


def open_source(source: Any) -> Source:
    """Classify ``source`` and return how to read it; ``SourceError`` names what was given."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Source("bytes", "bytes", pieces=[bytes(source)])
    if isinstance(source, str):
        return Source("bytes", "text", pieces=[source])
    if isinstance(source, os.PathLike):
        path = os.fspath(source)
        if not os.path.exists(path):
            raise FileNotFoundError(f"no such stream file: {path}")
        return Source("bytes", str(path), pieces=_read_file(path))
    if _is_openai_stream(source):
        resp = source.response
        src = _from_httpx(resp, f"openai {type(source).__name__}")
        return src
    if _is_httpx_response(source):
        return _from_httpx(source, f"{type(source).__module__.split('.')[0]} response")
    if _is_requests_response(source):
        return _from_requests(source, "requests response")
    if isinstance(source, (ChatCompletionChunk, dict)):
        raise SourceError("a single chunk was given; pass the list of all the stream's chunks")
    if isinstance(source, AsyncIterable):
        return Source("async", "async iterable", apieces=source)
    if isinstance(source, Iterable):
        it = iter(source)
        first = list(itertools.islice(it, 1))
        if not first:
            return Source("bytes", "iterable", pieces=[])
        head = first[0]
        rest = itertools.chain(first, it)
        if isinstance(head, _PIECE_TYPES):
            return Source("bytes", "iterable", pieces=_checked_pieces(rest))
        return _as_chunks(list(rest), "chunk list")
    raise SourceError(
        f"cannot read a stream from {type(source).__name__}: pass bytes, str, a path, an "
        "iterable of bytes/str, an httpx/requests response, an openai Stream, or a list of chunks"
    )


_PIECE_TYPES = (bytes, bytearray, memoryview, str)


def _bad_piece(index: int, piece: object) -> TypeError:
    return SourceError(
        f"source: piece {index} of the iterable is {type(piece).__name__}; "
        "an iterable source yields bytes or str (pieces of the SSE body) throughout"
    )


def _checked_pieces(pieces: Iterable[Any]) -> Iterator[bytes | str]:
    """The pieces of an iterable source, each one bytes or str (else a ``SourceError``)."""
    for i, piece in enumerate(pieces):
        if isinstance(piece, (bytes, str)):
            yield piece
        elif isinstance(piece, (bytearray, memoryview)):
            yield bytes(piece)
        else:
            raise _bad_piece(i, piece)


async def aiter_pieces(source: Source) -> AsyncIterator[bytes | str]:
    """The pieces of a source, whether it reads sync or async (each bytes or str)."""
    if source.apieces is not None:
        i = 0
        async for piece in source.apieces:
            if isinstance(piece, (bytes, str)):
                yield piece
            elif isinstance(piece, (bytearray, memoryview)):
                yield bytes(piece)
            else:
                raise _bad_piece(i, piece)
            i += 1
    elif source.pieces is not None:
        for piece in source.pieces:
            yield piece
