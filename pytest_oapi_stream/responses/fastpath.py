"""The Responses checker's fast path: recognise the plain delta, for which every check is a no-op.

Most events of a healthy Responses stream are deltas (text, arguments, summary, reasoning text)
into an item and part that are open and of the right type, numbered one after the last event,
with no field outside the reference. Running the dozen per-event checks of ``rules.RULES`` on
each costs more than parsing it, and none of them finds anything. :func:`take` proves that with a
few dict reads and then does the one thing left, feeding the assembler; the driver skips the
checks. Any other event (the first, a lifecycle or done event, a gap in the numbering, an extra
field, U+FFFD, a missing field, an item or part in the wrong state...) goes the long way.

Each condition names the checks it discharges (all run on every delta):

* ``first_type`` set, no terminal yet: OAS111 and OAS114 record nothing;
* the SSE ``event:`` name equals the type (or there is no SSE event: a list of dicts): OAS102,
  OAS103;
* ``sequence_number`` is the last one + 1: OAS106 and OAS107 record nothing (``last_seq`` moves
  on, as ``_seq_increasing`` would move it);
* no extension field: OAS110; the type is known: OAS108;
* every required field of the type present with its JSON type: OAS109; no U+FFFD: OAS040;
* the item at ``output_index`` was added, is not done, has this ``item_id`` and the type the
  family targets: OAS123, OAS125, OAS126;
* the part (content or summary) was added, is not closed, its ``.done`` has not come, and it has
  the family's part type: OAS131, OAS133, OAS134.

``tests/responses/test_response_fastpath.py`` checks the corpus and edited streams with the fast
path on and off: same violations, same assembly.
"""

from __future__ import annotations

from typing import Any

from .rules import ResponseContext

__all__ = ["COVERED", "ENABLED", "TYPES", "take"]

#: Switch for the differential test.
ENABLED = True

_TEXT = "response.output_text.delta"
_REFUSAL = "response.refusal.delta"
_REASONING = "response.reasoning_text.delta"
_SUMMARY = "response.reasoning_summary_text.delta"
_ARGS = "response.function_call_arguments.delta"

#: Delta type -> (item type, part type or None for an item-level text, part map attribute).
_FAMILIES: dict[str, tuple[str, str | None, str]] = {
    _TEXT: ("message", "output_text", "parts"),
    _REFUSAL: ("message", "refusal", "parts"),
    _REASONING: ("reasoning", "reasoning_text", "parts"),
    _SUMMARY: ("reasoning", "summary_text", "summaries"),
    _ARGS: ("function_call", None, ""),
}
TYPES = frozenset(_FAMILIES)
#: The rules whose per-event checks :func:`take` discharges (a new check on a delta type must be
#: reviewed here first; the test suite compares this with the table).
COVERED = frozenset(
    {
        "OAS040",
        "OAS102",
        "OAS103",
        "OAS106",
        "OAS107",
        "OAS108",
        "OAS109",
        "OAS110",
        "OAS111",
        "OAS114",
        "OAS123",
        "OAS131",
        "OAS134",
    }
)


def take(ctx: ResponseContext, ev: Any) -> bool:
    """Whether ``ev`` is a plain delta; if so, it is taken into the assembly here."""
    if ctx.first_type is None or ctx.terminals or ev.__pydantic_extra__:
        return False
    d = ev.__dict__
    seq = d["sequence_number"]
    last = ctx.last_seq
    if seq is None or last is None or seq != last + 1:
        return False
    t = d["type"]
    sse = ctx.sse
    if sse is not None and sse.event != t:
        return False
    item_type, part_type, where = _FAMILIES[t]
    delta = d["delta"]
    item_id = d["item_id"]
    if type(delta) is not str or "\ufffd" in delta or item_id is None:
        return False
    item = ctx.asm.items.get(d["output_index"])
    if (
        item is None
        or not item.added
        or item.done_count
        or item.id != item_id
        or item.type != item_type
    ):
        return False
    if part_type is None:
        ctx.last_seq = seq
        item.pieces.add(delta)
        item.deltas += 1
        return True
    if t is _SUMMARY or t == _SUMMARY:
        index = d["summary_index"]
    else:
        index = d["content_index"]
        if t == _TEXT and d["logprobs"] is None:
            return False
    part = getattr(item, where).get(index)
    if (
        part is None
        or not part.added
        or part.closed
        or part.text_done
        or part.type != part_type
        or index is None
    ):
        return False
    ctx.last_seq = seq
    part.pieces.add(delta)
    part.deltas += 1
    return True
