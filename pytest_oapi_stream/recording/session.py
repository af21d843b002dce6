"""One test's cassette session over vcrpy: options, interactions, matching errors, write or not.

vcrpy itself is imported lazily (it pulls in every HTTP library it patches, ~0.1-0.2 s), so a
pytest session that never opens a cassette does not pay for it.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import os
import shlex
import sys
import warnings
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from ..core.surface import surface_of_path
from .cuts import Cut
from .errors import (
    BrokenCassetteError,
    CassetteError,
    CassetteMissingError,
    LeftoverTempFileWarning,
    UnmatchedRequestError,
)
from .filters import (
    DEFAULT_FILTER_HEADERS,
    DEFAULT_FILTER_QUERY_PARAMETERS,
    Redactor,
    SecretSink,
    _filter_entries,
    _response_header_filter,
    body_field_filter,
    redacted_logs,
    userinfo_filter,
)
from .matching import MATCH_ON, _body_matcher, _port_matcher, _read_body
from .network import block_network, is_loopback
from .paths import clean_leftover_temps, display_path
from .replay import rechunked_replay
from .serializer import _SERIALIZER_NAME, AtomicPersister, ReadableYamlSerializer

#: Record modes: ``replay`` (default, offline), ``all`` (record every cassette again),
#: ``missing`` (record only cassettes that do not exist), ``live`` (talk to the endpoint,
#: check the streams, write nothing).
MODES: tuple[str, ...] = ("replay", "all", "missing", "live")

#: The ``OPENAI_API_KEY`` set for replayed tests when none is set, so ``openai.OpenAI()`` builds.
PLACEHOLDER_API_KEY = "sk-oapi-stream-replay-placeholder"


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
    #: Set when the provider cut the body (``oapi_cut`` in the cassette): ``body`` is what
    #: arrived before the cut.
    cut: Cut | None = None

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
        return cls(
            index,
            request.method,
            request.uri,
            req_body,
            int(code),
            headers,
            body,
            recorded,
            Cut.from_response(response),
        )

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

    def _streamed(self, surface: str) -> bool:
        """A 2xx answer on ``surface``'s path (core/surface.py), sent as SSE or asked for with
        ``stream: true``."""
        if surface_of_path(self.uri) != surface or not 200 <= self.status < 300:
            return False
        if "text/event-stream" in self.header("content-type").lower():
            return True
        req = self.request_json
        return bool(req and req.get("stream") is True)

    @property
    def is_chat_stream(self) -> bool:
        """A streamed chat completion: ``.../chat/completions``, 2xx, SSE or ``stream: true``."""
        return self._streamed("chat")

    @property
    def is_responses_stream(self) -> bool:
        """A streamed Responses answer: ``.../responses`` (or ``.../responses/{id}`` resumed
        with ``stream=true``), 2xx, SSE or ``stream: true``."""
        return self._streamed("responses")

    @property
    def is_stream(self) -> bool:
        """A streamed chat completion or Responses answer: what the teardown check judges."""
        return self.is_chat_stream or self.is_responses_stream

    def label(self) -> str:
        """``#<index> POST <url>`` for messages (and the cut, when the provider cut the body)."""
        label = f"#{self.index} {self.method} {self.uri}"
        return f"{label}; {self.cut.describe(len(self.body))}" if self.cut is not None else label


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
    filter_body_fields: tuple[str, ...] = ()
    #: The cassette was named with ``cassette=`` and may hold other tests' interactions:
    #: recording merges into it instead of replacing it.
    shared: bool = False
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

    @property
    def adds_episodes(self) -> bool:
        """A shared cassette under ``missing`` that exists: replay what it holds, record the
        requests it lacks, merge them in (other tests' parts were recorded before)."""
        return self.mode == "missing" and self.shared and self.exists

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


def _vcr_kwargs(
    options: CassetteOptions, secrets: SecretSink, episodes: bool = False
) -> dict[str, Any]:
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
    before_response = _hooks(user.pop("before_record_response", None))
    before_request = _hooks(user.pop("before_record_request", user.pop("before_record", None)))
    plain_header_names = [h if isinstance(h, str) else h[0] for h in header_names]
    return {
        "record_mode": "new_episodes"
        if episodes
        else "none"
        if options.effective_mode == "replay"
        else "all",
        "match_on": tuple(user.pop("match_on", MATCH_ON)),
        "filter_headers": _filter_entries(header_names, secrets),
        "filter_query_parameters": _filter_entries(query_names, secrets),
        "before_record_request": [
            userinfo_filter(secrets),
            body_field_filter(options.filter_body_fields, secrets),
            *before_request,
        ],
        "before_record_response": [
            _response_header_filter(plain_header_names, secrets),
            *before_response,
        ],
        "decode_compressed_response": user.pop("decode_compressed_response", True),
        "record_on_exception": False,
        "drop_unused_requests": options.effective_mode != "replay" and not episodes,
        **user,
    }


