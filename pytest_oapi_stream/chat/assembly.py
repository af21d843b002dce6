"""Assembles the message of each choice from its deltas, as a careful client would.

Unlike openai-python's ``accumulate_delta``, a repeated role or tool-call id is not concatenated
(``"assistantassistant"``), and fragments without ``index`` still land on a call. The rule checks
read this state too (what a choice has seen so far), so it is computed once per chunk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .models import ChatCompletionChunk, Choice, TokenLogprob, ToolCallFragment

__all__ = ["AssembledMessage", "AssembledToolCall", "Assembler"]


@dataclass
class AssembledToolCall:
    """One tool call put together from its fragments."""

    index: int
    id: str | None = None
    type: str | None = None
    name: str | None = None
    arguments: str = ""
    first_chunk: int = 0
    fragments: int = 0
    _parts: list[str] = field(default_factory=list, repr=False)

    @property
    def parsed_arguments(self) -> Any:
        """The arguments parsed as JSON, or None when they are not valid JSON."""
        try:
            return json.loads(self.arguments)
        except ValueError:
            return None

    def to_dict(self) -> dict[str, Any]:
        """The call in the shape of a non-streamed ``message.tool_calls[]`` entry."""
        return {
            "id": self.id,
            "type": self.type or "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass
class AssembledMessage:
    """The assistant message of one choice, with what the stream said about it."""

    index: int
    role: str | None = None
    content: str | None = None
    refusal: str | None = None
    reasoning: str | None = None
    reasoning_field: str | None = None
    tool_calls: list[AssembledToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    logprobs: list[TokenLogprob] = field(default_factory=list)
    refusal_logprobs: list[TokenLogprob] = field(default_factory=list)
    # Positions (chunk indexes) the rules need.
    first_chunk: int = 0
    first_role: bool = False
    last_chunk: int = 0
    finish_chunk: int | None = None
    finish_count: int = 0
    deltas: int = 0
    first_content_chunk: int | None = None
    first_tool_chunk: int | None = None
    last_reasoning_chunk: int | None = None
    #: The highest tool-call index opened so far (None: no call), kept so that no per-chunk
    #: check has to take ``max`` over every call (linear time on streams of many calls).
    top_call: int | None = None
    _content: list[str] = field(default_factory=list, repr=False)
    _refusal: list[str] = field(default_factory=list, repr=False)
    _reasoning: list[str] = field(default_factory=list, repr=False)
    _calls: dict[int, AssembledToolCall] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The message in the shape of a non-streamed ``choices[].message`` (plus reasoning)."""
        out: dict[str, Any] = {"role": self.role or "assistant", "content": self.content}
        if self.refusal is not None:
            out["refusal"] = self.refusal
        if self.reasoning is not None:
            out[self.reasoning_field or "reasoning_content"] = self.reasoning
        if self.tool_calls:
            out["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        return out


class _FirstOnly(list):  # type: ignore[type-arg]
    """A list that keeps its first item only: says whether anything came, not what."""

    def append(self, item: Any) -> None:
        if not self:
            super().append(item)

    def extend(self, items: Any) -> None:
        for item in items:
            self.append(item)
            return


class Assembler:
    """Accumulates choices chunk by chunk; ``finish()`` joins the text parts.

    With ``keep_text=False`` a message keeps only whether it had content, refusal, reasoning
    and logprobs (what the rules ask), not the text: memory then does not grow with the text
    (tool-call arguments are kept: a rule parses them).
    """

    def __init__(self, *, keep_text: bool = True) -> None:
        self.choices: dict[int, AssembledMessage] = {}
        self.keep_text = keep_text

    def feed(self, chunk: ChatCompletionChunk, position: int) -> None:
        """Add one chunk's deltas (choices without an integer index are skipped)."""
        for choice in chunk.choices or ():
            if choice.index is not None:
                self.feed_choice(choice, position)

    def feed_choice(self, choice: Choice, position: int) -> None:
        """Add one choice's delta, finish reason and logprobs."""
        idx = choice.index
        assert idx is not None
        msg = self.choices.get(idx)
        if msg is None:
            msg = self.choices[idx] = AssembledMessage(index=idx, first_chunk=position)
            msg.first_role = choice.delta is not None and bool(choice.delta.role)
            if not self.keep_text:
                msg._content, msg._refusal = _FirstOnly(), _FirstOnly()
                msg._reasoning, msg.logprobs, msg.refusal_logprobs = (
                    _FirstOnly(),
                    _FirstOnly(),
                    _FirstOnly(),
                )
        msg.last_chunk = position
        msg.deltas += 1
        delta = choice.delta
        if delta is not None:
            if delta.role and msg.role is None:
                msg.role = delta.role
            if delta.content:
                msg._content.append(delta.content)
                if msg.first_content_chunk is None:
                    msg.first_content_chunk = position
            elif delta.content is not None and msg.content is None:
                msg.content = ""
            if delta.refusal:
                msg._refusal.append(delta.refusal)
            elif delta.refusal is not None and msg.refusal is None:
                msg.refusal = ""
            # reasoning_content, then reasoning (read directly: this runs for every chunk)
            text = delta.reasoning_content
            if text:
                msg._reasoning.append(text)
                msg.last_reasoning_chunk = position
                if msg.reasoning_field is None:
                    msg.reasoning_field = "reasoning_content"
            text = delta.reasoning
            if text:
                msg._reasoning.append(text)
                msg.last_reasoning_chunk = position
                if msg.reasoning_field is None:
                    msg.reasoning_field = "reasoning"
            if delta.tool_calls:
                if msg.first_tool_chunk is None:
                    msg.first_tool_chunk = position
                for frag in delta.tool_calls:
                    self._feed_tool(msg, frag, position)
        if choice.logprobs is not None:
            if choice.logprobs.content:
                msg.logprobs.extend(choice.logprobs.content)
            if choice.logprobs.refusal:
                msg.refusal_logprobs.extend(choice.logprobs.refusal)
        if choice.finish_reason is not None:
            msg.finish_count += 1
            if msg.finish_chunk is None:
                msg.finish_chunk = position
                msg.finish_reason = choice.finish_reason

    @staticmethod
    def _feed_tool(msg: AssembledMessage, frag: ToolCallFragment, position: int) -> None:
        idx = frag.index
        fn = frag.function
        if idx is None:
            # No index (Gemini, Mistral): a fragment with an id or a name opens a new call,
            # anything else continues the last one.
            opens = bool(frag.id) or bool(fn is not None and fn.name)
            top = msg.top_call
            idx = (top if top is not None else -1) + 1 if opens or top is None else top
        call = msg._calls.get(idx)
        if call is None:
            call = msg._calls[idx] = AssembledToolCall(index=idx, first_chunk=position)
            if msg.top_call is None or idx > msg.top_call:
                msg.top_call = idx
        call.fragments += 1
        if frag.id and not call.id:
            call.id = frag.id
        if frag.type and not call.type:
            call.type = frag.type
        if fn is not None:
            if fn.name and not call.name:
                call.name = fn.name
            if fn.arguments:
                call._parts.append(fn.arguments)

    def finish(self) -> list[AssembledMessage]:
        """Join every choice's parts; returns the messages ordered by choice index."""
        out = []
        for idx in sorted(self.choices):
            msg = self.choices[idx]
            if msg._content:
                msg.content = "".join(msg._content)
            if msg._refusal:
                msg.refusal = "".join(msg._refusal)
            if msg._reasoning:
                msg.reasoning = "".join(msg._reasoning)
            for call_idx in sorted(msg._calls):
                call = msg._calls[call_idx]
                call.arguments = "".join(call._parts)
            msg.tool_calls = [msg._calls[k] for k in sorted(msg._calls)]
            out.append(msg)
        return out
