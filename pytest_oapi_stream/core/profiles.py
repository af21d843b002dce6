"""Profile mechanics shared by the surfaces: severity overrides, the ``extends`` merge, the
extension whitelist, and how a request URL selects a profile under ``auto``.

Each surface's profile class is data (its own fields) over these functions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import fields
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "LEVELS",
    "NO_SEVERITY",
    "SeverityOverride",
    "allows_extension",
    "check_severity",
    "host_matches",
    "host_of",
    "merged_onto",
]

SeverityOverride = Literal["error", "warn", "info", "off"]
LEVELS: tuple[SeverityOverride, ...] = ("error", "warn", "info", "off")
NO_SEVERITY: Mapping[str, SeverityOverride] = MappingProxyType({})


def check_severity(name: str, severity: Mapping[str, str], known: Collection[str]) -> None:
    """A profile's severity overrides name known codes and levels (``ValueError`` otherwise)."""
    for code, level in severity.items():
        if level not in LEVELS:
            raise ValueError(
                f"profile {name!r}: severity of {code} must be one of "
                f"{', '.join(LEVELS)}, not {level!r}"
            )
    unknown = sorted(set(severity) - set(known))
    if unknown:
        raise ValueError(f"profile {name!r}: unknown rule code(s) {', '.join(unknown)}")


def merged_onto(child: Any, parent: Any, own: Collection[str]) -> dict[str, Any]:
    """The field values of profile ``child`` merged onto its resolved ``parent``.

    Fields in ``own`` are the child's alone; severities merge (the child's win); sets are
    unioned; any other field is the child's when set, else the parent's.
    """
    merged: dict[str, Any] = {}
    for f in fields(child):
        mine, theirs = getattr(child, f.name), getattr(parent, f.name)
        if f.name in own:
            merged[f.name] = mine
        elif f.name == "extends":
            merged[f.name] = None
        elif f.name == "severity":
            merged[f.name] = MappingProxyType({**theirs, **mine})
        elif isinstance(mine, frozenset):
            merged[f.name] = theirs | mine
        else:
            merged[f.name] = mine or theirs
    return merged


def allows_extension(extensions: frozenset[str], path: str) -> bool:
    """Whether ``path`` (e.g. ``choices[].delta.reasoning``) is whitelisted: itself, ``*``, or
    a ``prefix.*`` of it."""
    if path in extensions or "*" in extensions:
        return True
    parts = path.split(".")
    return any(".".join(parts[:i]) + ".*" in extensions for i in range(1, len(parts)))


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
