"""The client matrix (``scripts/client_matrix.py``): pinned, rendered, and re-run on a sample.

``tests/data/client_matrix.json`` pins what real clients assemble from each fault and corpus
stream; ``docs/clients.md`` is rendered from it. A sample of cells is re-run here with the
Python clients, so that a client upgrade that changes behaviour fails CI with the changed
cell. The full run (Python and node clients) is ``python scripts/client_matrix.py``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pytest_oapi_stream import RULES
from pytest_oapi_stream.chat.evidence import EVIDENCE, HINTS
from pytest_oapi_stream.chat.faults import FAULTS

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "client_matrix.py"
MATRIX = ROOT / "tests" / "data" / "client_matrix.json"
DOC = ROOT / "docs" / "clients.md"
FULL_RUN = "python scripts/client_matrix.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("client_matrix", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("client_matrix", module)
    spec.loader.exec_module(module)
    return module


cm = _load_script()


def pinned() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MATRIX.read_text(encoding="utf-8"))
    return data


def test_docs_are_rendered_from_the_matrix() -> None:
    assert DOC.read_text(encoding="utf-8") == cm.render(pinned()), (
        f"docs/clients.md is stale: run `{FULL_RUN} --render`"
    )


def test_the_json_is_written_one_row_per_line() -> None:
    assert MATRIX.read_text(encoding="utf-8") == cm.dump(pinned())


def test_every_fault_every_corpus_stream_and_every_client_is_in_the_matrix() -> None:
    data = pinned()
    rows = set(data["sources"])
    faults_run = {k.split(":", 1)[1].split("@")[0].split("=")[0] for k in rows if "fault:" in k}
    modifiers = {"retry_after", "http_status_count"}  # run with http_status, named as a row
    assert set(FAULTS) <= faults_run | modifiers
    assert {"retry_after", "http_status_count=1"} <= {
        k.split(":", 1)[1].split("@")[0] for k in rows if k.startswith("fault:")
    }
    corpus = sorted((ROOT / "tests" / "data").glob("corpus/*.sse"))
    corpus += sorted((ROOT / "tests" / "data").glob("seed/*.sse"))
    assert {f"corpus:{p.parent.name}/{p.name}" for p in corpus} <= rows
    assert list(data["clients"]) == cm.CLIENT_ORDER
    assert data["outside_attempts"] == []  # no client tried to leave loopback
    for key, row in data["cells"].items():
        assert list(row) == cm.CLIENT_ORDER, key
        assert all(cell for cell in row.values()), key


def test_corpus_rows_name_the_rules_the_checker_reports_today() -> None:
    rules = {k: v["rules"] for k, v in pinned()["sources"].items() if v["kind"] == "corpus"}
    assert rules == cm.corpus_rules(), f"run `{FULL_RUN} --refresh-rules`"


def test_every_breakage_on_a_clean_verdict_is_explained() -> None:
    """A corpus stream that breaks no rule yet breaks a client is either a missing rule or a
    client's own design: each must be reviewed and explained in NOTES (docs/clients.md)."""
    data = pinned()
    unexplained = []
    for key, src in data["sources"].items():
        if src["kind"] != "corpus" or src["rules"]:
            continue
        for client, cell in data["cells"][key].items():
            estimate = client == "litellm" and "usage" in cell and "(expected null)" in cell
            if cell.startswith(("raised", "wrong")) and not estimate and key not in cm.NOTES:
                unexplained.append(f"{key} / {client}: {cell}")
    assert not unexplained, "\n".join(unexplained)


def test_clean_streams_are_ok_for_every_client() -> None:
    data = pinned()
    for key, row in data["cells"].items():
        if key.startswith("clean@"):
            assert set(row.values()) == {"ok"}, (key, row)


def test_evidence_names_cells_that_say_so() -> None:
    """Every client impact cited in docs/rules.md is a cell of the pinned matrix."""
    cells = pinned()["cells"]
    for code, ev in EVIDENCE.items():
        for imp in ev.impacts:
            assert imp.cell in cells, (code, imp.cell)
            cell = cells[imp.cell][imp.client]
            assert imp.effect in cell, (code, imp, cell)
            assert cell.startswith(("raised", "wrong")), (code, imp, cell)


def test_every_error_rule_has_a_client_cell_or_a_clause() -> None:
    assert set(EVIDENCE) == {r.code for r in RULES}
    for r in RULES:
        ev = EVIDENCE[r.code]
        if r.severity == "error":
            assert ev.impacts or ev.clause, f"{r.code} is error without a cell or a clause"
    assert set(HINTS) <= {r.code for r in RULES if r.severity == "error"}


TRANSPORT = ("stall_after", "disconnect_after_bytes", "delay_ms", "split_utf8")


def test_behaviours_that_break_a_client_are_at_least_warn_under_openai() -> None:
    """Each fault or variant row where a client raises or goes wrong names a rule, and the
    checker reports one of those rules at warn or error on the very stream the clients got."""
    import httpx

    from pytest_oapi_stream import check_chunk_stream
    from pytest_oapi_stream.server import OAPIServer

    data = pinned()
    request = {"model": cm.MODEL, "messages": cm.MESSAGES, "stream": True}
    request["stream_options"] = {"include_usage": True}
    rows = {s.key: s for s in cm.build_sources("fault:,variant:")}
    checked = 0
    with OAPIServer() as server, httpx.Client(timeout=10) as http:
        for key, src in data["sources"].items():
            if src["kind"] not in ("fault", "variant") or "n/a" in src:
                continue
            cells = data["cells"][key].values()
            if not any(c.startswith(("raised", "wrong")) for c in cells):
                continue
            if key.split(":", 1)[1].startswith(TRANSPORT):
                continue  # the client sees a timeout or a reset: no stream-level rule applies
            assert src["rules"], f"{key} breaks a client but names no rule"
            server.reset()
            rows[key].serve(server)
            resp = http.post(server.base_url + "/chat/completions", json=request)
            report = check_chunk_stream(resp, profile="openai", request=request)
            found = {v.code for v in report.violations if v.severity != "info"}
            assert found & set(src["rules"]), (key, src["rules"], report.format())
            checked += 1
    assert checked > 40


