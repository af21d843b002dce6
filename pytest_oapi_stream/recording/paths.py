"""Cassette paths: one file per test, names safe on every OS, paths shown relative."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

_NAME_MAX = 200  # bytes; most file systems allow 255, leave room for ".yaml" and temp names
#: Characters no file name may hold on some OS, and ``%`` (the escape itself).
_FORBIDDEN_IN_NAMES = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*%]')
#: Dots and spaces that Windows drops at the end of a name, or that hide a file (a leading dot).
_EDGES = re.compile(r"^\.|[ .]+$")


def _escape(match: re.Match[str]) -> str:
    return "".join(f"%{ord(ch):02X}" for ch in match.group())


def safe_file_name(name: str) -> str:
    """``name`` usable as a file name on every OS, distinct names giving distinct file names.

    Forbidden characters (and ``%``) become ``%XX`` (``x/y`` -> ``x%2Fy``, ``x:y`` -> ``x%3Ay``),
    as do a leading dot and trailing dots and spaces. Names longer than 200 UTF-8 bytes (long
    parametrize ids) are cut and get a short hash of the whole name, so two long ids stay
    distinct.
    """
    # a lone "%" is never produced otherwise: the empty name gets it
    cleaned = _EDGES.sub(_escape, _FORBIDDEN_IN_NAMES.sub(_escape, name)) or "%"
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
