"""The ``oapi-stream`` command: check recorded streams outside pytest (and serve, diff, report).

``oapi-stream check PATH...`` takes ``.sse`` files, vcrpy cassettes (every streamed chat
completion in them, with its recorded request) and folders (recursively). Exit 0: no failing
violation; 1: violations; 2: unreadable input or bad usage, with a one-line reason, no traceback
(an unreadable file among others is reported and the rest still checked; out of memory is exit 2
too), or no stream at all to check (each cassette without one is named with what it held; among
files with streams it is only noted); 141 when the reader of the output went away (``| head``),
quietly.

Streams are checked as they are read and each result is printed when it is known: memory does
not grow with the size of an ``.sse`` file (``chat.check.check_lean``). Everything printed for
a person has the stream's control characters escaped (``core.report.printable``).
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import stat
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from .. import __version__
from ..chat.profiles import PROFILES, get_profile
from ..core.cut import CutMarker
from ..core.report import Report, Violation, printable, use_color
from ..core.rules import Rule
from ..responses.profiles import RESPONSE_PROFILES

__all__ = [
    "build_parser",
    "main",
    "profiles_markdown",
    "responses_document",
    "rule_explained",
    "rules_document",
    "rules_markdown",
]

_CASSETTE_SUFFIXES = (".yaml", ".yml", ".json")


class UsageFailure(Exception):
    """Bad input or usage: printed as one line, exit status 2."""


@dataclass
class Result:
    """One checked stream: where it came from and its report."""

    path: str
    stream: int
    report: Report[Any, Any]
    surface: str = "chat"
    #: The provider cut the stream: ``{"error", "message", "bytes"}`` (the cassette's marker
    #: and the bytes that arrived); None for a whole body.
    cut: dict[str, Any] | None = None

    @property
    def cut_note(self) -> str | None:
        """``stream cut by the provider after N bytes (error: message)``, or None."""
        if self.cut is None:
            return None
        return CutMarker(self.cut["error"], self.cut["message"]).describe(self.cut["bytes"])

    def to_json(self) -> dict[str, Any]:
        """The ``results[]`` entry of ``--format json``."""
        return {
            "path": self.path,
            "stream": self.stream,
            "surface": self.surface,
            "profile": self.report.profile.name,
            "ok": self.report.ok,
            "cut": self.cut,
            "violations": [
                {k: v.to_json()[k] for k in ("code", "rule", "severity", "chunk", "message")}
                for v in self.report.violations
            ],
        }


def path_problem(raw: str | os.PathLike[str]) -> str | None:
    """Why ``raw`` is neither a regular file nor a folder (one line), or None when it is one.

    A FIFO or a device would block or never end when read; each odd path gets its own words.
    """
    p = os.fspath(raw)
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        if os.path.islink(p):
            return f"{p}: broken symbolic link (its target does not exist)"
        return f"{p}: no such file or folder"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{p}: symbolic link loop (the links lead back to each other)"
        return f"{p}: cannot open ({exc.strerror})"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        kind = "a named pipe (FIFO)"
    elif stat.S_ISCHR(mode):
        kind = "a character device"
    elif stat.S_ISBLK(mode):
        kind = "a block device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "not a regular file"
    return f"{p}: is {kind}, not a recording file or folder"


def warn(command: str, message: str) -> None:
    """One line on stderr for a problem that does not stop the command."""
    print(printable(f"oapi-stream {command}: {message}"), file=sys.stderr)


def input_files(command: str, paths: Sequence[str], errors: list[str]) -> list[Any]:
    """The recording files under ``paths``; each path that cannot be read is reported (one
    line on stderr, appended to ``errors``) and skipped."""
    from ..recording.files import RecordingError, expand_paths

    files = []
    for raw in paths:
        problem = path_problem(raw)
        if problem is None:
            try:
                files.extend(expand_paths([raw]))
                continue
            except (RecordingError, OSError) as exc:
                problem = str(exc)
        warn(command, problem)
        errors.append(problem)
    return files


def profile_problem(profile: str) -> str | None:
    """Why ``profile`` names no profile of either surface (one line), or None when it does.

    The one check of ``--profile`` for every subcommand: a name that only the Responses
    catalog knows (``lmstudio``) is as valid as a chat one.
    """
    if profile == "auto" or profile in PROFILES or profile in RESPONSE_PROFILES:
        return None
    names = ", ".join(dict.fromkeys([*PROFILES, *RESPONSE_PROFILES]))
    return f"unknown profile {profile!r}; choose auto or one of {names}"


def check_profile_name(profile: str) -> None:
    """``UsageFailure`` when ``profile`` names no profile of either surface."""
    problem = profile_problem(profile)
    if problem is not None:
        raise UsageFailure(problem)


def surface_mismatch(profile: str) -> str | None:
    """Why ``profile`` cannot judge a stream it was given: it belongs to the other surface
    only (``lmstudio`` has no chat rules, ``groq`` no Responses rules); None otherwise."""
    if profile in RESPONSE_PROFILES and profile not in PROFILES:
        return f"profile {profile!r} is a Responses profile; this file holds chat completions"
    if profile in PROFILES and profile not in RESPONSE_PROFILES:
        return f"profile {profile!r} is a chat profile; this file holds Responses streams"
    return None


def _code_range(codes: Sequence[str]) -> str:
    """``OAS001-OAS043``: the first and last code of a rule table."""
    return f"{codes[0]}-{codes[-1]}" if len(codes) > 1 else codes[0]


def check_ignored(ignore: Sequence[str], what: str = "ignore") -> None:
    """An ``--ignore`` code that neither catalog knows is bad usage, named before any output;
    the message gives both ranges (taken from the rule tables)."""
    from ..chat.rules import RULES as CHAT_RULES
    from ..responses.rules import RULES as RESPONSE_RULES

    tables = (CHAT_RULES, RESPONSE_RULES)
    known = {key for table in tables for r in table for key in (r.code, r.name)}
    if isinstance(ignore, str):
        ignore = [c.strip() for c in ignore.split(",") if c.strip()]
    for code in ignore:
        if code in known or code.upper() in known:
            continue
        chat = _code_range([r.code for r in CHAT_RULES])
        # The Responses table also holds the byte-level chat rules it reuses: its own range
        # is the codes the chat table does not have.
        own = [r.code for r in RESPONSE_RULES if r.code not in {c.code for c in CHAT_RULES}]
        raise UsageFailure(
            (f"{what}: " if what else "")
            + f"unknown rule {code!r}; codes are {chat} (chat completions) and "
            f"{_code_range(own)} (Responses), or their names (e.g. 'id-constant')"
        )


def _check_paths(args: argparse.Namespace, errors: list[str], empty: list[str]) -> Iterator[Result]:
    """Check every stream under ``args.paths``, one result at a time; a file that cannot be
    read is reported, appended to ``errors`` and skipped; a cassette without a stream is
    reported and appended to ``empty``."""
    from ..chat.check import check_lean
    from ..core.surface import Surface, sniff_file
    from ..recording.files import (
        RecordingError,
        ignore_for_surface,
        no_stream_problem,
        read_recordings,
    )
    from ..responses.check import check_response_lean

    check_ignored(args.ignore)  # an unknown code is bad usage, before any output
    files = input_files("check", args.paths, errors)
    if not files and not errors:
        raise UsageFailure(
            "nothing to check: no .sse file or cassette under " + ", ".join(args.paths)
        )
    # Each surface's lean check: nothing kept per chunk or event, a file read in blocks.
    lean: dict[Surface, Callable[..., Report[Any, Any]]] = {
        "chat": check_lean,
        "responses": check_response_lean,
    }
    opts: dict[Surface, dict[str, Any]] = {
        surface: {
            "profile": args.profile,
            "ignore": ignore_for_surface(args.ignore, surface),
            "strict": args.strict,
        }
        for surface in lean
    }
    for path in files:
        try:
            if path.suffix == ".sse":
                surface = sniff_file(path)
                report = lean[surface](path, **opts[surface])
                report.source = str(path)
                yield Result(str(path), 0, report, surface)
                continue
            recordings = read_recordings(path)
            if not recordings:  # the wrong file, or only non-streaming calls: nothing judged
                note = no_stream_problem(path)  # parses it again: only for such a cassette
                warn("check", note)
                empty.append(note)
                continue
            for rec in recordings:
                # a cut body: the events that arrived whole, judged as the truncated stream
                report = lean[rec.surface](
                    rec.judged_body, request=rec.request, url=rec.url, **opts[rec.surface]
                )
                report.source = rec.label
                cut = None
                if rec.cut is not None:
                    cut = {**rec.cut.to_dict(), "bytes": len(rec.body)}
                yield Result(str(path), rec.index, rec.told_of_cut(report), rec.surface, cut)
        except RecordingError as exc:
            problem = str(exc)
        except OSError as exc:
            problem = f"{path}: cannot read ({exc.strerror or exc})"
        except ValueError:  # a profile of the other surface only: this file is not judged
            mismatch = surface_mismatch(args.profile)
            if mismatch is None:
                raise
            problem = f"{path}: {mismatch}"
        else:
            continue
        warn("check", problem)
        errors.append(problem)


_COLORS = {
    "error": "\x1b[31m",
    "warn": "\x1b[33m",
    "info": "\x1b[2m",
    "ok": "\x1b[32m",
    "bold": "\x1b[1m",
    "reset": "\x1b[0m",
}


def _paint(text: str, style: str, color: bool) -> str:
    return f"{_COLORS[style]}{text}{_COLORS['reset']}" if color else text


def _print_result(res: Result, out: TextIO, *, verbose: bool, color: bool) -> None:
    """One stream's verdict line and its violations (stream text escaped: ``printable``)."""
    rep = res.report
    shown = [v for v in rep.violations if verbose or v.severity != "info"]
    verdict = _paint("ok", "ok", color) if rep.ok else _paint("FAIL", "error", color)
    label = res.path + (f" #{res.stream}" if res.path.endswith(_CASSETTE_SUFFIXES) else "")
    out.write(
        f"{verdict}  {_paint(printable(label), 'bold', color)}  ["
        + ("responses, " if res.surface == "responses" else "")
        + f"profile {rep.profile.name}: {printable(rep.profile_reason)}]\n"
    )
    if res.cut_note is not None:  # judged as the truncated stream that arrived, not as bad JSON
        out.write(f"    {_paint('note:', 'bold', color)} {printable(res.cut_note)}\n")
    if shown:
        unit = "event" if res.surface == "responses" else "chunk"
        rows = [_row(v, unit) for v in shown]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for v, row in zip(shown, rows, strict=True):
            cells = [row[i].ljust(widths[i]) for i in range(4)]
            cells[2] = _paint(cells[2], v.severity, color)
            out.write("    " + "  ".join(cells) + "  " + row[4] + "\n")
            if v.excerpt and verbose:
                out.write("    " + " " * (sum(widths) + 8) + "> " + printable(v.excerpt) + "\n")


