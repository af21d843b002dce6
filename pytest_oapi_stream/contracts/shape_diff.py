"""Compare two stream shapes and say, one sentence per change, what changed in the structure.

``diff_shapes(old, new)`` returns ``[]`` exactly when the shapes are equal; otherwise each
structural change is one sentence ("usage moved from a separate `choices: []` chunk to the finish
chunk", "tool-call ids now repeated in later fragments", "new field `x_foo` on every chunk",
"OAS015 id-constant now fails"). Consequences of a change already named (the usage chunk's fields
when usage moved, the old and new reasoning field when it was renamed) are not repeated.

``check_shape_change`` is what the pytest plugin calls when it re-records a cassette.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.report import Report
from .shape import (
    SECTIONS,
    ShapeError,
    load_shape,
    shape_document,
    shape_path_for,
    stream_shape,
    write_shape,
)

__all__ = [
    "ShapeChange",
    "check_shape_change",
    "compare_with_stored",
    "diff_shapes",
    "diff_stream_shapes",
    "record_shape",
]

_SOME = " (some)"

_USAGE_PLACES = {
    "every-chunk": "every chunk",
    "finish-chunk": "the finish chunk",
    "separate-chunk": "a separate `choices: []` chunk",
    "separate-chunk-before-finish": "a separate `choices: []` chunk before the finish",
    "after-finish-with-choice": "a chunk after the finish that still has a choice",
    "before-finish": "chunks before the finish",
    "none": "nowhere",
}
_USAGE_TIMES = {
    "never": "never",
    "once": "once",
    "several": "several times",
    "every-chunk": "on every chunk",
}
_ID_STATES = {
    "constant": "the same on every chunk",
    "changes": "changing during the stream",
    "changes-every-chunk": "different on every chunk",
    "absent": "absent",
}
_ID_NAMES = {
    "id": "the chunk `id`",
    "created": "`created`",
    "model": "`model`",
    "system_fingerprint": "`system_fingerprint`",
}
_REPEAT = {
    "first-fragment-only": "only in the first fragment",
    "every-fragment": "repeated in later fragments",
    "later-fragments-empty": 'sent as "" in later fragments',
    "missing": "missing",
    "empty": 'empty ("") in the first fragment',
    "changes": "changing between fragments",
}
_INDEX = {
    "every-fragment": "all carry an `index`",
    "missing": "carry no `index`",
    "some-fragments": "carry an `index` only sometimes",
}
_ORDER = {
    "before-answer": "all before the answer",
    "interleaved": "interleaved with the answer",
    "no-answer": "without an answer after it",
}
_FINISH_SENT = {
    "once": "once per choice",
    "repeated": "more than once per choice",
    "missing": "never",
}
_SECTION_WORDS = {
    "first": "the first chunk",
    "middle": "the middle chunks",
    "finish": "the finish chunk",
    "after_finish": "the chunks after the finish",
}
_SECTION_NEW = {
    "first": "any chunk",
    "middle": "chunks between the first and the finish",
    "finish": "a finish chunk",
    "after_finish": "chunks after the finish",
}
_SECTION_SOME = {
    "first": "the first chunk",
    "middle": "some middle chunks",
    "finish": "some finish chunks",
    "after_finish": "some chunks after the finish",
}


def _words(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _pattern(value: str | None, table: Mapping[str, str]) -> str:
    if value is None:
        return "absent"
    return _words([table.get(part, part) for part in value.split(" + ")])


# --------------------------------------------------------------------------------------------
# One stream
# --------------------------------------------------------------------------------------------


@dataclass
class _Diff:
    """Sentences so far and the field paths whose changes they already explain."""

    sentences: list[str] = field(default_factory=list)
    exact: set[str] = field(default_factory=set)
    prefixes: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)

    def say(self, text: str) -> None:
        self.sentences.append(text)

    def explained(self, path: str) -> bool:
        if path in self.exact:
            return True
        if any(path.startswith(c + ".") or path.startswith(c + "[") for c in self.children):
            return True
        return any(
            path == p or path.startswith(p + ".") or path.startswith(p + "[") for p in self.prefixes
        )


def diff_stream_shapes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Sentences naming every structural difference between two single-stream shapes."""
    if old == new:
        return []
    surfaces = (old.get("surface", "chat"), new.get("surface", "chat"))
    if "responses" in surfaces:  # a Responses stream's shape has its own facts
        from ..responses.shape import diff_response_shapes

        if surfaces[0] != surfaces[1]:
            names = {"chat": "a chat completions stream", "responses": "a Responses stream"}
            return [f"the stream is now {names[surfaces[1]]} (was {names[surfaces[0]]})"]
        return diff_response_shapes(old, new)
    # Usage fields are compared in the usage facts; the sections would only repeat them.
    d = _Diff(children=["usage"], prefixes=["x_groq.usage"])
    if old.get("profile") != new.get("profile"):
        d.say(f"profile now `{new.get('profile')}` (was `{old.get('profile')}`)")
    _usage(d, old.get("usage") or {}, new.get("usage") or {})
    _ids(d, old.get("ids") or {}, new.get("ids") or {})
    _tools(d, old.get("tool_calls") or {}, new.get("tool_calls") or {})
    _reasoning(d, old.get("reasoning") or {}, new.get("reasoning") or {})
    _finish(d, old.get("finish") or {}, new.get("finish") or {})
    _choices(d, old, new)
    _sections(d, old.get("chunks") or {}, new.get("chunks") or {})
    _comments(d, old.get("comments") or [], new.get("comments") or [])
    if old.get("terminator") != new.get("terminator"):
        if new.get("terminator") == "missing":
            d.say("the stream no longer ends with `data: [DONE]`")
        else:
            d.say("the stream now ends with `data: [DONE]` (it did not)")
    _rules(d, old.get("rules") or {}, new.get("rules") or {})
    if not d.sentences:
        _fallback(d, old, new)
    return d.sentences


