"""The operations that apply a provider style's deviations to a stream being built.

``chat.builder`` builds OpenAI's stream as a list of ``Ev`` (each event's kind, choice and chunk);
``apply_deviations`` then runs each ``Deviation`` of the style (``chat.styles``) through its
operation in ``OPS``, in order. Operations edit the events in place; they are the only code behind
``as_provider``, everything else is data.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .script import dumps as _dumps
from .styles import ProviderStyle, Ref

__all__ = ["OPS", "Ctx", "Ev", "apply_deviations"]


@dataclass
class Ev:
    """A script event while building: its kind, choice index and chunk (or comment)."""

    kind: str
    choice: int | None = None
    chunk: dict[str, Any] | None = None
    comment: str | None = None


@dataclass
class Ctx:
    """What deviations need to know about the stream being built."""

    has_reasoning: bool
    include_usage: bool
    usage: dict[str, Any]
    rng: random.Random
    created: int
    chunk_id: str


def _choices_of(ev: Ev) -> list[dict[str, Any]]:
    if ev.chunk is None:
        return []
    choices = ev.chunk.get("choices")
    return choices if isinstance(choices, list) else []


def _selected(events: list[Ev], kinds: Sequence[str]) -> list[Ev]:
    chunks = [e for e in events if e.chunk is not None and e.kind != "prologue"]
    out = [e for e in chunks if e.kind in kinds]
    if "first" in kinds and chunks and chunks[0] not in out:
        out.insert(0, chunks[0])
    if "last" in kinds and chunks and chunks[-1] not in out:
        out.append(chunks[-1])
    return out


def _op_prologue(events: list[Ev], ctx: Ctx, *, chunk: Mapping[str, Any]) -> None:
    events.insert(0, Ev("prologue", None, json.loads(_dumps(chunk))))


def _op_choice_fields(
    events: list[Ev], ctx: Ctx, *, kinds: Sequence[str], fields: Mapping[str, Any]
) -> None:
    for ev in _selected(events, kinds):
        for ch in _choices_of(ev):
            for k, v in fields.items():
                ch.setdefault(k, json.loads(_dumps(v)))


def _op_delta_fields(
    events: list[Ev],
    ctx: Ctx,
    *,
    kinds: Sequence[str],
    fields: Mapping[str, Any],
    only_with_reasoning: bool = False,
    replace: bool = False,
) -> None:
    if only_with_reasoning and not ctx.has_reasoning:
        return
    for ev in _selected(events, kinds):
        for ch in _choices_of(ev):
            delta = ch.get("delta")
            if isinstance(delta, dict):
                for k, v in fields.items():
                    if replace:
                        delta[k] = v
                    else:
                        delta.setdefault(k, v)


def _op_delta_drop(
    events: list[Ev], ctx: Ctx, *, kinds: Sequence[str], keys: Sequence[str]
) -> None:
    for ev in _selected(events, kinds):
        for ch in _choices_of(ev):
            delta = ch.get("delta")
            if isinstance(delta, dict):
                for k in keys:
                    delta.pop(k, None)


def _op_chunk_fields(
    events: list[Ev], ctx: Ctx, *, kinds: Sequence[str], fields: Mapping[str, Any]
) -> None:
    for ev in _selected(events, kinds):
        assert ev.chunk is not None
        for k, v in fields.items():
            ev.chunk.setdefault(k, json.loads(_dumps(v)))


def _op_comments(events: list[Ev], ctx: Ctx, *, text: str, before_first: int) -> None:
    for _ in range(before_first):
        events.insert(0, Ev("comment", None, comment=text))


def _op_reasoning_field(events: list[Ev], ctx: Ctx, *, name: str) -> None:
    for ev in events:
        for ch in _choices_of(ev):
            delta = ch.get("delta")
            if isinstance(delta, dict) and "reasoning_content" in delta:
                delta[name] = delta.pop("reasoning_content")


def _op_reasoning_details(events: list[Ev], ctx: Ctx) -> None:
    """OpenRouter repeats each reasoning delta as a ``reasoning_details`` entry."""
    for ev in events:
        for ch in _choices_of(ev):
            delta = ch.get("delta")
            if isinstance(delta, dict) and isinstance(delta.get("reasoning"), str):
                delta["reasoning_details"] = [
                    {
                        "type": "reasoning.text",
                        "text": delta["reasoning"],
                        "format": "unknown",
                        "index": 0,
                    }
                ]


def _op_native_finish_reason(events: list[Ev], ctx: Ctx) -> None:
    for ev in events:
        for ch in _choices_of(ev):
            ch["native_finish_reason"] = ch.get("finish_reason")


def _op_remove_choice_keys(
    events: list[Ev], ctx: Ctx, *, keys: Sequence[str], only_null: Sequence[str] = ()
) -> None:
    for ev in events:
        for ch in _choices_of(ev):
            for k in keys:
                if k in only_null and ch.get(k) is not None:
                    continue
                ch.pop(k, None)


def _usage_events(events: list[Ev]) -> list[Ev]:
    return [e for e in events if e.kind == "usage"]


def _op_usage_always(events: list[Ev], ctx: Ctx) -> None:
    if _usage_events(events):
        return
    template = next(e.chunk for e in events if e.chunk is not None and e.kind != "prologue")
    u = {k: v for k, v in template.items() if k != "choices"}
    u["choices"] = []
    u["usage"] = ctx.usage
    events.append(Ev("usage", None, u))


def _op_usage_on_finish(events: list[Ev], ctx: Ctx) -> None:
    """Move the usage of the ``choices: []`` chunk onto the last finish chunk."""
    for ev in _usage_events(events):
        events.remove(ev)
        last_finish = [e for e in events if e.kind == "finish"][-1]
        assert last_finish.chunk is not None
        last_finish.chunk["usage"] = ev.chunk["usage"] if ev.chunk else ctx.usage


def _op_usage_fields(
    events: list[Ev], ctx: Ctx, *, fields: Mapping[str, Any], replace: bool = False
) -> None:
    usage = ctx.usage
    for k, v in fields.items():
        value = usage.get(v.field) if isinstance(v, Ref) else v
        if replace or k not in usage:
            usage[k] = value


def _op_reasoning_outside_completion(events: list[Ev], ctx: Ctx) -> None:
    details = ctx.usage.get("completion_tokens_details") or {}
    reasoning = details.get("reasoning_tokens") or 0
    ctx.usage["completion_tokens"] -= reasoning


def _op_whole_tool_calls(events: list[Ev], ctx: Ctx) -> None:
    """Join each call's argument fragments into its opening fragment."""
    openings: dict[tuple[int | None, int], dict[str, Any]] = {}
    keep: list[Ev] = []
    for ev in events:
        if ev.kind in ("tool_first", "tool_args"):
            tc = _choices_of(ev)[0]["delta"]["tool_calls"][0]
            key = (ev.choice, tc["index"])
            if ev.kind == "tool_first":
                openings[key] = tc
                keep.append(ev)
            else:
                openings[key]["function"]["arguments"] += tc["function"]["arguments"]
            continue
        keep.append(ev)
    events[:] = keep