def _hooks(value: Any) -> list[Any]:
    """A vcrpy hook option (None, one callable, or several) as a list."""
    if value is None:
        return []
    return [value] if callable(value) else list(value)


def query_names(options: CassetteOptions) -> list[str]:
    """Every query parameter whose value is redacted for this cassette (defaults, ini, user)."""
    user = options.vcr_config.get("filter_query_parameters", ())
    names = [*DEFAULT_FILTER_QUERY_PARAMETERS, *options.filter_query_parameters, *user]
    return [n if isinstance(n, str) else n[0] for n in names]


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
            oapi_redact: Redactor

            def can_play_response_for(self, request: Any) -> bool:
                __tracebackhide__ = True
                playable = bool(super().can_play_response_for(request))
                if playable or not self.filter_request(request):
                    return playable
                if self.write_protected:
                    error = UnmatchedRequestError(_unmatched_message(self, request))
                elif _carries_placeholder_key(request):  # vcrpy would send it live: refuse
                    error = MissingKeyError(_missing_key_message(self, request))
                else:
                    return playable
                self.oapi_unmatched.append(error)
                raise error

        cls = _CASSETTE_CLASSES[Cassette] = OapiCassette
    return cls


class MissingKeyError(UnmatchedRequestError):
    """A request the cassette lacks would be recorded, but it carries the replay placeholder key.

    A shared cassette under ``--oapi-record=missing`` replays until a test sends a request it
    does not hold; without ``OPENAI_API_KEY`` the client was built with
    :data:`PLACEHOLDER_API_KEY`, which must never reach a provider (nor its 401 a cassette).
    """


def _carries_placeholder_key(request: Any) -> bool:
    """True when the request sends :data:`PLACEHOLDER_API_KEY` in a header or its URL."""
    values = [str(v) for v in (getattr(request, "headers", None) or {}).values()]
    return any(PLACEHOLDER_API_KEY in v for v in (*values, str(getattr(request, "uri", ""))))


def _missing_key_message(cassette: Any, request: Any) -> str:
    """One line, as ``oapi_client`` says it: the key is missing, and what would be recorded."""
    options: CassetteOptions = cassette.oapi_options
    request = cassette._before_record_request(request) or request  # what would be recorded
    return str(
        cassette.oapi_redact(
            f"oapi-stream: OPENAI_API_KEY is not set; cassette {options.display} lacks this "
            f"request ({request.method} {request.uri}), and recording it would send the replay "
            "placeholder key to that endpoint. Nothing was sent: set the key (any value for a "
            "server that ignores keys) to record it."
        )
    )


