"""Entries: each thing said or done in a review (a comment, reply, "request changes", approval or edit), in the
order it happened. The store keeps them, the agent receives the person's, and the threads are built from them."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec

from backloop.review.model import Author, Comment, Reply, Side, Verdict

ID_BYTES = 12
"""96 random bits: review ids are the capability to see a review, so they must not be guessable."""

AGENT_KINDS = ("comment", "reply", "request_changes", "edit")
"""Entries by the person that the agent must receive."""


def new_id() -> str:
    return secrets.token_hex(ID_BYTES)


@dataclass(frozen=True, kw_only=True)
class Entry:
    id: str = field(default_factory=new_id)
    review_id: str
    kind: str
    """comment | reply | request_changes | edit | approve | submit"""
    author: str
    body: str = ""
    parent_id: str | None = None
    """The thread of a reply."""
    path: str | None = None
    side: str | None = None
    line: int | None = None
    end_line: int | None = None
    quoted: list[str] = field(default_factory=list)
    state: str = "open"
    outdated: bool = False
    created: float = field(default_factory=time.time)
    delivered: bool = False
    """The agent has received it (or need not: its own entries, an approval, an edit that changed nothing)."""
    pending: bool = False
    """A comment of a review the person has not submitted yet: not for the agent until they do."""
    seq: int = 0
    """Its place in the order of all entries; set by the store."""
    round: int = 1
    """The review's round it was made in."""

    @classmethod
    def comment(cls, review_id: str, body: str, *, author: Author = "person", path: str | None = None,
                side: Side | None = None, line: int | None = None, end_line: int | None = None,
                quoted: Sequence[str] = (), created: float | None = None, pending: bool = False) -> Entry:
        """A new thread: on lines of a file, on a whole file (no ``line``) or on the whole review (no ``path``);
        ``pending``: held in the person's review until they submit it."""
        return cls(review_id=review_id, kind="comment", author=author, body=body, path=path, side=side, line=line,
                   end_line=end_line, quoted=list(quoted), created=time.time() if created is None else created,
                   delivered=author == "agent", pending=pending)

    @classmethod
    def reply(cls, review_id: str, thread_id: str, body: str, *, author: Author) -> Entry:
        return cls(review_id=review_id, kind="reply", author=author, body=body, parent_id=thread_id,
                   delivered=author == "agent")

    @classmethod
    def request_changes(cls, review_id: str, body: str) -> Entry:
        """The person's summary when they ask for changes: a thread on the whole review."""
        return cls(review_id=review_id, kind="request_changes", author="person", body=body)

    @classmethod
    def approval(cls, review_id: str, body: str, *, created: float) -> Entry:
        """Not handed to the agent as an item (the review's state tells it); a note with it is a comment."""
        return cls(review_id=review_id, kind="approve", author="person", body=body, created=created, delivered=True)

    @classmethod
    def submission(cls, review_id: str, verdict: Verdict, *, created: float) -> Entry:
        """The person submitted their pending review with ``verdict``: what its comments and summary were handed to
        the agent as (they are entries of their own; this one is not an item)."""
        return cls(review_id=review_id, kind="submit", author="person", body=verdict, created=created, delivered=True)

    @classmethod
    def edit(cls, review_id: str, path: str, diff: str, *, applies: str | None = None) -> Entry:
        """The person's edit of a work-tree file, as the diff it made (an edit that changed nothing has none, and
        the agent need not hear of it). ``applies``: the comment or reply whose suggested change it applied (of
        several applied to one file at once, the first edit carries the diff and the others none)."""
        return cls(review_id=review_id, kind="edit", author="person", body=diff, path=path, side="new",
                   parent_id=applies, delivered=not diff)


def threads(entries: list[Entry]) -> list[Comment]:
    """Comments with their replies, in the order they were made."""
    roots: dict[str, Comment] = {}
    replies: dict[str, list[Reply]] = {}
    thread_of: dict[str, str] = {}
    applied: set[str] = set()
    for e in entries:
        if e.kind == "reply" and e.parent_id:
            replies.setdefault(e.parent_id, []).append(to_reply(e))
            thread_of[e.id] = e.parent_id
        elif e.kind == "edit" and e.parent_id:
            applied.add(e.parent_id)
    for e in entries:
        if e.kind in ("comment", "request_changes"):
            roots[e.id] = to_comment(e, replies.get(e.id, []))
    for source in applied:
        root = roots.get(thread_of.get(source, source))
        if root is not None:
            roots[root.id] = msgspec.structs.replace(root, applied=[*root.applied, source])
    return list(roots.values())


def to_reply(e: Entry) -> Reply:
    return Reply(id=e.id, author=e.author, body=e.body, created_at=e.created)  # type: ignore[arg-type]


def to_comment(e: Entry, replies: list[Reply]) -> Comment:
    return Comment(
        id=e.id, body=e.body, created_at=e.created, kind=e.kind,  # type: ignore[arg-type]
        path=e.path, side=(e.side or "new"), line=e.line, end_line=e.end_line,  # type: ignore[arg-type]
        quoted=e.quoted, author=e.author, state=e.state, outdated=e.outdated,  # type: ignore[arg-type]
        replies=replies, pending=e.pending, round=e.round,
    )
