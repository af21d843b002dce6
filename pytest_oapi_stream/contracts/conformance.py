"""The conformance report: streams (rows, grouped by provider) against rules (columns).

``render_markdown(rows)`` and ``render_html(rows)`` draw the same matrix: each cell is pass, info,
warn or fail and links to the violations behind it, which name the offending chunk (the HTML
shows that chunk's JSON). The HTML is one self-contained file: inline CSS, no scripts, no
external assets, so it opens from disk, from a CI artifact or from the docs.

Core-level: no pytest, no vcrpy. ``rows_from_paths`` reads ``.sse`` files and cassettes.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from ..chat.rules import RULES as _CHAT_RULES
from ..core.report import SEVERITY_RANK, Report, Violation
from ..core.rules import Rule
from ..recording.files import read_recordings
from ..responses.check import ResponseStream
from ..responses.rules import RULES as _RESPONSE_RULES

#: Both catalogs (a folder may mix chat and Responses streams); shared byte-level rules once.
RULES: tuple[Rule, ...] = _CHAT_RULES + tuple(
    r for r in _RESPONSE_RULES if r.code not in {c.code for c in _CHAT_RULES}
)
RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
#: Each surface's own catalog: its streams get its columns (the shared byte rules in both).
_CATALOGS: dict[str, tuple[Rule, ...]] = {"chat": _CHAT_RULES, "responses": _RESPONSE_RULES}
_SECTION_TITLES = {"chat": "Chat completions streams", "responses": "Responses streams"}

__all__ = [
    "ConformanceRow",
    "cell_status",
    "render_html",
    "render_markdown",
    "rows_from_paths",
]

#: Cell statuses, best to worst.
STATUSES: tuple[str, ...] = ("pass", "info", "warn", "fail")
_STATUS_OF = {"info": "info", "warn": "warn", "error": "fail"}
_MD_SYMBOL = {"pass": "✓", "info": "ℹ️", "warn": "⚠️", "fail": "❌"}
_HTML_SYMBOL = {"pass": "✓", "info": "i", "warn": "!", "fail": "✗"}
_MAX_CHUNK_JSON = 4000
#: Findings listed per rule and stream (the rest are counted): a report stays readable.
_MD_PER_RULE = 5
_HTML_PER_RULE = 20


@dataclass
class ConformanceRow:
    """One stream of the report: its display name, provider group, report and source link."""

    name: str
    provider: str
    report: Report
    href: str | None = None
    #: ``stream cut by the provider after N bytes (error: message)``: a cassette's cut stream,
    #: judged as the truncated stream that arrived (None for a whole body).
    cut: str | None = None


def cell_status(report: Report, code: str) -> str:
    """``pass``, ``info``, ``warn`` or ``fail``: the worst finding of rule ``code``."""
    worst = max((SEVERITY_RANK[v.severity] for v in report.violations if v.code == code), default=0)
    if worst == 0:
        return "pass"
    return {1: "info", 2: "warn", 3: "fail"}[worst]


def _provider(name: str, url: str | None, report: Report) -> str:
    if "__" in name:
        return name.split("__", 1)[0]
    host = urlsplit(url).hostname if url else None
    if host:
        return host
    return report.profile.name


def rows_from_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    profile: str = "auto",
    link_base: str | os.PathLike[str] | None = None,
) -> list[ConformanceRow]:
    """Check every stream in the given ``.sse`` files and cassettes and make report rows.

    Corpus-style names (``provider__model_quirk.sse``) give the provider; otherwise the
    recorded host, else the detected profile. Links are relative to ``link_base``.
    """
    rows = []
    for path in paths:
        for rec in read_recordings(path):
            report = rec.check(profile)
            stem = Path(rec.path).name
            for suffix in (".sse", ".yaml", ".yml", ".json"):
                if stem.endswith(suffix):
                    stem = stem[: -len(suffix)]
                    break
            name = f"{stem} #{rec.index}" if rec.cassette else stem
            href = None
            if link_base is not None:
                try:
                    rel = os.path.relpath(Path(rec.path).resolve(), Path(link_base).resolve())
                except ValueError:  # another drive on Windows
                    rel = str(Path(rec.path).resolve())
                href = quote(Path(rel).as_posix())
            provider = _provider(stem, rec.url, report)
            rows.append(ConformanceRow(name, provider, report, href, rec.cut_note))
    return rows


def _ordered(
    rows: Sequence[ConformanceRow], start: int = 0
) -> list[tuple[str, list[tuple[int, ConformanceRow]]]]:
    """Rows grouped by provider (sorted), numbered in display order (after ``start``)."""
    groups: dict[str, list[ConformanceRow]] = {}
    for row in rows:
        groups.setdefault(row.provider, []).append(row)
    out = []
    n = start
    for provider in sorted(groups, key=str.lower):
        items = []
        for row in sorted(groups[provider], key=lambda r: r.name.lower()):
            n += 1
            items.append((n, row))
        out.append((provider, items))
    return out


def _surface(row: ConformanceRow) -> str:
    return "responses" if isinstance(row.report.stream, ResponseStream) else "chat"


def _sections(rows: Sequence[ConformanceRow]) -> list[tuple[str, list[ConformanceRow]]]:
    """The rows of each surface (chat first), each judged by its own catalog's columns."""
    out = []
    for surface in _CATALOGS:
        mine = [r for r in rows if _surface(r) == surface]
        if mine:
            out.append((surface, mine))
    return out or [("chat", [])]


