"""Import the HTTP client stacks before any test runs, so in-process pytester runs keep one copy.

``pytester.runpytest_inprocess`` restores ``sys.modules`` after each inner run, dropping the
modules first imported inside it. When an inner run (``test_server_fixtures.py``) is the first
to send a request, httpcore/httpcore2/h11/anyio's backends are imported there and dropped after;
the next import makes second copies whose exception classes the already imported httpx, httpx2
and openai do not catch (a read timeout then surfaces as ``httpcore.ReadTimeout``, not
``openai.APITimeoutError``). Importing them here, at collection, keeps one copy for the worker.
"""

from __future__ import annotations

import contextlib
import importlib

for _name in (
    "h11",
    "anyio._backends._asyncio",
    "anyio.streams.memory",
    "anyio.streams.stapled",
    "anyio.streams.tls",
    "httpcore",
    "httpcore._backends.anyio",
    "httpcore._backends.sync",
    "httpcore2",
    "httpcore2._backends.anyio",
    "httpcore2._backends.sync",
):
    with contextlib.suppress(ImportError):  # an optional client stack that is not installed
        importlib.import_module(_name)
