"""The client-impact matrix: what real clients assemble from each fault and each recorded stream.

Drives clients that no one here wrote over (a) every fault of ``chat/faults.py`` applied to a
text, a one-tool-call and a two-tool-call stream (with ``include_usage``), plus a few variants
the fault table has no entry for, and (b) every stream of the shipped corpus replayed as
recorded. Every stream is served by ``OAPIServer`` on 127.0.0.1; clients get dummy keys and
never reach another address (a socket guard refuses it and the cell says so).

Each cell is ``ok`` (the same assembled result as the expected one, field by field), ``raised
<ExceptionType>`` or ``wrong: <field> <got> (expected <value>)``. The expected result of a fault
cell is the clean base stream read as the API reference describes it; of a corpus cell, the
recording read the same way (:func:`reference`). A client is compared only on the fields it
exposes: the ones its clean runs reproduce exactly (listed in the JSON under ``exposed``).

Not part of the installed package. Full run (Python and node clients; writes the pinned JSON
and ``docs/clients.md``)::

    python scripts/client_matrix.py

``--clients`` / ``--only`` restrict the run (and print the JSON instead of writing it),
``--render`` only re-renders the docs from the JSON, ``--refresh-rules`` recomputes the corpus
rows' rules column after a rule change (no client runs). The node clients run in
``scripts/node/matrix.mjs`` (``npm ci`` in ``scripts/node`` first); without node or its
packages they are skipped with the reason.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# LiteLLM must not fetch its model cost map (or anything else) from the internet.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_TELEMETRY", "False")
os.environ["LANGCHAIN_TRACING_V2"] = "false"
os.environ["LANGSMITH_TRACING"] = "false"
for _proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_proxy, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_oapi_stream.chat.builder import Done, build_items, encode_items  # noqa: E402
from pytest_oapi_stream.chat.check import check_chunk_stream  # noqa: E402
from pytest_oapi_stream.chat.faults import FAULTS  # noqa: E402
from pytest_oapi_stream.server import OAPIServer  # noqa: E402

MATRIX = ROOT / "tests" / "data" / "client_matrix.json"
DOC = ROOT / "docs" / "clients.md"
CORPUS = ROOT / "tests" / "data" / "corpus"
SEED = ROOT / "tests" / "data" / "seed"
NODE_DIR = ROOT / "scripts" / "node"
COMMAND = "python scripts/client_matrix.py"

FIELDS = (
    "role",
    "id",
    "model",
    "text",
    "refusal",
    "reasoning",
    "tool_calls",
    "usage",
    "finish_reason",
)
TIMEOUT_S = 2.0  # read timeout of every client: a stalled stream fails a cell in 2 s
MODEL = "gpt-4o-mini"  # what clients ask for
STREAM_MODEL = "gpt-4o-mini-2024-07-18"  # what the streams answer with, as OpenAI does

# ----------------------------------------------------------------------------- loopback guard


class OutsideAddress(ConnectionError):
    """A client tried to reach an address other than loopback: the cell says so."""


OUTSIDE: list[str] = []


def _loopback(host: Any) -> bool:
    if not isinstance(host, str):
        return True  # a UNIX socket path or similar
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """Refuse every connection and name lookup for a non-loopback address while clients run."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if not _loopback(host):
            OUTSIDE.append(str(host))
            raise OutsideAddress(f"blocked: a client tried to reach {host}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if not _loopback(host):
            OUTSIDE.append(str(host))
            raise OutsideAddress(f"blocked: a client tried to reach {host}")
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kw: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode()
        if host is not None and not _loopback(host):
            OUTSIDE.append(str(host))
            raise OutsideAddress(f"blocked: a client tried to resolve {host}")
        return real_getaddrinfo(host, *args, **kw)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo


# ----------------------------------------------------------------------------- the streams


@dataclass
class Source:
    """One row of the matrix: how the server answers, and which rules the stream breaks."""

    key: str
    kind: str  # "fault" | "variant" | "corpus"
    note: str
    serve: Callable[[OAPIServer], None]
    expected: dict[str, Any]
    rules: list[str] = field(default_factory=list)
    skip: str | None = None
    ids: frozenset[str] = frozenset()  # every id in the stream (to spot client-made ones)


BASE_TEXT = "Héllo wörld! How can I help you today?"
WEATHER = {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}
TIME = {"name": "get_time", "arguments": {"timezone": "Europe/Paris"}}
BASES: dict[str, dict[str, Any]] = {
    "text": {"text": BASE_TEXT},
    "tool": {"tool_calls": [WEATHER]},
    "tools2": {"tool_calls": [WEATHER, TIME]},
}
# Clean-only streams that show which fields a client exposes (reasoning, refusal).
CALIBRATION: dict[str, dict[str, Any]] = {
    **BASES,
    "reasoning": {"reasoning": "Let me think about it.", "text": "Hi there!"},
    "refusal": {"refusal": "I can't help with that."},
}

# One value per fault of the table (several for http_status); every fault is tried on every base.
FAULT_CELLS: list[tuple[str, dict[str, Any]]] = [
    ("role_every_delta", {"role_every_delta": True}),
    ("repeat_tool_ids", {"repeat_tool_ids": True}),
    ("tool_index_missing", {"tool_index_missing": True}),
    ("usage_every_chunk", {"usage_every_chunk": True}),
    ("change_id_at=2", {"change_id_at": 2}),
    ("keepalive_comments", {"keepalive_comments": True}),
    ("error_event_at=2", {"error_event_at": 2}),
    ("truncate_after=3", {"truncate_after": 3}),
    ("drop_done", {"drop_done": True}),
    ("crlf", {"crlf": True}),
    ("split_utf8", {"split_utf8": True}),
    ("delay_ms=5", {"delay_ms": 5}),
    ("stall_after=2", {"stall_after": 2}),
    ("disconnect_after_bytes=600", {"disconnect_after_bytes": 600}),
    ("http_status=429", {"http_status": 429, "retry_after": 0.01}),
    ("http_status=500", {"http_status": 500}),
    ("retry_after", {"http_status": 503, "retry_after": 0.01}),
    ("http_status_count=1", {"http_status": 500, "http_status_count": 1}),
]


def _items(base: str) -> list[Any]:
    return build_items(**CALIBRATION[base], usage=True, model=STREAM_MODEL)


def _chunks_of(items: list[Any]) -> list[dict[str, Any]]:
    return [it for it in items if isinstance(it, dict)]


def _sse(items: list[Any]) -> bytes:
    return b"".join(encode_items(items))


def _rules_of_fault(faults: dict[str, Any]) -> list[str]:
    codes: list[str] = []
    for name in faults:
        f = FAULTS[name]
        for code in (f.rule, *f.also):
            if code and code not in codes:
                codes.append(code)
    return codes


# Streams the fault table has no fault for, each a real deviation named in the evidence.
def _variant_bom(items: list[Any]) -> bytes:
    return b"\xef\xbb\xbf" + _sse(items)


def _variant_usage_null_trailer(items: list[Any]) -> list[Any]:
    """OpenAI gpt-5: a `choices: []` chunk with `usage: null` after the usage chunk."""
    chunks = _chunks_of(items)
    trailer = {k: v for k, v in chunks[-1].items() if k not in ("usage", "choices")}
    trailer |= {"choices": [], "usage": None, "moderation": {"flagged": False}}
    return [*items[:-1], trailer, items[-1]]


def _variant_usage_missing(items: list[Any]) -> list[Any]:
    """include_usage asked, the usage chunk never comes (vLLM-swift #19, TGI #2531)."""
    return [it for it in items if not (isinstance(it, dict) and it.get("usage"))]


def _variant_annotations_no_index(items: list[Any]) -> list[Any]:
    """Two deltas with `annotations` entries without `index` (OpenRouter web search)."""
    out = []
    seen = 0
    for it in items:
        if isinstance(it, dict) and seen < 2:
            choices = it.get("choices") or []
            delta = choices[0].get("delta") if choices else None
            if isinstance(delta, dict) and delta.get("content"):
                delta["annotations"] = [
                    {
                        "type": "url_citation",
                        "url_citation": {
                            "url": f"https://example.com/{seen}",
                            "title": f"source {seen}",
                            "start_index": 0,
                            "end_index": 5,
                        },
                    }
                ]
                seen += 1
        out.append(it)
    return out


def _variant_role_missing(items: list[Any]) -> list[Any]:
    """No delta carries a role (a provider that never sends one)."""
    for it in items:
        for ch in (it.get("choices") or []) if isinstance(it, dict) else []:
            if isinstance(ch.get("delta"), dict):
                ch["delta"].pop("role", None)
    return items


def _first_delta_with(items: list[Any], key: str) -> dict[str, Any] | None:
    for it in items:
        if isinstance(it, dict):
            for ch in it.get("choices") or []:
                d = ch.get("delta")
                if isinstance(d, dict) and d.get(key):
                    return d
    return None


def _variant_invalid_utf8(items: list[Any]) -> bytes:
    body = _sse(items)
    at = body.find(b"\xc3")  # the first non-ASCII character of the text: cut it in half
    return body if at < 0 else body[:at] + b"\xff" + body[at + 2 :]


def _variant_event_without_data(items: list[Any]) -> bytes:
    events = encode_items(items)
    return b"".join([events[0], b"event: ping\n\n", *events[1:]])


def _variant_null_payload(items: list[Any]) -> bytes:
    events = encode_items(items)
    return b"".join([events[0], b"data: null\n\n", *events[1:]])


def _variant_choice_index_1(items: list[Any]) -> list[Any]:
    """Choice index 1 where the request asked for n=1 (Foundry Local increments it)."""
    for it in items:
        for ch in (it.get("choices") or []) if isinstance(it, dict) else []:
            ch["index"] = 1
    return items


def _tool_fragments(items: list[Any]) -> list[dict[str, Any]]:
    out = []
    for it in items:
        for ch in (it.get("choices") or []) if isinstance(it, dict) else []:
            d = ch.get("delta")
            if isinstance(d, dict):
                out += [tc for tc in d.get("tool_calls") or [] if isinstance(tc, dict)]
    return out


def _variant_tool_index_gap(items: list[Any]) -> list[Any]:
    """The second call's fragments carry index 2 (a gap)."""
    for tc in _tool_fragments(items):
        if tc.get("index") == 1:
            tc["index"] = 2
    return items


def _variant_tool_first_no_id(items: list[Any]) -> list[Any]:
    """The first fragment of each call has no id."""
    for tc in _tool_fragments(items):
        tc.pop("id", None)
    return items


def _variant_tool_args_invalid(items: list[Any]) -> list[Any]:
    """The first call's arguments end one brace short (not valid JSON)."""
    frags = [tc for tc in _tool_fragments(items) if tc.get("index") == 0]
    for tc in reversed(frags):
        fn = tc.get("function") or {}
        if fn.get("arguments", "").endswith("}"):
            fn["arguments"] = fn["arguments"][:-1]
            break
    return items


def _variant_no_chunks(items: list[Any]) -> list[Any]:
    """Only the terminator: a 200 stream without a single chunk."""
    return [it for it in items if isinstance(it, Done)]


def _variant_finish_twice(items: list[Any]) -> list[Any]:
    """The finish chunk sent twice (OpenRouter's duplicate finish chunk)."""
    chunks = _chunks_of(items)
    finish = next(
        c for c in chunks if any(ch.get("finish_reason") for ch in c.get("choices") or [])
    )
    at = items.index(finish)
    return [*items[: at + 1], finish, *items[at + 1 :]]


VARIANTS: dict[str, tuple[str, list[str], Callable[[list[Any]], Any]]] = {
    "invalid_utf8": ("one invalid UTF-8 byte in the text", ["OAS001"], _variant_invalid_utf8),
    "event_without_data": (
        "an `event: ping` without `data:` after the first event",
        ["OAS006"],
        _variant_event_without_data,
    ),
    "null_payload": ("a `data: null` event after the first", ["OAS007"], _variant_null_payload),
    "choice_index_1": (
        "every choice has index 1 (n=1 asked)",
        ["OAS019", "OAS020"],
        _variant_choice_index_1,
    ),
    "finish_twice": ("the finish chunk sent twice", ["OAS023", "OAS024"], _variant_finish_twice),
    "tool_index_gap": ("the second call has index 2", ["OAS030"], _variant_tool_index_gap),
    "tool_first_no_id": ("no tool-call fragment has an id", ["OAS031"], _variant_tool_first_no_id),
    "tool_args_invalid": (
        "the first call's arguments are not valid JSON",
        ["OAS033"],
        _variant_tool_args_invalid,
    ),
    "no_chunks": ("a 200 stream with only `data: [DONE]`", ["OAS041"], _variant_no_chunks),
    "bom": ("a UTF-8 BOM before the first event", ["OAS001"], _variant_bom),
    "usage_null_trailer": (
        "a `choices: []`, `usage: null` chunk after the usage chunk (gpt-5 moderation)",
        ["OAS026"],
        _variant_usage_null_trailer,
    ),
    "usage_missing": (
        "include_usage asked, no usage chunk",
        ["OAS042"],
        _variant_usage_missing,
    ),
    "annotations_no_index": (
        "two deltas with `annotations` entries that have no `index`",
        ["OAS043"],
        _variant_annotations_no_index,
    ),
    "role_missing": ("no delta carries `role`", ["OAS021"], _variant_role_missing),
}


def build_sources(only: str | None = None) -> list[Source]:
    """Every row of the matrix (``only``: comma-separated keys, or prefixes of keys)."""
    import copy

    sources: list[Source] = []
    for base in CALIBRATION:
        clean = _items(base)
        sources.append(
            Source(
                f"clean@{base}",
                "clean",
                "the base stream, no fault",
                lambda srv, it=clean: srv.serve_sse(_sse(it)),
                reference(_chunks_of(clean)),
            )
        )
    for base in BASES:
        clean = _items(base)
        expected = reference(_chunks_of(clean))
        for label, faults in FAULT_CELLS:
            src = Source(
                f"fault:{label}@{base}",
                "fault",
                ", ".join(f"{k}={v}" for k, v in faults.items()),
                lambda srv, it=clean, f=faults: srv.serve_sse(_sse(it), faults=f),
                expected,
                _rules_of_fault(faults),
            )
            try:  # a fault that cannot apply to this base is not a cell
                with OAPIServer() as probe:
                    probe.serve_sse(_sse(clean), faults=faults)
            except ValueError as exc:
                src.skip = str(exc)
            sources.append(src)
        for name, (note, codes, make) in VARIANTS.items():
            made = make(copy.deepcopy(clean))
            body = made if isinstance(made, bytes) else _sse(made)
            skip = None
            if body == _sse(clean):
                skip = "the variant changes nothing in this base"
            sources.append(
                Source(
                    f"variant:{name}@{base}",
                    "variant",
                    note,
                    lambda srv, b=body: srv.serve_sse(b),
                    expected,
                    codes,
                    skip,
                )
            )
    rules = corpus_rules()
    for path in corpus_files():
        data = path.read_bytes()
        chunks = _chunks_of(_parse_items(data))
        codes = rules[f"corpus:{path.parent.name}/{path.name}"]
        sources.append(
            Source(
                f"corpus:{path.parent.name}/{path.name}",
                "corpus",
                "replayed as recorded",
                lambda srv, b=data: srv.serve_sse(b),
                reference(chunks),
                codes,
                ids=frozenset(_all_ids(chunks)),
            )
        )
    for src in sources:
        src.ids = src.ids | frozenset(_ids_of(src.expected))
    if only:
        # The clean rows stay: they say which fields each client is compared on.
        keys = {s.key for s in sources}
        wanted = only.split(",")
        sources = [
            s
            for s in sources
            if s.kind == "clean"
            or any(o == s.key or (o not in keys and s.key.startswith(o)) for o in wanted)
        ]
    return sources


def _all_ids(chunks: list[dict[str, Any]]) -> list[str]:
    """Every chunk id and tool-call id the stream carries (a client may report any of them)."""
    ids = [c["id"] for c in chunks if isinstance(c.get("id"), str) and c["id"]]
    for tc in _tool_fragments(chunks):
        if isinstance(tc.get("id"), str) and tc["id"]:
            ids.append(tc["id"])
    return ids


def _ids_of(expected: dict[str, Any]) -> list[str]:
    ids = [expected["id"]] if expected.get("id") else []
    return ids + [c["id"] for c in expected.get("tool_calls") or [] if c.get("id")]


GENERATED = "<made by the client>"


def mask_generated(got: dict[str, Any], ids: frozenset[str]) -> dict[str, Any]:
    """Replace ids the client made up (random, so unpinnable) by a marker; an id that starts
    with one from the stream (e.g. a fault's ``-changed`` id) is kept."""

    def made(value: Any) -> bool:
        return isinstance(value, str) and bool(value) and not any(value.startswith(i) for i in ids)

    out = dict(got)
    if made(out.get("id")):
        out["id"] = GENERATED
    calls = out.get("tool_calls")
    if isinstance(calls, list):
        out["tool_calls"] = [
            {**c, "id": GENERATED} if isinstance(c, dict) and made(c.get("id")) else c
            for c in calls
        ]
    return out


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.sse")) + sorted(SEED.glob("*.sse"))


def corpus_rules() -> dict[str, list[str]]:
    """Per corpus row, the rules the checker reports at warn or error under ``openai``."""
    out = {}
    for path in corpus_files():
        report = check_chunk_stream(path.read_bytes(), profile="openai")
        codes = sorted({v.code for v in report.violations if v.severity != "info"})
        out[f"corpus:{path.parent.name}/{path.name}"] = codes
    return out


def _parse_items(data: bytes) -> list[Any]:
    from pytest_oapi_stream.chat.builder import items_from_sse

    try:
        return items_from_sse(data.decode("utf-8", "replace").lstrip("\ufeff"))
    except Exception:  # an unparsable recording still has an (empty) reference
        return []


# ----------------------------------------------------------------------------- the reference


def _parse_args(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def reference(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """What choice 0 of these chunks means, read as the API reference describes the stream.

    role: the first role; id/model: the first non-empty value; text/refusal/reasoning: the
    deltas joined (reasoning from ``reasoning_content``, else ``reasoning``); tool calls by
    ``index`` (a fragment without one opens a call when it has an id or name, else continues
    the last call), name and id from the first fragment that has them, arguments joined and
    parsed; usage: the last non-null usage; finish_reason: the first non-null one.
    """
    out: dict[str, Any] = dict.fromkeys(FIELDS)
    text: list[str] = []
    refusal: list[str] = []
    reasoning: dict[str, list[str]] = {"reasoning_content": [], "reasoning": []}
    calls: dict[Any, dict[str, Any]] = {}
    order: list[Any] = []
    last: Any = None
    for c in chunks:
        if not isinstance(c, dict) or "error" in c:
            continue
        if out["id"] is None and c.get("id"):
            out["id"] = c["id"]
        if out["model"] is None and c.get("model"):
            out["model"] = c["model"]
        if isinstance(c.get("usage"), dict):
            out["usage"] = _usage(c["usage"])
        for ch in c.get("choices") or []:
            if not isinstance(ch, dict) or ch.get("index", 0) != 0:
                continue
            d = ch.get("delta")
            if isinstance(d, dict):
                if out["role"] is None and d.get("role"):
                    out["role"] = d["role"]
                content = d.get("content")
                if isinstance(content, str):
                    text.append(content)
                elif isinstance(content, list):
                    text.extend(
                        p.get("text", "")
                        for p in content
                        if isinstance(p, dict) and p.get("type") == "text"
                    )
                if isinstance(d.get("refusal"), str):
                    refusal.append(d["refusal"])
                for name in reasoning:
                    if isinstance(d.get(name), str):
                        reasoning[name].append(d[name])
                for tc in d.get("tool_calls") or []:
                    if not isinstance(tc, dict):
                        continue
                    fn = tc.get("function") or {}
                    idx = tc.get("index")
                    if not isinstance(idx, int):
                        idx = ("noindex", len(order)) if (tc.get("id") or fn.get("name")) else last
                    if idx is None:
                        continue
                    last = idx
                    entry = calls.get(idx)
                    if entry is None:
                        entry = calls[idx] = {"id": None, "name": None, "arguments": ""}
                        order.append(idx)
                    if entry["id"] is None and tc.get("id"):
                        entry["id"] = tc["id"]
                    if entry["name"] is None and fn.get("name"):
                        entry["name"] = fn["name"]
                    if isinstance(fn.get("arguments"), str):
                        entry["arguments"] += fn["arguments"]
            if out["finish_reason"] is None and ch.get("finish_reason"):
                out["finish_reason"] = ch["finish_reason"]
    out["text"] = "".join(text) or None
    out["refusal"] = "".join(refusal) or None
    out["reasoning"] = "".join(reasoning["reasoning_content"] or reasoning["reasoning"]) or None
    ints = sorted(i for i in order if isinstance(i, int))
    keyed = ints + [i for i in order if not isinstance(i, int)]
    out["tool_calls"] = [
        {
            "id": calls[i]["id"],
            "name": calls[i]["name"],
            "arguments": _parse_args(calls[i]["arguments"]),
        }
        for i in keyed
    ]
    return out


def _usage(u: Any) -> dict[str, Any] | None:
    if u is None:
        return None
    get = u.get if isinstance(u, dict) else lambda k: getattr(u, k, None)
    return {k: get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}


def tool_names(expected: dict[str, Any]) -> list[str]:
    return sorted({c["name"] for c in expected["tool_calls"] or [] if c.get("name")})


def tools_for(names: list[str]) -> list[dict[str, Any]]:
    """Tool definitions that accept whatever the stream calls (clients check names)."""
    return [
        {
            "type": "function",
            "function": {
                "name": n,
                "description": f"the {n} tool",
                "parameters": {"type": "object", "properties": {}, "additionalProperties": True},
            },
        }
        for n in names
    ]


MESSAGES = [{"role": "user", "content": "Hi"}]

# ----------------------------------------------------------------------------- Python clients


def _err(exc: BaseException) -> str:
    return f"raised {type(exc).__name__}"


def _fn_args(text: Any) -> Any:
    return _parse_args(text) if isinstance(text, str) else text


def py_openai_iterate(base_url: str, tools: list[dict[str, Any]]) -> dict[str, Any]:
    """``chat.completions.create(stream=True)`` and the usual loop (tool calls by ``index``)."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="test", max_retries=0, timeout=TIMEOUT_S)
    kw: dict[str, Any] = {"tools": tools} if tools else {}
    stream = client.chat.completions.create(
        model=MODEL,
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
        **kw,
    )
    out: dict[str, Any] = dict.fromkeys(FIELDS)
    text, refusal, reasoning = [], [], []
    calls: dict[Any, dict[str, Any]] = {}
    for chunk in stream:
        out["id"] = out["id"] or chunk.id
        out["model"] = out["model"] or chunk.model
        if chunk.usage:
            out["usage"] = _usage(chunk.usage)
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            d = choice.delta
            if d.role:
                out["role"] = d.role
            if d.content:
                text.append(d.content)
            if d.refusal:
                refusal.append(d.refusal)
            r = getattr(d, "reasoning_content", None) or getattr(d, "reasoning", None)
            if isinstance(r, str):
                reasoning.append(r)
            for tc in d.tool_calls or []:
                entry = calls.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
                if tc.id:
                    entry["id"] = tc.id
                if tc.function and tc.function.name:
                    entry["name"] = tc.function.name
                if tc.function and tc.function.arguments:
                    entry["arguments"] += tc.function.arguments
            if choice.finish_reason:
                out["finish_reason"] = choice.finish_reason
    out["text"] = "".join(text) or None
    out["refusal"] = "".join(refusal) or None
    out["reasoning"] = "".join(reasoning) or None
    out["tool_calls"] = [
        {"id": c["id"], "name": c["name"], "arguments": _fn_args(c["arguments"])}
        for _, c in sorted(calls.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    ]
    return out


def _from_openai_message(final: Any) -> dict[str, Any]:
    choice = next((c for c in final.choices if c.index == 0), None)
    msg = choice.message if choice is not None else None
    extra = (msg.model_extra or {}) if msg is not None else {}
    reasoning = extra.get("reasoning_content") or extra.get("reasoning")
    return {
        "role": msg.role if msg is not None else None,
        "id": final.id,
        "model": final.model,
        "text": (msg.content or None) if msg is not None else None,
        "refusal": (msg.refusal or None) if msg is not None else None,
        "reasoning": reasoning if isinstance(reasoning, str) and reasoning else None,
        "tool_calls": [
            {"id": t.id, "name": t.function.name, "arguments": _fn_args(t.function.arguments)}
            for t in ((msg.tool_calls or []) if msg is not None else [])
        ],
        "usage": _usage(final.usage),
        "finish_reason": choice.finish_reason if choice is not None else None,
    }


def py_openai_stream(base_url: str, tools: list[dict[str, Any]]) -> dict[str, Any]:
    """``chat.completions.stream(...)`` -> ``get_final_completion()``."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="test", max_retries=0, timeout=TIMEOUT_S)
    kw: dict[str, Any] = {"tools": tools} if tools else {}
    with client.chat.completions.stream(
        model=MODEL,
        messages=MESSAGES,  # type: ignore[arg-type]
        stream_options={"include_usage": True},
        **kw,
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    return _from_openai_message(final)


def py_langchain(base_url: str, tools: list[dict[str, Any]]) -> dict[str, Any]:
    """``ChatOpenAI(streaming=True).stream(...)``, the chunks summed."""
    from langchain_openai import ChatOpenAI

    llm: Any = ChatOpenAI(
        model=MODEL,
        base_url=base_url,
        api_key="test",  # type: ignore[arg-type]
        streaming=True,
        stream_usage=True,
        max_retries=0,
        timeout=TIMEOUT_S,
    )
    if tools:
        llm = llm.bind_tools(tools)
    acc: Any = None
    for chunk in llm.stream("Hi"):
        acc = chunk if acc is None else acc + chunk
    if acc is None:
        return dict.fromkeys(FIELDS) | {"tool_calls": []}
    meta = acc.response_metadata or {}
    um = acc.usage_metadata
    content = acc.content if isinstance(acc.content, str) else None
    reasoning = (acc.additional_kwargs or {}).get("reasoning_content")
    return {
        "role": None,
        "id": acc.id,
        "model": meta.get("model_name"),
        "text": content or None,
        "refusal": (acc.additional_kwargs or {}).get("refusal") or None,
        "reasoning": reasoning or None,
        "tool_calls": [
            {"id": t.get("id"), "name": t.get("name"), "arguments": t.get("args")}
            for t in acc.tool_calls
        ]
        + [
            {"id": t.get("id"), "name": t.get("name"), "arguments": _fn_args(t.get("args"))}
            for t in acc.invalid_tool_calls
        ],
        "usage": (
            {
                "prompt_tokens": um.get("input_tokens"),
                "completion_tokens": um.get("output_tokens"),
                "total_tokens": um.get("total_tokens"),
            }
            if um
            else None
        ),
        "finish_reason": meta.get("finish_reason"),
    }


def py_litellm(base_url: str, tools: list[dict[str, Any]]) -> dict[str, Any]:
    """``litellm.completion(stream=True, api_base=...)`` + ``stream_chunk_builder``."""
    import litellm

    litellm.telemetry = False
    litellm.callbacks = []
    litellm.success_callback = []
    litellm.failure_callback = []
    litellm.suppress_debug_info = True
    kw: dict[str, Any] = {"tools": tools} if tools else {}
    resp = litellm.completion(
        model=f"openai/{MODEL}",
        api_base=base_url,
        api_key="test",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
        timeout=TIMEOUT_S,
        max_retries=0,
        num_retries=0,
        **kw,
    )
    chunks = list(resp)
    final = litellm.stream_chunk_builder(chunks, messages=MESSAGES)
    if final is None:
        return dict.fromkeys(FIELDS) | {"tool_calls": []}
    choice = final.choices[0]
    msg = choice.message
    return {
        "role": msg.role,
        "id": final.id,
        "model": final.model,
        "text": msg.content or None,
        "refusal": getattr(msg, "refusal", None) or None,
        "reasoning": getattr(msg, "reasoning_content", None) or None,
        "tool_calls": [
            {"id": t.id, "name": t.function.name, "arguments": _fn_args(t.function.arguments)}
            for t in (msg.tool_calls or [])
        ],
        "usage": _usage(getattr(final, "usage", None)),
        "finish_reason": choice.finish_reason,
    }


PY_CLIENTS: dict[str, tuple[str, str, Callable[[str, list[dict[str, Any]]], dict[str, Any]]]] = {
    "openai-py iterate": ("openai", "create(stream=True), usual loop", py_openai_iterate),
    "openai-py .stream()": ("openai", "stream() -> get_final_completion()", py_openai_stream),
    "langchain": ("langchain-openai", "ChatOpenAI(streaming=True).stream(), summed", py_langchain),
    "litellm": ("litellm", "completion(stream=True) + stream_chunk_builder", py_litellm),
}
NODE_CLIENTS: dict[str, tuple[str, str]] = {
    "openai-node iterate": ("openai", "create({stream: true}), usual loop"),
    "openai-node .stream()": ("openai", "stream() -> finalChatCompletion()"),
    "ai-sdk streamText": ("ai", "streamText + @ai-sdk/openai-compatible"),
}
CLIENT_ORDER = [*PY_CLIENTS, *NODE_CLIENTS]


def _ai_sdk_view(expected: dict[str, Any]) -> dict[str, Any]:
    """The AI SDK streams a refusal as text and ends it with finish reason content-filter
    (``@ai-sdk/openai-compatible``, by design): expect that, not a refusal field."""
    if not expected.get("refusal"):
        return expected
    view = dict(expected)
    view["text"] = (expected.get("text") or "") + expected["refusal"]
    view["refusal"] = None
    if view.get("finish_reason") == "stop":
        view["finish_reason"] = "content_filter"
    return view


# How a client is documented to present the stream's meaning, where it differs by design.
VIEWS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ai-sdk streamText": _ai_sdk_view,
}


def expected_for(client: str, expected: dict[str, Any]) -> dict[str, Any]:
    view = VIEWS.get(client)
    return view(expected) if view is not None else expected


# ----------------------------------------------------------------------------- node clients


class NodeClients:
    """One ``node scripts/node/matrix.mjs`` process fed one job per line."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.skip: str | None = None
        self.versions: dict[str, str] = {}
        node = shutil.which("node")
        if node is None:
            self.skip = "node is not installed"
            return
        if not (NODE_DIR / "node_modules" / "openai").is_dir():
            self.skip = "run `npm ci` in scripts/node first"
            return
        self.proc = subprocess.Popen(
            [node, str(NODE_DIR / "matrix.mjs")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=NODE_DIR,
            env={k: v for k, v in os.environ.items() if "proxy" not in k.lower()},
        )
        hello = self._ask({"hello": True})
        self.versions = hello.get("versions", {})

    def _ask(self, job: dict[str, Any]) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the node client process died")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def run(self, client: str, base_url: str, tools: list[dict[str, Any]]) -> Any:
        answer = self._ask(
            {
                "client": client,
                "base_url": base_url,
                "model": MODEL,
                "tools": tools,
                "timeout_ms": int(TIMEOUT_S * 1000),
                "messages": MESSAGES,
            }
        )
        if "raised" in answer:
            return f"raised {answer['raised']}"
        return answer["result"]

    def close(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(Exception):
                assert self.proc.stdin
                self.proc.stdin.close()
            self.proc.wait(timeout=10)


# ----------------------------------------------------------------------------- comparing


def _short(value: Any, limit: int = 70) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def compare(got: dict[str, Any], expected: dict[str, Any], fields: list[str]) -> str:
    """``ok`` or ``wrong: ...`` naming each differing field (the first three)."""
    diffs = []
    for name in fields:
        g, e = got.get(name) or None, expected.get(name) or None  # "" and [] mean "none"
        if g != e:
            diffs.append(f"{name} {_short(g)} (expected {_short(e)})")
    if not diffs:
        return "ok"
    more = f"; +{len(diffs) - 3} more" if len(diffs) > 3 else ""
    return "wrong: " + "; ".join(diffs[:3]) + more


def exposed_fields(
    clean: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]]
) -> list[str]:
    """The fields a client reproduces exactly on every clean stream (those it is judged on)."""
    return [
        f
        for f in FIELDS
        if all(
            isinstance(clean.get(b), dict) and clean[b].get(f) == expected[b].get(f)
            for b in CALIBRATION
        )
        and any(expected[b].get(f) not in (None, []) for b in CALIBRATION)
    ]


# ----------------------------------------------------------------------------- the run


def run(sources: list[Source], clients: list[str], progress: bool = True) -> dict[str, Any]:
    """Run ``clients`` over ``sources``; the matrix as the JSON structure."""
    node = NodeClients() if any(c in NODE_CLIENTS for c in clients) else None
    raw: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    try:
        with OAPIServer() as server, loopback_only():
            for n, src in enumerate(sources):
                row: dict[str, Any] = {}
                if src.skip is not None:
                    raw[src.key] = dict.fromkeys(clients, "n/a")
                    continue
                tools = tools_for(tool_names(src.expected))
                for client in clients:
                    server.reset()
                    src.serve(server)
                    if client in PY_CLIENTS:
                        try:
                            row[client] = PY_CLIENTS[client][2](server.base_url, tools)
                        except Exception as exc:
                            row[client] = _err(exc)
                    elif node is not None and node.skip:
                        row[client] = f"skipped: {node.skip}"
                    elif node is not None:
                        row[client] = node.run(client, server.base_url, tools)
                raw[src.key] = row
                if progress:
                    print(
                        f"[{n + 1}/{len(sources)} {time.monotonic() - started:5.1f}s] {src.key}",
                        file=sys.stderr,
                    )
    finally:
        if node is not None:
            node.close()
    versions = {
        c: _version(PY_CLIENTS[c][0])
        if c in PY_CLIENTS
        else (
            (node.versions.get(NODE_CLIENTS[c][0]) if node is not None else None) or "not installed"
        )
        for c in clients
    }
    return judge(sources, clients, raw, versions, node.skip if node is not None else None)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def judge(
    sources: list[Source],
    clients: list[str],
    raw: dict[str, dict[str, Any]],
    versions: dict[str, str],
    node_skip: str | None,
) -> dict[str, Any]:
    """Turn the clients' assembled results into cells."""
    expected = {b: reference(_chunks_of(_items(b))) for b in CALIBRATION}
    exposed: dict[str, list[str]] = {}
    for c in clients:
        clean = {b: raw.get(f"clean@{b}", {}).get(c) for b in CALIBRATION}
        mine = {b: expected_for(c, e) for b, e in expected.items()}
        exposed[c] = exposed_fields(clean, mine)  # type: ignore[arg-type]
    cells: dict[str, dict[str, str]] = {}
    for src in sources:
        row = {}
        for c in clients:
            got = raw[src.key].get(c)
            if isinstance(got, str):
                row[c] = got
            elif got is None:
                row[c] = "skipped"
            else:
                got = mask_generated(got, src.ids)
                row[c] = compare(got, expected_for(c, src.expected), exposed[c])
        cells[src.key] = row
    return {
        "generated_by": COMMAND,
        "clients": {
            c: {
                "package": (PY_CLIENTS.get(c) or NODE_CLIENTS[c])[0],
                "version": versions[c],
                "how": (PY_CLIENTS.get(c) or NODE_CLIENTS[c])[1],
                "exposed": exposed[c],
            }
            for c in clients
        },
        "node": node_skip or "ran",
        "outside_attempts": sorted(set(OUTSIDE)),
        "sources": {
            s.key: {"kind": s.kind, "note": s.note, "rules": s.rules}
            | ({"n/a": s.skip} if s.skip else {})
            for s in sources
        },
        "cells": cells,
    }


# ----------------------------------------------------------------------------- rendering


def _cell_md(cell: str) -> str:
    if cell == "ok":
        return "ok"
    if cell.startswith("raised "):
        return f"**raised** `{cell[7:]}`"
    if cell.startswith("wrong: "):
        return "**wrong**: " + cell[7:].replace("|", "\\|")
    return cell.replace("|", "\\|")


def render(data: dict[str, Any]) -> str:
    """``docs/clients.md`` from the matrix JSON."""
    clients = list(data["clients"])
    lines = [
        "# What real clients do with each deviation: the client matrix",
        "",
        f"Generated by `{COMMAND}` (the full run: every fault of the fault table on three",
        "base streams, deviations the table has no fault for, every corpus stream) from",
        "`tests/data/client_matrix.json`, which `tests/chat/test_client_matrix.py`",
        "pins: a client upgrade that changes a cell is a visible diff. CI re-runs the Python",
        "clients over a sample of cells. `--render` re-renders this page from the JSON only.",
        "",
        "Each stream is served by `OAPIServer` on 127.0.0.1 (dummy API keys, retries off, a",
        f"{TIMEOUT_S:g} s read timeout); a socket guard refuses any other address"
        + (
            " (no client tried one)."
            if not data.get("outside_attempts")
            else f" (attempts: {', '.join(data['outside_attempts'])})."
        ),
        "LiteLLM runs with `LITELLM_LOCAL_MODEL_COST_MAP=True`, telemetry and callbacks off;",
        "LangSmith tracing is off. A cell is",
        "",
        "- `ok`: the client assembled the expected result on every field it exposes;",
        "- **raised** `Type`: the client raised (or, for the AI SDK, streamed an `error` part);",
        "- **wrong**: which field differs, what the client got and what was expected.",
        "",
        "A fault that cannot apply to a base stream (the server refuses it) is listed at the end.",
        "Each rule's entry in [rules.md](rules.md) cites the cells that justify its severity.",
        "",
        "The expected result is the stream read as the API reference describes it: role from",
        "the first delta, id and model from the first chunk that has them, text, refusal and",
        "reasoning joined, tool calls keyed by `index` (id and name from their first fragment,",
        "arguments joined and parsed), usage from the last non-null `usage`, the first",
        "non-null `finish_reason`. For a fault cell that is the clean base stream's meaning; for",
        "a corpus cell, the recording's. Choice 0 only.",
        "",
        "## Clients",
        "",
        "| client | package | version | how it reads the stream | fields compared |",
        "|---|---|---|---|---|",
    ]
    for c, info in data["clients"].items():
        lines.append(
            f"| {c} | `{info['package']}` | {info['version']} | {info['how']} | "
            + ", ".join(info["exposed"])
            + " |"
        )
    lines += [
        "",
        "A field a client does not expose, or reports differently on the clean streams, is left",
        "out of that client's comparison: the AI SDK has no role and streams a refusal as text",
        "(finish reason `content-filter`, expected so); LangChain's message id is its own run",
        "id and its role is implied; LiteLLM reports the requested model name rather than the",
        "stream's and estimates usage when the stream has none; openai-node's `.stream()` drops",
        "reasoning fields. Ids a client makes up are shown as `<made by the client>`.",
        "",
        "Run it: Python 3.10+ with `pip install -e '.[dev]'` (openai, langchain-openai,",
        "litellm), node 20+ with `npm ci` in `scripts/node`; then `" + COMMAND + "` (about three",
        "minutes, most of it the stall cells' timeouts).",
        "",
    ]
    if data.get("node") != "ran":
        lines += [f"Node clients skipped: {data['node']}.", ""]
    sections = [
        ("clean", "Clean base streams (each client's baseline)"),
        ("fault", "Faults of the fault table (`pytest_oapi_stream/chat/faults.py`)"),
        ("variant", "Deviations the fault table has no fault for"),
        ("corpus", "The corpus, replayed as recorded (rules: warn/error under `openai`)"),
    ]
    short = {c: c for c in clients}
    for kind, title in sections:
        keys = [k for k, s in data["sources"].items() if s["kind"] == kind and "n/a" not in s]
        if not keys:
            continue
        lines += [f"## {title}", "", "| stream | rules | " + " | ".join(short.values()) + " |"]
        lines.append("|---|---|" + "---|" * len(clients))
        for k in keys:
            src = data["sources"][k]
            name = k.split(":", 1)[-1]
            rules = ", ".join(src["rules"]) or "—"
            cells = [_cell_md(data["cells"][k].get(c, "")) for c in clients]
            lines.append(f"| `{name}` | {rules} | " + " | ".join(cells) + " |")
        lines.append("")
    notes = [(k, why) for k, why in NOTES.items() if k in data["sources"]]
    if notes:
        lines += [
            "## Breakage that no rule names, and why none should",
            "",
            "| stream | why the stream is not at fault |",
            "|---|---|",
        ]
        lines += [f"| `{k.split(':', 1)[-1]}` | {why} |" for k, why in notes]
        lines.append("")
    skipped = [(k, s["n/a"]) for k, s in data["sources"].items() if "n/a" in s]
    if skipped:
        lines += ["## Not applicable", "", "| stream | why the server refuses it |", "|---|---|"]
        lines += [f"| `{k.split(':', 1)[-1]}` | {why} |" for k, why in skipped]
        lines.append("")
    counts = summary(data)
    lines += [
        "## Summary",
        "",
        "| client | ok | raised | wrong | n/a or skipped |",
        "|---|---|---|---|---|",
    ]
    for c in clients:
        k = counts[c]
        lines.append(f"| {c} | {k['ok']} | {k['raised']} | {k['wrong']} | {k['other']} |")
    return "\n".join(lines).rstrip() + "\n"


# Corpus rows where a client raises or goes wrong on a stream that breaks no rule: each
# reviewed, none calls for a rule (a client's design or limit, not the stream's fault).
NOTES: dict[str, str] = {
    "corpus:corpus/openai__gpt-4o_finish-length.sse": (
        "openai-python's `.stream()` raises `LengthFinishReasonError` by design on "
        "`finish_reason: length`"
    ),
    "corpus:corpus/openai__gpt-5-nano_finish-length-empty-answer.sse": (
        "the same `LengthFinishReasonError`, by design"
    ),
    "corpus:corpus/openai__gpt-4o_n3-choices_include-usage.sse": (
        "LangChain and the AI SDK merge the choices of `n=3` into one message: they do not "
        "support `n > 1` streaming"
    ),
    "corpus:corpus/vllm__qwen_named-tool-finish-stop.sse": (
        "LiteLLM rewrites `stop` to `tool_calls`; `stop` is right for a named `tool_choice`"
    ),
}


def summary(data: dict[str, Any]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for c in data["clients"]:
        k = {"ok": 0, "raised": 0, "wrong": 0, "other": 0}
        for row in data["cells"].values():
            cell = row.get(c, "")
            kind = cell.split(" ", 1)[0].rstrip(":")
            k[kind if kind in k else "other"] += 1
        out[c] = k
    return out


def dump(data: dict[str, Any]) -> str:
    """The JSON file: one line per cell row, so a changed cell is a one-line diff."""
    head = {k: v for k, v in data.items() if k not in ("sources", "cells")}
    parts = ["{"]
    for k, v in head.items():
        parts.append(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, sort_keys=False)},")
    parts.append('  "sources": {')
    items = list(data["sources"].items())
    for i, (k, v) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        parts.append(f"    {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}{comma}")
    parts.append("  },")
    parts.append('  "cells": {')
    rows = list(data["cells"].items())
    for i, (k, row) in enumerate(rows):
        comma = "," if i < len(rows) - 1 else ""
        parts.append(f"    {json.dumps(k)}: {{")
        cells = list(row.items())
        for j, (c, cell) in enumerate(cells):
            cc = "," if j < len(cells) - 1 else ""
            parts.append(f"      {json.dumps(c)}: {json.dumps(cell, ensure_ascii=False)}{cc}")
        parts.append(f"    }}{comma}")
    parts.append("  }")
    parts.append("}")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", help="comma-separated client names (default: all)")
    parser.add_argument(
        "--only", help="comma-separated row keys or key prefixes (e.g. fault:drop_done,corpus:)"
    )
    parser.add_argument("--render", action="store_true", help="only re-render docs/clients.md")
    parser.add_argument(
        "--refresh-rules",
        action="store_true",
        help="recompute the rules column of the corpus rows (after a rule change), re-render",
    )
    parser.add_argument("--out", type=Path, default=MATRIX, help="the JSON file to write")
    parser.add_argument("--no-write", action="store_true", help="print the JSON, write nothing")
    args = parser.parse_args(argv)
    if args.render or args.refresh_rules:
        data = json.loads(MATRIX.read_text(encoding="utf-8"))
        if args.refresh_rules:
            for key, rules in corpus_rules().items():
                data["sources"][key]["rules"] = rules
            MATRIX.write_text(dump(data), encoding="utf-8")
        DOC.write_text(render(data), encoding="utf-8")
        return 0
    clients = args.clients.split(",") if args.clients else CLIENT_ORDER
    unknown = [c for c in clients if c not in CLIENT_ORDER]
    if unknown:
        parser.error(f"unknown client {unknown[0]!r}; clients: {', '.join(CLIENT_ORDER)}")
    data = run(build_sources(args.only), clients)
    partial = data["node"] != "ran"
    if args.no_write or args.only or args.clients or (partial and args.out == MATRIX):
        if partial and not (args.no_write or args.only or args.clients):
            print(
                f"node clients skipped ({data['node']}): the pinned {MATRIX.name} is left as "
                "it is; the JSON of this run follows (--out FILE writes it to a file)",
                file=sys.stderr,
            )
        sys.stdout.write(dump(data))
        return 0
    args.out.write_text(dump(data), encoding="utf-8")
    if args.out == MATRIX:
        DOC.write_text(render(data), encoding="utf-8")
    print(f"wrote {args.out}" + (f" and {DOC}" if args.out == MATRIX else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
