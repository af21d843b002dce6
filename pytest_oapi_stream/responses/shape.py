"""The shape of a Responses stream, and one sentence per change between two shapes.

A Responses stream's structure is its event sequence: which event types come in which order
(repetition collapsed: forty text deltas and four are the same structure), which output items
it streams and the lifecycle of each (added, deltas, done), their part types, which fields each
event type carries, where usage sits, the terminal event, whether ``event:`` lines name the
events and whether ``data: [DONE]`` ends the stream. Text, ids, timestamps and sequence numbers
become placeholders, so a re-recording of the same structure has the same shape.

Its place is the contracts layer (``contracts/shape.py`` dispatches here for a Responses report
and keeps the placeholders, the document format and the files).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..contracts.shape import _comment_kinds, _flatten, _join_kinds, _kind
from ..core.report import SEVERITY_RANK, Report
from .check import ResponseStream
from .rules import RULES

__all__ = [
    "SURFACE",
    "ResponseShapeBuilder",
    "diff_response_shapes",
    "is_response_shape",
    "response_stream_shape",
]

#: The ``surface`` key of a Responses stream's shape (chat shapes carry none: older files).
SURFACE = "responses"

_RULES_BY_CODE = {r.code: r for r in RULES}
_SOME = " (some)"
_MAX_DEPTH = 8
_MAX_BLOCK = 8
# String values that are structure on the Responses surface, kept as they are.
_ENUM_KEYS = frozenset({"status", "phase", "role", "type", "object", "service_tier", "truncation"})
_TIME_KEYS = frozenset({"created_at", "completed_at"})
_TEXT_KEYS = frozenset({"delta", "text", "arguments", "input", "code", "summary", "logprob"})
# Objects the request defines (tool parameters, JSON schemas, metadata): not the provider's.
_OPAQUE_KEYS = frozenset({"parameters", "schema", "metadata", "input_schema"})
_TERMINALS = ("response.completed", "response.incomplete", "response.failed")


def _value_kind(key: str, value: Any) -> str:
    """The placeholder of one JSON scalar on the Responses surface."""
    if isinstance(value, str) and value:
        if key in _ENUM_KEYS and len(value) <= 40:
            return value
        if key in _TEXT_KEYS:
            return "<text>"
    if key in _TIME_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return "<timestamp>" if value else "<zero>"
    if key == "sequence_number":
        return "<number>"
    return _kind(key, value)


def _flat(raw: Any) -> dict[str, set[str]]:
    """``path -> kinds`` of one event, with the Responses surface's placeholders."""
    out: dict[str, set[str]] = {}
    _flatten(raw, "", "", out, kind=_value_kind, opaque=_OPAQUE_KEYS, max_depth=_MAX_DEPTH)
    return out


def _push(out: list[str], s: str) -> None:
    """Append ``s`` to a collapsed sequence, collapsing again: runs of one entry, then repeated
    blocks of up to :data:`_MAX_BLOCK` entries (three summary parts, each added/delta/done, read
    as one; text deltas around annotations read alike for one annotation or ten). Constant work
    per entry, and the sequence stays as short as the stream's structure."""
    if out and out[-1] == s:
        return
    out.append(s)
    for size in range(2, _MAX_BLOCK + 1):  # the newest block repeats the one before it
        if len(out) >= 2 * size and out[-size:] == out[-2 * size : -size]:
            del out[-size:]
            break


def _collapse(seq: Iterable[str]) -> list[str]:
    """The sequence with repetition collapsed (see :func:`_push`). Linear in the input."""
    out: list[str] = []
    for s in seq:
        _push(out, s)
    return out


def _short(etype: str) -> str:
    return etype.removeprefix("response.")


