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
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ..chat.check import ChunkStream, check_chunk_stream
from ..chat.rules import RULES_BY_CODE
from ..core.report import SEVERITY_RANK, Report

__all__ = [
    "SECTIONS",
    "SHAPE_FORMAT",
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


def _flatten(value: Any, path: str, key: str, out: dict[str, set[str]], depth: int = 0) -> None:
    """Collect ``path -> kinds`` for every leaf of a JSON value (list items share ``[]``)."""
    if isinstance(value, dict) and value and depth < _MAX_DEPTH:
        for k, v in value.items():
            _flatten(v, f"{path}.{k}" if path else str(k), str(k), out, depth + 1)
        return
    if isinstance(value, list) and value and depth < _MAX_DEPTH:
        for item in value:
            _flatten(item, path + "[]", key, out, depth + 1)
        return
    out.setdefault(path, set()).add(_kind(key, value))


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
    rules); a bare ``ChunkStream`` is checked again from its chunks.
    """
    report = _report_of(obj)
    stream = report.stream
    if stream is None:
        raise ValueError("the report has no parsed stream to take the shape of")
    raws = [c.model_dump(mode="json", exclude_unset=True) for c in stream.chunks]
    facts = _Facts(raws)
    shape: dict[str, Any] = {
        "chunks": facts.sections(),
        "choices": facts.choices(),
        "comments": _comment_kinds(stream.comments),
        "extensions": sorted(stream.extensions),
        "finish": facts.finish(),
        "ids": facts.ids(),
        "profile": report.profile.name,
    }
    reasoning = facts.reasoning()
    if reasoning:
        shape["reasoning"] = reasoning
    shape["rules"] = _verdicts(report)
    shape["terminator"] = "present" if stream.done else "missing"
    tools = facts.tool_calls()
    if tools:
        shape["tool_calls"] = tools
    shape["usage"] = facts.usage()
    return shape


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


class _Facts:
    """Positions and per-chunk field maps of one stream, computed once for every section."""

    def __init__(self, raws: list[dict[str, Any]]) -> None:
        self.raws = raws
        self.fields = [_chunk_fields(r) for r in raws]
        self.finish_pos: list[int] = []
        first_finish: dict[int, int] = {}
        self.choice_ids: set[int] = set()
        for pos, raw in enumerate(raws):
            fin = False
            for ch in _choices(raw):
                idx = ch.get("index")
                if isinstance(idx, int):
                    self.choice_ids.add(idx)
                if ch.get("finish_reason") is not None:
                    fin = True
                    if isinstance(idx, int):
                        first_finish.setdefault(idx, pos)
            if fin:
                self.finish_pos.append(pos)
        self._finish_set = set(self.finish_pos)
        self.first_finish = first_finish
        unfinished = self.choice_ids - set(first_finish)
        self.all_finished: int | None = (
            max(first_finish.values()) if first_finish and not unfinished else None
        )

    # -- sections -------------------------------------------------------------------------

    def section_of(self, pos: int) -> str:
        """Which section chunk ``pos`` belongs to (see :data:`SECTIONS`)."""
        if pos == 0:
            return "first"
        if pos in self._finish_set:
            return "finish"
        if self.all_finished is not None and pos > self.all_finished:
            return "after_finish"
        return "middle"

    def sections(self) -> dict[str, dict[str, str]]:
        """``section -> {path: kinds}``; ``(some)`` marks a path missing from some chunks."""
        members: dict[str, list[int]] = {}
        for pos in range(len(self.raws)):
            members.setdefault(self.section_of(pos), []).append(pos)
        out: dict[str, dict[str, str]] = {}
        for name in SECTIONS:
            positions = members.get(name)
            if not positions:
                continue
            kinds: dict[str, set[str]] = {}
            seen: dict[str, int] = {}
            for pos in positions:
                for path, ks in self.fields[pos].items():
                    kinds.setdefault(path, set()).update(ks)
                    seen[path] = seen.get(path, 0) + 1
            section: dict[str, str] = {}
            for path in sorted(kinds):
                ks = kinds[path]
                last = path.rsplit(".", 1)[-1]
                if last in _TEXT_KEYS and "<text>" in ks:
                    ks = ks - {"<empty-str>"}  # an empty delta among text deltas is wording
                value = _join_kinds(ks)
                if seen[path] < len(positions):
                    value += _SOME
                section[path] = value
            out[name] = section
        return out

    # -- choices, finish ------------------------------------------------------------------

    def choices(self) -> dict[str, Any]:
        """How many choices, how many per chunk, and what the assembled messages hold."""
        per_chunk = sorted({len(_choices(r)) for r in self.raws})
        parts: set[str] = set()
        for raw in self.raws:
            for ch in _choices(raw):
                delta = ch.get("delta")
                if not isinstance(delta, dict):
                    continue
                for key in ("content", "refusal", *_REASONING_FIELDS):
                    val = delta.get(key)
                    if isinstance(val, str) and val:
                        parts.add("reasoning" if key in _REASONING_FIELDS else key)
                if delta.get("tool_calls"):
                    parts.add("tool_calls")
                if ch.get("logprobs"):
                    parts.add("logprobs")
        return {"count": len(self.choice_ids), "parts": sorted(parts), "per_chunk": per_chunk}

    def finish(self) -> dict[str, Any]:
        """Finish reason of each choice and whether it is sent once, repeated or never."""
        reasons: list[str] = []
        counts: dict[int, int] = {}
        for raw in self.raws:
            for ch in _choices(raw):
                idx = ch.get("index")
                if isinstance(idx, int) and ch.get("finish_reason") is not None:
                    counts[idx] = counts.get(idx, 0) + 1
        for idx in sorted(self.choice_ids):
            pos = self.first_finish.get(idx)
            if pos is None:
                reasons.append("none")
                continue
            reason = next(
                (
                    ch.get("finish_reason")
                    for ch in _choices(self.raws[pos])
                    if ch.get("index") == idx and ch.get("finish_reason") is not None
                ),
                None,
            )
            reasons.append(_kind("finish_reason", reason))
        sent = {
            "missing" if counts.get(i, 0) == 0 else "once" if counts[i] == 1 else "repeated"
            for i in self.choice_ids
        }
        return {"reasons": reasons, "sent": " + ".join(sorted(sent)) if sent else "missing"}

    # -- ids ------------------------------------------------------------------------------

    def ids(self) -> dict[str, str]:
        """Whether ``id``, ``created``, ``model``, ``system_fingerprint`` stay the same."""
        out = {}
        for key in ("created", "id", "model", "system_fingerprint"):
            values = [r.get(key) for r in self.raws]
            present = [v for v in values if v not in (None, "", 0)]
            distinct = len({json.dumps(v) for v in present})
            if distinct == 0:
                out[key] = "absent"
            elif distinct == 1:
                out[key] = "constant"
            elif distinct == len(present) and len(present) >= 3:
                out[key] = "changes-every-chunk"
            else:
                out[key] = "changes"
        return out

    # -- usage ----------------------------------------------------------------------------

    def _placement(self, positions: list[int]) -> list[str]:
        if not positions:
            return ["none"]
        if len(positions) == len(self.raws) and len(positions) > 1:
            return ["every-chunk"]
        finish = self._finish_set
        labels = set()
        for pos in positions:
            has_choices = bool(_choices(self.raws[pos]))
            after = self.all_finished is not None and pos > self.all_finished
            if pos in finish:
                labels.add("finish-chunk")
            elif not has_choices:
                before = self.all_finished is not None and not after
                labels.add("separate-chunk-before-finish" if before else "separate-chunk")
            elif after:
                labels.add("after-finish-with-choice")
            else:
                labels.add("before-finish")
        return sorted(labels)

    def usage(self) -> dict[str, Any]:
        """Where usage arrives (top level and in ``x_groq``), how often, and its fields."""
        top = [p for p, r in enumerate(self.raws) if isinstance(r.get("usage"), dict)]
        groq = [
            p
            for p, r in enumerate(self.raws)
            if isinstance(r.get("x_groq"), dict) and isinstance(r["x_groq"].get("usage"), dict)
        ]
        fields: dict[str, set[str]] = {}
        for pos in top:
            _flatten(self.raws[pos]["usage"], "", "", fields)
        out: dict[str, Any] = {
            "fields": {k: _join_kinds(v) for k, v in sorted(fields.items()) if k},
            "placement": self._placement(top),
            "times": "never"
            if not top
            else "once"
            if len(top) == 1
            else "every-chunk"
            if len(top) == len(self.raws)
            else "several",
        }
        if groq:
            out["x_groq"] = self._placement(groq)
        return out

    # -- reasoning ------------------------------------------------------------------------

    def reasoning(self) -> dict[str, str]:
        """The reasoning field's name and whether reasoning all comes before the answer."""
        names: set[str] = set()
        last_reasoning: dict[int, int] = {}
        first_answer: dict[int, int] = {}
        interleaved = False
        for pos, raw in enumerate(self.raws):
            for ch in _choices(raw):
                idx = ch.get("index")
                delta = ch.get("delta")
                if not isinstance(delta, dict):
                    continue
                idx = idx if isinstance(idx, int) else -1
                for name in _REASONING_FIELDS:
                    val = delta.get(name)
                    if isinstance(val, str) and val:
                        names.add(name)
                        last_reasoning[idx] = pos
                        if idx in first_answer:
                            interleaved = True
                content = delta.get("content")
                if (isinstance(content, str) and content) or delta.get("tool_calls"):
                    first_answer.setdefault(idx, pos)
        if not names:
            return {}
        if interleaved:
            order = "interleaved"
        elif not first_answer:
            order = "no-answer"
        else:
            order = "before-answer"
        return {"field": " + ".join(sorted(names)), "order": order}

    # -- tool calls -----------------------------------------------------------------------

    def tool_calls(self) -> dict[str, Any]:
        """The fragment pattern: which keys the first and the later fragments of a call carry."""
        calls: dict[tuple[int, int], list[dict[str, Any]]] = {}
        several_in_chunk = False
        for raw in self.raws:
            for ch in _choices(raw):
                delta = ch.get("delta")
                frags = delta.get("tool_calls") if isinstance(delta, dict) else None
                if not isinstance(frags, list) or not frags:
                    continue
                raw_idx = ch.get("index")
                cidx = raw_idx if isinstance(raw_idx, int) else 0
                in_chunk = set()
                for frag in frags:
                    if not isinstance(frag, dict):
                        continue
                    key = (cidx, self._call_index(calls, cidx, frag))
                    calls.setdefault(key, []).append(frag)
                    in_chunk.add(key)
                several_in_chunk |= len(in_chunk) > 1
        if not calls:
            return {}
        per_choice: dict[int, int] = {}
        for cidx, _ in calls:
            per_choice[cidx] = per_choice.get(cidx, 0) + 1
        frag_counts = {
            "one-per-call" if len(f) == 1 else "several-per-call" for f in calls.values()
        }
        index = {
            "every-fragment"
            if all(isinstance(x.get("index"), int) for x in f)
            else "missing"
            if not any(isinstance(x.get("index"), int) for x in f)
            else "some-fragments"
            for f in calls.values()
        }
        first_args = {_first_args(f[0]) for f in calls.values() if len(f) > 1}
        out: dict[str, Any] = {
            "calls": "several" if max(per_choice.values()) > 1 else "one",
            "first_fragment_arguments": " + ".join(sorted(first_args)) or "n/a",
            "fragments": " + ".join(sorted(frag_counts)),
            "id": _repeat_pattern(calls.values(), lambda f: f.get("id")),
            "index": " + ".join(sorted(index)),
            "name": _repeat_pattern(calls.values(), _fn_name),
            "several_calls_in_one_chunk": several_in_chunk,
            "type": _repeat_pattern(calls.values(), lambda f: f.get("type")),
        }
        return out

    @staticmethod
    def _call_index(
        calls: Mapping[tuple[int, int], list[dict[str, Any]]], cidx: int, frag: Mapping[str, Any]
    ) -> int:
        idx = frag.get("index")
        if isinstance(idx, int):
            return idx
        # No index (Mistral, Gemini): an id or a name opens a call, anything else continues.
        mine = [k[1] for k in calls if k[0] == cidx]
        if not mine:
            return 0
        opens = bool(frag.get("id")) or bool(_fn_name(frag))
        return max(mine) + 1 if opens else max(mine)


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


