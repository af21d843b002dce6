"""Secret filters: what never reaches a cassette, a message or a log line.

* headers and query parameters named by the defaults (every provider key the profiles name),
  the ini and ``oapi_vcr_config``: their values become :data:`REDACTED`;
* URL user info (``http://user:password@host``) is dropped;
* request-body fields named by path (ini ``oapi_filter_body_fields``, the marker's
  ``filter_body_fields``) become :data:`REDACTED`;
* every value a filter saw is remembered (:class:`SecretSink`) and scrubbed from the whole
  cassette text, so a key a provider echoes in an error body is caught too;
* :class:`Redactor` applies the same to the text of messages and log lines.

Only secret values are scrubbed: cookie attributes (``Domain=``, ``Path=``) are no secrets, and
no remembered value is ever scrubbed out of a request's host.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: What a filtered secret becomes in a cassette.
REDACTED = "REDACTED"

#: The key headers of the providers the profiles name (``chat/profiles.py``), for reference and
#: for the test that keeps the defaults complete when a profile is added.
PROVIDER_KEY_HEADERS: dict[str, tuple[str, ...]] = {
    "openai": ("authorization", "openai-organization", "openai-project"),
    "azure": ("api-key", "authorization", "ocp-apim-subscription-key"),
    "deepseek": ("authorization",),
    "qwen": ("authorization",),
    "groq": ("authorization",),
    "openrouter": ("authorization",),
    "mistral": ("authorization",),
    "gemini": ("x-goog-api-key", "authorization"),
    "xai": ("authorization",),
    "vllm": ("authorization",),
    "llamacpp": ("authorization",),
    "ollama": ("authorization",),
    "anthropic": ("x-api-key", "authorization"),
    "lenient": (),
}

#: The key query parameters of those providers (Gemini's ``key``, Azure's ``api-key``, OAuth's
#: ``access_token``), and the spellings gateways use.
PROVIDER_KEY_PARAMETERS: dict[str, tuple[str, ...]] = {
    "gemini": ("key", "access_token"),
    "azure": ("api-key", "subscription-key"),
}

#: Headers (request and response) whose values never reach disk.
DEFAULT_FILTER_HEADERS: tuple[str, ...] = (
    "authorization",
    "proxy-authorization",
    "api-key",
    "x-api-key",
    "x-goog-api-key",
    "ocp-apim-subscription-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "set-cookie",
)

#: Query parameters whose values never reach disk.
DEFAULT_FILTER_QUERY_PARAMETERS: tuple[str, ...] = (
    "key",
    "api-key",
    "api_key",
    "apikey",
    "subscription-key",
    "access_token",
    "token",
)

_MIN_SECRET_LEN = 8

#: Set-Cookie attributes: their values (a domain, a path, a date) are never secrets.
_COOKIE_ATTRIBUTES = frozenset(
    {
        "domain",
        "path",
        "expires",
        "max-age",
        "samesite",
        "secure",
        "httponly",
        "partitioned",
        "priority",
        "version",
        "comment",
    }
)


class SecretSink:
    """Collects the secret values the filters saw, to scrub them from the whole cassette text.

    Filters replace the headers and parameters they know; a provider that echoes a key in an
    error body, or a cookie value in a redirect URL, is caught by the text scrub.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._fields: set[tuple[str, str]] = set()  # (key, value) of redacted body fields

    def add(self, value: Any, name: str = "") -> None:
        """Remember ``value`` (a header value, a list of them, a query value) as a secret.

        ``name`` is the header it came from: of a ``cookie`` header each pair's value is a
        secret, of a ``set-cookie`` header only the cookie's own value (never its attributes).
        """
        if isinstance(value, (list, tuple)):
            for v in value:
                self.add(v, name)
            return
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str):
            return
        value = value.strip()
        lowered = name.lower()
        candidates = set()
        if lowered == "set-cookie":
            first = value.split(";", 1)[0]
            candidates |= {first.strip(), first.partition("=")[2].strip()}
        elif lowered == "cookie":
            for part in value.split(";"):
                candidates |= {part.strip(), part.partition("=")[2].strip()}
        else:
            candidates.add(value)
            scheme, _, token = value.partition(" ")
            if token and scheme.isalpha():  # "Bearer sk-...", "Basic ..."
                candidates.add(token.strip())
        self._values.update(c for c in candidates if len(c) >= _MIN_SECRET_LEN and c != REDACTED)

    def __len__(self) -> int:
        return len(self._values) + len(self._fields)

    def add_field(self, key: str, value: str) -> None:
        """Remember a redacted request-body field: scrubbed where ``"key": "value"`` is echoed.

        A body field (``user``, ``metadata``) may hold an everyday word; scrubbing it as a
        substring could rewrite a stream (``"role":"assistant"``), so only the same key with
        the same string value is replaced (a provider echoing ``"user": "..."`` is caught).
        """
        if len(value) >= _MIN_SECRET_LEN and value != REDACTED:
            encoded = json.dumps(value, ensure_ascii=False)[1:-1]
            self._fields.add((json.dumps(key, ensure_ascii=False)[1:-1], encoded))

    def scrub(self, text: str, hosts: Iterable[str] = ()) -> str:
        """``text`` with every remembered secret replaced by :data:`REDACTED`, longest first.

        A value found inside one of ``hosts`` is left alone: scrubbing it would corrupt the
        URL (and replay), and a host is no secret.
        """
        keep = [h.lower() for h in hosts if h]
        for value in sorted(self._values, key=len, reverse=True):
            if value in text and not any(value.lower() in h for h in keep):
                text = text.replace(value, REDACTED)
        for key, value in sorted(self._fields, key=lambda kv: len(kv[1]), reverse=True):
            if value in text:
                pattern = rf'("{re.escape(key)}"\s*:\s*)"{re.escape(value)}"'
                text = re.sub(pattern, lambda m: f'{m.group(1)}"{REDACTED}"', text)
        return text


