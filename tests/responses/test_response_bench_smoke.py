"""Smoke test of ``benchmarks/bench_responses.py``: it runs and prints its tables.

Not a timed test: nothing asserts a speed, only that the script works with the current API (so
the numbers in docs/performance.md stay reproducible) and that every method agrees on the count.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_responses.py"


@pytest.mark.skipif(not SCRIPT.exists(), reason="benchmarks/ is not shipped in the sdist")
def test_bench_responses_runs_and_prints_the_tables() -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "150", "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = proc.stdout
    assert "| stream | N events | L0 | O1 | keep | iter | keep ×O1 | iter ×O1 | keep ×L0 |" in out
    for kind in ("text", "args", "summary"):
        assert f"| {kind} | " in out
    assert "## Iterating mode: peak memory" in out
