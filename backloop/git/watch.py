"""watchfiles → batches of changed work-tree paths, plus whether git's own state (HEAD, refs, index) changed.

``.git/`` churn (objects, logs, locks) is dropped here; only the files that decide what a diff shows count as a
git change. Ignored paths are dropped by the views, which learn them from git.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from watchfiles import Change, awatch

log = logging.getLogger(__name__)

Batch = Callable[[set[str], bool], None]

# Files under the git dir whose change means "recompute everything".
_GIT_FILES = frozenset({"HEAD", "index", "packed-refs", "MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD",
                        "info/exclude"})
_GIT_DIRS = ("refs/", "rebase-merge/", "rebase-apply/")
"""(A rebase's own state too: its end must be seen even when HEAD was written before the state was removed.)"""
# In the common dir of a linked worktree (the main .git): what all worktrees share.
_COMMON_FILES = frozenset({"packed-refs", "info/exclude"})
_SKIP_DIRS = frozenset({".git"})

STEP_MS = 3
"""How long the watcher waits for more events after one arrives: the floor of our latency."""
DEBOUNCE_MS = 200
"""The longest a burst of events is collected before it is handed on."""
FIRST_YIELD_MS = 50
"""With no events, watchfiles yields (an empty batch) this often. The first yield tells that the watches are in
place (``started``), which a new view waits for before its first snapshot: this is part of the first page load."""


def _submodule_state(rel: str) -> bool:
    """HEAD or refs of a submodule's git dir (``modules/NAME/...``): a commit or checkout inside a submodule,
    which changes the commit the superproject's diff shows for it."""
    if not rel.startswith("modules/") or "/logs/" in rel:
        return False
    return rel.endswith(("/HEAD", "/packed-refs")) or "/refs/" in rel


def common_dir(git_dir: Path) -> Path:
    """The directory with the refs shared by all worktrees: for a linked worktree's git dir
    (``.git/worktrees/NAME``, which has a ``commondir`` file) the main ``.git``; otherwise ``git_dir`` itself."""
    try:
        rel = (git_dir / "commondir").read_text().strip()
    except OSError:
        return git_dir
    return (git_dir / rel).resolve() if rel else git_dir


def classify(root: Path, git_dir: Path, changes: Iterable[tuple[Change, str]],
             common: Path | None = None) -> tuple[set[str], bool]:
    """Split raw events into work-tree paths (relative, '/'-separated) and a git-state flag."""
    paths: set[str] = set()
    git_changed = False
    root_s = str(root) + "/"
    git_s = str(git_dir) + "/"
    common_s = str(common) + "/" if common is not None and common != git_dir else None
    for _change, raw in changes:
        if raw.startswith(git_s):
            rel = raw[len(git_s):]
            if rel.endswith(".lock"):
                continue
            if rel in _GIT_FILES or rel.startswith(_GIT_DIRS) or _submodule_state(rel):
                git_changed = True
            continue
        if common_s is not None and raw.startswith(common_s):
            rel = raw[len(common_s):]
            if not rel.endswith(".lock") and (rel in _COMMON_FILES or rel.startswith(_GIT_DIRS)
                                              or _submodule_state(rel)):
                git_changed = True
            continue
        if not raw.startswith(root_s):
            continue
        rel = raw[len(root_s):]
        if rel.split("/", 1)[0] in _SKIP_DIRS:
            continue
        if rel == ".gitignore" or rel.endswith("/.gitignore"):
            git_changed = True  # what is ignored changed: recompute the untracked set
        paths.add(rel)
    return paths, git_changed


class RepoWatcher:
    """Watches one repository and hands batches to every subscriber."""

    def __init__(self, root: Path, git_dir: Path) -> None:
        self.root = root
        self.git_dir = git_dir
        self.common_dir = common_dir(git_dir)
        self._subscribers: list[Batch] = []
        self._stop = asyncio.Event()
        self._delivered = False
        self.started = asyncio.Event()

    def subscribe(self, callback: Batch) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Watch until stopped.

        watchfiles gives up (raises) on any event whose path is not valid UTF-8, even when such a file was only
        read, as our own diffs do. The watch is then restarted, and once it runs again every subscriber is told to
        recompute in full, since the failed batch is lost. When a restart that asked for that recompute fails
        before anything else happened, the recompute's own reads are the likely cause: the next restart does not
        ask again, so that no loop starts. Failures in a row back off."""
        failures = 0
        resync = False
        while True:
            self._delivered = False
            try:
                await self._watch(resync)
                return
            except Exception as exc:
                if self._stop.is_set():
                    return
                self.started.set()  # nobody waits for a first batch that may never come
                own = resync and not self._delivered
                resync = not own
                failures = 1 if self._delivered else failures + 1
                log.warning("watching %s failed (%s); restarting", self.root, exc)
                if failures > 3:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), min(0.05 * 2 ** (failures - 4), 5.0))

    async def _watch(self, resync: bool) -> None:
        watched = [self.root]
        for extra in (self.common_dir, self.git_dir):
            if not any(extra.is_relative_to(w) for w in watched):
                watched.append(extra)
        gen = awatch(*watched, watch_filter=None, step=STEP_MS, debounce=DEBOUNCE_MS, stop_event=self._stop,
                     yield_on_timeout=True, rust_timeout=FIRST_YIELD_MS, ignore_permission_denied=True)
        first = True
        async for changes in gen:
            if first:
                self.started.set()
                first = False
                if resync:
                    self._deliver(set(), True)
            if not changes:
                continue
            paths, git_changed = classify(self.root, self.git_dir, changes, self.common_dir)
            if paths or git_changed:
                self._delivered = True
                self._deliver(paths, git_changed)

    def _deliver(self, paths: set[str], git_changed: bool) -> None:
        for callback in list(self._subscribers):
            callback(paths, git_changed)
