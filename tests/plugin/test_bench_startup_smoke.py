"""Smoke test of ``benchmarks/bench_startup.py``: its wheel-like install works.

Not a timed test (the timed rows take minutes): only ``--modules-only``, which installs the
package as a wheel would and lists the modules the plugin adds to a ``--co`` run, so the
numbers in docs/performance.md stay reproducible.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_startup.py"


@pytest.mark.skipif(not SCRIPT.exists(), reason="benchmarks/ is not shipped in the sdist")
def test_bench_startup_installs_like_a_wheel_and_lists_the_added_modules() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--modules-only"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = proc.stdout.strip().splitlines()[-1]
    added = line.split(": ", 1)[1].split(", ")
    assert added == [
        "pytest_oapi_stream",
        "pytest_oapi_stream.plugin",
        "pytest_oapi_stream.plugin.fixtures",
        "pytest_oapi_stream.plugin.hooks",
    ]
