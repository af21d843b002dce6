"""RuleContext, the state every chat check reads and reports through (apart from the table)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...core.report import Violation
from ...core.rules import Emitter, Tally
from ...core.sources import HttpInfo
from ..assembly import Assembler
from ..evidence import hint_for
from ..models import ChatCompletionChunk, Usage

if TYPE_CHECKING:
    from ...core.sse import FramingFacts, SSEEvent
    from ..profiles import Profile


@dataclass
class RuleContext(Emitter):
    """Everything the checks share while one stream passes through."""

    profile: Profile
    request: dict[str, Any] | None
    ignore: frozenset[str]
    framing: bool = True
    http: HttpInfo | None = None
    http_body: bytes | None = None  # the body of a failed request (see failed_request)
    now: float = field(default_factory=time.time)
    findings: list[Violation] = field(default_factory=list)
    asm: Assembler = field(default_factory=Assembler)
    # The current position.
    pos: int = -1
    raw: str | None = None
    is_filter: bool = False
    # Stream-level state.
    chunks: int = 0
    ref: ChatCompletionChunk | None = None
    done: int = 0
    done_event: int | None = None
    data_after_done: int = 0
    error_events: int = 0
    error_after: int = 0
    usages: list[tuple[int, Usage, bool]] = field(default_factory=list)
    annotation_after_usage: int = 0
    usage_trailers: set[int] = field(default_factory=set)
    ext_seen: dict[str, int] = field(default_factory=dict)  # path -> first chunk index
    ext_order: list[str] = field(default_factory=list)  # ext_seen's keys, for readers to resume
    choice_mex: int = 0  # no choice index below this is unseen (OAS020, amortised linear)
    tool_ids: dict[str, int] = field(default_factory=dict)
    reasoning_fields: set[str] = field(default_factory=set)
    fingerprints: set[str] = field(default_factory=set)
    fingerprint_missing: int = 0
    fingerprint_absent: int = 0
    tallies: dict[str, Tally] = field(default_factory=dict)
    # OAS043: (choice, field) -> deltas whose list entries have no integer index.
    unindexed: dict[tuple[int | None, str], int] = field(default_factory=dict)
    facts: FramingFacts | None = None
    last_event: SSEEvent | None = None

    def __post_init__(self) -> None:
        req = self.request or {}
        n = req.get("n")
        self.n: int = n if isinstance(n, int) and n > 0 else 1
        opts = req.get("stream_options")
        include = opts.get("include_usage") if isinstance(opts, dict) else None
        self.include_usage: bool | None = bool(include) if self.request is not None else None
        tc = req.get("tool_choice")
        self.named_tool_choice: bool = isinstance(tc, dict) or tc == "required"
        self.logprobs_requested: bool | None = (
            bool(req.get("logprobs")) if self.request is not None else None
        )
        top = req.get("top_logprobs")
        self.top_logprobs: int | None = top if isinstance(top, int) else None
        from .table import RULES  # the table imports the sections, which import this module

        self.init_levels(RULES, self.profile.severity, self.ignore)

    def hint(self, code: str, message: str) -> str:
        """An error's message with what real clients do (chat/evidence.py, the client matrix)."""
        return hint_for(code, message)


EventCheck = Callable[[RuleContext, "SSEEvent"], None]
ChunkCheck = Callable[[RuleContext, ChatCompletionChunk], None]
EndCheck = Callable[[RuleContext], None]
