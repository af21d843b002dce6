"""Catalog section G, tool calls (OAS029-OAS034): one shared pass over every call's fragments."""

from __future__ import annotations

import json

from ..models import ChatCompletionChunk
from .context import RuleContext


def _tool_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    """OAS029-OAS032 and OAS034 in one pass over the fragments (state lives in the assembler)."""
    for i, ch in enumerate(c.choices or ()):
        d = ch.delta
        if d is None or not d.tool_calls:
            continue
        msg = ctx.asm.choices.get(ch.index) if ch.index is not None else None
        calls = msg._calls if msg is not None else {}
        last_open = msg.top_call if msg is not None else None  # max(calls), kept by the assembler
        opened_here: set[int] = set()
        top_here: int | None = None  # max(opened_here)
        for j, tc in enumerate(d.tool_calls):
            path = f"choices[{i}].delta.tool_calls[{j}]"
            idx = tc.index
            fn = tc.function
            name = fn.name if fn is not None else None
            if idx is None:
                ctx.tally(
                    "OAS029",
                    ctx.pos,
                    "tool-call fragment without `index`; openai-python's .stream() raises "
                    "TypeError, openai-node's .stream() drops the call",
                    field="tool_calls",
                )
                continue
            if idx < 0:
                ctx.emit("OAS029", ctx.pos, f"negative tool-call index {idx}", path=path)
                continue
            existing = calls.get(idx)
            is_first = existing is None and idx not in opened_here
            if is_first:
                expected = last_open + 1 if last_open is not None else 0
                if top_here is not None:
                    expected = max(expected, top_here + 1)
                if idx != expected and ctx.active("OAS030"):
                    ctx.emit(
                        "OAS030",
                        ctx.pos,
                        f"tool call index {idx} opens where {expected} was expected (gap)",
                        path=f"{path}.index",
                    )
                opened_here.add(idx)
                if top_here is None or idx > top_here:
                    top_here = idx
                missing = []
                if not tc.id:
                    missing.append("id")
                if tc.type != "function":
                    missing.append("type 'function'")
                if not name:
                    missing.append("function.name")
                if missing and ctx.active("OAS031"):
                    ctx.emit(
                        "OAS031",
                        ctx.pos,
                        f"first fragment of tool call {idx} lacks " + ", ".join(missing),
                        path=path,
                    )
                if tc.id:
                    prior = ctx.tool_ids.get(tc.id)
                    if prior is not None:
                        ctx.emit(
                            "OAS034",
                            ctx.pos,
                            f"tool-call id {tc.id!r} already used at chunk {prior}",
                            path=f"{path}.id",
                        )
                    else:
                        ctx.tool_ids[tc.id] = ctx.pos
            else:
                if existing is not None:
                    if (tc.id and existing.id and tc.id != existing.id) or (
                        name and existing.name and name != existing.name
                    ):
                        ctx.emit(
                            "OAS030",
                            ctx.pos,
                            f"tool-call index {idx} reused for another "
                            f"call ({existing.id}/{existing.name} -> {tc.id}/{name})",
                            path=path,
                        )
                        continue
                    if last_open is not None and idx < last_open:
                        ctx.tally(
                            "OAS030-interleave",
                            ctx.pos,
                            f"fragments of tool call {idx} "
                            f"after call {last_open} opened (interleaved)",
                        )
                if tc.id or name:
                    repeated = ", ".join(
                        k for k, v in (("id", tc.id), ("function.name", name)) if v
                    )
                    ctx.tally(
                        "OAS032-strong",
                        ctx.pos,
                        f"later fragment of tool call {idx} "
                        f"repeats {repeated}; openai-python concatenates it "
                        "(e.g. 'call_acall_a')",
                    )
                elif tc.type is not None or tc.id == "" or name == "":
                    ctx.tally(
                        "OAS032-weak",
                        ctx.pos,
                        f"later fragment of tool call {idx} repeats type or an empty id/name",
                    )


def _tool_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS029", "OAS029", what="fragment")
    ctx.flush_tally("OAS030-interleave", "OAS030", minor=True)
    ctx.flush_tally("OAS032-strong", "OAS032", what="fragment")
    ctx.flush_tally("OAS032-weak", "OAS032", minor=True, what="fragment")


def _tool_args_end(ctx: RuleContext) -> None:
    for msg in ctx.asm.choices.values():
        for idx in sorted(msg._calls):
            call = msg._calls[idx]
            parts = call._parts
            args = "".join(parts)
            where = f"choices[{msg.index}] tool call {idx}"
            if not args:
                ctx.emit(
                    "OAS033",
                    call.first_chunk,
                    f"{where} ({call.name}) has empty arguments (not even `{{}}`)",
                    minor=2,  # info: vLLM sends "" for argument-less tools [vllm-test-fc]
                    text=None,
                )
                continue
            if len(parts) > 2 and all(
                parts[k].startswith(parts[k - 1]) and parts[k - 1] for k in range(1, len(parts))
            ):
                ctx.emit(
                    "OAS033",
                    call.first_chunk,
                    f"{where}: argument fragments are cumulative snapshots, not increments",
                    text=args,
                )
                continue
            try:
                value = json.loads(args)
            except ValueError as exc:
                ctx.emit(
                    "OAS033",
                    call.first_chunk,
                    f"{where} ({call.name}): arguments are not "
                    f"one JSON object ({exc.__class__.__name__}: {exc})",
                    minor=True,
                    text=args,
                )
                continue
            if not isinstance(value, dict):
                ctx.emit(
                    "OAS033",
                    call.first_chunk,
                    f"{where}: arguments are JSON {type(value).__name__}, not an object",
                    minor=True,
                    text=args,
                )