def _columns(
    rows: Sequence[ConformanceRow], all_rules: bool, rules: Sequence[Rule] = RULES
) -> list[str]:
    if all_rules:
        return [r.code for r in rules]
    seen = {v.code for row in rows for v in row.report.violations}
    return [r.code for r in rules if r.code in seen]


_RULE_CACHE: dict[tuple[int, str], Rule] = {}


def _rule(rules: Sequence[Rule], code: str) -> Rule:
    """The row of ``code`` in this catalog (a code both catalogs have may differ in name)."""
    key = (id(rules), code)
    rule = _RULE_CACHE.get(key)
    if rule is None:
        found = next((r for r in rules if r.code == code), None)
        rule = _RULE_CACHE[key] = found or RULES_BY_CODE[code]
    return rule


def _anchor(n: int, code: str | None = None, chunk: int | None = None) -> str:
    if code is not None:
        return f"s{n}-{code.lower()}"
    if chunk is not None:
        return f"s{n}-c{chunk}"
    return f"s{n}"


def _by_rule(report: Report) -> dict[str, list[Violation]]:
    out: dict[str, list[Violation]] = {}
    # Sorted within a rule too: the checker may emit one chunk's findings in any order, and a
    # generated report must not change when nothing changed.
    for v in sorted(
        report.violations,
        key=lambda v: (-1 if v.chunk is None else v.chunk, v.path or "", v.message),
    ):
        out.setdefault(v.code, []).append(v)
    order = {r.code: i for i, r in enumerate(RULES)}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], 999)))


def _summary(rows: Sequence[ConformanceRow]) -> str:
    """``1 stream from 1 provider; 1 breaks an error-level rule``: the counts, in English."""
    total, providers, failing = _counts(rows)
    cut = sum(1 for r in rows if r.cut)
    return (
        f"{total} stream{'s' * (total != 1)} from {providers} provider{'s' * (providers != 1)}; "
        f"{failing} break{'s' * (failing == 1)} an error-level rule under their profile"
        + (f"; {cut} {'was' if cut == 1 else 'were'} cut by the provider" if cut else "")
    )


def _counts(rows: Sequence[ConformanceRow]) -> tuple[int, int, int]:
    failing = sum(1 for r in rows if not r.report.ok)
    providers = len({r.provider for r in rows})
    return len(rows), providers, failing


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Text safe in a Markdown table cell or list item (HTML-escaped, pipes escaped)."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _md_table(
    grouped: Sequence[tuple[str, list[tuple[int, ConformanceRow]]]],
    cols: Sequence[str],
    rules: Sequence[Rule],
    level: str,
) -> list[str]:
    """One surface's matrix, its rules' summaries and the rules every stream passes."""
    out: list[str] = []
    head = ["Stream", "Profile", "Result", *cols]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join(["---", "---", "---"] + [":-:"] * len(cols)) + "|")
    for provider, items in grouped:
        out.append("| " + " | ".join([f"**{_md(provider)}**"] + [""] * (len(head) - 1)) + " |")
        for n, row in items:
            rep = row.report
            name = f"[{_md(row.name)}]({row.href})" if row.href else _md(row.name)
            cells = [
                f'<a id="{_anchor(n)}-row"></a>{name}',
                _md(rep.profile.name),
                ("ok" if rep.ok else "**FAIL**") + (" (cut)" if row.cut else ""),
            ]
            for code in cols:
                status = cell_status(rep, code)
                sym = _MD_SYMBOL[status]
                cells.append(sym if status == "pass" else f"[{sym}](#{_anchor(n, code)})")
            out.append("| " + " | ".join(cells) + " |")
    if cols:
        out += ["", f"{level} Rules", ""]
        for code in cols:
            rule = _rule(rules, code)
            out.append(f"- **{code}** `{rule.name}` ({rule.severity}): {_md(rule.summary)}")
    passed = [r.code for r in rules if r.code not in cols]
    if passed:
        out += ["", "Every stream passes: " + ", ".join(passed) + "."]
    return out


