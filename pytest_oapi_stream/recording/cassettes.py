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

This module is the facade: the plugin and the tests import these names from here; each concern
lives in its own module (``errors``, ``paths``, ``serializer``, ``filters``, ``matching``,
``replay``, ``network``, ``session``, ``checks``, ``stats``).
"""

from __future__ import annotations

import yaml  # noqa: F401  (re-exported: tests reach the YAML module through this facade)

from .checks import CassetteHandle, CheckOptions, check_interaction, streams_of
from .errors import (
    BrokenCassetteError,
    CassetteError,
    CassetteMissingError,
    LeftoverTempFileWarning,
    NetworkBlockedError,
    UnmatchedRequestError,
    VcrInternalsError,
)
from .files import atomic_write_text
from .filters import (
    DEFAULT_FILTER_HEADERS,
    DEFAULT_FILTER_QUERY_PARAMETERS,
    REDACTED,
    Redactor,
    SecretSink,
)
from .filters import _filter_entries as _filter_entries  # tests use it
from .matching import MATCH_ON, canonical_json_body, json_body_matcher, loopback_port_matcher
from .network import block_network
from .paths import default_cassette_path, display_path, resolve_cassette_path, safe_file_name
from .replay import RECHUNK_STRATEGIES, rechunk, rechunked_replay
from .serializer import HAVE_LIBYAML, AtomicPersister, ReadableYamlSerializer
from .serializer import _block_safe as _block_safe  # tests use it
from .serializer import _Loader as _Loader  # benchmarks name the loader class
from .session import (
    FORBIDDEN_VCR_KEYS,
    MODES,
    PLACEHOLDER_API_KEY,
    CassetteOptions,
    CassetteSession,
    Interaction,
    fix_record_flag,
    load_interactions,
)
from .stats import RunStats

__all__ = [
    "DEFAULT_FILTER_HEADERS",
    "DEFAULT_FILTER_QUERY_PARAMETERS",
    "FORBIDDEN_VCR_KEYS",
    "HAVE_LIBYAML",
    "MATCH_ON",
    "MODES",
    "PLACEHOLDER_API_KEY",
    "RECHUNK_STRATEGIES",
    "REDACTED",
    "AtomicPersister",
    "BrokenCassetteError",
    "CassetteError",
    "CassetteHandle",
    "CassetteMissingError",
    "CassetteOptions",
    "CassetteSession",
    "CheckOptions",
    "Interaction",
    "LeftoverTempFileWarning",
    "NetworkBlockedError",
    "ReadableYamlSerializer",
    "Redactor",
    "RunStats",
    "SecretSink",
    "UnmatchedRequestError",
    "VcrInternalsError",
    "atomic_write_text",
    "block_network",
    "canonical_json_body",
    "check_interaction",
    "default_cassette_path",
    "display_path",
    "fix_record_flag",
    "json_body_matcher",
    "load_interactions",
    "loopback_port_matcher",
    "rechunk",
    "rechunked_replay",
    "resolve_cassette_path",
    "safe_file_name",
    "streams_of",
]
