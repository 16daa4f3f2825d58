"""What the person (over the websocket) and the agent (over MCP) can do to a review, with the rules both fronts
share; the fronts only translate their messages into these calls and the results (or failures) back.

The rules:
- a review starts from exactly one of since (live), commit or range, in a repository where those revisions exist:
  a bad one fails before anything is stored;
- a comment is on a file of the diff the person sees, and keeps the code it is about, quoted from that diff;
- comments of a review the person has started are theirs alone (editable, deletable) until they submit it: then
  the agent gets all of them and the summary as one batch, and the round ends;
- a file is marked viewed for its diff in the review's own view, whichever view the person marked it in;
- files are opened and edited only in live views, and only files of the diff;
- a round ends when the person requests changes, approves or submits a review, and when the agent waits again
  after having received items; ``end_round`` is the one way to end one;
- a change that has begun is finished even if its caller is cancelled (an MCP call the agent cancels): the
  store's thread completes a write it has begun regardless, and the review in memory, which the page shows and the
  agent is handed, must follow it. (The websocket runs each request with ``detach``, so that a request whose socket
  closes is finished too.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from backloop.diff.resolve import resolve
from backloop.diff.sides import quote
from backloop.diff.view import DiffView
from backloop.diff.views import Views
from backloop.git.process import GitError
from backloop.git.repo import Repo
from backloop.review import pending
from backloop.review.model import Author, Comment, RoundInfo, Side, Verdict
from backloop.review.session import Review, ReviewError, Reviews
from backloop.review.store import StoreError
from backloop.viewspec import ViewSpec, parse_view

T = TypeVar("T")
log = logging.getLogger(__name__)


class ReviewService:
    def __init__(self, reviews: Reviews, views: Views | None = None) -> None:
        """``views``: the running views, for what needs the review's own view (marking files viewed)."""
        self.reviews = reviews
        self.views = views

    # ---- starting -------------------------------------------------------------------------------------------

    async def start(self, repo_path: Path, *, since: str | None = None, commit: str | None = None,
                    range: str | None = None, title: str | None = None, reuse_open: bool = False,
                    port: int | None = None) -> Review:
        """A new review of the repository at (or above) ``repo_path``; with ``reuse_open``, an open review of the
        same view instead, when there is one. ``port``: the web server's, when it already runs (stored with the new
        review, for whoever looks for its address in the state)."""
        review, _ = await self.open_or_start(repo_path, since=since, commit=commit, range=range, title=title,
                                             reuse_open=reuse_open, port=port)
        return review

    async def open_or_start(self, repo_path: Path, *, since: str | None = None, commit: str | None = None,
                            range: str | None = None, title: str | None = None, reuse_open: bool = True,
                            port: int | None = None) -> tuple[Review, bool]:
        """As ``start``; also says whether the review is one that was open already (not approved: its rounds go on),
        of this process or stored."""
        spec = _starting_view(since, commit, range)
        repo = await Repo.open(repo_path)
        await resolve(repo, spec)
        if reuse_open:
            await self.reviews.restore(repo.root)
            same = [r for r in self.reviews.all() if r.repo.root == repo.root and r.view == spec
                    and r.state != "approved"]
            if same:
                return same[-1], True
        return await _finish(self.reviews.create(repo, spec, title, port)), False

    # ---- the person, in a view of the review ------------------------------------------------------------------

    async def comment(self, review_id: str, shown: DiffView, client_id: str, *, path: str, body: str,
                      side: Side = "new", line: int | None = None, end_line: int | None = None,
                      pending: bool = False) -> Comment:
        """``pending``: part of the person's review, delivered when they submit it."""
        if path not in shown.files:
            raise ReviewError("not_in_diff", f"{path!r} is not part of this diff")
        quoted: list[str] = []
        if line is not None:
            quoted = await quote(shown, path, side, line, end_line if end_line is not None else line)
        return await _finish(self.reviews.comment(review_id, client_id, body=body, path=path, side=side, line=line,
                                                  end_line=end_line, quoted=quoted, pending=pending))

    async def edit_comment(self, review_id: str, client_id: str, comment_id: str, body: str) -> None:
        await _finish(pending.change(self.reviews, review_id, client_id, comment_id, body))

    async def delete_comment(self, review_id: str, client_id: str, comment_id: str) -> None:
        await _finish(pending.change(self.reviews, review_id, client_id, comment_id, None))

    async def submit_review(self, review_id: str, client_id: str, body: str, verdict: Verdict) -> str:
        """Returns the id of the submission (the same for a resent one)."""
        submission_id, _ = await _finish(pending.submit(self.reviews, review_id, client_id, body, verdict))
        # Also for a resent submission (the first may have been stored and its round not ended): ``cause`` ends it
        # once.
        await self.end_round(review_id, "person", SUBMITTED[verdict], cause=submission_id)
        return submission_id

    async def set_viewed(self, review_id: str, shown: DiffView, path: str, viewed: bool, *,
                         sent: str | None = None) -> None:
        """Mark ``path`` viewed (or not). ``sent``: the digest of the file as last sent to the person, when
        ``shown`` is the review's own view (what they saw may be older than what the view has now)."""
        review = self.reviews.require(review_id)
        own = shown
        if shown.spec != review.view.diff_key():
            if self.views is None:
                raise ReviewError("not_in_diff", "files are marked viewed in the review's own view")
            own = await self.views.get(review.id, review.repo, review.view)
            await own.ready.wait()
            sent = None  # (a digest of another diff)
        current = own.files.get(path)
        if current is None and viewed:
            raise ReviewError("not_in_diff", f"{path!r} is not part of this review's diff")
        digest = current.digest if current is not None else ""
        await _finish(self.reviews.viewed.set(review_id, path, viewed, seen=sent or digest, current=digest))

    async def request_changes(self, review_id: str, client_id: str, body: str) -> Comment:
        comment = await _finish(self.reviews.request_changes(review_id, client_id, body))
        await self.end_round(review_id, "person", "requested changes", cause=comment.id)
        return comment

    async def approve(self, review_id: str, client_id: str, body: str) -> str:
        """Returns the id of the approval."""
        approval_id = await _finish(self.reviews.approve(review_id, client_id, body))
        await self.end_round(review_id, "person", "approved", cause=approval_id)
        return approval_id

    # ---- rounds -------------------------------------------------------------------------------------------------

    async def end_round(self, review_id: str, by: Author, how: str, *, cause: str | None = None) -> RoundInfo | None:
        """End the review's current round, recording every file of its own view (the one way rounds end). ``how``
        says what ended it ("requested changes", "fixed"…); ``cause``, the entry that did, ends it only once. None
        when nothing ended: the agent received nothing since the last round, or ``cause`` ended one already. A
        round that cannot be recorded (the state directory is full…) is logged: what ended it was stored."""
        review = self.reviews.require(review_id)
        try:
            return await _finish(self.reviews.rounds.end(review, by, how, cause))
        except (StoreError, OSError, GitError) as exc:
            log.error("could not record the end of round %d of review %s: %s", review.round, review_id, exc)
            return None

    async def open_file(self, review_id: str, shown: DiffView, path: str) -> tuple[str, str]:
        """The work-tree text of ``path`` and its hash, for ``edit``."""
        _check_editable(shown, path)
        return await self.reviews.open_file(review_id, path)

    async def edit(self, review_id: str, shown: DiffView, client_id: str, path: str, base_hash: str,
                   content: str) -> str:
        """Write the person's edit; returns the id of the recorded edit (the same for a resent one)."""
        _check_editable(shown, path)
        return await _finish(self.reviews.edit(review_id, client_id, path, base_hash, content))

    async def apply_suggestions(self, review_id: str, shown: DiffView, client_id: str, ids: list[str]) -> str:
        """Apply the suggested changes of these comments or replies to the work tree; returns the id of the first
        recorded edit."""
        review = self.reviews.require(review_id)
        for source_id in ids:
            thread = self.reviews.thread_holding(review, source_id)
            if thread.pending:  # (the agent would be told of an edit that applies a comment it cannot see)
                raise ReviewError("pending_comment", "submit the review before applying its suggestions")
            _check_editable(shown, thread.path or "")
        return await _finish(self.reviews.apply_suggestions(review_id, client_id, ids))

    # ---- either side, in a thread -----------------------------------------------------------------------------

    def review_of_comment(self, comment_id: str) -> Review:
        return self.reviews.review_of_comment(comment_id)

    async def reply(self, review_id: str, comment_id: str, body: str, *, author: Author,
                    client_id: str | None = None) -> str:
        """Returns the id of the reply."""
        return await _finish(self.reviews.reply(review_id, client_id, comment_id, body, author=author))

    async def resolve(self, review_id: str, comment_id: str, *, author: Author, reply: str | None = None) -> Comment:
        """Resolve a thread, with a last reply when ``reply`` is given."""
        return await _finish(self.reviews.resolve(review_id, comment_id, reply, author=author))


