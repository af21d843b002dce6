"""The README's example test, verbatim (tests/test_readme.py keeps the two in sync)."""

import openai
import pytest
from pytest_oapi_stream import assert_valid_chunk_stream


@pytest.mark.oapi(profile="openai")          # record with `pytest --oapi-record`, replay offline
def test_hello_stream(oapi_client: openai.OpenAI) -> None:
    stream = oapi_client.chat.completions.create(
        model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "Hi"}])
    chunks = assert_valid_chunk_stream(stream)   # the marker's profile; names each broken rule
    assert chunks.text                           # the assembled answer
