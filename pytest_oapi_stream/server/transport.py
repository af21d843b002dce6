"""The fake provider's HTTP transport: connections, threads, and writing answers to the wire.

``Handler`` reads one request (``requests.read_body``), records it, asks ``routes.route`` for the
reply and writes it: a one-piece body, or SSE events one write each, carrying out the transport
faults (delay, stall, disconnect, split UTF-8) on the way. ``HTTPServer`` runs one daemon thread
per connection and tracks them so ``OAPIServer.stop()`` can end every one.

Slow clients are bounded: a connection waits ``idle_timeout`` for the first byte of a request,
then the whole request (line, headers, body) must arrive within ``request_timeout`` (a 408
otherwise), however the bytes trickle in. The listen backlog holds bursts of connections.
"""

from __future__ import annotations

import contextlib
import io
import logging
import select
import socket
import socketserver
import threading
import time
import traceback
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from ..chat.faults import TransportPlan
from .answers import JSON_TYPE, Body, Events, error_body
from .requests import BadRequest, RecordedRequest, parse_json, read_body
from .routes import route

if TYPE_CHECKING:
    from .provider import OAPIServer

__all__ = ["HOST", "HTTPServer", "Handler"]

log = logging.getLogger(__name__)

#: The only address the server ever binds.
HOST = "127.0.0.1"


class DeadlineReader(io.RawIOBase):
    """The connection's reading side, where every read waits at most until a deadline.

    A per-read socket timeout restarts with each byte, so a client trickling one byte at a time
    holds a thread forever; this deadline does not move. ``arm`` starts a request: the first
    byte must come within ``idle`` seconds, the rest within ``request`` seconds of it.
    """

    def __init__(self, sock: socket.socket, write_timeout: float) -> None:
        super().__init__()
        self._sock = sock
        self._write_timeout = write_timeout
        self._deadline: float | None = None
        self._request_s: float | None = None
        #: Whether a byte of the current request arrived (a timeout then is a 408).
        self.started = False
        #: Whether the last read failed because the deadline passed.
        self.expired = False

    def readable(self) -> bool:
        return True

    def arm(self, idle: float, request: float) -> None:
        """Start waiting for a request: ``idle`` s for its first byte, ``request`` s for all."""
        self._deadline = time.monotonic() + idle
        self._request_s = request
        self.started = self.expired = False

    def disarm(self) -> None:
        """The request is in: reads wait no more, and writes get the write timeout back."""
        self._deadline = None
        with contextlib.suppress(OSError):
            self._sock.settimeout(self._write_timeout)

    def readinto(self, buffer: Any) -> int:
        if self._deadline is not None:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                self.expired = True
                raise TimeoutError("the request did not arrive in time")
            self._sock.settimeout(remaining)
        try:
            n = self._sock.recv_into(buffer)
        except TimeoutError:
            self.expired = self._deadline is not None
            raise
        if n and not self.started and self._request_s is not None:
            self.started = True
            if self._deadline is not None:
                self._deadline = time.monotonic() + self._request_s
        return n


class Handler(BaseHTTPRequestHandler):
    """One connection: parses requests, records them and writes the answers."""

    protocol_version = "HTTP/1.1"
    server_version = "oapi-stream"
    sys_version = ""
    disable_nagle_algorithm = True
    #: A write that cannot go on for this many seconds (a client that stopped reading) ends the
    #: connection. Reads are bounded by ``DeadlineReader`` instead.
    timeout = 30.0
    server: HTTPServer

    # ---- plumbing

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the plain socket file: replaced by one that keeps a deadline
        self.reader = DeadlineReader(self.connection, self.timeout)
        self.rfile = io.BufferedReader(self.reader)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def handle_one_request(self) -> None:
        owner = self.server.owner
        self.reader.arm(owner.idle_timeout, owner.request_timeout)
        # What a reply needs, in case the request line never arrives whole.
        self.command, self.request_version, self.requestline = "", "HTTP/1.0", ""
        try:
            super().handle_one_request()  # a TimeoutError inside ends it with close_connection
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True
        except Exception:
            owner._internal_error(traceback.format_exc())
            self.close_connection = True
        finally:
            self.reader.disarm()
        if self.reader.expired:
            self.close_connection = True
            if self.reader.started:  # a request began but did not arrive in time
                with contextlib.suppress(OSError):
                    message = f"The request did not arrive within {owner.request_timeout:g} s."
                    self._send_body(408, error_body(408, message), close=True)
                    self.wfile.flush()

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
        content_type: str = JSON_TYPE,
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

    def _record(self, body: bytes) -> RecordedRequest:
        path, _, query = self.path.partition("?")
        rec = RecordedRequest(
            method=self.command,
            path=path,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            json=parse_json(body),
            raw_headers=tuple(self.headers.items()),
        )
        self.server.owner._record(rec)
        return rec

    # ---- one request

    def _dispatch(self) -> None:
        try:
            body = read_body(self.rfile, self.headers)
        except BadRequest as exc:
            self.reader.disarm()
            self._send_body(exc.status, error_body(exc.status, exc.message), close=True)
            return
        self.reader.disarm()
        if body is None:  # the client went away mid-body
            self.close_connection = True
            return
        reply = route(self.server.owner, self._record(body))
        answer = reply.answer
        if answer is None:
            self.close_connection = True
        elif isinstance(answer, Body):
            self._send_body(answer.status, answer.body, answer.content_type, answer.headers)
        else:
            self._stream(answer, reply.plan)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    # ---- streaming

    def _write(self, data: bytes, chunked: bool) -> None:
        if chunked:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.wfile.write(data)

    def _stream(self, answer: Events, plan: TransportPlan) -> None:
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


class HTTPServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` that tracks its connections so ``stop()`` can end every one."""

    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False
    #: The listen backlog: connections the kernel holds until the acceptor takes them.
    #: socketserver's 5 drops SYNs under a burst of clients (resets, 1 s retransmits).
    request_queue_size = max(socket.SOMAXCONN, 1024)

    def __init__(self, owner: OAPIServer, port: int) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.threads: set[threading.Thread] = set()
        self.lock = threading.Lock()
        super().__init__((HOST, port), Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can take
        # seconds; the name is known.
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
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
