"""Read recorded streams from ``.sse`` files and vcrpy cassettes, without vcrpy.

The contract commands (``shape``, ``diff``, ``report``) and the shape gate read recordings that
may be old, foreign or broken; this loader parses cassette YAML with libyaml's safe loader (fast,
no Python tags), keeps each streamed chat completion with its recorded request body and URL, and
turns every problem into one :class:`RecordingError` line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ..chat.check import check_chunk_stream
from ..chat.evidence import cut_message
from ..chat.rules import RULES as CHAT_RULES
from ..core.cut import CutMarker, complete_events
from ..core.report import Report
from ..core.surface import Surface, surface_of, surface_of_path
from ..responses.check import check_response_stream
from ..responses.rules import RULES as RESPONSE_RULES

__all__ = [
    "EMPTY_FILE",
    "NOT_A_CASSETTE",
    "RecordedInteraction",
    "Recording",
    "RecordingError",
    "atomic_write_text",
    "cassette_interactions",
    "cassette_problem",
    "check_recordings",
    "expand_paths",
    "ignore_for_surface",
    "load_yaml",
    "looks_like_sse",
    "no_stream_problem",
    "read_recordings",
    "recordings_from_cassette",
    "yaml_problem",
]

_RECORDING_SUFFIXES = (".sse", ".yaml", ".yml", ".json")

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: The one-line reason for a file that parses but holds no cassette (CLI and plugin alike).
NOT_A_CASSETTE = "not a vcrpy cassette (no `interactions` list)"

#: The one-line reason for a file with nothing in it but blank space (CLI and plugin alike).
EMPTY_FILE = "the file is empty"

#: Why a recording gives nothing to check, shape or report: no stream of either surface.
NO_STREAM = "no streamed chat completion or Responses stream in it"


class RecordingError(ValueError):
    """A file that is not a readable ``.sse`` stream or cassette (one line, for exit code 2)."""


@dataclass(frozen=True)
class Recording:
    """One recorded stream: its body and, from a cassette, its request and whether the
    provider cut it (the ``oapi_cut`` marker; judged then up to its last whole event)."""

    path: Path
    index: int
    body: bytes
    request: dict[str, Any] | None = None
    url: str | None = None
    cassette: bool = False
    #: The provider cut this stream (the cassette's ``oapi_cut`` marker); None for a whole body.
    cut: CutMarker | None = None

    @property
    def judged_body(self) -> bytes:
        """What the check judges: the body, or of a cut body the events that arrived whole
        (the partial event the cut left is no provider's malformed JSON)."""
        return complete_events(self.body) if self.cut is not None else self.body

    @property
    def cut_note(self) -> str | None:
        """``stream cut by the provider after N bytes (error: message)``, or None."""
        return self.cut.describe(len(self.body)) if self.cut is not None else None

    def told_of_cut(self, report: Report[Any, Any]) -> Report[Any, Any]:
        """``report`` (of :attr:`judged_body`), its truncation findings changed in place to say
        what a cut does to clients (they raise), not what a quiet end without ``[DONE]`` does;
        a whole body's report is returned as it is."""
        if self.cut is not None:
            report.violations[:] = [
                dataclasses.replace(v, message=cut_message(v.message))
                if v.code in _TRUNCATION_CODES
                else v
                for v in report.violations
            ]
        return report

    @property
    def label(self) -> str:
        """``file.sse`` or ``cassette.yaml #N`` for messages and report rows."""
        return f"{self.path} #{self.index}" if self.cassette else str(self.path)

    @property
    def surface(self) -> Surface:
        """``chat`` or ``responses``: the request path, else the first payload, says."""
        return surface_of(self.url, self.body)

    def check(
        self, profile: str = "auto", ignore: Sequence[str] = (), *, strict: bool = False
    ) -> Report[Any, Any]:
        """Check the stream with its recorded request and URL, as the surface it belongs to
        (chat or Responses: :attr:`surface`); ``.source`` is the label."""
        report: Report[Any, Any]
        if self.surface == "responses":
            report = check_response_stream(
                self.judged_body,
                profile=profile,
                ignore=_ignore_for(ignore, _RESPONSE_KEYS, _CHAT_KEYS),
                strict=strict,
                request=self.request,
                url=self.url,
            )
            report.source = self.label
            return report
        report = check_chunk_stream(
            self.judged_body,
            profile=profile,
            ignore=_ignore_for(ignore, _CHAT_KEYS, _RESPONSE_KEYS),
            strict=strict,
            request=self.request,
            url=self.url,
        )
        report.source = self.label
        return self.told_of_cut(report)


#: The chat findings of a truncated stream whose message says what clients do about it.
_TRUNCATION_CODES = frozenset({"OAS008", "OAS023"})
_CHAT_KEYS = frozenset(k for r in CHAT_RULES for k in (r.code, r.name))
_RESPONSE_KEYS = frozenset(k for r in RESPONSE_RULES for k in (r.code, r.name))


def ignore_for_surface(ignore: Sequence[str], surface: Surface) -> list[str]:
    """The ignored rules that concern ``surface``; codes neither surface knows pass on."""
    if surface == "responses":
        return _ignore_for(ignore, _RESPONSE_KEYS, _CHAT_KEYS)
    return _ignore_for(ignore, _CHAT_KEYS, _RESPONSE_KEYS)


def _ignore_for(ignore: Sequence[str], mine: frozenset[str], other: frozenset[str]) -> list[str]:
    """The ignored rules that concern one surface (a folder may mix chat and Responses
    streams); a code neither surface knows is passed on, so the check names it."""
    if isinstance(ignore, str):
        ignore = [c.strip() for c in ignore.split(",") if c.strip()]
    return [c for c in ignore if c in mine or c.upper() in mine or c not in other]


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same directory and a rename.

    A crash or an exception leaves either the old file or the new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_yaml(path: Path) -> Any:
    """Parse a YAML (or JSON) file with the libyaml safe loader; ``RecordingError`` if not."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordingError(f"{path}: cannot read ({exc})") from None
    if not text.strip():
        raise RecordingError(f"{path}: {EMPTY_FILE}")
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.constructor.ConstructorError:
        # An older vcrpy cassette with Python tags: vcrpy's own loader knows them.
        try:
            from vcr.serializers import yamlserializer

            return yamlserializer.deserialize(text)
        except Exception as exc:  # vcrpy raises what its YAML loader raises
            raise RecordingError(f"{path}: not a readable cassette ({exc})") from None
    except yaml.YAMLError as exc:
        raise RecordingError(f"{path}: not valid YAML/JSON {yaml_problem(exc)}") from None


def yaml_problem(exc: yaml.YAMLError) -> str:
    """The parser's complaint on one line, with its line and column (1-based, as an editor
    counts them): ``at line 2, column 13: did not find ... (while scanning a block scalar)``.

    The context's own position is added when it is on another line: an unclosed quote is
    noticed at the end of the file, but the quote is where the context started.
    """
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if not problem:
        text = str(exc).splitlines()
        return f"({text[0] if text else type(exc).__name__})"
    where = f"at line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    if context:
        started = getattr(exc, "context_mark", None)
        if started is not None and (mark is None or started.line != mark.line):
            context += f" that started at line {started.line + 1}, column {started.column + 1}"
    return where + str(problem) + (f" ({context})" if context else "")


def cassette_problem(doc: Any) -> str | None:
    """Why a parsed YAML document cannot be replayed as a vcrpy cassette, or None.

    Stricter than :func:`cassette_interactions` (which reads what it can): vcrpy needs each
    interaction's request method and URI and its response status code and body.
    """
    if not isinstance(doc, Mapping) or not isinstance(doc.get("interactions"), list):
        return NOT_A_CASSETTE
    for i, inter in enumerate(doc["interactions"]):
        req = inter.get("request") if isinstance(inter, Mapping) else None
        resp = inter.get("response") if isinstance(inter, Mapping) else None
        if not isinstance(req, Mapping) or not isinstance(resp, Mapping):
            return f"not a vcrpy cassette (interaction #{i} is not a request/response pair)"
        if not isinstance(req.get("method"), str) or not isinstance(req.get("uri"), str):
            return f"not a vcrpy cassette (interaction #{i}: the request has no method or uri)"
        status, body = resp.get("status"), resp.get("body")
        if not (isinstance(status, Mapping) and isinstance(status.get("code"), int)) or not (
            isinstance(body, Mapping) and "string" in body
        ):
            return (
                f"not a vcrpy cassette (interaction #{i}: the response has no status code or body)"
            )
    return None


def _body_bytes(value: Any) -> bytes:
    if isinstance(value, Mapping):
        value = value.get("string", b"")
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return json.dumps(value).encode("utf-8")


def _header(headers: Any, name: str) -> str:
    if not isinstance(headers, Mapping):
        return ""
    for key, values in headers.items():
        if str(key).lower() == name:
            if isinstance(values, list):
                return str(values[0]) if values else ""
            return str(values)
    return ""


def _decode(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        try:
            return zlib.decompress(body)
        except zlib.error:
            return zlib.decompress(body, -zlib.MAX_WBITS)
    return body


def _request_json(raw: bytes) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None


def looks_like_sse(body: bytes) -> bool:
    """A body that starts like an SSE stream (a ``data:``/``event:`` field or a comment)."""
    head = body.lstrip()[:64]
    return head.startswith((b"data:", b"event:", b":"))


@dataclass(frozen=True)
class RecordedInteraction:
    """One request/response pair of a cassette, bodies as bytes (decompressed)."""

    index: int
    uri: str
    status: int
    headers: Mapping[str, Any]
    body: bytes
    request_body: bytes
    #: The provider cut the body (the ``oapi_cut`` marker); None for a whole body.
    cut: CutMarker | None = None

    @property
    def content_type(self) -> str:
        """The response's ``Content-Type`` (``""`` when none was recorded)."""
        return _header(self.headers, "content-type")

    @property
    def request(self) -> dict[str, Any] | None:
        """The request body parsed as a JSON object, or None."""
        return _request_json(self.request_body)

    @property
    def is_chat(self) -> bool:
        """The request went to a ``.../chat/completions`` endpoint."""
        return urlsplit(self.uri).path.rstrip("/").endswith("/chat/completions")

    @property
    def is_stream(self) -> bool:
        """A successful streamed chat completion or Responses answer (SSE, ``stream: true``,
        or SSE-looking body)."""
        named = surface_of_path(self.uri)
        # A path that names no API (a gateway's own): a Responses first payload decides.
        is_api = self.is_chat or named == "responses"
        if named is None and not is_api:
            is_api = looks_like_sse(self.body) and surface_of(None, self.body) == "responses"
        if not (is_api and 200 <= self.status < 300):
            return False
        request = self.request
        return (
            "text/event-stream" in self.content_type.lower()
            or bool(request and request.get("stream") is True)
            or looks_like_sse(self.body)
        )


