"""The running views: one DiffView per (owner, view spec), fed by one watcher per repository; a view nobody uses
keeps computing for a while, so that a reload finds it warm. A view of the changes since a round (diff/since.py)
follows the owner's view without ``round``, which it keeps running."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from backloop.diff.since import Baseline, SinceView
from backloop.diff.view import DiffView
from backloop.git.repo import Repo
from backloop.git.watch import RepoWatcher
from backloop.viewspec import ViewSpec

VIEW_LINGER_S = 30.0
"""A view with no users keeps computing this long."""

Key = tuple[str, ViewSpec]
Started = Callable[[str, DiffView], None]
"""(owner, view): told of each view when it starts."""
Baselines = Callable[[str, int], Awaitable[Baseline]]
"""(owner, round number) → what was recorded at the end of that round; raises when there is no such round."""


@dataclass
class _Running:
    view: DiffView
    task: asyncio.Task[None]
    unwatch: Callable[[], None]
    users: int = 0
    linger: asyncio.TimerHandle | None = None


class Views:
    def __init__(self, baselines: Baselines | None = None) -> None:
        self.baselines = baselines
        self._running: dict[Key, _Running] = {}
        self._watchers: dict[str, tuple[RepoWatcher, asyncio.Task[None]]] = {}
        self._started: list[Started] = []

    def on_start(self, callback: Started) -> None:
        self._started.append(callback)

    async def get(self, owner: str, repo: Repo, spec: ViewSpec) -> DiffView:
        """The running view of ``spec`` for ``owner`` (a review), started if needed; only its diff part counts
        (the layout is presentation)."""
        key = (owner, spec.diff_key())
        running = self._running.get(key)
        if running is None and key[1].round is not None:
            running = await self._start_since(owner, repo, key)
        elif running is None:
            view = DiffView(repo, key[1])
            watcher = self._watcher(repo)
            unwatch = watcher.subscribe(view.poke)
            await watcher.started.wait()  # changes after our first snapshot must not be missed
            running = self._running.get(key)
            if running is not None:  # another caller started it meanwhile
                unwatch()
            else:
                running = _Running(view, asyncio.create_task(view.run()), unwatch)
                self._running[key] = running
                for callback in list(self._started):
                    callback(owner, view)
        if running.users == 0:
            self._arm_linger(key, running)
        return running.view

    async def _start_since(self, owner: str, repo: Repo, key: Key) -> _Running:
        spec = key[1]
        assert spec.round is not None
        if self.baselines is None:
            raise LookupError("rounds are not recorded here")
        baseline = await self.baselines(owner, spec.round)
        whole = (owner, spec.whole())
        base = await self.get(owner, repo, whole[1])
        self._hold(whole)
        running = self._running.get(key)
        if running is not None:  # another caller started it meanwhile
            self._release(whole)
            return running
        view = SinceView(base, spec, baseline)

        def stop() -> None:
            view.close()
            self._release(whole)

        running = _Running(view, asyncio.create_task(view.run()), stop)
        self._running[key] = running
        for callback in list(self._started):
            callback(owner, view)
        return running

    def _hold(self, key: Key) -> None:
        running = self._running[key]
        self._disarm(running)
        running.users += 1

    def _release(self, key: Key) -> None:
        running = self._running.get(key)
        if running is None:
            return
        running.users -= 1
        if running.users == 0:
            self._arm_linger(key, running)

    @contextlib.asynccontextmanager
    async def use(self, owner: str, repo: Repo, spec: ViewSpec) -> AsyncIterator[DiffView]:
        """The view, kept running at least while the block runs."""
        view = await self.get(owner, repo, spec)
        key = (owner, spec.diff_key())
        running = self._running[key]
        self._hold(key)
        try:
            yield view
        finally:
            if self._running.get(key) is running:
                self._release(key)
            else:
                running.users -= 1

    def _watcher(self, repo: Repo) -> RepoWatcher:
        key = str(repo.root)
        if key not in self._watchers:
            watcher = RepoWatcher(repo.root, repo.git_dir)
            self._watchers[key] = (watcher, asyncio.create_task(watcher.run()))
        return self._watchers[key][0]

    def _arm_linger(self, key: Key, running: _Running) -> None:
        self._disarm(running)
        running.linger = asyncio.get_running_loop().call_later(VIEW_LINGER_S, self._drop, key)

    @staticmethod
    def _disarm(running: _Running) -> None:
        if running.linger is not None:
            running.linger.cancel()
            running.linger = None

    def _drop(self, key: Key) -> None:
        running = self._running.get(key)
        if running is None or running.users:
            return
        del self._running[key]
        running.task.cancel()
        running.unwatch()

    async def close(self) -> None:
        for running in self._running.values():
            running.task.cancel()
            self._disarm(running)
        for watcher, task in self._watchers.values():
            watcher.stop()
            task.cancel()
        tasks = [r.task for r in self._running.values()] + [t for _, t in self._watchers.values()]
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
        self._watchers.clear()
