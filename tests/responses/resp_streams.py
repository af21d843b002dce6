"""Responses streams for tests: corpus files as editable event lists, and back to SSE bytes.

A failing stream is a corpus file with one edit, so each rule is shown broken on real data.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus-responses"
TEXT = "openai__gpt-4o_text.sse"
CALL = "openai__gpt-4o_function-call.sse"
SUMMARY = "openai__gpt-5_reasoning-summary-function-call.sse"
ANNOTATIONS = "openai__gpt-4.1_web-search-annotations.sse"
QUOTA = "openai__gpt-5-nano_error-insufficient-quota-failed.sse"

Events = list[dict[str, Any]]


def raw(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def events(name: str) -> Events:
    """The JSON payloads of a corpus file, in order (a final ``[DONE]`` dropped)."""
    out = []
    for line in raw(name).decode("utf-8").splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            out.append(json.loads(line[6:]))
    return out


def sse(evs: Events, *, names: bool = True, done: bool = False) -> bytes:
    """SSE framing as api.openai.com sends it: ``event:`` + ``data:`` per event."""
    parts = []
    for ev in evs:
        head = f"event: {ev.get('type')}\n" if names and isinstance(ev, dict) else ""
        parts.append(f"{head}data: {json.dumps(ev, ensure_ascii=False)}\n\n")
    if done:
        parts.append("data: [DONE]\n\n")
    return "".join(parts).encode("utf-8")


def renumber(evs: Events) -> Events:
    """Sequence numbers 0, 1, 2... again after events were inserted or dropped."""
    for i, ev in enumerate(evs):
        if "sequence_number" in ev:
            ev["sequence_number"] = i
    return evs


def first(evs: Events, etype: str) -> dict[str, Any]:
    return next(ev for ev in evs if ev["type"] == etype)


def index(evs: Events, etype: str) -> int:
    return next(i for i, ev in enumerate(evs) if ev["type"] == etype)


def edited(name: str, edit: Callable[[Events], Events | None]) -> Events:
    """The events of ``name`` after ``edit`` (which may change them in place)."""
    evs = copy.deepcopy(events(name))
    out = edit(evs)
    return evs if out is None else out
