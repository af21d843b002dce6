"""A stream's *shape*: the structure clients depend on, without the values that always change.

Re-recording against a provider after an upgrade changes every id, timestamp and word; what must
not change silently is the structure: which fields each kind of chunk carries, where usage
arrives, how tool calls are fragmented, what the reasoning field is called, which rules pass.
``stream_shape`` reduces one checked stream to that structure as a deterministic,
JSON-serialisable dict; ``render_shape`` writes it as YAML (or JSON) with one fact a line, so a
shape file next to a cassette reads well in a PR diff. ``shape_diff`` turns two shapes into
sentences.

Pure core: no pytest, no vcrpy. Values become typed placeholders (``<id>``, ``<timestamp>``,
``<text>``, ``<number>``, ...); only enumerations (``object``, ``role``, ``type``, finish reasons,
``service_tier``) keep their values.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ..chat.check import ChunkStream, check_chunk_stream
from ..chat.rules import RULES_BY_CODE
from ..core.report import SEVERITY_RANK, Report

__all__ = [
    "SECTIONS",
    "SHAPE_FORMAT",
    "ShapeBuilder",
    "ShapeError",
    "is_shape_path",
    "load_shape",
    "parse_shape",
    "render_shape",
    "shape_document",
    "shape_path_for",
    "stream_shape",
    "write_shape",
]

#: The format tag of a shape document; bumped only when old shape files can no longer compare.
SHAPE_FORMAT = "oapi-stream-shape/1"

#: Chunk sections in stream order: chunk 0, the chunks before the finish, the chunks carrying a
#: ``finish_reason``, and the chunks after every choice has finished (usage, annotations).
SECTIONS: tuple[str, ...] = ("first", "middle", "finish", "after_finish")

#: Suffix of a shape file: ``cassettes/test_x.yaml`` -> ``cassettes/test_x.shape.yaml``.
SHAPE_SUFFIX = ".shape.yaml"

_SOME = " (some)"

# Keys whose string values are enumerations: kept literally (they are the structure).
_ENUM_KEYS = frozenset(
    {"object", "role", "type", "finish_reason", "native_finish_reason", "service_tier"}
)
# Keys whose string values are wording: the model's text, arguments, padding.
_TEXT_KEYS = frozenset(
    {
        "content",
        "refusal",
        "reasoning_content",
        "reasoning",
        "arguments",
        "text",
        "thinking",
        "obfuscation",
        "p",
        "token",
    }
)
_REASONING_FIELDS: tuple[str, ...] = ("reasoning_content", "reasoning", "thinking")
_MAX_DEPTH = 10
_MAX_ENUM_LEN = 40


class ShapeError(ValueError):
    """A shape file that cannot be read or has an unknown format."""


# --------------------------------------------------------------------------------------------
# Values -> placeholders
# --------------------------------------------------------------------------------------------


def _is_id_key(key: str) -> bool:
    return key == "id" or key.endswith("_id") or (key.endswith("Id") and key[:1].islower())


def _kind(key: str, value: Any) -> str:
    """The placeholder a JSON scalar becomes (``key`` is the last object key on its path)."""
    if value is None:
        return "<null>"
    if isinstance(value, bool):
        return "<bool>"
    if isinstance(value, (int, float)):
        if key == "created":
            return "<timestamp>" if value else "<zero>"
        # Not <int> vs <float>: JavaScript servers write 0.0 as 0, so the kind would flap.
        # Integer fields are type-checked by OAS013 and OAS039 anyway.
        return "<number>"
    if isinstance(value, str):
        if value == "":
            return "<empty-str>"
        if key in _ENUM_KEYS and len(value) <= _MAX_ENUM_LEN:
            return value
        if _is_id_key(key):
            return "<id>"
        if key == "model":
            return "<model>"
        if key == "system_fingerprint":
            return "<fingerprint>"
        if key == "name":
            return "<name>"
        if key in _TEXT_KEYS:
            return "<text>"
        return "<str>"
    if isinstance(value, list):
        return "<empty-list>"
    if isinstance(value, dict):
        return "<empty-object>"
    return "<" + type(value).__name__ + ">"  # pragma: no cover - JSON has no other types


_NO_KEYS: frozenset[str] = frozenset()


def _flatten(
    value: Any,
    path: str,
    key: str,
    out: dict[str, set[str]],
    depth: int = 0,
    kind: Callable[[str, Any], str] = _kind,
    opaque: frozenset[str] = _NO_KEYS,
    max_depth: int = _MAX_DEPTH,
) -> None:
    """Collect ``path -> kinds`` for every leaf of a JSON value (list items share ``[]``).

    ``kind`` names a leaf's placeholder (a surface may keep more values as structure);
    an object under a key in ``opaque`` is one ``<object>`` leaf (the request's own schema);
    below ``max_depth`` a value is one leaf.
    """
    if key in opaque and isinstance(value, dict) and value:
        out.setdefault(path, set()).add("<object>")
        return
    if isinstance(value, dict) and value and depth < max_depth:
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            _flatten(v, sub, str(k), out, depth + 1, kind, opaque, max_depth)
        return
    if isinstance(value, list) and value and depth < max_depth:
        for item in value:
            _flatten(item, path + "[]", key, out, depth + 1, kind, opaque, max_depth)
        return
    out.setdefault(path, set()).add(kind(key, value))


def _chunk_fields(raw: Mapping[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    _flatten(raw, "", "", out)
    return out


def _join_kinds(kinds: Iterable[str]) -> str:
    return " | ".join(sorted(set(kinds)))


# --------------------------------------------------------------------------------------------
# The shape of one stream
# --------------------------------------------------------------------------------------------


def _report_of(obj: Report | ChunkStream) -> Report:
    if isinstance(obj, Report):
        return obj
    if isinstance(obj, ChunkStream):
        # Only the chunks are kept: framing rules cannot be judged again, chunk rules can.
        report = check_chunk_stream(list(obj.chunks), profile=obj.profile)
        if report.stream is not None:
            report.stream.comments = list(obj.comments)
            report.stream.done = obj.done
        return report
    raise TypeError(f"stream_shape takes a Report or a ChunkStream, not {type(obj).__name__}")


def stream_shape(obj: Report | ChunkStream) -> dict[str, Any]:
    """The shape of one checked stream: a deterministic, JSON-serialisable dict.

    Pass the ``Report`` of ``check_chunk_stream`` (the rule verdicts then include the framing
    rules); a bare ``ChunkStream`` is checked again from its chunks. The report of a Responses
    stream gets its own shape (``responses/shape.py``: events, items, usage, terminal).
    """
    if isinstance(obj, Report) and _is_responses(obj):
        from ..responses.shape import response_stream_shape

        return response_stream_shape(obj)
    report = _report_of(obj)
    stream = report.stream
    if stream is None:
        raise ValueError("the report has no parsed stream to take the shape of")
    builder = ShapeBuilder()
    for c in stream.chunks:
        builder.add(c)
    return builder.shape(report)


def _is_responses(report: Report) -> bool:
    from ..responses.check import ResponseStream

    return isinstance(report.stream, ResponseStream)


def _comment_kinds(comments: Sequence[str]) -> list[str]:
    """Distinct comment lines with numbers blanked (``keepalive 3/8`` -> ``keepalive <n>/<n>``)."""
    kinds = {re.sub(r"\d+", "<n>", c.strip()) or "<empty>" for c in comments}
    return sorted(kinds)


def _verdicts(report: Report) -> dict[str, str]:
    """``"OAS015 id-constant" -> fail|warn`` for every rule with a warning or an error.

    Info findings are left out: what they report is already a fact of the shape (extension
    fields, comments, reasoning order) or depends on the wording (empty deltas), and would make
    the shape flap between two recordings of one structure.
    """
    worst: dict[str, int] = {}
    for v in report.violations:
        worst[v.code] = max(worst.get(v.code, 0), SEVERITY_RANK[v.severity])
    out = {}
    for code in sorted(worst):
        if worst[code] < SEVERITY_RANK["warn"]:
            continue
        rule = RULES_BY_CODE.get(code)
        label = f"{code} {rule.name}" if rule is not None else code
        out[label] = "fail" if worst[code] >= SEVERITY_RANK["error"] else "warn"
    return out


class _Fields:
    """The field kinds of a group of chunks: ``path -> kinds``, in how many chunks, of how many."""

    __slots__ = ("count", "kinds", "seen")

    def __init__(self) -> None:
        self.kinds: dict[str, set[str]] = {}
        self.seen: dict[str, int] = {}
        self.count = 0

    def add(self, fields: Mapping[str, set[str]]) -> None:
        self.count += 1
        for path, ks in fields.items():
            self.kinds.setdefault(path, set()).update(ks)
            self.seen[path] = self.seen.get(path, 0) + 1

    def merge(self, other: _Fields) -> None:
        self.count += other.count
        for path, ks in other.kinds.items():
            self.kinds.setdefault(path, set()).update(ks)
            self.seen[path] = self.seen.get(path, 0) + other.seen[path]

    def section(self) -> dict[str, str]:
        """``{path: kinds}``; ``(some)`` marks a path missing from some of the chunks."""
        section: dict[str, str] = {}
        for path in sorted(self.kinds):
            ks = self.kinds[path]
            last = path.rsplit(".", 1)[-1]
            if last in _TEXT_KEYS and "<text>" in ks:
                ks = ks - {"<empty-str>"}  # an empty delta among text deltas is wording
            value = _join_kinds(ks)
            if self.seen[path] < self.count:
                value += _SOME
            section[path] = value
        return section


class _Distinct:
    """Whether one envelope value stays the same: absent, constant, changes (every chunk).

    Values are kept only while every value so far differs from the others (the output must
    tell "every chunk" from "changes"), and then only as hashes; after the first repeat, the
    first value alone answers.
    """

    __slots__ = ("all_distinct", "count", "first", "multi")

    def __init__(self) -> None:
        self.count = 0
        self.first: str | None = None
        self.multi = False
        self.all_distinct: set[int] | None = set()

    def add(self, value: Any) -> None:
        if value in (None, "", 0):
            return
        text = json.dumps(value)
        self.count += 1
        if self.first is None:
            self.first = text
        elif not self.multi and text != self.first:
            self.multi = True
        seen = self.all_distinct
        if seen is not None:
            key = hash(text)
            if key in seen:
                self.all_distinct = None
            else:
                seen.add(key)

    def verdict(self) -> str:
        if self.count == 0:
            return "absent"
        if not self.multi:
            return "constant"
        if self.all_distinct is not None and self.count >= 3:
            return "changes-every-chunk"
        return "changes"


class _Placement:
    """Where one kind of usage arrives, relative to the finish chunks (see ``_placement``).

    Whether a chunk comes after every choice finished is only known at the end: chunks since
    the last first finish wait in ``pending`` (as whether they had choices), earlier ones are
    ``settled`` before it.
    """

    __slots__ = ("count", "labels", "pending", "settled")

    def __init__(self) -> None:
        self.count = 0
        self.labels: set[str] = set()
        self.settled: set[bool] = set()
        self.pending: set[bool] = set()

    def add(self, is_finish: bool, has_choices: bool) -> None:
        self.count += 1
        if is_finish:
            self.labels.add("finish-chunk")
        else:
            self.pending.add(has_choices)

    def settle(self) -> None:
        self.settled |= self.pending
        self.pending = set()

    def result(self, chunks: int, all_finished: bool) -> list[str]:
        if not self.count:
            return ["none"]
        if self.count == chunks and self.count > 1:
            return ["every-chunk"]
        labels = set(self.labels)
        for has_choices in self.settled:
            if has_choices:
                labels.add("before-finish")
            else:
                labels.add("separate-chunk-before-finish" if all_finished else "separate-chunk")
        for has_choices in self.pending:
            if has_choices:
                labels.add("after-finish-with-choice" if all_finished else "before-finish")
            else:
                labels.add("separate-chunk")
        return sorted(labels)


class _Repeat:
    """How one key behaves across a tool call's fragments (see ``_repeat_pattern``)."""

    __slots__ = ("all_eq", "all_none", "all_none_or_empty", "first", "later")

    def __init__(self, first: Any) -> None:
        self.first = first
        self.later = 0
        self.all_none = True
        self.all_eq = True
        self.all_none_or_empty = True

    def add(self, value: Any) -> None:
        self.later += 1
        if value is not None:
            self.all_none = False
            if value != "":
                self.all_none_or_empty = False
        if value != self.first:
            self.all_eq = False

    def label(self) -> str:
        first = self.first
        if first is None:
            return "missing"
        if first == "":
            return "empty"
        if not self.later or self.all_none:
            return "first-fragment-only"
        if self.all_eq:
            return "every-fragment"
        if self.all_none_or_empty:
            return "later-fragments-empty"
        return "changes"


class _Call:
    """One tool call's fragment pattern, fragment by fragment."""

    __slots__ = ("any_index", "every_index", "first_args", "frags", "id", "name", "type")

    def __init__(self, frag: Mapping[str, Any]) -> None:
        self.frags = 1
        self.first_args = _first_args(frag)
        has_index = isinstance(frag.get("index"), int)
        self.every_index = has_index
        self.any_index = has_index
        self.id = _Repeat(frag.get("id"))
        self.name = _Repeat(_fn_name(frag))
        self.type = _Repeat(frag.get("type"))

    def add(self, frag: Mapping[str, Any]) -> None:
        self.frags += 1
        has_index = isinstance(frag.get("index"), int)
        self.every_index = self.every_index and has_index
        self.any_index = self.any_index or has_index
        self.id.add(frag.get("id"))
        self.name.add(_fn_name(frag))
        self.type.add(frag.get("type"))


class ShapeBuilder:
    """Takes a stream's chunks one at a time and keeps only what its shape needs.

    ``add`` each chunk in order (a chunk model or its JSON dict), then ``shape(report)``. The
    memory is the shape's own size (field paths, choices, tool calls), not the stream's, so
    the CLI can take the shape of a file of any size (see ``chat.check.check_lean``).
    """

    def __init__(self) -> None:
        self.chunks = 0
        self.first = _Fields()
        self.finish_fields = _Fields()
        self.middle = _Fields()
        self.pending = _Fields()  # since the last first finish: middle or after_finish
        self.choice_ids: set[int] = set()
        self.first_finish: dict[int, tuple[int, Any]] = {}  # choice -> (chunk, reason)
        self.finish_counts: dict[int, int] = {}
        self.per_chunk: set[int] = set()
        self.parts: set[str] = set()
        self.ids = {key: _Distinct() for key in ("created", "id", "model", "system_fingerprint")}
        self.usage_top = _Placement()
        self.usage_groq = _Placement()
        self.usage_fields: dict[str, set[str]] = {}
        self.reasoning_names: set[str] = set()
        self.first_answer: set[int] = set()
        self.interleaved = False
        self.calls: dict[tuple[int, int], _Call] = {}
        self.top_call: dict[int, int] = {}  # choice -> highest call index
        self.several_in_chunk = False

    def add(self, chunk: Any) -> None:
        """Take in the next chunk (a ``ChatCompletionChunk`` or the dict of its JSON)."""
        raw = (
            chunk
            if isinstance(chunk, Mapping)
            else chunk.model_dump(mode="json", exclude_unset=True)
        )
        pos = self.chunks
        self.chunks += 1
        choices = _choices(raw)
        is_finish = False
        new_first_finish = False
        for ch in choices:
            idx = ch.get("index")
            if isinstance(idx, int):
                self.choice_ids.add(idx)
            reason = ch.get("finish_reason")
            if reason is not None:
                is_finish = True
                if isinstance(idx, int):
                    self.finish_counts[idx] = self.finish_counts.get(idx, 0) + 1
                    if idx not in self.first_finish:
                        self.first_finish[idx] = (pos, reason)
                        new_first_finish = True
        if new_first_finish:  # every chunk before this one comes before the last finish
            self.middle.merge(self.pending)
            self.pending = _Fields()
            self.usage_top.settle()
            self.usage_groq.settle()
        fields = _chunk_fields(raw)
        if pos == 0:
            self.first.add(fields)
        elif is_finish:
            self.finish_fields.add(fields)
        else:
            self.pending.add(fields)
        self.per_chunk.add(len(choices))
        for key, acc in self.ids.items():
            acc.add(raw.get(key))
        usage = raw.get("usage")
        if isinstance(usage, dict):
            self.usage_top.add(is_finish, bool(choices))
            _flatten(usage, "", "", self.usage_fields)
        groq = raw.get("x_groq")
        if isinstance(groq, dict) and isinstance(groq.get("usage"), dict):
            self.usage_groq.add(is_finish, bool(choices))
        self._deltas(choices)

    def _deltas(self, choices: list[dict[str, Any]]) -> None:
        in_chunk: set[tuple[int, int]] = set()
        for ch in choices:
            delta = ch.get("delta")
            if not isinstance(delta, dict):
                continue
            if ch.get("logprobs"):
                self.parts.add("logprobs")
            raw_idx = ch.get("index")
            idx = raw_idx if isinstance(raw_idx, int) else -1
            for key in ("content", "refusal", *_REASONING_FIELDS):
                val = delta.get(key)
                if isinstance(val, str) and val:
                    self.parts.add("reasoning" if key in _REASONING_FIELDS else key)
            for name in _REASONING_FIELDS:
                val = delta.get(name)
                if isinstance(val, str) and val:
                    self.reasoning_names.add(name)
                    if idx in self.first_answer:
                        self.interleaved = True
            content = delta.get("content")
            frags = delta.get("tool_calls")
            if (isinstance(content, str) and content) or frags:
                self.first_answer.add(idx)
            if frags:
                self.parts.add("tool_calls")
            if not isinstance(frags, list) or not frags:
                continue
            cidx = raw_idx if isinstance(raw_idx, int) else 0
            for frag in frags:
                if not isinstance(frag, dict):
                    continue
                where = (cidx, self._call_index(cidx, frag))
                call = self.calls.get(where)
                if call is None:
                    self.calls[where] = _Call(frag)
                    top = self.top_call.get(cidx)
                    if top is None or where[1] > top:
                        self.top_call[cidx] = where[1]
                else:
                    call.add(frag)
                in_chunk.add(where)
            self.several_in_chunk |= len(in_chunk) > 1
            in_chunk = set()

    def _call_index(self, cidx: int, frag: Mapping[str, Any]) -> int:
        idx = frag.get("index")
        if isinstance(idx, int):
            return idx
        # No index (Mistral, Gemini): an id or a name opens a call, anything else continues.
        top = self.top_call.get(cidx)
        if top is None:
            return 0
        opens = bool(frag.get("id")) or bool(_fn_name(frag))
        return top + 1 if opens else top

    # -- the shape ------------------------------------------------------------------------

    def _all_finished(self) -> bool:
        return bool(self.first_finish) and not (self.choice_ids - set(self.first_finish))

    def shape(self, report: Report) -> dict[str, Any]:
        """The shape of the chunks taken in, with ``report``'s verdicts and stream facts."""
        stream = report.stream
        if stream is None:
            raise ValueError("the report has no parsed stream to take the shape of")
        shape: dict[str, Any] = {
            "chunks": self.sections(),
            "choices": {
                "count": len(self.choice_ids),
                "parts": sorted(self.parts),
                "per_chunk": sorted(self.per_chunk),
            },
            "comments": _comment_kinds(stream.comments),
            "extensions": sorted(stream.extensions),
            "finish": self.finish(),
            "ids": {key: acc.verdict() for key, acc in self.ids.items()},
            "profile": report.profile.name,
        }
        reasoning = self.reasoning()
        if reasoning:
            shape["reasoning"] = reasoning
        shape["rules"] = _verdicts(report)
        shape["terminator"] = "present" if stream.done else "missing"
        tools = self.tool_calls()
        if tools:
            shape["tool_calls"] = tools
        shape["usage"] = self.usage()
        return shape

    def sections(self) -> dict[str, dict[str, str]]:
        """``section -> {path: kinds}`` for the sections that have chunks (see SECTIONS)."""
        middle = self.middle
        after = self.pending
        if not self._all_finished():
            middle = _Fields()
            middle.merge(self.middle)
            middle.merge(self.pending)
            after = _Fields()
        groups = {
            "first": self.first,
            "middle": middle,
            "finish": self.finish_fields,
            "after_finish": after,
        }
        return {name: groups[name].section() for name in SECTIONS if groups[name].count}

    def finish(self) -> dict[str, Any]:
        """Finish reason of each choice and whether it is sent once, repeated or never."""
        reasons = []
        for idx in sorted(self.choice_ids):
            first = self.first_finish.get(idx)
            reasons.append("none" if first is None else _kind("finish_reason", first[1]))
        counts = self.finish_counts
        sent = {
            "missing" if counts.get(i, 0) == 0 else "once" if counts[i] == 1 else "repeated"
            for i in self.choice_ids
        }
        return {"reasons": reasons, "sent": " + ".join(sorted(sent)) if sent else "missing"}

    def usage(self) -> dict[str, Any]:
        """Where usage arrives (top level and in ``x_groq``), how often, and its fields."""
        done = self._all_finished()
        top = self.usage_top
        out: dict[str, Any] = {
            "fields": {k: _join_kinds(v) for k, v in sorted(self.usage_fields.items()) if k},
            "placement": top.result(self.chunks, done),
            "times": "never"
            if not top.count
            else "once"
            if top.count == 1
            else "every-chunk"
            if top.count == self.chunks
            else "several",
        }
        if self.usage_groq.count:
            out["x_groq"] = self.usage_groq.result(self.chunks, done)
        return out

    def reasoning(self) -> dict[str, str]:
        """The reasoning field's name and whether reasoning all comes before the answer."""
        if not self.reasoning_names:
            return {}
        if self.interleaved:
            order = "interleaved"
        elif not self.first_answer:
            order = "no-answer"
        else:
            order = "before-answer"
        return {"field": " + ".join(sorted(self.reasoning_names)), "order": order}

    def tool_calls(self) -> dict[str, Any]:
        """The fragment pattern: which keys the first and the later fragments of a call carry."""
        calls = self.calls
        if not calls:
            return {}
        per_choice: dict[int, int] = {}
        for cidx, _ in calls:
            per_choice[cidx] = per_choice.get(cidx, 0) + 1
        values = calls.values()
        frag_counts = {"one-per-call" if c.frags == 1 else "several-per-call" for c in values}
        index = {
            "every-fragment"
            if c.every_index
            else "missing"
            if not c.any_index
            else "some-fragments"
            for c in values
        }
        first_args = {c.first_args for c in values if c.frags > 1}
        return {
            "calls": "several" if max(per_choice.values()) > 1 else "one",
            "first_fragment_arguments": " + ".join(sorted(first_args)) or "n/a",
            "fragments": " + ".join(sorted(frag_counts)),
            "id": " + ".join(sorted({c.id.label() for c in values})),
            "index": " + ".join(sorted(index)),
            "name": " + ".join(sorted({c.name.label() for c in values})),
            "several_calls_in_one_chunk": self.several_in_chunk,
            "type": " + ".join(sorted({c.type.label() for c in values})),
        }


def _choices(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    choices = raw.get("choices")
    if not isinstance(choices, list):
        return []
    return [c for c in choices if isinstance(c, dict)]


def _fn_name(frag: Mapping[str, Any]) -> Any:
    fn = frag.get("function")
    return fn.get("name") if isinstance(fn, dict) else None


def _first_args(frag: Mapping[str, Any]) -> str:
    fn = frag.get("function")
    if not isinstance(fn, dict) or "arguments" not in fn:
        return "absent"
    args = fn.get("arguments")
    if args is None:
        return "<null>"
    return "<empty-str>" if args == "" else "<text>"


# --------------------------------------------------------------------------------------------
# Documents, files
# --------------------------------------------------------------------------------------------


def shape_document(shapes: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A shape file's content: the format tag and the shape of each stream, in order."""
    return {"format": SHAPE_FORMAT, "streams": [dict(s) for s in shapes]}


def _as_document(obj: Mapping[str, Any]) -> dict[str, Any]:
    if "streams" in obj and "format" in obj:
        return dict(obj)
    return shape_document([obj])


class _Dumper(yaml.SafeDumper):
    """Block style everywhere, keys kept in the (already canonical) order of the dict."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)  # lists indented under their key


_HEADER = (
    "# Stream shape: the structure of the recorded stream(s), without text, ids or timestamps.\n"
    "# Written by pytest-oapi-stream when recording; a change here is a change in the\n"
    "# provider's stream structure. Compare two with `oapi-stream diff OLD NEW`.\n"
)


def render_shape(obj: Mapping[str, Any], fmt: str = "yaml", *, header: bool = True) -> str:
    """A shape (or a shape document) as YAML or JSON text, one fact a line, stable order."""
    doc = _as_document(obj)
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt != "yaml":
        raise ValueError(f"unknown shape format {fmt!r}: use 'yaml' or 'json'")
    text: str = yaml.dump(
        doc,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,
    )
    return (_HEADER if header else "") + text


def parse_shape(text: str, *, where: str = "shape") -> dict[str, Any]:
    """Read a shape document from YAML or JSON text; ``ShapeError`` when it is not one."""
    try:
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:  # a hand edit: its line and column, as for a cassette
        from ..recording.files import yaml_problem

        raise ShapeError(f"{where}: not valid YAML/JSON {yaml_problem(exc)}") from None
    if not isinstance(doc, dict) or "streams" not in doc:
        raise ShapeError(f"{where}: not a stream shape (no `streams`)")
    if doc.get("format") != SHAPE_FORMAT:
        raise ShapeError(
            f"{where}: shape format {doc.get('format')!r}, this version reads {SHAPE_FORMAT!r}"
        )
    if not isinstance(doc["streams"], list) or not all(isinstance(s, dict) for s in doc["streams"]):
        raise ShapeError(f"{where}: `streams` is not a list of shapes")
    return doc


def load_shape(path: str | os.PathLike[str], *, where: str | None = None) -> dict[str, Any]:
    """Read a shape file (YAML or JSON) into a shape document; ``where`` names it in errors."""
    p = Path(path)
    where = str(p) if where is None else where
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ShapeError(f"{where}: cannot read ({exc})") from None
    return parse_shape(text, where=where)


def shape_path_for(cassette_path: str | os.PathLike[str]) -> Path:
    """Where a cassette's shape file lives: ``dir/test_x.yaml`` -> ``dir/test_x.shape.yaml``."""
    p = Path(cassette_path)
    if is_shape_path(p):
        return p
    stem = p.name[: -len(p.suffix)] if p.suffix in (".yaml", ".yml", ".json", ".sse") else p.name
    return p.with_name(stem + SHAPE_SUFFIX)


def is_shape_path(path: str | os.PathLike[str]) -> bool:
    """True for a shape file's name (so cassette scans and pruning can tell them apart)."""
    return Path(path).name.endswith(SHAPE_SUFFIX)


def write_shape(path: str | os.PathLike[str], obj: Mapping[str, Any]) -> Path:
    """Write a shape document atomically (temporary file in the same folder, then rename).

    ``path`` is the shape file or the cassette it belongs to; returns the file written.
    """
    from ..recording.files import atomic_write_text

    target = shape_path_for(path)
    atomic_write_text(target, render_shape(obj))
    return target