def cassette_interactions(path: Path, doc: Any = None) -> list[RecordedInteraction]:
    """Every interaction of a vcrpy cassette (parsed from ``path`` unless ``doc`` is given)."""
    if doc is None:
        doc = load_yaml(path)
    if not isinstance(doc, Mapping) or not isinstance(doc.get("interactions"), list):
        raise RecordingError(f"{path}: {NOT_A_CASSETTE}")
    out: list[RecordedInteraction] = []
    for position, inter in enumerate(doc["interactions"]):
        if not isinstance(inter, Mapping):
            continue
        req = inter.get("request") if isinstance(inter.get("request"), Mapping) else {}
        resp = inter.get("response") if isinstance(inter.get("response"), Mapping) else {}
        assert isinstance(req, Mapping) and isinstance(resp, Mapping)
        status = resp.get("status")
        code = status.get("code", 200) if isinstance(status, Mapping) else status or 200
        try:
            code = int(code)
        except (TypeError, ValueError):
            code = 0
        headers = resp.get("headers")
        headers = headers if isinstance(headers, Mapping) else {}
        try:
            body = _decode(_body_bytes(resp.get("body")), _header(headers, "content-encoding"))
        except zlib.error:
            raise RecordingError(
                f"{path}: a compressed response body does not decompress"
            ) from None
        out.append(
            RecordedInteraction(
                position,
                str(req.get("uri") or ""),
                code,
                headers,
                body,
                _body_bytes(req.get("body")),
                CutMarker.from_response(resp),
            )
        )
    return out


