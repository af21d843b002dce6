"""Smoke test of ``benchmarks/bench_server_responses.py``: it runs and prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_server_responses.py"


@pytest.mark.skipif(not SCRIPT.exists(), reason="benchmarks/ is not shipped in the sdist")
def test_bench_server_responses_quick_runs() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=SCRIPT.parent.parent,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "## 1,000-event Responses stream" in proc.stdout
    assert "served rate / in-memory rate = **" in proc.stdout
    assert "Responses build / chat build = **" in proc.stdout
