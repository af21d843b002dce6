"""The ``pytest11`` entry point ``oapi_stream``: the hooks and fixtures of :mod:`.hooks`.

Tiny on purpose: pytest imports it in every run of every project whose venv has the plugin.
The names below are what pytest registers (hooks by their ``pytest_`` names, fixtures by
their decorator); a test checks that every hook and fixture of ``hooks`` and ``fixtures`` is
listed here.
"""

from __future__ import annotations

import sys


def _no_assert_rewriting() -> None:
    """Take this package off pytest's list of modules whose asserts it rewrites.

    pytest rewrites the asserts of every module of a ``pytest11`` distribution, so that bare
    asserts in plugin helpers explain themselves. Ours raise their own errors
    (``StreamContractError`` names every rule); their few asserts are internal invariants.
    Rewriting costs a parse and compile of each module imported, and on every run when
    bytecode is not cached (``PYTHONDONTWRITEBYTECODE=1``, read-only installs): this module
    and the package root are rewritten before this runs, everything else is then imported
    normally. The list is pytest's private state: when it is not found, nothing changes.
    """
    root = __name__.partition(".")[0]
    for finder in sys.meta_path:
        if type(finder).__name__ != "AssertionRewritingHook":
            continue
        marked = getattr(finder, "_must_rewrite", None)
        if isinstance(marked, set):
            marked.difference_update({m for m in marked if m.partition(".")[0] == root})
        cache = getattr(finder, "_marked_for_rewrite_cache", None)
        if isinstance(cache, dict):
            for name in [n for n in cache if n.partition(".")[0] == root]:
                del cache[name]


_no_assert_rewriting()

from .fixtures import oapi_server, oapi_server_session  # noqa: E402
from .hooks import (  # noqa: E402
    MARKER_KWARGS,
    Settings,
    _oapi_marked,
    oapi_async_client,
    oapi_cassette,
    oapi_client,
    oapi_vcr_config,
    pytest_addoption,
    pytest_collection_finish,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_deselected,
    pytest_load_initial_conftests,
    pytest_report_header,
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
)

__all__ = [
    "MARKER_KWARGS",
    "Settings",
    "_oapi_marked",
    "oapi_async_client",
    "oapi_cassette",
    "oapi_client",
    "oapi_server",
    "oapi_server_session",
    "oapi_vcr_config",
    "pytest_addoption",
    "pytest_collection_finish",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_deselected",
    "pytest_load_initial_conftests",
    "pytest_report_header",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_testnodedown",
]