def _filter_entries(names: Iterable[Any], secrets: SecretSink) -> list[tuple[str, Any]]:
    """vcrpy ``filter_headers``/``filter_query_parameters`` entries that redact and remember.

    A bare name becomes ``(name, redact)``; a ``(name, replacement)`` pair is kept as given.
    Names are case-insensitive and a later entry wins (the user's over the defaults).
    """

    def redact(key: str, value: Any, request: Any) -> str:
        secrets.add(value, key)
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
                    secrets.add(values, key)
                    count = len(values) if isinstance(values, list) else 1
                    headers[key] = [REDACTED] * count
        return response

    return filter_response


def strip_userinfo(url: str, secrets: SecretSink | None = None) -> str:
    """``url`` without ``user:password@``; the user info is remembered as a secret."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    if secrets is not None:
        secrets.add(userinfo)
        user, _, password = userinfo.partition(":")
        secrets.add(password)
        secrets.add(user)
    return urlunsplit(parts._replace(netloc=hostport))


def userinfo_filter(secrets: SecretSink) -> Callable[[Any], Any]:
    """vcrpy ``before_record_request`` hook: the request URI without user info."""

    def filter_request(request: Any) -> Any:
        uri = strip_userinfo(request.uri, secrets)
        if uri != request.uri:
            request.uri = uri
        return request

    return filter_request


def _parse_path(path: str) -> list[str]:
    return [p for p in path.strip().split(".") if p]


def _redact_path(
    node: Any, parts: Sequence[str], secrets: SecretSink, key: str = ""
) -> tuple[Any, bool]:
    """``node`` with the field(s) at ``parts`` (``*`` = any key or item) replaced."""
    if not parts:
        _remember_leaves(node, secrets, key)
        return REDACTED, True
    head, rest = parts[0], parts[1:]
    changed = False
    if isinstance(node, dict):
        keys = list(node) if head == "*" else [head] if head in node else []
        for name in keys:
            node[name], hit = _redact_path(node[name], rest, secrets, str(name))
            changed |= hit
    elif isinstance(node, list):
        if head == "*":
            indexes = range(len(node))
        elif head.isdigit() and int(head) < len(node):
            indexes = range(int(head), int(head) + 1)
        else:
            indexes = range(0)
        for i in indexes:
            node[i], hit = _redact_path(node[i], rest, secrets, key)
            changed |= hit
    return node, changed


def _remember_leaves(node: Any, secrets: SecretSink, key: str) -> None:
    """Remember the string leaves of a redacted field with the key that holds each."""
    if isinstance(node, dict):
        for name, value in node.items():
            _remember_leaves(value, secrets, str(name))
    elif isinstance(node, list):
        for value in node:
            _remember_leaves(value, secrets, key)
    elif isinstance(node, str) and key:
        secrets.add_field(key, node)


def redact_body_fields(body: bytes | str | None, paths: Sequence[str], secrets: SecretSink) -> Any:
    """A JSON body with the fields at ``paths`` (dotted, ``*`` any key or item) redacted.

    Returns the body unchanged when it is not JSON or names none of the fields; otherwise the
    JSON re-dumped (compactly: the cassette indents it anyway, matching is canonical).
    """
    if not paths or not body:
        return body
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    changed = False
    for path in paths:
        doc, hit = _redact_path(doc, _parse_path(path), secrets)
        changed |= hit
    if not changed:
        return body
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def body_field_filter(paths: Sequence[str], secrets: SecretSink) -> Callable[[Any], Any]:
    """vcrpy ``before_record_request`` hook: request-body fields named by path redacted."""

    def filter_request(request: Any) -> Any:
        body = request.body
        new = redact_body_fields(body, paths, secrets)
        if new is not body:
            request.body = new
        return request

    return filter_request


class Redactor:
    """The cassette's filters applied to free text: messages, report sections, log lines.

    Drops URL user info, redacts the filtered query parameters in any URL, then scrubs every
    secret value the filters saw.
    """

    _USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#]*@")

    def __init__(self, secrets: SecretSink, query_names: Iterable[str] = ()) -> None:
        self.secrets = secrets
        names = sorted({n.lower() for n in query_names if n}, key=len, reverse=True)
        self._query = (
            re.compile(
                r"(?i)([?&;](?:" + "|".join(re.escape(n) for n in names) + r")=)[^&#\s'\"<>]*"
            )
            if names
            else None
        )

    def __call__(self, text: str) -> str:
        """``text`` as it may be shown: no user info, no filtered parameter, no secret."""
        text = self._USERINFO.sub(r"\1", text)
        if self._query is not None:
            text = self._query.sub(r"\1" + REDACTED, text)
        return self.secrets.scrub(text)


class _LogRedaction(logging.Filter):
    """Rewrites each record of a logger through a redactor (message and args).

    ``prepare`` maps each argument first (vcrpy logs a response dict before its filters ran:
    the session passes one that applies them to a copy).
    """

    def __init__(self, redact: Callable[[str], str], prepare: Callable[[Any], Any]) -> None:
        super().__init__()
        self.redact = redact
        self.prepare = prepare

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            if isinstance(record.args, tuple):
                record.args = tuple(self.prepare(a) for a in record.args)
            message = record.getMessage()
        except Exception:  # a record that cannot format: say so, never show it raw
            message = f"(a {record.name} log record, not shown: it could not be redacted)"
        record.msg, record.args = self.redact(message), None
        return True


def _same(value: Any) -> Any:
    return value


@contextlib.contextmanager
def redacted_logs(
    redact: Callable[[str], str], prepare: Callable[[Any], Any] = _same, prefix: str = "vcr"
) -> Iterator[None]:
    """While active, every record of the ``prefix`` loggers (vcrpy's) is redacted first.

    vcrpy logs requests (``Playing response for <Request (POST) http://u:pw@...?key=...>``) and
    responses before any filter ran; with ``--log-level=DEBUG`` they reach the report.
    """
    manager = logging.Logger.manager
    names = [prefix, *(n for n in list(manager.loggerDict) if n.startswith(prefix + "."))]
    loggers = [logging.getLogger(n) for n in names]
    flt = _LogRedaction(redact, prepare)
    for logger in loggers:
        logger.addFilter(flt)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(flt)


def redact_structure(obj: Any, redact: Callable[[str], str], depth: int = 0) -> Any:
    """``obj`` with every string inside it redacted: lists in place, objects' attributes set.

    For pytest's failure representations (``ExceptionChainRepr`` and its entries, frame
    arguments, locals, crash message) and report sections: what the terminal and
    ``--junitxml`` would print, with the cassette's filters applied.
    """
    if isinstance(obj, str):
        return redact(obj)
    if depth > 12 or obj is None or isinstance(obj, (int, float, bool, bytes)):
        return obj
    if isinstance(obj, list):
        obj[:] = [redact_structure(v, redact, depth + 1) for v in obj]
        return obj
    if isinstance(obj, tuple):
        return type(obj)(redact_structure(v, redact, depth + 1) for v in obj)
    attributes = getattr(obj, "__dict__", None)
    if isinstance(attributes, dict):
        for name, value in list(attributes.items()):
            new = redact_structure(value, redact, depth + 1)
            if new is not value:
                with contextlib.suppress(AttributeError, TypeError):
                    setattr(obj, name, new)
    return obj
