"""Corpus calibration: every recorded stream parses, and its verdict is pinned.

A file's verdict is the sorted list of codes reported at warn or error, under (a) the profile of
the provider that shaped the stream and (b) the strict ``openai`` profile. ``tests/data/
verdicts.json`` pins both for every file, so a change of verdict (a rule or a profile changed) is
a visible diff in review. ``docs/conformance.md`` is rendered from that table.

Regenerate both after an intended change, then review the diff::

    python -m tests.chat.test_corpus --update
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_oapi_stream import RULES_BY_CODE, CheckedChunks, Report, check_chunk_stream
from pytest_oapi_stream.core.report import Severity

HERE = Path(__file__).parent
DATA = HERE.parent / "data"
VERDICTS = DATA / "verdicts.json"
CONFORMANCE = HERE.parents[1] / "docs" / "conformance.md"
FILES = sorted(DATA.glob("corpus/*.sse")) + sorted(DATA.glob("seed/*.sse"))
UPDATE = "python -m tests.chat.test_corpus --update"
#: The Responses section of docs/conformance.md starts here (see tests/responses).
RESPONSES_MARKER = "<!-- responses: rendered by tests/responses/test_response_corpus.py -->"

# The profile of whoever shapes the stream, by file-name prefix (the part before "__"), and why
# when that is a judgment call (gateways, relays, servers without a profile of their own).
PROFILES: dict[str, tuple[str, str]] = {
    "openai": ("openai", "OpenAI, the reference"),
    "azure": ("azure", "Azure OpenAI"),
    "dashscope": ("qwen", "Alibaba DashScope compatible mode serves Qwen"),
    "deepseek": ("deepseek", "DeepSeek's own API"),
    "groq": ("groq", "Groq's own API"),
    "llamacpp": ("llamacpp", "llama.cpp server"),
    "mistral": ("mistral", "Mistral's own API"),
    "openrouter": ("openrouter", "OpenRouter's own API"),
    "vllm": ("vllm", "vLLM"),
    "xai": ("xai", "xAI's own API"),
    "deepseek-chat": ("deepseek", "seed example: deepseek-chat"),
    "qwen-plus": ("qwen", "seed example: qwen-plus"),
    # Judgment calls.
    "groq-via-hf": ("groq", "the Hugging Face router passes Groq's chunks through (x_groq kept)"),
    "openrouter-novita": (
        "openrouter",
        "OpenRouter shapes the envelope (gen- ids, native_finish_reason, usage chunk after the "
        "finish); Novita is only the upstream",
    ),
    "avian": (
        "openrouter",
        "Avian relays OpenRouter (gen- ids, native_finish_reason, reasoning_details, usage with "
        "cost on a repeated finish chunk); only its first chunk is its own",
    ),
    "vllm-crusoe": (
        "vllm",
        "Crusoe serves with vLLM (prompt_token_ids, stop_reason, vllm-0.24 fp)",
    ),
    "azure-foundry": (
        "openai",
        "Azure AI Foundry serves DeepSeek through an SGLang-style stack (matched_stop): neither "
        "Azure OpenAI's shape (no filter chunks) nor DeepSeek's API (separate usage chunk)",
    ),
    "vercel-gateway": (
        "openai",
        "the Vercel AI Gateway rewrites Gemini's stream (gen_ ids, provider_metadata, its own "
        "usage); the gemini profile describes Google's endpoint, not this one",
    ),
    "deepinfra": ("openai", "DeepInfra: no profile of its own"),
    "mlx-lm": ("openai", "mlx-lm local server: no profile of its own"),
    "novita-via-hf": ("openai", "Novita through the Hugging Face router: no profile of its own"),
    "perplexity": ("openai", "Perplexity: no profile of its own"),
    "snowflake-cortex": ("openai", "Snowflake Cortex: no profile of its own"),
    "together-via-hf": ("openai", "Together AI through the Hugging Face router: no profile fits"),
    "zai": ("openai", "Z.ai (Zhipu): no profile of its own"),
}


SEEDS = {"deepseek-chat": "DeepSeek (seed example)", "qwen-plus": "Alibaba Qwen (seed example)"}


def key_of(path: Path) -> str:
    return path.relative_to(DATA).as_posix()


def provider_names() -> dict[str, str]:
    """File name -> the provider column of corpus/SOURCES.md (who recorded it, via what)."""
    names = {}
    for line in (DATA / "corpus" / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split(" | ")]
        if line.startswith("| `") and len(cells) > 2:
            names[cells[0].strip("| `")] = cells[1]
    return names


def profile_for(path: Path) -> tuple[str, str]:
    prefix = path.name.split("__", 1)[0]
    if prefix not in PROFILES:
        raise KeyError(f"{path.name}: add its prefix {prefix!r} to PROFILES in {__file__}")
    return PROFILES[prefix]


def codes(report: Report, severity: Severity = "warn") -> list[str]:
    return report.codes(severity)


def verdict(path: Path, names: dict[str, str]) -> dict[str, Any]:
    """What the table pins for one file."""
    profile, why = profile_for(path)
    mine = check_chunk_stream(path, profile=profile)
    strict = check_chunk_stream(path, profile="openai")
    who = names.get(path.name) or SEEDS[path.name.split("__", 1)[0]]
    return {
        "who": who,
        "profile": profile,
        "why": why,
        "provider": codes(mine),
        "provider_errors": codes(mine, "error"),
        "openai": codes(strict),
        "openai_errors": codes(strict, "error"),
    }


def compute() -> dict[str, dict[str, Any]]:
    names = provider_names()
    return {key_of(p): verdict(p, names) for p in FILES}


def pinned() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(VERDICTS.read_text(encoding="utf-8"))
    return data


# ------------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("path", FILES, ids=key_of)
def test_file_parses_under_every_profile_it_meets(path: Path) -> None:
    profile, _ = profile_for(path)
    for prof in (profile, "openai", "auto", "lenient"):
        report = check_chunk_stream(path, profile=prof)
        assert report.stream is not None and report.stream.events > 0
        assert all(v.rule == RULES_BY_CODE[v.code].name for v in report.violations)


@pytest.mark.parametrize("path", FILES, ids=key_of)
def test_verdict_is_pinned(path: Path) -> None:
    expected = pinned().get(key_of(path))
    assert expected is not None, f"{key_of(path)} is not in {VERDICTS.name}: run `{UPDATE}`"
    actual = verdict(path, provider_names())
    assert actual == expected, (
        f"the verdict on {key_of(path)} changed. If the change is intended, run `{UPDATE}` "
        f"and review the diff of tests/data/verdicts.json and docs/conformance.md.\n"
        f"pinned: {json.dumps(expected)}\nnow:    {json.dumps(actual)}"
    )


def test_table_lists_exactly_the_corpus() -> None:
    assert sorted(pinned()) == sorted(key_of(p) for p in FILES), f"run `{UPDATE}`"


def test_conformance_doc_is_rendered_from_the_table() -> None:
    chat = CONFORMANCE.read_text(encoding="utf-8").split(RESPONSES_MARKER, 1)[0]
    assert chat.rstrip("\n") + "\n" == render(pinned()), (
        f"docs/conformance.md is out of date: run `{UPDATE}`"
    )


@pytest.mark.parametrize("path", sorted(DATA.glob("corpus/openai__*.sse")), ids=key_of)
def test_openai_recordings_are_clean_under_openai(path: Path) -> None:
    """OpenAI is the reference: a rule that fails one of its streams is miscalibrated."""
    report = check_chunk_stream(path, profile="openai")
    assert report.ok, report.format()


@pytest.mark.parametrize(
    ("name", "profile"), [("deepseek-chat", "deepseek"), ("qwen-plus", "qwen")]
)
def test_seed_streams_pass_their_provider_profile(name: str, profile: str) -> None:
    (path,) = DATA.glob(f"seed/{name}__*.sse")
    report = check_chunk_stream(path, profile=profile)
    assert report.ok, report.format()
    url = {
        "deepseek": "https://api.deepseek.com/chat/completions",
        "qwen": "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions",
    }[profile]
    auto = check_chunk_stream(path, url=url)  # auto picks the profile from the request host
    assert auto.profile.name == profile and auto.ok


@pytest.mark.parametrize("path", FILES, ids=key_of)
def test_iterating_a_recording_gives_the_kept_verdict(path: Path) -> None:
    profile, _ = profile_for(path)
    kept = check_chunk_stream(path, profile=profile)
    it = CheckedChunks(path, profile=profile, raise_on_error=False)
    n = sum(1 for _ in it)
    assert it.report is not None and it.report.violations == kept.violations
    assert kept.stream is not None and n == len(kept.stream.chunks)


# ------------------------------------------------------------------- docs/conformance.md


def _cell(codes_: list[str], errors: list[str]) -> str:
    if not codes_:
        return "✓"
    named = (f"{c} {RULES_BY_CODE[c].name}" for c in codes_)
    return "<br>".join(f"**{n}**" if n[:6] in errors else n for n in named)


def render(table: dict[str, dict[str, Any]]) -> str:
    """docs/conformance.md from the pinned verdicts."""
    rows = sorted(table.items(), key=lambda kv: (kv[0].startswith("seed/"), kv[0]))
    n = len(rows)
    ok_own = sum(not v["provider_errors"] for _, v in rows)
    ok_openai = sum(not v["openai_errors"] for _, v in rows)
    quiet_own = sum(not v["provider"] for _, v in rows)
    quiet_openai = sum(not v["openai"] for _, v in rows)
    out = [
        "# What real providers send",
        "",
        "Every recorded stream of the corpus (`tests/data/corpus`, sources in its `SOURCES.md`) "
        "and the two seed examples, checked twice: under the profile of whoever shapes the "
        "stream, and under the strict `openai` profile. Generated from `tests/data/verdicts.json` "
        f"by `{UPDATE}`; `tests/chat/test_corpus.py` fails when either is out of date.",
        "",
        f"- {ok_own} of {n} streams pass under their provider's profile "
        f"({quiet_own} without a single warning).",
        f"- {ok_openai} of {n} pass under strict `openai` ({quiet_openai} without a warning). "
        "Every OpenAI recording passes: OpenAI is the reference, so a rule that failed one "
        "would be miscalibrated.",
        "",
        "Legend: a cell lists the rules reported at warn or error (info findings are left out). "
        "**Bold** = error: the check fails. Plain = warning: fails only in strict mode "
        "(`--oapi-strict`, `strict=True`). ✓ = nothing at warn or above. The rules are "
        "described in [rules.md](rules.md), the profiles' relaxations too.",
        "",
        "## By profile",
        "",
        "| Profile | Streams | Pass under the profile | Pass under strict `openai` |",
        "|---|--:|--:|--:|",
    ]
    profiles = sorted({v["profile"] for _, v in rows})
    for prof in profiles:
        group = [v for _, v in rows if v["profile"] == prof]
        own = sum(not v["provider_errors"] for v in group)
        strict = sum(not v["openai_errors"] for v in group)
        out.append(f"| `{prof}` | {len(group)} | {own} | {strict} |")
    out += [
        "",
        "## Stream by stream",
        "",
        "| Stream | Provider | Profile | Under its profile | Under strict `openai` |",
        "|---|---|---|---|---|",
    ]
    for key, v in rows:
        name = key.split("/", 1)[1].removesuffix(".sse")
        link = f"[`{name}`](../tests/data/{key})"
        mine = _cell(v["provider"], v["provider_errors"])
        theirs = _cell(v["openai"], v["openai_errors"])
        out.append(f"| {link} | {v['who']} | `{v['profile']}` | {mine} | {theirs} |")
    out += [
        "",
        "## How often each rule fires",
        "",
        "| Rule | Streams under their profile | Streams under strict `openai` |",
        "|---|--:|--:|",
    ]
    for code in sorted({c for _, v in rows for c in v["provider"] + v["openai"]}):
        own = sum(code in v["provider"] for _, v in rows)
        strict = sum(code in v["openai"] for _, v in rows)
        out.append(f"| {code} `{RULES_BY_CODE[code].name}` | {own} | {strict} |")
    out += [
        "",
        "## Why each stream gets its profile",
        "",
        "The profile of whoever shapes the stream, by file-name prefix; `openai` when no "
        "profile fits.",
        "",
        "| Prefix | Profile | Why |",
        "|---|---|---|",
    ]
    seen: dict[str, tuple[str, str]] = {}
    for key, v in rows:
        seen.setdefault(key.split("/", 1)[1].split("__", 1)[0], (v["profile"], v["why"]))
    for prefix, (profile, why) in sorted(seen.items()):
        out.append(f"| `{prefix}__` | `{profile}` | {why} |")
    return "\n".join(out) + "\n"


def dump(table: dict[str, dict[str, Any]]) -> str:
    """verdicts.json with one line per field, so a changed verdict is a one-line diff."""
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
    old = CONFORMANCE.read_text(encoding="utf-8") if CONFORMANCE.exists() else ""
    rest = old.partition(RESPONSES_MARKER)
    tail = "\n" + rest[1] + rest[2] if rest[1] else ""  # the Responses section stays
    CONFORMANCE.write_text(render(table) + tail, encoding="utf-8")
    root = HERE.parents[1]
    print(f"wrote {VERDICTS.relative_to(root)} and {CONFORMANCE.relative_to(root)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
