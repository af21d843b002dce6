"""The fake provider: a loopback OpenAI-compatible server with named faults (no pytest)."""

from .provider import OAPIServer
from .requests import RecordedRequest
from .serve import serve_main

__all__ = ["OAPIServer", "RecordedRequest", "serve_main"]
