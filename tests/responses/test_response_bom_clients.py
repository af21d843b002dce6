"""OAS001's leading-BOM verdict on the Responses surface, against the real openai-python.

openai-python decodes Responses streams with the same ``SSEDecoder`` as chat streams
(openai/_streaming.py) and does not strip a leading BOM: the first line's field name reads as
``\\ufeff<name>``. Over a loopback socket, each layout gets the verdict its client impact earns.
"""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from resp_streams import TEXT, events, raw, sse

from pytest_oapi_stream import check_response_stream
from pytest_oapi_stream.server import OAPIServer

BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def server() -> Iterator[OAPIServer]:
    with OAPIServer() as srv:
        yield srv


def _types(server: OAPIServer) -> list[str]:
    c = openai.OpenAI(base_url=server.base_url, api_key="t", max_retries=0, timeout=5)
    return [ev.type for ev in c.responses.create(model="gpt-4o", input="hi", stream=True)]


def _oas001(body: bytes) -> list[str]:
    report = check_response_stream(body, profile="openai")
    return [v.severity for v in report.violations if v.code == "OAS001"]


def test_bom_before_a_data_line_drops_the_first_event_and_is_an_error(
    server: OAPIServer,
) -> None:
    body = sse(events(TEXT), names=False)
    server.serve_sse(body)
    clean = _types(server)
    server.serve_sse(BOM + body)
    assert _types(server) == clean[1:]  # response.created is lost
    c = openai.OpenAI(base_url=server.base_url, api_key="t", max_retries=0, timeout=5)
    with (
        pytest.raises(RuntimeError, match=r"response\.created"),
        c.responses.stream(model="gpt-4o", input="hi") as stream,
    ):
        list(stream)
    assert _oas001(BOM + body) == ["error"]
    assert _oas001(body) == []


def test_bom_before_an_event_line_loses_nothing_and_is_a_warning(server: OAPIServer) -> None:
    body = raw(TEXT)  # api.openai.com's layout: `event:` then `data:`
    server.serve_sse(body)
    clean = _types(server)
    server.serve_sse(BOM + body)
    assert _types(server) == clean  # the SDK reads the type from the JSON
    assert _oas001(BOM + body) == ["warn"]
    assert _oas001(body) == []
