"""The network guard: while replaying, only loopback and Unix sockets may be connected."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

from .errors import NetworkBlockedError


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1`` (brackets and zone ids allowed)."""
    host = host.strip("[]")
    if host in ("localhost", "localhost.localdomain", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def block_network(reason: str) -> Iterator[None]:
    """Refuse ``socket.connect`` to anything but loopback and Unix sockets while active.

    vcrpy already refuses unmatched requests of the clients it patches; this catches the
    others, so a replayed test never reaches a provider with a real key. ``reason`` ends the
    :class:`NetworkBlockedError` message (what to run instead).
    """
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        host = str(address[0]) if isinstance(address, tuple) and address else str(address)
        if not is_loopback(host):
            port = address[1] if isinstance(address, tuple) and len(address) > 1 else "?"
            raise NetworkBlockedError(
                f"oapi-stream: network access to {host}:{port} is blocked. {reason}"
            )

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign, assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
