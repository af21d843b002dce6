"""The README's promises: the first screen's two commands, and its example test, which replays."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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


def _failure_block(after: str) -> str:
    """The first ``` block after ``after`` in the README (a failure example)."""
    block = re.search(re.escape(after) + r".*?```\n(.*?)```", README, re.S)
    assert block is not None, after
    return block.group(1)


def _break_cassette(path: Path) -> None:
    """The README's failure: the role repeated in chunk 1 (OAS021), chunk 2's id changed
    (OAS015), by hand in the shipped cassette, as a user would."""
    lines = path.read_text(encoding="utf-8").split("\n")
    data = [i for i, line in enumerate(lines) if line.lstrip().startswith("data: {")]
    first, second = data[1], data[2]
    lines[first] = lines[first].replace(
        '"delta":{"content"', '"delta":{"role":"assistant","content"'
    )
    lines[second] = lines[second].replace('4","object"', '5","object"', 1)
    path.write_text("\n".join(lines), encoding="utf-8")


def test_readme_chat_failure_is_what_the_example_prints(pytester: pytest.Pytester) -> None:
    """Regenerate with the README example and its cassette broken as `_break_cassette` does:
    the block is the StreamContractError's message, verbatim."""
    # Another module name than examples/'s: the outer session may have imported that one.
    example = (ROOT / "examples" / "test_readme_example.py").read_text("utf-8")
    (pytester.path / "test_readme_copy.py").write_text(example)
    (pytester.path / "conftest.py").write_text((ROOT / "examples" / "conftest.py").read_text())
    cassette = pytester.path / "cassettes" / "test_readme_copy" / "test_hello_stream.yaml"
    cassette.parent.mkdir(parents=True)
    shipped = ROOT / "cassettes" / "examples" / "test_readme_example" / cassette.name
    cassette.write_text(shipped.read_text("utf-8"))
    _break_cassette(cassette)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rN")
    result.assert_outcomes(failed=1)
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "StreamContractError: " in line)
    message = [lines[start].split("StreamContractError: ", 1)[1]]
    message += [line[8:] for line in lines[start + 1 :] if line.startswith("E       ")]
    assert _failure_block("## What a failure looks like") == "\n".join(message) + "\n"


def test_readme_responses_failure_is_what_a_client_sees() -> None:
    """Regenerate: a recorded OpenAI answer with event 5's item_id changed and the stream cut
    after event 8, read through the openai SDK from the loopback server."""
    import openai

    from pytest_oapi_stream import StreamContractError, assert_valid_response_stream
    from pytest_oapi_stream.server import OAPIServer

    body = (ROOT / "tests" / "data" / "corpus-responses" / "openai__gpt-4o_text.sse").read_text(
        "utf-8"
    )
    events = body.split("\n\n")
    events[5] = re.sub(r'"item_id":"msg_\w+"', '"item_id":"msg_other"', events[5])
    with OAPIServer() as server:
        server.serve_sse("\n\n".join(events[:9]) + "\n\n")
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
        stream = client.responses.create(model="gpt-4o", input="Hi", stream=True)
        with pytest.raises(StreamContractError) as info:
            assert_valid_response_stream(stream, profile="openai")
    assert _failure_block("A broken\nstream reads:") == str(info.value) + "\n"
