"""Readable cassette files: plain vcrpy YAML with SSE bodies as literal blocks, atomic writes.

Written with libyaml; every multi-line string (the SSE body, the pretty-printed JSON request body)
is a YAML literal block, so a reviewer reads one event a line in a PR diff. The persister writes a
temporary file in the same folder and then ``os.replace``, after scrubbing the secrets seen.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from .errors import BrokenCassetteError
from .files import EMPTY_FILE, atomic_write_text, cassette_problem
from .filters import SecretSink
from .matching import request_key

_SERIALIZER_NAME = "oapi_yaml"
_HEADER_COMMENT = (
    "# pytest-oapi-stream cassette (vcrpy format). Secrets are redacted.\n"
    "# Re-record: pytest --oapi-record <test id>\n"
)
_MIN_SECRET_LEN = 8
_NAME_MAX = 200  # bytes; most file systems allow 255, leave room for ".yaml" and temp names
_FORBIDDEN_IN_NAMES = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
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


class AtomicPersister:
    """vcrpy persister: UTF-8 files, atomic writes, secrets scrubbed, loading can be switched off.

    ``load=False`` makes every cassette look absent (record-all and live modes start empty,
    so a corrupt old cassette cannot break a re-recording). ``merge=True`` (a cassette shared
    by several tests through ``cassette=``) keeps what the file holds: each interaction whose
    request was recorded again is replaced, the others stay; the read and the write happen
    under a lock on the folder, so xdist workers recording the same cassette lose nothing.
    """

    def __init__(
        self, secrets: SecretSink | None = None, *, load: bool = True, merge: bool = False
    ) -> None:
        self.secrets = secrets if secrets is not None else SecretSink()
        self.load = load
        self.merge = merge
        self.writes = 0
        #: Interactions kept from the file by the last merged write.
        self.kept = 0

    def load_cassette(self, cassette_path: str | os.PathLike[str], serializer: Any) -> Any:
        """Read and deserialize a cassette; vcrpy's ``CassetteNotFoundError`` when absent.

        A file that is there but holds no replayable cassette (empty, unreadable, YAML of
        another shape) raises :class:`BrokenCassetteError` with the CLI's one-line reason;
        invalid YAML raises ``yaml.YAMLError``.
        """
        from vcr.persisters.filesystem import CassetteNotFoundError

        path = Path(cassette_path)
        if not self.load or not path.is_file():
            raise CassetteNotFoundError()
        return _read_pairs(path, serializer)

    def save_cassette(
        self, cassette_path: str | os.PathLike[str], cassette_dict: Any, serializer: Any
    ) -> None:
        """Serialize, scrub the secrets seen, then write atomically (merged when shared)."""
        path = Path(cassette_path)
        if not self.merge:
            self._write(path, cassette_dict, serializer)
            return
        with folder_lock(path.parent):
            self._write(path, self._merged(path, cassette_dict, serializer), serializer)

    def _merged(self, path: Path, cassette_dict: Any, serializer: Any) -> dict[str, Any]:
        """The file's interactions whose request was not recorded again, then the new ones."""
        requests = list(cassette_dict.get("requests", ()))
        responses = list(cassette_dict.get("responses", ()))
        try:
            old_requests, old_responses, *_ = _read_pairs(path, serializer)
        except (OSError, BrokenCassetteError, yaml.YAMLError, ValueError):
            old_requests, old_responses = [], []  # nothing readable to keep
        new_keys = {request_key(r) for r in requests}
        kept = [
            (r, s)
            for r, s in zip(old_requests, old_responses, strict=False)
            if request_key(r) not in new_keys
        ]
        self.kept = len(kept)
        return {
            **cassette_dict,
            "requests": [r for r, _ in kept] + requests,
            "responses": [s for _, s in kept] + responses,
        }

    def _write(self, path: Path, cassette_dict: Any, serializer: Any) -> None:
        from vcr.serialize import serialize

        hosts = [getattr(r, "host", "") for r in cassette_dict.get("requests", ())]
        text = self.secrets.scrub(serialize(cassette_dict, serializer), hosts=hosts)
        atomic_write_text(path, text)
        self.writes += 1


def _read_pairs(path: Path, serializer: Any) -> Any:
    """vcrpy's ``(requests, responses)`` of a cassette file, or :class:`BrokenCassetteError`."""
    from vcr.persisters.filesystem import CassetteNotFoundError
    from vcr.serialize import deserialize

    try:
        data = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CassetteNotFoundError() from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BrokenCassetteError(f"cannot read ({exc})") from None
    if not data.strip():
        raise BrokenCassetteError(EMPTY_FILE)
    doc = serializer.deserialize(data)
    problem = cassette_problem(doc)
    if problem is not None:
        raise BrokenCassetteError(problem)
    return deserialize(data, _Parsed(doc))


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder`` (``flock`` on its descriptor) while active.

    Serialises the read-merge-write of a shared cassette between processes (xdist workers)
    without leaving a lock file behind. Where ``fcntl`` is missing (Windows) it is a no-op.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


class _Parsed:
    """A vcrpy serializer that hands back a document already parsed (no second parse)."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc

    def deserialize(self, cassette_string: str) -> Any:
        return self.doc
