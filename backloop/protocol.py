"""The websocket wire protocol, version 1: every message both ways, and the one encoder/decoder.

Text frames, one JSON object each, discriminated by ``type``. This module is the single definition of the
format: ``docs/protocol.md`` describes it, ``docs/protocol.schema.json`` is generated from it
(``python -m backloop.schema``), and ``frontend/protocol.js`` mirrors its tags. Evolve it by adding message
types and fields with defaults; never rename. (Additions keep the version: a client of version 1 ignores the
message types and fields it does not know, and what it sends means what it meant.)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from backloop.diff.model import ContextLine, FileDiff
from backloop.review.model import AgentState, Comment, ReviewState, RoundInfo, Side, Verdict, ViewedFile
from backloop.viewspec import ViewSpec

PROTOCOL_VERSION = 1

# Close codes (RFC 6455 private range 4000-4999 for ours).
CLOSE_UNKNOWN_REVIEW = 4404
CLOSE_FORBIDDEN = 4403
CLOSE_BAD_VIEW = 4400


class ReviewInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    id: str
    title: str
    repo: str
    view: ViewSpec
    state: ReviewState = "open"
    agent: AgentState = "idle"
    """Whether the agent is waiting in ``await_comments`` (``waiting``), working, or has not connected (``idle``)."""
    base: str = ""
    """What the old side is, resolved (e.g. ``HEAD~1 (3f2a9c1)``)."""
    target: str = ""
    """What the new side is (``work tree``, ``index`` or a commit)."""
    round: int = 1
    """The review's current round."""
    rounds: list[RoundInfo] = msgspec.field(default_factory=list)
    """The rounds that have ended, oldest first."""
    last_review: int | None = None
    """The last round the person ended (submitted a review, requested changes, approved): "since my last review"."""
    changed_since_review: int | None = None
    """How many files changed since the end of ``last_review`` (None: not known yet; a ``round`` message brings it)."""


# ---- server → client ----------------------------------------------------------------------------------------


class Hello(msgspec.Struct, tag="hello", frozen=True):
    protocol: int
    review: ReviewInfo


class Snapshot(msgspec.Struct, tag="snapshot", frozen=True):
    files: list[FileDiff]
    comments: list[Comment] = msgspec.field(default_factory=list)
    """Every thread of the review, in the order they were started."""


class FileChanged(msgspec.Struct, tag="file", frozen=True):
    file: FileDiff


class FileRemoved(msgspec.Struct, tag="file_removed", frozen=True):
    path: str


class Lines(msgspec.Struct, tag="lines", frozen=True):
    """Reply to ``expand``: lines ``start``… of the new side of ``path``."""

    request_id: str
    path: str
    start: int
    lines: list[ContextLine]
    eof: bool
    """True when the file ends within (or before) the requested range."""


class Notice(msgspec.Struct, tag="notice", frozen=True):
    """The view cannot be shown as asked (bad ref, repository changed); ``level`` ``ok`` clears it."""

    level: Literal["ok", "warning", "error"]
    message: str


class Pong(msgspec.Struct, tag="pong", frozen=True):
    nonce: str = ""


class Error(msgspec.Struct, tag="error", frozen=True, omit_defaults=True):
    code: str
    message: str
    client_id: str | None = None
    request_id: str | None = None
    """The ``request_id`` of the ``expand`` or ``open_file`` this answers."""
    path: str | None = None
    """The file of the ``load_file`` this answers."""


class Ack(msgspec.Struct, tag="ack", frozen=True):
    """A client message with ``client_id`` was stored; ``id`` is what it created (comment, reply, edit…)."""

    client_id: str
    id: str


class CommentChanged(msgspec.Struct, tag="comment", frozen=True):
    """A thread is new or changed (a reply, resolved, moved or outdated): replace it."""

    comment: Comment


class CommentRemoved(msgspec.Struct, tag="comment_removed", frozen=True):
    """A pending comment was deleted."""

    id: str


class ViewedChanged(msgspec.Struct, tag="viewed", frozen=True):
    """Files marked viewed, or changed since: after the snapshot all that are either, later those that changed."""

    files: list[ViewedFile]


class ReviewChanged(msgspec.Struct, tag="review", frozen=True):
    state: ReviewState
    agent: AgentState


class RoundsChanged(msgspec.Struct, tag="round", frozen=True, omit_defaults=True):
    """A round of the review ended (``current`` is the new one, ``rounds`` every ended round, oldest first), or the
    number of files changed since the person's last review changed."""

    current: int
    rounds: list[RoundInfo]
    last_review: int | None = None
    changed_since_review: int | None = None


class FileContent(msgspec.Struct, tag="file_content", frozen=True):
    """Reply to ``open_file``: the work-tree text to edit and the hash to send back with ``edit``."""

    request_id: str
    path: str
    content: str
    hash: str


ServerMessage = (Hello | Snapshot | FileChanged | FileRemoved | Lines | Notice | Pong | Error | Ack | CommentChanged
                 | ReviewChanged | FileContent | CommentRemoved | ViewedChanged | RoundsChanged)


# ---- client → server ----------------------------------------------------------------------------------------


class Expand(msgspec.Struct, tag="expand", frozen=True, forbid_unknown_fields=True):
    """Ask for lines ``start``..``end`` (1-based, inclusive) of the new side of ``path`` (to expand context)."""

    request_id: str
    path: str
    start: int
    end: int


class LoadFile(msgspec.Struct, tag="load_file", frozen=True, forbid_unknown_fields=True):
    """Render a file that was sent with ``too_large``: the server answers with a full ``file`` message."""

    path: str


