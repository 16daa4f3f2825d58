"""One diff view kept current: full recomputes on git events, per-path recomputes on work-tree events.

The view owns the per-file model that clients are served from, and tells its listeners what changed as typed
events. Work is coalesced: while one recompute runs, new events only add to the next one. Files whose patch did not
change keep their FileDiff object (and so their highlighting); new ones are highlighted in a worker thread,
synchronously when small, in the background with an unhighlighted first push when large.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import msgspec

from backloop.diff.highlight import highlight_file, line_count, warm_lexers
from backloop.diff.model import FileDiff
from backloop.diff.parse import FilePatch, blob_ids, build_file, split_raw_patch
from backloop.diff.pool import highlight_in_worker
from backloop.diff.resolve import Resolved, resolve
from backloop.diff.worktree import WorkTree
from backloop.git.operation import operation_in_progress
from backloop.git.process import GitError
from backloop.git.repo import Repo
from backloop.viewspec import ViewSpec

log = logging.getLogger(__name__)

SYNC_HIGHLIGHT_LINES = 4_000
"""Up to this many new lines are highlighted before the push; more are pushed plain first."""
BACKGROUND_BATCH_LINES = 3_000
PARSE_BATCH_LINES = 20_000
PARSE_NOW_LINES = 5_000
"""Of a big change, files are parsed before the first push up to about this many lines; the rest are pushed as
``loading`` summaries (status and counts) and completed in the background, so a first snapshot is quick."""


@dataclass(frozen=True)
class ViewNotice:
    """What the person should know about the view as a whole: ``ok`` (nothing), a warning, or an error that keeps
    it from being computed."""

    level: Literal["ok", "warning", "error"]
    message: str = ""


OK = ViewNotice("ok")


@dataclass(frozen=True)
class FilesChanged:
    """These paths' FileDiffs were replaced or removed."""

    paths: tuple[str, ...]


@dataclass(frozen=True)
class NoticeChanged:
    notice: ViewNotice


ViewEvent = FilesChanged | NoticeChanged
Listener = Callable[[ViewEvent], None]


def _take_lines(files: list[FileDiff], limit: int, size: Callable[[FileDiff], int]) -> list[FileDiff]:
    """The first files, up to about ``limit`` lines (at least one)."""
    taken: list[FileDiff] = []
    total = 0
    for fd in files:
        taken.append(fd)
        total += size(fd)
        if total >= limit:
            break
    return taken


