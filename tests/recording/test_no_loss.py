"""No recording lost: distinct cassette files for distinct tests, shared cassettes merged,
leftover temp files cleaned, prune deleting only what is provably unused, one line for a
folder that cannot be written. pytester runs against a real loopback server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx  # noqa: F401
import hypothesis  # noqa: F401
import openai  # noqa: F401
import pytest
import vcr  # noqa: F401
from hypothesis import given
from hypothesis import strategies as st

from pytest_oapi_stream.recording import cassettes as c
from pytest_oapi_stream.server import OAPIServer

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

SDK = """
import openai
import pytest


def ask(prompt="Hi"):
    client = openai.OpenAI(max_retries=0)
    stream = client.chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": prompt}])
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
"""


@pytest.fixture
def server(oapi_server: OAPIServer, monkeypatch: pytest.MonkeyPatch) -> OAPIServer:
    monkeypatch.setenv("OPENAI_BASE_URL", oapi_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-KEY-0123456789")
    return oapi_server.stream(text="Hello there!")


# ------------------------------------------------------------------ distinct names


def test_parametrize_ids_that_differ_in_forbidden_characters_get_distinct_cassettes(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_chat="import pytest\n\n@pytest.mark.oapi\n"
        "@pytest.mark.parametrize('p', ['x/y', 'x:y', 'x-y', 'x.'])\n"
        "def test_param(p):\n    pass\n"
    )
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=4)
    folder = pytester.path / "cassettes" / "test_chat"
    names = {p.name for p in folder.iterdir() if not p.name.endswith(".shape.yaml")}
    assert names == {
        "test_param[x%2Fy].yaml",
        "test_param[x%3Ay].yaml",
        "test_param[x-y].yaml",
        "test_param[x.].yaml",
    }
    pytester.runpytest_inprocess().assert_outcomes(passed=4)


@given(st.text(max_size=40), st.text(max_size=40))
def test_safe_file_names_are_distinct_and_safe(a: str, b: str) -> None:
    fa, fb = c.safe_file_name(a), c.safe_file_name(b)
    assert (fa == fb) == (a == b)
    assert not re.search(r'[\x00-\x1f\x7f<>:"/\\|?*]', fa)
    assert fa and not fa.startswith(".") and not fa.endswith((".", " "))


# ------------------------------------------------------------------ read-only folder

ONE_TEST = "import pytest\n\n@pytest.mark.oapi\ndef test_x():\n    pass\n"


def _run_as_nobody(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pytest in ``folder`` as user ``nobody`` (root writes into any folder)."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be made")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HOME": str(folder)}
    cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    return subprocess.run(
        [*cmd, sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_read_only_cassette_folder_is_one_line_naming_it(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if os.geteuid() != 0:
        pytester.makepyfile(test_chat=ONE_TEST)
        folder = pytester.path / "cassettes" / "test_chat"
        folder.mkdir(parents=True)
        folder.chmod(0o555)
        try:
            result = pytester.runpytest_inprocess("--oapi-record")
        finally:
            folder.chmod(0o755)
        out = result.stdout.str()
        result.assert_outcomes(errors=1)
    else:
        base = Path(tempfile.mkdtemp(prefix="oapi-ro-"))
        try:
            base.chmod(0o755)  # nobody may read it, and write nowhere in it
            (base / "test_chat.py").write_text(ONE_TEST)
            (base / "cassettes" / "test_chat").mkdir(parents=True)
            done = _run_as_nobody(base, "--oapi-record", "-W", "ignore")
            out = done.stdout + done.stderr
            assert "1 error" in out, out
        finally:
            shutil.rmtree(base)
    # (the short summary repeats the message in full under CI=true, where pytest does not
    # truncate it: count the plugin's own lines)
    lines = [
        line
        for line in out.splitlines()
        if line.startswith("oapi-stream:") and "is not writable" in line
    ]
    assert lines == [
        "oapi-stream: cannot write cassette cassettes/test_chat/test_x.yaml: the folder "
        "cassettes/test_chat is not writable (no write permission for this user); the recording "
        "is not saved."
    ], out
    assert "Traceback" not in out and "PermissionError" not in out


def test_write_error_at_teardown_is_one_line(tmp_path: Path) -> None:
    """The teardown path (the folder went read-only during the test): one line, no traceback."""
    folder = tmp_path / "cassettes"
    session = c.CassetteSession(c.CassetteOptions(path=folder / "t.yaml", mode="all"))
    session.start()
    folder.write_text("a file where the folder should be")  # mkdir then fails, even as root
    with pytest.raises(c.CassetteError) as info:
        session.stop(save=True)
    assert str(info.value).startswith("oapi-stream: cannot write cassette ")
    assert "\n" not in str(info.value) and "not writable" in str(info.value)


# ------------------------------------------------------------------ leftover temp files


def test_leftover_temp_files_are_removed_and_reported_by_the_next_run(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_chat=ONE_TEST)
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=1)
    folder = pytester.path / "cassettes" / "test_chat"
    cassette = (folder / "test_x.yaml").read_text()
    stale = folder / ".test_x.yaml.k3j9x2ab.tmp"  # what kill -9 during a write leaves
    stale.write_text("half a cassette")
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    fresh = folder / ".test_x.yaml.q8w7e6rt.tmp"  # another process may be writing it now
    fresh.write_text("being written")
    orphan = folder / ".test_gone.yaml.a1b2c3d4.tmp"  # of a cassette no test opens any more
    orphan.write_text("x")
    os.utime(orphan, (1_000_000_000, 1_000_000_000))
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*LeftoverTempFileWarning: oapi-stream: removed cassettes/test_chat/.test_x.yaml."
            "k3j9x2ab.tmp, left by an interrupted write of cassette "
            "cassettes/test_chat/test_x.yaml (the cassette was kept)",
            "*.test_x.yaml.q8w7e6rt.tmp is a temporary file of cassette*kept*",
            "unused cassettes (no collected test uses them): "
            "cassettes/test_chat/.test_gone.yaml.a1b2c3d4.tmp",
        ]
    )
    assert not stale.exists() and fresh.exists()
    assert (folder / "test_x.yaml").read_text() == cassette
    pytester.runpytest_inprocess("--oapi-prune").assert_outcomes(passed=1)
    assert not orphan.exists()


# ------------------------------------------------------------------ shared cassettes

SHARED = (
    SDK
    + """

