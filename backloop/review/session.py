"""Reviews: what a review is, its comments, edits and state, persisted before anything is acknowledged.

``Reviews`` keeps the reviews this process serves and changes them (the person's pending review: review/pending.py);
review/service.py, which the websocket and MCP fronts call, adds the rules that need a view or outlive a caller.
Changes are announced to listeners (the hub) by review id and comment id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import msgspec

from backloop.git.process import GitError
from backloop.git.repo import Repo
from backloop.review.broker import Broker
from backloop.review.edit import EditConflict, EditRefused, content_hash, read_for_edit, write_edit
from backloop.review.entry import Entry, new_id, threads, to_comment, to_reply
from backloop.review.model import AgentState, Author, Comment, ReviewState, RoundInfo, Side
from backloop.review.rounds import Rounds
from backloop.review.store import ReviewRow, Store, StoreError
from backloop.review.suggest import Suggestion, SuggestionRefused, apply_all, find
from backloop.review.viewed import Viewed
from backloop.viewspec import ViewSpec

log = logging.getLogger(__name__)

MAX_BODY = 65_536


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
    round: int = 1
    """The current round: the rounds before it have ended (``rounds``; the last one may still be being recorded)."""
    rounds: list[RoundInfo] = field(default_factory=list)
    agent_received: bool = False
    """The agent received items since the last round ended: its next ``await_comments`` ends a round."""

    def url_path(self) -> str:
        return f"/review/{self.id}/view?{self.view.query()}"

    @property
    def last_review(self) -> int | None:
        """The last round the person ended (what "since my last review" means)."""
        return next((r.number for r in reversed(self.rounds) if r.ended_by == "person"), None)

    def stamped(self, entry: Entry) -> Entry:
        """``entry`` as made in the current round."""
        return replace(entry, round=self.round)


@dataclass(frozen=True)
class ThreadChanged:
    """A thread is new or changed (a reply, resolved, moved, outdated)."""

    review_id: str
    comment_id: str


@dataclass(frozen=True)
class StateChanged:
    """The review's state (open, approved, changes requested) or its agent's (waiting, working) changed."""

    review_id: str


@dataclass(frozen=True)
class RoundEnded:
    """A round of the review ended (and is recorded)."""

    review_id: str


ReviewEvent = ThreadChanged | StateChanged | RoundEnded
Listener = Callable[[ReviewEvent], None]


class Reviews:
    """The reviews this process serves, their comments, and the hand-over to the agent."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.broker = Broker(store, self._agent_waiters)
        self.by_id: dict[str, Review] = {}
        self.rounds = Rounds(store, self.get, lambda review_id: self.announce(RoundEnded(review_id)))
        self.viewed = Viewed(store, lambda review_id: r.view.diff_key() if (r := self.by_id.get(review_id)) else None)
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def announce(self, event: ReviewEvent) -> None:
        """Tell the listeners of a change made (and stored) in a review."""
        for listener in list(self._listeners):
            listener(event)

    # ---- reviews -----------------------------------------------------------------------------------------

    async def create(self, repo: Repo, view: ViewSpec, title: str | None = None, port: int | None = None) -> Review:
        """A new review; ``port``: the web server that serves it, when already known (a start over its HTTP API)."""
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
            review = Review(id=row.id, repo=repo, view=view, title=row.title, state=row.state,  # type: ignore[arg-type]
                            agent_received=row.agent_received)
            review.comments = {c.id: c for c in threads(await self.store.entries(row.id))}
            review.rounds = [RoundInfo(number=r.number, ended_at=r.ended_at, ended_by=r.ended_by,  # type: ignore[arg-type]
                                       how=r.how) for r in await self.store.rounds(row.id)]
            review.round = len(review.rounds) + 1
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
                      quoted: list[str] | None = None, pending: bool = False) -> Comment:
        """``pending``: part of the person's review, held until they submit it."""
        review = self.require(review_id)
        check_body(body, allow_empty=False)
        if line is not None and (line < 1 or (end_line is not None and end_line < line)):
            raise ReviewError("invalid_message", "line must be ≥ 1 and end_line ≥ line")
        entry = await self.store.add_entry(review.stamped(Entry.comment(
            review_id, body, author="person", path=path, side=side, line=line,
            end_line=end_line if end_line != line else None, quoted=quoted or [], pending=pending)), client_id)
        return self._thread_changed(review, entry)

    async def reply(self, review_id: str, client_id: str | None, comment_id: str, body: str,
                    author: Author = "person") -> str:
        """Add a reply to a thread; returns the reply's id."""
        review = self.require(review_id)
        check_body(body, allow_empty=False)
        _check_thread(review, comment_id, author)
        entry = await self.store.add_entry(review.stamped(Entry.reply(review_id, comment_id, body, author=author)),
                                           client_id)
        self._thread_changed(review, entry)
        return entry.id

    async def request_changes(self, review_id: str, client_id: str | None, body: str) -> Comment:
        review = self.require(review_id)
        check_body(body, allow_empty=False)
        entry = await self.store.add_entry(review.stamped(Entry.request_changes(review_id, body)), client_id,
                                           review_state="changes_requested")
        comment = self._thread_changed(review, entry)
        self.state_changed(review, "changes_requested")
        return comment

    async def approve(self, review_id: str, client_id: str | None, body: str = "") -> str:
        review = self.require(review_id)
        check_body(body)
        now = time.time()
        # A note with the approval reaches the agent like a comment; stored with it, in one transaction.
        note = review.stamped(Entry.comment(review_id, body, created=now)) if body else None
        approval = review.stamped(Entry.approval(review_id, body, created=now))
        entry = await self.store.add_entry(approval, client_id, also=[note] if note else [],
                                           review_state="approved")
        if note is not None and entry.id == approval.id:  # (a resent approval: its note is known already)
            self._thread_changed(review, note)
        self.state_changed(review, "approved")
        return entry.id

    async def resolve(self, review_id: str, comment_id: str, reply: str | None = None,
                      author: Author = "agent") -> Comment:
        review = self.require(review_id)
        _check_thread(review, comment_id, author)
        if reply:
            # The reply and the resolution are one transaction: a failed write leaves neither.
            check_body(reply, allow_empty=False)
            entry = await self.store.add_entry(review.stamped(Entry.reply(review_id, comment_id, reply, author=author)),
                                               None, resolves=comment_id)
            self._thread_changed(review, entry)
        else:
            await self.store.update_entry(comment_id, state="resolved")
        review.comments[comment_id] = msgspec.structs.replace(review.comments[comment_id], state="resolved")
        self.announce(ThreadChanged(review_id, comment_id))
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
            return await self._write(review, client_id, path, base_hash, content,
                                     lambda diff: [Entry.edit(review_id, path, diff)])

    async def apply_suggestions(self, review_id: str, client_id: str, source_ids: list[str]) -> str:
        """Apply the suggested changes of ``source_ids`` (comments or replies with a suggestion block), one write
        per file, each checked like an edit; returns the id of the first recorded edit (the same for a resent
        message). Every suggestion is checked before anything is written: one whose lines are gone writes
        nothing."""
        review = self.require(review_id)
        async with review.edit_lock:
            seen = await self.store.seen_client_id(review_id, client_id, "edit")
            if seen is not None:
                return seen
            by_path: dict[str, list[Suggestion]] = {}
            try:
                for source_id in dict.fromkeys(source_ids):
                    suggestion = find(self.thread_holding(review, source_id), source_id)
                    by_path.setdefault(suggestion.thread.path or "", []).append(suggestion)
                planned = []
                for path, suggestions in by_path.items():
                    text, digest = await asyncio.to_thread(read_for_edit, review.repo.root, path)
                    planned.append((path, suggestions, digest, apply_all(text, suggestions)))
            except SuggestionRefused as exc:
                raise ReviewError("suggestion_refused", str(exc)) from None
            except EditRefused as exc:
                raise ReviewError("edit_refused", str(exc)) from None
            first: str | None = None
            for path, suggestions, digest, content in planned:
                def entries(diff: str, path: str = path, suggestions: list[Suggestion] = suggestions) -> list[Entry]:
                    return [Entry.edit(review_id, path, diff if i == 0 else "", applies=s.source_id)
                            for i, s in enumerate(suggestions)]

                stored = await self._write(review, client_id if first is None else None, path, digest, content,
                                           entries)
                first = first or stored
            assert first is not None
            return first

    def thread_holding(self, review: Review, source_id: str) -> Comment:
        for thread in review.comments.values():
            if thread.id == source_id or any(r.id == source_id for r in thread.replies):
                return thread
        raise ReviewError("unknown_comment", f"no comment or reply with id {source_id!r} in review {review.id}")

    async def _write(self, review: Review, client_id: str | None, path: str, base_hash: str, content: str,
                     entries: Callable[[str], list[Entry]]) -> str:
        """Write ``content`` over ``path`` if it still has ``base_hash`` and record ``entries(diff)`` in one
        transaction; the file is put back if the record fails. Returns the first entry's id."""
        try:
            old_text, _ = await asyncio.to_thread(read_for_edit, review.repo.root, path)
            diff = await asyncio.to_thread(write_edit, review.repo.root, path, base_hash, content)
        except EditRefused as exc:
            code = "edit_conflict" if isinstance(exc, EditConflict) else "edit_refused"
            raise ReviewError(code, str(exc)) from None
        except OSError as exc:
            raise ReviewError("edit_refused", f"{path}: {exc.strerror}") from None
        first, *more = (review.stamped(e) for e in entries(diff))
        try:
            entry = await self.store.add_entry(first, client_id, also=more)
        except StoreError:
            # Not recorded, so the agent would never hear of it and the person is told nothing was saved:
            # put the file back as it was (unless someone changed it again meanwhile).
            await asyncio.to_thread(_undo_edit, review.repo.root, path, old_text, content)
            raise
        for source_id in (e.parent_id for e in (first, *more) if e.parent_id):
            thread = self.thread_holding(review, source_id)
            review.comments[thread.id] = msgspec.structs.replace(thread, applied=[*thread.applied, source_id])
            self.announce(ThreadChanged(review.id, thread.id))
        if diff:
            self.broker.notify(review.id, [entry])
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
        self.announce(ThreadChanged(review.id, root.id))
        return root

    def state_changed(self, review: Review, state: ReviewState) -> None:
        """The review's state was stored as ``state``: follow it in memory, tell the page and the agent."""
        if review.state != state:
            review.state = state
            self.announce(StateChanged(review.id))
        self.broker.notify(review.id)

    def _agent_waiters(self, review_id: str, waiters: int) -> None:
        review = self.by_id.get(review_id)
        if review is None:
            return
        state: AgentState = "waiting" if waiters else "working"
        if review.agent != state:
            review.agent = state
            self.announce(StateChanged(review_id))

    async def set_comment_anchor(self, review: Review, comment_id: str, line: int | None, outdated: bool) -> None:
        comment = review.comments[comment_id]
        if comment.line is None:
            return
        if line is None:
            if not comment.outdated:
                await self.store.update_entry(comment_id, outdated=1)
                review.comments[comment_id] = msgspec.structs.replace(comment, outdated=True)
                self.announce(ThreadChanged(review.id, comment_id))
            return
        end = None if comment.end_line is None else comment.end_line + (line - comment.line)
        if line != comment.line or comment.outdated != outdated:
            await self.store.update_entry(comment_id, line=line, end_line=end, outdated=int(outdated))
            review.comments[comment_id] = msgspec.structs.replace(comment, line=line, end_line=end, outdated=outdated)
            self.announce(ThreadChanged(review.id, comment_id))


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


def check_body(body: str, allow_empty: bool = True) -> None:
    """The text of a comment, reply or summary: not too long, and (unless ``allow_empty``) not blank."""
    if len(body) > MAX_BODY:
        raise ReviewError("invalid_message", f"the text is too long ({len(body):,} characters; at most {MAX_BODY:,})")
    if not allow_empty and not body.strip():
        raise ReviewError("invalid_message", "the text is empty")
