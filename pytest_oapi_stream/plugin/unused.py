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

__all__ = ["Claims", "find_unused", "prune"]

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
