"""Fan-out: every client subscribed to a view of a review, its queue of replies, and the loop that sends it what
its delta (diff/delta.py) decides, as protocol messages.

Backpressure: a client's replies are a bounded queue, and its changes are one coalescing delta, so a slow client
costs memory bounded by the view, never a growing backlog; ``send`` blocks only that client's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import msgspec

from backloop.diff.delta import (
    Change,
    ClientDelta,
    SendFile,
    SendNotice,
    SendRounds,
    SendState,
    SendThread,
    SendViewed,
)
from backloop.diff.model import FileDiff
from backloop.diff.view import DiffView, ViewEvent
from backloop.diff.views import Views
from backloop.protocol import (
    CommentChanged,
    CommentRemoved,
    FileChanged,
    FileRemoved,
    Notice,
    ReviewChanged,
    RoundsChanged,
    ServerMessage,
    Snapshot,
    ViewedChanged,
    encode,
)
from backloop.review.session import Review, ReviewEvent, Reviews, RoundEnded, ThreadChanged
from backloop.review.viewed import Viewed
from backloop.viewspec import ViewSpec

Send = Callable[[str], Awaitable[None]]
MAX_REPLIES = 256
"""Replies (lines, pong, error) waiting for a slow client beyond this are dropped, oldest first."""


class Subscriber:
    """One client of one view of a review."""

    def __init__(self, review: Review, view: DiffView, send: Send, marks: Viewed,
                 changed_since_review: Callable[[], int | None] = lambda: None) -> None:
        self.review = review
        self.view = view
        self.marks = marks
        self.send = send
        self.changed_since_review = changed_since_review
        self._rounds_sent: RoundsChanged | None = None
        self.delta = ClientDelta(view)
        self.replies: deque[ServerMessage] = deque(maxlen=MAX_REPLIES)
        self.wake = asyncio.Event()

    def on_view(self, event: ViewEvent) -> None:
        self.delta.on_view(event)
        self.wake.set()

    def on_rounds(self) -> None:
        self.delta.on_rounds()
        self.wake.set()

    def on_review(self, event: ReviewEvent) -> None:
        if isinstance(event, ThreadChanged):
            self.delta.on_thread(event.comment_id)
        elif isinstance(event, RoundEnded):
            self.delta.on_rounds()
        else:
            self.delta.on_state()
        self.wake.set()

    def on_viewed(self, paths: list[str]) -> None:
        self.delta.on_viewed(paths)
        self.wake.set()

    def reply(self, message: ServerMessage) -> None:
        self.replies.append(message)
        self.wake.set()

    def load(self, fd: FileDiff) -> None:
        """Send the complete version of a ``too_large`` file to this client from now on."""
        self.delta.load(fd)
        self.wake.set()

    async def pump(self) -> None:
        """Send the snapshot, then replies and changes as they come; runs until cancelled or the socket fails."""
        await self.view.ready.wait()
        snapshot = self.delta.snapshot()
        if snapshot.notice is not None:
            await self.send(encode(Notice(level=snapshot.notice.level, message=snapshot.notice.message)))
        await self.send(encode(Snapshot(files=snapshot.files, comments=list(self.review.comments.values()))))
        viewed = self.marks.files(self.review.id)
        if viewed:
            await self.send(encode(ViewedChanged(files=viewed)))
        if self.delta.owes_stubs_now:
            self.wake.set()
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.replies:
                await self.send(encode(self.replies.popleft()))
            while (change := self.delta.next()) is not None:
                message = self._message(change)
                if message is None:
                    continue
                await self.send(encode(message))
                if isinstance(message, FileChanged):
                    # send() returns without waiting while the socket takes everything (loopback): let the rest of
                    # the server run between files, or a long stream holds up every other request until its end
                    await asyncio.sleep(0)

    def _message(self, change: Change) -> ServerMessage | None:
        if isinstance(change, SendState):
            return ReviewChanged(state=self.review.state, agent=self.review.agent)
        if isinstance(change, SendRounds):
            review = self.review
            rounds = RoundsChanged(current=review.round, rounds=list(review.rounds), last_review=review.last_review,
                                   changed_since_review=self.changed_since_review())
            if rounds == self._rounds_sent:
                return None
            self._rounds_sent = rounds
            return rounds
        if isinstance(change, SendThread):
            comment = self.review.comments.get(change.comment_id)
            return CommentChanged(comment=comment) if comment is not None else CommentRemoved(id=change.comment_id)
        if isinstance(change, SendViewed):
            return ViewedChanged(files=self.marks.files(self.review.id, list(change.paths)))
        if isinstance(change, SendNotice):
            return Notice(level=change.notice.level, message=change.notice.message)
        if isinstance(change, SendFile):
            return FileChanged(file=change.file)
        return FileRemoved(path=change.path)


class Hub:
    """The subscribers of every review's views; the views themselves come from ``views``."""

    def __init__(self, reviews: Reviews, views: Views) -> None:
        self.views = views
        self.marks = reviews.viewed
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._counting: dict[str, _Counting] = {}
        self._count_locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        reviews.listen(self._review_changed)
        reviews.viewed.listen(self._viewed_changed)

    def _review_changed(self, event: ReviewEvent) -> None:
        for sub in self._subscribers.get(event.review_id, ()):
            sub.on_review(event)
        if isinstance(event, RoundEnded) and event.review_id in self._subscribers:
            review = next(iter(self._subscribers[event.review_id])).review
            self._spawn(self._count(review))

    def _viewed_changed(self, review_id: str, paths: list[str]) -> None:
        for sub in self._subscribers.get(review_id, ()):
            sub.on_viewed(paths)

    @contextlib.asynccontextmanager
    async def subscribe(self, review: Review, spec: ViewSpec, send: Send) -> AsyncIterator[Subscriber]:
        async with contextlib.AsyncExitStack() as using:
            view = await using.enter_async_context(self.views.use(review.id, review.repo, spec))
            if view.spec != review.view.diff_key():
                # The review's own view runs too while anyone looks at the review in another: comments follow
                # their code and viewed files come back when they change only as that view sees it.
                await using.enter_async_context(self.views.use(review.id, review.repo, review.view))
            sub = Subscriber(review, view, send, self.marks, lambda: self.changed_since_review(review))
            subscribers = self._subscribers.setdefault(review.id, set())
            subscribers.add(sub)
            stop_listening = view.listen(sub.on_view)
            self._spawn(self._count(review))
            try:
                yield sub
            finally:
                stop_listening()
                subscribers.discard(sub)
                if not subscribers and self._subscribers.get(review.id) is subscribers:
                    del self._subscribers[review.id]
                    await self._count(review)

    # ---- how many files changed since the person's last review ----------------------------------------------------

    def changed_since_review(self, review: Review) -> int | None:
        """Files of the view of the changes since the review's last review that are not unchanged; None while that
        is not known (no last review, or its view not computed yet)."""
        counting = self._counting.get(review.id)
        if counting is None or counting.number != review.last_review or not counting.view.ready.is_set():
            return None
        return sum(1 for fd in counting.view.files.values() if not fd.unchanged)

    async def _count(self, review: Review) -> None:
        """Keep the view of the changes since the review's last review running while the review has clients, and
        tell them its count whenever it changes."""
        async with self._count_locks.setdefault(review.id, asyncio.Lock()):
            number = review.last_review if review.id in self._subscribers else None
            counting = self._counting.get(review.id)
            if counting is not None and counting.number == number:
                return
            if counting is not None:
                del self._counting[review.id]
                await counting.stack.aclose()
            if number is None:
                return
            stack = contextlib.AsyncExitStack()
            spec = msgspec.structs.replace(review.view, round=number)
            view = await stack.enter_async_context(self.views.use(review.id, review.repo, spec))
            stack.callback(view.listen(lambda _: self._counted(review.id)))
            self._counting[review.id] = _Counting(number, view, stack)
        await view.ready.wait()
        self._counted(review.id)

    def _counted(self, review_id: str) -> None:
        for sub in self._subscribers.get(review_id, ()):
            sub.on_rounds()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


@dataclass
class _Counting:
    number: int
    view: DiffView
    stack: contextlib.AsyncExitStack
