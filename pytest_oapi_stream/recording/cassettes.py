"""The vcrpy layer: cassette paths, readable atomic cassettes, matching, secret filters, replay.

One cassette per test. This module turns vcrpy into a contract-test recorder for streamed chat
completions:

* **Paths**: ``<cassette dir>/<test module path>/<test name>.yaml`` (:func:`default_cassette_path`).
* **Readable cassettes**: plain vcrpy YAML (version 1) written with libyaml, where every multi-line
  string (the SSE body, the pretty-printed JSON request body) is a YAML literal block, so a
  reviewer reads one event a line in a PR diff (:class:`ReadableYamlSerializer`).
* **Atomic writes**: a temporary file in the same directory, then ``os.replace``; nothing is
  written when the test fails (:class:`AtomicPersister`, :meth:`CassetteSession.stop`).
* **Matching**: method, URL and the JSON body canonicalised (key order, whitespace), so a changed
  request is never served an old stream (:func:`json_body_matcher`).
* **Secrets**: the values of filtered headers and query parameters are replaced by
  :data:`REDACTED` before anything is written, and every value seen is also scrubbed from the
  whole cassette text (:class:`SecretSink`).
* **Re-chunked replay**: vcrpy replays a body as one blob; we hand it to the client in many pieces
  (split inside lines, between the two newlines of an event, inside UTF-8 characters), so the
  client's own SSE decoder is exercised as on a real network (:func:`rechunk`,
  :func:`rechunked_replay`).

vcrpy itself is imported lazily (it pulls in every HTTP library it patches, ~0.1-0.2 s), so a
pytest session that never opens a cassette does not pay for it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import hashlib
import inspect
import ipaddress
import json
import os
import random
import re
import shlex
import socket
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import yaml

from .files import atomic_write_text

if TYPE_CHECKING:
    from ..chat.check import ChunkStream
    from ..core.report import Report

__all__ = [
    "DEFAULT_FILTER_HEADERS",
    "DEFAULT_FILTER_QUERY_PARAMETERS",
    "MATCH_ON",
    "MODES",
    "PLACEHOLDER_API_KEY",
    "RECHUNK_STRATEGIES",
    "REDACTED",
    "AtomicPersister",
    "CassetteError",
    "CassetteHandle",
    "CassetteMissingError",
    "CassetteOptions",
    "CassetteSession",
    "CheckOptions",
    "Interaction",
    "NetworkBlockedError",
    "ReadableYamlSerializer",
    "RunStats",
    "SecretSink",
    "UnmatchedRequestError",
    "VcrInternalsError",
    "atomic_write_text",
    "block_network",
    "canonical_json_body",
    "default_cassette_path",
    "fix_record_flag",
    "json_body_matcher",
    "load_interactions",
    "rechunk",
    "rechunked_replay",
    "resolve_cassette_path",
    "safe_file_name",
]

#: Record modes: ``replay`` (default, offline), ``all`` (record every cassette again),
#: ``missing`` (record only cassettes that do not exist), ``live`` (talk to the endpoint,
#: check the streams, write nothing).
MODES: tuple[str, ...] = ("replay", "all", "missing", "live")

#: How a replayed body is cut into pieces: ``random`` (seeded, awkward split points),
#: ``bytes`` (one byte a piece; thorough but slow for big bodies), ``off`` (one blob, as vcrpy).
RECHUNK_STRATEGIES: tuple[str, ...] = ("random", "bytes", "off")

#: What a filtered secret becomes in a cassette.
REDACTED = "REDACTED"

#: Headers (request and response) whose values never reach disk.
DEFAULT_FILTER_HEADERS: tuple[str, ...] = (
    "authorization",
    "api-key",
    "x-api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "set-cookie",
    "proxy-authorization",
)

#: Query parameters whose values never reach disk (Gemini's and Azure's key parameters).
DEFAULT_FILTER_QUERY_PARAMETERS: tuple[str, ...] = ("key", "api-key", "api_key")

#: The vcrpy matchers used for every cassette: method, the URL parts, the canonical JSON body.
MATCH_ON: tuple[str, ...] = ("method", "scheme", "host", "port", "path", "query", "oapi_body")

#: The ``OPENAI_API_KEY`` set for replayed tests when none is set, so ``openai.OpenAI()`` builds.
PLACEHOLDER_API_KEY = "sk-oapi-stream-replay-placeholder"

_SERIALIZER_NAME = "oapi_yaml"
_HEADER_COMMENT = (
    "# pytest-oapi-stream cassette (vcrpy format). Secrets are redacted.\n"
    "# Re-record: pytest --oapi-record <test id>\n"
)
_MIN_SECRET_LEN = 8
_NAME_MAX = 200  # bytes; most file systems allow 255, leave room for ".yaml" and temp names
_FORBIDDEN_IN_NAMES = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')

# libyaml is ~70x faster than the pure-Python loader on a large literal block; fall back only
# when PyYAML was built without it.
try:
    _BaseLoader: type[Any] = yaml.CSafeLoader
    _BaseDumper: type[Any] = yaml.CSafeDumper
    HAVE_LIBYAML = True
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _BaseLoader = yaml.SafeLoader
    _BaseDumper = yaml.SafeDumper
    HAVE_LIBYAML = False


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class CassetteError(Exception):
    """Base of the errors this layer raises; the message says what to do next."""


class CassetteMissingError(CassetteError):
    """A test needs a cassette that does not exist and the mode does not allow recording."""


class UnmatchedRequestError(CassetteError):
    """A request found no unplayed interaction in the cassette, and the mode does not record."""


class NetworkBlockedError(CassetteError, RuntimeError):
    """A replayed test tried to open a connection to a non-loopback host."""


class VcrInternalsError(CassetteError):
    """The vcrpy internals we patch for re-chunked replay are not what we expect."""


# --------------------------------------------------------------------------------------------
# Command line helper
# --------------------------------------------------------------------------------------------


def fix_record_flag(args: list[str]) -> bool:
    """Rewrite a bare ``--oapi-record`` not followed by a mode into ``--oapi-record=all``.

    ``--oapi-record`` takes an optional value (``all`` or ``missing``); argparse would swallow
    the path in ``pytest --oapi-record tests/test_x.py`` as that value. Edits ``args`` in
    place; returns True when it changed something.
    """
    changed = False
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--oapi-record" and (i + 1 == len(args) or args[i + 1] not in ("all", "missing")):
            args[i] = "--oapi-record=all"
            changed = True
    return changed


# --------------------------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------------------------


def safe_file_name(name: str) -> str:
    """``name`` usable as a file name on every OS: forbidden characters become ``-``.

    Names longer than 200 UTF-8 bytes (long parametrize ids) are cut and get a short hash, so
    two long ids stay distinct.
    """
    cleaned = _FORBIDDEN_IN_NAMES.sub("-", name).strip(" .") or "cassette"
    raw = cleaned.encode("utf-8")
    if len(raw) <= _NAME_MAX:
        return cleaned
    digest = hashlib.sha1(raw).hexdigest()[:10]
    head = raw[: _NAME_MAX - 11].decode("utf-8", "ignore")
    return f"{head}-{digest}"


def default_cassette_path(
    cassette_dir: Path, module_path: Path, rootpath: Path, test_name: str
) -> Path:
    """``<cassette_dir>/<module path relative to rootdir, no .py>/<test name>.yaml``.

    ``test_name`` is ``Class.test`` or ``test`` with its parametrize id, as pytest shows it.
    """
    try:
        rel = module_path.with_suffix("").relative_to(rootpath)
        parts = [safe_file_name(p) for p in rel.parts]
    except ValueError:  # a test file outside the rootdir
        parts = [safe_file_name(module_path.stem)]
    return cassette_dir.joinpath(*parts, safe_file_name(test_name) + ".yaml")


def resolve_cassette_path(cassette_dir: Path, name: str | os.PathLike[str]) -> Path:
    """The path for a marker's ``cassette=``: relative to the cassette dir, ``.yaml`` added."""
    path = Path(name)
    if not path.suffix:
        path = path.with_suffix(".yaml")
    return path if path.is_absolute() else cassette_dir / path