def _verdicts(report: Report[Any, Any]) -> dict[str, str]:
    """``"OAS119 name" -> fail|warn`` for every rule with a warning or an error (as for chat)."""
    worst: dict[str, int] = {}
    for v in report.violations:
        worst[v.code] = max(worst.get(v.code, 0), SEVERITY_RANK[v.severity])
    out = {}
    for code in sorted(worst):
        if worst[code] < SEVERITY_RANK["warn"]:
            continue
        rule = _RULES_BY_CODE.get(code)
        out[f"{code} {rule.name}" if rule is not None else code] = (
            "fail" if worst[code] >= SEVERITY_RANK["error"] else "warn"
        )
    return out


class ResponseShapeBuilder:
    """The shape of a Responses stream taken one event at a time, keeping only its structure.

    Feed it every event (``add``, the ``observe`` callback of ``check_response_lean``), then
    ``shape(report)``: memory grows with the stream's structure (event types, field paths,
    items), not with its length, so the CLI takes the shape of a file of any size.
    """

    def __init__(self) -> None:
        self.types: list[str] = []
        self.fields: dict[str, dict[str, set[str]]] = {}
        self.counts: dict[str, int] = {}
        self.present: dict[str, dict[str, int]] = {}
        self.items: dict[int, dict[str, Any]] = {}
        self.usage_at: list[str] = []
        self.usage_fields: set[str] = set()
        self.payloads = 0

    def add(self, event: Any) -> None:
        """Take one event (a typed event model) into the shape."""
        raw = event.model_dump(mode="json", exclude_unset=True)
        etype = str(raw.get("type"))
        self.payloads += 1
        _push(self.types, etype)
        flat = _flat(raw)
        self.counts[etype] = self.counts.get(etype, 0) + 1
        into = self.fields.setdefault(etype, {})
        seen = self.present.setdefault(etype, {})
        for path, kinds in flat.items():
            into.setdefault(path, set()).update(kinds)
            seen[path] = seen.get(path, 0) + 1
        resp = raw.get("response")
        if isinstance(resp, dict) and isinstance(resp.get("usage"), dict):
            _push(self.usage_at, etype)
            self.usage_fields.update(
                p[len("response.usage.") :] for p in flat if p.startswith("response.usage.")
            )
        index = raw.get("output_index")
        if isinstance(index, int) and not isinstance(index, bool):
            item = self.items.setdefault(index, {"type": None, "events": [], "parts": []})
            _push(item["events"], _short(etype))
            body = raw.get("item")
            if (
                isinstance(body, dict)
                and isinstance(body.get("type"), str)
                and item["type"] is None
            ):
                item["type"] = body["type"]
            part = raw.get("part")
            kind = part.get("type") if isinstance(part, dict) else None
            if isinstance(kind, str) and (not item["parts"] or item["parts"][-1] != kind):
                item["parts"].append(kind)

    def shape(self, report: Report[Any, Any]) -> dict[str, Any]:
        """The shape: the events taken so far, with the report's verdicts and stream facts."""
        stream = report.stream
        if not isinstance(stream, ResponseStream):
            raise TypeError("a Responses shape takes the report of check_response_stream")
        event_fields = {
            etype: {
                path: _join_kinds(kinds)
                + (_SOME if self.present[etype][path] < self.counts[etype] else "")
                for path, kinds in sorted(paths.items())
            }
            for etype, paths in sorted(self.fields.items())
        }
        named = stream.named_events
        payloads = self.payloads
        return {
            "surface": SURFACE,
            "comments": _comment_kinds(stream.comments),
            "event_names": (
                "all" if payloads and named >= payloads else "none" if not named else "some"
            ),
            "events": list(self.types),
            "extensions": sorted(stream.extensions),
            "fields": event_fields,
            "items": [
                {
                    "type": item["type"] or "<unknown>",
                    "lifecycle": list(item["events"]),
                    **({"parts": item["parts"]} if item["parts"] else {}),
                }
                for _index, item in sorted(self.items.items())
            ],
            "profile": report.profile.name,
            "rules": _verdicts(report),
            "terminal": stream.terminal or "none",
            "terminator": "present" if stream.done else "missing",
            "usage": {
                "fields": sorted(self.usage_fields),
                "placement": list(self.usage_at) or ["none"],
            },
        }