def _op_tool_call_keys(events: list[Ev], ctx: Ctx, *, remove: Sequence[str]) -> None:
    for ev in events:
        if ev.kind not in ("tool_first", "tool_args"):
            continue
        for ch in _choices_of(ev):
            for tc in ch["delta"].get("tool_calls") or ():
                for k in remove:
                    tc.pop(k, None)


_PIECE_KINDS = ("content", "refusal", "tool_first", "tool_args")


def _op_finish_with_last_piece(events: list[Ev], ctx: Ctx) -> None:
    """Merge each choice's last delta into its finish chunk (Mistral's last chunk)."""
    for fin in [e for e in events if e.kind == "finish"]:
        before = [e for e in events if e.choice == fin.choice and e.kind in _PIECE_KINDS]
        if not before:
            continue
        last = before[-1]
        fin_choice = _choices_of(fin)[0]
        fin_choice["delta"] = {**_choices_of(last)[0]["delta"], **fin_choice["delta"]}
        events.remove(last)


def _op_padding(events: list[Ev], ctx: Ctx, *, name: str, kinds: Sequence[str]) -> None:
    alphabet = string.ascii_lowercase + string.digits
    for ev in _selected(events, kinds):
        assert ev.chunk is not None
        ev.chunk[name] = alphabet[: ctx.rng.randrange(1, len(alphabet))]


