"""The agent's side of a review, for every front (the MCP tools, the HTTP API behind ``backloop review``): the
bounded wait for the person's next entries, the items it hands over, resolving and replying, and the texts that
tell the agent what happened and what to do next.

Delivery is at least once (review/broker.py): what a call hands back is marked delivered at that moment; a front
whose result can still be lost after that (an MCP client that cancels late, an HTTP client that never
acknowledges) gives the hand-over a ``handle`` so that the broker can put the entries back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

import msgspec

from backloop.review.entry import Entry
from backloop.review.service import ReviewService
from backloop.review.session import Review, Reviews

DEFAULT_WAIT_S = 50.0
"""Below the 60 s that several agents allow a silent tool call; the agent simply calls again."""
MAX_WAIT_S = 3600.0
PROGRESS_EVERY_S = 15.0
APPROVED = "REVIEW APPROVED"

Progress = Callable[[float, str], Awaitable[None]]


class ThreadPost(msgspec.Struct):
    author: str
    """'person' or 'agent'"""
    body: str


class HandedItem(msgspec.Struct, kw_only=True):
    """One thing the person said or did: a comment, a reply in a thread, a "request changes" summary, an edit."""

    type: str
    review_id: str
    comment_id: str | None = None
    path: str | None = None
    line: int | None = None
    end_line: int | None = None
    side: str | None = None
    quoted: list[str] = msgspec.field(default_factory=list)
    body: str = ""
    thread: list[ThreadPost] = msgspec.field(default_factory=list)
    diff: str | None = None
    round: int = 1
    """The review's round it was said (or done) in."""


class Awaited(msgspec.Struct, kw_only=True):
    review_id: str
    approved: bool = False
    timed_out: bool = False
    items: list[HandedItem] = msgspec.field(default_factory=list)


class Started(msgspec.Struct):
    review_id: str
    url: str
    view: str
    reused: bool = False
    """The review of this view was open already: it goes on, with its comments and rounds."""
    round: int = 1


class ResolvedThread(msgspec.Struct):
    review_id: str
    comment_id: str
    state: str


class RepliedThread(msgspec.Struct):
    review_id: str
    comment_id: str
    reply_id: str


@dataclass(frozen=True)
class Front:
    """How a front's texts name the agent's next step (``{review_id}`` is filled in)."""

    wait: str
    wait_again: str
    resolve: str
    reply: str
    answers: str


MCP = Front(wait="call await_comments(review_id=...)", wait_again="call await_comments again",
            resolve="call resolve_comment(comment_id, reply=...)", reply="reply_comment", answers="await_comments")
CLI = Front(wait="run `backloop review await --review {review_id}`",
            wait_again="run `backloop review await --review {review_id}` again",
            resolve="run `backloop review resolve COMMENT_ID --reply '...'`",
            reply="`backloop review reply COMMENT_ID '...'`", answers="`backloop review await`")


# ---- what the agent does ----------------------------------------------------------------------------------------


async def await_items(reviews: Reviews, review: Review, timeout_s: float | None, *, progress: Progress | None = None,
                      handle: Hashable | None = None, held_s: float | None = None) -> Awaited:
    """The person's entries the agent has not received, as soon as there is one, else approval, else (after
    ``timeout_s``, default ``DEFAULT_WAIT_S``) a time-out. ``progress`` hears every ``PROGRESS_EVERY_S`` of the
    wait. ``handle`` and ``held_s``: see ``Broker.mark_delivered``."""
    budget = min(max(timeout_s if timeout_s is not None else DEFAULT_WAIT_S, 0.0), MAX_WAIT_S)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    broker = reviews.broker
    if review.agent_received:  # back after receiving items: the fixes are done, a round ends
        await ReviewService(reviews).end_round(review.id, "agent", "fixed")
    while True:
        slice_s = min(PROGRESS_EVERY_S, max(deadline - loop.time(), 0.0))
        entries = await broker.wait(review.id, slice_s, lambda: review.state == "approved")
        if entries:
            # A round that the person just ended is recorded before the agent can change anything.
            await reviews.rounds.settled(review.id)
            entries = broker.undelivered(entries)
            if not entries:
                continue
            result = Awaited(review_id=review.id, items=[_item(review, e) for e in entries])
            broker.mark_delivered(entries, handle, held_s=held_s)  # no await between this and handing it back
            review.agent_received = True
            return result
        if review.state == "approved":
            return Awaited(review_id=review.id, approved=True)
        if loop.time() >= deadline:
            return Awaited(review_id=review.id, timed_out=True)
        if progress is not None:
            await progress(budget - (deadline - loop.time()), "waiting for the reviewer's comments")