def _repeat_pattern(calls: Iterable[list[dict[str, Any]]], get: Any) -> str:
    """How a key behaves across a call's fragments: first only, repeated, emptied, missing."""
    labels = set()
    for frags in calls:
        first = get(frags[0])
        if first is None:
            labels.add("missing")
            continue
        if first == "":
            labels.add("empty")
            continue
        later = [get(f) for f in frags[1:]]
        if not later or all(v is None for v in later):
            labels.add("first-fragment-only")
        elif all(v == first for v in later):
            labels.add("every-fragment")
        elif all(v is None or v == "" for v in later):
            labels.add("later-fragments-empty")
        else:
            labels.add("changes")
    return " + ".join(sorted(labels))


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
    except yaml.YAMLError as exc:
        raise ShapeError(f"{where}: not YAML/JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict) or "streams" not in doc:
        raise ShapeError(f"{where}: not a stream shape (no `streams`)")
    if doc.get("format") != SHAPE_FORMAT:
        raise ShapeError(
            f"{where}: shape format {doc.get('format')!r}, this version reads {SHAPE_FORMAT!r}"
        )
    if not isinstance(doc["streams"], list) or not all(isinstance(s, dict) for s in doc["streams"]):
        raise ShapeError(f"{where}: `streams` is not a list of shapes")
    return doc


def load_shape(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a shape file (YAML or JSON) into a shape document."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ShapeError(f"{p}: cannot read ({exc})") from None
    return parse_shape(text, where=str(p))


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
