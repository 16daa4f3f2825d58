"""A view's files read on demand: one side's bytes, the lines a comment quotes, context to expand a hunk, and the
complete diff of a file that was sent ``too_large``."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from backloop.diff.highlight import highlight_text
from backloop.diff.model import ContextLine, FileDiff
from backloop.diff.parse import build_file
from backloop.diff.resolve import Resolved
from backloop.diff.untracked import complete_patch
from backloop.diff.view import DiffView

MAX_LOAD_LINES = 50_000
"""A ``too_large`` file with more changed lines than this is not sent in full even when asked for: its rows alone
would be a million elements, more than a page can build in reasonable time."""


class ViewUnavailable(Exception):
    """The file (or that side of it, or that line) is not part of the view."""


class TooLargeToLoad(Exception):
    """A ``load_file`` of a diff too large for any page to show."""

    def __init__(self, path: str, lines: int) -> None:
        super().__init__(f"{path} has {lines:,} changed lines, more than a page can show ({MAX_LOAD_LINES:,}): "
                         "open the file itself instead")
        self.path = path


async def read_side(view: DiffView, path: str, side: str) -> bytes:
    """Bytes of the old or new side of a file of this diff."""
    fp = view.patches.get(path)
    resolved = view.resolved
    if fp is None or resolved is None:
        raise ViewUnavailable(f"{path!r} is not part of this diff")
    if side == "old":
        if fp.entry.status == "A":
            raise ViewUnavailable(f"{path!r} has no old side (it was added)")
        data = await view.read_old(fp)
    else:
        if fp.entry.status == "D":
            raise ViewUnavailable(f"{path!r} has no new side (it was deleted)")
        data = await _read_new(view, path, resolved)
    if data is None:
        raise ViewUnavailable(f"{path!r} could not be read")
    return data


async def _read_new(view: DiffView, path: str, resolved: Resolved) -> bytes | None:
    if resolved.target.kind == "worktree":
        full = view.repo.root / path
        if Path(os.path.realpath(full)).is_relative_to(view.repo.root) and full.is_file():
            return await asyncio.to_thread(full.read_bytes)
        return None
    if resolved.target.kind == "index":
        return await view.repo.read_blob(f":{path}")
    return await view.repo.read_blob(f"{resolved.target.commit}:{path}")


async def quote(view: DiffView, path: str, side: str, start: int, end: int) -> list[str]:
    """Lines ``start``..``end`` of one side of a file of this diff (what a comment is about)."""
    lines = (await read_side(view, path, side)).decode("utf-8", "replace").splitlines()
    if start > len(lines):
        raise ViewUnavailable(f"{path} has no line {start} on the {side} side")
    return lines[start - 1 : end]


async def expand(view: DiffView, path: str, start: int, end: int) -> tuple[list[ContextLine], bool]:
    """Lines ``start``..``end`` of the new side, highlighted, and whether the file ends there."""
    text = (await read_side(view, path, "new")).decode("utf-8", "replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    chosen = lines[start - 1 : end]
    html = await asyncio.to_thread(highlight_text, path, chosen)
    return [ContextLine(text=t, html=h) for t, h in zip(chosen, html, strict=True)], end >= len(lines)


async def full_file(view: DiffView, path: str) -> FileDiff:
    """The complete diff of a ``too_large`` file (unhighlighted: too big for that). TooLargeToLoad past
    MAX_LOAD_LINES changed lines: no page could show them."""
    fp = view.patches.get(path)
    if fp is None:
        raise ViewUnavailable(f"{path!r} is not part of this diff")
    shown = view.files.get(path)
    if shown is not None and shown.additions + shown.deletions > MAX_LOAD_LINES:
        raise TooLargeToLoad(path, shown.additions + shown.deletions)
    fp = await asyncio.to_thread(complete_patch, view.repo.root, fp)
    return await asyncio.to_thread(build_file, fp, full=True)
