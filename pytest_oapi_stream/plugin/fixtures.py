"""pytest fixtures for ``oapi_server``: one loopback provider per test, or one per session;
and the check ``oapi_client`` makes before it builds a client for real requests.

Kept apart from ``server/provider.py`` so the server stays importable without pytest; the plugin
re-exports these two fixtures. The server is imported when a fixture is first used, so a pytest
run that never asks for one does not import it (the plugin loads in every run).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..server.provider import OAPIServer

__all__ = ["missing_key_problem", "oapi_server", "oapi_server_session"]


@pytest.fixture
def oapi_server() -> Iterator[OAPIServer]:
    """A fresh OpenAI-compatible server on 127.0.0.1 for this test, stopped afterwards.

    Script it with ``.stream(...)`` / ``.serve_sse(...)`` / ``.serve_chunks(...)`` /
    ``.serve_cassette(...)``; point clients at ``.base_url``; read ``.requests``.
    """
    from ..server.provider import OAPIServer

    with OAPIServer() as server:
        yield server
    _warn_internal_errors(server)


@pytest.fixture(scope="session")
def oapi_server_session() -> Iterator[OAPIServer]:
    """One server shared by the whole session (faster); call ``.reset()`` to forget state."""
    from ..server.provider import OAPIServer

    with OAPIServer() as server:
        yield server
    _warn_internal_errors(server)


def _warn_internal_errors(server: OAPIServer) -> None:
    """Surface errors inside the server (its bugs, answered with a 500) without failing tests."""
    if server.errors:
        warnings.warn(
            f"oapi_server had {len(server.errors)} internal error(s); the last:\n"
            f"{server.errors[-1]}",
            RuntimeWarning,
            stacklevel=2,
        )


def missing_key_problem(
    mode: str, base_url: str | None, fixture: str = "oapi_client"
) -> str | None:
    """Why ``fixture`` (``oapi_client``...) cannot send real requests (one line), or None.

    Replaying needs no key (the cassette fixture sets a placeholder; a cassette never holds
    one). Recording or live without ``OPENAI_API_KEY`` would otherwise fail at setup with the
    openai SDK's own traceback, which names neither the mode nor where requests would go.
    """
    if mode == "replay" or os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_ADMIN_KEY"):
        return None
    flag, doing = ("--oapi-live", "live mode") if mode == "live" else ("--oapi-record", "recording")
    target = (
        f"{base_url} (OPENAI_BASE_URL / ini oapi_base_url)"
        if base_url
        else "https://api.openai.com/v1"
        " (the default; OPENAI_BASE_URL or ini oapi_base_url change it)"
    )
    return (
        f"{fixture}: OPENAI_API_KEY is not set; {doing} sends real requests to {target}. "
        f"Set the key (any value for a server that ignores keys), or run without {flag} to replay."
    )
