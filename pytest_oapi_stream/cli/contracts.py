"""The contract subcommands of ``oapi-stream``: ``shape``, ``diff`` and ``report``.

``cli.py`` calls :func:`add_contract_commands` with its subparsers; each subcommand stores its
handler in ``handler`` (``args.handler(args) -> int``). Inputs are ``.sse`` files, vcrpy
cassettes (every streamed chat completion or Responses stream in them, checked with its recorded
request) and shape files. Exit codes: 0 same shape / rendered, 1 shape changed, 2 bad input
(one line on stderr, no traceback; ``report`` reports an unreadable file, renders the others
and exits 2 at the end).

``shape`` and ``diff`` take the shape of each stream as it is read (``ShapeBuilder`` fed by
``check_lean``): memory does not grow with the size of an ``.sse`` file.
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
    ShapeBuilder,
    ShapeError,
    parse_shape,
    render_shape,
    shape_document,
)
from ..contracts.shape_diff import diff_shapes
from ..core.report import printable
from ..core.surface import sniff_file
from ..recording.files import (
    NO_STREAM,
    RecordingError,
    load_yaml,
    no_stream_problem,
    recordings_from_cassette,
)
from . import input_files, path_problem, surface_mismatch

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
    print(printable(f"oapi-stream {command}: {message}"), file=sys.stderr)
    return 2


def _shape_of(
    source: Path | bytes,
    profile: str,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """Check one stream and take its shape in the same pass, keeping nothing per chunk."""
    from ..chat.check import check_lean

    builders: list[ShapeBuilder] = []

    def fresh() -> Any:  # one builder per pass: auto may start the stream over
        builders[:] = [ShapeBuilder()]
        return builders[0].add

    try:
        report = check_lean(source, profile=profile, request=request, url=url, observe=fresh)
    except ValueError as exc:  # a Responses-only profile (lmstudio)
        where = source if isinstance(source, Path) else url
        raise InputError(f"{where}: {surface_mismatch(profile) or exc}") from None
    if not builders:  # no pass saw a chunk callback (cannot happen for a path or bytes)
        fresh()
    return builders[0].shape(report)


def _responses_shape(
    source: Path | bytes,
    profile: str,
    request: dict[str, Any] | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """Check one Responses stream and take its shape in the same pass, keeping no events."""
    from ..responses.check import check_response_lean
    from ..responses.shape import ResponseShapeBuilder

    builders: list[ResponseShapeBuilder] = []

    def fresh() -> Any:  # one builder per pass: auto may start the stream over
        builders[:] = [ResponseShapeBuilder()]
        return builders[0].add

    try:
        report = check_response_lean(
            source, profile=profile, request=request, url=url, observe=fresh
        )
    except ValueError as exc:  # a chat-only profile
        where = source if isinstance(source, Path) else url
        raise InputError(f"{where}: {surface_mismatch(profile) or exc}") from None
    if not builders:
        fresh()
    return builders[0].shape(report)


def load_document(path: str | os.PathLike[str], profile: str = "auto") -> dict[str, Any]:
    """A shape document from an ``.sse`` file, a vcrpy cassette or a shape file."""
    p = Path(path)
    problem = path_problem(p)
    if problem is not None:
        raise InputError(problem)
    if p.is_dir():
        raise InputError(f"{p}: is a folder; give one .sse file, cassette or shape file")
    if p.suffix == ".sse":
        try:
            if sniff_file(p) == "responses":
                shapes = [_responses_shape(p, profile)]
            else:
                shapes = [_shape_of(p, profile)]
        except OSError as exc:
            raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None
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
        del doc  # the recordings hold the bodies; the parsed YAML can go
        # A cassette may mix surfaces: each stream gets its surface's shape, in order.
        shapes = [
            (_responses_shape if rec.surface == "responses" else _shape_of)(
                rec.judged_body, profile, rec.request, rec.url
            )
            for rec in recordings
        ]
    if not shapes:  # a cassette (an .sse file is one stream): say what it held instead
        raise InputError(no_stream_problem(p))
    return shape_document(shapes)


def _check_profile(profile: str) -> None:
    from . import profile_problem

    problem = profile_problem(profile)
    if problem is not None:
        raise InputError(problem)


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
        sys.stdout.write(printable(f"stream shape changed ({args.old} -> {args.new}):") + "\n")
        sys.stdout.writelines(f"  - {printable(c)}\n" for c in changes)
    else:
        sys.stdout.write(printable(f"same stream shape ({args.old} -> {args.new})") + "\n")
    return 1 if changes else 0


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def report_main(args: argparse.Namespace) -> int:
    """``oapi-stream report PATH... [--format md|html]``: the conformance matrix of the streams
    (Markdown unless ``--format html`` or an ``-o`` file ending in ``.html``)."""
    from ..contracts.conformance import render_html, render_markdown, rows_from_paths
    from . import warn

    errors: list[str] = []
    try:
        _check_profile(args.profile)
        files = input_files("report", args.paths, errors)
        if not files and not errors:
            raise InputError(
                "nothing to report: no .sse file or cassette under " + ", ".join(args.paths)
            )
        out_path = Path(args.output) if args.output else None
        link_base = out_path.resolve().parent if out_path else Path.cwd()
    except InputError as exc:
        return _fail("report", str(exc))
    rows = []
    empty = 0
    for file in files:  # one at a time: a bad file is reported, the others still rendered
        try:
            found = rows_from_paths([file], profile=args.profile, link_base=link_base)
            if not found and file.suffix != ".sse":  # as `check`: named, with what it held
                warn("report", no_stream_problem(file))
                empty += 1
            rows.extend(found)
        except RecordingError as exc:
            problem = str(exc)
        except OSError as exc:
            problem = f"{file}: cannot read ({exc.strerror or exc})"
        except ValueError as exc:  # a chat stream under a Responses-only profile, or back
            problem = f"{file}: {surface_mismatch(args.profile) or exc}"
        else:
            continue
        warn("report", problem)
        errors.append(problem)
    if not rows:
        if errors or empty:  # each named already
            return 2
        return _fail("report", f"{', '.join(args.paths)}: {NO_STREAM}")
    fmt = args.format or (
        "html" if out_path is not None and out_path.suffix.lower() in (".html", ".htm") else "md"
    )
    render = render_html if fmt == "html" else render_markdown
    # A file name or a recorded URL may carry control characters: the document must not.
    text = printable(render(rows, title=args.title, all_rules=args.all_rules), lines=True)
    if out_path is None:
        sys.stdout.write(text)
        return 2 if errors else 0
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        return _fail("report", f"{out_path}: cannot write ({exc.strerror})")
    unit = "stream" if len(rows) == 1 else "streams"
    print(printable(f"wrote {out_path} ({len(rows)} {unit})"), file=sys.stderr)
    return 2 if errors else 0


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
    report.add_argument(
        "--format",
        choices=("md", "html"),
        help="md or html (default: html when OUT ends in .html or .htm, else md)",
    )
    report.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    report.add_argument("--profile", default="auto", help=profiles)
    report.add_argument("--title", default="Stream conformance report")
    report.add_argument(
        "--all-rules",
        action="store_true",
        help="a column for every rule, not only the rules some stream breaks",
    )
    report.set_defaults(handler=report_main)