def render_markdown(
    rows: Sequence[ConformanceRow],
    *,
    title: str = "Stream conformance report",
    all_rules: bool = False,
) -> str:
    """The conformance matrix as GitHub-flavoured Markdown, with per-stream details below.

    Chat and Responses streams get a table each, with their own catalog's rule columns."""
    out = [
        f"# {_md(title)}",
        "",
        f"{_summary(rows)}. Generated by `oapi-stream report`.",
        "",
        "Legend: ✓ pass · ℹ️ info (reported, never fails) · ⚠️ warn (fails only with "
        "`--oapi-strict`) · ❌ fail. A symbol links to the findings, which name the chunk.",
        "",
    ]
    grouped: list[tuple[str, list[tuple[int, ConformanceRow]]]] = []
    sections = _sections(rows)
    for surface, mine in sections:
        rules = _CATALOGS[surface]
        cols = _columns(mine, all_rules, rules)
        several = len(sections) > 1
        if several:  # each surface its own table and columns
            out += ([""] if out[-1] else []) + [f"## {_SECTION_TITLES[surface]}", ""]
        mine_grouped = _ordered(mine, sum(len(items) for _, items in grouped))
        grouped += mine_grouped
        out += _md_table(mine_grouped, cols, rules, "###" if several else "##")
    out += ["", "## Findings", ""]
    for provider, items in grouped:
        for n, row in items:
            rep = row.report
            if not rep.violations and not row.cut:
                continue
            out.append(f'### <a id="{_anchor(n)}"></a>{_md(provider)} / {_md(row.name)}')
            out.append("")
            out.append(
                f"Profile `{rep.profile.name}` ({_md(rep.profile_reason)}). "
                f"[back to the table](#{_anchor(n)}-row)"
            )
            out.append("")
            if row.cut:
                out += [f"{_md(_cut_sentence(row.cut))}", ""]
            for code, vs in _by_rule(rep).items():
                out.append(
                    f'- <a id="{_anchor(n, code)}"></a>**{code} {vs[0].rule}** ({_status_word(vs)})'
                )
                for v in vs[:_MD_PER_RULE]:
                    where = "stream" if v.chunk is None else f"chunk {v.chunk}"
                    if v.path:
                        where += f" `{_md(v.path)}`"
                    out.append(f"  - {where}: {_md(v.message)}")
                    if v.excerpt:
                        out.append(f"    <code>{html.escape(v.excerpt, quote=False)}</code>")
                if len(vs) > _MD_PER_RULE:
                    out.append(f"  - … and {len(vs) - _MD_PER_RULE} more")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _cut_sentence(note: str) -> str:
    """What a cut row's findings open with: the cut, and what was judged."""
    return (
        f"{note[:1].upper()}{note[1:]}: the events that arrived whole are judged as a truncated "
        "stream (the partial event the cut left is not)."
    )


def _status_word(vs: Sequence[Violation]) -> str:
    worst = max(SEVERITY_RANK[v.severity] for v in vs)
    return {1: "info", 2: "warn", 3: "fail"}[worst]


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; --pass:#e7f5ea; --info:#eef2f8; --warn:#fff1cc; --fail:#fbdada;
  --line:#d7dbe0; --ink:#1f2328; --muted:#59636e; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  margin: 0; padding: 24px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; }
h3 { font-size: 15px; margin: 24px 0 6px; }
p.meta, .legend { color: var(--muted); margin: 4px 0; }
.swatch { display: inline-block; width: 20px; text-align: center; font-weight: 700;
  border-radius: 3px; margin: 0 4px 0 10px; }
.wrap { overflow: auto; max-height: 80vh; border: 1px solid var(--line); border-radius: 6px; }
table.matrix { border-collapse: separate; border-spacing: 0; font-size: 13px; }
.matrix th, .matrix td { border-bottom: 1px solid var(--line); border-right: 1px solid var(--line);
  padding: 3px 6px; white-space: nowrap; }
