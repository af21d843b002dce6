"""Unused cassettes: files in the cassette folder that no collected test claims.

A cassette is *claimed* by a collected test (selected or deselected) that uses a cassette: its
``oapi`` marker's ``cassette=`` or its default path. Only the folders of test modules collected
in full are scanned, so a run of one file, one node id, ``-k`` or ``--lf`` never lists (nor
``--oapi-prune`` deletes) a cassette whose test was merely not selected. xdist workers each
collect every test; their claims are merged on the controller.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contracts.shape import is_shape_path, shape_path_for
from ..recording.paths import STALE_TEMP_SECONDS, is_temp_file

__all__ = ["Claims", "find_unused", "partial_run", "prune", "unused_lines"]

_CASSETTE_SUFFIXES = (".yaml", ".yml")


@dataclass
class Claims:
    """Cassette paths the collected tests use, and the module folders safe to scan."""

    claimed: set[str] = field(default_factory=set)
    folders: set[str] = field(default_factory=set)
    partial: set[str] = field(default_factory=set)

    def claim(self, cassette: Path, module_folder: Path) -> None:
        """A collected test uses ``cassette``; its module's default folder is ``module_folder``."""
        self.claimed.add(str(cassette.resolve()))
        self.folders.add(str(module_folder.resolve()))

    def see_module(self, module_folder: Path) -> None:
        """A test of this module was collected (it may use no cassette)."""
        self.folders.add(str(module_folder.resolve()))

    def partly(self, module_folder: Path) -> None:
        """Only some tests of this module were collected (node ids): never scan its folder."""
        self.partial.add(str(module_folder.resolve()))

    def to_dict(self) -> dict[str, list[str]]:
        """Plain data for ``config.workeroutput``."""
        return {
            "claimed": sorted(self.claimed),
            "folders": sorted(self.folders),
            "partial": sorted(self.partial),
        }

    def merge(self, data: Mapping[str, Any]) -> None:
        """Add another process's claims (a worker's :meth:`to_dict`)."""
        self.claimed.update(data.get("claimed", ()))
        self.folders.update(data.get("folders", ()))
        self.partial.update(data.get("partial", ()))


def find_unused(claims: Claims) -> list[Path]:
    """Cassette files in fully collected module folders that no collected test claims."""
    out: list[Path] = []
    for folder in sorted(claims.folders - claims.partial):
        path = Path(folder)
        if not path.is_dir():
            continue
        for entry in sorted(path.iterdir()):
            if (
                entry.is_file()
                and entry.suffix in _CASSETTE_SUFFIXES
                and not is_shape_path(entry)
                and not entry.name.startswith(".")
                and str(entry.resolve()) not in claims.claimed
            ):
                out.append(entry)
            elif entry.is_file() and is_temp_file(entry) and _stale(entry):
                out.append(entry)  # left by an interrupted write of a cassette (kill -9)
    return out


def _stale(path: Path) -> bool:
    try:
        return time.time() - path.stat().st_mtime >= STALE_TEMP_SECONDS
    except OSError:
        return False


def prune(paths: Iterable[Path]) -> list[Path]:
    """Delete each cassette and its shape file; returns the files deleted."""
    deleted: list[Path] = []
    for path in paths:
        for target in (path, shape_path_for(path)):
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
                deleted.append(target)
    return deleted


def partial_run(config: Any) -> str | None:
    """Why this run did not collect every test of the suite, or None when it did.

    Only a run over the whole suite proves that no test names a cassette with ``cassette=``:
    a test in a module this run did not collect may claim a file in a collected module's
    folder (``pytest tests/test_a.py`` cannot see ``tests/test_b.py``'s claims).
    """
    for option, name in (
        ("ignore", "--ignore"),
        ("ignore_glob", "--ignore-glob"),
        ("lf", "--lf"),
        ("stepwise", "--sw"),
    ):
        if config.getoption(option, None):
            return f"{name} was given"
    rootpath = Path(config.rootpath).resolve()
    invoked = Path(config.invocation_params.dir)
    source = getattr(config, "args_source", None)
    kind = getattr(source, "name", "")
    if kind == "TESTPATHS":
        return None
    if kind == "INVOCATION_DIR":
        here = invoked.resolve()
        if here == rootpath or here in rootpath.parents:
            return None
        return "it ran from a subfolder of the rootdir"
    testpaths = {
        (rootpath / t).resolve() for t in (config.getini("testpaths") or []) if "*" not in t
    }
    given: set[Path] = set()
    for arg in config.args:
        if "::" in str(arg):
            return "node ids were given"
        path = (invoked / str(arg)).resolve()
        if path == rootpath or path in rootpath.parents:
            return None
        given.add(path)
    if testpaths and testpaths <= given:
        return None
    return "paths were given"


def unused_lines(
    unused: list[Path], pruned: list[Path], partial: str | None, prune_asked: bool, rootpath: Path
) -> list[str]:
    """The summary lines about unused cassettes: pruned, kept (and why), or the next step."""

    def shown(paths: list[Path]) -> str:
        out = []
        for p in paths:
            try:
                out.append(p.relative_to(rootpath).as_posix())
            except ValueError:
                out.append(str(p))
        return ", ".join(out)

    if pruned:
        return [f"pruned {len(unused)} unused cassette(s): {shown(unused)}"]
    if not unused:
        return []
    lines = [f"unused cassettes (no collected test uses them): {shown(unused)}"]
    if prune_asked and partial is not None:
        lines.append(
            f"kept all {len(unused)}: this run did not collect every test ({partial}), and a "
            "test it did not collect may name them with cassette=; run pytest --oapi-prune "
            "over the whole suite to delete the ones no test uses"
        )
    elif partial is not None:
        lines.append(
            "next: pytest --oapi-prune   (over the whole suite: deletes them and their .shape.yaml)"
        )
    else:
        lines.append("next: pytest --oapi-prune   (deletes them and their .shape.yaml)")
    return lines
