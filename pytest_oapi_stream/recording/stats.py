"""Run statistics for the terminal summary, merged across xdist workers."""

from __future__ import annotations

import dataclasses
import shlex
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.report import Report


@dataclasses.dataclass
class RunStats:
    """Counts for the terminal summary; plain data so xdist workers can send them."""

    replayed: int = 0
    recorded: int = 0
    missing: int = 0
    live: int = 0
    not_written: int = 0
    unmatched: int = 0
    streams_checked: int = 0
    streams_failed: int = 0
    violations: Counter[str] = dataclasses.field(default_factory=Counter)
    warnings: Counter[str] = dataclasses.field(default_factory=Counter)
    missing_tests: list[str] = dataclasses.field(default_factory=list)
    unmatched_tests: list[str] = dataclasses.field(default_factory=list)

    def add_reports(self, reports: Iterable[Report]) -> None:
        """Count checked streams and their violations per code (failing, and other warnings)."""
        for report in reports:
            self.streams_checked += 1
            failures = report.failures
            if failures:
                self.streams_failed += 1
            failing = {id(v) for v in failures}
            for v in report.violations:
                key = f"{v.code} {v.rule}"
                if id(v) in failing:
                    self.violations[key] += 1
                elif v.severity == "warn":
                    self.warnings[key] += 1

    @property
    def active(self) -> bool:
        """True when any cassette was used (else the summary stays silent)."""
        return bool(
            self.replayed
            + self.recorded
            + self.missing
            + self.live
            + self.not_written
            + self.unmatched
            + self.streams_checked
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (for ``config.workeroutput``)."""
        data = dataclasses.asdict(self)
        data["violations"] = dict(self.violations)
        data["warnings"] = dict(self.warnings)
        return data

    def merge(self, data: Mapping[str, Any]) -> None:
        """Add the counts of another run (a worker's :meth:`to_dict`)."""
        for f in dataclasses.fields(self):
            value = data.get(f.name)
            if value is None:
                continue
            current = getattr(self, f.name)
            if isinstance(current, Counter):
                current.update(value)
            elif isinstance(current, list):
                current.extend(value)
            else:
                setattr(self, f.name, current + int(value))

    def summary_lines(self) -> list[str]:
        """The terminal summary: cassettes, streams, violations per code, what to run next."""
        parts = [
            f"{self.replayed} replayed",
            f"{self.recorded} recorded",
            f"{self.missing} missing",
        ]
        if self.live:
            parts.append(f"{self.live} live")
        if self.not_written:
            parts.append(f"{self.not_written} not written (the test did not pass)")
        if self.unmatched:
            parts.append(f"{self.unmatched} with unmatched requests")
        lines = ["cassettes: " + ", ".join(parts)]
        lines.append(
            f"streams checked: {self.streams_checked}, with violations: {self.streams_failed}"
        )
        if self.violations:
            lines.append(
                "violations: "
                + ", ".join(f"{code} x{n}" for code, n in sorted(self.violations.items()))
            )
        if self.warnings:
            lines.append(
                "warnings (not failing): "
                + ", ".join(f"{code} x{n}" for code, n in sorted(self.warnings.items()))
            )
        if self.missing:
            lines.append("missing cassettes for: " + _some(self.missing_tests))
            lines.append("next: pytest --oapi-record=missing   (records the missing cassettes)")
        if self.unmatched:
            lines.append("unmatched requests in: " + _some(self.unmatched_tests))
            targets = " ".join(shlex.quote(t) for t in sorted(set(self.unmatched_tests))[:5])
            lines.append(f"next: pytest --oapi-record {targets}   (re-records those cassettes)")
        return lines


def _some(items: Sequence[str], limit: int = 5) -> str:
    shown = sorted(set(items))
    text = ", ".join(shown[:limit])
    if len(shown) > limit:
        text += f", ... ({len(shown) - limit} more)"
    return text
