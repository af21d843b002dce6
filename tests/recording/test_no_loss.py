"""No recording lost: distinct cassette files for distinct tests, shared cassettes merged,
leftover temp files cleaned, prune deleting only what is provably unused, one line for a
folder that cannot be written. pytester runs against a real loopback server.
"""

from __future__ import annotations

import re

import httpx  # noqa: F401
import hypothesis  # noqa: F401
import openai  # noqa: F401
import pytest
import vcr  # noqa: F401
from hypothesis import given
from hypothesis import strategies as st

from pytest_oapi_stream.recording import cassettes as c
from pytest_oapi_stream.server import OAPIServer

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

SDK = """
import openai
import pytest


def ask(prompt="Hi"):
    client = openai.OpenAI(max_retries=0)
    stream = client.chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": prompt}])
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
"""


@pytest.fixture
def server(oapi_server: OAPIServer, monkeypatch: pytest.MonkeyPatch) -> OAPIServer:
    monkeypatch.setenv("OPENAI_BASE_URL", oapi_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-KEY-0123456789")
    return oapi_server.stream(text="Hello there!")


# ------------------------------------------------------------------ distinct names


def test_parametrize_ids_that_differ_in_forbidden_characters_get_distinct_cassettes(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_chat="import pytest\n\n@pytest.mark.oapi\n"
        "@pytest.mark.parametrize('p', ['x/y', 'x:y', 'x-y', 'x.'])\n"
        "def test_param(p):\n    pass\n"
    )
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=4)
    folder = pytester.path / "cassettes" / "test_chat"
    names = {p.name for p in folder.iterdir() if not p.name.endswith(".shape.yaml")}
    assert names == {
        "test_param[x%2Fy].yaml",
        "test_param[x%3Ay].yaml",
        "test_param[x-y].yaml",
        "test_param[x.].yaml",
    }
    pytester.runpytest_inprocess().assert_outcomes(passed=4)


@given(st.text(max_size=40), st.text(max_size=40))
def test_safe_file_names_are_distinct_and_safe(a: str, b: str) -> None:
    fa, fb = c.safe_file_name(a), c.safe_file_name(b)
    assert (fa == fb) == (a == b)
    assert not re.search(r'[\x00-\x1f\x7f<>:"/\\|?*]', fa)
    assert fa and not fa.startswith(".") and not fa.endswith((".", " "))
