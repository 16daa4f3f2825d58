"""Reviews: what a review is, its comments, edits and state, persisted before anything is acknowledged.

``Reviews`` keeps the reviews this process serves and changes them; review/service.py, which the websocket and MCP
fronts call, adds the rules that need a view or outlive a caller. Changes are announced to listeners (the hub) by
review id and comment id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from backloop.git.repo import GitError, Repo
from backloop.review.broker import Broker
from backloop.review.edit import EditConflict, EditRefused, content_hash, read_for_edit, write_edit
from backloop.review.entry import Entry, new_id, threads, to_comment, to_reply
from backloop.review.model import AgentState, Author, Comment, ReviewState, Side, Verdict
from backloop.review.store import ReviewRow, Store, StoreError
from backloop.review.viewed import Viewed
from backloop.viewspec import ViewSpec

log = logging.getLogger(__name__)

MAX_BODY = 65_536
VERDICT_STATES: dict[Verdict, ReviewState] = {"request_changes": "changes_requested", "approve": "approved"}
"""The review's state after a submitted review with this verdict (a plain comment leaves it as it is)."""


class ReviewError(Exception):
    """A request about a review cannot be done; ``code`` is machine-readable, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Review:
    id: str
    repo: Repo
    view: ViewSpec
    title: str
    state: ReviewState = "open"
    agent: AgentState = "idle"
    comments: dict[str, Comment] = field(default_factory=dict)
    edit_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def url_path(self) -> str:
        return f"/review/{self.id}/view?{self.view.query()}"


Listener = Callable[[str, list[str], bool], None]
"""(review id, changed comment ids, whether the review's state changed)."""


class Reviews:
    """The reviews this process serves, their comments, and the hand-over to the agent."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.broker = Broker(store, self._agent_waiters)
        self.by_id: dict[str, Review] = {}
        self.viewed = Viewed(store, lambda review_id: r.view.diff_key() if (r := self.by_id.get(review_id)) else None)
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _announce(self, review_id: str, comment_ids: list[str], state: bool = False) -> None:
        for listener in list(self._listeners):
            listener(review_id, comment_ids, state)

    # ---- reviews -----------------------------------------------------------------------------------------

    async def create(self, repo: Repo, view: ViewSpec, title: str | None = None, port: int | None = None) -> Review:
        review = Review(id=new_id(), repo=repo, view=view, title=title or f"{repo.root.name}: {view.describe()}")
        await self.store.add_review(ReviewRow(review.id, str(repo.root), msgspec.json.encode(view).decode(),
                                              review.title, review.state, port))
        self.by_id[review.id] = review
        return review

    async def restore(self, repo_root: Path) -> list[Review]:
        """Bring back the stored reviews of a repository (after a restart), with their comments."""
        restored = []
        for row in await self.store.reviews(str(repo_root)):
            if row.id in self.by_id:
                continue
            try:
                repo = await Repo.open(row.repo)
            except GitError as exc:  # the repository is gone: nothing to serve
                log.warning("not restoring review %s: %s", row.id, exc.message)
                continue
            view = msgspec.json.decode(row.view.encode(), type=ViewSpec)
            review = Review(id=row.id, repo=repo, view=view, title=row.title, state=row.state)  # type: ignore[arg-type]
            review.comments = {c.id: c for c in threads(await self.store.entries(row.id))}
            await self.viewed.load(row.id)
            self.by_id[row.id] = review
            restored.append(review)
        return restored

    def get(self, review_id: str) -> Review | None:
        return self.by_id.get(review_id)

    def require(self, review_id: str) -> Review:
        review = self.by_id.get(review_id)
        if review is None:
            raise ReviewError("unknown_review", f"no review with id {review_id!r} in this backloop process")
        return review

    def all(self) -> list[Review]:
        return list(self.by_id.values())

    # ---- the person's side -------------------------------------------------------------------------------

    async def comment(self, review_id: str, client_id: str | None, *, body: str, path: str | None,
                      side: Side = "new", line: int | None = None, end_line: int | None = None,
                      quoted: list[str] | None = None, author: Author = "person", pending: bool = False) -> Comment:
        """``pending``: part of the person's review, held until they submit it."""
        review = self.require(review_id)
        _check_body(body, allow_empty=False)
        if line is not None and (line < 1 or (end_line is not None and end_line < line)):
            raise ReviewError("invalid_message", "line must be ≥ 1 and end_line ≥ line")
        entry = await self.store.add_entry(Entry.comment(
            review_id, body, author=author, path=path, side=side, line=line,
            end_line=end_line if end_line != line else None, quoted=quoted or [],
            pending=pending and author == "person"), client_id)
        return self._thread_changed(review, entry)

    async def reply(self, review_id: str, client_id: str | None, comment_id: str, body: str,
                    author: Author = "person") -> str:
        """Add a reply to a thread; returns the reply's id."""
        review = self.require(review_id)
        _check_body(body, allow_empty=False)
        _check_thread(review, comment_id, author)
        entry = await self.store.add_entry(Entry.reply(review_id, comment_id, body, author=author), client_id)
        self._thread_changed(review, entry)
        return entry.id

    async def request_changes(self, review_id: str, client_id: str | None, body: str) -> Comment:
        review = self.require(review_id)
        _check_body(body, allow_empty=False)
        entry = await self.store.add_entry(Entry.request_changes(review_id, body), client_id,
                                           review_state="changes_requested")
        comment = self._thread_changed(review, entry)
        self._state_changed(review, "changes_requested")
        return comment

    async def approve(self, review_id: str, client_id: str | None, body: str = "") -> str:
        review = self.require(review_id)
        _check_body(body)
        now = time.time()
        # A note with the approval reaches the agent like a comment; stored with it, in one transaction.
        note = Entry.comment(review_id, body, created=now) if body else None
        approval = Entry.approval(review_id, body, created=now)
        entry = await self.store.add_entry(approval, client_id, also=[note] if note else [],
                                           review_state="approved")
        if note is not None and entry.id == approval.id:  # (a resent approval: its note is known already)
            self._thread_changed(review, note)
        self._state_changed(review, "approved")
        return entry.id

    # ---- the person's pending review --------------------------------------------------------------------

    async def change_pending(self, review_id: str, client_id: str, comment_id: str, body: str | None) -> None:
        """Edit (``body``) or delete (None) a comment of the person's pending review."""
        review = self.require(review_id)
        if body is not None:
            _check_body(body, allow_empty=False)
        result = await self.store.change_pending(review_id, client_id, comment_id, body)
        if result == "unknown":
            raise ReviewError("unknown_comment", f"no comment with id {comment_id!r} in review {review_id}")
        if result == "not_pending":
            raise ReviewError("not_pending", "only comments of a review not submitted yet can be edited or deleted")
        comment = review.comments.get(comment_id)
        if comment is None or not comment.pending:
            return  # (a resent message: done the first time)
        if body is None:
            del review.comments[comment_id]
        else:
            review.comments[comment_id] = msgspec.structs.replace(comment, body=body)
        self._announce(review_id, [comment_id])

    async def submit_review(self, review_id: str, client_id: str, body: str, verdict: Verdict) -> tuple[str, bool]:
        """Hand the person's pending comments and the summary ``body`` to the agent as one batch, the review's
        state set by ``verdict``; returns the submission's id and whether it is new (not a resent message)."""
        review = self.require(review_id)
        seen = await self.store.seen_client_id(review_id, client_id, "submit")
        if seen is not None:
            return seen, False
        _check_body(body)
        if verdict != "approve" and not body.strip() and not any(c.pending for c in review.comments.values()):
            raise ReviewError("invalid_message", "nothing to submit: no pending comments and no summary")
        now = time.time()
        summary: list[Entry] = []
        if body.strip():
            summary.append(Entry.request_changes(review_id, body) if verdict == "request_changes"
                           else Entry.comment(review_id, body, created=now))
        state = VERDICT_STATES.get(verdict)
        marker, batch = await self.store.submit(Entry.submission(review_id, verdict, created=now), client_id,
                                                 also=summary, review_state=state)
        if batch is None:
            return marker.id, False
        for entry in batch:
            comment = review.comments.get(entry.id)
            review.comments[entry.id] = to_comment(entry, []) if comment is None else \
                msgspec.structs.replace(comment, pending=False)
        # All at once and before any await: a waiting agent gets the whole batch as one result.
        self.broker.notify(review_id, batch)
        self._announce(review_id, [e.id for e in batch])
        if state is not None:
            self._state_changed(review, state)
        return marker.id, True

    async def resolve(self, review_id: str, comment_id: str, reply: str | None = None,
                      author: Author = "agent", client_id: str | None = None) -> Comment:
        review = self.require(review_id)
        _check_thread(review, comment_id, author)
        if reply:
            # The reply and the resolution are one transaction: a failed write leaves neither.
            _check_body(reply, allow_empty=False)
            entry = await self.store.add_entry(Entry.reply(review_id, comment_id, reply, author=author), client_id,
                                               resolves=comment_id)
            self._thread_changed(review, entry)
        else:
            await self.store.update_entry(comment_id, state="resolved")
        review.comments[comment_id] = msgspec.structs.replace(review.comments[comment_id], state="resolved")
        self._announce(review_id, [comment_id])
        return review.comments[comment_id]

    def review_of_comment(self, comment_id: str) -> Review:
        """The review of a thread the agent may see (not a comment of a review the person has not submitted)."""
        for review in self.by_id.values():
            comment = review.comments.get(comment_id)
            if comment is not None and not comment.pending:
                return review
        raise ReviewError("unknown_comment", f"no comment with id {comment_id!r}")

    async def open_file(self, review_id: str, path: str) -> tuple[str, str]:
        review = self.require(review_id)
        try:
            return await asyncio.to_thread(read_for_edit, review.repo.root, path)
        except EditRefused as exc:
            raise ReviewError("edit_refused", str(exc)) from None
        except OSError as exc:
            raise ReviewError("edit_refused", f"{path}: {exc.strerror}") from None

    async def edit(self, review_id: str, client_id: str, path: str, base_hash: str, content: str) -> str:
        """Write the person's edit; returns the id of the recorded edit (the same for a resent message)."""
        review = self.require(review_id)
        async with review.edit_lock:
            seen = await self.store.seen_client_id(review_id, client_id, "edit")
            if seen is not None:
                return seen
            try:
                old_text, _ = await asyncio.to_thread(read_for_edit, review.repo.root, path)
                diff = await asyncio.to_thread(write_edit, review.repo.root, path, base_hash, content)
            except EditRefused as exc:
                code = "edit_conflict" if isinstance(exc, EditConflict) else "edit_refused"
                raise ReviewError(code, str(exc)) from None
            except OSError as exc:
                raise ReviewError("edit_refused", f"{path}: {exc.strerror}") from None
            try:
                entry = await self.store.add_entry(Entry.edit(review_id, path, diff), client_id)
            except StoreError:
                # Not recorded, so the agent would never hear of it and the person is told nothing was saved:
                # put the file back as it was (unless someone changed it again meanwhile).
                await asyncio.to_thread(_undo_edit, review.repo.root, path, old_text, content)
                raise
        if diff:
            self.broker.notify(review_id, [entry])
        return entry.id

    # ---- internals ---------------------------------------------------------------------------------------

    def _thread_changed(self, review: Review, entry: Entry) -> Comment:
        if entry.kind == "reply":
            root = review.comments[entry.parent_id or ""]
            if all(r.id != entry.id for r in root.replies):
                root = msgspec.structs.replace(root, replies=[*root.replies, to_reply(entry)])
                review.comments[root.id] = root
        else:
            existing = review.comments.get(entry.id)
            root = existing or to_comment(entry, [])
            review.comments[root.id] = root
        if entry.author == "person":
            self.broker.notify(review.id, [entry])
        self._announce(review.id, [root.id])
        return root

    def _state_changed(self, review: Review, state: ReviewState) -> None:
        """The review's state was stored as ``state``: follow it in memory, tell the page and the agent."""
        if review.state != state:
            review.state = state
            self._announce(review.id, [], True)
        self.broker.notify(review.id)

    def _agent_waiters(self, review_id: str, waiters: int) -> None:
        review = self.by_id.get(review_id)
        if review is None:
            return
        state: AgentState = "waiting" if waiters else "working"
        if review.agent != state:
            review.agent = state
            self._announce(review_id, [], True)

    async def set_comment_anchor(self, review: Review, comment_id: str, line: int | None, outdated: bool) -> None:
        comment = review.comments[comment_id]
        if comment.line is None:
            return
        if line is None:
            if not comment.outdated:
                await self.store.update_entry(comment_id, outdated=1)
                review.comments[comment_id] = msgspec.structs.replace(comment, outdated=True)
                self._announce(review.id, [comment_id])
            return
        end = None if comment.end_line is None else comment.end_line + (line - comment.line)
        if line != comment.line or comment.outdated != outdated:
            await self.store.update_entry(comment_id, line=line, end_line=end, outdated=int(outdated))
            review.comments[comment_id] = msgspec.structs.replace(comment, line=line, end_line=end, outdated=outdated)
            self._announce(review.id, [comment_id])


def _undo_edit(root: Path, path: str, old_text: str, content: str) -> None:
    if "\r\n" in old_text and "\r\n" not in content:  # what write_edit wrote (it keeps CRLF line endings)
        content = content.replace("\n", "\r\n")
    try:
        write_edit(root, path, content_hash(content.encode("utf-8")), old_text)
    except (EditRefused, OSError) as exc:
        log.warning("could not undo the unrecorded edit of %s: %s", path, exc)


def _check_thread(review: Review, comment_id: str, author: Author) -> None:
    """A thread one can answer or resolve: one of the review, and not pending (which the agent must not see)."""
    comment = review.comments.get(comment_id)
    if comment is None or (comment.pending and author == "agent"):
        raise ReviewError("unknown_comment", f"no comment with id {comment_id!r} in review {review.id}")
    if comment.pending:
        raise ReviewError("pending_comment", "this comment is part of a review not submitted yet: edit it, or "
                                             "submit the review and then reply")


def _check_body(body: str, allow_empty: bool = True) -> None:
    if len(body) > MAX_BODY:
        raise ReviewError("invalid_message", f"the text is too long ({len(body):,} characters; at most {MAX_BODY:,})")
    if not allow_empty and not body.strip():
        raise ReviewError("invalid_message", "the text is empty")
