"""Driver helpers shared by the surfaces' check loops."""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["WINDOW", "windows"]

WINDOW = 1 << 16


def windows(piece: bytes | str) -> Iterator[bytes | str]:
    """``piece`` in slices of at most 64 KiB (or 64 Ki characters).

    A whole recorded body arrives as one piece; decoded at once it would turn into one list
    holding every event of the stream. Fed in windows, the decoder holds one window's events at
    a time: the iterating mode's memory does not grow with the stream, and each event is checked
    while its bytes are still in the CPU cache. The decoder's output does not depend on how its
    input is split.
    """
    n = len(piece)
    if n <= 2 * WINDOW:
        yield piece
        return
    for start in range(0, n, WINDOW):
        yield piece[start : start + WINDOW]
