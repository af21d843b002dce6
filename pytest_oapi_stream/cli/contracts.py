"""The contract subcommands of ``oapi-stream``: ``shape``, ``diff`` and ``report``.

``cli.py`` calls :func:`add_contract_commands` with its subparsers; each subcommand stores its
handler in ``handler`` (``args.handler(args) -> int``). Inputs are ``.sse`` files, vcrpy
cassettes (every streamed chat completion in them, checked with its recorded request) and shape
files. Exit codes: 0 same shape / rendered, 1 shape changed, 2 bad input (one line on stderr, no
traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..chat.profiles import PROFILES
from ..contracts.shape import (
    ShapeError,
    parse_shape,
    render_shape,
    shape_document,
    stream_shape,
)
from ..contracts.shape_diff import diff_shapes
from ..core.report import Report
from ..recording.files import RecordingError, expand_paths, load_yaml, recordings_from_cassette

__all__ = [
    "InputError",
    "add_contract_commands",
    "diff_main",
    "load_document",
    "report_main",
    "shape_main",
]


class InputError(Exception):
    """Bad input: printed as one line, exit status 2."""


def _fail(command: str, message: str) -> int:
    print(f"oapi-stream {command}: {message}", file=sys.stderr)
    return 2


def _reports(path: Path, profile: str) -> list[Report]:
    """Check every stream of an ``.sse`` file or a parsed cassette."""
    from ..recording.files import read_recordings

    try:
        return [_chat_only(rec).check(profile) for rec in read_recordings(path)]
    except RecordingError as exc:
        raise InputError(str(exc)) from None


def _chat_only(rec: Any) -> Any:
    """Stream shapes describe chat streams: a Responses stream is refused, not misdescribed."""
    if rec.surface == "responses":
        raise InputError(
            f"{rec.label}: a Responses API stream; stream shapes (shape, diff) cover chat "
            "completions only so far (check it with `oapi-stream check`)"
        )
    return rec


def load_document(path: str | os.PathLike[str], profile: str = "auto") -> dict[str, Any]:
    """A shape document from an ``.sse`` file, a vcrpy cassette or a shape file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    if p.suffix == ".sse":
        reports = _reports(p, profile)
    else:
        try:
            doc = load_yaml(p)
        except RecordingError as exc:
            raise InputError(str(exc)) from None
        if isinstance(doc, dict) and "streams" in doc and "format" in doc:
            try:
                return parse_shape(p.read_text(encoding="utf-8"), where=str(p))
            except ShapeError as exc:
                raise InputError(str(exc)) from None
        if not (isinstance(doc, dict) and "interactions" in doc):
            raise InputError(f"{p}: not an .sse stream, a vcrpy cassette or a shape file")
        try:
            recordings = recordings_from_cassette(p, doc)
        except RecordingError as exc:
            raise InputError(str(exc)) from None
        # A cassette may mix surfaces: its shape is that of its chat streams.
        reports = [rec.check(profile) for rec in recordings if rec.surface == "chat"]
    if not reports:
        raise InputError(f"{p}: no streamed chat completion in it")
    return shape_document(stream_shape(r) for r in reports)


def _check_profile(profile: str) -> None:
    if profile != "auto" and profile not in PROFILES:
        raise InputError(
            f"unknown profile {profile!r}; choose auto or one of {', '.join(PROFILES)}"
        )


# --------------------------------------------------------------------------------------------
# shape
# --------------------------------------------------------------------------------------------


def shape_main(args: argparse.Namespace) -> int:
    """``oapi-stream shape FILE``: print the stream shape of a recording (YAML or JSON)."""
    try:
        _check_profile(args.profile)
        doc = load_document(args.file, args.profile)
    except InputError as exc:
        return _fail("shape", str(exc))
    sys.stdout.write(render_shape(doc, args.format))
    return 0


# --------------------------------------------------------------------------------------------
# diff
# --------------------------------------------------------------------------------------------


