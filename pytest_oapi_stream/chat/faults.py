"""The fault table: named, composable ways a provider's stream goes wrong, as data.

Each ``Fault`` says what it does (``doc``), which rule of the catalog it breaks (``rule``, plus
``also`` for rules it breaks on the way) and how it is applied:

* ``chunk`` faults transform the list of script items (JSON chunks, comments, ``[DONE]``);
* ``bytes`` faults transform the encoded SSE events;
* ``transport`` and ``http`` faults are carried out by ``oapi_server`` while it answers
  (``TransportPlan``): delays, stalls, cut connections, split writes, error statuses.

Faults compose: chunk faults apply in table order, then byte faults, then transport. A fault
whose precondition does not hold (``repeat_tool_ids`` on a stream without tool calls,
``truncate_after=50`` on a 10-chunk stream) raises ``ValueError`` rather than silently testing
nothing.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .script import Comment, Done, Item, error_payload

__all__ = [
    "FAULTS",
    "Fault",
    "FaultNotApplicable",
    "Hint",
    "TransportPlan",
    "apply_byte_faults",
    "apply_chunk_faults",
    "check_transport",
    "has_chunk_faults",
    "normalize_faults",
    "parse_fault_arg",
    "transport_plan",
]

FaultKind = Literal["chunk", "bytes", "transport", "http"]
#: ``flag``: True/False; ``int``: an integer >= 0; ``number``: int or float >= 0;
#: ``status``: an HTTP error status 400-599.
ParamType = Literal["flag", "int", "number", "status"]

ChunkTransform = Callable[[list[Item], Any], list[Item]]
ByteTransform = Callable[[list[bytes], Any], list[bytes]]


@dataclass(frozen=True)
class Fault:
    """One named fault: its kind, parameter type, the rule it breaks, a doc line, its transform."""

    name: str
    kind: FaultKind
    param: ParamType
    rule: str | None
    doc: str
    also: tuple[str, ...] = ()
    chunk_transform: ChunkTransform | None = None
    byte_transform: ByteTransform | None = None


# --------------------------------------------------------------------------- advice


@dataclass(frozen=True)
class Hint:
    """A setting that makes a fault apply: a ``stream()`` keyword and an example value.

    Kept as data so each front end words it in its own terms: ``stream(text='héllo')`` for the
    Python API, ``--text 'héllo'`` for ``oapi-stream serve``.
    """

    param: str
    value: Any

    def python(self) -> str:
        """The hint as a Python call: ``stream(text='héllo wörld')``."""
        return f"stream({self.param}={self.value!r})"


class FaultNotApplicable(ValueError):
    """A fault that cannot apply to this stream (it would silently test nothing).

    ``problem`` says why; ``hint`` (if any) is a setting that would make it apply. ``str()``
    advises in the Python API's terms; ``advice(render)`` lets a front end name its own flags.
    """

    def __init__(self, problem: str, hint: Hint | None = None) -> None:
        self.problem = problem
        self.hint = hint
        super().__init__(self.advice(Hint.python))

    def advice(self, render: Callable[[Hint], str]) -> str:
        """The message with the hint rendered by ``render``."""
        if self.hint is None:
            return self.problem
        return f"{self.problem} (e.g. {render(self.hint)})"


#: Example settings for the advice of faults that need something in the stream.
_UTF8_TEXT = Hint("text", "héllo wörld")
_TOOL_CALLS = Hint("tool_calls", [{"name": "get_weather", "arguments": {"city": "Paris"}}])


# --------------------------------------------------------------------------- helpers


def _chunk_positions(items: list[Item]) -> list[int]:
    """Positions in ``items`` of the JSON payloads, in stream order (chunk 0, 1, ...)."""
    return [i for i, it in enumerate(items) if isinstance(it, dict)]


def _choices(item: Item) -> list[dict[str, Any]]:
    if not isinstance(item, dict):
        return []
    choices = item.get("choices")
    return [c for c in choices if isinstance(c, dict)] if isinstance(choices, list) else []


def _tool_fragments(items: list[Item]) -> list[tuple[int, int, dict[str, Any]]]:
    """(chunk position, choice index, fragment) for every tool-call fragment, in order."""
    out = []
    for pos, it in enumerate(items):
        for ch in _choices(it):
            delta = ch.get("delta")
            calls = delta.get("tool_calls") if isinstance(delta, dict) else None
            for tc in calls or ():
                if isinstance(tc, dict):
                    out.append((pos, ch.get("index", 0), tc))
    return out


def _need_chunk_index(
    name: str, n: int, count: int, *, low: int = 0, high: int | None = None
) -> None:
    top = count if high is None else high
    if not low <= n <= top:
        raise FaultNotApplicable(
            f"fault {name}={n}: the stream has {count} JSON chunks, so {name} must be "
            f"between {low} and {top}"
        )


# --------------------------------------------------------------------------- chunk faults


def _role_every_delta(items: list[Item], _: Any) -> list[Item]:
    changed = 0
    for it in items:
        for ch in _choices(it):
            delta = ch.get("delta")
            if isinstance(delta, dict) and delta.get("role") is None:
                delta["role"] = "assistant"
                changed += 1
    if not changed:
        raise FaultNotApplicable("fault role_every_delta: no delta without a role to add one to")
    return items


def _repeat_tool_ids(items: list[Item], _: Any) -> list[Item]:
    opening: dict[tuple[Any, Any], dict[str, Any]] = {}
    changed = 0
    for _pos, choice, tc in _tool_fragments(items):
        key = (choice, tc.get("index"))
        if tc.get("id"):
            opening[key] = tc
            continue
        first = opening.get(key)
        if first is None:
            continue
        tc["id"] = first["id"]
        tc["type"] = first.get("type", "function")
        fn = tc.setdefault("function", {})
        fn["name"] = (first.get("function") or {}).get("name", "")
        changed += 1
    if not changed:
        raise FaultNotApplicable(
            "fault repeat_tool_ids needs a stream with a tool call spread over several "
            "fragments, from a provider style that does not send whole calls",
            _TOOL_CALLS,
        )
    return items


def _tool_index_missing(items: list[Item], _: Any) -> list[Item]:
    frags = _tool_fragments(items)
    if not frags:
        raise FaultNotApplicable(
            "fault tool_index_missing needs a stream with tool calls", _TOOL_CALLS
        )
    for _pos, _choice, tc in frags:
        tc.pop("index", None)
    return items


def _usage_every_chunk(items: list[Item], _: Any) -> list[Item]:
    final = next(
        (it["usage"] for it in reversed(items) if isinstance(it, dict) and it.get("usage")),
        None,
    )
    prompt = final.get("prompt_tokens", 12) if isinstance(final, dict) else 12
    done = 0
    changed = 0
    for it in items:
        if not isinstance(it, dict) or "error" in it or it.get("usage"):
            continue
        for ch in _choices(it):
            delta = ch.get("delta")
            if isinstance(delta, dict) and any(
                delta.get(k)
                for k in ("content", "refusal", "reasoning_content", "reasoning", "tool_calls")
            ):
                done += 1
        it["usage"] = {
            "prompt_tokens": prompt,
            "completion_tokens": done,
            "total_tokens": prompt + done,
        }
        changed += 1
    if changed < 2:
        raise FaultNotApplicable("fault usage_every_chunk needs a stream with at least two chunks")
    return items


def _change_id_at(items: list[Item], n: int) -> list[Item]:
    pos = _chunk_positions(items)
    _need_chunk_index("change_id_at", n, len(pos), low=1, high=len(pos) - 1)
    for p in pos[n:]:
        chunk = items[p]
        assert isinstance(chunk, dict)
        if "id" in chunk:
            chunk["id"] = f"{chunk['id']}-changed" if chunk["id"] else "chatcmpl-changed"
    return items


def _keepalive_comments(items: list[Item], _: Any) -> list[Item]:
    out: list[Item] = []
    for it in items:
        if isinstance(it, dict):
            out.append(Comment("keep-alive"))
        out.append(it)
    return out


def _error_event_at(items: list[Item], n: int) -> list[Item]:
    pos = _chunk_positions(items)
    _need_chunk_index("error_event_at", n, len(pos))
    cut = pos[n] if n < len(pos) else len(items)
    if n == len(pos):  # after the last chunk: keep what came before the terminator
        cut = next((i for i, it in enumerate(items) if isinstance(it, Done)), len(items))
    return [*items[:cut], error_payload()]


def _truncate_after(items: list[Item], n: int) -> list[Item]:
    pos = _chunk_positions(items)
    _need_chunk_index("truncate_after", n, len(pos))
    cut = pos[n - 1] + 1 if n else 0
    return items[:cut]


def _drop_done(items: list[Item], _: Any) -> list[Item]:
    out: list[Item] = [it for it in items if not isinstance(it, Done)]
    if len(out) == len(items):
        raise FaultNotApplicable("fault drop_done: the stream has no [DONE] to drop")
    return out


# --------------------------------------------------------------------------- byte faults

_EOL = re.compile(rb"\r\n|\r|\n")


def _crlf(events: list[bytes], _: Any) -> list[bytes]:
    return [_EOL.sub(b"\r\n", ev) for ev in events]


# --------------------------------------------------------------------------- the table

_TABLE: tuple[Fault, ...] = (
    Fault(
        "role_every_delta",
        "chunk",
        "flag",
        "OAS021",
        "Repeat role 'assistant' in every delta, as DeepSeek, Ollama and OpenRouter do.",
        chunk_transform=_role_every_delta,
    ),
    Fault(
        "repeat_tool_ids",
        "chunk",
        "flag",
        "OAS032",
        "Repeat id, type and name in every later tool-call fragment (Qwen, DeepSeek).",
        chunk_transform=_repeat_tool_ids,
    ),
    Fault(
        "tool_index_missing",
        "chunk",
        "flag",
        "OAS029",
        "Drop 'index' from every tool-call fragment, as Gemini's compatibility layer does.",
        chunk_transform=_tool_index_missing,
    ),
    Fault(
        "usage_every_chunk",
        "chunk",
        "flag",
        "OAS026",
        "Put a running usage on every chunk (vLLM continuous_usage_stats, SiliconFlow).",
        also=("OAS027",),
        chunk_transform=_usage_every_chunk,
    ),
    Fault(
        "change_id_at",
        "chunk",
        "int",
        "OAS015",
        "From JSON chunk N (0-based) on, chunks carry a different id (LiteLLM, Groq compound).",
        chunk_transform=_change_id_at,
    ),
    Fault(
        "keepalive_comments",
        "chunk",
        "flag",
        "OAS005",
        "Send a ': keep-alive' SSE comment before every chunk, as DeepSeek does while queued.",
        chunk_transform=_keepalive_comments,
    ),
    Fault(
        "error_event_at",
        "chunk",
        "int",
        "OAS038",
        "Replace JSON chunk N and everything after it by an OpenAI error payload; no [DONE].",
        chunk_transform=_error_event_at,
    ),
    Fault(
        "truncate_after",
        "chunk",
        "int",
        "OAS008",
        "Keep only the first N JSON chunks: the stream ends without finish and [DONE].",
        also=("OAS023",),
        chunk_transform=_truncate_after,
    ),
    Fault(
        "drop_done",
        "chunk",
        "flag",
        "OAS008",
        "Leave out the data: [DONE] terminator.",
        chunk_transform=_drop_done,
    ),
    Fault(
        "crlf",
        "bytes",
        "flag",
        "OAS003",
        "End every SSE line with CRLF instead of LF.",
        byte_transform=_crlf,
    ),
    Fault(
        "split_utf8",
        "transport",
        "flag",
        None,
        "Cut writes inside multi-byte UTF-8 characters; the client must reassemble bytes.",
    ),
    Fault(
        "delay_ms",
        "transport",
        "number",
        None,
        "Sleep this many milliseconds before each SSE event (and before a JSON answer).",
    ),
    Fault(
        "stall_after",
        "transport",
        "int",
        None,
        "Stop sending after N data events and hold the connection open (timeout tests).",
    ),
    Fault(
        "disconnect_after_bytes",
        "transport",
        "int",
        None,
        "Close the connection after N bytes of the SSE body, without ending the response.",
        also=("OAS008",),
    ),
    Fault(
        "http_status",
        "http",
        "status",
        "OAS002",
        "Answer with this HTTP error status and an OpenAI-style JSON error body.",
    ),
    Fault(
        "retry_after",
        "http",
        "number",
        None,
        "With http_status: the retry-after header in seconds (default 1 for 429 and 503).",
    ),
    Fault(
        "http_status_count",
        "http",
        "int",
        None,
        "With http_status: fail only the first N requests, then serve normally (retry tests).",
    ),
)

#: Every fault by name, in application order.
FAULTS: Mapping[str, Fault] = {f.name: f for f in _TABLE}


# --------------------------------------------------------------------------- validation


def _bad(name: str, expected: str, value: object) -> ValueError:
    return ValueError(f"fault {name!r} takes {expected}, got {value!r}")


def _check_value(fault: Fault, value: object) -> Any:
    name = fault.name
    if fault.param == "flag":
        if not isinstance(value, bool):
            raise _bad(name, "True or False", value)
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        expected = {
            "int": "an integer >= 0",
            "number": "a number >= 0",
            "status": "an HTTP error status (400-599)",
        }[fault.param]
        raise _bad(name, expected, value)
    if fault.param in ("int", "status") and not isinstance(value, int):
        raise _bad(name, "an integer", value)
    if value < 0:
        raise _bad(name, "a value >= 0", value)
    if fault.param == "status" and not 400 <= value <= 599:
        raise _bad(name, "an HTTP error status (400-599)", value)
    if name == "http_status_count" and value < 1:
        raise _bad(name, "an integer >= 1", value)
    return value


FaultSpec = Mapping[str, Any] | Iterable[str] | None


def normalize_faults(faults: FaultSpec, table: Mapping[str, Fault] | None = None) -> dict[str, Any]:
    """Validate faults given as ``{"name": value}`` or names (``"name"`` / ``"name=value"``).

    Returns the active faults in table order (flags set to False are dropped). Unknown names and
    bad parameter types raise ``ValueError`` naming the fault and listing the valid ones.
    ``table`` is the fault table to validate against (default: the chat ``FAULTS``).
    """
    table = FAULTS if table is None else table
    if faults is None:
        return {}
    given: dict[str, Any] = {}
    if isinstance(faults, Mapping):
        given = dict(faults)
    elif isinstance(faults, str):
        name, value = parse_fault_arg(faults, table)
        given[name] = value
    else:
        for spec in faults:
            if not isinstance(spec, str):
                raise ValueError(f"faults must be names or a mapping, got {spec!r}")
            name, value = parse_fault_arg(spec, table)
            given[name] = value
    unknown = [k for k in given if k not in table]
    if unknown:
        raise ValueError(f"unknown fault {unknown[0]!r}; valid faults: {', '.join(table)}")
    out: dict[str, Any] = {}
    for name, fault in table.items():
        if name in given:
            value = _check_value(fault, given[name])
            if value is not False:
                out[name] = value
    for modifier in ("retry_after", "http_status_count"):
        if modifier in out and "http_status" not in out:
            raise ValueError(f"fault {modifier!r} only applies together with 'http_status'")
    return out


def parse_fault_arg(text: str, table: Mapping[str, Fault] | None = None) -> tuple[str, Any]:
    """``"drop_done"`` -> ("drop_done", True); ``"truncate_after=3"`` -> ("truncate_after", 3).

    The value is parsed by the fault's parameter type (for ``--fault`` on the command line).
    """
    table = FAULTS if table is None else table
    name, sep, raw = text.partition("=")
    name = name.strip()
    fault = table.get(name)
    if fault is None:
        raise ValueError(f"unknown fault {name!r}; valid faults: {', '.join(table)}")
    if not sep:
        if fault.param != "flag":
            raise _bad(name, f"a value ({name}=...)", None)
        return name, True
    raw = raw.strip()
    if fault.param == "flag":
        low = raw.lower()
        if low in ("1", "true", "yes", "on"):
            return name, True
        if low in ("0", "false", "no", "off"):
            return name, False
        raise _bad(name, "true or false", raw)
    try:
        value: int | float = int(raw)
    except ValueError:
        if fault.param != "number":
            raise _bad(name, "an integer", raw) from None
        try:
            value = float(raw)
        except ValueError:
            raise _bad(name, "a number", raw) from None
    return name, _check_value(fault, value)


# --------------------------------------------------------------------------- applying


def apply_chunk_faults(
    items: list[Item], faults: Mapping[str, Any], table: Mapping[str, Fault] | None = None
) -> list[Item]:
    """Apply the chunk faults of (normalized) ``faults``; ``items`` itself is never modified."""
    table = FAULTS if table is None else table
    if not has_chunk_faults(faults, table):
        return list(items)
    out = copy.deepcopy(items)
    for name, value in faults.items():
        fault = table[name]
        if fault.chunk_transform is not None:
            out = fault.chunk_transform(out, value)
    return out


def apply_byte_faults(
    events: list[bytes], faults: Mapping[str, Any], table: Mapping[str, Fault] | None = None
) -> list[bytes]:
    """Apply the byte faults of (normalized) ``faults`` to the encoded SSE events."""
    table = FAULTS if table is None else table
    out = list(events)
    for name, value in faults.items():
        fault = table[name]
        if fault.byte_transform is not None:
            out = fault.byte_transform(out, value)
    return out


def has_chunk_faults(faults: Mapping[str, Any], table: Mapping[str, Fault] | None = None) -> bool:
    """Whether any fault needs the script as items (so an SSE body must be parsed)."""
    table = FAULTS if table is None else table
    return any(table[name].chunk_transform is not None for name in faults)


@dataclass(frozen=True)
class TransportPlan:
    """What the server does while answering: the transport and HTTP faults, resolved."""

    delay_s: float = 0.0
    stall_after: int | None = None
    disconnect_after_bytes: int | None = None
    split_utf8: bool = False
    http_status: int | None = None
    retry_after: float | None = None
    http_status_count: int | None = None


def transport_plan(faults: Mapping[str, Any]) -> TransportPlan:
    """The transport/HTTP part of (normalized) ``faults``."""
    status = faults.get("http_status")
    retry = faults.get("retry_after")
    if status is not None and retry is None and status in (429, 503):
        retry = 1
    return TransportPlan(
        delay_s=float(faults.get("delay_ms", 0)) / 1000.0,
        stall_after=faults.get("stall_after"),
        disconnect_after_bytes=faults.get("disconnect_after_bytes"),
        split_utf8=bool(faults.get("split_utf8", False)),
        http_status=status,
        retry_after=retry,
        http_status_count=faults.get("http_status_count"),
    )


def check_transport(events: list[bytes], faults: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` when a transport fault could not reach the client for these events."""
    if faults.get("split_utf8") and not any(max(ev, default=0) >= 0xC0 for ev in events):
        raise FaultNotApplicable(
            "fault split_utf8 needs a multi-byte character in the stream", _UTF8_TEXT
        )