def response_stream_shape(report: Report[Any, Any]) -> dict[str, Any]:
    """The shape of one checked Responses stream: a deterministic, JSON-serialisable dict."""
    stream = report.stream
    if not isinstance(stream, ResponseStream):
        raise TypeError("response_stream_shape takes the report of check_response_stream")
    builder = ResponseShapeBuilder()
    for event in stream.events:
        builder.add(event)
    return builder.shape(report)


def is_response_shape(shape: Mapping[str, Any]) -> bool:
    """True for the shape of a Responses stream (chat shapes carry no ``surface``)."""
    return shape.get("surface") == SURFACE


# --------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------


def _code(names: Iterable[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _item_name(item: Mapping[str, Any]) -> str:
    return f"the {item.get('type', '<unknown>')} item"


def _lifecycle(
    out: list[str], old: Mapping[str, Any], new: Mapping[str, Any], named: set[str]
) -> None:
    """Sentences for one output item present in both recordings (same position); the events
    they name go into ``named`` (the event-type sentences do not repeat them)."""
    name = _item_name(new)
    if old.get("type") != new.get("type"):
        out.append(f"output item {name} was {_item_name(old)} before")
        return
    ol, nl = list(old.get("lifecycle", [])), list(new.get("lifecycle", []))
    gone = [e for e in ol if e not in nl]
    added = [e for e in nl if e not in ol]
    named.update(gone + added)
    for e in gone:
        done = e[: -len(".delta")] + ".done" if e.endswith(".delta") else None
        if done is not None and done in nl:
            what = e[: -len(".delta")].rsplit(".", 1)[-1].removesuffix("_arguments")
            label = "argument" if "arguments" in e else what.replace("_", " ")
            out.append(f"{name} no longer streams {label} deltas, only `{done}`")
        else:
            out.append(f"{name} no longer sends `{e}`")
    for e in added:
        verb = "now streams" if e.endswith(".delta") else "now sends"
        out.append(f"{name} {verb} `{e}`")
    if not gone and not added and ol != nl:
        out.append(f"{name}'s events come in another order: {' -> '.join(nl)}")
    op, np = old.get("parts", []), new.get("parts", [])
    if op != np:
        out.append(f"{name}'s parts are now {_code(np) or 'none'} (was {_code(op) or 'none'})")


def _fields(out: list[str], old: Mapping[str, Any], new: Mapping[str, Any], skip: str) -> None:
    """Field changes of the event types both recordings have (new or gone types are said
    elsewhere); paths under ``skip`` (usage that moved) are the usage sentence's."""
    of, nf = old.get("fields", {}), new.get("fields", {})
    for etype in sorted(set(of) & set(nf)):
        o, n = of[etype], nf[etype]
        gained = _roots([p for p in n if p not in o], o, skip)
        lost = _roots([p for p in o if p not in n], n, skip)
        if gained:
            out.append(f"`{etype}` events now carry {_code(gained)}")
        if lost:
            out.append(f"`{etype}` events no longer carry {_code(lost)}")
        for p in sorted(set(o) & set(n)):
            if o[p] != n[p] and not (skip and p.startswith(skip)):
                out.append(f"`{etype}` `{p}` is now {n[p]} (was {o[p]})")


def _bare(path: str) -> str:
    return path.replace("[]", "")


def _roots(paths: Sequence[str], other: Mapping[str, Any], skip: str) -> list[str]:
    """The shortest prefix of each path that the other side lacks entirely (a new object is
    named once, not leaf by leaf); paths under ``skip`` are left out."""
    there = {_bare(p) for p in other}
    prefixes = {q for p in there for q in _prefixes(p)}
    out: list[str] = []
    for path in paths:
        if skip and path.startswith(skip):
            continue
        root = path
        for prefix in _prefixes(_bare(path)):
            if prefix not in prefixes:
                root = prefix
                break
        if root not in out:
            out.append(root)
    return out


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts) + 1)]


