"""The ``pytest11`` entry point ``oapi_stream``: the hooks and fixtures of :mod:`.hooks`.

Tiny on purpose: pytest imports it in every run of every project whose venv has the plugin.
The names below are what pytest registers (hooks by their ``pytest_`` names, fixtures by
their decorator); a test checks that every hook and fixture of ``hooks`` and ``fixtures`` is
listed here.
"""

from __future__ import annotations

from .fixtures import oapi_server, oapi_server_session
from .hooks import (
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
