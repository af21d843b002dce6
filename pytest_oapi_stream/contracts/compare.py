"""Streaming vs non-streaming: does the assembled stream have the structure of the completion?

Some providers drift between their two code paths (the streamed answer finishes with ``stop``
while the non-streamed one says ``tool_calls``, a tool call loses an argument key, the role is
missing). ``assert_stream_matches_completion(stream, completion)`` compares, per choice, the
role, the finish reason, the tool calls' names (in order) and their argument keys; wording is
never compared, since two calls of a model rarely say the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..chat.check import ChunkStream
from ..core.report import Report

__all__ = ["assert_stream_matches_completion", "structure_differences"]


def _completion_dict(completion: Any) -> dict[str, Any]:
    """A ``chat.completion`` as a dict: from a dict, JSON text/bytes, or an SDK/pydantic model."""
    if isinstance(completion, (bytes, bytearray)):
        completion = completion.decode("utf-8")
    if isinstance(completion, str):
        completion = json.loads(completion)
    elif not isinstance(completion, Mapping) and hasattr(completion, "model_dump"):
        completion = completion.model_dump(mode="json")
    if not isinstance(completion, Mapping):
        raise TypeError(
            "completion must be a chat.completion dict, its JSON text, or an SDK object, "
            f"not {type(completion).__name__}"
        )
    if completion.get("object") == "chat.completion.chunk":
        raise TypeError("completion is a streamed chunk; pass the non-streamed chat.completion")
    return dict(completion)


def _stream_of(stream: ChunkStream | Report) -> ChunkStream:
    if isinstance(stream, Report):
        if stream.stream is None:
            raise ValueError("the report has no parsed stream")
        return stream.stream
    if isinstance(stream, ChunkStream):
        return stream
    raise TypeError(f"stream must be a ChunkStream or a Report, not {type(stream).__name__}")


def _arg_keys(arguments: Any) -> str:
    """The sorted top-level keys of a call's JSON arguments, for a readable comparison."""
    if isinstance(arguments, Mapping):
        parsed: Any = arguments
    else:
        try:
            parsed = json.loads(arguments or "{}")
        except (TypeError, ValueError):
            return "<arguments are not JSON>"
    if not isinstance(parsed, Mapping):
        return f"<arguments are a JSON {type(parsed).__name__}>"
    return "{" + ", ".join(sorted(str(k) for k in parsed)) + "}"


def _calls(items: Any) -> list[tuple[str | None, str]]:
    out = []
    for call in items or ():
        fn = call.get("function") if isinstance(call, Mapping) else None
        fn = fn if isinstance(fn, Mapping) else {}
        out.append((fn.get("name"), _arg_keys(fn.get("arguments"))))
    return out


def structure_differences(stream: ChunkStream | Report, completion: Any) -> list[str]:
    """Each structural difference between the assembled stream and the completion, in words."""
    chunks = _stream_of(stream)
    doc = _completion_dict(completion)
    streamed = {m.index: m for m in chunks.messages}
    choices = doc.get("choices")
    if not isinstance(choices, list):
        return ["the non-streamed completion has no `choices` list"]
    plain: dict[int, Mapping[str, Any]] = {}
    for pos, ch in enumerate(choices):
        if isinstance(ch, Mapping):
            idx = ch.get("index")
            plain[idx if isinstance(idx, int) else pos] = ch
    out: list[str] = []
    for idx in sorted(set(streamed) | set(plain)):
        where = f"choice {idx}"
        if idx not in plain:
            out.append(f"{where}: streamed, but not in the non-streamed completion")
            continue
        if idx not in streamed:
            out.append(f"{where}: in the non-streamed completion, but never streamed")
            continue
        msg, ch = streamed[idx], plain[idx]
        message = ch.get("message") if isinstance(ch.get("message"), Mapping) else {}
        assert isinstance(message, Mapping)
        pairs = [
            ("role", msg.role, message.get("role")),
            ("finish_reason", msg.finish_reason, ch.get("finish_reason")),
        ]
        for name, s_val, p_val in pairs:
            if s_val != p_val:
                out.append(f"{where}: {name}: streamed {s_val!r}, non-streamed {p_val!r}")
        s_calls = [(c.name, _arg_keys(c.arguments)) for c in msg.tool_calls]
        p_calls = _calls(message.get("tool_calls"))
        if len(s_calls) != len(p_calls):
            out.append(
                f"{where}: tool calls: streamed {len(s_calls)} "
                f"{[n for n, _ in s_calls]}, non-streamed {len(p_calls)} {[n for n, _ in p_calls]}"
            )
        for k, (s_call, p_call) in enumerate(zip(s_calls, p_calls, strict=False)):
            if s_call[0] != p_call[0]:
                out.append(
                    f"{where}: tool call {k} name: streamed {s_call[0]!r}, "
                    f"non-streamed {p_call[0]!r}"
                )
            if s_call[1] != p_call[1]:
                out.append(
                    f"{where}: tool call {k} ({s_call[0]}) argument keys: streamed "
                    f"{s_call[1]}, non-streamed {p_call[1]}"
                )
    return out


def assert_stream_matches_completion(stream: ChunkStream | Report, completion: Any) -> None:
    """Raise ``AssertionError`` naming each difference in role, finish reason, tool-call names
    or argument keys between the assembled stream and the non-streamed ``chat.completion``."""
    __tracebackhide__ = True
    diffs = structure_differences(stream, completion)
    if diffs:
        raise AssertionError(
            "the streamed and the non-streamed response differ in structure:\n"
            + "\n".join(f"  - {d}" for d in diffs)
        )
