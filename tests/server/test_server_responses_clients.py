"""What openai-python does with each Responses fault, over a real loopback socket.

Per fault: ``client.responses.create(stream=True)`` iterated to the end, and
``client.responses.stream(...).get_final_response()``. Each row records whether the client
raises (which exception, which message), returns a wrong or partial result, or survives (then
only the checker notices). docs/server.md's table is this file's table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openai
import pytest

from pytest_oapi_stream.server import OAPIServer

TOOLS = [{"name": "get_weather", "arguments": {"city": "Paris"}}]
RECIPE: dict[str, Any] = {"text": "Hello there friend", "tool_calls": TOOLS}
TEXT = "Hello there friend"
ARGS = '{"city":"Paris"}'


@pytest.fixture(scope="module")
def server() -> Any:
    with OAPIServer() as srv:
        yield srv
        assert srv.errors == []


@dataclass
class Seen:
    """What a client got: events (create) or the final response (stream), or an exception."""

    events: list[Any]
    final: Any = None
    error: BaseException | None = None


def via_create(server: OAPIServer, timeout: float = 5) -> Seen:
    c = openai.OpenAI(base_url=server.base_url, api_key="t", max_retries=0, timeout=timeout)
    got: list[Any] = []
    try:
        for ev in c.responses.create(model="gpt-4o", input="hi", stream=True):
            got.append(ev)
    except Exception as exc:
        return Seen(got, error=exc)
    return Seen(got)


def via_stream(server: OAPIServer, timeout: float = 5, retries: int = 0) -> Seen:
    c = openai.OpenAI(base_url=server.base_url, api_key="t", max_retries=retries, timeout=timeout)
    got: list[Any] = []
    try:
        with c.responses.stream(model="gpt-4o", input="hi") as stream:
            for ev in stream:
                got.append(ev)
            final = stream.get_final_response()
    except Exception as exc:
        return Seen(got, error=exc)
    return Seen(got, final)


def types(seen: Seen) -> list[str | None]:
    return [getattr(ev, "type", None) for ev in seen.events]


def deltas(seen: Seen, etype: str = "response.output_text.delta") -> str:
    return "".join(ev.delta for ev in seen.events if getattr(ev, "type", None) == etype)


def survives(seen: Seen) -> bool:
    """A complete, right answer: the text and the call, status completed."""
    if seen.error is not None:
        return False
    if seen.final is None:
        return types(seen)[-1] == "response.completed" and deltas(seen) == TEXT
    calls = [(o.name, o.arguments) for o in seen.final.output if o.type == "function_call"]
    return (
        seen.final.status == "completed"
        and seen.final.output_text == TEXT
        and calls == [("get_weather", ARGS)]
    )


def raises(kind: type[BaseException], text: str) -> Callable[[Seen], bool]:
    def check(seen: Seen) -> bool:
        return isinstance(seen.error, kind) and text in str(seen.error)

    check.__name__ = f"raises {kind.__name__}: {text}"
    return check


def _done_text_differs(seen: Seen) -> bool:
    done = [ev.text for ev in seen.events if ev.type == "response.output_text.done"]
    return seen.error is None and done != [deltas(seen)] and deltas(seen) == TEXT


def _no_done_for_the_call(seen: Seen) -> bool:
    done_items = [ev.item.type for ev in seen.events if ev.type == "response.output_item.done"]
    return seen.error is None and done_items == ["message"]


def _usage_early(seen: Seen) -> bool:
    early = [ev for ev in seen.events if ev.type == "response.in_progress"]
    return seen.error is None and early[0].response.usage is not None


def _two_completed(seen: Seen) -> bool:
    return types(seen).count("response.completed") == 2


def _ends_quietly_without_terminal(seen: Seen) -> bool:
    return seen.error is None and not {"response.completed", "response.failed"} & set(types(seen))


def _ends_with_response_done(seen: Seen) -> bool:
    return seen.error is None and types(seen)[-1] == "response.done"


def _chat_chunks_as_events(seen: Seen) -> bool:
    # The SDK builds an event per chat chunk without validation: no type, nothing usable.
    return seen.error is None and len(seen.events) > 2 and set(types(seen)) == {None}


NO_COMPLETED = raises(RuntimeError, "Didn't receive a `response.completed` event")
NO_ITEM = raises(RuntimeError, "before receiving its output item")

#: fault, value, what ``create(stream=True)`` iteration shows, what ``stream()`` +
#: ``get_final_response()`` shows.
ROWS: list[tuple[str, Any, Callable[[Seen], bool], Callable[[Seen], bool]]] = [
    ("sequence_gap", 3, survives, survives),
    ("sequence_duplicate", 3, survives, survives),
    ("sequence_reset", 3, survives, survives),
    ("output_index_skip", True, survives, survives),
    ("output_index_out_of_range", True, survives, NO_ITEM),
    ("drop_item_added", True, survives, NO_ITEM),
    ("item_null", True, survives, NO_ITEM),
    ("item_id_other", True, survives, survives),
    ("delta_mismatch", True, _done_text_differs, survives),
    ("drop_last_item_done", True, _no_done_for_the_call, survives),
    (
        "error_event_at",
        2,
        raises(openai.APIError, "The server had an error"),
        raises(openai.APIError, "The server had an error"),
    ),
    ("usage_in_progress", True, _usage_early, survives),
    ("response_done", True, _ends_with_response_done, NO_COMPLETED),
    ("terminal_twice", True, _two_completed, survives),
    ("drop_terminal", True, _ends_quietly_without_terminal, NO_COMPLETED),
    ("truncate_after", 5, _ends_quietly_without_terminal, NO_COMPLETED),
    ("done_appended", True, survives, survives),
    (
        "chat_chunks",
        True,
        _chat_chunks_as_events,
        raises(RuntimeError, "Expected to have received `response.created` before `None`"),
    ),
    ("keepalive_comments", True, survives, survives),
    ("crlf", True, survives, survives),
    ("delay_ms", 1, survives, survives),
    (
        "http_status",
        500,
        raises(openai.InternalServerError, "500"),
        raises(openai.InternalServerError, "500"),
    ),
    (
        "http_status",
        429,
        raises(openai.RateLimitError, "429"),
        raises(openai.RateLimitError, "429"),
    ),
    (
        "disconnect_after_bytes",
        3000,
        raises(openai.APIConnectionError, "Connection error"),
        raises(openai.APIConnectionError, "Connection error"),
    ),
]


@pytest.mark.parametrize(
    ("fault", "value", "on_create", "on_stream"), ROWS, ids=[f"{r[0]}={r[1]}" for r in ROWS]
)
def test_what_the_sdk_does(
    server: OAPIServer,
    fault: str,
    value: Any,
    on_create: Callable[[Seen], bool],
    on_stream: Callable[[Seen], bool],
) -> None:
    server.stream(**RECIPE, faults={fault: value})
    created = via_create(server)
    assert on_create(created), (types(created), created.error)
    streamed = via_stream(server)
    assert on_stream(streamed), (types(streamed), streamed.error, streamed.final)


def test_split_utf8_is_reassembled(server: OAPIServer) -> None:
    server.stream("héllo wörld", faults={"split_utf8": True})
    assert via_stream(server).final.output_text == "héllo wörld"
    assert deltas(via_create(server)) == "héllo wörld"


def test_stall_fires_the_client_timeout(server: OAPIServer) -> None:
    server.stream(**RECIPE, faults={"stall_after": 4})
    seen = via_create(server, timeout=0.5)
    assert isinstance(seen.error, openai.APITimeoutError)
    assert types(seen)[:2] == ["response.created", "response.in_progress"]
    assert isinstance(via_stream(server, timeout=0.5).error, openai.APITimeoutError)


def test_retry_after_lets_the_sdk_retry(server: OAPIServer) -> None:
    server.stream(
        **RECIPE, faults={"http_status": 429, "retry_after": 0.01, "http_status_count": 2}
    )
    assert survives(via_stream(server, retries=2))


def test_async_sdk_raises_on_the_error_event(server: OAPIServer) -> None:
    server.stream(**RECIPE, faults={"error_event_at": 4})

    async def main() -> BaseException | None:
        ac = openai.AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0)
        try:
            async with ac.responses.stream(model="gpt-4o", input="hi") as stream:
                await stream.get_final_response()
        except Exception as exc:
            return exc
        finally:
            await ac.close()
        return None

    assert isinstance(asyncio.run(main()), openai.APIError)


EVENT_ROWS = sorted(
    {(fault, value) for fault, value, *_ in ROWS if fault not in ("http_status", "delay_ms")}
)


@pytest.mark.parametrize(("fault", "value"), EVENT_ROWS)
def test_served_fault_breaks_its_rule_on_the_wire(
    server: OAPIServer, fault: str, value: Any
) -> None:
    import httpx

    from pytest_oapi_stream import SourceError, check_response_stream
    from pytest_oapi_stream.responses.faults import RESPONSE_FAULTS

    server.stream(**RECIPE, faults={fault: value})
    row = RESPONSE_FAULTS[fault]
    body = {"model": "gpt-4o", "input": "hi", "stream": True}
    try:
        with httpx.stream("POST", server.base_url + "/responses", json=body, timeout=5) as r:
            wire = b"".join(r.iter_raw())
    except httpx.HTTPError:  # disconnect_after_bytes: the body stops short
        wire = None
    if fault == "chat_chunks":
        with pytest.raises(SourceError):
            check_response_stream(wire or b"")
        return
    if wire is None:
        assert fault == "disconnect_after_bytes"
        return
    codes = {v.code for v in check_response_stream(wire, profile="openai").violations}
    assert row.rule in codes and codes <= {row.rule, *row.also}
