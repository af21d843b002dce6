"""Ambient defaults of the check functions: what a marked pytest test sets for its body.

The check functions of both surfaces (``check_chunk_stream``, ``check_response_stream``, the
``assert_valid_*`` ones, their async twins and the iterating modes) take ``profile``, ``ignore``,
``strict``, ``request`` and ``url``.
Called without them inside a marked test (or one using ``oapi_cassette``), they take the
marker's settings (else the command line's, else the ini's) and, for a stream that came
through the test's cassette, its recorded request body and URL. Explicit arguments win.
Outside pytest nothing is set: ``auto``, no ignored rule, not strict, no request.

The defaults are process-wide, not a ``ContextVar``: pytest runs one test at a time per
process, and a check may run in a thread the test started or in an event loop whose task was
created before the test (anyio's test runner), which would not see a context variable set
by the plugin. No pytest here: the plugin sets the defaults, the core only reads them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["CheckDefaults", "RecordedRequest", "applied", "current", "resolve"]

#: ``(request body as a dict or None, URL or None)`` of a source, or None when unknown.
RecordedRequest = Callable[[Any], "tuple[dict[str, Any] | None, str | None] | None"]


@dataclass(frozen=True)
class CheckDefaults:
    """Defaults for the check functions' omitted arguments (set by the pytest plugin)."""

    profile: str = "auto"
    ignore: tuple[str, ...] = ()
    strict: bool = False
    #: Where ``profile`` was set ("the oapi marker", "--oapi-profile", "ini oapi_profile"), for
    #: the report's profile reason; empty when it is the default.
    profile_origin: str = ""
    #: Finds the recorded request of a source that came through the test's cassette.
    recorded_request: RecordedRequest | None = None


_ACTIVE: list[CheckDefaults] = []


def current() -> CheckDefaults | None:
    """The defaults in force, or None (outside a marked test)."""
    return _ACTIVE[-1] if _ACTIVE else None


@contextlib.contextmanager
def applied(defaults: CheckDefaults) -> Iterator[CheckDefaults]:
    """Make ``defaults`` the ambient ones for the duration of the block (nestable)."""
    _ACTIVE.append(defaults)
    try:
        yield defaults
    finally:
        _ACTIVE.remove(defaults)


def resolve(
    source: Any,
    profile: Any,  # a name, either surface's profile object, or None
    ignore: Iterable[str] | None,
    strict: bool | None,
    request: dict[str, Any] | None,
    url: str | None,
) -> tuple[Any, Iterable[str], bool, dict[str, Any] | None, str | None]:
    """The arguments a check uses: the given ones, else the ambient defaults, else the
    documented ones (``auto``, no ignored rule, not strict)."""
    found = current()
    if found is None:
        return (
            "auto" if profile is None else profile,
            () if ignore is None else ignore,
            False if strict is None else strict,
            request,
            url,
        )
    if (request is None or url is None) and found.recorded_request is not None:
        recorded = found.recorded_request(source)
        if recorded is not None:
            request = recorded[0] if request is None else request
            url = recorded[1] if url is None else url
    return (
        found.profile if profile is None else profile,
        found.ignore if ignore is None else ignore,
        found.strict if strict is None else strict,
        request,
        url,
    )
