"""The conformance report gives Responses streams their own table and rule columns."""

from __future__ import annotations

import re
from pathlib import Path

from pytest_oapi_stream.chat.rules import RULES as CHAT_RULES
from pytest_oapi_stream.contracts.conformance import render_html, render_markdown, rows_from_paths
from pytest_oapi_stream.responses.rules import RULES as RESPONSE_RULES

DATA = Path(__file__).parents[1] / "data"
CHAT = sorted((DATA / "corpus").glob("*.sse"))[:6]
RESP = sorted((DATA / "corpus-responses").glob("*.sse"))
CHAT_ONLY = {r.code for r in CHAT_RULES} - {r.code for r in RESPONSE_RULES}
RESP_ONLY = {r.code for r in RESPONSE_RULES} - {r.code for r in CHAT_RULES}


def _header_codes(line: str) -> set[str]:
    return set(re.findall(r"OAS\d{3}", line))


def test_a_mixed_report_has_one_table_per_surface_with_its_own_columns() -> None:
    rows = rows_from_paths([*CHAT, *RESP])
    md = render_markdown(rows)
    assert "## Chat completions streams" in md and "## Responses streams" in md
    chat_head, resp_head = [ln for ln in md.splitlines() if ln.startswith("| Stream |")]
    assert not _header_codes(chat_head) & RESP_ONLY
    assert not _header_codes(resp_head) & CHAT_ONLY
    assert {"OAS106", "OAS120"} <= _header_codes(resp_head)  # the 2025 and quota recordings
    anchors = re.findall(r'<a id="(s\d+)-row">', md)
    assert len(anchors) == len(set(anchors)) == len(rows)  # numbering continues across tables


def test_all_rules_draws_the_catalog_of_each_surface() -> None:
    md = render_markdown(rows_from_paths(RESP[:2]), all_rules=True)
    (head,) = [ln for ln in md.splitlines() if ln.startswith("| Stream |")]
    assert _header_codes(head) == {r.code for r in RESPONSE_RULES}
    assert "## Chat completions streams" not in md  # one surface: one table, as before


def test_the_html_report_has_a_matrix_per_surface() -> None:
    page = render_html(rows_from_paths([*CHAT, *RESP]))
    assert page.count('<table class="matrix"') == 2
    assert 'id="matrix"' in page and 'id="matrix-responses"' in page
    resp_table = page[page.index('id="matrix-responses"') :]
    resp_table = resp_table[: resp_table.index("</table>")]
    assert not _header_codes(" ".join(re.findall(r'<th class="code".*?</th>', resp_table))) & (
        CHAT_ONLY
    )
    ids = re.findall(r'id="(s\d+(?:-[a-z0-9]+)?)"', page)
    assert len(ids) == len(set(ids))
