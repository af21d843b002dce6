"""Responses corpus calibration: every recorded stream parses, and its verdict is pinned.

A file's verdict is the sorted list of codes reported at warn or error, under (a) the profile of
the server that shaped the stream and (b) the strict ``openai`` profile. ``tests/data/
verdicts-responses.json`` pins both for every file of ``tests/data/corpus-responses``; the
Responses section of ``docs/conformance.md`` is rendered from it.

Regenerate both after an intended change, then review the diff::

    python -m tests.responses.test_response_corpus --update
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_oapi_stream import (
    CheckedResponseEvents,
    assert_valid_response_stream,
    check_response_stream,
)
from pytest_oapi_stream.responses.check import ResponseReport
from pytest_oapi_stream.responses.rules import RULES_BY_CODE

HERE = Path(__file__).parent
DATA = HERE.parent / "data"
CORPUS = DATA / "corpus-responses"
VERDICTS = DATA / "verdicts-responses.json"
CONFORMANCE = HERE.parents[1] / "docs" / "conformance.md"
MARKER = "<!-- responses: rendered by tests/responses/test_response_corpus.py -->"
FILES = sorted(CORPUS.glob("*.sse"))
UPDATE = "python -m tests.responses.test_response_corpus --update"

PROFILES: dict[str, tuple[str, str]] = {
    "openai": ("openai", "OpenAI, the reference"),
    "azure": ("azure", "Azure OpenAI"),
    "azure-foundry": ("azure", "Azure AI Foundry serves the Azure OpenAI shape (content_filters)"),
    "xai": ("xai", "xAI's own API"),
    "deepseek": ("deepseek", "DeepSeek's own API"),
    "openrouter": ("openrouter", "OpenRouter's own API"),
    "lmstudio": ("lmstudio", "LM Studio's local server"),
    "bedrock-mantle": (
        "openai",
        "Amazon Bedrock Mantle serves OpenAI's event shapes: no profile of its own",
    ),
}

#: The request context a recording was made with, where it changes the verdict.
CONTEXT: dict[str, dict[str, Any]] = {
    "openai__gpt-4.1-mini_background-resume-starting-after.sse": {
        "url": "https://api.openai.com/v1/responses/resp_x?stream=true&starting_after=1"
    },
}


def provider_names() -> dict[str, str]:
    """File name -> the provider column of corpus-responses/SOURCES.md."""
    names = {}
    for line in (CORPUS / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split(" | ")]
        if line.startswith("| `") and len(cells) > 2:
            names[cells[0].strip("| `")] = cells[1]
    return names


def profile_for(path: Path) -> tuple[str, str]:
    prefix = path.name.split("__", 1)[0]
    if prefix not in PROFILES:
        raise KeyError(f"{path.name}: add its prefix {prefix!r} to PROFILES in {__file__}")
    return PROFILES[prefix]


def check(path: Path, profile: str) -> ResponseReport:
    return check_response_stream(path, profile=profile, **CONTEXT.get(path.name, {}))


def verdict(path: Path, names: dict[str, str]) -> dict[str, Any]:
    profile, why = profile_for(path)
    mine, strict = check(path, profile), check(path, "openai")
    return {
        "who": names[path.name],
        "profile": profile,
        "why": why,
        "provider": mine.codes("warn"),
        "provider_errors": mine.codes("error"),
        "openai": strict.codes("warn"),
        "openai_errors": strict.codes("error"),
    }


def compute() -> dict[str, dict[str, Any]]:
    names = provider_names()
    return {p.name: verdict(p, names) for p in FILES}


def pinned() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(VERDICTS.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_parses_under_every_profile_it_meets(path: Path) -> None:
    profile, _ = profile_for(path)
    for prof in (profile, "openai", "auto", "openresponses"):
        report = check(path, prof)
        assert report.stream is not None and report.stream.event_count > 0
        assert all(v.rule == RULES_BY_CODE[v.code].name for v in report.violations)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_verdict_is_pinned(path: Path) -> None:
    expected = pinned().get(path.name)
    assert expected is not None, f"{path.name} is not in {VERDICTS.name}: run `{UPDATE}`"
    actual = verdict(path, provider_names())
    assert actual == expected, (
        f"the verdict on {path.name} changed. If intended, run `{UPDATE}` and review the diff."
        f"\npinned: {json.dumps(expected)}\nnow:    {json.dumps(actual)}"
    )


def test_table_lists_exactly_the_corpus() -> None:
    assert sorted(pinned()) == sorted(p.name for p in FILES), f"run `{UPDATE}`"


def test_conformance_doc_is_rendered_from_the_table() -> None:
    text = CONFORMANCE.read_text(encoding="utf-8")
    assert MARKER in text, f"docs/conformance.md has no Responses section: run `{UPDATE}`"
    assert text.split(MARKER, 1)[1] == "\n" + render(pinned()), (
        f"the Responses section of docs/conformance.md is out of date: run `{UPDATE}`"
    )


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in FILES
        if p.name.startswith("openai__") and "error" not in p.name and "2025" not in p.name
    ],
    ids=lambda p: p.name,
)
def test_openai_recordings_pass_under_openai(path: Path) -> None:
    """OpenAI is the reference: every current, successful recording passes, warnings included."""
    stream = assert_valid_response_stream(
        path, profile="openai", strict=True, **CONTEXT.get(path.name, {})
    )
    assert stream.terminal == "response.completed"
    assert stream.response is not None and stream.response.status == "completed"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_iterating_a_recording_gives_the_kept_verdict(path: Path) -> None:
    profile, _ = profile_for(path)
    kept = check(path, profile)
    it = CheckedResponseEvents(
        path, profile=profile, raise_on_error=False, **CONTEXT.get(path.name, {})
    )
    n = sum(1 for _ in it)
    assert it.report is not None and it.report.violations == kept.violations
    assert kept.stream is not None and n == len(kept.stream.events)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_auto_picks_the_provider_profile_from_the_host_or_the_stream(path: Path) -> None:
    profile, _ = profile_for(path)
    report = check_response_stream(path)
    if profile in ("openai", "lmstudio"):  # no signal in the stream itself
        assert report.profile.name == "openai"
    else:
        assert report.profile.name == profile, report.profile_reason


# ------------------------------------------------------------------- docs/conformance.md


def _cell(codes_: list[str], errors: list[str]) -> str:
    if not codes_:
        return "✓"
    named = (f"{c} {RULES_BY_CODE[c].name}" for c in codes_)
    return "<br>".join(f"**{n}**" if n[:6] in errors else n for n in named)


def render(table: dict[str, dict[str, Any]]) -> str:
    """The Responses section of docs/conformance.md from the pinned verdicts."""
    rows = sorted(table.items())
    n = len(rows)
    ok_own = sum(not v["provider_errors"] for _, v in rows)
    ok_openai = sum(not v["openai_errors"] for _, v in rows)
    out = [
        "# What real servers send on `/v1/responses`",
        "",
        "Every recorded Responses stream of `tests/data/corpus-responses` (sources in its "
        "`SOURCES.md`), checked under the profile of the server that shaped it and under strict "
        f"`openai`. Generated from `tests/data/verdicts-responses.json` by `{UPDATE}`.",
        "",
        f"- {ok_own} of {n} streams pass under their server's profile; "
        f"{ok_openai} of {n} under strict `openai`.",
        "- Every current, successful OpenAI recording passes under `openai` with no warning. "
        "The OpenAI streams that fail do so for a reason: the 2025 recording predates "
        "`sequence_number`, and the quota stream reports an in-stream `error` (OAS120).",
        "- The resumed stream is checked with its request URL (`starting_after=1`); without it "
        "OAS107 and OAS111 drop to info instead of misfiring.",
        "",
        "| Stream | Server | Profile | Under its profile | Under strict `openai` |",
        "|---|---|---|---|---|",
    ]
    for name, v in rows:
        link = f"[`{name.removesuffix('.sse')}`](../tests/data/corpus-responses/{name})"
        mine = _cell(v["provider"], v["provider_errors"])
        theirs = _cell(v["openai"], v["openai_errors"])
        out.append(f"| {link} | {v['who']} | `{v['profile']}` | {mine} | {theirs} |")
    out += [
        "",
        "| Prefix | Profile | Why |",
        "|---|---|---|",
    ]
    seen: dict[str, tuple[str, str]] = {}
    for name, v in rows:
        seen.setdefault(name.split("__", 1)[0], (v["profile"], v["why"]))
    for prefix, (profile, why) in sorted(seen.items()):
        out.append(f"| `{prefix}__` | `{profile}` | {why} |")
    return "\n".join(out) + "\n"


def dump(table: dict[str, dict[str, Any]]) -> str:
    """One line per field, so a changed verdict is a one-line diff."""
    entries = []
    for key, value in table.items():
        fields = ",\n".join(
            f"    {json.dumps(f)}: {json.dumps(x, ensure_ascii=False)}" for f, x in value.items()
        )
        entries.append(f"  {json.dumps(key)}: {{\n{fields}\n  }}")
    return "{\n" + ",\n".join(entries) + "\n}\n"


def main(argv: list[str]) -> int:
    if argv != ["--update"]:
        print(f"usage: {UPDATE}", file=sys.stderr)
        return 2
    table = compute()
    VERDICTS.write_text(dump(table), encoding="utf-8")
    text = CONFORMANCE.read_text(encoding="utf-8")
    chat = text.split(MARKER, 1)[0].rstrip("\n") + "\n\n"
    CONFORMANCE.write_text(chat + MARKER + "\n" + render(table), encoding="utf-8")
    print("wrote tests/data/verdicts-responses.json and docs/conformance.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
