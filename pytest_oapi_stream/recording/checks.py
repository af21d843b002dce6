"""The streams a test's cassette saw, checked against the contract (``oapi_cassette``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CassetteError
from .filters import redact_structure
from .session import CassetteSession, Interaction

if TYPE_CHECKING:
    from ..chat.check import ChunkStream
    from ..core.report import Report
    from ..responses.check import ResponseStream


def check_interaction(
    interaction: Interaction,
    *,
    profile: str,
    ignore: Sequence[str],
    strict: bool,
    source: str,
    origin: str = "",
) -> Report:
    """Check one streamed chat completion or Responses answer with the recorded request body
    and URL (``starting_after``, ``background``, ``include``, ``tools`` come from them).

    A body the provider cut is judged as the truncated stream of the events that arrived whole
    (the source names the cut); the partial event after them is what the cut left.
    """
    from ..core.sources import SourceError
    from ..recording.files import Recording

    recording = Recording(
        Path(source),
        interaction.index,
        interaction.body,
        interaction.request_json,
        interaction.uri,
        cassette=True,
        cut=interaction.cut,  # judged up to its last whole event; the findings name the cut
    )
    try:
        report = recording.check(profile, ignore, strict=strict)
    except (ValueError, SourceError) as exc:
        # a profile only the other surface has (groq, lmstudio), or chat chunks on /responses:
        # refused with one line, never judged as the wrong surface
        raise CassetteError(f"oapi-stream: {source}: {exc}") from None
    if origin and profile != "auto":  # say where the test's profile was set
        return dataclasses.replace(report, source=source, profile_reason=f"from {origin}")
    return dataclasses.replace(report, source=source)


def streams_of(reports: Iterable[Report]) -> list[ChunkStream | ResponseStream]:
    """The parsed streams of some reports (reports without a stream are skipped)."""
    return [r.stream for r in reports if r.stream is not None]


@dataclasses.dataclass(frozen=True)
class CheckOptions:
    """How the streams of one test are checked (from the marker, CLI and ini)."""

    profile: str = "auto"
    ignore: tuple[str, ...] = ()
    strict: bool = False
    check: bool = True
    #: Where ``profile`` was set ("the oapi marker", "--oapi-profile", "ini oapi_profile").
    profile_origin: str = ""


class CassetteHandle:
    """What the ``oapi_cassette`` fixture returns: the test's cassette and the streams it saw."""

    def __init__(self, session: CassetteSession, checks: CheckOptions) -> None:
        self.session = session
        self.checks = checks
        self._reports: dict[int, Report] = {}

    @property
    def path(self) -> Path:
        """The cassette file of this test."""
        return self.session.options.path

    @property
    def mode(self) -> str:
        """``replay``, ``record`` or ``live``: what this test's cassette does in this run."""
        return self.session.mode

    @property
    def interactions(self) -> list[Interaction]:
        """Every request/response pair that passed through so far (replayed, then recorded)."""
        return self.session.interactions()

    @property
    def reports(self) -> list[Report]:
        """The check report of every streamed chat completion and Responses answer seen so far,
        in order."""
        reports = []
        for interaction in self.interactions:
            if not interaction.is_stream:
                continue
            report = self._reports.get(interaction.index)
            if report is None:
                report = self._reports[interaction.index] = check_interaction(
                    interaction,
                    profile=self.checks.profile,
                    ignore=self.checks.ignore,
                    strict=self.checks.strict,
                    source=self._source(interaction),
                    origin=self.checks.profile_origin,
                )
            reports.append(report)
        return reports

    def redact_report(self, report: Any) -> None:
        """Apply the cassette's filters to a failing test report: traceback, frame arguments,
        crash message and every section (captured output and logs)."""
        redact = self.session.redact
        if report.longrepr is not None:
            report.longrepr = redact_structure(report.longrepr, redact)
        report.sections = [(title, redact(text)) for title, text in report.sections]

    def _source(self, interaction: Interaction) -> str:
        """Where a stream came from, for messages: its cassette, or no file in live mode."""
        if self.mode == "live":  # nothing is written: naming a cassette would send users looking
            return f"live, not recorded: {interaction.label()}"
        return f"{self.session.options.display} {interaction.label()}"

    @property
    def checked_reports(self) -> list[Report]:
        """The reports computed so far, without checking anything new (for the summary)."""
        return list(self._reports.values())

    @property
    def streams(self) -> list[ChunkStream | ResponseStream]:
        """The ``ChunkStream`` of every streamed chat completion and the ``ResponseStream`` of
        every streamed Responses answer seen so far, in order."""
        return streams_of(self.reports)

    def contract_error(self) -> AssertionError | None:
        """A ``StreamContractError`` naming every failing stream, or None when all pass."""
        if not self.checks.check:
            return None
        failing = [r for r in self.reports if not r.ok]
        if not failing:
            return None
        from .. import StreamContractError
        from ..core.report import next_steps

        error = StreamContractError(failing[0])
        # The plugin checked these streams itself: the marker is where to change the check.
        text = "\n\n".join(r.format() for r in failing)
        text += "\n" + next_steps(failing, marker_only=True)
        error.args = (self.session.redact(text),)  # excerpts may echo a secret the filters saw
        return error
