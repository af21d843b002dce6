#!/usr/bin/env python3
"""What the installed plugin costs a pytest run that does not use it (issue 9, point 6).

Usage::

    python benchmarks/bench_startup.py [--repeats N] [--xdist-repeats M] [--quick] [--out FILE]

The package is installed as a wheel would install it: a copy of ``pytest_oapi_stream/`` with a
``.dist-info`` (``RECORD`` listing every file, the ``pytest11`` entry point) in a temporary
site folder put first on ``PYTHONPATH``. That matters: pytest marks every module of a
``pytest11`` distribution's files for assertion rewriting, and an editable install lists no
module files, so it would hide the rewriting cost users pay.

Then, in the same run, interleaved (the order alternates every repeat), median of N:

* **plugin**: ``python -m pytest --co -q`` in an empty folder, the plugin loaded;
* **no plugin**: the same with ``-p no:oapi_stream`` (pytest never imports the plugin).

in two modes: **cached** (bytecode caching on, after a warm-up run that wrote pytest's rewritten
``.pyc``) and **no-bytecode** (``PYTHONDONTWRITEBYTECODE=1``, the package freshly copied with
only the plain ``.pyc`` pip writes at install time: pytest must rewrite and compile each plugin
module it imports, on every run). And one **xdist** row: ``pytest -n 2 -q`` on a folder of four
trivial tests, with and without the plugin (each worker loads the plugin too), bytecode off.

Each row gives wall-clock medians and the children's CPU-time medians (user+sys, from
``getrusage``; steadier than wall time on a shared machine) and their ratios. The target:
plugin / no plugin <= 1.05 on every row. Also printed: the modules the plugin adds to
``sys.modules`` in a ``--co`` run (pydantic, vcrpy, yaml, the server must not be among them).

This is a benchmark script, never a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The venv's other pytest11 plugins (hypothesis, anyio...), off in every run: the ratio is
#: ours alone against pytest + xdist.
OTHER_PLUGINS = [
    arg
    for ep in metadata.entry_points(group="pytest11")
    if ep.name not in ("oapi_stream", "xdist", "xdist.looponfail")
    for arg in ("-p", f"no:{ep.name}")
]
PACKAGE = ROOT / "pytest_oapi_stream"

_PROBE = """
import json, sys, pytest
before = set(sys.modules)
pytest.main(["--co", "-q", "-p", "no:cacheprovider", *sys.argv[2:]])
print(json.dumps(sorted(set(sys.modules) - before)), file=open(sys.argv[1], "w"))
"""


def install_copy(site: Path, package: Path = PACKAGE) -> None:
    """Copy the package into ``site`` with a wheel-like ``.dist-info`` (RECORD, entry point)."""
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    shutil.copytree(package, site / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__"))
    version = metadata.version("pytest-oapi-stream")
    info = site / f"pytest_oapi_stream-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: pytest-oapi-stream\nVersion: {version}\n"
    )
    (info / "entry_points.txt").write_text("[pytest11]\noapi_stream = pytest_oapi_stream.plugin\n")
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    (info / "RECORD").write_text("".join(f"{f},," + "\n" for f in [*files, f"{info.name}/RECORD"]))
    # pip compiles plain bytecode at install time; pytest's rewritten .pyc it cannot reuse.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(site / PACKAGE.name)], check=True)


USED_TESTS = """
import os
import httpx
import pytest

BODY = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}

""" + "".join(
    f"""
@pytest.mark.oapi(cassette="shared")
def test_{i}():
    httpx.post(os.environ["OPENAI_BASE_URL"] + "/chat/completions", json=BODY).read()
