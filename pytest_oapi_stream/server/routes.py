"""Routing: which endpoint answers a request, and what it answers (no sockets here).

Each endpoint turns a ``RecordedRequest`` into a ``Reply``: a one-piece body, or SSE events
with the transport faults the transport must carry out while writing them. A new endpoint (a
new API surface) is one function and one row of ``ROUTES``.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from ..chat.faults import TransportPlan
from ..core.surface import Surface
from .answers import Answer, Body, Events, error_body, json_body
from .requests import (
    RecordedRequest,
    check_chat_request,
    check_responses_request,
    parse_retrieve_query,
)

if TYPE_CHECKING:
    from .provider import OAPIServer

__all__ = ["ROUTES", "Reply", "Route", "route"]

_NO_PLAN = TransportPlan()


@dataclass(frozen=True)
class Reply:
    """What to send: ``answer`` (its events streamed under ``plan``), or nothing (``None``:
    close the connection unanswered, e.g. the server stopped during a delay)."""

    answer: Answer | None
    plan: TransportPlan = _NO_PLAN


Endpoint = Callable[["OAPIServer", RecordedRequest], Reply]


def chat_completions(owner: OAPIServer, rec: RecordedRequest) -> Reply:
    """``POST .../chat/completions``: the current source's answer, after the HTTP faults."""
    invalid = check_chat_request(rec.json)
    if invalid is not None:
        return Reply(invalid)
    return _source_reply(owner, rec, "chat")


def responses(owner: OAPIServer, rec: RecordedRequest) -> Reply:
    """``POST .../responses``: the same source told as a Responses stream (or ``Response``)."""
    invalid = check_responses_request(rec.json)
    if invalid is not None:
        return Reply(invalid)
    return _source_reply(owner, rec, "responses")


def _source_reply(owner: OAPIServer, rec: RecordedRequest, surface: Surface) -> Reply:
    """The current source's answer for ``surface``, after the HTTP faults."""
    data = rec.json
    source = owner._current_source()
    plan = source.plan
    stream = data.get("stream") is True
    fail = source.take_http_failure()
    if (fail or not stream) and plan.delay_s and owner._stopping.wait(plan.delay_s):
        return Reply(None)
    if fail:
        assert plan.http_status is not None
        headers = []
        if plan.retry_after is not None:
            ra = plan.retry_after
            headers.append(("retry-after", str(int(ra)) if float(ra).is_integer() else str(ra)))
        return Reply(Body(plan.http_status, error_body(plan.http_status), headers=headers))
    try:
        answer = source.answer(data, stream, surface)
        if surface == "responses" and isinstance(answer, Events):
            owner._stored.remember(answer.events, answer.content_type)
    except Exception as exc:
        owner._internal_error(traceback.format_exc())
        return Reply(Body(500, error_body(500, f"oapi_server could not build the answer: {exc}")))
    return Reply(answer, plan)


def retrieve_response(owner: OAPIServer, rec: RecordedRequest) -> Reply:
    """``GET .../responses/{id}``: a Responses answer this server streamed, resumed as
    api.openai.com resumes a background stream. ``stream=true`` replays its events after
    ``starting_after`` (all without it), framed as sent and without the source's transport
    faults (they cut the first stream; the resume is how a client recovers); without it, the
    final ``Response`` as JSON. An id the server does not remember gets a 404."""
    query = parse_retrieve_query(rec.query)
    if isinstance(query, Body):
        return Reply(query)
    response_id = unquote(rec.path.rstrip("/").rsplit("/", 1)[1])
    stored = owner._stored.get(response_id)
    if stored is None:
        # The wording of llama.cpp's and other OpenAI-compatible Responses stores.
        message = f"No response found with id '{response_id[:256]}'."
        return Reply(
            Body(404, error_body(404, message, param="response_id", code="response_not_found"))
        )
    if query.stream:
        return Reply(Events(stored.after(query.starting_after), stored.content_type))
    return Reply(Body(200, json_body(stored.final_response())))  # it holds a snapshot


def list_models(owner: OAPIServer, rec: RecordedRequest) -> Reply:
    """``GET /v1/models``: the server's model list."""
    return Reply(Body(200, json_body(owner._models_list())))


def get_model(owner: OAPIServer, rec: RecordedRequest) -> Reply:
    """``GET /v1/models/{id}``: any id exists."""
    model = rec.path.rstrip("/").rsplit("/", 1)[1]
    return Reply(Body(200, json_body(owner._model_obj(model))))


@dataclass(frozen=True)
class Route:
    """A method and a path test (``suffix``, exact ``paths``, ``prefixes`` or a ``pattern``
    the whole path matches) -> an endpoint."""

    method: str
    endpoint: Endpoint
    suffix: str | None = None
    paths: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None

    def matches(self, method: str, path: str) -> bool:
        if method != self.method:
            return False
        if self.suffix is not None and path.endswith(self.suffix):
            return True
        if self.pattern is not None and self.pattern.fullmatch(path):
            return True
        return path in self.paths or (bool(self.prefixes) and path.startswith(self.prefixes))


#: Tried in order; the first match answers. Any path ending in ``/chat/completions`` is chat
#: (Azure's ``/openai/deployments/{name}/chat/completions`` too), any path ending in
#: ``/responses`` the Responses API (Azure's ``/openai/v1/responses`` too), and a ``GET`` of
#: ``.../responses/{id}`` retrieves (resumes) one of its answers.
ROUTES: tuple[Route, ...] = (
    Route("POST", chat_completions, suffix="/chat/completions"),
    Route("POST", responses, suffix="/responses"),
    Route("GET", retrieve_response, pattern=re.compile(r".*/responses/[^/]+")),
    Route("GET", list_models, paths=("/v1/models", "/models")),
    Route("GET", get_model, prefixes=("/v1/models/", "/models/")),
)


def route(owner: OAPIServer, rec: RecordedRequest) -> Reply:
    """The reply of the first route matching the request, else an OpenAI-style 404."""
    path = rec.path.rstrip("/")
    for r in ROUTES:
        if r.matches(rec.method, path):
            return r.endpoint(owner, rec)
    return Reply(Body(404, error_body(404, f"Invalid URL ({rec.method} {rec.path})", code=None)))
