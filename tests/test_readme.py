"""The README's promises: the first screen's two commands, and its example test, which replays."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_first_screen_has_the_two_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:30])
    assert "pip install . && oapi-stream check cassettes/" in first_screen
    assert "pip install -e '.[dev]' && python -m pytest" in first_screen


def test_readme_example_is_the_shipped_example() -> None:
    block = re.search(r"```python\n(import openai.*?)```", README, re.S)
    assert block is not None
    example = (ROOT / "examples" / "test_readme_example.py").read_text(encoding="utf-8")
    assert example.endswith(block.group(1)), (
        "examples/test_readme_example.py must end with the README's example, verbatim"
    )


def test_ci_runs_the_readme_commands() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "oapi-stream check cassettes/" in ci
    assert "python -m pytest -n 2" in ci
    assert "pip install -q -e '.[dev]'" in ci
