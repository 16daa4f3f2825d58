"""Comments, threads and review states as stored and as sent to clients (part of the public protocol: extend, don't
rename)."""

from __future__ import annotations

from typing import Literal

import msgspec

Side = Literal["old", "new"]
Author = Literal["person", "agent"]
CommentKind = Literal["comment", "request_changes"]
CommentState = Literal["open", "resolved"]
AgentState = Literal["idle", "waiting", "working"]
ReviewState = Literal["open", "approved", "changes_requested"]
Verdict = Literal["comment", "request_changes", "approve"]
"""What a submitted review says as a whole."""
VERDICT_STATES: dict[Verdict, ReviewState] = {"request_changes": "changes_requested", "approve": "approved"}
"""The review's state after a submitted review with this verdict (a plain comment leaves it as it is)."""


class Reply(msgspec.Struct, frozen=True, omit_defaults=True):
    id: str
    author: Author
    body: str
    created_at: float


class Comment(msgspec.Struct, frozen=True, omit_defaults=True):
    """A thread: the first comment and its replies."""

    id: str
    body: str
    created_at: float
    kind: CommentKind = "comment"
    path: str | None = None
    """None for a review-level comment (the summary of "request changes")."""
    side: Side = "new"
    line: int | None = None
    """First line of the range; None for a comment on the whole file."""
    end_line: int | None = None
    """Last line of the range (inclusive); None for a single line."""
    quoted: list[str] = msgspec.field(default_factory=list)
    """The commented code lines as they were when the comment was made."""
    author: Author = "person"
    state: CommentState = "open"
    outdated: bool = False
    """The commented lines are no longer in the file; the comment stays with its last known position."""
    replies: list[Reply] = msgspec.field(default_factory=list)
    applied: list[str] = msgspec.field(default_factory=list)
    """Ids of this thread's comment or replies whose suggested change was applied to the file."""
    pending: bool = False
    """Part of a review the person has started and not submitted yet: only they see it, the agent does not."""
    round: int = 1
    """The review's round the thread was started in."""


class RoundInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    """A round of the review that has ended: the files' content then is kept, to show what changed since."""

    number: int
    ended_at: float
    ended_by: Author
    how: str
    """What ended it: "submitted a review", "requested changes", "approved" (the person), "fixed" (the agent)."""


class ViewedFile(msgspec.Struct, frozen=True):
    """Whether the person marked a file of the review viewed, and whether it changed since they did."""

    path: str
    viewed: bool
    changed: bool
    """The file's diff changed after it was marked viewed (which it no longer is)."""
