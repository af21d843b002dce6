"""``oapi-stream serve``: the fake provider as a command, to try a client or UI by hand.

Parses the command line into one source (a built stream or a file) with its faults, starts an
``OAPIServer`` on 127.0.0.1, prints its base URL and serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from ..chat.builder import PROVIDER_STYLES
from ..chat.faults import FaultNotApplicable, Hint, normalize_faults
from ..responses.faults import ALL_FAULTS
from ..responses.styles import RESPONSE_STYLES
from .provider import OAPIServer
from .transport import HOST

__all__ = ["build_server", "cli_hint", "parse_args", "parse_tool_call", "serve_main"]


_EPILOG = """\
examples:
  oapi-stream serve --text 'Hello there' --fault truncate_after=2
  oapi-stream serve --text 'héllo wörld' --fault split_utf8
  oapi-stream serve --tool-calls 'get_weather={"city": "Paris"}' --tool-calls get_time
  oapi-stream serve --file stream.sse --fault drop_done
  oapi-stream serve --text 'Hi there' --fault sequence_gap=3   (POST .../responses)

The same stream answers POST .../chat/completions and POST .../responses (as Responses
events); a fault or --as-provider style of one surface only leaves the other a 400 naming it.

--tool-calls: each call opens with its id and name, its arguments stream in token-sized
fragments, and the finish reason is tool_calls; with --text the text comes first. A call
without =JSON has the arguments {}.
"""


def _port(value: str) -> int:
    """An argparse type: a TCP port number, 0-65535 (bind() would raise OverflowError)."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range 0-65535")
    return port


def _cli_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="oapi-stream serve",
        description="Serve a scripted (and optionally faulty) OpenAI-compatible stream on "
        "127.0.0.1 until stopped, to try a client or UI by hand.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        choices=sorted(set(PROVIDER_STYLES) | set(RESPONSE_STYLES)),
        help="impersonate a provider's known deviations (built streams only)",
    )
    p.add_argument("--text", help="the answer text of the built stream")
    p.add_argument("--reasoning", help="reasoning text streamed before the answer")
    p.add_argument(
        "--tool-calls",
        action="append",
        default=[],
        metavar="NAME[=JSON]",
        help="a tool call the built stream makes: the function's name, optionally with "
        "=JSON arguments (an object); repeat the flag for parallel calls",
    )
    p.add_argument(
        "--port", type=_port, default=0, help="TCP port 0-65535 (default 0: any free port)"
    )
    p.add_argument("--host", default=HOST, choices=("127.0.0.1", "localhost"), help="loopback only")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of ``oapi-stream serve`` (argparse exits 2 on unknown options)."""
    return _cli_parser().parse_args(argv)


_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def parse_tool_call(value: str) -> dict[str, Any]:
    """``NAME[=JSON]`` (one ``--tool-calls`` value) -> ``{"name", "arguments"}``; ``ValueError``
    naming the value and what is wrong."""
    name, sep, raw = value.partition("=")
    name = name.strip()
    where = f"--tool-calls {shlex.quote(value)}"
    if not name:
        raise ValueError(f"{where}: a tool call needs a function name (NAME or NAME=JSON)")
    if not _FUNCTION_NAME.fullmatch(name):
        raise ValueError(
            f"{where}: a function name is letters, digits, '_' and '-' (at most 64), got {name!r}"
        )
    arguments: Any = {}
    if sep:
        try:
            arguments = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"{where}: the arguments are not valid JSON ({exc})") from None
        if not isinstance(arguments, dict):
            raise ValueError(
                f"{where}: the arguments must be a JSON object, e.g. {name}='{{\"key\": 1}}'"
            )
    return {"name": name, "arguments": arguments}


#: Each ``stream()`` keyword a fault's advice may name, as this command's flag.
_FLAGS = {"text": "--text", "reasoning": "--reasoning", "tool_calls": "--tool-calls"}


def cli_hint(hint: Hint) -> str:
    """A fault's advice in this command's terms: ``--text 'héllo wörld'``."""
    flag = _FLAGS.get(hint.param)
    if flag is None:
        return hint.python()
    if hint.param == "tool_calls" and isinstance(hint.value, list):
        values = [
            f"{c['name']}={json.dumps(c.get('arguments', {}), ensure_ascii=False)}"
            for c in hint.value
        ]
    else:
        values = [str(hint.value)]
    return " ".join(f"{flag} {shlex.quote(v)}" for v in values)


def build_server(args: argparse.Namespace) -> OAPIServer:
    """An ``OAPIServer`` (not started) serving what the command line asks for.

    Raises ``ValueError``/``OSError`` for settings that cannot work; a fault that cannot apply
    raises ``FaultNotApplicable``, whose advice ``serve_main`` words with this command's flags.
    """
    server = OAPIServer(port=args.port)
    faults = normalize_faults(args.fault, ALL_FAULTS)
    if args.file:
        path = Path(args.file)
        if args.as_provider or args.text or args.reasoning or args.tool_calls:
            raise ValueError(
                "--as-provider, --text, --reasoning, --tool-calls build a stream; not with --file"
            )
        if path.suffix.lower() in (".yaml", ".yml", ".json"):
            server.serve_cassette(path, faults=faults)
        else:
            server.serve_sse(path, faults=faults)
    else:
        tool_calls = [parse_tool_call(v) for v in args.tool_calls] or None
        server.stream(
            args.text,
            reasoning=args.reasoning,
            tool_calls=tool_calls,
            as_provider=args.as_provider,
            faults=faults,
        )
    return server


def serve_main(argv: list[str] | None = None) -> int:
    """``oapi-stream serve``: print the base URL, serve until Ctrl-C or SIGTERM; exit status."""
    args = parse_args(argv)
    try:
        server = build_server(args)
    except FaultNotApplicable as exc:
        print(f"oapi-stream serve: error: {exc.advice(cli_hint)}", file=sys.stderr)
        return 2
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