def diff_response_shapes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """One sentence per structural change between two Responses stream shapes."""
    out: list[str] = []
    if old.get("event_names") != new.get("event_names"):
        now = new.get("event_names")
        out.append(
            "events now carry `event:` names"
            if now == "all"
            else "events no longer carry `event:` names"
            if now == "none"
            else "only some events carry `event:` names now"
        )
    if old.get("terminator") != new.get("terminator"):
        out.append(
            "`data: [DONE]` now ends the stream"
            if new.get("terminator") == "present"
            else "`data: [DONE]` no longer ends the stream"
        )
    if old.get("terminal") != new.get("terminal"):
        out.append(
            f"the stream now ends with `{new.get('terminal')}` (was `{old.get('terminal')}`)"
        )
    ou, nu = old.get("usage", {}), new.get("usage", {})
    skip = ""
    if ou.get("placement") != nu.get("placement"):
        skip = "response.usage"
        oplace, nplace = ou.get("placement", []), nu.get("placement", [])
        if nplace == ["none"]:
            out.append(f"usage is no longer sent (was on {_code(oplace)})")
        elif oplace == ["none"]:
            out.append(f"usage now arrives on {_code(nplace)}")
        else:
            out.append(f"usage moved from {_code(oplace)} to {_code(nplace)}")
    if ou.get("fields") != nu.get("fields") and "none" not in (
        *ou.get("placement", []),
        *nu.get("placement", []),
    ):
        gained = [f for f in nu.get("fields", []) if f not in ou.get("fields", [])]
        lost = [f for f in ou.get("fields", []) if f not in nu.get("fields", [])]
        if gained:
            out.append(f"usage now has {_code(gained)}")
        if lost:
            out.append(f"usage no longer has {_code(lost)}")
        skip = "response.usage"
    oi, ni = list(old.get("items", [])), list(new.get("items", []))
    named: set[str] = set()
    if [i.get("type") for i in oi] != [i.get("type") for i in ni] and len(oi) != len(ni):
        out.append(
            f"now {len(ni)} output item(s): {_code(i.get('type', '?') for i in ni) or 'none'} "
            f"(was {len(oi)}: {_code(i.get('type', '?') for i in oi) or 'none'})"
        )
    else:
        for o, n in zip(oi, ni, strict=False):
            _lifecycle(out, o, n, named)
    oe, ne = list(old.get("events", [])), list(new.get("events", []))
    new_types = [t for t in dict.fromkeys(ne) if t not in oe and _short(t) not in named]
    gone_types = [t for t in dict.fromkeys(oe) if t not in ne and _short(t) not in named]
    if new_types:
        out.append(f"new event type(s) {_code(new_types)}")
    if gone_types:
        out.append(f"{_code(gone_types)} no longer sent")
    if oe != ne and not out:
        out.append(f"events come in another order: {' -> '.join(_short(t) for t in ne)}")
    _fields(out, old, new, skip)
    oext, next_ = old.get("extensions", []), new.get("extensions", [])
    if oext != next_:
        if [e for e in next_ if e not in oext]:
            out.append(f"new extension field(s) {_code(e for e in next_ if e not in oext)}")
        if [e for e in oext if e not in next_]:
            out.append(f"extension field(s) {_code(e for e in oext if e not in next_)} gone")
    if old.get("comments") != new.get("comments"):
        out.append(
            f"SSE comments are now {new.get('comments') or 'none'} "
            f"(was {old.get('comments') or 'none'})"
        )
    if old.get("profile") != new.get("profile"):
        out.append(f"judged as profile `{new.get('profile')}` now (was `{old.get('profile')}`)")
    _rule_changes(out, old.get("rules", {}), new.get("rules", {}))
    if not out and dict(old) != dict(new):
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        out.append(f"the stream's structure changed in {_code(keys)}")
    return out


def _rule_changes(out: list[str], old: Mapping[str, str], new: Mapping[str, str]) -> None:
    for rule in sorted(set(old) | set(new)):
        o, n = old.get(rule, "pass"), new.get(rule, "pass")
        if o != n:
            out.append(f"{rule} now {'passes' if n == 'pass' else n + 's'} (was {o})")