.matrix thead th { position: sticky; top: 0; background: #f6f8fa; z-index: 2; }
.matrix thead th.code { writing-mode: vertical-rl; transform: rotate(180deg); padding: 6px 3px;
  font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
  text-align: left; }
.matrix thead th.code .rule-name { font-weight: 400; color: var(--muted); }
.matrix th.stream, .matrix td.stream { position: sticky; left: 0; background: #fff; z-index: 1;
  text-align: left; max-width: 420px; overflow: hidden; text-overflow: ellipsis; }
.matrix thead th.stream { z-index: 3; background: #f6f8fa; }
.matrix tr.group th { background: #eaeef2; text-align: left; position: sticky; left: 0; }
.matrix td.cell { text-align: center; padding: 0; min-width: 26px; }
.matrix td.cell a, .matrix td.cell span { display: block; padding: 3px 0; text-decoration: none;
  color: inherit; font-weight: 700; }
td.pass, .swatch.pass { background: var(--pass); color: #1a7f37; }
td.info, .swatch.info { background: var(--info); color: #57606a; }
td.warn, .swatch.warn { background: var(--warn); color: #9a6700; }
td.fail, .swatch.fail { background: var(--fail); color: #cf222e; }
td.ok { color: #1a7f37; } td.bad { color: #cf222e; font-weight: 700; }
td.num { text-align: right; color: var(--muted); }
.finding { border: 1px solid var(--line); border-radius: 6px; margin: 10px 0; padding: 8px 12px; }
.finding:target, li:target, .chunk:target { outline: 3px solid #0969da; outline-offset: 2px; }
.finding ul { margin: 4px 0; padding-left: 20px; }
.sev-fail { color: #cf222e; } .sev-warn { color: #9a6700; } .sev-info { color: #57606a; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
code.excerpt { display: block; background: #f6f8fa; padding: 2px 6px; margin: 2px 0;
  white-space: pre-wrap; word-break: break-all; }
.chunk pre { background: #f6f8fa; padding: 6px 8px; max-height: 16em; overflow: auto; margin: 2px 0;
  white-space: pre-wrap; word-break: break-all; }
.chunk summary { cursor: pointer; color: var(--muted); }
dl.rules dt { font-weight: 600; font-family: ui-monospace, monospace; }
dl.rules dd { margin: 0 0 6px 20px; color: var(--muted); }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _chunk_json(report: Report, index: int) -> str | None:
    stream = report.stream
    if stream is None or not 0 <= index < len(stream.chunks):
        return None
    text = stream.chunks[index].model_dump_json(exclude_unset=True, indent=2)
    if len(text) > _MAX_CHUNK_JSON:
        text = text[: _MAX_CHUNK_JSON - 1] + "…"
    return text


def _html_table(
    grouped: Sequence[tuple[str, list[tuple[int, ConformanceRow]]]],
    cols: Sequence[str],
    rules: Sequence[Rule],
    table_id: str,
    level: str,
) -> list[str]:
    """One surface's matrix, its rules' summaries and the rules every stream passes."""
    h: list[str] = [
        f'<div class="wrap"><table class="matrix" id="{table_id}">',
        "<thead><tr>",
        '<th class="stream" scope="col">Stream</th><th scope="col">Profile</th>'
        '<th scope="col">Chunks</th><th scope="col">Result</th>',
    ]
    for code in cols:
        rule = _rule(rules, code)
        h.append(
            f'<th class="code" scope="col" title="{_e(code)} {_e(rule.name)}: '
            f'{_e(rule.summary)}">{_e(code)} <span class="rule-name">{_e(rule.name)}'
            "</span></th>"
        )
    h.append("</tr></thead><tbody>")
    width = 4 + len(cols)
    for provider, items in grouped:
        h.append(
            f'<tr class="group"><th colspan="{width}" scope="rowgroup">{_e(provider)} '
            f'<span class="meta">({len(items)})</span></th></tr>'
        )
        for n, row in items:
            rep = row.report
            chunks = len(rep.stream.chunks) if rep.stream is not None else 0
            name = f'<a href="{_e(row.href)}">{_e(row.name)}</a>' if row.href else _e(row.name)
            h.append(
                f'<tr class="stream-row" id="{_anchor(n)}-row" data-provider="{_e(provider)}">'
                f'<td class="stream" title="{_e(row.name)}">{name}</td>'
                f'<td>{_e(rep.profile.name)}</td><td class="num">{chunks}</td>'
                + ('<td class="ok">ok' if rep.ok else '<td class="bad">FAIL')
                + (f' <span title="{_e(row.cut)}">(cut)</span></td>' if row.cut else "</td>")
            )
            for code in cols:
                status = cell_status(rep, code)
                sym = _HTML_SYMBOL[status]
                label = f"{code} {_rule(rules, code).name}: {status}"
                if status == "pass":
                    h.append(f'<td class="cell pass" title="{_e(label)}"><span>{sym}</span></td>')
                else:
                    h.append(
                        f'<td class="cell {status}" title="{_e(label)}">'
                        f'<a href="#{_anchor(n, code)}">{sym}</a></td>'
                    )
            h.append("</tr>")
    h.append("</tbody></table></div>")
    if cols:
        h.append(f'<{level}>Rules</{level}><dl class="rules">')
        for code in cols:
            rule = _rule(rules, code)
            h.append(
                f'<dt>{_e(code)} {_e(rule.name)} <span class="meta">({_e(rule.severity)}'
                f")</span></dt><dd>{_e(rule.summary)}</dd>"
            )
        h.append("</dl>")
    passed = [r.code for r in rules if r.code not in cols]
    if passed:
        h.append(f'<p class="meta">Every stream passes: {_e(", ".join(passed))}.</p>')
    return h


def render_html(
    rows: Sequence[ConformanceRow],
    *,
    title: str = "Stream conformance report",
    all_rules: bool = False,
) -> str:
    """The conformance matrix as one self-contained HTML page (inline CSS, no scripts); chat
    and Responses streams get a table each, with their own catalog's rule columns."""
    h: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{_summary(rows)}. Generated by <code>oapi-stream report</code>.</p>',
        '<p class="legend">Legend: <span class="swatch pass">✓</span>pass '
        '<span class="swatch info">i</span>info (reported, never fails) '
        '<span class="swatch warn">!</span>warn (fails only when strict) '
        '<span class="swatch fail">✗</span>fail. A cell links to its findings, which link '
        "to the offending chunk.</p>",
    ]
    grouped: list[tuple[str, list[tuple[int, ConformanceRow]]]] = []
    sections = _sections(rows)
    for surface, mine in sections:
        rules = _CATALOGS[surface]
        cols = _columns(mine, all_rules, rules)
        several = len(sections) > 1
        if several:  # each surface its own table and columns
            h.append(f"<h2>{_e(_SECTION_TITLES[surface])}</h2>")
        mine_grouped = _ordered(mine, sum(len(items) for _, items in grouped))
        grouped += mine_grouped
        table_id = "matrix" if surface == "chat" or not several else f"matrix-{surface}"
        h += _html_table(mine_grouped, cols, rules, table_id, "h3" if several else "h2")
    h.append("<h2>Findings</h2>")
    for provider, items in grouped:
        for n, row in items:
            rep = row.report
            if not rep.violations and not row.cut:
                continue
            h.append(f'<section class="stream-findings" id="{_anchor(n)}">')
            h.append(f"<h3>{_e(provider)} / {_e(row.name)}</h3>")
            h.append(
                f'<p class="meta">Profile <code>{_e(rep.profile.name)}</code> '
                f'({_e(rep.profile_reason)}). <a href="#{_anchor(n)}-row">back to the '
                "table</a></p>"
            )
            if row.cut:
                h.append(f'<p class="cut">{_e(_cut_sentence(row.cut))}</p>')
            chunks_cited: list[int] = []
            for code, vs in _by_rule(rep).items():
                status = _status_word(vs)
                h.append(
                    f'<div class="finding" id="{_anchor(n, code)}"><strong class="sev-'
                    f'{status}">{_e(code)} {_e(vs[0].rule)}</strong> <span class="meta">'
                    f"({status})</span><ul>"
                )
                for v in vs[:_HTML_PER_RULE]:
                    if v.chunk is None:
                        where = "stream"
                    else:
                        where = f'<a href="#{_anchor(n, chunk=v.chunk)}">chunk {v.chunk}</a>'
                        if v.chunk not in chunks_cited:
                            chunks_cited.append(v.chunk)
                    if v.path:
                        where += f" <code>{_e(v.path)}</code>"
                    item = f"<li>{where}: {_e(v.message)}"
                    if v.excerpt:
                        item += f'<code class="excerpt">{_e(v.excerpt)}</code>'
                    h.append(item + "</li>")
                if len(vs) > _HTML_PER_RULE:
                    h.append(f"<li>… and {len(vs) - _HTML_PER_RULE} more</li>")
                h.append("</ul></div>")
            for idx in sorted(chunks_cited):
                text = _chunk_json(rep, idx)
                if text is None:
                    continue
                body = html.escape(text, quote=False)
                h.append(
                    f'<div class="chunk" id="{_anchor(n, chunk=idx)}"><details open>'
                    f"<summary>chunk {idx} (as parsed)</summary><pre>{body}</pre>"
                    "</details></div>"
                )
            h.append("</section>")
    h.append("</body></html>")
    return "\n".join(h) + "\n"
