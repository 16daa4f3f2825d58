"""Changes since a round: per file, the content recorded at the end of that round against the file now.

A SinceView is a look at another view (``base``: the review's own view): it lists that view's files and the ones
recorded then, and recomputes exactly the paths whose diff in ``base`` changed, so it stays live like any view.
A file whose content is what was recorded is listed as ``unchanged`` (no hunks). A file that was not part of the
diff then had the content of the old side then (``Baseline.base``). The patches are written here (diff/synth.py),
in git's format, so that parsing and highlighting are the ones of every view.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import stat
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from backloop.diff import synth
from backloop.diff.parse import FilePatch
from backloop.diff.view import DiffView, FilesChanged, ViewEvent
from backloop.viewspec import ViewSpec

GITLINK = "160000"
"""A submodule: its content is a commit of another repository, not recorded."""


@dataclass(frozen=True)
class Baseline:
    """What was recorded at the end of a round."""

    number: int
    files: Mapping[str, str | None]
    """Path → name of its content then (None: the file did not exist)."""
    base: str
    """The old side's commit then: the content of the files that were not part of the diff."""
    read: Callable[[str], bytes | None]
    """A recorded content by name (blocking); None when it is lost."""
    label: str = ""
    """What the old side is, for people (``round 2 (requested changes)``)."""


def moved_away(view: DiffView) -> set[str]:
    """Paths the view's files were renamed from: no longer there."""
    return {fp.entry.old_path for fp in view.patches.values() if fp.entry.status == "R"}


async def current_contents(view: DiffView, paths: Collection[str]) -> dict[str, bytes | None]:
    """The content of each path on the new side of ``view`` (None: not there); a path the view does not show is as
    on its old side."""
    resolved = view.resolved
    assert resolved is not None
    result: dict[str, bytes | None] = {}
    disk: list[str] = []
    specs: dict[str, str] = {}
    gone = moved_away(view)
    for path in paths:
        fp = view.patches.get(path)
        if fp is None:
            if path in gone:
                result[path] = None
            else:
                specs[path] = f"{resolved.base}:{path}"
        elif fp.entry.status == "D":
            result[path] = None
        elif resolved.target.kind == "worktree":
            disk.append(path)
        else:
            specs[path] = fp.entry.new_id
    if disk:
        result.update(await asyncio.to_thread(_read_files, view.repo.root, disk))
    if specs:
        result.update(zip(specs, await view.repo.read_blobs(list(specs.values())), strict=True))
    return result


def _read_files(root: Path, paths: Iterable[str]) -> dict[str, bytes | None]:
    """Work-tree files as git would see them: a symlink is its target, anything but a file is not content."""
    real_root = os.path.realpath(root)
    result: dict[str, bytes | None] = {}
    for rel in paths:
        full = os.path.join(root, rel)
        data: bytes | None = None
        try:
            parent = os.path.realpath(os.path.dirname(full))
            if parent == real_root or parent.startswith(real_root + os.sep):
                st = os.lstat(full)
                if stat.S_ISLNK(st.st_mode):
                    data = os.fsencode(os.readlink(full))
                elif stat.S_ISREG(st.st_mode):
                    with open(full, "rb") as fh:
                        data = fh.read()
        except OSError:
            data = None
        result[rel] = data
    return result


class SinceView(DiffView):
    def __init__(self, base: DiffView, spec: ViewSpec, baseline: Baseline) -> None:
        super().__init__(base.repo, spec)
        self.base = base
        self.baseline = baseline
        self._unlisten = base.listen(self._base_changed)

    def poke(self, paths: Iterable[str], git_changed: bool) -> None:
        """(It follows ``base``, which the watcher pokes.)"""

    def close(self) -> None:
        self._unlisten()

    def _base_changed(self, event: ViewEvent) -> None:
        if isinstance(event, FilesChanged):
            self._pending_paths.update(event.paths)
            self._wake.set()
        else:
            self._set_notice(event.notice)

    async def _refresh_all(self) -> None:
        await self.base.ready.wait()
        self._pending_paths.clear()  # (all of them, from here on)
        paths = set(self.baseline.files) | set(self.base.patches) | moved_away(self.base)
        await self._refresh(paths, set(self.files) | paths)

    async def _refresh_paths(self, paths: set[str]) -> None:
        # A renamed file's old path changes with it.
        olds = {fp.entry.old_path for p in paths if (fp := self.base.patches.get(p)) is not None}
        scope = paths | olds
        await self._refresh(scope, scope)

    async def _refresh(self, paths: set[str], scope: set[str]) -> None:
        resolved = self.base.resolved
        if resolved is None:  # (the view it looks at could not be computed: its notice says why)
            self._set_notice(self.base.notice)
            return
        self.resolved = dataclasses.replace(resolved, base_label=self.baseline.label, notice=None)
        await self._apply(await self._patches(paths), scope)
        self._set_notice(self.base.notice)

    async def _patches(self, paths: set[str]) -> dict[str, FilePatch]:
        wanted = [p for p in sorted(paths)
                  if (fp := self.base.patches.get(p)) is None or GITLINK not in (fp.entry.old_mode, fp.entry.new_mode)]
        now = await current_contents(self.base, wanted)
        unrecorded = [p for p in wanted if p not in self.baseline.files]
        then: dict[str, bytes | None] = {}
        if unrecorded and self.baseline.base:
            then = dict(zip(unrecorded, await self.repo.read_blobs(
                [f"{self.baseline.base}:{p}" for p in unrecorded]), strict=True))
        return await asyncio.to_thread(self._build, wanted, now, then)

    def _build(self, paths: list[str], now: Mapping[str, bytes | None], then: Mapping[str, bytes | None]
               ) -> dict[str, FilePatch]:
        """(worker thread)"""
        patches: dict[str, FilePatch] = {}
        for path in paths:
            if path in self.baseline.files:
                name = self.baseline.files[path]
                old = None if name is None else self.baseline.read(name)
            else:
                old = then.get(path)
            current = self.base.patches.get(path)
            mode = current.entry.new_mode if current is not None and current.entry.status != "D" else "100644"
            made = synth.patch(path, old, now.get(path), old_mode=mode, new_mode=mode, context=self.spec.context,
                               ignore_ws=self.spec.ws)
            if made is not None:
                patches[path] = made
        return patches

    async def read_old(self, fp: FilePatch) -> bytes | None:
        """The content recorded at the end of the round."""
        name = self.baseline.files.get(fp.path)
        if name is not None:
            return await asyncio.to_thread(self.baseline.read, name)
        if fp.path in self.baseline.files or not self.baseline.base:
            return None
        return await self.repo.read_blob(f"{self.baseline.base}:{fp.path}")
