"""Catalog section J (OAS042-OAS043): rules the client matrix found, after the first catalog."""

from __future__ import annotations

from ..models import ChatCompletionChunk
from .context import RuleContext


def _usage_requested_end(ctx: RuleContext) -> None:
    """OAS042: ``include_usage`` asked, every choice finished, and no usage ever came."""
    if not ctx.include_usage or ctx.usages or ctx.error_events or not ctx.asm.choices:
        return
    if any(m.finish_chunk is None for m in ctx.asm.choices.values()):
        return  # a truncated stream: OAS008/OAS023 report it
    ctx.emit(
        "OAS042",
        None,
        "`stream_options.include_usage` was requested but no usage chunk came; every client "
        "ends with usage None",
    )


# Lists in a delta that clients merge entry by entry (tool_calls has OAS029).
_MERGED_BY_INDEX = ("annotations",)


def _delta_lists_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    """OAS043: list entries in a delta without an integer ``index`` (merged by index)."""
    for ch in c.choices or ():
        d = ch.delta
        if d is None:
            continue
        lists = [(name, getattr(d, name)) for name in _MERGED_BY_INDEX]
        extra = d.__pydantic_extra__
        if extra:
            lists += [(k, v) for k, v in extra.items() if type(v) is list]
        for name, value in lists:
            if not value or not any(
                isinstance(e, dict) and not isinstance(e.get("index"), int) for e in value
            ):
                continue
            key = (ch.index, name)
            seen = ctx.unindexed.get(key, 0)
            ctx.unindexed[key] = seen + 1
            if seen == 1:  # the second delta: where openai-python's accumulator raises
                ctx.emit(
                    "OAS043",
                    ctx.pos,
                    f"`{name}` entries without `index` in a second delta of choice {ch.index}; "
                    "openai-python's accumulator raises RuntimeError (Expected list delta entry "
                    "to have an `index` key)",
                    path=f"choices[{ch.index}].delta.{name}",
                    key=name,
                )


def _delta_lists_end(ctx: RuleContext) -> None:
    for (idx, name), count in ctx.unindexed.items():
        if count == 1:
            ctx.emit(
                "OAS043",
                None,
                f"`{name}` entries without `index` in one delta of choice {idx}; clients that "
                "merge the list by index could not merge a second one",
                minor=2,
            )
