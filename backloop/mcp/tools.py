"""Each MCP tool as a plain async function over a Runtime (tested without MCP in between), and the models of
their structured results. What the tools do is review/agent.py's, which the HTTP API for agents without MCP
shares; here it is only started, translated to these models and worded for MCP.

Errors are raised as ToolFailure, a tool error whose message is meant for the agent (server.py hands it to the SDK
as the call's error); a review's own failures are said as review/failure.py says them. No SDK import: the launcher
runs a first startreview with these before the SDK has loaded (early.py).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Hashable
from pathlib import Path
from typing import ParamSpec, TypeVar

import msgspec
from pydantic import BaseModel, Field

from backloop.review import agent
from backloop.review.failure import failure
from backloop.review.service import ReviewService
from backloop.review.session import Review, ReviewError
from backloop.runtime import Runtime

DEFAULT_WAIT_S = agent.DEFAULT_WAIT_S
MAX_WAIT_S = agent.MAX_WAIT_S
APPROVED = agent.APPROVED

Progress = agent.Progress
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
    reused: bool = False
    """The review of this view was open already: it goes on, with its comments and rounds."""
    round: int = 1
    """The review's current round."""


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
    round: int = 1
    """The review's round it was said (or done) in."""


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
        review, reused = await ReviewService(runtime.reviews).open_or_start(
            Path(repo) if repo else default_repo, since=since, commit=commit, range=range, title=title)
    except ReviewError as exc:
        if exc.code != "view_needed":
            raise
        raise ToolFailure(f"startreview {exc.message}; e.g. startreview(since='HEAD')") from None
    await _start_web(runtime)
    await runtime.remember_port(review)
    return StartedReview(review_id=review.id, url=runtime.url(review), view=review.view.describe(), reused=reused,
                         round=review.round)


async def _start_web(runtime: Runtime) -> None:
    try:
        await runtime.start_web()
    except OSError as exc:
        raise ToolFailure(f"cannot start the review web server: {exc.strerror or exc}") from None


def started_text(result: StartedReview) -> str:
    return agent.started_text(agent.Started(result.review_id, result.url, result.view, result.reused, result.round),
                              agent.MCP)


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
    result = await agent.await_items(runtime.reviews, review, timeout_seconds, progress=progress, handle=handle)
    return AwaitResult.model_validate(msgspec.to_builtins(result))


def await_text(result: AwaitResult) -> str:
    return agent.await_text(msgspec.convert(result.model_dump(), agent.Awaited), agent.MCP)


@_as_tool_failure
async def resolve_comment(runtime: Runtime, *, comment_id: str, reply: str | None) -> ResolvedComment:
    return ResolvedComment.model_validate(msgspec.to_builtins(await agent.resolve(runtime.reviews, comment_id, reply)))


@_as_tool_failure
async def reply_comment(runtime: Runtime, *, comment_id: str, message: str) -> Replied:
    return Replied.model_validate(msgspec.to_builtins(await agent.reply(runtime.reviews, comment_id, message)))
