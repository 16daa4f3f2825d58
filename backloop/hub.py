"""Subscribers per view: a snapshot on connect, then per-file deltas against what each one last got.

Each subscriber keeps the FileDiff objects it was last sent; a change only marks paths dirty and wakes the
subscriber's sender, which compares and sends. Bursts coalesce on their own, and a slow client costs one dirty
set, never a growing queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import msgspec

from backloop.diff.model import FileDiff
from backloop.git.repo import Repo
from backloop.git.watch import RepoWatcher
from backloop.live import DiffView, ViewUnavailable
from backloop.protocol import (
    CommentChanged,
    FileChanged,
    FileRemoved,
    Notice,
    ReviewChanged,
    ServerMessage,
    Snapshot,
    encode,
)
from backloop.review.anchor import reanchor
from backloop.review.model import Comment
from backloop.review.session import Review, Reviews
from backloop.review.store import StoreError
from backloop.viewspec import ViewSpec

log = logging.getLogger(__name__)

Send = Callable[[str], Awaitable[None]]
NOTICE_KEY = "\0notice"
STATE_KEY = "\0state"
MAX_REPLIES = 256
"""Replies (lines, pong, error) waiting for a slow client beyond this are dropped, oldest first."""
SNAPSHOT_LINES = 300
"""Hunks of the first files up to this many lines go in the snapshot; later files follow as ``file`` messages,
so a client can paint the top of a huge diff before all of it has arrived. About three screens: the page paints
two before anything else, and each highlighted line is some 400 bytes to send and parse (a big diff's snapshot
went from 0.94 to 0.35 MB when this was lowered from 2,000, and its first paint came some 40 ms sooner)."""
VIEW_LINGER_S = 30.0
"""A view with no subscribers keeps computing this long, so a reload finds it warm."""


class Subscriber:
    def __init__(self, review: Review, view: DiffView, send: Send) -> None:
        self.review = review
        self.view = view
        self.send = send
        self.comments_dirty: set[str] = set()
        self.streaming: set[str] = set()
        self.sent: dict[str, FileDiff] = {}
        self.dirty: set[str] = set()
        self.forced: set[str] = set()
        self.full: dict[str, FileDiff] = {}
        self.replies: deque[ServerMessage] = deque(maxlen=MAX_REPLIES)
        self.wake = asyncio.Event()
        self.sent_notice: tuple[str, str] | None = None

    def mark(self, paths: Iterable[str]) -> None:
        self.dirty.update(paths)
        self.wake.set()

    def mark_review(self, comment_ids: Iterable[str], state: bool) -> None:
        self.comments_dirty.update(comment_ids)
        if state:
            self.dirty.add(STATE_KEY)
        self.wake.set()

    def reply(self, message: ServerMessage) -> None:
        self.replies.append(message)
        self.wake.set()

    def force(self, fd: FileDiff) -> None:
        """Send the full version of a too-large file to this subscriber from now on."""
        self.forced.add(fd.path)
        self.full[fd.path] = fd
        self.mark([fd.path])

    def _wire(self, path: str) -> FileDiff | None:
        current = self.view.files.get(path)
        if current is not None and path in self.forced and current.too_large:
            full = self.full.get(path)
            if full is not None and full.digest == current.digest:
                return full
        return current

    def _notice(self) -> Notice | None:
        view = self.view
        if view.error is not None:
            state = ("error", view.error)
        elif view.warning:
            state = ("warning", view.warning)
        else:
            state = ("ok", "")
        if state == self.sent_notice or (self.sent_notice is None and state[0] == "ok"):
            self.sent_notice = state
            return None
        self.sent_notice = state
        return Notice(level=state[0], message=state[1])  # type: ignore[arg-type]

    async def pump(self) -> None:
        """Send replies and deltas as they come; runs until cancelled or the socket fails."""
        await self.view.ready.wait()
        notice = self._notice()
        if notice is not None:
            await self.send(encode(notice))
        files = [fd for fd in (self._wire(p) for p in self.view.ordered()) if fd is not None]
        self.sent = {fd.path: fd for fd in files}
        self.dirty.clear()
        self.comments_dirty.clear()
        budget = SNAPSHOT_LINES
        for i, fd in enumerate(files):
            lines = sum(len(h.lines) for h in fd.hunks)
            if lines > budget and fd.hunks:
                files[i] = msgspec.structs.replace(fd, hunks=[], loading=True)
                self.streaming.add(fd.path)  # sent as a stub: the loop below sends the full one
                self.dirty.add(fd.path)
                budget = 0
            else:
                budget -= lines
        await self.send(encode(Snapshot(files=files, comments=list(self.review.comments.values()))))
        if self.dirty and not any(fd.loading for fd in self.view.files.values()):
            # A view still parsing wakes us when it is done (and the stubs follow in order, with the rest); a
            # complete one may never change again: send the stubs' files now.
            self.wake.set()
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.replies:
                await self.send(encode(self.replies.popleft()))
            if STATE_KEY in self.dirty:
                self.dirty.discard(STATE_KEY)
                await self.send(encode(ReviewChanged(state=self.review.state, agent=self.review.agent)))
            while self.comments_dirty:
                comment = self.review.comments.get(self.comments_dirty.pop())
                if comment is not None:
                    await self.send(encode(CommentChanged(comment=comment)))
            if NOTICE_KEY in self.dirty:
                self.dirty.discard(NOTICE_KEY)
                notice = self._notice()
                if notice is not None:
                    await self.send(encode(notice))
            while self.dirty:
                path = min(self.dirty)
                self.dirty.discard(path)
                await self._send_path(path)
                # send() returns without waiting while the socket takes everything (loopback): let the rest of
                # the server run between files, or a long stream holds up every other request until its end
                await asyncio.sleep(0)

    async def _send_path(self, path: str) -> None:
        wire = self._wire(path)
        if wire is None:
            if self.sent.pop(path, None) is not None:
                await self.send(encode(FileRemoved(path=path)))
            return
        if self.sent.get(path) is wire and path not in self.streaming:
            return
        self.streaming.discard(path)
        self.sent[path] = wire
        await self.send(encode(FileChanged(file=wire)))


@dataclass
class _ViewEntry:
    view: DiffView
    task: asyncio.Task[None]
    subscribers: set[Subscriber] = field(default_factory=set)
    unsubscribe_watch: Callable[[], None] | None = None
    linger: asyncio.TimerHandle | None = None


class Hub:
    """All live views of all reviews of one repository set; one watcher per repository."""

    def __init__(self, reviews: Reviews) -> None:
        self.reviews = reviews
        self._views: dict[tuple[str, ViewSpec], _ViewEntry] = {}
        self._watchers: dict[str, tuple[RepoWatcher, asyncio.Task[None]]] = {}
        self._anchoring: set[asyncio.Task[None]] = set()
        reviews.listen(self._review_changed)

    def _review_changed(self, review_id: str, comment_ids: list[str], state: bool) -> None:
        for (rid, _), entry in self._views.items():
            if rid == review_id:
                for sub in entry.subscribers:
                    sub.mark_review(comment_ids, state)

    def _watcher(self, repo: Repo) -> RepoWatcher:
        key = str(repo.root)
        if key not in self._watchers:
            watcher = RepoWatcher(repo.root, repo.git_dir)
            self._watchers[key] = (watcher, asyncio.create_task(watcher.run()))
        return self._watchers[key][0]

    async def view(self, review: Review, spec: ViewSpec) -> DiffView:
        """The running view for this spec, started if needed (and kept warm for a while after use)."""
        key = (review.id, spec.diff_key())
        entry = self._views.get(key)
        if entry is None:
            view = DiffView(review.repo, spec.diff_key())
            watcher = self._watcher(review.repo)
            unsubscribe = watcher.subscribe(view.poke)
            await watcher.started.wait()  # changes after our first snapshot must not be missed
            entry = self._views.get(key)
            if entry is not None:  # another caller started it meanwhile
                unsubscribe()
            else:
                entry = _ViewEntry(view, asyncio.create_task(view.run()), unsubscribe_watch=unsubscribe)
                self._views[key] = entry
                if spec.diff_key() == review.view.diff_key():
                    view.listen(lambda paths: self._reanchor(review, view, paths))
        if entry.linger is not None:
            entry.linger.cancel()
            entry.linger = None
        if not entry.subscribers:
            self._arm_linger(key, entry)
        return entry.view

    def _arm_linger(self, key: tuple[str, ViewSpec], entry: _ViewEntry) -> None:
        entry.linger = asyncio.get_running_loop().call_later(VIEW_LINGER_S, self._drop, key)

    def _drop(self, key: tuple[str, ViewSpec]) -> None:
        entry = self._views.get(key)
        if entry is None or entry.subscribers:
            return
        del self._views[key]
        entry.task.cancel()
        if entry.unsubscribe_watch:
            entry.unsubscribe_watch()

    def _reanchor(self, review: Review, view: DiffView, paths: Iterable[str]) -> None:
        """Keep open new-side comments on their code when their file changes (the review's own view only)."""
        changed = set(paths)
        targets = [c for c in review.comments.values()
                   if c.path in changed and c.line is not None and c.side == "new" and c.state == "open"]
        if targets:
            task = asyncio.create_task(self._reanchor_now(review, view, targets))
            self._anchoring.add(task)
            task.add_done_callback(self._anchoring.discard)

    async def _reanchor_now(self, review: Review, view: DiffView, comments: list[Comment]) -> None:
        contents: dict[str, list[str] | None] = {}
        for comment in comments:
            assert comment.path is not None and comment.line is not None
            if comment.path not in contents:
                try:
                    data = await view.read_side(comment.path, "new")
                    contents[comment.path] = data.decode("utf-8", "replace").splitlines()
                except ViewUnavailable:
                    contents[comment.path] = None
            lines = contents[comment.path]
            line = None if lines is None else reanchor(comment.quoted, comment.line, lines)
            try:
                await self.reviews.set_comment_anchor(review, comment.id, line, outdated=line is None)
            except StoreError as exc:  # (a full disk): the comment keeps its old place; the next change retries
                log.warning("could not move comment %s: %s", comment.id, exc)

    @contextlib.asynccontextmanager
    async def subscribe(self, review: Review, spec: ViewSpec, send: Send) -> AsyncIterator[Subscriber]:
        view = await self.view(review, spec)
        key = (review.id, spec.diff_key())
        entry = self._views[key]
        if entry.linger is not None:
            entry.linger.cancel()
            entry.linger = None
        sub = Subscriber(review, view, send)
        entry.subscribers.add(sub)
        stop_listening = view.listen(sub.mark)
        try:
            yield sub
        finally:
            stop_listening()
            entry.subscribers.discard(sub)
            if not entry.subscribers and self._views.get(key) is entry:
                self._arm_linger(key, entry)

    def subscriber_count(self) -> int:
        return sum(len(e.subscribers) for e in self._views.values())

    async def close(self) -> None:
        for entry in self._views.values():
            entry.task.cancel()
            if entry.linger:
                entry.linger.cancel()
        for watcher, task in self._watchers.values():
            watcher.stop()
            task.cancel()
        tasks = [e.task for e in self._views.values()] + [t for _, t in self._watchers.values()]
        await asyncio.gather(*tasks, return_exceptions=True)
        self._views.clear()
        self._watchers.clear()
