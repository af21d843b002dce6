"""An installed but unused plugin costs nothing: it imports only what registering needs.

pytest loads a ``pytest11`` plugin in every run of every project whose venv has it, so the
plugin module may not import pydantic, vcrpy, yaml, the server or the builder; they load when a
test first uses a cassette or a fixture. Timings are in ``benchmarks/bench_startup.py``; these
tests only check which modules load (fresh interpreters: subprocesses).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import pytest_oapi_stream
from pytest_oapi_stream.plugin import fixtures, hooks
from pytest_oapi_stream.recording import cassettes

#: Modules an unused plugin must not load (roots match their submodules too).
HEAVY = (
    "pydantic",
    "vcr",
    "yaml",
    "pytest_oapi_stream.server",
    "pytest_oapi_stream.chat",
    "pytest_oapi_stream.recording",
    "pytest_oapi_stream.contracts",
)

_LOADED = """
import json, sys
heavy = {heavy!r}
def loaded():
    return sorted(m for m in sys.modules if m.split(".")[0] in heavy or m.startswith(heavy))
"""


def _heavy_after(code: str) -> list[str]:
    probe = _LOADED.format(heavy=HEAVY) + code + "\nprint(json.dumps(loaded()))\n"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_importing_the_plugin_module_loads_nothing_heavy() -> None:
    assert _heavy_after("import pytest") == []  # the baseline: pytest alone loads none of them
    assert _heavy_after("import pytest_oapi_stream.plugin") == []


def test_the_public_api_still_loads_on_first_use() -> None:
    code = "import pytest_oapi_stream as p\nassert callable(p.check_chunk_stream)"
    assert "pydantic" in _heavy_after(code)


CONFTEST = """
import json, os, sys

HEAVY = {heavy!r}


def pytest_unconfigure(config):  # after the terminal summary, the last hook of a run
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
    worker = getattr(config, "workerinput", {{}}).get("workerid", "main")
    with open(os.path.join({out!r}, worker + ".json"), "w") as fh:
        json.dump(loaded, fh)
"""


@pytest.mark.parametrize("xdist", [False, True], ids=["one process", "xdist workers"])
def test_a_run_without_cassettes_loads_nothing_heavy(
    pytester: pytest.Pytester, xdist: bool
) -> None:
    out = pytester.mkdir("loaded")
    pytester.makeconftest(CONFTEST.format(heavy=HEAVY, out=str(out)))
    pytester.makepyfile(test_plain="def test_a():\n    assert 1\n\ndef test_b():\n    assert 2\n")
    # the venv's other plugins may load pydantic themselves (langsmith's does): off here
    others = [
        arg
        for ep in metadata.entry_points(group="pytest11")
        if ep.name not in ("oapi_stream", "xdist", "xdist.looponfail")
        for arg in ("-p", f"no:{ep.name}")
    ]
    args = ["-p", "no:cacheprovider", *others, *(["-n", "2"] if xdist else [])]
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=2)
    reports = {p.stem: json.loads(p.read_text()) for p in out.iterdir()}
    assert set(reports) == ({"main", "gw0", "gw1"} if xdist else {"main"})
    assert reports == {name: [] for name in reports}


def test_option_choices_match_the_vcrpy_layer() -> None:
    """The plugin registers its options without importing the vcrpy layer: same values."""
    assert hooks._MODES == cassettes.MODES
    assert hooks._RECHUNK_STRATEGIES == cassettes.RECHUNK_STRATEGIES


def test_every_public_name_resolves_lazily() -> None:
    assert set(pytest_oapi_stream._EXPORTS) | {"__version__"} == set(pytest_oapi_stream.__all__)
    for name in pytest_oapi_stream.__all__:
        assert getattr(pytest_oapi_stream, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        pytest_oapi_stream.nope  # noqa: B018


def test_the_entry_point_registers_every_hook_and_fixture_of_hooks() -> None:
    import pytest_oapi_stream.plugin as entry

    wanted = {
        name
        for name, value in {**vars(hooks), **vars(fixtures)}.items()
        if (name.startswith("pytest_") and callable(value))
        or type(value).__name__ == "FixtureFunctionDefinition"
        or hasattr(value, "_pytestfixturefunction")
    }
    assert {"pytest_addoption", "oapi_cassette", "_oapi_marked", "oapi_server"} <= wanted
    assert wanted <= set(vars(entry)), sorted(wanted - set(vars(entry)))


LOADERS = """
import json, sys


def pytest_sessionfinish(session):
    ours = {
        name: type(getattr(mod, "__loader__", None)).__name__
        for name, mod in list(sys.modules.items())
        if name.startswith("pytest_oapi_stream")
    }
    print()
    print("LOADERS", json.dumps(ours))
"""


def _install_like_a_wheel(site: Path) -> None:
    """The package with a ``.dist-info`` whose RECORD lists its files, as pip installs it
    (an editable install lists none, and pytest then marks nothing for rewriting)."""
    shutil.copytree(
        Path(pytest_oapi_stream.__file__).parent,
        site / "pytest_oapi_stream",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    info = site / "pytest_oapi_stream-0.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pytest-oapi-stream\n")
    (info / "entry_points.txt").write_text("[pytest11]\noapi_stream = pytest_oapi_stream.plugin\n")
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    (info / "RECORD").write_text("".join(f"{f},,\n" for f in files))


def test_an_installed_plugin_is_not_assert_rewritten_beyond_its_entry_module(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = pytester.mkdir("site")
    _install_like_a_wheel(site)
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    pytester.makeconftest(LOADERS)
    pytester.makepyfile(
        test_use="from pytest_oapi_stream import check_chunk_stream\n\n"
        "def test_a():\n    assert not check_chunk_stream(b'').ok\n"
    )
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    line = next(x for x in result.outlines if x.startswith("LOADERS "))
    loaders = json.loads(line.removeprefix("LOADERS "))
    rewritten = sorted(name for name, kind in loaders.items() if kind == "AssertionRewritingHook")
    # pytest marks the whole package; only the package root and the entry module are
    # imported before the plugin takes itself off the list
    assert rewritten == ["pytest_oapi_stream", "pytest_oapi_stream.plugin"]
    assert "pytest_oapi_stream.chat.check" in loaders
