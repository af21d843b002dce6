"""Cassette paths: one file per test, names safe on every OS, paths shown relative; the
temporary files an interrupted write leaves beside a cassette."""

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


#: A temporary file of ``files.atomic_write_text`` older than this (seconds) was left by a write
#: that never finished (kill -9, power loss): no write takes that long.
STALE_TEMP_SECONDS = 60.0


def is_temp_file(path: Path) -> bool:
    """A temporary file of ``files.atomic_write_text`` (``.NAME.XXXXXXXX.tmp``)."""
    return path.name.startswith(".") and path.name.endswith(".tmp") and path.name.count(".") >= 3


def clean_leftover_temps(path: Path, now: float | None = None) -> tuple[list[Path], list[Path]]:
    """Remove the stale temporary files an interrupted write of ``path`` left beside it.

    Returns (removed, kept): files younger than :data:`STALE_TEMP_SECONDS` are kept (another
    process may be writing ``path`` right now) for the caller to report.
    """
    import glob
    import time

    folder = path.parent
    if not folder.is_dir():
        return [], []
    now = time.time() if now is None else now
    removed: list[Path] = []
    kept: list[Path] = []
    for tmp in sorted(folder.glob(f".{glob.escape(path.name)}.*.tmp")):
        try:
            if now - tmp.stat().st_mtime < STALE_TEMP_SECONDS:
                kept.append(tmp)
                continue
            tmp.unlink()
            removed.append(tmp)
        except OSError:  # gone meanwhile (another worker cleaned it), or not ours to remove
            continue
    return removed, kept