def _unmatched_message(cassette: Any, request: Any) -> str:
    """Why a request found no response, with the same filters as the cassette applied."""
    options: CassetteOptions = cassette.oapi_options
    request = cassette._before_record_request(request) or request  # what would be recorded
    lines = []
    advice = _base_url_advice(request, [stored for stored, _ in cassette.data], options)
    if advice:
        lines.append(advice)
    lines += [
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
    return str(cassette.oapi_redact("\n".join(lines)))


#: API endpoints a base URL is followed by (the openai SDK's ``base_url`` ends before them).
_ENDPOINTS = ("/chat/completions", "/completions", "/responses", "/embeddings", "/models")


def _origin(uri: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port defaulted by scheme (no user info)."""
    parts = urlsplit(uri)
    try:
        port = parts.port
    except ValueError:
        port = None
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


def _base_url(uri: str) -> str:
    """The base URL a client was given to send ``uri``: origin and path up to the endpoint."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    try:
        if parts.port is not None:
            netloc += f":{parts.port}"
    except ValueError:
        pass
    path = parts.path.rstrip("/")
    for endpoint in _ENDPOINTS:
        if path.endswith(endpoint):
            path = path[: -len(endpoint)]
            break
    else:
        path = path.rsplit("/", 1)[0]
    return f"{parts.scheme}://{netloc}{path}"


def _same_origin(a: str, b: str) -> bool:
    (s1, h1, p1), (s2, h2, p2) = _origin(a), _origin(b)
    return s1 == s2 and h1 == h2 and (p1 == p2 or (is_loopback(h1) and is_loopback(h2)))


def _base_url_advice(request: Any, recorded: list[Any], options: CassetteOptions) -> str | None:
    """The first line of an unmatched-request message when no recording went to its origin.

    Replaying without the ``OPENAI_BASE_URL`` used when recording is the most common cause of
    an unmatched request; re-recording would not help, so say how to set it.
    """
    if not recorded or any(_same_origin(request.uri, r.uri) for r in recorded):
        return None
    bases = list(dict.fromkeys(_base_url(r.uri) for r in recorded))
    base = bases[0]
    more = f" (and {', '.join(bases[1:])})" if len(bases) > 1 else ""
    return (
        f"oapi-stream: the base URL differs from the recording's: this request goes to "
        f"{_base_url(request.uri)}, cassette {options.display} was recorded against {base}"
        f"{more}. Replay with OPENAI_BASE_URL={base} (or ini oapi_base_url = {base}), as when "
        "recording."
    )


def _hide(excinfo: Any) -> bool:
    """pytest ``__tracebackhide__``: hide a frame when it passes one of our errors on."""
    return bool(excinfo.errisinstance(CassetteError))


@contextlib.contextmanager
def hidden_vcr_frames() -> Iterator[None]:
    """While active, pytest hides vcrpy's frames from the traceback of a :class:`CassetteError`.

    Our message (what differs, how to fix it) is what a user needs; vcrpy's stub frames between
    the client and our error only push it down, as do those of our wrappers around them
    (``cuts``). pytest honours a callable ``__tracebackhide__`` in a frame's globals; these
    modules get one for the session and lose it afterwards.
    """
    wrappers = {f"{__package__}.cuts"}
    modules = [
        m
        for name, m in list(sys.modules.items())
        if (name == "vcr" or name.startswith("vcr.") or name in wrappers)
        and m is not None
        and "__tracebackhide__" not in vars(m)
    ]
    for module in modules:
        module.__tracebackhide__ = _hide  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in modules:
            vars(module).pop("__tracebackhide__", None)


class CassetteSession:
    """One test's cassette: open it, let requests pass, list what passed, close (write or not).

    ``start()`` loads the cassette and installs vcrpy's patches, the re-chunking and (in
    replay mode) the network guard; ``stop(save=...)`` removes them and writes the cassette
    only in record mode, only if ``save`` (the test passed) and something was recorded.
    """

    def __init__(self, options: CassetteOptions) -> None:
        self.options = options
        self._episodes = options.adds_episodes
        self._mode = "record" if self._episodes else options.effective_mode
        self.secrets = SecretSink()
        #: The cassette's filters for free text: messages, report sections, log lines.
        self.redact = Redactor(self.secrets, query_names(options))
        self.persister = AtomicPersister(
            self.secrets, load=self._mode == "replay" or self._episodes, merge=options.shared
        )
        self.cassette: Any = None
        self._context: Any = None
        self._stack = contextlib.ExitStack()
        self._loaded = 0
        self.written = False

    def start(self) -> None:
        """Load the cassette and patch the HTTP clients; raises :class:`CassetteMissingError`."""
        options = self.options
        if self._mode == "replay" and not options.exists and not options.path.is_file():
            raise CassetteMissingError(
                f"oapi-stream: cassette {options.display} does not exist (replay mode, "
                f"network blocked).\nRecord it with: {options.record_command()}"
            )
        self._report_leftover_temps()
        if self._mode == "record":
            problem = _unwritable(options.path.parent)
            if problem:  # say so before the test spends a live request
                raise CassetteError(self._write_error(problem))
        import vcr

        my_vcr = vcr.VCR()
        my_vcr.register_serializer(_SERIALIZER_NAME, ReadableYamlSerializer())
        my_vcr.register_matcher("oapi_body", _body_matcher)
        my_vcr.register_matcher("oapi_port", _port_matcher)
        my_vcr.register_persister(self.persister)
        kwargs = _vcr_kwargs(options, self.secrets, self._episodes)
        config = my_vcr.get_merged_config(
            path=str(options.path), serializer=_SERIALIZER_NAME, **kwargs
        )
        cls = _cassette_class()
        self._context = cls.use(**config)
        try:
            self.cassette = self._context.__enter__()
        except yaml.YAMLError as exc:  # one line with the position, as the CLI says it
            from .files import yaml_problem

            raise CassetteError(
                f"oapi-stream: cassette {options.display}: not valid YAML {yaml_problem(exc)}\n"
                f"Fix it or re-record it with: {options.record_command()}"
            ) from None
        except BrokenCassetteError as exc:
            raise CassetteError(
                f"oapi-stream: cassette {options.display}: {exc.reason}\n"
                f"Re-record it with: {options.record_command()}"
            ) from None
        self.cassette.oapi_options = options
        self.cassette.oapi_redact = self.redact
        self.cassette.oapi_unmatched = []
        self._loaded = len(self.cassette)
        try:
            seed = zlib.crc32(options.display.encode("utf-8"))
            self._stack.enter_context(rechunked_replay(options.rechunk, seed))
            self._stack.enter_context(hidden_vcr_frames())
            self._stack.enter_context(redacted_logs(self.redact, self._log_arg))
            if self._mode == "replay" and options.block_network:
                self._stack.enter_context(
                    block_network(
                        f"Test {options.nodeid or '?'} replays cassette {options.display}; "
                        "run with --oapi-record or --oapi-live to reach the endpoint."
                    )
                )
        except BaseException:
            self.stop(save=False)
            raise

    def _report_leftover_temps(self) -> None:
        """Remove what an interrupted write of this cassette left; warn about each file."""
        options = self.options
        removed, kept = clean_leftover_temps(options.path)
        for tmp in removed:
            warnings.warn(
                f"oapi-stream: removed {display_path(tmp, options.rootpath)}, left by an "
                f"interrupted write of cassette {options.display} (the cassette was kept)",
                LeftoverTempFileWarning,
                stacklevel=2,
            )
        for tmp in kept:
            warnings.warn(
                f"oapi-stream: {display_path(tmp, options.rootpath)} is a temporary file of "
                f"cassette {options.display} being written now or just left by an interrupted "
                "write; kept (the next run removes it once it is a minute old)",
                LeftoverTempFileWarning,
                stacklevel=2,
            )

    def _write_error(self, reason: str) -> str:
        """One line: the cassette and the folder that cannot take it, and why."""
        options = self.options
        folder = display_path(options.path.parent, options.rootpath)
        return (
            f"oapi-stream: cannot write cassette {options.display}: the folder {folder} "
            f"is not writable ({reason}); the recording is not saved."
        )

    def _log_arg(self, value: Any) -> Any:
        """A vcrpy log argument with the cassette's filters applied (on a copy)."""
        cassette = self.cassette
        if cassette is None:
            return value
        if isinstance(value, dict) and "headers" in value:
            return cassette._before_record_response(copy.deepcopy(value))
        if type(value).__name__ == "Request" and hasattr(value, "uri"):
            return cassette._before_record_request(value) or value
        return value

    @property
    def mode(self) -> str:
        """``replay``, ``record`` or ``live``: what this cassette does (did) in this test.

        A shared cassette under ``--oapi-record=missing`` records only the requests it lacks;
        until it has recorded one (and after, if it recorded none) it is replaying.
        """
        if self._episodes and not (
            self.cassette is not None and len(self.cassette.data) > self._loaded
        ):
            return "replay"
        return self._mode

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
        if save and self._mode == "record":
            try:
                context.__exit__(None, None, None)
                if self.persister.writes == before and not self._episodes:
                    # The test sent nothing: write an empty cassette, so that replay finds one.
                    self.persister.save_cassette(
                        self.options.path,
                        {"requests": [], "responses": []},
                        ReadableYamlSerializer(),
                    )
            except OSError as exc:  # a read-only folder, a full disk: one line, no traceback
                raise CassetteError(self._write_error(exc.strerror or str(exc))) from None
        else:
            # vcrpy writes on a clean exit; an exception (record_on_exception=False) skips it.
            discard = _Discard()
            context.__exit__(_Discard, discard, None)
        self.written = self.persister.writes > before
        return self.written


def _unwritable(folder: Path) -> str | None:
    """Why a cassette cannot be written into ``folder`` (or its nearest existing parent)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return "no write permission for this user"
    return None


class _Discard(Exception):
    """Passed to vcrpy's context exit so that it does not write the cassette."""
