"""Catalog section C, constancy (OAS015-OAS018): one pass compares every chunk to the first."""

from __future__ import annotations

from ..models import ChatCompletionChunk
from .context import RuleContext


def _constancy_chunk(ctx: RuleContext, c: ChatCompletionChunk) -> None:
    if ctx.is_filter:
        if ctx.pos == 0 and not (c.id and c.model):
            # Azure's prompt-filter prologue is exempt as an envelope, but clients that take
            # the response's id and model from the first chunk get neither (client matrix:
            # the AI SDK on azure__*; [ai-fx-placeholder]).
            ctx.emit(
                "OAS017",
                0,
                "the first chunk (a filter chunk) has an empty model and id; the AI SDK takes "
                "both from it and reports neither",
            )
        return
    ref = ctx.ref
    if ref is None:
        return
    if c.id != ref.id and c.id:
        ctx.tally(
            "OAS015", ctx.pos, f"id {c.id!r} differs from the first chunk's {ref.id!r}", field="id"
        )
    if c.created != ref.created and c.created is not None:
        ctx.tally(
            "OAS016",
            ctx.pos,
            f"created {c.created} differs from the first chunk's {ref.created}",
            field="created",
        )
    if c.model != ref.model and c.model:
        ctx.tally(
            "OAS017",
            ctx.pos,
            f"model {c.model!r} differs from the first chunk's {ref.model!r}",
            field="model",
        )
    fp = c.system_fingerprint
    if fp is not None:
        ctx.fingerprints.add(fp)
    elif ctx.fingerprints:
        ctx.fingerprint_missing += 1  # null or absent after a value: the SDK snapshot loses it
    else:
        ctx.fingerprint_absent += 1
    if (
        c.service_tier is not None
        and ref.service_tier is not None
        and c.service_tier != ref.service_tier
    ):
        ctx.tally(
            "OAS018-tier",
            ctx.pos,
            f"service_tier {c.service_tier!r} differs from {ref.service_tier!r}",
            field="service_tier",
        )


def _id_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS015", "OAS015")


def _created_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS016", "OAS016")


def _model_end(ctx: RuleContext) -> None:
    ctx.flush_tally("OAS017", "OAS017")


def _fingerprint_end(ctx: RuleContext) -> None:
    if ctx.ref is not None and ctx.ref.system_fingerprint is not None:
        ctx.fingerprints.add(ctx.ref.system_fingerprint)
    if len(ctx.fingerprints) > 1:
        values = ", ".join(repr(v) for v in sorted(ctx.fingerprints)[:3])
        ctx.emit(
            "OAS018", None, f"system_fingerprint takes {len(ctx.fingerprints)} values: {values}"
        )
    ctx.flush_tally("OAS018-tier", "OAS018")
    if ctx.fingerprint_missing:
        ctx.emit(
            "OAS018",
            None,
            f"system_fingerprint missing on {ctx.fingerprint_missing} chunk(s) after one "
            "carried it; openai-python overwrites the snapshot's value with None",
            minor=True,
        )
    elif ctx.fingerprints and ctx.fingerprint_absent:
        ctx.emit(
            "OAS018",
            None,
            f"system_fingerprint absent from the first {ctx.fingerprint_absent} chunk(s)",
            minor=True,
        )