def _row(v: Violation, unit: str = "chunk") -> tuple[str, str, str, str, str]:
    where = "stream" if v.chunk is None else f"{unit} {v.chunk}"
    return (v.code, v.rule, v.severity, where, printable(v.message))


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    check_profile_name(args.profile)
    errors: list[str] = []
    empty: list[str] = []
    total = failed = 0
    as_json = args.format == "json"
    color = not as_json and use_color(out) and not args.no_color
    entries = []
    failing: set[str] = set()  # the codes that failed a stream, for the "next:" hint
    try:
        for res in _check_paths(args, errors, empty):
            total += 1
            failed += not res.report.ok
            failing.update(v.code for v in res.report.failures)
            if as_json:
                entries.append(res.to_json())
            else:
                _print_result(res, out, verbose=args.verbose, color=color)
    except ValueError as exc:  # unknown --ignore code, bad profile
        raise UsageFailure(str(exc)) from None
    if as_json:
        json.dump({"results": entries}, out, indent=2)
        out.write("\n")
    else:
        summary = f"{total} stream(s) checked: {total - failed} ok, {failed} failed"
        if errors:
            summary += f"; {len(errors)} path(s) could not be read"
        if empty:
            summary += f"; {len(empty)} file(s) held no stream"
        bad = failed or errors or not total
        out.write(_paint(summary, "error" if bad else "ok", color) + "\n")
        if failing:
            codes = sorted(failing)
            out.write(
                f"next: oapi-stream rules {codes[0]} explains a rule; --ignore {','.join(codes)} "
                "accepts these; --profile NAME judges by a provider's known deviations "
                "(oapi-stream rules --matrix)\n"
            )
    if errors or not total:  # nothing judged is not a pass (as `shape` and `report` say)
        return 2
    return 1 if failed else 0


