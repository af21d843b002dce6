"""Smoke test of ``benchmarks/bench_check.py``: it runs and prints its ratio table.

A benchmark is not a timed test: nothing here asserts a speed, only that the script still works
against the current API (so the numbers in docs/performance.md stay reproducible).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_check.py"


@pytest.mark.skipif(not SCRIPT.exists(), reason="benchmarks/ is not shipped in the sdist")
def test_bench_check_quick_runs_and_prints_the_ratio_table() -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--sizes", "200"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = proc.stdout
    assert "## Ratio table" in out
    assert "| stream | N | L0 µs/chunk | O1 µs/chunk | keep µs/chunk | iter µs/chunk |" in out
    for kind in ("text", "tools", "reasoning"):
        assert f"| {kind} | 200 |" in out
    assert "## Iterating mode: peak memory" in out
    # the breakdown, with the two lower bounds docs/performance.md argues from
    assert "spec-only dropped (floor ×L0) | minimal keep ×L0 | minimal iter ×L0 |" in out
    assert "load / parse = **" in out


@pytest.mark.skipif(not SCRIPT.exists(), reason="benchmarks/ is not shipped in the sdist")
@pytest.mark.parametrize(
    ("script", "args", "heading"),
    [
        (
            "bench_hostile.py",
            ["--n", "200"],
            "| shape | N | s at N | s at 2N | ratio 2N/N | codes |",
        ),
        ("bench_memory.py", ["--n", "200", "--kinds", "text", "--no-keep"], "| peak ratio |"),
    ],
)
def test_issue_10_benchmarks_run(script: str, args: list[str], heading: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert heading in proc.stdout