def _usage(d: _Diff, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    if not old and not new:
        return
    op, np = old.get("placement") or ["none"], new.get("placement") or ["none"]
    if op != np:
        d.exact.update({"usage", "choices"})
        was = _words([_USAGE_PLACES.get(p, p) for p in op])
        now = _words([_USAGE_PLACES.get(p, p) for p in np])
        if op == ["none"]:
            d.say(f"usage now sent, on {now} (was not sent)")
        elif np == ["none"]:
            d.say(f"usage no longer sent (was on {was})")
        else:
            d.say(f"usage moved from {was} to {now}")
    elif old.get("times") != new.get("times"):
        d.exact.update({"usage", "choices"})
        d.say(
            f"usage now sent {_USAGE_TIMES.get(str(new.get('times')), new.get('times'))} "
            f"(was {_USAGE_TIMES.get(str(old.get('times')), old.get('times'))})"
        )
    of, nf = old.get("fields") or {}, new.get("fields") or {}
    if op != ["none"] and np != ["none"]:
        added = [k for k in sorted(nf) if k not in of]
        removed = [k for k in sorted(of) if k not in nf]
        if added:
            names = _words([f"`{k}`" for k in added])
            d.say(f"usage has new field{'s' if len(added) > 1 else ''} {names}")
        if removed:
            names = _words([f"`{k}`" for k in removed])
            d.say(f"usage no longer has {names}")
        for k in sorted(set(of) & set(nf)):
            if of[k] != nf[k]:
                d.say(f"usage field `{k}` is now {nf[k]} (was {of[k]})")
    ox, nx = old.get("x_groq"), new.get("x_groq")
    if ox != nx:
        was = _words([_USAGE_PLACES.get(p, p) for p in ox or ["none"]])
        now = _words([_USAGE_PLACES.get(p, p) for p in nx or ["none"]])
        if not ox:
            d.say(f"`x_groq.usage` now sent, on {now} (was not sent)")
        elif not nx:
            d.say(f"`x_groq.usage` no longer sent (was on {was})")
        else:
            d.say(f"`x_groq.usage` moved from {was} to {now}")


def _ids(d: _Diff, old: Mapping[str, str], new: Mapping[str, str]) -> None:
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        if "absent" in (old.get(key), new.get(key)):
            d.exact.add(key)  # its placeholder in the chunk fields changes with it
        name = _ID_NAMES.get(key, f"`{key}`")
        was = _ID_STATES.get(str(old.get(key)), str(old.get(key)))
        now = _ID_STATES.get(str(new.get(key)), str(new.get(key)))
        d.say(f"{name} is now {now} (was {was})")


def _tools(d: _Diff, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    if old == new:
        return
    d.prefixes.append("choices[].delta.tool_calls")
    if not old:
        d.say("the stream now makes tool calls (it made none)")
        return
    if not new:
        d.say("the stream no longer makes tool calls")
        return
    if old.get("fragments") != new.get("fragments"):
        if new.get("fragments") == "one-per-call":
            d.say("tool calls now arrive whole in one fragment (were split over several fragments)")
        elif old.get("fragments") == "one-per-call":
            d.say("tool calls now split over several fragments (each arrived whole in one)")
        else:
            d.say(
                f"tool-call fragmentation now {new.get('fragments')} (was {old.get('fragments')})"
            )
    for key, what, were in (
        ("id", "ids", "were"),
        ("name", "names", "were"),
        ("type", "`type`", "was"),
    ):
        o, n = old.get(key), new.get(key)
        if o == n:
            continue
        if n == "every-fragment":
            d.say(f"tool-call {what} now repeated in later fragments")
        else:
            d.say(f"tool-call {what} now {_pattern(n, _REPEAT)} ({were} {_pattern(o, _REPEAT)})")
    if old.get("index") != new.get("index"):
        d.say(
            f"tool-call fragments now {_pattern(new.get('index'), _INDEX)} "
            f"(before they {_pattern(old.get('index'), _INDEX)})"
        )
    oa, na = old.get("first_fragment_arguments"), new.get("first_fragment_arguments")
    if oa != na and "n/a" not in (oa, na):
        d.say(f"the first tool-call fragment's `arguments` is now {na} (was {oa})")
    if old.get("calls") != new.get("calls"):
        if new.get("calls") == "several":
            d.say("the response now makes several tool calls (it made one)")
        else:
            d.say("the response now makes one tool call (it made several)")
    if old.get("several_calls_in_one_chunk") != new.get("several_calls_in_one_chunk"):
        if new.get("several_calls_in_one_chunk"):
            d.say("fragments of several tool calls now share a chunk")
        else:
            d.say("fragments of several tool calls no longer share a chunk")


def _reasoning(d: _Diff, old: Mapping[str, str], new: Mapping[str, str]) -> None:
    if old == new:
        return
    of, nf = old.get("field"), new.get("field")
    for name in {of, nf} - {None}:
        for part in str(name).split(" + "):
            d.prefixes.extend([f"choices[].delta.{part}", f"choices[].logprobs.{part}"])
    if of != nf:
        if of and nf:
            d.say(f"reasoning field renamed from `{of}` to `{nf}`")
        elif nf:
            d.say(f"reasoning now streamed in `{nf}` (there was none)")
        else:
            d.say(f"reasoning no longer streamed (was in `{of}`)")
    if of and nf and old.get("order") != new.get("order"):
        d.say(
            f"reasoning now comes {_pattern(new.get('order'), _ORDER)} "
            f"(was {_pattern(old.get('order'), _ORDER)})"
        )


def _finish(d: _Diff, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    if old.get("reasons") != new.get("reasons"):
        d.exact.add("choices[].finish_reason")
        was = ", ".join(f"`{r}`" for r in old.get("reasons") or []) or "none"
        now = ", ".join(f"`{r}`" for r in new.get("reasons") or []) or "none"
        d.say(f"finish_reason now {now} (was {was})")
    if old.get("sent") != new.get("sent"):
        d.say(
            f"finish_reason now sent {_pattern(new.get('sent'), _FINISH_SENT)} "
            f"(was {_pattern(old.get('sent'), _FINISH_SENT)})"
        )


def _choices(d: _Diff, old_shape: Mapping[str, Any], new_shape: Mapping[str, Any]) -> None:
    old = old_shape.get("choices") or {}
    new = new_shape.get("choices") or {}
    if old.get("count") != new.get("count"):
        d.say(f"the stream now has {new.get('count')} choice(s) (had {old.get('count')})")
    op, np = old.get("per_chunk") or [], new.get("per_chunk") or []
    usage_moved = "choices" in d.exact
    if op != np and not (usage_moved and set(op) ^ set(np) <= {0}):
        d.say(f"chunks now carry {_counts(np)} choice(s) (carried {_counts(op)})")
    oparts, nparts = set(old.get("parts") or []), set(new.get("parts") or [])
    skip = set()
    if old_shape.get("tool_calls") != new_shape.get("tool_calls"):
        skip.add("tool_calls")
    if old_shape.get("reasoning") != new_shape.get("reasoning"):
        skip.add("reasoning")
    for part in sorted(nparts - oparts - skip):
        d.say(f"the message now also has {part.replace('_', ' ')}")
    for part in sorted(oparts - nparts - skip):
        d.say(f"the message no longer has {part.replace('_', ' ')}")


def _counts(values: Sequence[Any]) -> str:
    """``[0, 1]`` -> ``0 or 1``; no chunks at all -> ``no``."""
    return _words([str(x) for x in values]).replace(" and ", " or ") or "no"


def _comments(d: _Diff, old: Sequence[str], new: Sequence[str]) -> None:
    def show(kind: str) -> str:
        return "`:`" if kind == "<empty>" else f"`: {kind}`"

    added = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    if added:
        lines = _words([show(k) for k in added])
        d.say(f"new SSE comment line{'s' if len(added) > 1 else ''} {lines}")
    if removed:
        d.say(
            f"SSE comment line{'s' if len(removed) > 1 else ''} "
            f"{_words([show(k) for k in removed])} no longer sent"
        )


# -- chunk sections ------------------------------------------------------------------------


def _presence(sections: Mapping[str, Mapping[str, str]], path: str) -> dict[str, str]:
    return {s: sections[s][path] for s in SECTIONS if s in sections and path in sections[s]}


def _where(pres: Mapping[str, str], sections: Mapping[str, Any]) -> str:
    present = [s for s in SECTIONS if s in sections]
    some = {s for s, v in pres.items() if v.endswith(_SOME)}
    if list(pres) == present and not some:
        return "every chunk"
    if present[1:] and list(pres) == present[1:] and not some:
        return "every chunk but the first"
    return _words([(_SECTION_SOME if s in some else _SECTION_WORDS)[s] for s in pres])


def _listed(pres: Mapping[str, str]) -> str:
    some = {s for s, v in pres.items() if v.endswith(_SOME)}
    return _words([(_SECTION_SOME if s in some else _SECTION_WORDS)[s] for s in pres]) or "none"


def _kinds(value: str) -> str:
    return value[: -len(_SOME)] if value.endswith(_SOME) else value


def _prefixes(path: str) -> list[str]:
    """``a[].b.c`` -> ``["a", "a[].b", "a[].b.c"]`` (the object paths that contain it)."""
    out = []
    i = 0
    while i < len(path):
        j = min((k for k in (path.find(".", i), path.find("[]", i)) if k != -1), default=-1)
        if j == -1:
            break
        if j > 0 and path[:j] not in out:
            out.append(path[:j])
        i = j + (2 if path.startswith("[]", j) else 1)
        if path.startswith(".", i):
            i += 1
    out.append(path)
    return out


def _covers(prefix: str, paths: Iterable[str]) -> bool:
    return any(
        p == prefix or p.startswith(prefix + ".") or p.startswith(prefix + "[") for p in paths
    )


def _sections(
    d: _Diff, old: Mapping[str, Mapping[str, str]], new: Mapping[str, Mapping[str, str]]
) -> None:
    if not d.sentences:  # otherwise a section comes or goes because of a change already named
        for s in SECTIONS:
            if s in new and s not in old:
                d.say(f"the stream now has {_SECTION_NEW[s]}")
            elif s in old and s not in new:
                d.say(f"the stream no longer has {_SECTION_NEW[s]}")
    old_paths = {p for sec in old.values() for p in sec}
    new_paths = {p for sec in new.values() for p in sec}
    groups: dict[tuple[str, str], list[str]] = {}
    for path in sorted(old_paths | new_paths):
        if d.explained(path):
            continue
        op, np = _presence(old, path), _presence(new, path)
        if not op or not np:
            side, other = ("added", old_paths) if not op else ("removed", new_paths)
            key = next((p for p in _prefixes(path) if not _covers(p, other)), None)
            if key is not None:
                groups.setdefault((side, key), []).append(path)
                continue
            # The other stream has this object with fields in it: only the bare value is new.
            pres = np or op
            kinds = " | ".join(sorted({_kinds(v) for v in pres.values()}))
            where = _where(pres, new if np else old)
            shown = f"`{path}: null`" if kinds == "<null>" else f"`{path}` as {kinds}"
            if side == "added":
                d.say(f"{shown} now also sent on {where}")
            else:
                d.say(f"{shown} no longer sent (was on {where})")
            continue
        # Sections only one stream has (chunks after the finish that appeared with a usage
        # move, say) are named once below, not once per field they carry.
        opc = {s: v for s, v in op.items() if s in new}
        npc = {s: v for s, v in np.items() if s in old}
        if {s: v.endswith(_SOME) for s, v in opc.items()} != {
            s: v.endswith(_SOME) for s, v in npc.items()
        }:
            wo, wn = _where(op, old), _where(np, new)
            if wo == wn:
                wo, wn = _listed(opc), _listed(npc)
            d.say(f"`{path}` now on {wn} (was on {wo})")
            continue
        changed = [s for s in SECTIONS if s in op and s in np and _kinds(op[s]) != _kinds(np[s])]
        olds = {_kinds(op[s]) for s in changed}
        news = {_kinds(np[s]) for s in changed}
        if changed and len(olds) == 1 and len(news) == 1 and set(changed) == set(op) & set(np):
            d.say(f"`{path}` is now {news.pop()} (was {olds.pop()})")
        else:
            for s in changed:
                d.say(
                    f"`{path}` on {_SECTION_WORDS[s]} is now {_kinds(np[s])} (was {_kinds(op[s])})"
                )
    order = sorted(groups.items(), key=lambda kv: (kv[0][0] != "added", kv[0][1]))
    for (side, key), paths in order:
        secs = new if side == "added" else old
        union: dict[str, str] = {}
        for s in SECTIONS:
            vals = [secs[s][p] for p in paths if s in secs and p in secs[s]]
            if vals:
                union[s] = "x" + (_SOME if all(v.endswith(_SOME) for v in vals) else "")
        where = _where(union, secs)
        if side == "added":
            d.say(f"new field `{key}` on {where}")
        else:
            d.say(f"field `{key}` no longer sent (was on {where})")


# -- rules ---------------------------------------------------------------------------------


def _rules(d: _Diff, old: Mapping[str, str], new: Mapping[str, str]) -> None:
    quiet = bool(d.sentences)
    was_words = {"fail": "failing", "warn": "a warning", "info": "info", "pass": "passing"}
    for label in sorted(set(old) | set(new)):
        o, n = old.get(label, "pass"), new.get(label, "pass")
        if o == n:
            continue
        if quiet and {o, n} <= {"pass", "info"}:
            continue  # an info finding that follows from a change already named
        if n == "fail":
            d.say(f"{label} now fails" + (" (was a warning)" if o == "warn" else ""))
        elif n == "warn":
            d.say(f"{label} now warns" + (" (was failing)" if o == "fail" else ""))
        elif n == "pass":
            d.say(f"{label} now passes (was {was_words.get(o, o)})")
        else:
            d.say(f"{label} now reports info (was {was_words.get(o, o)})")


def _flat(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, Mapping) and value:
        for k, v in value.items():
            _flat(v, f"{prefix}.{k}" if prefix else str(k), out)
    else:
        out[prefix] = json.dumps(value, ensure_ascii=False, sort_keys=True)


def _fallback(d: _Diff, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Name any difference the specific comparisons did not (so a change never goes unsaid)."""
    fo: dict[str, str] = {}
    fn: dict[str, str] = {}
    _flat(old, "", fo)
    _flat(new, "", fn)
    for key in sorted(set(fo) | set(fn)):
        if fo.get(key) != fn.get(key):
            d.say(f"`{key}` is now {fn.get(key, 'absent')} (was {fo.get(key, 'absent')})")


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


def _streams(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "streams" in obj and "format" in obj:
        return list(obj["streams"])
    return [obj]


def diff_shapes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Sentences naming each structural change from ``old`` to ``new``; ``[]`` when equal.

    Each argument is one stream's shape or a shape document (several streams, compared in
    order; sentences then start with ``stream #N:``).
    """
    olds, news = _streams(old), _streams(new)
    out: list[str] = []
    if len(olds) != len(news):
        out.append(f"now {len(news)} streamed response(s) (was {len(olds)})")
    many = max(len(olds), len(news)) > 1
    for i, (o, n) in enumerate(zip(olds, news, strict=False)):
        for sentence in diff_stream_shapes(o, n):
            out.append(f"stream #{i}: {sentence}" if many else sentence)
    return out


# --------------------------------------------------------------------------------------------
# Cassettes: what the plugin calls when it (re-)records
# --------------------------------------------------------------------------------------------


@dataclass
class ShapeChange:
    """The outcome of comparing a new recording's shape with the stored one."""

    path: Path
    """The shape file (``<cassette stem>.shape.yaml``)."""
    sentences: list[str]
    """One sentence per structural change; empty when the shape is the same or new."""
    stored: bool
    """Whether there was anything to compare with (a shape file, or the old cassette)."""
    new: dict[str, Any]
    """The new shape document (what ``write_shape`` writes once accepted)."""
    problem: str | None = None
    """Why the stored shape file cannot be read (``FILE: not valid YAML/JSON at ...``), or None."""

    @property
    def changed(self) -> bool:
        """True when the stream structure differs from the stored one."""
        return bool(self.sentences)

    def write(self) -> Path:
        """Write the new shape file (atomically); call it once the new cassette is saved."""
        return write_shape(self.path, self.new)

    def message(self, accept_hint: str = "--oapi-accept-changes") -> str:
        """A failure message for a test: every sentence, and how to accept the change.

        An unreadable shape file is no change to describe: one line says what is wrong with it
        and where, the next the two ways out. Deleting it makes the old cassette the baseline
        again (the change, if any, is still named); accepting replaces it without comparing.
        """
        if self.problem is not None:
            return (
                f"stored stream shape {self.problem}\n"
                f"The old cassette and shape are unchanged. Delete {self.path.name} to compare "
                "the next recording with the cassette it was made from, or re-record with "
                f"{accept_hint} to replace it unread."
            )
        lines = [f"stream shape changed ({shown(self.path)}):"]
        lines += [f"  - {s}" for s in self.sentences]
        lines.append(
            f"The old cassette and shape are unchanged; re-run with {accept_hint} to accept."
        )
        return "\n".join(lines)


def shown(path: Path) -> str:
    """``path`` as a message shows it: relative to the working folder when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _reports_document(reports: Iterable[Report]) -> dict[str, Any]:
    return shape_document(stream_shape(r) for r in reports if r.stream is not None)


def _stored_document(
    cassette_path: Path, profile: str, ignore: Sequence[str]
) -> dict[str, Any] | None:
    shape_file = shape_path_for(cassette_path)
    if shape_file.is_file():
        return load_shape(shape_file, where=shown(shape_file))
    if cassette_path.is_file() and cassette_path != shape_file:
        # A cassette recorded before shapes existed: its own streams are the baseline.
        from ..recording.files import RecordingError, check_recordings

        try:
            reports = check_recordings(cassette_path, profile=profile, ignore=ignore)
        except RecordingError:
            return None
        return _reports_document(reports)
    return None


def compare_with_stored(
    cassette_path: str | os.PathLike[str],
    new_reports: Iterable[Report],
    *,
    profile: str = "auto",
    ignore: Sequence[str] = (),
) -> ShapeChange:
    """Compare the shape of ``new_reports`` with the cassette's stored shape.

    The baseline is the shape file next to the cassette, else the old cassette itself (checked
    with ``profile`` and ``ignore``, as the new reports were). Reads only; writes nothing.
    """
    path = Path(cassette_path)
    new = _reports_document(new_reports)
    try:
        old = _stored_document(path, profile, ignore)
    except ShapeError as exc:
        return ShapeChange(
            shape_path_for(path), [f"the stored shape is unreadable: {exc}"], True, new, str(exc)
        )
    if old is None:
        return ShapeChange(shape_path_for(path), [], False, new)
    return ShapeChange(shape_path_for(path), diff_shapes(old, new), True, new)


def check_shape_change(
    cassette_path: str | os.PathLike[str],
    new_reports: Iterable[Report],
    *,
    profile: str = "auto",
    ignore: Sequence[str] = (),
) -> list[str]:
    """The sentences of :func:`compare_with_stored` (``[]``: same shape or nothing stored)."""
    return compare_with_stored(cassette_path, new_reports, profile=profile, ignore=ignore).sentences


def record_shape(
    cassette_path: str | os.PathLike[str],
    new_reports: Iterable[Report],
    *,
    accept: bool = False,
    profile: str = "auto",
    ignore: Sequence[str] = (),
) -> ShapeChange:
    """Compare, then write the new shape unless it changed and ``accept`` is false.

    The plugin calls this after a recording, *before* it saves the cassette: when the returned
    change is ``changed and not accept``, it must keep the old cassette and fail the test with
    ``change.message()``.
    """
    change = compare_with_stored(cassette_path, new_reports, profile=profile, ignore=ignore)
    if accept or not change.changed:
        change.write()
    return change
