"""docs/report.html in a real headless browser (Debian's chromium): the page loads from disk with
no network and its DOM has a row per corpus stream. Skipped where chromium is not installed
(`.ci/run` installs it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
REPORT = ROOT / "docs" / "report.html"
CORPUS_FILES = sorted((ROOT / "tests" / "data" / "corpus").glob("*.sse"))

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (Debian: apt-get install chromium); "
    "the HTML report is checked in a real browser only where it is",
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_report_renders_in_chromium(tmp_path: Path) -> None:
    proc = chromium(tmp_path, "--dump-dom", REPORT.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert "<h1>Stream conformance report</h1>" in dom
    assert dom.count('class="stream-row"') == len(CORPUS_FILES)
    for path in CORPUS_FILES:
        assert f">{path.stem}</a>" in dom, path.name
    assert 'class="cell fail"' in dom and 'class="cell warn"' in dom


def test_report_screenshot_is_drawn(tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    proc = chromium(tmp_path, "--window-size=1400,1000", f"--screenshot={shot}", REPORT.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # A blank page compresses to a few kB; the matrix is far richer.
    assert len(data) > 40_000
