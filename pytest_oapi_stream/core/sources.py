"""Any user source -> byte pieces (or already-parsed chunks): the entrance of the flow.

Recognised without importing the client libraries: bytes, str (the SSE text), paths, iterables
and async iterables of bytes/str, httpx and httpx2 responses (sync or async, streamed or read),
requests responses, openai SDK ``Stream``/``AsyncStream`` (read from their raw HTTP response so
the framing is checked too), LiteLLM's ``CustomStreamWrapper`` over an openai stream (read from
that stream's raw response likewise) and lists of dicts or chunk models (framing rules then do
not apply).

Refused with a ``SourceError`` (a ``TypeError``) that says what to pass instead, never judged:
LangChain message chunks and LiteLLM's rebuilt chunks (neither is what the provider sent), a
response its client has already read, wholly or in part (its chunks are gone), an iterable
that yields something else than bytes/str.
A ``str`` is SSE text; a one-line ``str`` that names a file (or looks like a recording's path)
raises ``ValueError``: pass ``pathlib.Path(...)`` to read a file.
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
    also_sync: bool = False  # an async source that can be iterated synchronously too


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
    if getattr(resp, "is_stream_consumed", False):
        raise _already_read(label)
    stream = getattr(resp, "stream", None)
    is_async = (
        stream is not None and hasattr(stream, "__aiter__") and not hasattr(stream, "__iter__")
    )
    if is_async:
        return Source("async", label, apieces=resp.aiter_bytes(), http=http, url=url)
    return Source("bytes", label, pieces=resp.iter_bytes(), http=http, url=url)


def _already_read(label: str) -> SourceError:
    return SourceError(
        f"the {label} was already read by its client (its chunks are gone): pass the "
        "stream before iterating it, or read the recorded cassette (the oapi marker)"
    )


def _requests_started(resp: Any) -> bool:
    """Whether a streamed ``requests`` response was read by its client, wholly or in part.

    ``iter_content``/``iter_lines`` set ``_content_consumed`` only once exhausted; a partial
    read shows on the urllib3 ``raw``: bytes counted (``tell``), a chunk begun
    (``chunk_left``), decoded bytes held back, or the body's end reached (``closed``).
    """
    if getattr(resp, "_content_consumed", False):
        return True
    raw = getattr(resp, "raw", None)
    if raw is None:
        return False
    try:
        return bool(
            raw.tell()
            or getattr(raw, "chunk_left", None) is not None
            or len(getattr(raw, "_decoded_buffer", b""))
            or getattr(raw, "closed", False)
        )
    except (AttributeError, OSError, TypeError, ValueError):
        return False


def _from_requests(resp: Any, label: str) -> Source:
    http, url = _http_info(resp), _url_of(resp)
    if isinstance(getattr(resp, "_content", None), bytes):
        return Source("bytes", label, pieces=[resp._content], http=http, url=url)
    if _requests_started(resp):
        raise _already_read(label)
    return Source("bytes", label, pieces=resp.iter_content(_READ_SIZE), http=http, url=url)


_USE_THE_WIRE = (
    "check what the provider sent instead: mark the test with @pytest.mark.oapi (it checks the "
    "recorded cassette), or pass the raw response (an httpx/requests response, or the openai "
    "client's Stream)"
)


def _not_wire_data(item: Any, where: str) -> SourceError | None:
    """The error for chunk-like objects that are not what the provider sent, else None."""
    kind = type(item)
    module = kind.__module__
    name = f"{module.split('.')[0]} {kind.__name__}"
    if module.startswith("langchain"):
        return SourceError(
            f"{where} is a {name}: a LangChain message stream has lost the wire data (chunk "
            f"envelopes, framing, finish and usage placement), so it cannot be judged; "
            + _USE_THE_WIRE
        )
    if module.startswith("litellm"):
        return SourceError(
            f"{where} is a {name}: LiteLLM rebuilds each chunk (adds and fills fields), so its "
            "chunks are not what the provider sent and cannot be judged; " + _USE_THE_WIRE
        )
    return None


def _from_litellm(wrapper: Any) -> Source:
    """LiteLLM's ``CustomStreamWrapper``: the raw response of the openai stream it wraps."""
    inner = getattr(wrapper, "completion_stream", None)
    if inner is not None and _is_openai_stream(inner):
        label = f"litellm {type(wrapper).__name__} (its openai {type(inner).__name__})"
        return _from_httpx(inner.response, label)
    if inner is None:
        raise SourceError(
            f"this litellm {type(wrapper).__name__} was already iterated (its stream is gone): "
            "pass it to the check before iterating it, or mark the test with @pytest.mark.oapi "
            "(it checks the recorded cassette)"
        )
    raise SourceError(
        f"a litellm {type(wrapper).__name__} over {type(inner).__name__}: only one over an "
        "openai stream can be read as the provider sent it (LiteLLM's own chunks are "
        "rebuilt); " + _USE_THE_WIRE
    )


