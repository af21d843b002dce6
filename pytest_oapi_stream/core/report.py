"""The end of the flow: violations, the report of one stream, and how both read to a person.

A failing check must tell a pytest user what is wrong without a debugger: every broken rule with
its stable code, name, the chunk index, the field path and a short excerpt, plus which profile
applied and why.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TextIO

from typing_extensions import TypeVar

if TYPE_CHECKING:
    from ..chat.check import ChunkStream
    from ..chat.profiles import Profile


class _Named(Protocol):
    @property
    def name(self) -> str: ...


#: The checked stream and the profile type of a report: chat's by default, or the Responses ones.
StreamT = TypeVar("StreamT", default="ChunkStream")
ProfileT = TypeVar("ProfileT", bound=_Named, default="Profile")

__all__ = [
    "SEVERITY_RANK",
    "Report",
    "Severity",
    "StreamContractError",
    "Violation",
    "excerpt",
    "excerpt_at",
    "next_steps",
    "printable",
]

Severity = Literal["error", "warn", "info"]

#: Order of severities; "off" rules never produce a violation.
SEVERITY_RANK: dict[str, int] = {"off": 0, "info": 1, "warn": 2, "error": 3}

_EXCERPT_LEN = 120


# Control characters a terminal would act on (C0 but tab, DEL, C1) -> visible escapes.
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0)) if c != 0x09}
_ESCAPES[0x0A] = "\\n"
_ESCAPES[0x0D] = "\\r"


_DOC_ESCAPES = {c: e for c, e in _ESCAPES.items() if c not in (0x0A, 0x0D)}


def printable(text: str, *, lines: bool = False) -> str:
    """``text`` with control characters escaped (``ESC`` -> ``\\x1b``, newline -> ``\\n``).

    Everything a person reads (messages, excerpts, labels) passes here: bytes from a stream
    must not clear a terminal, retitle it or hide text in it. ``lines=True`` keeps line
    breaks (for a whole document such as a rendered report).
    """
    if text.isprintable():
        return text
    return text.translate(_DOC_ESCAPES if lines else _ESCAPES)


def excerpt(text: str | None, limit: int = _EXCERPT_LEN) -> str | None:
    """Shorten ``text`` to one printable line of at most ``limit`` characters for a message."""
    if text is None:
        return None
    # Only the head can show: escaping a long text whole would cost its length per finding.
    one_line = printable(text[: limit + 1])
    if len(one_line) <= limit:
        return one_line
    return one_line[: limit - 1] + "…"


def excerpt_at(
    text: str | None, key: str | None, limit: int = _EXCERPT_LEN, *, at: int | None = None
) -> str | None:
    """An excerpt of ``text`` that starts near the JSON key ``key`` (so the reader sees it).

    ``at`` is where ``"key"`` sits in ``text`` when the caller already searched for it.
    """
    if text is None or not key:
        return excerpt(text, limit)
    if at is None:
        at = text.find(f'"{key}"')
    if at <= 0:
        return excerpt(text, limit)
    start = max(0, at - 20)
    return excerpt(("…" if start else "") + text[start : start + limit + 1], limit)


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: its code, name, severity, where (chunk index, field path) and why."""

    code: str
    rule: str
    severity: Severity
    chunk: int | None
    message: str
    path: str | None = None
    excerpt: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The violation as the JSON object that ``oapi-stream check --format json`` prints."""
        return {
            "code": self.code,
            "rule": self.rule,
            "severity": self.severity,
            "chunk": self.chunk,
            "message": self.message,
            "path": self.path,
            "excerpt": self.excerpt,
        }

    def line(self) -> str:
        """One readable line: code, rule, where, message, excerpt."""
        where = "stream" if self.chunk is None else f"chunk {self.chunk}"
        if self.path:
            where += f" {self.path}"
        text = f"{self.code} {self.rule} [{self.severity}] at {where}: {self.message}"
        if self.excerpt:
            text += f"\n      > {self.excerpt}"
        return text


@dataclass
class Report(Generic[StreamT, ProfileT]):
    """The verdict on one stream: every violation found and the profile that judged it."""

    violations: list[Violation]
    profile: ProfileT
    profile_reason: str
    strict: bool = False
    stream: StreamT | None = None
    source: str | None = None
    ignored: tuple[str, ...] = field(default=())

    @property
    def failures(self) -> list[Violation]:
        """Violations that fail the check: errors, and warnings too in strict mode."""
        floor = SEVERITY_RANK["warn"] if self.strict else SEVERITY_RANK["error"]
        return [v for v in self.violations if SEVERITY_RANK[v.severity] >= floor]

    @property
    def ok(self) -> bool:
        """True when nothing fails the check."""
        return not self.failures

    def codes(self, min_severity: Severity = "info") -> list[str]:
        """Sorted distinct codes of violations at ``min_severity`` or above."""
        floor = SEVERITY_RANK[min_severity]
        return sorted({v.code for v in self.violations if SEVERITY_RANK[v.severity] >= floor})

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable summary (the shape of one ``results`` entry of the CLI)."""
        return {
            "profile": self.profile.name,
            "profile_reason": self.profile_reason,
            "ok": self.ok,
            "violations": [v.to_json() for v in self.violations],
        }

    def format(self, *, max_items: int = 50, include_info: bool = False) -> str:
        """A readable multi-line report, worst first, listing each violation once."""
        shown = [v for v in self.violations if include_info or v.severity != "info"]
        shown.sort(
            key=lambda v: (-SEVERITY_RANK[v.severity], v.chunk if v.chunk is not None else -1)
        )
        n_err = sum(1 for v in self.violations if v.severity == "error")
        n_warn = sum(1 for v in self.violations if v.severity == "warn")
        head = "stream contract " + ("violated" if not self.ok else "kept")
        if self.source:
            head += f" ({printable(self.source)})"
        lines = [
            f"{head}: {n_err} error(s), {n_warn} warning(s)"
            + (" [strict: warnings fail]" if self.strict else ""),
            f"profile: {self.profile.name} ({printable(self.profile_reason)})",
        ]
        if self.ignored:
            lines.append("ignored: " + ", ".join(self.ignored))
        for v in shown[:max_items]:
            lines.append("  - " + v.line())
        if len(shown) > max_items:
            lines.append(f"  ... and {len(shown) - max_items} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def _surface(report: Report[Any, Any]) -> str:
    """``responses`` when a Responses profile judged ``report``, else ``chat`` (core cannot
    import the surfaces: the profile's class, or the one a user's subclass extends, says which
    one built the report)."""
    if any(".responses." in cls.__module__ for cls in type(report.profile).__mro__):
        return "responses"
    return "chat"


_CHECK_CALL = {"chat": "assert_valid_chunk_stream", "responses": "assert_valid_response_stream"}


def next_steps(reports: Sequence[Report[Any, Any]], *, marker_only: bool = False) -> str:
    """The fixed tail of a contract failure: how to accept the failing rules in one test, how
    to judge by a provider's profile, where each rule is explained (three lines).

    The ignore example names the failing codes. ``marker_only``: the plugin checked the
    cassette's streams itself, so the marker is the one place to change.
    """
    codes = sorted({v.code for r in reports for v in r.failures})
    if not codes:
        return ""
    listed = ", ".join(f'"{c}"' for c in codes)
    where = "@pytest.mark.oapi(...)"
    if not marker_only:
        calls = sorted({_CHECK_CALL[_surface(r)] for r in reports})
        where = " / ".join(f"{c}(...)" for c in calls) + " or " + where
    return (
        f"next: to accept {'this rule' if len(codes) == 1 else 'these rules'} in this test,"
        f" pass ignore=[{listed}] to {where};\n"
        '      to judge by a provider\'s known deviations, pass profile="NAME" there instead'
        " (oapi-stream rules --matrix lists them);\n"
        f"      why each rule: oapi-stream rules {codes[0]}, or docs/rules.md"
    )


class StreamContractError(AssertionError):
    """Raised by ``assert_valid_chunk_stream`` when a stream breaks its contract: the report,
    then what to do next (``next_steps``)."""

    def __init__(self, report: Report[Any, Any]) -> None:
        self.report = report
        tail = next_steps([report])
        super().__init__(report.format() + (f"\n{tail}" if tail else ""))

    @property
    def violations(self) -> list[Violation]:
        """All violations of the failing stream (not only the failing ones)."""
        return self.report.violations


def use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and sys.platform != "win32"
