"""The ``oapi-stream`` CLI: exit codes, formats, cassettes and folders, and the generated docs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_oapi_stream.cli import main, rules_document

DATA = Path(__file__).parents[1] / "data"
ROOT = Path(__file__).parents[2]
CLEAN = DATA / "corpus" / "openai__gpt-4o_text_include-usage.sse"
BROKEN = DATA / "corpus" / "avian__kimi-k2.5_id-changes-after-first.sse"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_file_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(CLEAN))
    assert code == 0
    assert "1 stream(s) checked: 1 ok, 0 failed" in out
    assert "\x1b[" not in out  # not a terminal: no colour


def test_violations_exit_1_with_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--profile", "openai", str(BROKEN))
    assert code == 1
    assert "FAIL" in out
    assert "OAS015  id-constant" in out
    assert "[profile openai: chosen explicitly]" in out


def test_a_failure_ends_with_what_to_do_next(capsys: pytest.CaptureFixture[str]) -> None:
    """The failing codes, accepted by --ignore (which then passes), explained by rules CODE."""
    code, out, _ = run(capsys, "check", "--profile", "openai", str(BROKEN))
    nxt = out.strip().splitlines()[-1]
    assert code == 1 and nxt.startswith("next: oapi-stream rules OAS")
    codes = nxt.split("--ignore ", 1)[1].split(",")
    codes[-1] = codes[-1].split()[0]
    assert "OAS015" in codes
    code, out, _ = run(
        capsys, "check", "--profile", "openai", "--ignore", ",".join(codes), str(BROKEN)
    )
    assert code == 0 and "next:" not in out
    code, out, _ = run(capsys, "rules", nxt.split()[3])
    assert code == 0 and nxt.split()[3] in out


def test_ignore_and_strict(capsys: pytest.CaptureFixture[str]) -> None:
    warn_only = DATA / "corpus" / "dashscope__qwen3-max_tool-call-empty-id-fragments.sse"  # warns
    code, _, _ = run(capsys, "check", "--profile", "openai", str(warn_only))
    assert code == 0
    code, _, _ = run(capsys, "check", "--profile", "openai", "--strict", str(warn_only))
    assert code == 1
    code, out, _ = run(
        capsys,
        "check",
        "--profile",
        "openai",
        "--ignore",
        "OAS015,role-first-only,OAS023,OAS024,OAS026",
        str(BROKEN),
    )
    assert "OAS015" not in out
    assert code == 0


def test_json_format_is_one_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "check", "--format", "json", "--profile", "openai", str(CLEAN), str(BROKEN)
    )
    assert code == 1
    doc = json.loads(out)
    assert [r["path"] for r in doc["results"]] == [str(CLEAN), str(BROKEN)]
    bad = doc["results"][1]
    assert bad["ok"] is False and bad["profile"] == "openai" and bad["stream"] == 0
    v = next(v for v in bad["violations"] if v["code"] == "OAS015")
    assert set(v) == {"code", "rule", "severity", "chunk", "message"}
    assert v["rule"] == "id-constant" and v["severity"] == "error" and v["chunk"] == 1


def test_folder_is_checked_recursively(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.sse").write_bytes(CLEAN.read_bytes())
    (tmp_path / "notes.txt").write_text("not a stream")
    code, out, _ = run(capsys, "check", str(tmp_path))
    assert code == 0
    assert "x.sse" in out and "1 stream(s) checked" in out


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["check", "missing.sse"], "missing.sse: no such file or folder"),
        (["check", "--profile", "nope", str(CLEAN)], "unknown profile 'nope'"),
        (["check", "--ignore", "OAS999", str(CLEAN)], "unknown rule 'OAS999'"),
    ],
)
def test_bad_usage_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], reason: str
) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2
    assert reason in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_empty_folder_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "check", str(tmp_path))
    assert code == 2 and "nothing to check" in err


def test_unreadable_cassette_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions: [\n  - {unclosed")
    code, _, err = run(capsys, "check", str(bad))
    assert code == 2 and "bad.yaml: not valid YAML/JSON" in err


def test_python_dash_m_is_the_same_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_oapi_stream", "check", "--format", "json", str(CLEAN)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["results"][0]["ok"] is True


def test_console_script_reports_bad_usage_without_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_oapi_stream", "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_rules_doc_is_in_sync() -> None:
    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert doc == rules_document(), (
        "docs/rules.md is out of date: regenerate it with `oapi-stream rules --doc > docs/rules.md`"
    )


def test_rules_lists_both_catalogs_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_oapi_stream.chat.rules import RULES as CHAT
    from pytest_oapi_stream.responses.rules import RULES as RESP

    code, out, _ = run(capsys, "rules")
    assert code == 0
    assert "## Chat completions" in out and "## Responses" in out
    assert out.count("\n| OAS") == len(CHAT) + len(RESP)
    code, out, _ = run(capsys, "rules", "--surface", "responses")
    assert code == 0 and "| OAS138 |" in out and "| OAS041 |" not in out


def test_rules_explains_one_rule(capsys: pytest.CaptureFixture[str]) -> None:
    """A contract failure points at ``oapi-stream rules CODE``: the rule, the profiles that
    change it, the evidence; a code both catalogs hold shows both; names work too."""
    code, out, err = run(capsys, "rules", "OAS021")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "OAS021 role-first-only (chat completions): error, per choice"
    assert lines[1] == "  role only in each choice's first delta"
    assert "deepseek warn" in lines[2] and "lenient off" in lines[2]
    assert "  breaks openai-py .stream(): wrong: role" in out
    assert lines[-1] == "more: docs/rules.md (oapi-stream rules --doc)"
    code, out, _ = run(capsys, "rules", "oas001", "terminal-once-last")
    assert code == 0
    assert "OAS001 sse-utf8 (chat completions)" in out and "OAS001 sse-utf8 (Responses)" in out
    assert "OAS114 terminal-once-last (Responses): error, per stream" in out
    code, out, err = run(capsys, "rules", "OAS999")
    assert code == 2 and out == ""
    assert err.startswith("oapi-stream rules: unknown rule 'OAS999'; codes are OAS001-")


def test_rules_and_report_accept_a_responses_only_profile(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "rules", "--profile", "lmstudio")
    assert code == 0, err
    assert "| OAS101 |" in out and "not a chat profile" in out
    code, _, err = run(capsys, "rules", "--surface", "chat", "--profile", "lmstudio")
    assert code == 2 and "has no chat rules" in err
    code, _, err = run(capsys, "rules", "--profile", "nope")
    assert code == 2 and "unknown profile 'nope'" in err and "lmstudio" in err
    lms = DATA / "corpus-responses" / "lmstudio__gemma-7b-it_text.sse"
    code, out, err = run(capsys, "report", "--format", "md", "--profile", "lmstudio", str(lms))
    assert code == 0 and err == "" and "lmstudio" in out
    code, _, err = run(capsys, "report", "--format", "md", "--profile", "lmstudio", str(CLEAN))
    assert code == 2 and "'lmstudio' is a Responses profile; this file holds chat" in err


def test_unknown_ignore_code_names_both_ranges(capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_oapi_stream.chat.rules import RULES as CHAT
    from pytest_oapi_stream.responses.rules import RULES as RESP

    code, out, err = run(capsys, "check", "--ignore", "OAS999", str(CLEAN))
    assert code == 2 and out == ""
    assert f"OAS001-{CHAT[-1].code} (chat completions)" in err
    assert f"OAS101-{RESP[-1].code} (Responses)" in err


def test_invalid_yaml_names_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions:\n- request: |x\n   bad\n", "utf-8")
    code, _, err = run(capsys, "check", str(bad))
    assert code == 2
    assert "bad.yaml: not valid YAML/JSON at line 2, column 13: " in err
    assert "(while scanning a block scalar)" in err and len(err.splitlines()) == 1


def test_empty_cassette_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_bytes(b"")
    for command in ("check", "shape"):
        code, _, err = run(capsys, command, str(empty))
        assert code == 2
        assert err.strip().endswith("empty.yaml: the file is empty"), err


def test_report_counts_in_english_and_defaults_to_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "report", str(CLEAN))
    assert code == 0, err
    assert out.startswith("# Stream conformance report")
    assert "1 stream from 1 provider; 0 break an error-level rule" in out
    code, out, err = run(capsys, "report", str(BROKEN), "-o", str(tmp_path / "r.html"))
    assert code == 0 and out == "" and "(1 stream)" in err
    page = (tmp_path / "r.html").read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "1 breaks an error-level rule" in page
    run(capsys, "report", str(CLEAN), "-o", str(tmp_path / "r.md"))
    assert (tmp_path / "r.md").read_text("utf-8").startswith("# Stream")


def test_profile_of_the_other_surface_refuses_that_file_and_checks_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lms = DATA / "corpus-responses" / "lmstudio__gemma-7b-it_text.sse"
    code, out, err = run(capsys, "check", "--profile", "lmstudio", str(CLEAN), str(lms))
    assert code == 2 and "1 stream(s) checked: 1 ok" in out
    assert "profile 'lmstudio' is a Responses profile; this file holds chat completions" in err
    code, _, err = run(capsys, "shape", "--profile", "groq", str(lms))
    assert code == 2 and "profile 'groq' is a chat profile; this file holds Responses" in err