SUBMITTED: dict[Verdict, str] = {"comment": "submitted a review", "request_changes": "requested changes",
                                 "approve": "approved"}
"""How a round ends when the person submits a review, by its verdict."""


def _starting_view(since: str | None, commit: str | None, range: str | None) -> ViewSpec:
    given = {name: value for name, value in (("since", since), ("commit", commit), ("range", range)) if value}
    if len(given) != 1:
        raise ReviewError("view_needed",
                          f"needs exactly one of since, commit or range (got {', '.join(given) or 'none'})")
    return parse_view({**given, "live": "true"} if since else given)


def _check_editable(shown: DiffView, path: str) -> None:
    if not shown.spec.live:
        raise ReviewError("not_live", "files can be edited only in live views (since=REV&live=true)")
    if path not in shown.files:
        raise ReviewError("edit_refused", f"{path!r} is not part of this review's diff")


_detached: set[asyncio.Task[Any]] = set()


def detach(work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Run ``work`` in a task that nothing cancels (a websocket request, which runs on when its socket closes), kept
    until it ends: the event loop holds tasks only weakly."""
    task = asyncio.ensure_future(work)
    _detached.add(task)
    task.add_done_callback(_ended)
    return task


async def _finish(change: Coroutine[Any, Any, T]) -> T:
    """Await ``change``, which runs to its end even if this caller is cancelled."""
    if asyncio.current_task() in _detached:
        # Nothing cancels the caller: no task of its own, whose end would reach the caller a few loop turns late
        # (after the hub has pushed the change, ahead of the caller's ack).
        return await change
    return await asyncio.shield(detach(change))


def _ended(task: asyncio.Task[Any]) -> None:
    _detached.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: the caller that would have seen it may be gone