def _op_created_drift(events: list[Ev], ctx: Ctx, *, every: int) -> None:
    for k, ev in enumerate(e for e in events if e.chunk is not None and e.kind != "prologue"):
        assert ev.chunk is not None
        ev.chunk["created"] = ctx.created + k // every


def _op_fingerprint_last(events: list[Ev], ctx: Ctx, *, value: str) -> None:
    chunks = [e for e in events if e.chunk is not None and e.kind != "prologue"]
    for ev in chunks:
        assert ev.chunk is not None
        ev.chunk.pop("system_fingerprint", None)
    assert chunks[-1].chunk is not None
    chunks[-1].chunk["system_fingerprint"] = value


def _op_x_groq(events: list[Ev], ctx: Ctx) -> None:
    req_id = "req_" + "".join(
        ctx.rng.choice(string.ascii_lowercase + string.digits) for _ in range(26)
    )
    chunks = [e for e in events if e.chunk is not None]
    assert chunks[0].chunk is not None
    chunks[0].chunk["x_groq"] = {"id": req_id, "seed": ctx.rng.randrange(2**31)}
    groq_usage = {
        "queue_time": 0.041520249,
        "prompt_tokens": ctx.usage["prompt_tokens"],
        "prompt_time": 0.010407901,
        "completion_tokens": ctx.usage["completion_tokens"],
        "completion_time": 0.046601227,
        "total_tokens": ctx.usage["total_tokens"],
        "total_time": 0.057009128,
    }
    last_finish = [e for e in events if e.kind == "finish"][-1]
    assert last_finish.chunk is not None
    last_finish.chunk["x_groq"] = {"id": req_id, "usage": dict(groq_usage)}
    last_finish.chunk["usage"] = dict(groq_usage)
    for ev in _usage_events(events):
        assert ev.chunk is not None
        ev.chunk["usage"] = dict(groq_usage)
        ev.chunk["service_tier"] = "on_demand"


_Op = Callable[..., None]
OPS: Mapping[str, _Op] = {
    "prologue": _op_prologue,
    "choice_fields": _op_choice_fields,
    "delta_fields": _op_delta_fields,
    "delta_drop": _op_delta_drop,
    "chunk_fields": _op_chunk_fields,
    "comments": _op_comments,
    "reasoning_field": _op_reasoning_field,
    "reasoning_details": _op_reasoning_details,
    "native_finish_reason": _op_native_finish_reason,
    "remove_choice_keys": _op_remove_choice_keys,
    "usage_always": _op_usage_always,
    "usage_on_finish": _op_usage_on_finish,
    "usage_fields": _op_usage_fields,
    "reasoning_outside_completion": _op_reasoning_outside_completion,
    "whole_tool_calls": _op_whole_tool_calls,
    "tool_call_keys": _op_tool_call_keys,
    "finish_with_last_piece": _op_finish_with_last_piece,
    "padding": _op_padding,
    "created_drift": _op_created_drift,
    "fingerprint_last": _op_fingerprint_last,
    "x_groq": _op_x_groq,
}


def apply_deviations(events: list[Ev], ctx: Ctx, style: ProviderStyle) -> None:
    """Reshape ``events`` (in place) by each of ``style``'s deviations, in order."""
    for dev in style.deviations:
        OPS[dev.op](events, ctx, **dict(dev.params))
