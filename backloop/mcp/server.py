"""The MCP tools as the agent sees them: names, parameters and descriptions, each calling its plain function in
tools.py and encoding the result. Serving them on stdio is stdio.py's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.session import ServerSession
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from backloop.mcp import tools
from backloop.mcp.handshake import INSTRUCTIONS, SERVER_NAME
from backloop.runtime import Runtime

START_DESCRIPTION = """Start a new review of your changes and get the URL to give to the user.

Exactly one of since, commit or range must be given:
- since='HEAD': review changes since a commit, including uncommitted and untracked files (live: the page updates
  as you edit)
- commit='abc123': review one commit
- range='main..feature': review a range of commits (A...B: against the merge base)
Examples: startreview(since='HEAD') before committing; startreview(since='HEAD~1') after committing;
startreview(range='origin/main..HEAD') for a PR branch.
After starting, give the URL to the user, then call await_comments."""

AWAIT_DESCRIPTION = f"""Block until the reviewer posts comments or approves the review.

Returns every comment, reply, "request changes" summary and direct edit the reviewer made that you have not
received yet (oldest first), each with its comment_id, file, line(s), the quoted code and the thread. Fix the code,
then call resolve_comment for each comment (or reply_comment to ask back) and call await_comments again.
Returns exactly "{tools.APPROVED}" once the reviewer approved and nothing is pending: the review is done.
If nothing arrives within timeout_seconds (default {tools.DEFAULT_WAIT_S:.0f}), returns "No comments yet" — just
call await_comments again. If the reviewer edited a file directly, re-read it before changing it."""

RESOLVE_DESCRIPTION = """Mark a review comment as resolved once you addressed it; the optional reply (e.g. what you
changed) appears in the comment's thread in the reviewer's browser."""

REPLY_DESCRIPTION = """Reply in a comment's thread without resolving it, e.g. to ask the reviewer a question. Their
answer arrives through await_comments."""


def _result(text: str, model: BaseModel) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)],
                          structured_content=model.model_dump(mode="json"))


def build_server(runtime: Runtime, default_repo: Path) -> MCPServer:
    from backloop import __version__

    server = MCPServer(SERVER_NAME, version=__version__, instructions=INSTRUCTIONS)

    @server.tool(name="startreview", description=START_DESCRIPTION)
    async def startreview(
        since: Annotated[str | None, Field(description="Review changes since this revision (live).")] = None,
        commit: Annotated[str | None, Field(description="Review the change of this commit.")] = None,
        range: Annotated[str | None, Field(description="Review a range A..B or A...B.")] = None,
        title: Annotated[str | None, Field(description="Optional review title.")] = None,
        repo: Annotated[str | None, Field(description="Repository path (default: the working directory).")] = None,
    ) -> Annotated[CallToolResult, tools.StartedReview]:
        result = await tools.start_review(runtime, since=since, commit=commit, range=range, title=title,
                                          repo=repo, default_repo=default_repo)
        return _result(tools.started_text(result), result)

    @server.tool(name="await_comments", description=AWAIT_DESCRIPTION)
    async def await_comments(
        ctx: Context,
        review_id: Annotated[str | None, Field(description="The review (default: the latest one).")] = None,
        timeout_seconds: Annotated[float | None, Field(
            description=f"How long to wait before returning 'No comments yet' (default {tools.DEFAULT_WAIT_S:.0f}, "
                        f"at most {tools.MAX_WAIT_S:.0f}).", ge=0)] = None,
    ) -> Annotated[CallToolResult, tools.AwaitResult]:
        async def progress(elapsed: float, message: str) -> None:
            await ctx.report_progress(elapsed, None, message)

        result = await tools.await_comments(runtime, review_id=review_id, timeout_seconds=timeout_seconds,
                                            progress=progress, handle=_handle(ctx.session, ctx.request_id))
        return _result(tools.await_text(result), result)

    @server.tool(name="resolve_comment", description=RESOLVE_DESCRIPTION)
    async def resolve_comment(
        comment_id: Annotated[str, Field(description="The comment_id from await_comments.")],
        reply: Annotated[str | None, Field(description="Optional reply shown in the thread.")] = None,
    ) -> Annotated[CallToolResult, tools.ResolvedComment]:
        result = await tools.resolve_comment(runtime, comment_id=comment_id, reply=reply)
        return _result(f"Comment {comment_id} resolved.", result)

    @server.tool(name="reply_comment", description=REPLY_DESCRIPTION)
    async def reply_comment(
        comment_id: Annotated[str, Field(description="The comment_id from await_comments.")],
        message: Annotated[str, Field(description="Your reply.")],
    ) -> Annotated[CallToolResult, tools.Replied]:
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
