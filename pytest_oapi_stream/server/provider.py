"""``oapi_server``: a loopback OpenAI-compatible provider that streams scripted, faulty answers.

Users test *their own* streaming code (reassembly, retries, timeouts, rendering) against what real
providers do wrong. ``OAPIServer`` is a real HTTP/1.1 server on 127.0.0.1 (a random port unless
told otherwise) that speaks ``POST /v1/chat/completions`` and ``POST /v1/responses`` (stream
and non-stream, from the same sources), ``GET /v1/responses/{id}`` (a Responses stream it
sent, resumed after ``starting_after``) and ``GET /v1/models``. What it answers comes from a
source set by the test: the stream builder (``stream()``), an SSE body (``serve_sse()``), a
list of chunks (``serve_chunks()``) or a vcrpy cassette (``serve_cassette()``), optionally
reshaped like a provider (``as_provider``) and broken by named faults (``faults.py``).
Standard library only, daemon threads, no pytest.

This module is the server's lifecycle and the test-facing API; the parts live beside it:
``transport`` (HTTP, threads, writing), ``requests`` (reading and checking requests),
``routes`` (which endpoint answers), ``sources`` (what it answers), ``stored`` (the Responses
streams sent, for the resume), ``answers`` (answer values and OpenAI-style errors), ``serve``
(the ``oapi-stream serve`` command). The fixtures are in
``plugin/fixtures.py``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from ..chat.faults import FaultSpec
from .requests import RecordedRequest
from .sources import (
    CassetteSource,
    ChunksSource,
    ScriptSource,
    Source,
    SSESource,
    load_cassette,
)
from .stored import StoredResponses
from .transport import HOST, HTTPServer

__all__ = ["OAPIServer", "RecordedRequest"]

log = logging.getLogger(__name__)


class OAPIServer:
    """A loopback OpenAI-compatible provider with a stream builder, impersonation and faults.

    Use as a context manager or call ``start()``/``stop()``. ``base_url`` plugs into
    ``openai.OpenAI(base_url=...)``; ``requests`` holds what clients sent. The last source set
    (``stream``, ``serve_sse``, ``serve_chunks``, ``serve_cassette``) answers every request
    after it; before any is set, ``stream()`` with its defaults answers. ``request_timeout``
    bounds the time a request may take to arrive once begun (a 408 after it), ``idle_timeout``
    the wait for the next request on an open connection.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        models: Sequence[str] = ("gpt-4o-mini",),
        request_timeout: float = 10.0,
        idle_timeout: float = 30.0,
    ) -> None:
        for name, value in (("request_timeout", request_timeout), ("idle_timeout", idle_timeout)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name} must be a number of seconds > 0, got {value!r}")
        self._port_wanted = port
        #: Seconds a request (line, headers, body) may take to arrive once its first byte came;
        #: a slower one gets a 408 and its connection is closed (slow or stuck clients).
        self.request_timeout = float(request_timeout)
        #: Seconds a connection may wait for the first byte of a request before it is closed.
        self.idle_timeout = float(idle_timeout)
        self.models = tuple(models)
        #: Every request received, in order (method, path, headers, raw body, parsed JSON).
        self.requests: list[RecordedRequest] = []
        #: Tracebacks of errors inside the server (a bug here, never a client's fault).
        self.errors: list[str] = []
        self._source: Source = ScriptSource({}, None)
        #: The Responses streams sent, by response id, for ``GET .../responses/{id}``.
        self._stored = StoredResponses()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._req_counter = 0

    # ---- lifecycle

    def start(self) -> OAPIServer:
        """Bind 127.0.0.1 and serve from a daemon thread; returns ``self``."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = HTTPServer(self, self._port_wanted)
        self._wake_r, self._wake_w = socket.socketpair()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=self._serve_loop, name=f"oapi-server-{httpd.server_port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, end every open connection (stalled ones too) and join all threads."""
        httpd = self._httpd
        if httpd is None:
            return
        self._stopping.set()
        assert self._wake_w is not None and self._wake_r is not None
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout)
        httpd.server_close()
        with httpd.lock:
            conns = list(httpd.connections)
            threads = list(httpd.threads)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._wake_r.close()
        self._wake_w.close()
        self._httpd = None
        self._thread = None

    def __enter__(self) -> OAPIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve_loop(self) -> None:
        httpd = self._httpd
        assert httpd is not None and self._wake_r is not None
        httpd.socket.setblocking(False)
        with selectors.DefaultSelector() as sel:
            sel.register(httpd.socket, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                ready = sel.select()
                if self._stopping.is_set() or any(k.fileobj is self._wake_r for k, _ in ready):
                    return
                for _ in range(64):  # take a burst of waiting connections in one wake-up
                    try:
                        request, client_address = httpd.get_request()
                    except OSError:  # none left (BlockingIOError), or one that left already
                        break
                    request.setblocking(True)
                    httpd.process_request(request, client_address)

    @property
    def running(self) -> bool:
        """Whether the server is started and not stopped."""
        return self._httpd is not None

    @property
    def port(self) -> int:
        """The TCP port the server listens on (after ``start()``)."""
        if self._httpd is None:
            raise RuntimeError("the server is not running; call start() first")
        return int(self._httpd.server_port)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no path)."""
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the ``base_url`` of an OpenAI client."""
        return self.url + "/v1"

    @property
    def last_request(self) -> RecordedRequest | None:
        """The most recent request, or ``None``."""
        return self.requests[-1] if self.requests else None

    def reset(self) -> None:
        """Forget requests, errors, the remembered Responses answers and the source (back to
        ``stream()`` defaults)."""
        with self._lock:
            self.requests.clear()
            self.errors.clear()
            self._source = ScriptSource({}, None)
        self._stored.clear()

    @property
    def response_ids(self) -> list[str]:
        """The ids of the Responses answers streamed so far that ``GET .../responses/{id}``
        can retrieve and resume (the last ``stored.MAX_RESPONSES``), oldest first."""
        return self._stored.ids()

    # ---- sources

    def _set(self, source: Source) -> OAPIServer:
        source.dry_run()
        with self._lock:
            self._source = source
        return self

    def stream(
        self,
        text: str | Sequence[str] | None = None,
        *,
        reasoning: str | Sequence[str] | None = None,
        tool_calls: Sequence[Mapping[str, Any]] | None = None,
        refusal: str | Sequence[str] | None = None,
        usage: bool | None = None,
        n: int | None = None,
        model: str | None = None,
        finish_reason: str | None = None,
        as_provider: str | None = None,
        created: int | None = None,
        seed: int = 0,
        faults: FaultSpec = None,
    ) -> OAPIServer:
        """Answer the next requests with a built stream (see ``builder.build_items``), told as
        Responses events on ``.../responses`` (``responses.builder.build_response_items``).

        ``usage``/``n``/``model`` default to what each request asks for. ``as_provider``
        reproduces a built-in profile's known deviations; ``faults`` (``{"name": value}`` or
        names) breaks the stream on purpose. Invalid settings raise ``ValueError`` here.
        """
        recipe = {
            "text": text,
            "reasoning": reasoning,
            "tool_calls": tool_calls,
            "refusal": refusal,
            "usage": usage,
            "n": n,
            "model": model,
            "finish_reason": finish_reason,
            "as_provider": as_provider,
            "created": created,
            "seed": seed,
        }
        return self._set(ScriptSource(recipe, faults))

    def serve_sse(
        self, data: bytes | str | os.PathLike[str], *, faults: FaultSpec = None
    ) -> OAPIServer:
        """Answer with this SSE body: bytes, the SSE text itself, or a path to a ``.sse`` file."""
        if isinstance(data, os.PathLike):
            body = Path(data).read_bytes()
        elif isinstance(data, str) and "\n" not in data and Path(data).is_file():
            body = Path(data).read_bytes()  # a path given as str (SSE text has line breaks)
        elif isinstance(data, str):
            body = data.encode()
        else:
            body = bytes(data)
        return self._set(SSESource(body, faults))

    def serve_chunks(
        self,
        chunks: Sequence[Mapping[str, Any]],
        *,
        done: bool | None = None,
        faults: FaultSpec = None,
    ) -> OAPIServer:
        """Answer with these payload dicts, one SSE event each: chat chunks then ``[DONE]``
        (unless ``done=False``), or Responses events (a first ``type`` ``response.*``) with
        their ``event:`` lines and no ``[DONE]`` (unless ``done=True``)."""
        return self._set(ChunksSource(chunks, done, faults))

    def serve_cassette(
        self, path: str | os.PathLike[str], *, faults: FaultSpec = None
    ) -> OAPIServer:
        """Answer with a vcrpy cassette's chat-completion responses in order (the last repeats)."""
        return self._set(CassetteSource(load_cassette(path), faults))

    # ---- used by the handler

    def _current_source(self) -> Source:
        with self._lock:
            return self._source

    def _record(self, rec: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(rec)

    def _internal_error(self, text: str) -> None:
        log.error("oapi_server internal error:\n%s", text)
        with self._lock:
            self.errors.append(text)

    def _request_id(self) -> str:
        with self._lock:
            self._req_counter += 1
            return f"req_oapistream{self._req_counter:08d}"

    def _model_obj(self, model: str) -> dict[str, Any]:
        return {"id": model, "object": "model", "created": 1715367049, "owned_by": "oapi-stream"}

    def _models_list(self) -> dict[str, Any]:
        return {"object": "list", "data": [self._model_obj(m) for m in self.models]}
