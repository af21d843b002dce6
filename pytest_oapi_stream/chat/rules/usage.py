"""Catalog section F, usage (OAS026-OAS028): where usage comes, whether asked, its arithmetic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models import ChatCompletionChunk, Usage
from .choices import _has_payload
from .context import RuleContext

if TYPE_CHECKING:
    from ..profiles import Profile


def stream_usage(profile: Profile, c: ChatCompletionChunk) -> Usage | None:
    """The usage a chunk carries where the profile allows it (top level, or ``x_groq.usage``)."""
    if c.usage is not None:
        return c.usage
    if profile.usage_in_x_groq and c.x_groq is not None and c.x_groq.usage is not None:
        return c.x_groq.usage
    return None


def _usage_trailer(ctx: RuleContext, c: ChatCompletionChunk) -> bool:
    """A usage chunk after the finish that repeats the finished choices with nothing new (an empty
    delta, no or the same finish_reason), where the profile allows it (``usage_after_finish``)."""
    if not ctx.profile.usage_after_finish or c.usage is None or not c.choices:
        return False
    known = ctx.asm.choices
    for ch in c.choices:
        msg = known.get(ch.index) if ch.index is not None else None
        if msg is None or msg.finish_chunk is None or _has_payload(ch):
            return False
        if ch.finish_reason is not None and ch.finish_reason != msg.finish_reason:
            return False
    return True


def _usage_place_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    if c.usage is not None and _usage_trailer(ctx, c):
        ctx.usage_trailers.add(ctx.pos)
    if ctx.usages and c.usage is None and not ctx.is_filter:
        if c.choices:
            ctx.tally(
                "OAS026-after",
                ctx.pos,
                "a chunk with choices after the usage chunk; "
                "openai-python overwrites the usage with None",
            )
        else:
            ctx.annotation_after_usage += 1


def _usage_place_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS026-after", "OAS026")
    usages = ctx.usages
    if not usages:
        return
    if ctx.annotation_after_usage:
        # OpenAI's own moderation chunk (gpt-5) does this, yet both SDKs' stream helpers lose
        # the usage: they assign `usage` from every chunk [py-acc] [node-stream]. Client
        # matrix: variant usage_null_trailer, corpus openai__gpt-5_moderation-chunk-after-usage.
        ctx.emit(
            "OAS026",
            None,
            f"{ctx.annotation_after_usage} annotation chunk(s) (choices: []) after the usage "
            "chunk: openai-python's .stream() and openai-node's finalChatCompletion() then "
            "report usage None",
            minor=1,
        )
    prof = ctx.profile
    placed = []
    finishes = {m.finish_chunk for m in ctx.asm.choices.values()}  # once, not per usage chunk
    for pos, usage, on_choices in usages:
        if not on_choices:
            placed.append((pos, usage))
            continue
        finish_here = pos in finishes
        if (prof.usage_on_finish_chunk and finish_here) or pos in ctx.usage_trailers:
            placed.append((pos, usage))
            continue
        ctx.tally(
            "OAS026-choices",
            pos,
            "usage on a chunk that has choices"
            + ("" if finish_here else " (not the finish chunk)")
            + "; clients that treat usage as the terminal chunk drop its delta",
        )
    ctx.flush_tally("OAS026-choices", "OAS026")
    if len(placed) > 1:
        same = all(_usage_key(u) == _usage_key(placed[0][1]) for _, u in placed)
        if not (same and prof.usage_on_finish_chunk):
            ctx.emit("OAS026", placed[1][0], f"usage sent {len(placed)} times")
        else:
            # The profile allows the repeat (Groq), but LangChain adds the copies up: a warning
            # (client matrix: corpus groq__kimi-k2_usage-twice.sse, langchain usage doubled).
            ctx.emit(
                "OAS026",
                placed[1][0],
                f"the same usage sent {len(placed)} times; LangChain adds the copies up",
                minor=1,
            )
    unfinished = [
        m.index
        for m in ctx.asm.choices.values()
        if m.finish_chunk is None or m.finish_chunk > usages[-1][0]
    ]
    if unfinished and not ctx.error_events:
        ctx.emit(
            "OAS026",
            usages[-1][0],
            f"usage before the finish of choice(s) {', '.join(map(str, unfinished))}",
        )


def _usage_key(u: Usage) -> tuple[int | None, int | None, int | None]:
    return (u.prompt_tokens, u.completion_tokens, u.total_tokens)


def _usage_opt_in_end(ctx: RuleContext) -> None:
    if not ctx.usages or ctx.include_usage:
        return
    ctx.emit(
        "OAS027",
        ctx.usages[0][0],
        "usage sent although `stream_options.include_usage` was not requested",
        needs_request=True,
    )


def _usage_math_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    u = stream_usage(ctx.profile, c)
    if u is None:
        return
    p, comp, total = u.prompt_tokens, u.completion_tokens, u.total_tokens
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = getattr(u, name)
        if value is None:
            ctx.emit("OAS028", ctx.pos, f"usage without `{name}`", path=f"usage.{name}")
        elif value < 0:
            ctx.emit("OAS028", ctx.pos, f"negative {name} {value}", path=f"usage.{name}")
    ctd, ptd = u.completion_tokens_details, u.prompt_tokens_details
    reasoning = ctd.reasoning_tokens if ctd is not None else None
    if p is not None and comp is not None and total is not None and total != p + comp:
        outside = (
            ctx.profile.reasoning_outside_completion
            and reasoning is not None
            and total == p + comp + reasoning
        )
        if not outside:
            ctx.emit(
                "OAS028",
                ctx.pos,
                f"total_tokens {total} != prompt_tokens {p} + completion_tokens {comp}",
            )
        else:
            # xAI's way, allowed by its profile; but clients that rebuild the total drop the
            # reasoning tokens (client matrix: xai__* rows, LiteLLM and the AI SDK).
            ctx.emit(
                "OAS028",
                ctx.pos,
                f"total_tokens {total} counts {reasoning} reasoning tokens that completion_tokens "
                f"{comp} leaves out; LiteLLM and the AI SDK report a total of {p + comp}",
                minor=1,
            )
    if ptd is not None and p is not None:
        for name in ("cached_tokens", "audio_tokens", "text_tokens", "image_tokens"):
            v = getattr(ptd, name)
            if v is not None and v > p:
                ctx.emit(
                    "OAS028",
                    ctx.pos,
                    f"prompt_tokens_details.{name} {v} > prompt_tokens {p}",
                    minor=True,
                )
    if ctd is not None and comp is not None:
        if (
            reasoning is not None
            and reasoning > comp
            and not ctx.profile.reasoning_outside_completion
        ):
            ctx.emit(
                "OAS028",
                ctx.pos,
                f"reasoning_tokens {reasoning} > completion_tokens {comp}",
                minor=True,
            )
        acc, rej = ctd.accepted_prediction_tokens, ctd.rejected_prediction_tokens
        if acc is not None and rej is not None and acc + rej > comp:
            ctx.emit(
                "OAS028",
                ctx.pos,
                f"accepted + rejected prediction tokens {acc + rej} > completion_tokens {comp}",
                minor=True,
            )
    if ctx.profile.cache_hit_identity and p is not None:
        hit, miss = u.prompt_cache_hit_tokens, u.prompt_cache_miss_tokens
        if hit is not None and miss is not None and hit + miss != p:
            ctx.emit(
                "OAS028",
                ctx.pos,
                f"prompt_cache_hit_tokens {hit} + prompt_cache_miss_tokens "
                f"{miss} != prompt_tokens {p}",
            )
    if ctx.usages:
        prev = ctx.usages[-1][1]
        if (prev.completion_tokens or 0) > (comp or 0):
            ctx.emit(
                "OAS028",
                ctx.pos,
                f"completion_tokens decreased from {prev.completion_tokens} to {comp}",
                minor=True,
            )