def display_path(path: Path, rootpath: Path) -> str:
    """``path`` relative to the rootdir when it is inside it, for messages."""
    try:
        return path.relative_to(rootpath).as_posix()
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------------
# Serializer: readable YAML
# --------------------------------------------------------------------------------------------

# Characters that a YAML literal block cannot carry unchanged: C0/C1 controls but LF (TAB
# forces the emitter to quote anyway), DEL, YAML 1.1 line breaks (NEL, LS, PS) that a loader
# normalises, BOM, surrogates and non-characters.
_NOT_BLOCK_SAFE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]| \n"
    r"| \Z"
)


def _block_safe(text: str) -> bool:
    """True when ``text`` survives a YAML literal block byte for byte (no trailing spaces)."""
    return "\n" in text and bool(text.strip("\n")) and _NOT_BLOCK_SAFE.search(text) is None


class _Loader(_BaseLoader):  # type: ignore[misc]
    """libyaml safe loader for cassettes (no Python tags)."""


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """libyaml safe dumper for the cassette skeleton (bodies are spliced in as literal blocks)."""


def _pretty_json(body: Any) -> Any:
    """A JSON request body as indented text (one field a line in a diff); anything else as is."""
    if not isinstance(body, str) or not body.lstrip().startswith(("{", "[")):
        return body
    try:
        parsed = json.loads(body)
    except ValueError:
        return body
    return json.dumps(parsed, indent=2, ensure_ascii=False) + "\n"


def _ordered(interaction: Mapping[str, Any], body: Callable[[Any], Any]) -> dict[str, Any]:
    """Reorder an interaction for reading: method, uri, headers, then the (long) body.

    ``body`` maps the request body (indented JSON) and the response body string to what is
    dumped (the text itself, or a token that becomes a literal block).
    """
    request = dict(interaction["request"])
    response = dict(interaction["response"])
    req = {k: request.pop(k) for k in ("method", "uri", "headers") if k in request}
    if "body" in request:
        req["body"] = body(_pretty_json(request.pop("body")))
    req.update(request)
    resp = {k: response.pop(k) for k in ("status", "headers") if k in response}
    if isinstance(response.get("body"), Mapping) and "string" in response["body"]:
        resp["body"] = {**response.pop("body")}
        resp["body"]["string"] = body(resp["body"]["string"])
    resp.update(response)
    return {"request": req, "response": resp}


def _literal_block(text: str, key_column: int) -> str:
    """``text`` as a YAML literal block scalar for a mapping value whose key is at that column.

    Only for :func:`_block_safe` text. Chomping keeps the trailing newlines exactly (``|-``
    none, ``|`` one, ``|+`` more); an indentation indicator is added when the first line
    starts with a space.
    """
    stripped = text.rstrip("\n")
    trailing = len(text) - len(stripped)
    chomp = "-" if trailing == 0 else "" if trailing == 1 else "+"
    lines = stripped.split("\n") + [""] * max(trailing - 1, 0)
    first = next((line for line in lines if line), "")
    indicator = "2" if first.startswith(" ") else ""
    indent = " " * (key_column + 2)
    return f"|{indicator}{chomp}\n" + "\n".join(indent + line if line else "" for line in lines)


