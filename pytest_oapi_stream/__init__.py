"""pytest-oapi-stream: contract tests for OpenAI-compatible streaming APIs.

The core flow, usable without pytest: bytes -> SSE events (``core.sse``) -> typed payloads of a
surface (``chat``: chunks; ``responses``: Responses events) -> rule checks (each surface's
``rules``, ``profiles``) -> report (``core.report``), driven by the surface's ``check``.

The public names load on first use (PEP 562): the pytest plugin is this package's
``pytest11`` entry point, so importing the package must stay cheap for every pytest run of a
project whose venv has it (pydantic and the rest load when a name is first touched).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .chat.assembly import AssembledMessage, AssembledToolCall
    from .chat.check import (
        CheckedChunks,
        ChunkStream,
        aassert_valid_chunk_stream,
        acheck_chunk_stream,
        assert_valid_chunk_stream,
        check_chunk_stream,
        iter_checked_chunks,
    )
    from .chat.models import ChatCompletionChunk
    from .chat.profiles import PROFILES, Profile, detect_profile, get_profile, register_profile
    from .chat.rules import RULES, RULES_BY_CODE, Rule
    from .contracts.compare import assert_stream_matches_completion
    from .core.report import Report, StreamContractError, Violation
    from .core.sources import SourceError
    from .core.sse import SSEDecoder, SSEEvent, parse_sse
    from .responses.assembly import AssembledItem, AssembledPart
    from .responses.check import (
        CheckedResponseEvents,
        ResponseStream,
        aassert_valid_response_stream,
        acheck_response_stream,
        assert_valid_response_stream,
        check_response_stream,
        iter_checked_response_events,
    )
    from .responses.models import Response, ResponseStreamEvent
    from .responses.profiles import (
        RESPONSE_PROFILES,
        ResponseProfile,
        get_response_profile,
        register_response_profile,
    )
    from .responses.rules import RULES as RESPONSE_RULES

__version__ = "0.1.0"

#: Where each public name lives: (module relative to this package, its name there).
_EXPORTS: dict[str, tuple[str, str]] = {
    **{
        name: (module, name)
        for module, names in {
            ".chat.assembly": ("AssembledMessage", "AssembledToolCall"),
            ".chat.check": (
                "CheckedChunks",
                "ChunkStream",
                "aassert_valid_chunk_stream",
                "acheck_chunk_stream",
                "assert_valid_chunk_stream",
                "check_chunk_stream",
                "iter_checked_chunks",
            ),
            ".chat.models": ("ChatCompletionChunk",),
            ".chat.profiles": (
                "PROFILES",
                "Profile",
                "detect_profile",
                "get_profile",
                "register_profile",
            ),
            ".chat.rules": ("RULES", "RULES_BY_CODE", "Rule"),
            ".contracts.compare": ("assert_stream_matches_completion",),
            ".core.report": ("Report", "StreamContractError", "Violation"),
            ".core.sources": ("SourceError",),
            ".core.sse": ("SSEDecoder", "SSEEvent", "parse_sse"),
            ".responses.assembly": ("AssembledItem", "AssembledPart"),
            ".responses.check": (
                "CheckedResponseEvents",
                "ResponseStream",
                "aassert_valid_response_stream",
                "acheck_response_stream",
                "assert_valid_response_stream",
                "check_response_stream",
                "iter_checked_response_events",
            ),
            ".responses.models": ("Response", "ResponseStreamEvent"),
            ".responses.profiles": (
                "RESPONSE_PROFILES",
                "ResponseProfile",
                "get_response_profile",
                "register_response_profile",
            ),
        }.items()
        for name in names
    },
    "RESPONSE_RULES": (".responses.rules", "RULES"),
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here."""
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where[0], __name__), where[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "PROFILES",
    "RESPONSE_PROFILES",
    "RESPONSE_RULES",
    "RULES",
    "RULES_BY_CODE",
    "AssembledItem",
    "AssembledMessage",
    "AssembledPart",
    "AssembledToolCall",
    "ChatCompletionChunk",
    "CheckedChunks",
    "CheckedResponseEvents",
    "ChunkStream",
    "Profile",
    "Report",
    "Response",
    "ResponseProfile",
    "ResponseStream",
    "ResponseStreamEvent",
    "Rule",
    "SSEDecoder",
    "SSEEvent",
    "SourceError",
    "StreamContractError",
    "Violation",
    "__version__",
    "aassert_valid_chunk_stream",
    "aassert_valid_response_stream",
    "acheck_chunk_stream",
    "acheck_response_stream",
    "assert_stream_matches_completion",
    "assert_valid_chunk_stream",
    "assert_valid_response_stream",
    "check_chunk_stream",
    "check_response_stream",
    "detect_profile",
    "get_profile",
    "get_response_profile",
    "iter_checked_chunks",
    "iter_checked_response_events",
    "parse_sse",
    "register_profile",
    "register_response_profile",
]
