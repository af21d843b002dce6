"""Examples replay against the loopback address they were recorded from (see record.py)."""

from __future__ import annotations

import pytest

#: Where ``record.py`` serves the real provider recordings while the examples are recorded.
EXAMPLES_BASE_URL = "http://127.0.0.1:8765/v1"


@pytest.fixture(autouse=True)
def _examples_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point ``oapi_client`` at the recording address, so replay matches the recorded URL."""
    monkeypatch.setenv("OPENAI_BASE_URL", EXAMPLES_BASE_URL)
