"""The checker's fast path: recognise the common event and chunk, for which every check is a no-op.

Most chunks of a healthy stream are alike: one choice carrying a text, reasoning or
tool-argument fragment, with the same ``id``/``created``/``model``/fingerprint as the first
chunk and no field not seen before. Calling the ~19 per-chunk checks of :data:`rules.RULES` on
each such chunk costs more than parsing it, and every one of them returns without a finding.
:meth:`PlainChunkGate.take` proves that with a few attribute reads, and then does the one
thing left to do for such a chunk, feeding the assembler; the driver (``check._Run``) skips the
checks. Anything unusual (a first or last chunk, a new field, a finish reason, usage, a role, a
refusal, logprobs, an error, several choices, a tool call's first fragment...) is not taken
and goes through every check as before.

Why this is sound:

* Each condition in :meth:`PlainChunkGate.take` names the check it discharges; together they
  imply that each covered check neither records a finding nor changes the shared state (the
  sets it adds to already hold the value, and tallies are not touched).
* The gate only runs when every active check of the run is one it covers, compared by
  identity with the functions of ``rules`` named in :data:`CHUNK_CHECKS`/:data:`EVENT_CHECKS`.
  A check added to (or renamed in) the table switches the fast path off until it is reviewed
  here, so a new rule can make the checker slower but never silently skipped.
* ``tests/test_fastpath.py`` checks every corpus stream and generated streams with the fast
  path on and off (:data:`ENABLED`) and requires identical reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from . import rules
from .models import (
    ChatCompletionChunk,
    Choice,
    Delta,
    FunctionCallFragment,
    ToolCallFragment,
    spec_fields,
)
from .profiles import SIGNAL_DELTA_FIELD, SIGNAL_FIELDS, SIGNAL_MODEL_PREFIX

if TYPE_CHECKING:
    from ..core.sse import SSEEvent
    from .rules import RuleContext

__all__ = ["CHUNK_CHECKS", "ENABLED", "EVENT_CHECKS", "PlainChunkGate", "plain_event"]

#: Switch for the differential tests: with False every event and chunk runs every check.
ENABLED = True

#: The per-chunk checks of ``rules`` whose no-op conditions :meth:`PlainChunkGate.take` encodes.
CHUNK_CHECKS: tuple[str, ...] = (
    "_object_chunk",  # OAS009
    "_required_chunk",  # OAS010
    "_choice_fields_chunk",  # OAS011
    "_enum_chunk",  # OAS012
    "_extension_chunk",  # OAS014
    "_constancy_chunk",  # OAS015-OAS018
    "_index_range_chunk",  # OAS019
    "_index_order_chunk",  # OAS020
    "_role_chunk",  # OAS021
    "_noise_chunk",  # OAS022
    "_finish_chunk",  # OAS023, OAS024
    "_usage_place_chunk",  # OAS026
    "_usage_math_chunk",  # OAS028
    "_tool_chunk",  # OAS029-OAS032, OAS034
    "_reasoning_chunk",  # OAS036
    "_logprobs_chunk",  # OAS037
    "_error_chunk",  # OAS038
    "_created_chunk",  # OAS039
    "_fffd_chunk",  # OAS040
    "_delta_lists_chunk",  # OAS043
)

#: The per-event checks of ``rules`` that :func:`plain_event` discharges.
EVENT_CHECKS: tuple[str, ...] = (
    "data_field_event",  # OAS004: one `data: ` line with its space
    "_event_field_event",  # OAS006: no event:/id:/retry:/other fields
)


def _functions(names: Iterable[str]) -> frozenset[Callable[..., Any]]:
    """The check functions of the rule table with these names (a missing name is simply not
    covered). Taken from ``RULES`` itself, not from the module's exports: a check that moved
    between modules, or stopped being re-exported, is still found."""
    wanted = set(names)
    table = ((r.on_event, r.on_chunk) for r in rules.RULES)
    return frozenset(f for pair in table for f in pair if f is not None and f.__name__ in wanted)


_COVERED_CHUNK = _functions(CHUNK_CHECKS)
_COVERED_EVENT = _functions(EVENT_CHECKS)
_EXTENSION_CHECK = next(iter(_functions(["_extension_chunk"])), None)
_REASONING_CHECK = next(iter(_functions(["_reasoning_chunk"])), None)

# Where _extension_chunk looks, and the fields the contract defines there.
_P_CHUNK = ""
_P_CHOICE = "choices[]."
_P_DELTA = "choices[].delta."
_P_TOOL = "choices[].delta.tool_calls[]."
_P_FN = "choices[].delta.tool_calls[].function."
_SPECS: dict[str, frozenset[str]] = {
    _P_CHUNK: spec_fields(ChatCompletionChunk),
    _P_CHOICE: spec_fields(Choice),
    _P_DELTA: spec_fields(Delta),
    _P_TOOL: spec_fields(ToolCallFragment),
    _P_FN: spec_fields(FunctionCallFragment),
}


# Field values read in one C call each (from the models' __dict__, where pydantic keeps them).
_ENVELOPE = itemgetter(
    "id",
    "created",
    "model",
    "system_fingerprint",
    "service_tier",
    "object",
    "usage",
    "x_groq",
    "error",
)
_CHOICE = itemgetter("index", "delta", "finish_reason", "logprobs", "error")
_DELTA = itemgetter("role", "refusal", "content", "reasoning_content", "reasoning", "tool_calls")
_FRAGMENT = itemgetter("index", "id", "type", "function")


def covers_events(checks: Iterable[Callable[..., Any]]) -> bool:
    """Whether :func:`plain_event` discharges every one of these event checks."""
    return ENABLED and set(checks) <= _COVERED_EVENT


def plain_event(ev: SSEEvent) -> bool:
    """One ``data: `` line, no other field: ``_data_field_event`` and ``_event_field_event``
    find nothing in it (what the decoder's fast path produces)."""
    return (
        ev.data_lines == 1
        and not ev.nospace
        and ev.event is None
        and ev.id is None
        and ev.retry is None
        and not ev.other_fields
    )


class PlainChunkGate:
    """Takes the chunks for which every per-chunk check of one run is a no-op.

    Built once per run (the profile and request are fixed); :meth:`take` is called for each
    chunk instead of the checks, and changes nothing when it declines the chunk. What it
    compares against (the first chunk's envelope, the fields reported so far, whether usage
    came) only changes when a chunk goes through the checks: the driver calls
    :meth:`refresh` after each such chunk.
    """

    __slots__ = (
        "_ext",
        "_ext_choice",
        "_ext_chunk",
        "_ext_delta",
        "_ext_done",
        "_ext_fn",
        "_ext_on",
        "_ext_tool",
        "_key",
        "_reasoning_on",
        "_watch",
        "ctx",
    )

    def __init__(
        self, ctx: RuleContext, checks: Iterable[Callable[..., Any]], *, watch: bool = False
    ) -> None:
        self.ctx = ctx
        # Under auto, the driver looks for a provider signal in every chunk it checks: the gate
        # then takes only chunks that provably carry none (see _may_signal).
        self._watch = watch
        active = set(checks)
        self._ext_on = _EXTENSION_CHECK in active  # OAS014 on: fields must be looked at
        # Per place, the field names _extension_chunk passes over: spec, or seen before. The
        # sets grow in place; _ext_done counts the entries of ctx.ext_order taken in, so each
        # refresh costs only the fields new since the last one (linear in the stream).
        self._ext: dict[str, set[str]] = {prefix: set(spec) for prefix, spec in _SPECS.items()}
        self._ext_done = 0
        self._ext_chunk = self._ext[_P_CHUNK]
        self._ext_choice = self._ext[_P_CHOICE]
        self._ext_delta = self._ext[_P_DELTA]
        self._ext_tool = self._ext[_P_TOOL]
        self._ext_fn = self._ext[_P_FN]
        self._key: tuple[Any, ...] | None = None  # no chunk is taken before the first one
        self._reasoning_on = _REASONING_CHECK in active

    @staticmethod
    def usable(checks: Iterable[Callable[..., Any]]) -> bool:
        """Whether the gate covers every one of these chunk checks (else it must not be used)."""
        return ENABLED and set(checks) <= _COVERED_CHUNK

    def refresh(self) -> None:
        """Take in what the checks of the last (long-way) chunk changed."""
        ctx = self.ctx
        ref = ctx.ref
        self._key = None if ref is None or ctx.usages else self._envelope_key(ref)
        order = ctx.ext_order
        if self._ext_on and self._ext_done < len(order):
            for path in order[self._ext_done :]:
                for prefix, names in self._ext.items():
                    if path.startswith(prefix):
                        names.add(path[len(prefix) :])
            self._ext_done = len(order)
        if self._watch and ref is not None and self._may_signal(ref):
            self._key = None

    def _may_signal(self, ref: ChatCompletionChunk) -> bool:
        """Under auto: whether a chunk this gate takes could carry a provider signal.

        ``profiles.profile_from_chunk`` finds a signal in a non-null ``x_groq``, ``timings`` or
        ``prompt_filter_results``, the ``fp_ollama`` fingerprint, or a ``deepseek-`` model with
        ``reasoning_content``. A taken chunk has no ``x_groq`` and the first chunk's fingerprint
        and model (its envelope key), and the first chunk was looked at and did not signal.
        With OAS014 on, a taken chunk also has only spec fields and fields seen before, in the
        chunk and in its delta: no ``timings``, ``prompt_filter_results`` or
        ``reasoning_content`` unless one of them was seen before (with a null value).
        """
        if not self._ext_on or any(f in self._ext_chunk for f in SIGNAL_FIELDS):
            return True
        return (ref.model or "").startswith(SIGNAL_MODEL_PREFIX) and (
            SIGNAL_DELTA_FIELD in self._ext_delta
        )

    def _envelope_key(self, ref: ChatCompletionChunk) -> tuple[Any, ...] | None:
        """What a taken chunk's envelope must equal, or None if no chunk can be taken.

        A chunk equal to the first one in id/created/model/fingerprint/tier passes OAS015-018
        (the first chunk's fingerprint is already recorded; a missing fingerprint is counted,
        so it must be there), and OAS010 (id and model non-empty, created present), OAS039
        (created in Unix seconds, not 0, not before 2020, not in the future) and OAS012
        (service_tier known) when the first chunk does. It must also be a
        ``chat.completion.chunk`` (OAS009) without usage (OAS026/028), ``x_groq`` (usage may
        hide there) or error (OAS038): the ``None``s of the key, in :data:`_ENVELOPE` order.
        After a usage chunk nothing is taken (OAS026 reports chunks after it): see refresh.
        """
        ctx = self.ctx
        t = ref.created
        created_ok = (
            t is not None
            and rules.EARLIEST_CREATED <= t <= rules.MS_THRESHOLD
            and t <= ctx.now + rules.FUTURE_SLACK
        )
        tier = ref.service_tier
        tier_ok = tier is None or tier in rules.SERVICE_TIERS or tier in ctx.profile.service_tiers
        ok = bool(ref.id) and bool(ref.model) and ref.system_fingerprint is not None
        if not (ok and created_ok and tier_ok):
            return None
        return (
            ref.id,
            ref.created,
            ref.model,
            ref.system_fingerprint,
            ref.service_tier,
            "chat.completion.chunk",
            None,
            None,
            None,
        )

    def take(self, c: ChatCompletionChunk, pos: int) -> bool:
        """Take ``c`` (chunk number ``pos``) when every covered check would find nothing in it.

        Returns False, having changed nothing, when some check may have something to say.
        Otherwise the checks would leave every state as it is, so the only thing left to do
        is what the assembler does with the chunk: this method does it (as
        ``Assembler.feed_choice`` would for this shape, which it has just established) and
        returns True.

        Field values are read from the models' ``__dict__`` with ``itemgetter``s (one C call
        for several fields instead of one attribute lookup each): this runs for every chunk.
        """
        # OAS009/10/12/15-18/26/28/38/39: see _envelope_key (None: nothing is taken yet).
        if _ENVELOPE(c.__dict__) != self._key:
            return False
        choices = c.choices
        if choices is None or len(choices) != 1:
            return False
        ch = choices[0]
        idx, d, finish, logprobs, error = _CHOICE(ch.__dict__)
        ctx = self.ctx
        # OAS011 index, delta and the finish_reason key; OAS023/24 no finish; OAS037 no
        # logprobs; OAS038 no error in the choice; OAS019 index in range.
        if (
            d is None
            or finish is not None
            or logprobs is not None
            or error is not None
            or idx is None
            or not 0 <= idx < ctx.n
            or "finish_reason" not in ch.__pydantic_fields_set__
        ):
            return False
        msg = ctx.asm.choices.get(idx)
        # OAS020/21/22 need a choice seen before; OAS023/24 one not finished yet.
        if msg is None or msg.finish_chunk is not None:
            return False
        role, refusal, content, rc, rs, tcs = _DELTA(d.__dict__)
        # OAS012/OAS021: no role. A refusal goes the long way (OAS035, OAS040).
        # OAS022: something in the delta, and never `tool_calls: []`.
        # OAS040: no U+FFFD in the texts (arguments: below).
        if (
            role is not None
            or refusal is not None
            or not (content or rc or rs or tcs)
            or (tcs is not None and not tcs)
            or (content and "\ufffd" in content)
            or (rc and "\ufffd" in rc)
            or (rs and "\ufffd" in rs)
        ):
            return False
        # OAS036: one reasoning field, already recorded, before any answer.
        if (
            (rc or rs)
            and self._reasoning_on
            and (
                (rc and rs)
                or ("reasoning_content" if rc else "reasoning") not in ctx.reasoning_fields
                or msg.first_content_chunk is not None
                or msg.first_tool_chunk is not None
            )
        ):
            return False
        # OAS043: no annotations and no list-valued extension field in the delta.
        if d.annotations is not None or (
            d.__pydantic_extra__ and any(type(v) is list for v in d.__pydantic_extra__.values())
        ):
            return False
        # OAS014: every field is in the spec or was reported before at its place.
        ext_on = self._ext_on
        if ext_on and not (
            c.__pydantic_fields_set__ <= self._ext_chunk
            and ch.__pydantic_fields_set__ <= self._ext_choice
            and d.__pydantic_fields_set__ <= self._ext_delta
        ):
            return False
        args = None
        if tcs:
            # OAS029-32/34: a later fragment (no id, type or name) of the last opened call,
            # with a non-negative index; OAS012 then has no tool type to judge.
            if len(tcs) != 1:
                return False
            tc = tcs[0]
            ti, tid, ttype, fn = _FRAGMENT(tc.__dict__)
            calls = msg._calls
            if (
                ti is None
                or ti < 0
                or tid is not None
                or ttype is not None
                or ti not in calls
                or msg.top_call is None
                or ti < msg.top_call
            ):
                return False
            if fn is not None:
                args = fn.arguments
                # OAS040: no U+FFFD in the argument text either.
                if fn.name is not None or (args and "\ufffd" in args):
                    return False
            if ext_on and not (
                tc.__pydantic_fields_set__ <= self._ext_tool
                and (fn is None or fn.__pydantic_fields_set__ <= self._ext_fn)
            ):
                return False
        # Taken. The assembler's part, as Assembler.feed_choice does it for a delta without
        # role, refusal, logprobs or finish and at most one later fragment of an open call
        # (the differential tests compare the assembled messages too).
        msg.last_chunk = pos
        msg.deltas += 1
        if content:
            msg._content.append(content)
            if msg.first_content_chunk is None:
                msg.first_content_chunk = pos
        elif content is not None and msg.content is None:
            msg.content = ""
        if rc:
            msg._reasoning.append(rc)
            msg.last_reasoning_chunk = pos
            if msg.reasoning_field is None:
                msg.reasoning_field = "reasoning_content"
        if rs:
            msg._reasoning.append(rs)
            msg.last_reasoning_chunk = pos
            if msg.reasoning_field is None:
                msg.reasoning_field = "reasoning"
        if tcs:
            if msg.first_tool_chunk is None:
                msg.first_tool_chunk = pos
            call = calls[ti]
            call.fragments += 1
            if args:
                call._parts.append(args)
        return True
