"""The fast path changes nothing but speed: the same violations and assembly with it on or off,
on every corpus file, on every edited stream of the rule tests, and on random edits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from resp_streams import CALL, CORPUS, SUMMARY, TEXT, events, sse
from test_response_rules import CASES, Case

from pytest_oapi_stream import check_response_stream
from pytest_oapi_stream.responses import fastpath


@contextmanager
def slow() -> Iterator[None]:
    fastpath.ENABLED = False
    try:
        yield
    finally:
        fastpath.ENABLED = True


def outcome(source: Any, **kw: Any) -> tuple[Any, ...]:
    report = check_response_stream(source, **kw)
    s = report.stream
    assert s is not None
    assembled = [
        (i.id, i.type, i.done, i.text, i.arguments, i.summary, i.reasoning_text) for i in s.output
    ]
    return report.violations, assembled, len(s.events)


def both(source: Any, **kw: Any) -> None:
    fast = outcome(source, **kw)
    with slow():
        assert outcome(source, **kw) == fast


def test_every_check_on_a_delta_is_reviewed_for_the_fast_path() -> None:
    from pytest_oapi_stream.responses.rules import RULES

    for t in fastpath.TYPES:
        codes = {r.code for r in RULES if r.on_chunk and (not r.types or t in r.types)}
        assert codes <= fastpath.COVERED, f"{t}: review {sorted(codes - fastpath.COVERED)}"


def test_the_fast_path_takes_the_deltas() -> None:
    taken = []
    original = fastpath.take

    def spy(ctx: Any, ev: Any) -> bool:
        ok = original(ctx, ev)
        taken.append(ok)
        return ok

    fastpath.take = spy  # type: ignore[assignment]
    try:
        check_response_stream(CORPUS / SUMMARY)
    finally:
        fastpath.take = original  # type: ignore[assignment]
    assert len(taken) > 70 and sum(taken) >= len(taken) - 3


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.sse")), ids=lambda p: p.name)
def test_corpus_same_with_and_without(path: Path) -> None:
    both(path, profile="openai")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.code)
def test_rule_cases_same_with_and_without(case: Case) -> None:
    both(case.make(), profile="openai")


_KEYS = ["sequence_number", "output_index", "content_index", "summary_index", "item_id", "delta"]
_VALUES: list[Any] = [None, 0, 1, 2, 99, "x", "\ufffd", "", -1]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from([TEXT, CALL, SUMMARY]),
    edits=st.lists(
        st.tuples(st.integers(0, 200), st.sampled_from(_KEYS), st.sampled_from(_VALUES)),
        max_size=3,
    ),
    extra=st.booleans(),
)
def test_random_edits_same_with_and_without(
    name: str, edits: list[tuple[int, str, Any]], extra: bool
) -> None:
    evs = events(name)
    for at, key, value in edits:
        evs[at % len(evs)][key] = value
    if extra:
        evs[len(evs) // 2]["x_extra"] = 1
    both(sse(evs), profile="openai")
    both(json.loads(json.dumps(evs)), profile="openai")