def recordings_from_cassette(path: Path, doc: Any = None) -> list[Recording]:
    """Every streamed chat completion in a vcrpy cassette, in order."""
    # ``index`` is the interaction's place in the cassette (``#N`` in messages), as the plugin's
    # ``Interaction.label()`` says it: the same stream has the same number everywhere.
    return [
        Recording(path, i.index, i.body, i.request, i.uri or None, cassette=True, cut=i.cut)
        for i in cassette_interactions(path, doc)
        if i.is_stream
    ]


def no_stream_problem(path: Path, doc: Any = None) -> str:
    """Why the cassette at ``path`` gave no stream (one line): what its interactions were
    instead, so that the wrong file or a cassette of non-streaming calls is recognised."""
    kinds: dict[str, int] = {}
    interactions = cassette_interactions(path, doc)
    for i in interactions:
        named = surface_of_path(i.uri)
        if not 200 <= i.status < 300:
            kind = f"HTTP {i.status}"
        elif named is None:
            kind = f"to {urlsplit(i.uri).path or i.uri or '?'}"
        else:
            kind = "not streamed"
        kinds[kind] = kinds.get(kind, 0) + 1
    if not interactions:
        what = "the cassette records no interaction"
    elif len(interactions) == 1:
        what = f"1 interaction, {next(iter(kinds))}"
    else:
        what = f"{len(interactions)} interactions: " + ", ".join(
            f"{n} {kind}" for kind, n in kinds.items()
        )
    return f"{path}: {NO_STREAM} ({what})"