class Ping(msgspec.Struct, tag="ping", frozen=True, forbid_unknown_fields=True):
    nonce: str = ""


MAX_SUGGESTIONS = 200
"""Suggestions applied by one message, at most."""
MAX_LINE = 2**31 - 1
LineNumber = Annotated[int, msgspec.Meta(ge=1, le=MAX_LINE)]
"""A line a comment is on. Bounded here because it is stored: a number beyond SQLite's 64-bit integers made the
store fail in the middle of its transaction, and the next write after it failed too."""


class CommentMsg(msgspec.Struct, tag="comment", frozen=True, forbid_unknown_fields=True):
    """Comment on lines ``line``..``end_line`` of one side of a file; without ``line``, on the whole file."""

    client_id: str
    path: str
    body: str
    side: Side = "new"
    line: LineNumber | None = None
    end_line: LineNumber | None = None
    pending: bool = False
    """Part of the person's review: held (shown as pending, not delivered) until ``submit_review``."""


class EditCommentMsg(msgspec.Struct, tag="edit_comment", frozen=True, forbid_unknown_fields=True):
    """Change the text of a pending comment."""

    client_id: str
    comment_id: str
    body: str


class DeleteCommentMsg(msgspec.Struct, tag="delete_comment", frozen=True, forbid_unknown_fields=True):
    """Delete a pending comment."""

    client_id: str
    comment_id: str


class SubmitReviewMsg(msgspec.Struct, tag="submit_review", frozen=True, forbid_unknown_fields=True):
    """Deliver every pending comment and the summary ``body`` to the agent as one batch; ``verdict`` sets the
    review's state as ``request_changes`` and ``approve`` do."""

    client_id: str
    body: str = ""
    verdict: Verdict = "comment"


class SetViewedMsg(msgspec.Struct, tag="set_viewed", frozen=True, forbid_unknown_fields=True):
    """Mark a file of the review viewed, or not viewed."""

    client_id: str
    path: str
    viewed: bool


class ReplyMsg(msgspec.Struct, tag="reply", frozen=True, forbid_unknown_fields=True):
    client_id: str
    comment_id: str
    body: str


class ResolveMsg(msgspec.Struct, tag="resolve", frozen=True, forbid_unknown_fields=True):
    """The person resolves a thread themselves."""

    client_id: str
    comment_id: str


class OpenFile(msgspec.Struct, tag="open_file", frozen=True, forbid_unknown_fields=True):
    """Ask for a work-tree file's text to edit it (live views); answered by ``file_content``."""

    request_id: str
    path: str


class EditMsg(msgspec.Struct, tag="edit", frozen=True, forbid_unknown_fields=True):
    """Replace a work-tree file's text. ``base_hash`` is the ``hash`` of the ``file_content`` it was based on;
    if the file changed since, the edit is refused with ``edit_conflict`` and nothing is written."""

    client_id: str
    path: str
    base_hash: str
    content: str


class ApplySuggestionsMsg(msgspec.Struct, tag="apply_suggestions", frozen=True, forbid_unknown_fields=True):
    """Apply the suggested changes (```suggestion blocks) of these comments or replies to the work tree (live
    views). Each replaces the lines its thread is about, found again if they moved; one whose lines changed is
    refused with ``suggestion_refused`` and nothing is written. Answered by ``ack`` (the first recorded edit)."""

    client_id: str
    ids: Annotated[list[str], msgspec.Meta(min_length=1, max_length=MAX_SUGGESTIONS)]


class ApproveMsg(msgspec.Struct, tag="approve", frozen=True, forbid_unknown_fields=True):
    client_id: str
    body: str = ""


class RequestChangesMsg(msgspec.Struct, tag="request_changes", frozen=True, forbid_unknown_fields=True):
    client_id: str
    body: str


ClientMessage = (Expand | LoadFile | Ping | CommentMsg | ReplyMsg | ResolveMsg | OpenFile | EditMsg | ApproveMsg
                 | RequestChangesMsg | ApplySuggestionsMsg | EditCommentMsg | DeleteCommentMsg | SubmitReviewMsg
                 | SetViewedMsg)

MAX_EXPAND_LINES = 5_000

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ClientMessage)


class ProtocolError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def encode(message: ServerMessage) -> str:
    try:
        return _encoder.encode(message).decode()
    except UnicodeEncodeError:
        # A name that is not valid UTF-8 (git paths are decoded with surrogate escapes, so that they can be
        # given back to git): on the wire its undecodable bytes become U+FFFD.
        return _encoder.encode(_scrub(msgspec.to_builtins(message))).decode()


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    return value


def decode_client(data: str | bytes) -> ClientMessage:
    """Decode one client frame, or raise ProtocolError with a code and a message naming what is wrong."""
    try:
        message = _decoder.decode(data)
    except msgspec.ValidationError as exc:
        text = str(exc)
        code = "unknown_type" if "`$.type`" in text else "invalid_message"
        raise ProtocolError(code, text) from None
    except msgspec.DecodeError as exc:
        raise ProtocolError("invalid_json", f"not a JSON object: {exc}") from None
    except RecursionError:
        # msgspec gives up on JSON nested deeper than it can recurse (e.g. 100,000 "[" in front of the type tag,
        # which it must skip to learn the type): a bad frame like any other, not a crash of the connection.
        raise ProtocolError("invalid_json", "JSON nested too deeply") from None
    if isinstance(message, Expand) and not (1 <= message.start <= message.end < message.start + MAX_EXPAND_LINES):
        raise ProtocolError("invalid_message", f"expand needs 1 <= start <= end and at most {MAX_EXPAND_LINES} lines")
    return message