def _as_chunks(items: list[Any], label: str) -> Source:
    chunks: list[ChatCompletionChunk | dict[str, Any]] = []
    for i, item in enumerate(items):
        if isinstance(item, (dict, ChatCompletionChunk)):
            chunks.append(item)
            continue
        refused = _not_wire_data(item, f"item {i} of the chunk list")
        if refused is not None:
            raise refused
        if hasattr(item, "model_dump"):
            # The openai SDK's own chunk models: keep exactly the keys the provider sent.
            chunks.append(item.model_dump(exclude_unset=True, mode="json"))
        else:
            raise SourceError(
                f"item {i} of the chunk list is {type(item).__name__}; "
                "expected dicts or chunk models"
            )
    return Source("chunks", label, chunks=chunks)


_SSE_START = ("data:", "event:", "id:", "retry:", ":", "\ufeff")
_PATH_SUFFIXES = (".sse", ".yaml", ".yml", ".json", ".txt", ".log")


def _path_like_text(text: str) -> str | None:
    """Why a ``str`` source is a file's path rather than SSE text (a ``ValueError``), or None.

    SSE text has lines; a one-line ``str`` that does not start with a field and names an
    existing file, or ends like a recording's file name, was meant as a path.
    """
    if len(text) > 4096 or "\n" in text or "\r" in text or text.lstrip().startswith(_SSE_START):
        return None
    if os.path.isfile(text):
        return (
            f"source: the str {text!r} names a file, but a str is read as SSE text; "
            "pass pathlib.Path(...) to read the file"
        )
    if text.strip().lower().endswith(_PATH_SUFFIXES):
        return (
            f"source: the str {text!r} looks like a file's path (there is no such file), but "
            "a str is read as SSE text; pass pathlib.Path(...) to read a file"
        )
    return None


def open_source(source: Any, *, prefer_sync: bool = False) -> Source:
    """Classify ``source`` and return how to read it; ``SourceError`` names what was given.

    An object that iterates both ways (LiteLLM's stream wrapper) is async unless
    ``prefer_sync`` (the sync check functions ask for that; ``also_sync`` tells them).
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Source("bytes", "bytes", pieces=[bytes(source)])
    if isinstance(source, str):
        problem = _path_like_text(source)
        if problem is not None:
            raise ValueError(problem)
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
    if type(source).__module__.startswith("litellm") and hasattr(source, "completion_stream"):
        return _from_litellm(source)
    if isinstance(source, (ChatCompletionChunk, dict)):
        raise SourceError("a single chunk was given; pass the list of all the stream's chunks")
    refused = _not_wire_data(source, "the source")
    if refused is not None:
        raise refused
    both = isinstance(source, AsyncIterable) and isinstance(source, Iterable)
    if isinstance(source, AsyncIterable) and not (both and prefer_sync):
        return Source("async", "async iterable", apieces=source, also_sync=both)
    if isinstance(source, Iterable):
        it = iter(source)
        first = list(itertools.islice(it, 1))
        if not first:
            return Source("bytes", "iterable", pieces=[])
        head = first[0]
        rest = itertools.chain(first, it)
        if isinstance(head, _PIECE_TYPES):
            return Source("bytes", "iterable", pieces=_checked_pieces(rest))
        refused = _not_wire_data(head, "item 0 of the iterable")
        if refused is not None:  # before reading the rest (a LangChain generator calls the LLM)
            raise refused
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