# ------------------------------------------------------------------ the sample re-run in CI

SAMPLE = [
    "fault:role_every_delta@text",
    "fault:tool_index_missing@tool",
    "fault:usage_every_chunk@text",
    "fault:truncate_after=3@text",
    "fault:http_status=429@text",
    "variant:bom@text",
    "variant:annotations_no_index@text",
    "variant:usage_null_trailer@text",
    "variant:usage_missing@tool",
    "corpus:corpus/openrouter__deepseek-chat_web-search-annotations.sse",
]


def _python_clients() -> list[str]:
    names = []
    for name, (dist, _, _) in cm.PY_CLIENTS.items():
        module = {"openai": "openai", "langchain-openai": "langchain_openai"}.get(dist, dist)
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{dist} is not installed (pip install -e '.[dev]')")
        names.append(name)
    return names


def test_python_clients_reproduce_the_pinned_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client upgrade that changes one of these cells fails here: re-run the full matrix
    (`python scripts/client_matrix.py`), review the diff and the severities it supports."""
    clients = _python_clients()
    # No stall in the sample: a generous read timeout keeps a loaded CI machine from failing it.
    monkeypatch.setattr(cm, "TIMEOUT_S", 20.0)
    sources = cm.build_sources(",".join(SAMPLE))
    assert {s.key for s in sources if s.kind != "clean"} == set(SAMPLE)
    data = cm.run(sources, clients, progress=False)
    want = pinned()
    for c in clients:
        assert data["clients"][c]["exposed"] == want["clients"][c]["exposed"], c
    diffs = [
        f"{key} / {c}: pinned {want['cells'][key][c]!r}, now {data['cells'][key][c]!r}"
        for key in data["cells"]
        for c in clients
        if data["cells"][key][c] != want["cells"][key][c]
    ]
    assert not diffs, "client behaviour changed:\n" + "\n".join(diffs)
    assert data["outside_attempts"] == []


def test_the_loopback_guard_refuses_other_addresses() -> None:
    import socket

    with cm.loopback_only(), pytest.raises(cm.OutsideAddress):
        socket.getaddrinfo("example.com", 443)
    with cm.loopback_only(), socket.socket() as sock, pytest.raises(cm.OutsideAddress):
        sock.connect(("192.0.2.1", 9))  # TEST-NET-1: never reached, refused before connect


def test_reference_reading_of_a_stream() -> None:
    chunks = [
        {"id": "a", "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant"}}]},
        {
            "id": "a",
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {"index": 0, "id": "c1", "function": {"name": "f", "arguments": "{"}}
                        ]
                    },
                }
            ],
        },
        {
            "id": "a",
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]},
                    "finish_reason": "tool_calls",
                }
            ],
        },
        {"id": "a", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}},
    ]
    ref = cm.reference(chunks)
    assert ref["role"] == "assistant" and ref["finish_reason"] == "tool_calls"
    assert ref["tool_calls"] == [{"id": "c1", "name": "f", "arguments": {}}]
    assert ref["usage"] == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": None}
    got = dict(ref, role="assistantassistant")
    assert cm.compare(got, ref, ["role", "text"]).startswith('wrong: role "assistantassistant"')
    assert cm.compare(ref, ref, list(cm.FIELDS)) == "ok"


def test_without_node_the_full_run_leaves_the_pinned_matrix_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fresh clone without node still runs the script: the node columns are skipped with
    the reason, and the pinned JSON (whose node cells the evidence cites) is not overwritten."""
    pinned_copy = tmp_path / "client_matrix.json"
    pinned_copy.write_text(MATRIX.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(cm, "MATRIX", pinned_copy)
    monkeypatch.setattr(cm, "DOC", tmp_path / "clients.md")
    monkeypatch.setattr(cm.shutil, "which", lambda name: None)
    real_build = cm.build_sources
    monkeypatch.setattr(cm, "build_sources", lambda only=None: real_build("fault:drop_done@text"))
    monkeypatch.setattr(cm, "TIMEOUT_S", 20.0)
    clients = ["openai-py iterate", *cm.NODE_CLIENTS]
    monkeypatch.setattr(cm, "CLIENT_ORDER", clients)
    assert cm.main(["--out", str(pinned_copy)]) == 0
    out, err = capsys.readouterr()
    assert "node clients skipped (node is not installed)" in err
    assert pinned_copy.read_text(encoding="utf-8") == MATRIX.read_text(encoding="utf-8")
    assert not (tmp_path / "clients.md").exists()
    data = json.loads(out)
    assert data["node"] == "node is not installed"
    row = data["cells"]["fault:drop_done@text"]
    assert row["openai-py iterate"] == "ok"
    assert row["ai-sdk streamText"] == "skipped: node is not installed"
