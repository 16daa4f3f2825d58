"""Rounds: a review's numbered looks. A round ends when the person submits a review, requests changes or approves,
and when the agent, having received items, waits again (its fixes are done). At that moment the content of every
file of the review's own view is recorded (blobs.py, in the state directory; the store keeps path → blob), so that
a later look can show what changed since (diff/since.py).

Recording runs off the event loop: the contents are read and written in worker threads, and the loop only walks
the view's list of paths. The rounds of a review are recorded one after the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING

from backloop.diff.since import GITLINK, Baseline, current_contents, moved_away
from backloop.diff.view import DiffView
from backloop.diff.views import Views
from backloop.review.blobs import BlobStore
from backloop.review.model import Author, RoundInfo
from backloop.review.store import RoundRow, Store
from backloop.viewspec import ViewSpec

if TYPE_CHECKING:
    from backloop.review.session import Review

log = logging.getLogger(__name__)
BLOBS = "blobs"
"""The directory of recorded contents, beside the database in the state directory."""

class Rounds:
    def __init__(self, store: Store, lookup: Callable[[str], Review | None], ended: Callable[[str], None]) -> None:
        """``lookup``: a review by id; ``ended(review_id)`` is called when a round of it ended."""
        self.store = store
        self.blobs = BlobStore(store.path.parent / BLOBS)
        self.views: Views | None = None
        """The running views (wired by runtime.py); without them a round computes its view once to record it."""
        self._lookup = lookup
        self._ended = ended
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, review_id: str) -> asyncio.Lock:
        return self._locks.setdefault(review_id, asyncio.Lock())

    async def end(self, review: Review, by: Author, how: str, cause: str | None = None) -> RoundInfo | None:
        """End the current round: record it, tell the listeners. None when there is nothing to end: the agent
        received nothing since the last round ended, or the round ``cause`` (an entry id) ends has ended already."""
        async with self._lock(review.id):
            if by == "agent" and not review.agent_received:
                return None
            if cause is not None:
                ended = next((r for r in await self.store.rounds(review.id) if r.cause == cause), None)
                if ended is not None:
                    return review.rounds[ended.number - 1]
            number = len(review.rounds) + 1
            review.round = number + 1  # what is said from now on belongs to the next round
            try:
                base, files = await self._record(review)
                info = RoundInfo(number=number, ended_at=time.time(), ended_by=by, how=how)
                await self.store.add_round(review.id, RoundRow(number, info.ended_at, by, how, base, cause), files)
            except BaseException:
                review.round = number
                raise
            review.rounds.append(info)
            review.agent_received = False
        self._ended(review.id)
        return info

    async def settled(self, review_id: str) -> None:
        """Until the round that is being recorded (if any) is recorded."""
        async with self._lock(review_id):
            pass

    async def _record(self, review: Review) -> tuple[str, dict[str, str | None]]:
        """The old side's commit and path → blob name of every file of the review's own view."""
        async with self._own_view(review) as view:
            if view.resolved is None:  # (it cannot be computed: there is nothing to record)
                return "", {}
            paths = [p for p, fp in view.patches.items() if GITLINK not in (fp.entry.old_mode, fp.entry.new_mode)]
            contents = await current_contents(view, paths)
            contents.update(dict.fromkeys(moved_away(view)))
            return view.resolved.base, await asyncio.to_thread(self._put_all, contents)

    def _put_all(self, contents: Mapping[str, bytes | None]) -> dict[str, str | None]:
        """(worker thread)"""
        return {path: None if data is None else self.blobs.put(data) for path, data in contents.items()}

    @contextlib.asynccontextmanager
    async def _own_view(self, review: Review) -> AsyncIterator[DiffView]:
        if self.views is not None:
            async with self.views.use(review.id, review.repo, review.view) as view:
                await view.ready.wait()
                yield view
            return
        view = DiffView(review.repo, review.view.diff_key())
        task = asyncio.create_task(view.run())
        try:
            await view.ready.wait()
            yield view
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def baseline(self, review_id: str, number: int) -> Baseline:
        """What was recorded at the end of round ``number`` of a review; LookupError when it has not ended."""
        review = self._lookup(review_id)
        if review is None or not 1 <= number <= len(review.rounds):
            raise LookupError(f"round {number} of this review has not ended")
        row = (await self.store.rounds(review_id))[number - 1]
        files = await self.store.round_files(review_id, number)
        info = review.rounds[number - 1]
        return Baseline(number=number, files=files, base=row.base, read=self.blobs.get,
                        label=f"round {number} ({info.how})")


def round_problem(review: Review, spec: ViewSpec) -> str | None:
    """Why a view with ``round=N`` cannot be shown, if it cannot: the round has not ended, or the view is not the
    review's own (whose files were recorded)."""
    assert spec.round is not None
    if spec.round > len(review.rounds):
        ended = f"rounds 1 to {len(review.rounds)} have" if review.rounds else "no round has"
        return f"round={spec.round}: {ended} ended in this review"
    own = review.view
    if (spec.since, spec.commit, spec.range, spec.live) != (own.since, own.commit, own.range, own.live):
        return f"round=N shows the changes in the review's own view ({own.query()}) only"
    return None