"""
    for i in range(5)
)


def used_run(base: Path, env: dict[str, str], repeats: int) -> dict[str, float]:
    """Five marked tests replaying one cassette under ``-n 2``: the plugin in use (median)."""
    from pytest_oapi_stream.server import OAPIServer

    folder = base / "used"
    folder.mkdir()
    (folder / "test_used.py").write_text(USED_TESTS)
    args = [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider"]
    args += OTHER_PLUGINS
    with OAPIServer() as server:
        server.stream(text="Hello there!")
        live = {**env, "OPENAI_BASE_URL": server.base_url}
        run_once([*args[:3], "-q", "-p", "no:cacheprovider", "--oapi-record"], folder, live)

    replay = {**env, "OPENAI_BASE_URL": live["OPENAI_BASE_URL"]}
    run_once(args, folder, replay)  # warm-up
    samples = [run_once(args, folder, replay) for _ in range(repeats)]
    return {
        "wall ms": statistics.median(w for w, _ in samples) * 1000,
        "cpu ms": statistics.median(c for _, c in samples) * 1000,
    }


def run_once(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and children's CPU seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 5):  # 5: no tests collected
        raise SystemExit(
            f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def compare(
    name: str, base_args: list[str], cwd: Path, env: dict[str, str], repeats: int
) -> dict[str, object]:
    """Interleave plugin / no-plugin runs; medians and ratios."""
    variants = {"plugin": base_args, "no plugin": [*base_args, "-p", "no:oapi_stream"]}
    for args in variants.values():  # warm-up: caches, rewritten .pyc (when allowed)
        run_once(args, cwd, env)
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in variants}
    for i in range(repeats):
        order = list(variants) if i % 2 == 0 else list(reversed(variants))
        for key in order:
            times[key].append(run_once(variants[key], cwd, env))
    row: dict[str, object] = {"row": name, "repeats": repeats}
    for key, samples in times.items():
        row[f"{key} wall ms"] = statistics.median(w for w, _ in samples) * 1000
        row[f"{key} cpu ms"] = statistics.median(c for _, c in samples) * 1000
    row["wall ratio"] = float(row["plugin wall ms"]) / float(row["no plugin wall ms"])  # type: ignore[arg-type]
    row["cpu ratio"] = float(row["plugin cpu ms"]) / float(row["no plugin cpu ms"])  # type: ignore[arg-type]
    return row


def added_modules(site: Path, cwd: Path, env: dict[str, str]) -> list[str]:
    """The modules a ``--co`` run imports with the plugin and not without."""
    found = {}
    for key, extra in (("plugin", []), ("no plugin", ["-p", "no:oapi_stream"])):
        out = cwd / f"mods-{len(extra)}.json"
        subprocess.run(
            [sys.executable, "-c", _PROBE, str(out), *OTHER_PLUGINS, *extra],
            cwd=cwd,
            env=env,
            check=True,
            capture_output=True,
        )
        found[key] = set(json.loads(out.read_text()))
        out.unlink()
    return sorted(found["plugin"] - found["no plugin"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=31, help="runs per variant (--co rows)")
    parser.add_argument("--xdist-repeats", type=int, default=11, help="runs per variant (xdist)")
    parser.add_argument("--quick", action="store_true", help="3 runs each (smoke test)")
    parser.add_argument("--no-xdist", action="store_true", help="skip the xdist row")
    parser.add_argument(
        "--modules-only", action="store_true", help="only list the modules the plugin adds"
    )
    parser.add_argument(
        "--package",
        type=Path,
        default=PACKAGE,
        help="the pytest_oapi_stream folder to measure (e.g. an older commit's, from git archive)",
    )
    parser.add_argument("--out", help="also write the Markdown here")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    xrepeats = 3 if args.quick else args.xdist_repeats

    lines = [
        "# Startup cost of the installed plugin",
        "",
        "Other pytest11 plugins off in every run: " + (" ".join(OTHER_PLUGINS) or "none"),
        "",
        f"python {platform.python_version()}, pytest {metadata.version('pytest')}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs; medians of {repeats} "
        f"(xdist: {xrepeats}) interleaved runs",
        "",
    ]
    rows = []
    used: dict[str, float] | None = None
    with tempfile.TemporaryDirectory(prefix="oapi-startup-") as tmp:
        base = Path(tmp)
        site, empty = base / "site", base / "empty"
        empty.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
        env["PYTHONPATH"] = str(site)
        install_copy(site, args.package)
        if args.modules_only:
            added = added_modules(site, empty, env)
            print("Modules a `--co` run imports only with the plugin: " + ", ".join(added))
            return 0
        pytest_co = [sys.executable, "-m", "pytest", "--co", "-q", *OTHER_PLUGINS]
        rows.append(compare("`--co`, bytecode cached", pytest_co, empty, env, repeats))
        install_copy(site, args.package)  # no rewritten .pyc left from the cached runs
        nobc = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
        rows.append(compare("`--co`, PYTHONDONTWRITEBYTECODE=1", pytest_co, empty, nobc, repeats))
        if not args.no_xdist:
            try:
                metadata.version("pytest-xdist")
            except metadata.PackageNotFoundError:
                print("pytest-xdist is not installed: no xdist row", file=sys.stderr)
            else:
                tests = base / "xdist"
                tests.mkdir()
                (tests / "test_four.py").write_text(
                    "".join(f"def test_{i}():\n    assert {i} == {i}\n\n" for i in range(4))
                )
                xargs = [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider"]
                xargs += OTHER_PLUGINS
                rows.append(
                    compare(
                        "`-n 2`, 4 tests, PYTHONDONTWRITEBYTECODE=1", xargs, tests, nobc, xrepeats
                    )
                )
                used = used_run(base, nobc, xrepeats)
        added = added_modules(site, empty, nobc)

    lines += [
        "| run | plugin wall ms | no plugin wall ms | wall ratio "
        "| plugin CPU ms | no plugin CPU ms | CPU ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['row']} | {row['plugin wall ms']:.0f} | {row['no plugin wall ms']:.0f} "
            f"| **{row['wall ratio']:.3f}** | {row['plugin cpu ms']:.0f} "
            f"| {row['no plugin cpu ms']:.0f} | **{row['cpu ratio']:.3f}** |"
        )
    if used is not None:
        lines += [
            "",
            "Plugin in use: 5 marked tests replaying a cassette, `-n 2`, "
            f"PYTHONDONTWRITEBYTECODE=1: {used['wall ms']:.0f} ms wall, "
            f"{used['cpu ms']:.0f} ms CPU (median of {xrepeats}).",
        ]
    ours = [m for m in added if m.startswith("pytest_oapi_stream")]
    others = [m for m in added if not m.startswith("pytest_oapi_stream")]
    lines += [
        "",
        f"Modules a `--co` run imports only with the plugin ({len(added)}): "
        f"ours: {', '.join(ours) or 'none'}; others: {', '.join(others) or 'none'}",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
