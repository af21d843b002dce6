"""pytest-oapi-stream: contract tests for OpenAI-compatible streaming chat completions.

The core flow, usable without pytest: bytes -> SSE events (``sse``) -> typed chunks (``models``,
``parse``) -> rule checks (``rules``, ``profiles``) -> report (``report``), driven by ``check``.
"""

from __future__ import annotations

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

__version__ = "0.1.0"

__all__ = [
    "PROFILES",
    "RULES",
    "RULES_BY_CODE",
    "AssembledMessage",
    "AssembledToolCall",
    "ChatCompletionChunk",
    "CheckedChunks",
    "ChunkStream",
    "Profile",
    "Report",
    "Rule",
    "SSEDecoder",
    "SSEEvent",
    "SourceError",
    "StreamContractError",
    "Violation",
    "__version__",
    "aassert_valid_chunk_stream",
    "acheck_chunk_stream",
    "assert_stream_matches_completion",
    "assert_valid_chunk_stream",
    "check_chunk_stream",
    "detect_profile",
    "get_profile",
    "iter_checked_chunks",
    "parse_sse",
    "register_profile",
]
