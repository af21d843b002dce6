"""The fake provider: a loopback OpenAI-compatible server with named faults (no pytest)."""

from .provider import OAPIServer, RecordedRequest, serve_main

__all__ = ["OAPIServer", "RecordedRequest", "serve_main"]
