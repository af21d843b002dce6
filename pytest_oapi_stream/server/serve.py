"""``oapi-stream serve``: the fake provider as a command, to try a client or UI by hand.

Parses the command line into one source (a built stream or a file) with its faults, starts an
``OAPIServer`` on 127.0.0.1, prints its base URL and serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from ..chat.builder import PROVIDER_STYLES
from ..chat.faults import normalize_faults
from .provider import OAPIServer
from .transport import HOST

__all__ = ["serve_main"]


def _cli_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="oapi-stream serve",
        description="Serve a scripted (and optionally faulty) OpenAI-compatible stream on "
        "127.0.0.1 until stopped, to try a client or UI by hand.",
    )
    p.add_argument("--file", help="an .sse body, or a vcrpy cassette (.yaml/.yml/.json), to serve")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="a fault to inject (repeatable), e.g. drop_done, truncate_after=3",
    )
    p.add_argument(
        "--as-provider",
        choices=sorted(PROVIDER_STYLES),
        help="impersonate a provider's known deviations (built streams only)",
    )
    p.add_argument("--text", help="the answer text of the built stream")
    p.add_argument("--reasoning", help="reasoning text streamed before the answer")
    p.add_argument("--port", type=int, default=0, help="TCP port (default 0: any free port)")
    p.add_argument("--host", default=HOST, choices=("127.0.0.1", "localhost"), help="loopback only")
    return p


def serve_main(argv: list[str] | None = None) -> int:
    """``oapi-stream serve``: print the base URL, serve until Ctrl-C or SIGTERM; exit status."""
    args = _cli_parser().parse_args(argv)
    server = OAPIServer(port=args.port)
    try:
        faults = normalize_faults(args.fault)
        if args.file:
            path = Path(args.file)
            if args.as_provider or args.text or args.reasoning:
                raise ValueError(
                    "--as-provider, --text, --reasoning build a stream; not with --file"
                )
            if path.suffix.lower() in (".yaml", ".yml", ".json"):
                server.serve_cassette(path, faults=faults)
            else:
                server.serve_sse(path, faults=faults)
        else:
            server.stream(
                args.text, reasoning=args.reasoning, as_provider=args.as_provider, faults=faults
            )
    except (OSError, ValueError) as exc:
        print(f"oapi-stream serve: error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Both signals stop the loop through our own handler, whatever disposition the process
    # inherited (a parent that leaves SIGINT at SIG_DFL would otherwise kill it mid-stop).
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, _on_signal)
    try:
        server.start()
    except OSError as exc:
        print(f"oapi-stream serve: error: {exc}", file=sys.stderr)
        return 2
    print(f"oapi-stream serve: {server.base_url}", flush=True)
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