class ReadableYamlSerializer:
    """vcrpy serializer: plain vcrpy YAML, libyaml speed, SSE bodies as literal blocks.

    libyaml's emitter would quote a whole body for one emoji (it treats characters beyond
    U+FFFF as unprintable) and PyYAML's pure-Python emitter takes ~2 s for a 3 MB body, so the
    skeleton is dumped by libyaml with a token in place of each body, and the bodies are
    spliced in as literal blocks. The result is loaded back and compared; if anything differs
    (it should not), the plain quoted dump is written instead: readability never costs a byte.
    The output loads with vcrpy's own YAML serializer too.
    """

    @staticmethod
    def deserialize(cassette_string: str) -> Any:
        """Parse cassette text into vcrpy's ``{"version", "interactions"}`` dict."""
        try:
            return yaml.load(cassette_string, Loader=_Loader)
        except yaml.constructor.ConstructorError:
            # An older vcrpy cassette with Python tags: vcrpy's own safe loader knows them.
            from vcr.serializers import yamlserializer

            return yamlserializer.deserialize(cassette_string)

    @staticmethod
    def serialize(cassette_dict: Mapping[str, Any]) -> str:
        """Dump the cassette dict; interactions reordered for reading, request JSON indented."""
        interactions = cassette_dict.get("interactions", [])
        plain = {**cassette_dict, "interactions": [_ordered(i, _same) for i in interactions]}
        nonce = os.urandom(4).hex()
        blocks: dict[str, str] = {}

        def to_token(value: Any) -> Any:
            if not isinstance(value, str) or not _block_safe(value):
                return value
            token = f"OAPI_LITERAL_{nonce}_{len(blocks)}"
            blocks[token] = value
            return token

        tokens = {**cassette_dict, "interactions": [_ordered(i, to_token) for i in interactions]}
        text = _dump(tokens)
        if blocks:
            pattern = re.compile(rf"^( *)((?:- )*)(.*?): (OAPI_LITERAL_{nonce}_\d+)$", re.M)

            def splice(m: re.Match[str]) -> str:
                column = len(m.group(1)) + len(m.group(2))
                block = _literal_block(blocks[m.group(4)], column)
                return f"{m.group(1)}{m.group(2)}{m.group(3)}: {block}"

            text = pattern.sub(splice, text)
            if yaml.load(text, Loader=_Loader) != plain:  # pragma: no cover - a safety net
                text = _dump(plain)
        return _HEADER_COMMENT + text


def _same(value: Any) -> Any:
    return value


def _dump(data: Any) -> str:
    out: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1_000_000_000
    )
    return out


# --------------------------------------------------------------------------------------------
# Persister: atomic writes, secret scrubbing
# --------------------------------------------------------------------------------------------


class SecretSink:
    """Collects the secret values the filters saw, to scrub them from the whole cassette text.

    Filters replace the headers and parameters they know; a provider that echoes a key in an
    error body, or a cookie value in a redirect URL, is caught by the text scrub.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, value: Any) -> None:
        """Remember ``value`` (a header value, a list of them, a query value) as a secret."""
        if isinstance(value, (list, tuple)):
            for v in value:
                self.add(v)
            return
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str):
            return
        candidates = {value.strip()}
        scheme, _, token = value.strip().partition(" ")
        if token and scheme.isalpha():  # "Bearer sk-...", "Basic ..."
            candidates.add(token.strip())
        for part in value.split(";"):  # cookies: "a=b; c=d"
            candidates.add(part.strip())
            candidates.add(part.partition("=")[2].strip())
        self._values.update(c for c in candidates if len(c) >= _MIN_SECRET_LEN and c != REDACTED)

    def __len__(self) -> int:
        return len(self._values)

    def scrub(self, text: str) -> str:
        """``text`` with every remembered secret replaced by :data:`REDACTED`, longest first."""
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, REDACTED)
        return text


class AtomicPersister:
    """vcrpy persister: UTF-8 files, atomic writes, secrets scrubbed, loading can be switched off.

    ``load=False`` makes every cassette look absent (record-all and live modes start empty,
    so a corrupt old cassette cannot break a re-recording).
    """

    def __init__(self, secrets: SecretSink | None = None, *, load: bool = True) -> None:
        self.secrets = secrets if secrets is not None else SecretSink()
        self.load = load
        self.writes = 0

    def load_cassette(self, cassette_path: str | os.PathLike[str], serializer: Any) -> Any:
        """Read and deserialize a cassette; vcrpy's ``CassetteNotFoundError`` when absent."""
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.serialize import deserialize

        path = Path(cassette_path)
        if not self.load or not path.is_file():
            raise CassetteNotFoundError()
        data = path.read_text(encoding="utf-8")
        if not data.strip():
            raise CassetteNotFoundError()
        return deserialize(data, serializer)

    def save_cassette(
        self, cassette_path: str | os.PathLike[str], cassette_dict: Any, serializer: Any
    ) -> None:
        """Serialize, scrub the secrets seen, then write atomically."""
        from vcr.serialize import serialize

        text = self.secrets.scrub(serialize(cassette_dict, serializer))
        atomic_write_text(Path(cassette_path), text)
        self.writes += 1


def load_interactions(path: Path) -> list[Interaction]:
    """Every interaction stored in a cassette file, without opening a vcrpy session.

    Used by the benchmark and by tools that read cassettes (``oapi-stream check cassette.yaml``).
    """
    from vcr.serialize import deserialize

    requests, responses, *_ = deserialize(
        path.read_text(encoding="utf-8"), ReadableYamlSerializer()
    )
    return [
        Interaction.from_vcr(i, req, resp, recorded=False)
        for i, (req, resp) in enumerate(zip(requests, responses, strict=False))
    ]


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


def canonical_json_body(body: bytes | str | None) -> str | bytes | None:
    """A request body in canonical form: JSON re-dumped with sorted keys and no whitespace.

    ``true`` and ``1`` stay distinct (compared as text, not as Python values). A body that is
    not JSON is returned unchanged.
    """
    if body is None or body in (b"", ""):
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _read_body(request: Any) -> bytes | str | None:
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    elif isinstance(body, (dict, list)):  # aiohttp's `json=` reaches vcrpy as the object
        body = json.dumps(body)
    elif body is not None and not isinstance(body, (bytes, str)):
        body = b"".join(p.encode() if isinstance(p, str) else p for p in body)
    return body  # type: ignore[no-any-return]


