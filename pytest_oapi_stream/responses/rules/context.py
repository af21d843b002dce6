"""ResponseContext, the state every Responses check reads (apart from the table); EventViolation."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from ...core.report import Violation
from ...core.rules import Emitter, Tally
from ..assembly import Assembler, ItemState
from ..models import Response

if TYPE_CHECKING:
    from ...core.sources import HttpInfo
    from ...core.sse import FramingFacts, SSEEvent
    from ..profiles import ResponseProfile


@dataclass(frozen=True, slots=True)
class EventViolation(Violation):
    """A violation on a Responses stream: its place is an event, not a chunk (the JSON keeps
    the field name ``chunk``, the stable key of ``--format json``)."""

    def line(self) -> str:
        """One readable line: code, rule, where (``event N``), message, excerpt."""
        text = Violation.line(self)
        if self.chunk is not None:
            text = text.replace(f"] at chunk {self.chunk}", f"] at event {self.chunk}", 1)
        return text


@dataclass(eq=False)
class ResponseContext(Emitter):
    """Everything the checks share while one Responses stream passes through."""

    profile: ResponseProfile
    request: dict[str, Any] | None
    ignore: frozenset[str]
    framing: bool = True
    http: HttpInfo | None = None
    http_body: bytes | None = None  # the body of a failed request (see core.rules.failed_request)
    url: str | None = None
    now: float = field(default_factory=time.time)
    findings: list[Violation] = field(default_factory=list)
    tallies: dict[str, Tally] = field(default_factory=dict)
    asm: Assembler = field(default_factory=Assembler)
    pos: int = -1
    raw: str | None = None
    sse: SSEEvent | None = None
    chunks: int = 0  # JSON events so far (the byte-level rules' name)
    facts: FramingFacts | None = None
    last_event: SSEEvent | None = None
    # Stream-level state.
    first_type: str | None = None
    first_seq: int | None = None
    last_seq: int | None = None
    expected_seq: int | None = None
    done: int = 0
    done_before_terminal: int = 0
    data_after_done: int = 0
    terminals: int = 0
    terminal_at: int | None = None  # the first terminal event's position
    after_terminal: int = 0
    lifecycle: dict[str, int] = field(default_factory=dict)
    snapshot: Response | None = None  # the first snapshot (constants compare against it)
    created_at_checked: bool = False
    unknown_types: dict[str, list[int]] = field(default_factory=dict)
    ext_seen: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    call_ids: dict[str, int] = field(default_factory=dict)
    error_events: int = 0

    def __post_init__(self) -> None:
        self.violation_type = EventViolation
        from .table import RULES  # the table imports the sections, which import this module

        self.init_levels(RULES, self.profile.severity, self.ignore)
        req = self.request or {}
        after = req.get("starting_after")
        if after is None and self.url:
            query = parse_qs(urlsplit(self.url).query)
            if "starting_after" in query:
                after = query["starting_after"][0]
        try:
            self.starting_after: int | None = int(after) if after is not None else None
        except (TypeError, ValueError):
            self.starting_after = None
        self.resumed_known = self.starting_after is not None or self.request is not None
        self.asm.resumed = self.starting_after is not None
        bg = req.get("background")
        self.background: bool | None = bool(bg) if self.request is not None else None
        if self.starting_after is not None and not bg:
            self.background = True  # only a background response can be resumed


def _in_item(ctx: ResponseContext, ev: Any) -> ItemState | None:
    idx = ev.output_index
    return ctx.asm.items.get(idx) if isinstance(idx, int) else None


def _kind(t: str) -> str:
    """``response.output_text.delta`` -> ``output_text.delta`` (for messages)."""
    return t.removeprefix("response.")


def next_index(states: Mapping[int, Any], added: int, resumed: bool) -> int | None:
    """The index the next ``*.added`` must carry: the count added so far; in a resumed stream
    (or an item opened before it) the one after the highest seen, any when none was seen, since
    what came before the resume point is not in the stream."""
    if not resumed:
        return added
    return max(states) + 1 if states else None
