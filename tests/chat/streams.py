"""Tiny test-data builders: small dict chunks shaped like OpenAI's, rendered to SSE text.

``text()``, ``tools()`` etc. return a clean stream as a list of chunk dicts that a test mutates
to break one rule; ``sse()`` renders the list as the bytes a provider would send.
"""

from __future__ import annotations

import copy
import json
from typing import Any

ID = "chatcmpl-AbC123"
CREATED = 1727000000
MODEL = "gpt-4o-2024-08-06"
FP = "fp_5050236cbd"
#: The request that makes every clean stream below fully clean (usage was asked for).
REQUEST: dict[str, Any] = {
    "model": MODEL,
    "stream": True,
    "stream_options": {"include_usage": True},
}

Chunk = dict[str, Any]


def chunk(*choices: Chunk, **top: Any) -> Chunk:
    """One chunk with OpenAI's envelope; ``top`` overrides or adds top-level fields."""
    c: Chunk = {
        "id": ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "system_fingerprint": FP,
        "choices": list(choices),
    }
    c.update(top)
    return c


def choice(index: int = 0, finish: str | None = None, logprobs: Any = None, **delta: Any) -> Chunk:
    """One choice whose delta holds ``delta``."""
    return {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}


def usage(prompt: int = 9, completion: int = 3, **extra: Any) -> Chunk:
    """The include_usage chunk: ``choices: []`` and the counts."""
    u = {"prompt_tokens": prompt, "completion_tokens": completion}
    u["total_tokens"] = prompt + completion
    u.update(extra)
    return chunk(usage=u)


def text(*parts: str, finish: str = "stop", with_usage: bool = True) -> list[Chunk]:
    """role chunk, one chunk per part, finish chunk, usage chunk."""
    out = [chunk(choice(role="assistant", content="", refusal=None))]
    out += [chunk(choice(content=p)) for p in parts or ("Hello", " world")]
    out.append(chunk(choice(finish=finish)))
    if with_usage:
        out.append(usage())
    return out


def call(index: int, id: str, name: str, arguments: str = "") -> Chunk:
    """A tool call's first fragment."""
    fn = {"name": name, "arguments": arguments}
    return {"index": index, "id": id, "type": "function", "function": fn}


def args(index: int, arguments: str) -> Chunk:
    """A later fragment of tool call ``index``."""
    return {"index": index, "function": {"arguments": arguments}}


def tools() -> list[Chunk]:
    """Two parallel tool calls, streamed as OpenAI does (call 0's fragments, then call 1's)."""
    return [
        chunk(choice(role="assistant", content=None, tool_calls=[call(0, "call_a", "get_w")])),
        chunk(choice(tool_calls=[args(0, '{"city":')])),
        chunk(choice(tool_calls=[args(0, ' "Paris"}')])),
        chunk(choice(tool_calls=[call(1, "call_b", "get_t")])),
        chunk(choice(tool_calls=[args(1, "{}")])),
        chunk(choice(finish="tool_calls")),
        usage(),
    ]


def refusal() -> list[Chunk]:
    """A refusal: ``content: null, refusal: ""`` first, then refusal fragments."""
    return [
        chunk(choice(role="assistant", content=None, refusal="")),
        chunk(choice(refusal="I can't")),
        chunk(choice(refusal=" help.")),
        chunk(choice(finish="stop")),
        usage(),
    ]


def logprob(token: str, lp: float = -0.25) -> Chunk:
    """A logprob entry whose bytes are the UTF-8 of ``token``."""
    b = list(token.encode("utf-8"))
    return {"token": token, "logprob": lp, "bytes": b, "top_logprobs": []}


def with_logprobs() -> list[Chunk]:
    """Content with per-token logprobs (request: ``logprobs: true``)."""
    first: Chunk = {"content": [], "refusal": None}
    return [
        chunk(choice(role="assistant", content="", logprobs=first)),
        chunk(choice(content="Hi", logprobs={"content": [logprob("Hi")], "refusal": None})),
        chunk(choice(content=" é", logprobs={"content": [logprob(" é")], "refusal": None})),
        chunk(choice(finish="stop")),
        usage(),
    ]


def two_choices() -> list[Chunk]:
    """``n=2``: choices introduced in order, interleaved, each finished once."""
    return [
        chunk(choice(0, role="assistant", content="")),
        chunk(choice(1, role="assistant", content="")),
        chunk(choice(0, content="A")),
        chunk(choice(1, content="B")),
        chunk(choice(0, finish="stop")),
        chunk(choice(1, finish="stop")),
        usage(),
    ]


def reasoning() -> list[Chunk]:
    """DeepSeek reasoner style: reasoning_content, then content; usage on the finish chunk."""
    u = {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14}
    u |= {"prompt_cache_hit_tokens": 0, "prompt_cache_miss_tokens": 9}
    return [
        chunk(choice(role="assistant", content=None, reasoning_content="")),
        chunk(choice(content=None, reasoning_content="Think")),
        chunk(choice(content="Answer", reasoning_content=None)),
        chunk(choice(content="", finish="stop"), usage=u),
    ]


def citation(n: int, index: int | None = None) -> Chunk:
    """A ``delta.annotations`` entry (a URL citation), with an ``index`` when given."""
    entry: Chunk = {
        "type": "url_citation",
        "url_citation": {"url": f"https://example.com/{n}", "title": "t", "start_index": 0},
    }
    if index is not None:
        entry["index"] = index
    return entry


def sse(chunks: list[Chunk], *, done: bool = True) -> str:
    """The SSE text of ``chunks``: ``data: <json>`` events, then ``data: [DONE]``."""
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
    return body + ("data: [DONE]\n\n" if done else "")


def edit(chunks: list[Chunk], at: int, path: str, value: Any) -> list[Chunk]:
    """A deep copy of ``chunks`` with ``chunks[at].<path>`` set to ``value`` (``...`` deletes).

    ``path`` is dotted, list positions as numbers: ``choices.0.delta.role``.
    """
    out = copy.deepcopy(chunks)
    node: Any = out[at]
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
    for k in keys[:-1]:
        node = node[k]
    if value is ...:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return out
