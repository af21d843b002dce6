"""``oapi_server``: a loopback OpenAI-compatible provider that streams scripted, faulty answers.

Users test *their own* streaming code (reassembly, retries, timeouts, rendering) against what real
providers do wrong. ``OAPIServer`` is a real HTTP/1.1 server on 127.0.0.1 (a random port unless
told otherwise) that speaks ``POST /v1/chat/completions`` (stream and non-stream) and
``GET /v1/models``. What it answers comes from a source set by the test: the stream builder
(``stream()``), an SSE body (``serve_sse()``), a list of chunks (``serve_chunks()``) or a vcrpy
cassette (``serve_cassette()``), optionally reshaped like a provider (``as_provider``) and broken
by named faults (``faults.py``). Every SSE event is its own write, so clients see real network
chunking. Standard library only, daemon threads, no pytest; the fixtures are in
``plugin/fixtures.py`` and ``serve_main`` is the ``oapi-stream serve`` command.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import select
import selectors
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from ..chat.builder import (
    DONE,
    PROVIDER_STYLES,
    Item,
    assemble_completion,
    build_items,
    encode_items,
    items_from_sse,
    split_events,
)
from ..chat.faults import (
    FaultSpec,
    TransportPlan,
    apply_byte_faults,
    apply_chunk_faults,
    check_transport,
    has_chunk_faults,
    normalize_faults,
    transport_plan,
)

__all__ = ["OAPIServer", "RecordedRequest", "serve_main"]

log = logging.getLogger(__name__)

_HOST = "127.0.0.1"
_MAX_BODY = 64 * 1024 * 1024
_SSE_TYPE = "text/event-stream; charset=utf-8"
_JSON_TYPE = "application/json"


# --------------------------------------------------------------------------- requests


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


# --------------------------------------------------------------------------- answers


@dataclass
class _Events:
    """A streamed answer: the SSE events to write, one write each."""

    events: list[bytes]
    content_type: str = _SSE_TYPE


@dataclass
class _Body:
    """A one-piece answer (JSON completion, recorded non-stream response, error)."""

    status: int
    body: bytes
    content_type: str = _JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)


_Answer = _Events | _Body


def _json_body(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


_ERRORS: Mapping[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported.",
    ),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model does not exist or you do not have access to it.",
    ),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests. Please try again in 1s.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
    504: ("server_error", None, "Gateway timeout."),
}


_DEFAULT_CODE: Any = object()


def error_body(
    status: int,
    message: str | None = None,
    *,
    param: str | None = None,
    code: str | None = _DEFAULT_CODE,
) -> bytes:
    """An OpenAI-style error body ``{"error": {message, type, param, code}}`` for ``status``."""
    etype, ecode, emsg = _ERRORS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None, "")
    )
    if not emsg:
        try:
            emsg = HTTPStatus(status).phrase + "."
        except ValueError:
            emsg = f"HTTP {status}."
    return _json_body(
        {
            "error": {
                "message": message or emsg,
                "type": etype,
                "param": param,
                "code": ecode if code is _DEFAULT_CODE else code,
            }
        }
    )


# --------------------------------------------------------------------------- sources


class _Source:
    """Where answers come from; ``faults`` are normalized and apply to every streamed answer."""

    def __init__(self, faults: FaultSpec) -> None:
        self.faults = normalize_faults(faults)
        self.plan: TransportPlan = transport_plan(self.faults)
        self._lock = threading.Lock()
        self._failures_left = self.plan.http_status_count

    def take_http_failure(self) -> bool:
        """Whether this request gets the ``http_status`` fault (counts ``http_status_count``)."""
        if self.plan.http_status is None:
            return False
        with self._lock:
            if self._failures_left is None:
                return True
            if self._failures_left <= 0:
                return False
            self._failures_left -= 1
            return True

    def answer(self, request: Mapping[str, Any] | None, stream: bool) -> _Answer:
        raise NotImplementedError

    def _stream_items(self, items: list[Item]) -> _Events:
        items = apply_chunk_faults(items, self.faults)
        events = apply_byte_faults(encode_items(items), self.faults)
        return _Events(events)

    def dry_run(self) -> None:
        """Build one streamed answer now, so a fault that cannot apply fails at the call site."""
        answer = self.answer(None, True)
        if isinstance(answer, _Events):
            check_transport(answer.events, self.faults)


class _ScriptSource(_Source):
    """Answers built by ``builder.build_items`` from the recipe and each request."""

    def __init__(self, recipe: Mapping[str, Any], faults: FaultSpec) -> None:
        super().__init__(faults)
        self.recipe = dict(recipe)

    def answer(self, request: Mapping[str, Any] | None, stream: bool) -> _Answer:
        if stream:
            return self._stream_items(build_items(**self.recipe, request=request))
        recipe = {**self.recipe, "usage": True}
        return _Body(200, _json_body(assemble_completion(build_items(**recipe, request=request))))


class _SSESource(_Source):
    """Answers that replay one SSE body (bytes kept exactly unless a chunk fault edits them)."""

    def __init__(self, data: bytes, faults: FaultSpec) -> None:
        super().__init__(faults)
        self.data = data
        self._events = split_events(data)

    def answer(self, request: Mapping[str, Any] | None, stream: bool) -> _Answer:
        if not stream:
            return _Body(200, _json_body(assemble_completion(items_from_sse(self.data))))
        if has_chunk_faults(self.faults):
            return self._stream_items(items_from_sse(self.data))
        return _Events(apply_byte_faults(self._events, self.faults))


class _ChunksSource(_Source):
    """Answers that stream a given list of chunk dicts, then ``[DONE]`` unless ``done=False``."""

    def __init__(self, chunks: Sequence[Mapping[str, Any]], done: bool, faults: FaultSpec) -> None:
        super().__init__(faults)
        self.items: list[Item] = [json.loads(json.dumps(c)) for c in chunks]
        if done:
            self.items.append(DONE)

    def answer(self, request: Mapping[str, Any] | None, stream: bool) -> _Answer:
        if not stream:
            return _Body(200, _json_body(assemble_completion(self.items)))
        return self._stream_items(self.items)


@dataclass(frozen=True)
class _Recorded:
    status: int
    content_type: str
    body: bytes

    @property
    def is_sse(self) -> bool:
        return "event-stream" in self.content_type.lower()


class _CassetteSource(_Source):
    """Answers that replay a vcrpy cassette's chat-completion responses in order.

    Once every recorded response was served, the last one repeats (like ``stream()``, whose
    last setting answers every later request).
    """

    def __init__(self, responses: list[_Recorded], faults: FaultSpec) -> None:
        super().__init__(faults)
        if not responses:
            raise ValueError("the cassette holds no chat-completion response to serve")
        self.responses = responses
        self._next = 0

    def _take(self, advance: bool = True) -> _Recorded:
        with self._lock:
            rec = self.responses[min(self._next, len(self.responses) - 1)]
            if advance:
                self._next += 1
            return rec

    def dry_run(self) -> None:
        rec = self._take(advance=False)
        if rec.is_sse:
            answer = self._replay(rec, True)
            if isinstance(answer, _Events):
                check_transport(answer.events, self.faults)

    def answer(self, request: Mapping[str, Any] | None, stream: bool) -> _Answer:
        return self._replay(self._take(), stream)

    def _replay(self, rec: _Recorded, stream: bool) -> _Answer:
        if not rec.is_sse or rec.status != 200:
            return _Body(rec.status, rec.body, rec.content_type or _JSON_TYPE)
        if not stream:
            return _Body(200, _json_body(assemble_completion(items_from_sse(rec.body))))
        if has_chunk_faults(self.faults):
            return self._stream_items(items_from_sse(rec.body))
        return _Events(apply_byte_faults(split_events(rec.body), self.faults), rec.content_type)


def load_cassette(path: str | os.PathLike[str]) -> list[_Recorded]:
    """The chat-completion responses of a vcrpy cassette (YAML or JSON), in order."""
    from ..recording.files import RecordingError, cassette_interactions, looks_like_sse

    try:
        interactions = cassette_interactions(Path(path))
    except RecordingError as exc:
        raise ValueError(str(exc)) from None
    chat = [i for i in interactions if i.is_chat] or interactions
    out: list[_Recorded] = []
    for it in chat:
        ctype = it.content_type
        if not ctype and looks_like_sse(it.body):
            ctype = _SSE_TYPE
        out.append(_Recorded(it.status, ctype or _JSON_TYPE, it.body))
    return out


# --------------------------------------------------------------------------- HTTP handler


class _Handler(BaseHTTPRequestHandler):
    """One connection: parses requests, records them and writes the answers."""

    protocol_version = "HTTP/1.1"
    server_version = "oapi-stream"
    sys_version = ""
    disable_nagle_algorithm = True
    #: Idle keep-alive connections are closed after this many seconds.
    timeout = 30.0
    server: _HTTPServer

    # ---- plumbing

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True
        except Exception:
            self.server.owner._internal_error(traceback.format_exc())
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level errors (bad request line, huge headers) as OpenAI-style JSON."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # unparsable request line: answer HTTP/1.0
            self.request_version = "HTTP/1.0"
        self._send_body(code, error_body(code, message or explain), close=True)

    def _send_body(
        self,
        status: int,
        body: bytes,
        content_type: str = _JSON_TYPE,
        headers: Sequence[tuple[str, str]] = (),
        close: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", self.server.owner._request_id())
        for k, v in headers:
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _read_body(self) -> bytes | None:
        """The request body, or ``None`` after answering 400/413 for a malformed one."""
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            parts: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self._send_body(
                        400, error_body(400, "Malformed chunked request body."), close=True
                    )
                    return None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                total += size
                if total > _MAX_BODY:
                    self._send_body(413, error_body(413, "Request body too large."), close=True)
                    return None
                parts.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length_header = self.headers.get("Content-Length")
        if not length_header:
            return b""
        try:
            length = int(length_header)
            if length < 0:
                raise ValueError(length)
        except ValueError:
            self._send_body(400, error_body(400, "Invalid Content-Length header."), close=True)
            return None
        if length > _MAX_BODY:
            self._send_body(413, error_body(413, "Request body too large."), close=True)
            return None
        body = self.rfile.read(length)
        if len(body) < length:  # the client went away mid-body
            self.close_connection = True
            return None
        return body

    def _record(self, body: bytes) -> RecordedRequest:
        path, _, query = self.path.partition("?")
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        rec = RecordedRequest(
            method=self.command,
            path=path,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            json=parsed,
            raw_headers=tuple(self.headers.items()),
        )
        self.server.owner._record(rec)
        return rec

    # ---- routes

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            return
        rec = self._record(body)
        path = rec.path.rstrip("/")
        if self.command == "POST" and path.endswith("/chat/completions"):
            self._chat(rec)
        elif self.command == "GET" and path in ("/v1/models", "/models"):
            self._send_body(200, _json_body(self.server.owner._models_list()))
        elif self.command == "GET" and path.startswith(("/v1/models/", "/models/")):
            model = path.rsplit("/", 1)[1]
            self._send_body(200, _json_body(self.server.owner._model_obj(model)))
        else:
            self._send_body(
                404, error_body(404, f"Invalid URL ({self.command} {rec.path})", code=None)
            )

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    def _chat(self, rec: RecordedRequest) -> None:
        owner = self.server.owner
        data = rec.json
        if data is None:
            self._send_body(
                400,
                error_body(
                    400,
                    "We could not parse the JSON body of your request. (HINT: This likely means "
                    "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                    "payload, but what was sent was not valid JSON.)",
                ),
            )
            return
        if not isinstance(data, dict):
            self._send_body(400, error_body(400, "The request body must be a JSON object."))
            return
        if "messages" not in data:
            self._send_body(
                400,
                error_body(
                    400,
                    "Missing required parameter: 'messages'.",
                    param="messages",
                    code="missing_required_parameter",
                ),
            )
            return
        source = owner._current_source()
        plan = source.plan
        stream = data.get("stream") is True
        fail = source.take_http_failure()
        if (fail or not stream) and plan.delay_s and owner._stopping.wait(plan.delay_s):
            self.close_connection = True
            return
        if fail:
            assert plan.http_status is not None
            headers = []
            if plan.retry_after is not None:
                ra = plan.retry_after
                headers.append(("retry-after", str(int(ra)) if float(ra).is_integer() else str(ra)))
            self._send_body(plan.http_status, error_body(plan.http_status), headers=headers)
            return
        try:
            answer = source.answer(data, stream)
        except Exception as exc:
            owner._internal_error(traceback.format_exc())
            self._send_body(500, error_body(500, f"oapi_server could not build the answer: {exc}"))
            return
        if isinstance(answer, _Body):
            self._send_body(answer.status, answer.body, answer.content_type, answer.headers)
        else:
            self._stream(answer, plan)

    # ---- streaming

    def _write(self, data: bytes, chunked: bool) -> None:
        if chunked:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.wfile.write(data)

    def _stream(self, answer: _Events, plan: TransportPlan) -> None:
        owner = self.server.owner
        chunked = self.request_version != "HTTP/1.0"
        self.send_response(200)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("x-request-id", owner._request_id())
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        sent = 0
        data_events = 0
        for ev in answer.events:
            if plan.stall_after is not None and data_events >= plan.stall_after:
                self._stall()
                return
            if plan.delay_s and owner._stopping.wait(plan.delay_s):
                self._abort()
                return
            if (
                plan.disconnect_after_bytes is not None
                and sent + len(ev) >= plan.disconnect_after_bytes
            ):
                head = ev[: plan.disconnect_after_bytes - sent]
                if head:
                    self._write(head, chunked)
                self._abort()
                return
            if plan.split_utf8:
                for piece in _split_inside_char(ev):
                    self._write(piece, chunked)
            else:
                self._write(ev, chunked)
            sent += len(ev)
            if _is_data_event(ev):
                data_events += 1
        if plan.stall_after is not None or plan.disconnect_after_bytes is not None:
            # Fewer events than the fault's threshold: still never finish the response.
            if plan.stall_after is not None:
                self._stall()
            else:
                self._abort()
            return
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _abort(self) -> None:
        """Close the connection mid-response: the client sees an incomplete body."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _stall(self) -> None:
        """Hold the connection open, sending nothing, until the client leaves or the server ends."""
        owner = self.server.owner
        sock = self.connection
        while not owner._stopping.is_set():
            try:
                readable, _, _ = select.select([sock], [], [], 0.05)
                if readable and not sock.recv(1, socket.MSG_PEEK):
                    break  # the client closed its end
            except (OSError, ValueError):
                break
            if readable:
                owner._stopping.wait(0.05)
        self._abort()