def _catalog_table(rules: Sequence[Rule], prof: Any) -> str:
    """A catalog as a Markdown table, each rule's severity under ``prof`` (either surface)."""
    lines = ["| code | name | severity | scope | rule |", "|---|---|---|---|---|"]
    for r in rules:
        sev = prof.severity.get(r.code, r.severity)
        lines.append(f"| {r.code} | `{r.name}` | {sev} | {r.scope} | {r.summary} |")
    return "\n".join(lines) + "\n"


def _severity_matrix(rules: Sequence[Rule], profs: Sequence[Any]) -> str:
    """A rules x profiles matrix of severities, bold where a profile differs from the rule."""
    head = "| code | name | " + " | ".join(p.name for p in profs) + " |"
    lines = [head, "|---|---|" + "---|" * len(profs)]
    for r in rules:
        cells = []
        for p in profs:
            sev = p.severity.get(r.code, r.severity)
            cells.append(sev if sev == r.severity else f"**{sev}**")
        lines.append(f"| {r.code} | `{r.name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def rules_markdown(profile: str = "openai") -> str:
    """The rule catalog as a Markdown table, with each rule's severity under ``profile``."""
    from ..chat.rules import RULES

    return _catalog_table(RULES, get_profile(profile))


def profiles_markdown() -> str:
    """A rules x profiles matrix of severities: what each built-in profile relaxes."""
    from ..chat.rules import RULES

    return _severity_matrix(RULES, [get_profile(name) for name in PROFILES])


def rules_document() -> str:
    """The whole of ``docs/rules.md``: catalog, profile matrix and each profile's relaxations."""
    parts = [
        "# The rule catalog\n",
        "Generated by `oapi-stream rules --doc` from the rule table",
        "(`pytest_oapi_stream.chat.rules`) and the built-in profiles",
        "(`pytest_oapi_stream.chat.profiles`); a test keeps it in sync.",
        "Codes and names are stable: use them in `ignore=[...]`, ini files and CI logs.",
        "Severity: **error** fails the check; **warn** fails only in strict mode; **info** is",
        "reported in the detailed output only. Each rule's severity is justified below, rule by",
        "rule, by a clause of the contract or by what real clients do with the deviation (the",
        "client matrix, [clients.md](clients.md)); profile relaxations are justified in",
        "`profiles.py`. Source keys in brackets are those of the research notes.\n",
        "## Rules (severity under the strict `openai` profile)\n",
        rules_markdown("openai"),
        "## Severity per profile (bold: differs from `openai`)\n",
        profiles_markdown(),
        "## Profiles\n",
    ]
    parts += _profile_sections()
    parts += ["## Rule by rule: why each severity, and the clients each deviation breaks\n"]
    parts += _evidence_sections()
    parts.append(responses_document())
    return "\n".join(parts).rstrip() + "\n"


def _evidence_sections() -> list[str]:
    """Per rule: its strict severity, the basis, the clause and the matrix cells."""
    from ..chat.evidence import EVIDENCE
    from ..chat.rules import RULES

    parts: list[str] = []
    for r in RULES:
        ev = EVIDENCE.get(r.code)
        parts.append(f"### {r.code} `{r.name}`: {r.severity}\n")
        if ev is None:
            parts.append("No evidence recorded.\n")
            continue
        parts.append(ev.basis + "\n")
        if ev.clause:
            parts.append(f"- contract: {ev.clause}")
        for imp in ev.impacts:
            parts.append(f"- breaks {imp.client}: {imp.effect}… (`{imp.cell}`)")
        if ev.clause or ev.impacts:
            parts.append("")
    return parts


def _profile_sections() -> list[str]:
    """Each built-in profile: description, hosts, extras and known extensions."""
    parts: list[str] = []
    for name in PROFILES:
        prof = get_profile(name)
        flags = [
            label
            for attr, label in (
                ("usage_on_finish_chunk", "usage may ride on the finish chunk"),
                ("usage_in_x_groq", "`x_groq.usage` counts as usage"),
                ("filter_chunks", "Azure filter chunks are exempt from envelope rules"),
                ("reasoning_outside_completion", "total may include reasoning tokens"),
                ("cache_hit_identity", "cache hit + miss must equal prompt tokens"),
            )
            if getattr(prof, attr)
        ]
        parts.append(f"### `{name}`\n")
        parts.append(prof.description + "\n")
        if prof.hosts:
            parts.append("- auto-selected for hosts: " + ", ".join(f"`{h}`" for h in prof.hosts))
        if prof.finish_reasons:
            parts.append(
                "- extra finish reasons: "
                + ", ".join(f"`{f}`" for f in sorted(prof.finish_reasons))
            )
        if prof.service_tiers:
            parts.append(
                "- extra service tiers: " + ", ".join(f"`{f}`" for f in sorted(prof.service_tiers))
            )
        for flag in flags:
            parts.append(f"- {flag}")
        if prof.extensions:
            parts.append(
                "- known extensions (not reported under OAS014): "
                + ", ".join(f"`{e}`" for e in sorted(prof.extensions))
            )
        parts.append("")
    return parts


def responses_rules_markdown(profile: str = "openai") -> str:
    """The Responses catalog as a Markdown table, with each rule's severity under ``profile``."""
    from ..responses.profiles import get_response_profile
    from ..responses.rules import RULES

    return _catalog_table(RULES, get_response_profile(profile))


def responses_profiles_markdown() -> str:
    """The Responses rules x profiles matrix of severities (bold: differs from the rule's)."""
    from ..responses.profiles import get_response_profile
    from ..responses.rules import RULES

    return _severity_matrix(RULES, [get_response_profile(name) for name in RESPONSE_PROFILES])


def responses_document() -> str:
    """The Responses part of ``docs/rules.md``: its catalog, severities per profile, profiles."""
    from ..responses.profiles import get_response_profile
    from ..responses.rules import RULES

    profs = [get_response_profile(name) for name in RESPONSE_PROFILES]
    lines = [
        "# The Responses rule catalog (`/v1/responses`, `stream: true`)\n",
        "Generated from `pytest_oapi_stream.responses.rules` and `.responses.profiles`. A stream",
        "is checked as a Responses stream when its request path ends in `/responses` (or",
        "`/responses/{id}` when resuming) or its first payload's `type` starts with `response.`.",
        "The byte-level rules of the chat catalog apply unchanged (OAS001-OAS005, OAS040); OAS006",
        "and OAS008 do not (a Responses stream names its events and has no `[DONE]` at OpenAI).",
        "The evidence per rule (which client breaks, which server deviates) is in",
        "`research/responses-invariants.md`; `docs/conformance.md` shows the verdicts on 31 real",
        "recordings. Rules that need the request (`starting_after`, `background`) report at info",
        "without it.\n",
        "## Rules (severity under the strict `openai` profile)\n",
        "| code | name | severity | scope | rule |",
        "|---|---|---|---|---|",
    ]
    for r in RULES:
        lines.append(f"| {r.code} | `{r.name}` | {r.severity} | {r.scope} | {r.summary} |")
    lines += ["", "## Severity per profile (bold: differs from `openai`)\n"]
    lines.append(responses_profiles_markdown().rstrip("\n"))
    lines += ["", "## Responses profiles\n"]
    for p in profs:
        lines.append(f"### `{p.name}`\n")
        lines.append(p.description + "\n")
        if p.hosts:
            lines.append("- auto-selected for hosts: " + ", ".join(f"`{h}`" for h in p.hosts))
        if p.ports:
            lines.append("- auto-selected for ports: " + ", ".join(f"`{n}`" for n in p.ports))
        if p.done_required:
            lines.append("- `data: [DONE]` required at the end (OAS104 inverted)")
        if p.extensions:
            lines.append(
                "- known extensions (not reported under OAS110): "
                + ", ".join(f"`{e}`" for e in sorted(p.extensions))
            )
        if p.optional:
            lines.append(
                "- required fields it may omit (not reported under OAS109): "
                + ", ".join(f"`{e}`" for e in sorted(p.optional))
            )
        lines.append("")
    return "\n".join(lines)


_SURFACES = {
    "chat": ("Chat completions (`/v1/chat/completions`)", PROFILES),
    "responses": ("Responses (`/v1/responses`)", RESPONSE_PROFILES),
}


def _wrapped(text: str) -> str:
    return textwrap.fill(text, 100, initial_indent="  ", subsequent_indent="    ")


def rule_explained(code: str) -> str:
    """One rule as plain text, for ``oapi-stream rules CODE`` (the failure message points
    here): its row in each catalog that holds it, the profiles that change its severity and,
    for chat, the evidence behind the severity (the same text as ``docs/rules.md``)."""
    from ..chat.evidence import EVIDENCE
    from ..chat.rules import RULES as CHAT_RULES
    from ..responses.profiles import get_response_profile
    from ..responses.rules import RULES as RESPONSE_RULES

    check_ignored([code], what="")  # an unknown code: the ranges, as for --ignore
    key = code.upper() if code.upper().startswith("OAS") else code
    parts: list[str] = []
    for title, table, names, get in (
        ("chat completions", CHAT_RULES, PROFILES, get_profile),
        ("Responses", RESPONSE_RULES, RESPONSE_PROFILES, get_response_profile),
    ):
        rule = next((r for r in table if key in (r.code, r.name)), None)
        if rule is None:
            continue
        if parts:
            parts.append("")
        parts.append(f"{rule.code} {rule.name} ({title}): {rule.severity}, per {rule.scope}")
        parts.append(f"  {rule.summary}")
        differ = []
        for name in names:
            sev = get(name).severity.get(rule.code, rule.severity)
            if sev != rule.severity:
                differ.append(f"{name} {sev}")
        parts.append("  profiles that differ: " + (", ".join(differ) or "none"))
        ev = EVIDENCE.get(rule.code) if table is CHAT_RULES else None
        if ev is not None:
            parts.append(_wrapped("why: " + ev.basis))
            if ev.clause:
                parts.append(_wrapped("contract: " + ev.clause))
            seen = set()
            for i in ev.impacts:
                if (i.client, i.effect) not in seen:
                    seen.add((i.client, i.effect))
                    parts.append(f"  breaks {i.client}: {i.effect}… ({i.cell})")
    parts.append("more: docs/rules.md (oapi-stream rules --doc)")
    return "\n".join(parts) + "\n"


def _cmd_rules(args: argparse.Namespace, out: TextIO) -> int:
    """The catalogs of the chosen surfaces (both by default), each under its own heading;
    with codes, each of those rules explained."""
    if args.codes:
        out.write("\n".join(rule_explained(c) for c in args.codes))
        return 0
    if args.doc:
        out.write(rules_document())
        return 0
    check_profile_name(args.profile)
    if args.profile == "auto":
        raise UsageFailure("rules shows severities under a named profile, not auto")
    surfaces = ["chat", "responses"] if args.surface == "both" else [args.surface]
    known = [s for s in surfaces if args.matrix or args.profile in _SURFACES[s][1]]
    if not known:
        raise UsageFailure(
            f"profile {args.profile!r} has no {args.surface} rules; "
            f"{args.surface} profiles: {', '.join(_SURFACES[args.surface][1])}"
        )
    parts = []
    for surface in surfaces:
        title, _ = _SURFACES[surface]
        if len(surfaces) > 1:
            parts.append(f"## {title}\n\n")
        if surface not in known:
            parts.append(f"Profile `{args.profile}` is not a {surface} profile.\n")
        elif surface == "chat":
            parts.append(profiles_markdown() if args.matrix else rules_markdown(args.profile))
        else:
            parts.append(
                responses_profiles_markdown()
                if args.matrix
                else responses_rules_markdown(args.profile)
            )
        parts.append("\n")
    out.write("".join(parts).rstrip("\n") + "\n")
    return 0


def _split_codes(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``oapi-stream`` (all subcommands)."""
    parser = argparse.ArgumentParser(
        prog="oapi-stream",
        description="Contract checks for OpenAI-compatible streaming chat completions.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser(
        "check",
        help="check .sse files, vcrpy cassettes or folders of them",
        description="Check every stream; exit 0 when none fails, 1 on violations, 2 on bad "
        "input or when no file held a stream (cassettes without one are named on stderr).",
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help=".sse file, cassette or folder")
    check.add_argument(
        "--profile", default="auto", help=f"provider profile: auto (default), {', '.join(PROFILES)}"
    )
    check.add_argument("--strict", action="store_true", help="warnings fail too")
    check.add_argument(
        "--ignore",
        type=_split_codes,
        default=[],
        metavar="CODE,...",
        help="rule codes or names to skip, comma-separated",
    )
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument(
        "-v", "--verbose", action="store_true", help="show info-level findings and excerpts"
    )
    check.add_argument("--no-color", action="store_true", help="never colour the output")
    rules = sub.add_parser("rules", help="print the rule catalog (Markdown), or explain rules")
    rules.add_argument(
        "codes",
        nargs="*",
        metavar="CODE",
        help="explain these rules (code or name, e.g. OAS015 or id-constant)",
    )
    rules.add_argument("--profile", default="openai", help="show severities under this profile")
    rules.add_argument(
        "--surface",
        choices=("both", "chat", "responses"),
        default="both",
        help="which catalog: chat completions, Responses or both (default)",
    )
    rules.add_argument(
        "--matrix", action="store_true", help="print every built-in profile's severity per rule"
    )
    rules.add_argument("--doc", action="store_true", help="print the whole docs/rules.md")
    sub.add_parser(
        "serve", help="serve a scripted stream on 127.0.0.1 (see `serve --help`)", add_help=False
    )
    try:
        from .contracts import add_contract_commands
    except ImportError:  # pragma: no cover - the contract commands ship with the package
        pass
    else:
        add_contract_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``oapi-stream`` and ``python -m pytest_oapi_stream``."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "serve":
        from ..server.serve import serve_main

        return serve_main(args_list[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        if args.command == "check":
            return _cmd_check(args, sys.stdout)
        if args.command == "rules":
            return _cmd_rules(args, sys.stdout)
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return 2
        return int(handler(args))
    except BrokenPipeError:  # `oapi-stream check ... | head`: the reader has gone, quietly
        _silence_stdout()
        return 141
    except UsageFailure as exc:
        warn(args.command, str(exc))
        return 2
    except MemoryError:
        warn(args.command, "out of memory (the input is too large for this machine's limits)")
        return 2
    except (OSError, ValueError, TypeError) as exc:
        warn(args.command, f"{type(exc).__name__}: {exc}")
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        try:
            sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught
        except BrokenPipeError:
            _silence_stdout()


def _silence_stdout() -> None:
    """Point stdout at /dev/null: the flush at interpreter exit must not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real stdout (captured): nothing will flush to it
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
