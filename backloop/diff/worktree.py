"""The patches of a live view (a base against the work tree, with its untracked files), in full or for some paths.

``git diff <base>`` sees the work tree only through the index, so what it says needs help in a live view:
untracked files are added from the work tree (read here, diff/untracked.py; or through git when attributes or
settings may change what ``git add`` would stage: line endings, filters, binary), a path removed from the index
only (``git rm --cached``) is compared with the base as ``git add -A`` would stage it again, and a save of a file
whose index entry is the base's takes the cheap ``git diff-files`` through a scratch index (git/index.py). What
the last full recompute learned about the index (tracked, staged, ignored paths) decides which git call each path
needs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import os
from collections.abc import Iterable, Mapping

from backloop.diff.model import FileDiff
from backloop.diff.parse import FilePatch, split_raw_patch
from backloop.diff.resolve import Resolved
from backloop.diff.untracked import untracked_patch
from backloop.git.index import Index
from backloop.git.process import GitError
from backloop.git.repo import Repo

log = logging.getLogger(__name__)
ATTRIBUTES = ".gitattributes"


class WorkTree:
    """One live view's knowledge of the index, as of its last full recompute."""

    def __init__(self, repo: Repo, context: int, ignore_ws: bool) -> None:
        self.repo = repo
        self.context = context
        self.ignore_ws = ignore_ws
        self.tracked: set[str] = set()
        """Paths in the index or the base: anything else that exists is untracked or ignored."""
        self.ignored: set[str] = set()
        """Paths found ignored since the last full recompute: their events are dropped."""
        self._index: set[str] = set()
        self._staged: set[str] = set()
        """Paths whose index entry differs from the base: their per-path refresh needs the full base diff."""
        self._unindexed: set[str] = set()
        """Paths in the base but not in the index (``git rm --cached``)."""
        self._index_file: Index | None = None
        """The parsed index: unstaged paths are compared through a scratch index of their entries."""
        self.converts = False
        """Whether ``git add`` may stage an untracked file other than byte for byte (attributes, autocrlf): then
        git shows the untracked files, else they are read here (no git process). (A change of a ``.gitattributes``
        file brings a full recompute, git/watch.py.)"""

    async def all_patches(self, resolved: Resolved) -> dict[str, FilePatch]:
        """Every patch of the view, and what is known of the index refreshed."""
        empty = await self.repo.empty_tree()
        (out, index, in_base, staged, untracked, self._index_file), converts = await asyncio.gather(asyncio.gather(
            self.repo.diff(resolved.base, resolved.target, context=self.context, ignore_ws=self.ignore_ws),
            self.repo.index_paths(),
            self.repo.tree_paths(resolved.base) if resolved.base != empty else _no_paths(),
            self.repo.staged(resolved.base), self.repo.untracked(), self.repo.read_index()),
            self.repo.converts_on_add())
        self._index, self.tracked, self._staged = index, index | in_base, staged
        self._unindexed = in_base - index
        self.converts = converts or any(_is_attributes(p) for p in itertools.chain(index, untracked))
        self.ignored.clear()
        unindexed = [p for p in untracked if p in self._unindexed]
        readded = await self._diff_unindexed(resolved, unindexed) if unindexed else []
        untracked = [p for p in untracked if p not in self._unindexed] if unindexed else untracked
        patches = await asyncio.to_thread(self._patches, out, readded, unindexed)
        for fp in await self._untracked_patches(untracked):
            patches[fp.path] = fp
        return patches

    @staticmethod
    def _patches(out: bytes, readded: list[bytes], unindexed: list[str]) -> dict[str, FilePatch]:
        """Patches by path from the base diff, where ``readded`` (diffs of the ``unindexed`` paths against the
        work tree) replace what the base diff says of those paths (deleted)."""
        patches = {p.path: p for p in split_raw_patch(out)}
        for path in unindexed:
            patches.pop(path, None)
        for extra in readded:
            patches.update((p.path, p) for p in split_raw_patch(extra))
        return patches

    async def path_patches(self, resolved: Resolved, paths: set[str], files: Mapping[str, FileDiff]
                           ) -> tuple[dict[str, FilePatch], set[str]]:
        """The patches of the files that changed paths may concern (those ``files`` shows from or to them, those
        under a reported directory, untracked files found under them), and that scope: a path of the scope
        without a patch has no change any more."""
        scope = {self._outer_path(p) for p in paths}
        for p in paths:
            fd = files.get(p)
            if fd is not None and fd.old_path and fd.old_path != p:
                scope.add(fd.old_path)
        prefixes = tuple(p + "/" for p in paths if p not in files)
        for path, fd in files.items():
            if fd.old_path in paths or (prefixes and path.startswith(prefixes)):
                scope.add(path)
        # Unstaged paths (index entry = base entry) take the cheap index-vs-work-tree diff; the rest the full one.
        # Paths removed from the index whose file is still there wait until we know whether it is ignored.
        unindexed = {p for p in scope if p in self._unindexed and os.path.lexists(self.repo.root / p)}
        fast = sorted(p for p in scope if p in self._index and p not in self._staged)
        slow = sorted(p for p in scope if (p not in self._index or p in self._staged) and p not in unindexed)
        outputs = list(await asyncio.gather(self._diff_paths(resolved, fast, index=True),
                                            self._diff_paths(resolved, slow)))
        patches = {p.path: p for out in outputs for p in split_raw_patch(out) if p.path in scope}
        candidates = [p for p in scope if p not in patches and p not in self.tracked and p not in unindexed
                      and os.path.lexists(self.repo.root / p)]
        if candidates or unindexed:
            found = await self.repo.untracked([*candidates, *unindexed])
            # Not listed: ignored, or gone again. Only git's word that a path is ignored drops its later events.
            unlisted = [p for p in candidates if p not in found and not (self.repo.root / p).is_dir()]
            if unlisted:
                self.ignored.update(await self.repo.ignored(unlisted))
            readded = sorted(unindexed.intersection(found))
            gone = sorted(unindexed.difference(found))  # ignored, or a directory now: deleted, as git says
            more = await asyncio.gather(self._diff_unindexed(resolved, readded) if readded else _no_diffs(),
                                        self._diff_paths(resolved, gone))
            for out in (*more[0], more[1]):
                patches.update((p.path, p) for p in split_raw_patch(out) if p.path in scope)
            for fp in await self._untracked_patches([p for p in found if p not in unindexed]):
                patches[fp.path] = fp
                scope.add(fp.path)
        return patches, scope

    async def _diff_paths(self, resolved: Resolved, paths: list[str], *, index: bool = False) -> bytes:
        """The base diff of ``paths``; with ``index``, the index against the work tree (for paths whose index
        entry is the base's)."""
        if not paths:
            return b""
        if index:
            return await self.repo.diff_files(context=self.context, ignore_ws=self.ignore_ws, paths=paths,
                                              index=self._index_file)
        return await self.repo.diff(resolved.base, resolved.target, context=self.context, ignore_ws=self.ignore_ws,
                                    paths=paths)

    async def _diff_unindexed(self, resolved: Resolved, paths: list[str]) -> list[bytes]:
        return await self.repo.diff_unindexed(resolved.base, paths, context=self.context, ignore_ws=self.ignore_ws,
                                              index=self._index_file)

    def _outer_path(self, path: str) -> str:
        """A path inside a submodule's work tree stands for the submodule (a tracked path that has children)."""
        cut = path.find("/")
        while cut != -1:
            if path[:cut] in self.tracked:
                return path[:cut]
            cut = path.find("/", cut + 1)
        return path

    async def _untracked_patches(self, paths: list[str]) -> list[FilePatch]:
        """Patches adding the untracked ``paths``: through git when it may not stage them byte for byte."""
        if not paths:
            return []
        if self.converts:
            try:
                outputs = await self.repo.diff_untracked(paths, context=self.context, ignore_ws=self.ignore_ws)
            except GitError as exc:  # (a file gone meanwhile: its event follows, and is looked at again)
                log.debug("untracked files through git: %s; reading them as they are", exc)
            else:
                wanted = set(paths)
                return [dataclasses.replace(fp, untracked=True) for out in outputs for fp in split_raw_patch(out)
                        if fp.path in wanted]
        # (blob ids in the repository's own hash: a SHA-256 repository's empty tree id has 64 digits)
        hash_name = "sha256" if len(await self.repo.empty_tree()) == 64 else "sha1"
        return await asyncio.to_thread(self._read_untracked, paths, hash_name)

    def _read_untracked(self, paths: Iterable[str], hash_name: str) -> list[FilePatch]:
        result = []
        for rel in paths:
            fp = untracked_patch(self.repo.root, rel, hash_name=hash_name)
            if fp is not None:
                result.append(fp)
        return result


def _is_attributes(path: str) -> bool:
    return path == ATTRIBUTES or path.endswith("/" + ATTRIBUTES)


async def _no_paths() -> set[str]:
    return set()


async def _no_diffs() -> list[bytes]:
    return []