def _is_data_event(ev: bytes) -> bool:
    return ev.startswith(b"data") or b"\ndata" in ev or b"\rdata" in ev


def _split_inside_char(ev: bytes) -> list[bytes]:
    """Cut ``ev`` right after the lead byte of its first multi-byte UTF-8 character."""
    for i, b in enumerate(ev):
        if b >= 0xC0:
            return [ev[: i + 1], ev[i + 1 :]]
    return [ev]


class _HTTPServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` that tracks its connections so ``stop()`` can end every one."""

    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: OAPIServer, port: int) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.threads: set[threading.Thread] = set()
        self.lock = threading.Lock()
        super().__init__((_HOST, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can take
        # seconds; the name is known.
        socketserver.TCPServer.server_bind(self)
        self.server_name = _HOST
        self.server_port = self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        t = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"oapi-server-{self.server_port}-conn",
            daemon=True,
        )
        with self.lock:
            if self.owner._stopping.is_set():
                self.shutdown_request(request)
                return
            self.connections.add(request)
            self.threads.add(t)
        t.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except (ConnectionError, TimeoutError, OSError):
            pass
        except Exception:
            self.owner._internal_error(traceback.format_exc())
        finally:
            self.shutdown_request(request)
            with self.lock:
                self.connections.discard(request)
                self.threads.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.owner._internal_error(traceback.format_exc())


# --------------------------------------------------------------------------- the server


class OAPIServer:
    """A loopback OpenAI-compatible provider with a stream builder, impersonation and faults.

    Use as a context manager or call ``start()``/``stop()``. ``base_url`` plugs into
    ``openai.OpenAI(base_url=...)``; ``requests`` holds what clients sent. The last source set
    (``stream``, ``serve_sse``, ``serve_chunks``, ``serve_cassette``) answers every request
    after it; before any is set, ``stream()`` with its defaults answers.
    """

    def __init__(self, *, port: int = 0, models: Sequence[str] = ("gpt-4o-mini",)) -> None:
        self._port_wanted = port
        self.models = tuple(models)
        #: Every request received, in order (method, path, headers, raw body, parsed JSON).
        self.requests: list[RecordedRequest] = []
        #: Tracebacks of errors inside the server (a bug here, never a client's fault).
        self.errors: list[str] = []
        self._source: _Source = _ScriptSource({}, None)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
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
        httpd = _HTTPServer(self, self._port_wanted)
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
                try:
                    request, client_address = httpd.get_request()
                except OSError:
                    continue
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
        return f"http://{_HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the ``base_url`` of an OpenAI client."""
        return self.url + "/v1"

    @property
    def last_request(self) -> RecordedRequest | None:
        """The most recent request, or ``None``."""
        return self.requests[-1] if self.requests else None

    def reset(self) -> None:
        """Forget requests, errors and the source (back to ``stream()`` defaults)."""
        with self._lock:
            self.requests.clear()
            self.errors.clear()
            self._source = _ScriptSource({}, None)

    # ---- sources

    def _set(self, source: _Source) -> OAPIServer:
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
        """Answer the next requests with a built stream (see ``builder.build_items``).

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
        return self._set(_ScriptSource(recipe, faults))

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
        return self._set(_SSESource(body, faults))

    def serve_chunks(
        self, chunks: Sequence[Mapping[str, Any]], *, done: bool = True, faults: FaultSpec = None
    ) -> OAPIServer:
        """Answer with these chunk dicts, one SSE event each, then ``[DONE]`` unless ``done``
        is false."""
        return self._set(_ChunksSource(chunks, done, faults))

    def serve_cassette(
        self, path: str | os.PathLike[str], *, faults: FaultSpec = None
    ) -> OAPIServer:
        """Answer with a vcrpy cassette's chat-completion responses in order (the last repeats)."""
        return self._set(_CassetteSource(load_cassette(path), faults))

    # ---- used by the handler

    def _current_source(self) -> _Source:
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


# --------------------------------------------------------------------------- CLI


def _cli_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="oapi-stream serve",
        description="Serve a scripted (and optionally faulty) OpenAI-compatible stream on "
        "127.0.0.1 until stopped, to try a client or UI by hand.",
    )
    p.add_argument("--file", help="an .sse body, or a vcrpy cassette (.yaml/.yml/.json), to serve")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="a fault to inject (repeatable), e.g. drop_done, truncate_after=3",
    )
    p.add_argument(
        "--as-provider",
        choices=sorted(PROVIDER_STYLES),
        help="impersonate a provider's known deviations (built streams only)",
    )
    p.add_argument("--text", help="the answer text of the built stream")
    p.add_argument("--reasoning", help="reasoning text streamed before the answer")
    p.add_argument("--port", type=int, default=0, help="TCP port (default 0: any free port)")
    p.add_argument(
        "--host", default=_HOST, choices=("127.0.0.1", "localhost"), help="loopback only"
    )
    return p


def serve_main(argv: list[str] | None = None) -> int:
    """``oapi-stream serve``: print the base URL, serve until Ctrl-C or SIGTERM; exit status."""
    args = _cli_parser().parse_args(argv)
    server = OAPIServer(port=args.port)
    try:
        faults = normalize_faults(args.fault)
        if args.file:
            path = Path(args.file)
            if args.as_provider or args.text or args.reasoning:
                raise ValueError(
                    "--as-provider, --text, --reasoning build a stream; not with --file"
                )
            if path.suffix.lower() in (".yaml", ".yml", ".json"):
                server.serve_cassette(path, faults=faults)
            else:
                server.serve_sse(path, faults=faults)
        else:
            server.stream(
                args.text, reasoning=args.reasoning, as_provider=args.as_provider, faults=faults
            )
    except (OSError, ValueError) as exc:
        print(f"oapi-stream serve: error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Both signals stop the loop through our own handler, whatever disposition the process
    # inherited (a parent that leaves SIGINT at SIG_DFL would otherwise kill it mid-stop).
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, _on_signal)
    try:
        server.start()
    except OSError as exc:
        print(f"oapi-stream serve: error: {exc}", file=sys.stderr)
        return 2
    print(f"oapi-stream serve: {server.base_url}", flush=True)
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