@pytest.mark.oapi(cassette="shared/common")
@pytest.mark.parametrize("prompt", ["a", "b", "c", "d"])
def test_shared(prompt):
    assert ask(prompt) == "Hello there!"
"""
)
LEAN = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:anyio")


def _interaction_prompts(path: Path) -> list[str]:
    return sorted(
        json.loads(i.request_body or b"{}")["messages"][0]["content"]
        for i in c.load_interactions(path)
    )


@pytest.mark.parametrize("workers", [0, 2])
def test_tests_sharing_a_cassette_keep_every_interaction(
    pytester: pytest.Pytester, server: OAPIServer, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    pytester.makepyfile(test_chat=SHARED)
    path = pytester.path / "cassettes" / "shared" / "common.yaml"
    if workers:
        pytest.importorskip("xdist")
        run = pytester.runpytest_subprocess
        extra: tuple[str, ...] = ("-n", str(workers), *LEAN)
    else:
        run = pytester.runpytest_inprocess
        extra = ()
    run("--oapi-record", *extra).assert_outcomes(passed=4)
    assert _interaction_prompts(path) == ["a", "b", "c", "d"]
    if not workers:  # re-recording one test replaces its own interaction, keeps the others'
        run("--oapi-record", "-k", "b").assert_outcomes(passed=1)
        assert _interaction_prompts(path) == ["a", "b", "c", "d"]
    server.stop()
    monkeypatch.delenv("OPENAI_API_KEY")
    run(*extra).assert_outcomes(passed=4)


# ------------------------------------------------------------------ prune


def test_prune_never_deletes_a_cassette_claimed_by_a_test_not_collected(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\n")
    pytester.mkpydir("tests")
    (pytester.path / "tests" / "test_a.py").write_text(ONE_TEST)
    (pytester.path / "tests" / "test_b.py").write_text(
        "import pytest\n\n@pytest.mark.oapi(cassette='tests/test_a/from_b')\n"
        "def test_b():\n    pass\n"
    )
    pytester.runpytest_inprocess("--oapi-record").assert_outcomes(passed=2)
    folder = pytester.path / "cassettes" / "tests" / "test_a"
    from_b = folder / "from_b.yaml"
    assert from_b.is_file() and (folder / "test_x.yaml").is_file()
    gone = folder / "test_gone.yaml"  # the cassette of a test that was deleted
    gone.write_text("version: 1\ninteractions: []\n")

    result = pytester.runpytest_inprocess("tests/test_a.py", "--oapi-prune")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "unused cassettes (no collected test uses them): cassettes/tests/test_a/from_b.yaml, "
            "cassettes/tests/test_a/test_gone.yaml",
            "kept all 2: this run did not collect every test (paths were given), and a test it "
            "did not collect may name them with cassette=; run pytest --oapi-prune over the "
            "whole suite to delete the ones no test uses",
        ]
    )
    assert from_b.is_file() and gone.is_file()

    result = pytester.runpytest_inprocess("--oapi-prune")  # the whole suite: provably unused
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["pruned 1 unused cassette(s): cassettes/tests/test_a/test_gone.yaml"]
    )
    assert from_b.is_file() and not gone.exists()


def test_record_missing_adds_a_new_tests_part_to_a_shared_cassette(
    pytester: pytest.Pytester, server: OAPIServer
) -> None:
    pytester.makepyfile(test_chat=SHARED)
    path = pytester.path / "cassettes" / "shared" / "common.yaml"
    ids = ["test_chat.py::test_shared[a]", "test_chat.py::test_shared[b]"]
    pytester.runpytest_inprocess("--oapi-record", *ids).assert_outcomes(passed=2)
    assert _interaction_prompts(path) == ["a", "b"]
    before = len(server.requests)
    result = pytester.runpytest_inprocess("--oapi-record=missing")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["cassettes: 2 replayed, 2 recorded, 0 missing"])
    assert _interaction_prompts(path) == ["a", "b", "c", "d"]
    assert len(server.requests) - before == 2  # only c and d reached the endpoint
    text = path.read_text()
    result = pytester.runpytest_inprocess("--oapi-record=missing")  # nothing left to record
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["cassettes: 4 replayed, 0 recorded, 0 missing"])
    assert path.read_text() == text and len(server.requests) - before == 2