def diff_main(args: argparse.Namespace) -> int:
    """``oapi-stream diff OLD NEW``: exit 0 same shape, 1 changed (sentences), 2 bad input."""
    try:
        _check_profile(args.profile)
        old = load_document(args.old, args.profile)
        new = load_document(args.new, args.profile)
    except InputError as exc:
        return _fail("diff", str(exc))
    changes = diff_shapes(old, new)
    if args.format == "json":
        out = {
            "old": str(args.old),
            "new": str(args.new),
            "changed": bool(changes),
            "changes": changes,
        }
        sys.stdout.write(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    elif changes:
        sys.stdout.write(f"stream shape changed ({args.old} -> {args.new}):\n")
        sys.stdout.writelines(f"  - {c}\n" for c in changes)
    else:
        sys.stdout.write(f"same stream shape ({args.old} -> {args.new})\n")
    return 1 if changes else 0


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def report_main(args: argparse.Namespace) -> int:
    """``oapi-stream report PATH... --format md|html``: the conformance matrix of the streams."""
    from ..contracts.conformance import render_html, render_markdown, rows_from_paths

    try:
        _check_profile(args.profile)
        files = expand_paths(args.paths)
        if not files:
            raise InputError(
                "nothing to report: no .sse file or cassette under " + ", ".join(args.paths)
            )
        out_path = Path(args.output) if args.output else None
        link_base = out_path.resolve().parent if out_path else Path.cwd()
        rows = rows_from_paths(files, profile=args.profile, link_base=link_base)
    except (InputError, RecordingError) as exc:
        return _fail("report", str(exc))
    if not rows:
        return _fail("report", "no streamed chat completion in " + ", ".join(args.paths))
    render = render_html if args.format == "html" else render_markdown
    text = render(rows, title=args.title, all_rules=args.all_rules)
    if out_path is None:
        sys.stdout.write(text)
        return 0
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        return _fail("report", f"{out_path}: cannot write ({exc.strerror})")
    print(f"wrote {out_path} ({len(rows)} streams)", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------------
# registration
# --------------------------------------------------------------------------------------------


def add_contract_commands(subparsers: Any) -> None:
    """Register ``shape``, ``diff`` and ``report`` on ``oapi-stream``'s subparsers."""
    profiles = f"provider profile: auto (default), {', '.join(PROFILES)}"
    shape = subparsers.add_parser(
        "shape",
        help="print the stream shape of an .sse file or cassette",
        description="Print the structure of the recorded stream(s): fields per chunk, usage "
        "placement, tool-call fragments, reasoning field, rule verdicts; no text, ids or "
        "timestamps. Exit 0, or 2 on bad input.",
    )
    shape.add_argument("file", metavar="FILE", help=".sse file, vcrpy cassette or shape file")
    shape.add_argument("--profile", default="auto", help=profiles)
    shape.add_argument("--format", choices=("yaml", "json"), default="yaml")
    shape.set_defaults(handler=shape_main)

    diff = subparsers.add_parser(
        "diff",
        help="compare the stream shapes of two recordings",
        description="Say in sentences what changed in the stream structure from OLD to NEW "
        "(.sse files, cassettes or shape files). Exit 0 same shape, 1 changed, 2 bad input.",
    )
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.add_argument("--profile", default="auto", help=profiles)
    diff.set_defaults(handler=diff_main)

    report = subparsers.add_parser(
        "report",
        help="render the conformance matrix of streams (Markdown or HTML)",
        description="Render streams (rows, grouped by provider) against rules (columns) with "
        "pass/warn/fail cells linking to the offending chunk. HTML is one self-contained file.",
    )
    report.add_argument("paths", nargs="+", metavar="PATH", help=".sse file, cassette or folder")
    report.add_argument("--format", choices=("md", "html"), required=True)
    report.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    report.add_argument("--profile", default="auto", help=profiles)
    report.add_argument("--title", default="Stream conformance report")
    report.add_argument(
        "--all-rules",
        action="store_true",
        help="a column for every rule, not only the rules some stream breaks",
    )
    report.set_defaults(handler=report_main)
