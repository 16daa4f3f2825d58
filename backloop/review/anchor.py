"""Keeping a comment on its code when the file changes: find the quoted lines again, nearest to where they were."""

from __future__ import annotations

from collections.abc import Sequence


def reanchor(quoted: Sequence[str], line: int, lines: Sequence[str]) -> int | None:
    """New 1-based first line of ``quoted`` in ``lines``, the match nearest to ``line``; None when gone."""
    if not quoted:
        return line if line <= len(lines) else None
    n = len(quoted)
    if line - 1 + n <= len(lines) and list(lines[line - 1 : line - 1 + n]) == list(quoted):
        return line
    first = quoted[0]
    best: int | None = None
    for i, text in enumerate(lines):
        if text == first and list(lines[i : i + n]) == list(quoted) and (
            best is None or abs(i + 1 - line) < abs(best - line)
        ):
            best = i + 1
    return best
