"""The MCP tools as the agent sees them: names, parameters and descriptions, each calling its plain function in
tools.py and encoding the result. Serving them on stdio is stdio.py's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.session import ServerSession
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from backloop.mcp import tools
from backloop.mcp.handshake import INSTRUCTIONS, SERVER_NAME
from backloop.mcp.schemas import CompactServer
from backloop.runtime import Runtime

# The workflow is said once, in the server's instructions (handshake.INSTRUCTIONS); each tool says what it does,
# and its parameters what they are.
START_DESCRIPTION = """Start a review of your changes; returns the URL to give the user, then call await_comments.
Exactly one of since, commit or range. E.g. since='HEAD' before committing, since='HEAD~1' after,
range='origin/main..HEAD' for a branch."""

AWAIT_DESCRIPTION = f"""Wait for the reviewer. Returns every item not received yet, oldest first (comments with
their comment_id, place, quoted code and thread; replies; edits the reviewer made in the page), or exactly
"{tools.APPROVED}" when the review is done, or "No comments yet" after timeout_seconds: then call it again."""

RESOLVE_DESCRIPTION = """Mark a comment resolved once you addressed it; the reply (what you changed) shows in its
thread in the reviewer's browser."""

REPLY_DESCRIPTION = """Answer in a comment's thread without resolving it, e.g. to ask the reviewer a question; their
answer comes through await_comments."""

COMMENT_ID = "From await_comments."


@contextmanager
def _told() -> Iterator[None]:
    """A ToolFailure raised as the SDK's ToolError, whose message the SDK gives the agent (it hides any other's)."""
    try:
        yield
    except tools.ToolFailure as exc:
        raise ToolError(str(exc)) from None


def _result(text: str, model: BaseModel) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)],
                          structured_content=model.model_dump(mode="json"))


def build_server(runtime: Runtime, default_repo: Path) -> MCPServer:
    from backloop import __version__

    server = CompactServer(SERVER_NAME, version=__version__, instructions=INSTRUCTIONS)

    @server.tool(name="startreview", description=START_DESCRIPTION)
    async def startreview(
        since: Annotated[str | None, Field(description="Review all changes since this revision, uncommitted and "
                                                       "untracked files too; live.")] = None,
        commit: Annotated[str | None, Field(description="Review this commit.")] = None,
        range: Annotated[str | None, Field(description="Review A..B, or A...B (from the merge base).")] = None,
        title: str | None = None,
        repo: Annotated[str | None, Field(description="Default: the working directory.")] = None,
    ) -> Annotated[CallToolResult, tools.StartedReview]:
        with _told():
            result = await tools.start_review(runtime, since=since, commit=commit, range=range, title=title,
                                              repo=repo, default_repo=default_repo)
        return _result(tools.started_text(result), result)

    @server.tool(name="await_comments", description=AWAIT_DESCRIPTION)
    async def await_comments(
        ctx: Context,
        review_id: Annotated[str | None, Field(description="Default: the latest review.")] = None,
        timeout_seconds: Annotated[float | None, Field(
            description=f"Default {tools.DEFAULT_WAIT_S:.0f}, at most {tools.MAX_WAIT_S:.0f}.", ge=0)] = None,
    ) -> Annotated[CallToolResult, tools.AwaitResult]:
        async def progress(elapsed: float, message: str) -> None:
            await ctx.report_progress(elapsed, None, message)

        with _told():
            result = await tools.await_comments(runtime, review_id=review_id, timeout_seconds=timeout_seconds,
                                                progress=progress, handle=_handle(ctx.session, ctx.request_id))
        return _result(tools.await_text(result), result)

    @server.tool(name="resolve_comment", description=RESOLVE_DESCRIPTION)
    async def resolve_comment(
        comment_id: Annotated[str, Field(description=COMMENT_ID)],
        reply: Annotated[str | None, Field(description="Optional, shown in the thread.")] = None,
    ) -> Annotated[CallToolResult, tools.ResolvedComment]:
        with _told():
            result = await tools.resolve_comment(runtime, comment_id=comment_id, reply=reply)
        return _result(f"Comment {comment_id} resolved.", result)

    @server.tool(name="reply_comment", description=REPLY_DESCRIPTION)
    async def reply_comment(
        comment_id: Annotated[str, Field(description=COMMENT_ID)],
        message: Annotated[str, Field(description="Your reply.")],
    ) -> Annotated[CallToolResult, tools.Replied]:
        with _told():
            result = await tools.reply_comment(runtime, comment_id=comment_id, message=message)
        return _result(f"Reply posted in the thread of {comment_id}; their answer will arrive via await_comments.",
                       result)

    async def cancelled(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        # A cancel for an await_comments call that already returned: the client dropped the result, so the
        # comments it carried must be delivered again (the SDK forwards such late cancels to middleware).
        if ctx.method == "notifications/cancelled" and ctx.params and ctx.params.get("requestId") is not None:
            runtime.reviews.broker.undeliver(_handle(ctx.session, ctx.params["requestId"]))
        return await call_next(ctx)

    server.middleware.append(cancelled)
    return server


def _handle(session: ServerSession, request_id: object) -> tuple[int, str]:
    """An MCP request, by connection (its initialize parameters: the session object is made per message) and
    request id (ids are per connection)."""
    return id(session.client_params), str(request_id)
