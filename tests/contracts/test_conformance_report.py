"""The conformance report over the whole corpus: rows grouped by provider, rule columns, cells
that link to findings and chunks, and an HTML page that needs nothing but itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pytest_oapi_stream import RULES
from pytest_oapi_stream.cli import main
from pytest_oapi_stream.contracts.conformance import (
    ConformanceRow,
    cell_status,
    render_html,
    render_markdown,
    rows_from_paths,
)

ROOT = Path(__file__).parents[2]
CORPUS = ROOT / "tests" / "data" / "corpus"
CORPUS_FILES = sorted(CORPUS.glob("*.sse"))


@pytest.fixture(scope="module")
def rows() -> list[ConformanceRow]:
    return rows_from_paths(CORPUS_FILES, link_base=ROOT / "docs")


class _Page(HTMLParser):
    """Collects what the assertions need: ids, links, resource attributes, stream rows."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.resources: list[str] = []
        self.tags: set[str] = set()
        self.stream_rows = 0
        self.groups: list[str] = []
        self._in_group = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "a" and a.get("href"):
            self.hrefs.append(str(a["href"]))
        for key in ("src", "srcset", "data", "poster"):
            if a.get(key):
                self.resources.append(str(a[key]))
        if tag == "tr" and "stream-row" in (a.get("class") or ""):
            self.stream_rows += 1
        if tag == "tr" and a.get("class") == "group":
            self._in_group = True

    def handle_data(self, data: str) -> None:
        if self._in_group and data.strip():
            self.groups.append(data.strip())
            self._in_group = False


def test_rows_come_from_every_corpus_file(rows: list[ConformanceRow]) -> None:
    assert len(rows) == len(CORPUS_FILES)
    by_name = {r.name: r for r in rows}
    row = by_name["groq__compound_id-changes-every-chunk"]
    assert row.provider == "groq"
    assert row.href == "../tests/data/corpus/groq__compound_id-changes-every-chunk.sse"
    assert cell_status(row.report, "OAS015") == "fail"
    assert cell_status(row.report, "OAS016") == "warn"
    assert cell_status(row.report, "OAS014") == "info"
    assert cell_status(row.report, "OAS001") == "pass"


def test_html_is_one_self_contained_page(rows: list[ConformanceRow]) -> None:
    page = render_html(rows)
    parser = _Page()
    parser.feed(page)
    assert page.startswith("<!DOCTYPE html>")
    assert parser.stream_rows == len(CORPUS_FILES)
    assert parser.resources == []
    assert not {"script", "link", "img", "iframe", "object"} & parser.tags
    assert "@import" not in page and "url(" not in page
    # Every in-page link lands on an element; the rest are the relative links to the files.
    for href in parser.hrefs:
        if href.startswith("#"):
            assert href[1:] in parser.ids, href
        else:
            assert not re.match(r"^[a-z]+:", href), href
            assert (ROOT / "docs" / href).resolve().is_file(), href
    # Rows are grouped by provider, in order.
    providers = [g.rsplit(" (", 1)[0] for g in parser.groups]
    assert providers == sorted(providers, key=str.lower)
    assert providers == sorted({r.provider for r in rows}, key=str.lower)


def test_a_failing_cell_links_to_the_offending_chunk(rows: list[ConformanceRow]) -> None:
    page = render_html(rows)
    row_ids = re.findall(r'<tr class="stream-row" id="(s\d+)-row"', page)
    names = re.findall(r'<tr class="stream-row"[^>]*><td class="stream" title="([^"]+)"', page)
    n = row_ids[names.index("avian__kimi-k2.5_id-changes-after-first")]
    cell = f'<a href="#{n}-oas015">✗</a>'
    assert cell in page
    finding = page[page.index(f'id="{n}-oas015"') :]
    finding = finding[: finding.index("</div>")]
    assert "id-constant" in finding
    assert f'<a href="#{n}-c1">chunk 1</a>' in finding
    chunk = page[page.index(f'id="{n}-c1"') :]
    assert '"id": "gen-1773932873-cZ28aIfjOk9BQ9QjyZz3"' in chunk[:2000]


def test_markdown_matrix(rows: list[ConformanceRow]) -> None:
    md = render_markdown(rows)
    lines = md.splitlines()
    header = next(ln for ln in lines if ln.startswith("| Stream |"))
    columns = header.strip("|").split("|")
    table = [ln for ln in lines if ln.startswith("| ") and ln.count("|") == header.count("|")]
    stream_lines = [ln for ln in table if '<a id="s' in ln]
    assert len(stream_lines) == len(CORPUS_FILES)
    assert all(ln.count("|") == len(columns) + 1 for ln in table)
    # Columns are only the rules some stream breaks; the others are listed as passed.
    assert " OAS015 " in header and " OAS001 " not in header
    assert "Every stream passes: OAS001" in md
    # Every link target exists as an anchor.
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', md))
    for target in re.findall(r"\]\(#([^)]+)\)", md):
        assert target in anchors, target
    assert "**groq**" in md
    assert "[❌](#" in md and "[⚠️](#" in md and "[ℹ️](#" in md


def test_all_rules_option_draws_every_column(rows: list[ConformanceRow]) -> None:
    md = render_markdown(rows[:3], all_rules=True)
    header = next(ln for ln in md.splitlines() if ln.startswith("| Stream |"))
    assert header.count("OAS0") == len(RULES)
    assert "Every stream passes" not in md


def test_report_command_writes_both_formats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site" / "report.html"
    assert main(["report", str(CORPUS), "--format", "html", "-o", str(out)]) == 0
    assert f"({len(CORPUS_FILES)} streams)" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8").count('class="stream-row"') == len(CORPUS_FILES)
    assert main(["report", str(CORPUS_FILES[0]), "--format", "md"]) == 0
    assert capsys.readouterr().out.startswith("# Stream conformance report")
    assert main(["report", str(tmp_path / "nothing"), "--format", "md"]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_docs_report_covers_the_corpus() -> None:
    """docs/report.{md,html} are generated from the corpus (see docs/contracts.md)."""
    html_text = (ROOT / "docs" / "report.html").read_text(encoding="utf-8")
    md_text = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    for path in CORPUS_FILES:
        assert f">{path.stem}</a>" in html_text, path.name
        assert f"[{path.stem}](../tests/data/corpus/{path.name})" in md_text, path.name
