"""The logic behind each MCP tool, as plain async functions over a Runtime (tested without MCP in between).

Errors are raised as ToolFailure, a tool error whose message is meant for the agent (server.py hands it to the SDK
as the call's error); a review's own failures are said as review/failure.py says them. No SDK import: the launcher
runs a first startreview with these before the SDK has loaded (early.py).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Hashable
from pathlib import Path
from typing import ParamSpec, TypeVar

from pydantic import BaseModel, Field

from backloop.review.entry import Entry
from backloop.review.failure import failure
from backloop.review.service import ReviewService
from backloop.review.session import Review, ReviewError
from backloop.runtime import Runtime

DEFAULT_WAIT_S = 50.0
"""Below the 60 s that several agents allow a silent tool call; the agent simply calls again."""
MAX_WAIT_S = 3600.0
PROGRESS_EVERY_S = 15.0
APPROVED = "REVIEW APPROVED"

Progress = Callable[[float, str], Awaitable[None]]
P = ParamSpec("P")
R = TypeVar("R")


class ToolFailure(Exception):
    """A failure the agent is told about: the call is answered with its message as the tool's error."""


def _as_tool_failure(tool: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """``tool`` with the review's failures raised as ToolFailure."""

    @functools.wraps(tool)
    async def tool_call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await tool(*args, **kwargs)
        except Exception as exc:
            known = failure(exc)
            if known is None:
                raise
            raise ToolFailure(known.message) from None

    return tool_call


class StartedReview(BaseModel):
    review_id: str
    url: str
    view: str


class ThreadMessage(BaseModel):
    author: str = Field(description="person or agent")
    body: str


class Item(BaseModel):
    type: str = Field(description="comment, reply, request_changes or edit")
    review_id: str
    comment_id: str | None = None
    path: str | None = None
    line: int | None = None
    end_line: int | None = None
    side: str | None = Field(default=None, description="new, or old: before the change")
    quoted: list[str] = Field(default_factory=list, description="The commented lines.")
    body: str = ""
    thread: list[ThreadMessage] = Field(default_factory=list)
    diff: str | None = Field(default=None, description="edit: the reviewer's change as a diff")


class AwaitResult(BaseModel):
    review_id: str
    approved: bool = False
    timed_out: bool = False
    items: list[Item] = Field(default_factory=list)


class ResolvedComment(BaseModel):
    review_id: str
    comment_id: str
    state: str


class Replied(BaseModel):
    review_id: str
    comment_id: str
    reply_id: str


@_as_tool_failure
async def start_review(runtime: Runtime, *, since: str | None, commit: str | None, range: str | None,
                       title: str | None, repo: str | None, default_repo: Path) -> StartedReview:
    try:
        review = await ReviewService(runtime.reviews).start(Path(repo) if repo else default_repo, since=since,
                                                            commit=commit, range=range, title=title)
    except ReviewError as exc:
        if exc.code != "view_needed":
            raise
        raise ToolFailure(f"startreview {exc.message}; e.g. startreview(since='HEAD')") from None
    await _start_web(runtime)
    await runtime.remember_port(review)
    return StartedReview(review_id=review.id, url=runtime.url(review), view=review.view.describe())


async def _start_web(runtime: Runtime) -> None:
    try:
        await runtime.start_web()
    except OSError as exc:
        raise ToolFailure(f"cannot start the review web server: {exc.strerror or exc}") from None


def started_text(result: StartedReview) -> str:
    return (f"Review started ({result.view}).\n\nURL: {result.url}\nreview_id: {result.review_id}\n\n"
            "Next: give the URL to the user, then call await_comments(review_id=...) and wait for their feedback.")


def _review(runtime: Runtime, review_id: str | None) -> Review:
    if review_id:
        review = runtime.reviews.get(review_id)
        if review is None:
            raise ToolFailure(f"unknown review_id {review_id!r}; start one with startreview")
        return review
    reviews = runtime.reviews.all()
    if not reviews:
        raise ToolFailure("there is no review yet: call startreview first")
    return reviews[-1]


@_as_tool_failure
async def await_comments(runtime: Runtime, *, review_id: str | None, timeout_seconds: float | None,
                         progress: Progress | None = None, handle: Hashable | None = None) -> AwaitResult:
    """``handle`` names this call for ``undeliver``, should the agent cancel it after all (see broker.py)."""
    review = _review(runtime, review_id)
    if runtime.port is None:
        await _start_web(runtime)  # after a restart the page needs its server back
    budget = min(max(timeout_seconds if timeout_seconds is not None else DEFAULT_WAIT_S, 0.0), MAX_WAIT_S)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    broker = runtime.reviews.broker
    while True:
        slice_s = min(PROGRESS_EVERY_S, max(deadline - loop.time(), 0.0))
        entries = await broker.wait(review.id, slice_s, lambda: review.state == "approved")
        if entries:
            result = AwaitResult(review_id=review.id, items=[_item(review, e) for e in entries])
            broker.mark_delivered(entries, handle)  # no await between this and handing the result back
            return result
        if review.state == "approved":
            return AwaitResult(review_id=review.id, approved=True)
        if loop.time() >= deadline:
            return AwaitResult(review_id=review.id, timed_out=True)
        if progress is not None:
            await progress(budget - (deadline - loop.time()), "waiting for the reviewer's comments")


def _item(review: Review, e: Entry) -> Item:
    if e.kind == "edit":
        return Item(type="edit", review_id=review.id, path=e.path, diff=e.body)
    thread_id = (e.parent_id if e.kind == "reply" else e.id) or e.id
    root = review.comments.get(thread_id)
    if root is None:
        return Item(type=e.kind, review_id=review.id, comment_id=thread_id, body=e.body)
    thread = [ThreadMessage(author=root.author, body=root.body)]
    thread += [ThreadMessage(author=r.author, body=r.body) for r in root.replies]
    return Item(type=e.kind, review_id=review.id, comment_id=thread_id, path=root.path, line=root.line,
                end_line=root.end_line, side=root.side if root.path else None, quoted=root.quoted, body=e.body,
                thread=thread)


def await_text(result: AwaitResult) -> str:
    if result.approved:
        return APPROVED
    if result.timed_out:
        return (f"No comments yet on review {result.review_id} — the reviewer is still looking. "
                "Call await_comments again to keep waiting.")
    parts = [f"{len(result.items)} new item(s) from the reviewer on review {result.review_id}, oldest first:"]
    for item in result.items:
        parts.append(_item_text(item))
    parts.append("Address each one. Then call resolve_comment(comment_id, reply=...) for each comment you fixed "
                 "(or reply_comment to ask back), and call await_comments again.")
    return "\n\n".join(parts)


def _item_text(item: Item) -> str:
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


@_as_tool_failure
async def resolve_comment(runtime: Runtime, *, comment_id: str, reply: str | None) -> ResolvedComment:
    service = ReviewService(runtime.reviews)
    review = service.review_of_comment(comment_id)
    comment = await service.resolve(review.id, comment_id, reply=reply, author="agent")
    return ResolvedComment(review_id=review.id, comment_id=comment.id, state=comment.state)


@_as_tool_failure
async def reply_comment(runtime: Runtime, *, comment_id: str, message: str) -> Replied:
    service = ReviewService(runtime.reviews)
    review = service.review_of_comment(comment_id)
    reply_id = await service.reply(review.id, comment_id, message, author="agent")
    return Replied(review_id=review.id, comment_id=comment_id, reply_id=reply_id)