class DiffView:
    """The current diff of one view spec. ``files`` maps path → FileDiff as sent to clients."""

    def __init__(self, repo: Repo, spec: ViewSpec) -> None:
        self.repo = repo
        self.spec = spec
        self.files: dict[str, FileDiff] = {}
        self.patches: dict[str, FilePatch] = {}
        self.resolved: Resolved | None = None
        self.notice = OK
        self.ready = asyncio.Event()
        """Set once the first recompute is done (or failed): ``files`` and ``notice`` say something."""
        self._operation: str | None = None
        self._listeners: list[Listener] = []
        self._worktree = WorkTree(repo, spec.context, spec.ws) if spec.live else None
        self._pending_paths: set[str] = set()
        self._pending_full = True
        self._wake = asyncio.Event()
        self._wake.set()
        self._highlight_task: asyncio.Task[None] | None = None
        self._warm_task: asyncio.Task[None] | None = None

    # ---- wiring ----------------------------------------------------------------------------------------------

    def listen(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def poke(self, paths: Iterable[str], git_changed: bool) -> None:
        """Called by the watcher with a batch of changed work-tree paths and whether git state changed."""
        if git_changed:
            self._pending_full = True
        elif self._worktree is not None:
            self._pending_paths.update(p for p in paths if p not in self._worktree.ignored)
        else:
            return
        if self._pending_full or self._pending_paths:
            self._wake.set()

    async def run(self) -> None:
        """Recompute whenever poked; runs until cancelled."""
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                full, paths = self._pending_full, self._pending_paths
                self._pending_full, self._pending_paths = False, set()
                try:
                    if full:
                        await self._refresh_all()
                    elif paths:
                        await self._refresh_paths(paths)
                except GitError as exc:
                    self._set_notice(ViewNotice("error", exc.message))
                except Exception as exc:  # a bug must not kill the view; say so and keep serving
                    log.exception("recomputing %s failed", self.spec)
                    self._set_notice(ViewNotice("error", f"internal error while computing the diff: {exc}"))
                self.ready.set()
        finally:
            for task in (self._highlight_task, self._warm_task):
                if task:
                    task.cancel()

    def _emit(self, event: ViewEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    def _set_notice(self, notice: ViewNotice) -> None:
        if notice != self.notice:
            self.notice = notice
            self._emit(NoticeChanged(notice))

    # ---- recomputes --------------------------------------------------------------------------------------

    def _warning(self) -> ViewNotice:
        """What the person should know about this view, though it could be computed."""
        parts = [p for p in (self.resolved.notice if self.resolved else None, self._operation) if p]
        return ViewNotice("warning", " ".join(parts)) if parts else OK

    async def _refresh_all(self) -> None:
        resolved = await resolve(self.repo, self.spec)
        # (commits and ranges do not change with the work tree: no operation can leave them halfway)
        operation = await operation_in_progress(self.repo) if self.spec.since is not None else None
        if self._worktree is not None:
            patches = await self._worktree.all_patches(resolved)
        else:
            out = await self.repo.diff(resolved.base, resolved.target, context=self.spec.context,
                                       ignore_ws=self.spec.ws)
            patches = await asyncio.to_thread(lambda: {p.path: p for p in split_raw_patch(out)})
        self.resolved = resolved
        self._operation = operation
        await self._apply(patches, set(self.files) | set(patches))
        self._set_notice(self._warning())

    async def _refresh_paths(self, paths: set[str]) -> None:
        resolved = self.resolved
        if resolved is None or self.notice.level == "error":
            self._pending_full = True
            self._wake.set()
            return
        if self._worktree is None:  # (not poked: other views change only with git's state)
            return
        patches, scope = await self._worktree.path_patches(resolved, paths, self.files)
        await self._apply(patches, scope)

    async def _apply(self, patches: dict[str, FilePatch], scope: Iterable[str]) -> None:
        """Make ``files`` match ``patches`` for every path in ``scope``; tell which files changed."""
        todo: list[FilePatch] = []
        changed: list[str] = []
        for path in scope:
            fp = patches.get(path)
            old = self.patches.get(path)
            if fp is None:
                if path in self.files:
                    del self.files[path]
                    self.patches.pop(path, None)
                    changed.append(path)
                continue
            if old is not None and old.digest == fp.digest and path in self.files:
                continue
            self.patches[path] = fp
            todo.append(fp)
            changed.append(path)
        previous = {fp.path: self.files[fp.path] for fp in todo if fp.path in self.files}
        fresh = await asyncio.to_thread(self._build_many, todo, previous) if todo else []
        for i, fd in enumerate(fresh):
            if fd.too_large:
                fresh[i] = msgspec.structs.replace(fd, size=await self._size(todo[i]))
        for fd in fresh:
            self.files[fd.path] = fd
        if changed:
            self._emit(FilesChanged(tuple(changed)))
        if any(fd.loading or not fd.highlighted for fd in fresh):
            self._schedule_highlight()

    def _build_many(self, patches: list[FilePatch], previous: dict[str, FileDiff]) -> list[FileDiff]:
        """Parse (worker thread). Small changes are highlighted right away, so a save arrives highlighted (hunks
        that are the same as in the file's ``previous`` version keep their highlighting); of a big one only the
        first files are parsed now, the rest are summaries the background task completes."""
        built: list[FileDiff] = []
        budget = PARSE_NOW_LINES
        for fp in patches:
            fd = build_file(fp, summary=budget <= 0)
            budget -= line_count(fd)
            built.append(fd)
        if sum(line_count(fd) for fd in built) <= SYNC_HIGHLIGHT_LINES and not any(fd.loading for fd in built):
            return self._highlight_many(built, previous)
        return built

    def _highlight_many(self, files: list[FileDiff], previous: dict[str, FileDiff]) -> list[FileDiff]:
        result = []
        for fd in files:
            fp = self.patches.get(fd.path)
            if fd.loading and fp is not None:
                fd = build_file(fp)
            old_blob, new_blob = blob_ids(fp.chunk) if fp else (None, None)
            result.append(highlight_file(fd, old_blob, new_blob, previous=previous.get(fd.path)))
        return result

    def _schedule_highlight(self) -> None:
        if self._highlight_task is None or self._highlight_task.done():
            self._highlight_task = asyncio.create_task(self._highlight_background())
        if self._warm_task is None:  # (the worker process highlights; live updates are highlighted here)
            self._warm_task = asyncio.create_task(asyncio.to_thread(warm_lexers, list(self.files)))

    async def _highlight_background(self) -> None:
        """Complete the view in file order: first parse the files pushed as summaries (fast), then highlight."""
        while True:
            loading = [fd for fd in (self.files[p] for p in sorted(self.files)) if fd.loading]
            if loading:
                batch = _take_lines(loading, PARSE_BATCH_LINES, lambda fd: fd.additions + fd.deletions)
                done = await asyncio.to_thread(self._parse_many, batch)
            else:
                pending = [fd for fd in (self.files[p] for p in sorted(self.files)) if not fd.highlighted]
                if not pending:
                    return
                batch = _take_lines(pending, BACKGROUND_BATCH_LINES, line_count)
                done = await highlight_in_worker([(fd, *self._blobs(fd.path)) for fd in batch])
            published = []
            for fd in done:
                current = self.files.get(fd.path)
                if current is not None and current.digest == fd.digest and (current.loading or not current.highlighted):
                    self.files[fd.path] = fd
                    published.append(fd.path)
            if published:
                self._emit(FilesChanged(tuple(published)))

    def _blobs(self, path: str) -> tuple[str | None, str | None]:
        fp = self.patches.get(path)
        return blob_ids(fp.chunk) if fp else (None, None)

    def _parse_many(self, files: list[FileDiff]) -> list[FileDiff]:
        return [build_file(self.patches[fd.path]) if fd.path in self.patches else fd for fd in files]

    async def _size(self, fp: FilePatch) -> int | None:
        if self.resolved is not None and self.resolved.target.kind == "worktree":
            try:
                return os.lstat(self.repo.root / fp.path).st_size
            except OSError:
                return None
        return await self.repo.blob_size(fp.entry.new_id if fp.entry.status != "D" else fp.entry.old_id)

    @property
    def loading(self) -> bool:
        """Some files are still summaries that the background task is parsing."""
        return any(fd.loading for fd in self.files.values())