def _is_cassette_file(path: Path) -> bool:
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            return "interactions" in fh.read(4096)
    except OSError:
        return False


def expand_paths(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Files to read: given files as they are; folders searched for ``.sse`` files and
    cassettes (recursively, hidden folders and ``.shape.yaml`` files skipped)."""
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.is_file()
                and f.suffix in _RECORDING_SUFFIXES
                and not f.name.endswith(".shape.yaml")
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
            files.extend(f for f in found if f.suffix == ".sse" or _is_cassette_file(f))
        elif p.is_file():
            files.append(p)
        else:
            raise RecordingError(f"{raw}: no such file or folder")
    return files


def read_recordings(path: str | os.PathLike[str]) -> list[Recording]:
    """The streams recorded in ``path``: an ``.sse`` file is one, a cassette has 0 or more."""
    p = Path(path)
    if not p.is_file():
        raise RecordingError(f"{p}: no such file")
    if p.suffix == ".sse":
        try:
            return [Recording(p, 0, p.read_bytes())]
        except OSError as exc:
            raise RecordingError(f"{p}: cannot read ({exc.strerror})") from None
    return recordings_from_cassette(p, load_yaml(p))


def check_recordings(
    path: str | os.PathLike[str], profile: str = "auto", ignore: Sequence[str] = ()
) -> list[Report]:
    """Check every stream recorded in ``path`` (see :func:`read_recordings`)."""
    return [rec.check(profile, ignore) for rec in read_recordings(path)]
