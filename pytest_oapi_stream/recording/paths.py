"""Cassette paths: one file per test, names safe on every OS, paths shown relative."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

_NAME_MAX = 200  # bytes; most file systems allow 255, leave room for ".yaml" and temp names
_FORBIDDEN_IN_NAMES = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_FORBIDDEN_IN_NAMES = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def safe_file_name(name: str) -> str:
    """``name`` usable as a file name on every OS: forbidden characters become ``-``.

    Names longer than 200 UTF-8 bytes (long parametrize ids) are cut and get a short hash, so
    two long ids stay distinct.
    """
    cleaned = _FORBIDDEN_IN_NAMES.sub("-", name).strip(" .") or "cassette"
    raw = cleaned.encode("utf-8")
    if len(raw) <= _NAME_MAX:
        return cleaned
    digest = hashlib.sha1(raw).hexdigest()[:10]
    head = raw[: _NAME_MAX - 11].decode("utf-8", "ignore")
    return f"{head}-{digest}"


def default_cassette_path(
    cassette_dir: Path, module_path: Path, rootpath: Path, test_name: str
) -> Path:
    """``<cassette_dir>/<module path relative to rootdir, no .py>/<test name>.yaml``.

    ``test_name`` is ``Class.test`` or ``test`` with its parametrize id, as pytest shows it.
    """
    try:
        rel = module_path.with_suffix("").relative_to(rootpath)
        parts = [safe_file_name(p) for p in rel.parts]
    except ValueError:  # a test file outside the rootdir
        parts = [safe_file_name(module_path.stem)]
    return cassette_dir.joinpath(*parts, safe_file_name(test_name) + ".yaml")


def resolve_cassette_path(cassette_dir: Path, name: str | os.PathLike[str]) -> Path:
    """The path for a marker's ``cassette=``: relative to the cassette dir, ``.yaml`` added."""
    path = Path(name)
    if not path.suffix:
        path = path.with_suffix(".yaml")
    return path if path.is_absolute() else cassette_dir / path


def display_path(path: Path, rootpath: Path) -> str:
    """``path`` relative to the rootdir when it is inside it, for messages."""
    try:
        return path.relative_to(rootpath).as_posix()
    except ValueError:
        return str(path)
