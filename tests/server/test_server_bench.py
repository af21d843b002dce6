"""Smoke test of ``benchmarks/bench_server.py``: it runs and prints its tables (no timing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_server.py"


@pytest.mark.skipif(not SCRIPT.exists(), reason="benchmarks/ is not shipped in the sdist")
def test_bench_server_quick_runs() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=SCRIPT.parent.parent,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "| start + stop | 10 |" in proc.stdout
    assert "1,000-chunk stream" in proc.stdout
    assert "served rate / in-memory rate = **" in proc.stdout
    assert "## Load: 5 concurrent clients, 50 streamed requests" in proc.stdout
    assert "| oapi_server, http.client, new connection each | 50 | 0 |" in proc.stdout