def json_body_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher ``oapi_body``: the canonical JSON bodies are equal, or AssertionError.

    vcrpy calls it with the request being made first and the recorded one second; the
    message is a short unified diff of the indented JSON (recorded -> this request).
    """
    new, recorded = canonical_json_body(_read_body(r1)), canonical_json_body(_read_body(r2))
    if new == recorded:
        return
    raise AssertionError(_body_diff(new, recorded))


def _body_matcher(r1: Any, r2: Any) -> None:
    json_body_matcher(r1, r2)


_body_matcher.__name__ = "body"  # vcrpy names a failing matcher by its __name__


def _indented(canonical: str | bytes | None) -> list[str]:
    if canonical is None:
        return ["<no body>"]
    if isinstance(canonical, bytes):
        canonical = canonical.decode("utf-8", "replace")
    try:
        return json.dumps(json.loads(canonical), indent=2, sort_keys=True).splitlines()
    except ValueError:
        return canonical.splitlines()


def _body_diff(new: str | bytes | None, recorded: str | bytes | None, limit: int = 24) -> str:
    diff = list(
        difflib.unified_diff(
            _indented(recorded), _indented(new), "recorded", "this request", n=1, lineterm=""
        )
    )
    if len(diff) > limit:
        diff = [*diff[:limit], f"... ({len(diff) - limit} more diff lines)"]
    return "\n".join(diff) or "the bodies differ"


# --------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------


def _filter_entries(names: Iterable[Any], secrets: SecretSink) -> list[tuple[str, Any]]:
    """vcrpy ``filter_headers``/``filter_query_parameters`` entries that redact and remember.

    A bare name becomes ``(name, redact)``; a ``(name, replacement)`` pair is kept as given.
    Names are case-insensitive and a later entry wins (the user's over the defaults).
    """

    def redact(key: str, value: Any, request: Any) -> str:
        secrets.add(value)
        return REDACTED

    entries: dict[str, tuple[str, Any]] = {}
    for entry in names:
        if isinstance(entry, (tuple, list)):
            name, replacement = entry
        else:
            name, replacement = entry, redact
        entries.pop(name.lower(), None)
        entries[name.lower()] = (name, replacement)
    return list(entries.values())


def _response_header_filter(
    names: Iterable[str], secrets: SecretSink
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``before_record_response`` hook redacting ``set-cookie``, ``openai-organization``, ..."""
    lowered = {n.lower() for n in names}

    def filter_response(response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers")
        if isinstance(headers, dict):
            for key in list(headers):
                if key.lower() in lowered:
                    values = headers[key]
                    secrets.add(values)
                    count = len(values) if isinstance(values, list) else 1
                    headers[key] = [REDACTED] * count
        return response

    return filter_response


# --------------------------------------------------------------------------------------------
# Re-chunked replay
# --------------------------------------------------------------------------------------------


def rechunk(body: bytes, seed: int, strategy: str = "random") -> list[bytes]:
    """Cut ``body`` into the pieces a replayed response delivers, deterministically from ``seed``.

    ``random`` always splits inside the first ``data:`` field names, between the two newlines
    ending an event, between CR and LF, and inside multi-byte UTF-8 characters (up to 32 of
    each), delivers the first 512 bytes in 1-8 byte pieces, and adds random cut points (about
    one per 64 bytes, at most 4096, so a 3 MB stream stays cheap to replay).
    """
    n = len(body)
    if strategy == "off" or n <= 1:
        return [body]
    if strategy == "bytes":
        return [body[i : i + 1] for i in range(n)]
    if strategy != "random":
        raise ValueError(f"unknown rechunk strategy {strategy!r}; use one of {RECHUNK_STRATEGIES}")
    rng = random.Random(seed)
    cuts: set[int] = set()

    def first(pattern: bytes, offset: int, limit: int = 32) -> None:
        for k, m in enumerate(re.finditer(pattern, body)):
            if k >= limit:
                break
            cuts.add(m.start() + offset)

    first(rb"data:", 3, 16)
    first(rb"\n\n", 1)
    first(rb"\r\n", 1)
    first(rb"[\xc0-\xf7][\x80-\xbf]", 1)  # after the lead byte of a multi-byte character
    first(rb"[\xe0-\xf7][\x80-\xbf][\x80-\xbf]", 2)
    pos = 0
    while pos < min(n, 512):
        pos += rng.randint(1, 8)
        cuts.add(pos)
    count = min(max(1, n // 64), 4096, n - 1)
    cuts.update(rng.sample(range(1, n), count))
    points = sorted(c for c in cuts if 0 < c < n)
    pieces = []
    prev = 0
    for c in points:
        pieces.append(body[prev:c])
        prev = c
    pieces.append(body[prev:])
    return pieces


class _Rechunker:
    """The active re-chunking policy: strategy plus a per-cassette seed and response counter."""

    def __init__(self, strategy: str, seed: int) -> None:
        self.strategy = strategy
        self.seed = seed
        self.count = 0

    def pieces(self, body: bytes) -> list[bytes]:
        self.count += 1
        return rechunk(body, self.seed + self.count, self.strategy)


_RECHUNK_LOCK = threading.Lock()
_active_rechunker: _Rechunker | None = None
_STREAM_CLASSES: dict[type[Any], type[Any]] = {}  # keyed by the module's ByteStream class


def _rechunked_stream_class(httpx_module: Any) -> type[Any]:
    """A byte stream class of ``httpx_module`` (httpx or httpx2) yielding pre-cut pieces."""
    cls = _STREAM_CLASSES.get(httpx_module.ByteStream)
    if cls is None:

        class RechunkedStream(httpx_module.SyncByteStream, httpx_module.AsyncByteStream):  # type: ignore[misc]
            """A replayed response body delivered in several pieces."""

            def __init__(self, pieces: list[bytes]) -> None:
                self._pieces = pieces

            def __iter__(self) -> Iterator[bytes]:
                yield from self._pieces

            async def __aiter__(self) -> Any:
                for piece in self._pieces:
                    yield piece

        cls = _STREAM_CLASSES[httpx_module.ByteStream] = RechunkedStream
    return cls


def _check_signature(func: Any, expected: Sequence[str], where: str) -> None:
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        params = []
    if params[: len(expected)] != list(expected):
        raise VcrInternalsError(
            f"re-chunked replay patches {where}({', '.join(expected)}), but this vcrpy has "
            f"{where}({', '.join(params)}). Set `oapi_rechunk = off` in the ini file (replay as "
            "one blob) or pin a vcrpy version this plugin supports."
        )


@contextlib.contextmanager
def rechunked_replay(strategy: str, seed: int) -> Iterator[None]:
    """While active, bodies replayed by vcrpy reach the client in pieces from :func:`rechunk`.

    What we patch and why (vcrpy has no hook for this; vcrpy 8.2-9.4 internals):

    * ``vcr.stubs.httpx_stubs._deserialize_response(vcr_response, httpx)``: builds the replayed
      ``httpx``/``httpx2`` ``Response`` with one ``ByteStream(body)``. We wrap it and swap the
      response's ``stream`` for one that yields the pieces (sync and async). This covers httpx,
      httpx2 and so the openai SDK (sync and async).
    * ``vcr.stubs.VCRHTTPResponse.stream(amt, decode_content)``: what ``requests`` and urllib3
      iterate; it read fixed ``amt``-byte blocks from a ``BytesIO``. Ours yields the pieces
      (never more than ``amt`` bytes each).

    Both are checked before patching; if vcrpy changed them, :class:`VcrInternalsError` says
    to set ``oapi_rechunk = off``. With ``strategy="off"`` nothing is patched.
    """
    global _active_rechunker
    if strategy == "off":
        yield
        return
    if strategy not in RECHUNK_STRATEGIES:
        raise ValueError(f"unknown rechunk strategy {strategy!r}; use one of {RECHUNK_STRATEGIES}")
    import vcr.stubs as stubs
    from vcr.stubs import httpx_stubs

    original_deserialize = getattr(httpx_stubs, "_deserialize_response", None)
    original_stream = getattr(stubs.VCRHTTPResponse, "stream", None)
    _check_signature(original_deserialize, ("vcr_response", "httpx"), "_deserialize_response")
    _check_signature(original_stream, ("self", "amt"), "VCRHTTPResponse.stream")
    rechunker = _Rechunker(strategy, seed)

    def deserialize_response(vcr_response: Any, httpx: Any) -> Any:
        response = original_deserialize(vcr_response, httpx)  # type: ignore[misc]
        body = (vcr_response.get("body") or {}).get("string")
        if isinstance(body, bytes) and isinstance(response.stream, httpx.ByteStream):
            response.stream = _rechunked_stream_class(httpx)(rechunker.pieces(body))
        return response

    def stream(self: Any, amt: int | None = 65536, decode_content: Any = None) -> Iterator[bytes]:
        for piece in rechunker.pieces(self.read()):
            if amt:
                for i in range(0, len(piece), amt):
                    yield piece[i : i + amt]
            else:
                yield piece

    with _RECHUNK_LOCK:
        if _active_rechunker is not None:
            raise CassetteError("two cassettes are active at once; nest them in one test only")
        _active_rechunker = rechunker
        httpx_stubs._deserialize_response = deserialize_response
        stubs.VCRHTTPResponse.stream = stream
    try:
        yield
    finally:
        with _RECHUNK_LOCK:
            httpx_stubs._deserialize_response = original_deserialize
            stubs.VCRHTTPResponse.stream = original_stream
            _active_rechunker = None


# --------------------------------------------------------------------------------------------
# Network guard
# --------------------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def block_network(reason: str) -> Iterator[None]:
    """Refuse ``socket.connect`` to anything but loopback and Unix sockets while active.

    vcrpy already refuses unmatched requests of the clients it patches; this catches the
    others, so a replayed test never reaches a provider with a real key. ``reason`` ends the
    :class:`NetworkBlockedError` message (what to run instead).
    """
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        host = str(address[0]) if isinstance(address, tuple) and address else str(address)
        if not _is_loopback(host):
            port = address[1] if isinstance(address, tuple) and len(address) > 1 else "?"
            raise NetworkBlockedError(
                f"oapi-stream: network access to {host}:{port} is blocked. {reason}"
            )

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign, assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------------
# Interactions and the session
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Interaction:
    """One request/response pair that passed through a cassette (recorded or replayed)."""

    index: int
    method: str
    uri: str
    request_body: bytes | None
    status: int
    headers: dict[str, list[str]]
    body: bytes
    recorded: bool

    @classmethod
    def from_vcr(
        cls, index: int, request: Any, response: Mapping[str, Any], *, recorded: bool
    ) -> Interaction:
        """Build from vcrpy's ``Request`` and response dict."""
        body = (response.get("body") or {}).get("string") or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        req_body = _read_body(request)
        if isinstance(req_body, str):
            req_body = req_body.encode("utf-8")
        headers = {
            str(k): [str(v) for v in (vals if isinstance(vals, list) else [vals])]
            for k, vals in (response.get("headers") or {}).items()
        }
        status = response.get("status") or {}
        code = status.get("code", 200) if isinstance(status, Mapping) else int(status)
        return cls(index, request.method, request.uri, req_body, int(code), headers, body, recorded)

    def header(self, name: str) -> str:
        """The first value of response header ``name`` (case-insensitive), or ``""``."""
        for key, values in self.headers.items():
            if key.lower() == name.lower() and values:
                return values[0]
        return ""

    @property
    def request_json(self) -> dict[str, Any] | None:
        """The request body parsed as a JSON object, or None (what ``check_chunk_stream`` takes)."""
        if not self.request_body:
            return None
        try:
            parsed = json.loads(self.request_body)
        except (ValueError, UnicodeDecodeError):
            return None
        return parsed if isinstance(parsed, dict) else None

    @property
    def is_chat_stream(self) -> bool:
        """A streamed chat completion: ``.../chat/completions``, 2xx, SSE or ``stream: true``."""
        if not urlsplit(self.uri).path.rstrip("/").endswith("/chat/completions"):
            return False
        if not 200 <= self.status < 300:
            return False
        if "text/event-stream" in self.header("content-type").lower():
            return True
        req = self.request_json
        return bool(req and req.get("stream") is True)

    def label(self) -> str:
        """``#<index> POST <url>`` for messages."""
        return f"#{self.index} {self.method} {self.uri}"


@dataclasses.dataclass(frozen=True)
class CassetteOptions:
    """Everything one cassette session needs; built by the plugin from ini, CLI and marker."""

    path: Path
    mode: str = "replay"
    rootpath: Path = Path()
    nodeid: str = ""
    rechunk: str = "random"
    block_network: bool = True
    filter_headers: tuple[Any, ...] = ()
    filter_query_parameters: tuple[Any, ...] = ()
    vcr_config: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def display(self) -> str:
        """The cassette path as shown in messages (relative to the rootdir)."""
        return display_path(self.path, self.rootpath)

    @property
    def exists(self) -> bool:
        """True when the cassette file exists and is not empty."""
        try:
            return self.path.is_file() and self.path.stat().st_size > 0
        except OSError:
            return False

    @property
    def effective_mode(self) -> Literal["replay", "record", "live"]:
        """What this session does: ``replay`` (offline), ``record`` (live, then write), ``live``."""
        if self.mode == "live":
            return "live"
        if self.mode == "all" or (self.mode == "missing" and not self.exists):
            return "record"
        return "replay"

    def record_command(self) -> str:
        """The command that records this cassette again (for messages)."""
        target = f" {shlex.quote(self.nodeid)}" if self.nodeid else ""
        return f"pytest --oapi-record{target}"


#: vcrpy ``use_cassette`` keywords the plugin owns; ``oapi_vcr_config`` may not set them.
FORBIDDEN_VCR_KEYS = frozenset(
    {
        "path",
        "record_mode",
        "serializer",
        "persister",
        "cassette_library_dir",
        "record_on_exception",
        "path_transformer",
        "func_path_generator",
        "inject_cassette",
    }
)


def _vcr_kwargs(options: CassetteOptions, secrets: SecretSink) -> dict[str, Any]:
    user = dict(options.vcr_config)
    bad = sorted(FORBIDDEN_VCR_KEYS & set(user))
    if bad:
        raise CassetteError(
            f"oapi_vcr_config may not set {', '.join(bad)}: the plugin owns them "
            "(use --oapi-record / --oapi-live, ini oapi_cassette_dir, or the marker's cassette=)"
        )
    header_names = [
        *DEFAULT_FILTER_HEADERS,
        *options.filter_headers,
        *user.pop("filter_headers", ()),
    ]
    query_names = [
        *DEFAULT_FILTER_QUERY_PARAMETERS,
        *options.filter_query_parameters,
        *user.pop("filter_query_parameters", ()),
    ]
    before_response = user.pop("before_record_response", None)
    if before_response is None:
        before_response = []
    elif callable(before_response):
        before_response = [before_response]
    plain_header_names = [h if isinstance(h, str) else h[0] for h in header_names]
    return {
        "record_mode": "none" if options.effective_mode == "replay" else "all",
        "match_on": tuple(user.pop("match_on", MATCH_ON)),
        "filter_headers": _filter_entries(header_names, secrets),
        "filter_query_parameters": _filter_entries(query_names, secrets),
        "before_record_response": [
            _response_header_filter(plain_header_names, secrets),
            *before_response,
        ],
        "decode_compressed_response": user.pop("decode_compressed_response", True),
        "record_on_exception": False,
        "drop_unused_requests": options.effective_mode != "replay",
        **user,
    }


# Keyed by vcrpy's own class: if vcrpy is imported again (pytester restores sys.modules after
# an in-process run), a subclass of the old Cassette would catch the old exception classes.
_CASSETTE_CLASSES: dict[type[Any], type[Any]] = {}


def _cassette_class() -> type[Any]:
    """vcrpy's ``Cassette`` with our unmatched-request error (built lazily: vcrpy is heavy)."""
    from vcr.cassette import Cassette

    cls = _CASSETTE_CLASSES.get(Cassette)
    if cls is None:

        class OapiCassette(Cassette):  # type: ignore[misc]
            """A vcrpy cassette that raises :class:`UnmatchedRequestError` with our hint."""

            oapi_options: CassetteOptions
            oapi_unmatched: list[UnmatchedRequestError]

            def can_play_response_for(self, request: Any) -> bool:
                __tracebackhide__ = True
                playable = bool(super().can_play_response_for(request))
                if not playable and self.write_protected and self.filter_request(request):
                    error = UnmatchedRequestError(_unmatched_message(self, request))
                    self.oapi_unmatched.append(error)
                    raise error
                return playable

        cls = _CASSETTE_CLASSES[Cassette] = OapiCassette
    return cls


def _unmatched_message(cassette: Any, request: Any) -> str:
    options: CassetteOptions = cassette.oapi_options
    lines = [
        f"oapi-stream: no recorded response for this request in cassette {options.display} "
        "(replay mode; a changed request is never served an old stream)",
        f"  {request.method} {request.uri}",
    ]
    body = _read_body(request)
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        lines.append("  body: " + (text if len(text) <= 300 else text[:300] + "..."))
    similar = cassette.find_requests_with_most_matches(request)
    if not len(cassette):
        lines.append("The cassette holds no interactions.")
    elif similar and not similar[0][2]:
        lines.append("Its matching interaction was already played (the test sends it again).")
    elif similar:
        stored, _ok, failed = similar[0]
        names = ", ".join(name for name, _ in failed)
        lines.append(f"Closest recorded request ({stored.method} {stored.uri}) differs in {names}:")
        for _name, message in failed:
            lines += ["    " + m for m in (message or "").splitlines()]
    else:
        lines.append(f"Nothing in its {len(cassette)} interaction(s) is similar.")
    lines.append(f"Re-record it with: {options.record_command()}")
    return "\n".join(lines)


class CassetteSession:
    """One test's cassette: open it, let requests pass, list what passed, close (write or not).

    ``start()`` loads the cassette and installs vcrpy's patches, the re-chunking and (in
    replay mode) the network guard; ``stop(save=...)`` removes them and writes the cassette
    only in record mode, only if ``save`` (the test passed) and something was recorded.
    """

    def __init__(self, options: CassetteOptions) -> None:
        self.options = options
        self.mode = options.effective_mode
        self.secrets = SecretSink()
        self.persister = AtomicPersister(self.secrets, load=self.mode == "replay")
        self.cassette: Any = None
        self._context: Any = None
        self._stack = contextlib.ExitStack()
        self._loaded = 0
        self.written = False

    def start(self) -> None:
        """Load the cassette and patch the HTTP clients; raises :class:`CassetteMissingError`."""
        options = self.options
        if self.mode == "replay" and not options.exists:
            raise CassetteMissingError(
                f"oapi-stream: cassette {options.display} does not exist (replay mode, "
                f"network blocked).\nRecord it with: {options.record_command()}"
            )
        import vcr

        my_vcr = vcr.VCR()
        my_vcr.register_serializer(_SERIALIZER_NAME, ReadableYamlSerializer())
        my_vcr.register_matcher("oapi_body", _body_matcher)
        my_vcr.register_persister(self.persister)
        kwargs = _vcr_kwargs(options, self.secrets)
        config = my_vcr.get_merged_config(
            path=str(options.path), serializer=_SERIALIZER_NAME, **kwargs
        )
        cls = _cassette_class()
        self._context = cls.use(**config)
        try:
            self.cassette = self._context.__enter__()
        except yaml.YAMLError as exc:
            raise CassetteError(
                f"oapi-stream: cassette {options.display} is not valid YAML ({exc}).\n"
                f"Fix it or re-record it with: {options.record_command()}"
            ) from exc
        self.cassette.oapi_options = options
        self.cassette.oapi_unmatched = []
        self._loaded = len(self.cassette)
        try:
            seed = zlib.crc32(options.display.encode("utf-8"))
            self._stack.enter_context(rechunked_replay(options.rechunk, seed))
            if self.mode == "replay" and options.block_network:
                self._stack.enter_context(
                    block_network(
                        f"Test {options.nodeid or '?'} replays cassette {options.display}; "
                        "run with --oapi-record or --oapi-live to reach the endpoint."
                    )
                )
        except BaseException:
            self.stop(save=False)
            raise

    @property
    def unmatched(self) -> list[UnmatchedRequestError]:
        """Requests that found no response (in replay mode), in order."""
        return list(self.cassette.oapi_unmatched) if self.cassette is not None else []

    def interactions(self) -> list[Interaction]:
        """The interactions that passed through so far: replayed (first-play order), recorded."""
        cassette = self.cassette
        if cassette is None:
            return []
        played = [i for i, count in cassette.play_counts.items() if count > 0]
        recorded = list(range(self._loaded, len(cassette.data)))
        return [
            Interaction.from_vcr(i, *cassette.data[i], recorded=i >= self._loaded)
            for i in [*played, *recorded]
        ]

    def stop(self, *, save: bool) -> bool:
        """Unpatch; in record mode with ``save`` (the test passed) write the cassette.

        Returns True when a file was written (an empty cassette when the test sent nothing).
        """
        self._stack.close()
        context, self._context = self._context, None
        if context is None:
            return False
        before = self.persister.writes
        if save and self.mode == "record":
            context.__exit__(None, None, None)
            if self.persister.writes == before:
                # The test sent nothing: write an empty cassette, so that replay finds one.
                self.persister.save_cassette(
                    self.options.path, {"requests": [], "responses": []}, ReadableYamlSerializer()
                )
        else:
            # vcrpy writes on a clean exit; an exception (record_on_exception=False) skips it.
            discard = _Discard()
            context.__exit__(_Discard, discard, None)
        self.written = self.persister.writes > before
        return self.written


class _Discard(Exception):
    """Passed to vcrpy's context exit so that it does not write the cassette."""


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def check_interaction(
    interaction: Interaction,
    *,
    profile: str,
    ignore: Sequence[str],
    strict: bool,
    source: str,
) -> Report:
    """Check one streamed chat completion with the recorded request body and URL."""
    from .. import check_chunk_stream

    report = check_chunk_stream(
        interaction.body,
        profile=profile,
        ignore=tuple(ignore),
        strict=strict,
        request=interaction.request_json,
        url=interaction.uri,
    )
    return dataclasses.replace(report, source=source)


def streams_of(reports: Iterable[Report]) -> list[ChunkStream]:
    """The parsed streams of some reports (reports without a stream are skipped)."""
    return [r.stream for r in reports if r.stream is not None]


@dataclasses.dataclass(frozen=True)
class CheckOptions:
    """How the streams of one test are checked (from the marker, CLI and ini)."""

    profile: str = "auto"
    ignore: tuple[str, ...] = ()
    strict: bool = False
    check: bool = True


class CassetteHandle:
    """What the ``oapi_cassette`` fixture returns: the test's cassette and the streams it saw."""

    def __init__(self, session: CassetteSession, checks: CheckOptions) -> None:
        self.session = session
        self.checks = checks
        self._reports: dict[int, Report] = {}

    @property
    def path(self) -> Path:
        """The cassette file of this test."""
        return self.session.options.path

    @property
    def mode(self) -> str:
        """``replay``, ``record`` or ``live``: what this test's cassette does in this run."""
        return self.session.mode

    @property
    def interactions(self) -> list[Interaction]:
        """Every request/response pair that passed through so far (replayed, then recorded)."""
        return self.session.interactions()

    @property
    def reports(self) -> list[Report]:
        """The check report of every streamed chat completion seen so far, in order."""
        reports = []
        for interaction in self.interactions:
            if not interaction.is_chat_stream:
                continue
            report = self._reports.get(interaction.index)
            if report is None:
                report = self._reports[interaction.index] = check_interaction(
                    interaction,
                    profile=self.checks.profile,
                    ignore=self.checks.ignore,
                    strict=self.checks.strict,
                    source=f"{self.session.options.display} {interaction.label()}",
                )
            reports.append(report)
        return reports

    @property
    def checked_reports(self) -> list[Report]:
        """The reports computed so far, without checking anything new (for the summary)."""
        return list(self._reports.values())

    @property
    def streams(self) -> list[ChunkStream]:
        """The ``ChunkStream`` of every streamed chat completion seen so far."""
        return streams_of(self.reports)

    def contract_error(self) -> AssertionError | None:
        """A ``StreamContractError`` naming every failing stream, or None when all pass."""
        if not self.checks.check:
            return None
        failing = [r for r in self.reports if not r.ok]
        if not failing:
            return None
        from .. import StreamContractError

        error = StreamContractError(failing[0])
        if len(failing) > 1:
            error.args = ("\n\n".join(r.format() for r in failing),)
        return error


# --------------------------------------------------------------------------------------------
# Run statistics (merged across xdist workers)
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class RunStats:
    """Counts for the terminal summary; plain data so xdist workers can send them."""

    replayed: int = 0
    recorded: int = 0
    missing: int = 0
    live: int = 0
    not_written: int = 0
    unmatched: int = 0
    streams_checked: int = 0
    streams_failed: int = 0
    violations: Counter[str] = dataclasses.field(default_factory=Counter)
    warnings: Counter[str] = dataclasses.field(default_factory=Counter)
    missing_tests: list[str] = dataclasses.field(default_factory=list)
    unmatched_tests: list[str] = dataclasses.field(default_factory=list)

    def add_reports(self, reports: Iterable[Report]) -> None:
        """Count checked streams and their violations per code (failing, and other warnings)."""
        for report in reports:
            self.streams_checked += 1
            failures = report.failures
            if failures:
                self.streams_failed += 1
            failing = {id(v) for v in failures}
            for v in report.violations:
                key = f"{v.code} {v.rule}"
                if id(v) in failing:
                    self.violations[key] += 1
                elif v.severity == "warn":
                    self.warnings[key] += 1

    @property
    def active(self) -> bool:
        """True when any cassette was used (else the summary stays silent)."""
        return bool(
            self.replayed
            + self.recorded
            + self.missing
            + self.live
            + self.not_written
            + self.unmatched
            + self.streams_checked
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (for ``config.workeroutput``)."""
        data = dataclasses.asdict(self)
        data["violations"] = dict(self.violations)
        data["warnings"] = dict(self.warnings)
        return data

    def merge(self, data: Mapping[str, Any]) -> None:
        """Add the counts of another run (a worker's :meth:`to_dict`)."""
        for f in dataclasses.fields(self):
            value = data.get(f.name)
            if value is None:
                continue
            current = getattr(self, f.name)
            if isinstance(current, Counter):
                current.update(value)
            elif isinstance(current, list):
                current.extend(value)
            else:
                setattr(self, f.name, current + int(value))

    def summary_lines(self) -> list[str]:
        """The terminal summary: cassettes, streams, violations per code, what to run next."""
        parts = [
            f"{self.replayed} replayed",
            f"{self.recorded} recorded",
            f"{self.missing} missing",
        ]
        if self.live:
            parts.append(f"{self.live} live")
        if self.not_written:
            parts.append(f"{self.not_written} not written (the test did not pass)")
        if self.unmatched:
            parts.append(f"{self.unmatched} with unmatched requests")
        lines = ["cassettes: " + ", ".join(parts)]
        lines.append(
            f"streams checked: {self.streams_checked}, with violations: {self.streams_failed}"
        )
        if self.violations:
            lines.append(
                "violations: "
                + ", ".join(f"{code} x{n}" for code, n in sorted(self.violations.items()))
            )
        if self.warnings:
            lines.append(
                "warnings (not failing): "
                + ", ".join(f"{code} x{n}" for code, n in sorted(self.warnings.items()))
            )
        if self.missing:
            lines.append("missing cassettes for: " + _some(self.missing_tests))
            lines.append("next: pytest --oapi-record=missing   (records the missing cassettes)")
        if self.unmatched:
            lines.append("unmatched requests in: " + _some(self.unmatched_tests))
            targets = " ".join(shlex.quote(t) for t in sorted(set(self.unmatched_tests))[:5])
            lines.append(f"next: pytest --oapi-record {targets}   (re-records those cassettes)")
        return lines


def _some(items: Sequence[str], limit: int = 5) -> str:
    shown = sorted(set(items))
    text = ", ".join(shown[:limit])
    if len(shown) > limit:
        text += f", ... ({len(shown) - limit} more)"
    return text
