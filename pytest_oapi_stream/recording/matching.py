"""Request matching: method, URL parts and the JSON body canonicalised (key order, whitespace).

A changed request is never served an old stream; a mismatch names a short diff of the bodies.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from .network import is_loopback

#: The vcrpy matchers used for every cassette: method, the URL parts (a loopback port is not
#: compared, see :func:`loopback_port_matcher`), the canonical JSON body.
MATCH_ON: tuple[str, ...] = ("method", "scheme", "host", "oapi_port", "path", "query", "oapi_body")


def canonical_json_body(body: bytes | str | None) -> str | bytes | None:
    """A request body in canonical form: JSON re-dumped with sorted keys and no whitespace.

    ``true`` and ``1`` stay distinct (compared as text, not as Python values). A body that is
    not JSON is returned unchanged.
    """
    if body is None or body in (b"", ""):
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _read_body(request: Any) -> bytes | str | None:
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    elif isinstance(body, (dict, list)):  # aiohttp's `json=` reaches vcrpy as the object
        body = json.dumps(body)
    elif body is not None and not isinstance(body, (bytes, str)):
        body = b"".join(p.encode() if isinstance(p, str) else p for p in body)
    return body  # type: ignore[no-any-return]


def json_body_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher ``oapi_body``: the canonical JSON bodies are equal, or AssertionError.

    vcrpy calls it with the request being made first and the recorded one second; the
    message is a short unified diff of the indented JSON (recorded -> this request).
    """
    new, recorded = canonical_json_body(_read_body(r1)), canonical_json_body(_read_body(r2))
    if new == recorded:
        return
    raise AssertionError(_body_diff(new, recorded))


def _body_matcher(r1: Any, r2: Any) -> None:
    json_body_matcher(r1, r2)


_body_matcher.__name__ = "body"  # vcrpy names a failing matcher by its __name__


def _indented(canonical: str | bytes | None) -> list[str]:
    if canonical is None:
        return ["<no body>"]
    if isinstance(canonical, bytes):
        canonical = canonical.decode("utf-8", "replace")
    try:
        return json.dumps(json.loads(canonical), indent=2, sort_keys=True).splitlines()
    except ValueError:
        return canonical.splitlines()


def _body_diff(new: str | bytes | None, recorded: str | bytes | None, limit: int = 24) -> str:
    diff = list(
        difflib.unified_diff(
            _indented(recorded), _indented(new), "recorded", "this request", n=1, lineterm=""
        )
    )
    if len(diff) > limit:
        diff = [*diff[:limit], f"... ({len(diff) - limit} more diff lines)"]
    return "\n".join(diff) or "the bodies differ"


def loopback_port_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher ``oapi_port``: equal ports, or both requests go to a loopback host.

    A local server (``oapi_server``, a vLLM or llama.cpp on 127.0.0.1) often listens on a port
    chosen at start-up; a recording made through it must replay on the next run's port. A
    remote host's port is compared as vcrpy's ``port`` matcher does.
    """
    if r1.port == r2.port or (is_loopback(r1.host) and is_loopback(r2.host)):
        return
    raise AssertionError(f"{r1.port} != {r2.port}")


def _port_matcher(r1: Any, r2: Any) -> None:
    loopback_port_matcher(r1, r2)


_port_matcher.__name__ = "port"  # vcrpy names a failing matcher by its __name__


def request_key(request: Any) -> tuple[Any, ...]:
    """What :data:`MATCH_ON` compares, as one value: two requests with equal keys match."""
    host = str(request.host or "").lower()
    port = "loopback" if is_loopback(host) else request.port
    query = tuple(sorted(request.query or ()))
    return (
        str(request.method).upper(),
        request.scheme,
        host,
        port,
        request.path,
        query,
        canonical_json_body(_read_body(request)),
    )
