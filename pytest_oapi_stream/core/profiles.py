"""Profile mechanics shared by the surfaces: how a request URL selects a profile under ``auto``."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["host_matches", "host_of"]


def host_of(url: str) -> str:
    """``https://user@API.x.ai:443/v1`` -> ``api.x.ai:443`` (lower case, no credentials)."""
    rest = url.split("://", 1)[-1]
    host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    return host.lower()


def host_matches(hostname: str, suffixes: Iterable[str]) -> bool:
    """Whether ``hostname`` is one of ``suffixes`` or below one (``.azure.com`` style or not)."""
    for suffix in suffixes:
        bare = suffix.lstrip(".")
        if hostname == bare or hostname.endswith("." + bare):
            return True
    return False
