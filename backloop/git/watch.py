"""watchfiles → batches of changed work-tree paths, plus whether git's own state (HEAD, refs, index) changed.

``.git/`` churn (objects, logs, locks) is dropped here; only the files that decide what a diff shows count as a
git change. Ignored paths are dropped by the views, which learn them from git.

watchfiles' blocking ``watch()`` runs in a thread of its own that hands each batch to the event loop: its
``awatch()`` starts a worker-thread call per batch and per idle timeout and needs one more step per batch to
notice it, which adds to the save-to-screen latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from watchfiles import Change, watch

from backloop.git.repo import common_dir

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
_RECOMPUTE_FILES = frozenset({".gitignore", ".gitattributes"})
"""Work-tree files that change what every other file's diff shows: which files are untracked (ignore rules), and
how git reads and compares them (attributes: binary, line endings, filters, diff drivers)."""

STEP_MS = 2
"""watchfiles looks for events this often, and hands a batch on once a look finds no new ones: a save waits 1-2
steps (the floor of our latency). Each look takes the GIL for a moment: about 2 % of a core while idle at 1 ms,
1 % at 2 ms. A burst that pauses longer than a step comes in several batches, which is only more work: views
coalesce what arrives while they compute."""
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


def classify(root: Path, git_dir: Path, changes: Iterable[tuple[Change, str]], common: Path) -> tuple[set[str], bool]:
    """Split raw events into work-tree paths (relative, '/'-separated) and a git-state flag. ``common`` is the
    common dir (``git_dir`` itself unless ``git_dir`` is a linked worktree's)."""
    paths: set[str] = set()
    git_changed = False
    root_s = str(root) + "/"
    git_s = str(git_dir) + "/"
    common_s = str(common) + "/" if common != git_dir else None
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
        if rel.rsplit("/", 1)[-1] in _RECOMPUTE_FILES:
            git_changed = True  # what is ignored, or how files are diffed, changed: recompute everything
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
        self._halt = threading.Event()
        """Stops the running watch thread (set by stop() and when the watch ends for any reason)."""
        self._delivered = False
        self.started = asyncio.Event()

    def subscribe(self, callback: Batch) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def stop(self) -> None:
        self._stop.set()
        self._halt.set()

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
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[None] = loop.create_future()
        halt = self._halt = threading.Event()
        if self._stop.is_set():
            return
        thread = threading.Thread(target=self._pump, args=(watched, loop, ended, halt, resync),
                                  name="backloop-watch", daemon=True)
        thread.start()
        try:
            await ended
        finally:
            halt.set()

    def _pump(self, watched: list[Path], loop: asyncio.AbstractEventLoop, ended: asyncio.Future[None],
              halt: threading.Event, resync: bool) -> None:
        """The watch thread: batches to the event loop until ``halt``; then ``ended`` gets the outcome."""
        outcome: BaseException | None = None
        try:
            first = True
            for changes in watch(*watched, watch_filter=None, step=STEP_MS, debounce=DEBOUNCE_MS, stop_event=halt,
                                 yield_on_timeout=True, rust_timeout=FIRST_YIELD_MS, raise_interrupt=False,
                                 ignore_permission_denied=True):
                if first:
                    first = False
                    loop.call_soon_threadsafe(self._begin, resync)
                if changes:
                    paths, git_changed = classify(self.root, self.git_dir, changes, self.common_dir)
                    if paths or git_changed:
                        loop.call_soon_threadsafe(self._batch, paths, git_changed)
        except BaseException as exc:  # handed to the event loop, which restarts the watch
            outcome = exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_settle, ended, outcome)

    def _begin(self, resync: bool) -> None:
        self.started.set()
        if resync:
            self._deliver(set(), True)

    def _batch(self, paths: set[str], git_changed: bool) -> None:
        self._delivered = True
        self._deliver(paths, git_changed)

    def _deliver(self, paths: set[str], git_changed: bool) -> None:
        for callback in list(self._subscribers):
            callback(paths, git_changed)


def _settle(future: asyncio.Future[None], outcome: BaseException | None) -> None:
    if future.done():
        return
    if outcome is None:
        future.set_result(None)
    else:
        future.set_exception(outcome)