def _item(review: Review, e: Entry) -> HandedItem:
    if e.kind == "edit":
        return HandedItem(type="edit", review_id=review.id, path=e.path, diff=e.body, round=e.round)
    thread_id = (e.parent_id if e.kind == "reply" else e.id) or e.id
    root = review.comments.get(thread_id)
    if root is None:
        return HandedItem(type=e.kind, review_id=review.id, comment_id=thread_id, body=e.body, round=e.round)
    thread = [ThreadPost(author=root.author, body=root.body)]
    thread += [ThreadPost(author=r.author, body=r.body) for r in root.replies]
    return HandedItem(type=e.kind, review_id=review.id, comment_id=thread_id, path=root.path, line=root.line,
                end_line=root.end_line, side=root.side if root.path else None, quoted=root.quoted, body=e.body,
                thread=thread, round=e.round)


async def resolve(reviews: Reviews, comment_id: str, reply: str | None) -> ResolvedThread:
    service = ReviewService(reviews)
    review = service.review_of_comment(comment_id)
    comment = await service.resolve(review.id, comment_id, reply=reply, author="agent")
    return ResolvedThread(review_id=review.id, comment_id=comment.id, state=comment.state)


async def reply(reviews: Reviews, comment_id: str, message: str) -> RepliedThread:
    service = ReviewService(reviews)
    review = service.review_of_comment(comment_id)
    reply_id = await service.reply(review.id, comment_id, message, author="agent")
    return RepliedThread(review_id=review.id, comment_id=comment_id, reply_id=reply_id)


# ---- what the agent is told -------------------------------------------------------------------------------------


def started_text(result: Started, front: Front) -> str:
    wait = front.wait.format(review_id=result.review_id)
    if result.reused:
        return (f"A review of this view is already open ({result.view}); it goes on, now in round {result.round}, "
                f"with its comments and the rounds before.\n\nURL: {result.url}\nreview_id: {result.review_id}\n\n"
                f"Next: give the URL to the user, then {wait} and wait for their feedback.")
    return (f"Review started ({result.view}).\n\nURL: {result.url}\nreview_id: {result.review_id}\n\n"
            f"Next: give the URL to the user, then {wait} and wait for their feedback.")


def await_text(result: Awaited, front: Front) -> str:
    again = front.wait_again.format(review_id=result.review_id)
    if result.approved:
        return APPROVED
    if result.timed_out:
        return (f"No comments yet on review {result.review_id} — the reviewer is still looking. "
                f"{again[0].upper()}{again[1:]} to keep waiting.")
    parts = [f"{len(result.items)} new item(s) from the reviewer on review {result.review_id}, oldest first:"]
    for item in result.items:
        parts.append(_item_text(item))
    parts.append(f"Address each one. Then {front.resolve} for each comment you fixed (or {front.reply} to ask "
                 f"back), and {again}.")
    return "\n\n".join(parts)


def resolved_text(result: ResolvedThread) -> str:
    return f"Comment {result.comment_id} resolved."


def replied_text(result: RepliedThread, front: Front) -> str:
    return f"Reply posted in the thread of {result.comment_id}; their answer will arrive via {front.answers}."


def _item_text(item: HandedItem) -> str:
    if item.type == "edit":
        return (f"[edit] The reviewer edited {item.path} directly in the page. Re-read the file before changing "
                f"it; do not overwrite their edit.\n```diff\n{item.diff}```")
    where = "the whole review"
    if item.path:
        where = item.path
        if item.line is not None:
            span = f"line {item.line}" if item.end_line is None else f"lines {item.line}-{item.end_line}"
            where += f", {span}" + (" (old side: code before the change)" if item.side == "old" else "")
        else:
            where += " (whole file)"
    label = {"comment": "comment", "reply": "reply in thread", "request_changes": "changes requested"}[item.type]
    text = f"[{label} {item.comment_id}] on {where}"
    if item.quoted:
        first = item.line or 1
        text += "\n```\n" + "\n".join(f"{first + i:>5} | {q}" for i, q in enumerate(item.quoted)) + "\n```"
    if item.type == "reply" and len(item.thread) > 1:
        text += "\nThread so far:\n" + "\n".join(f"  {m.author}: {m.body}" for m in item.thread[:-1])
    return text + f"\n{item.body}"
