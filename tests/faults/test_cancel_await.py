"""``await_comments`` cancelled at every point of its life: whatever it had not handed back is delivered by the
next call, exactly once.

Points: before the wait (while the web server starts, and at the first store read), during the wait, right as a
comment arrives (0-7 loop iterations after it was stored), during the store read (before it ran and after it
returned), while reporting progress; directly on ``tools.await_comments`` and through the SDK's in-memory MCP
client (where the cancellation travels as ``notifications/cancelled``)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, types
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from backloop import runtime as runtime_module
from backloop.config import Settings
from backloop.git.repo import Repo
from backloop.mcp import tools
from backloop.mcp.server import build_server
from backloop.review import agent as agent_side
from backloop.review.session import Review
from backloop.runtime import Runtime
from backloop.viewspec import parse_view
from backloop.web import serve
from tests.conftest import MakeRepo
from tests.mcp.test_tools import agent_becomes
from tests.support import TIMEOUT_S

pytestmark = pytest.mark.anyio


@dataclass
class Agent:
    runtime: Runtime
    review: Review
    count: int = 0
    received: list[str] = field(default_factory=list)

    async def comment(self) -> str:
        self.count += 1
        made = await self.runtime.reviews.comment(self.review.id, f"c{self.count}", body=f"comment {self.count}",
                                                  path="app.py")
        return made.id

    async def call(self, wait_s: float, progress: tools.Progress | None = None) -> list[str]:
        """One await_comments call; what it delivered is added to ``received``."""
        result = await tools.await_comments(self.runtime, review_id=self.review.id, timeout_seconds=wait_s,
                                            progress=progress)
        ids = [item.comment_id or "" for item in result.items]
        self.received.extend(ids)
        return ids

    async def cancelled_call(self, wait_s: float, tg: anyio.abc.TaskGroup) -> None:
        tg.start_soon(self.call, wait_s)

    async def waiting(self) -> None:
        await agent_becomes(self.runtime, self.review.id, "waiting")

    async def drained(self, expected: list[str]) -> None:
        """Everything in ``expected`` was delivered exactly once, counting one more call now."""
        if sorted(self.received) != sorted(expected):
            await self.call(TIMEOUT_S)
        assert sorted(self.received) == sorted(expected), "lost or duplicated"
        assert await self.call(0.05) == []


@pytest.fixture
async def agent(make_repo: MakeRepo, tmp_path: Path) -> AsyncIterator[Agent]:
    repo = make_repo({"app.py": "a = 1\n"})
    repo.write("app.py", "a = 2\n")
    runtime = Runtime(Settings(state_dir=tmp_path / "state"))
    review = await runtime.reviews.create(await Repo.open(repo.root), parse_view({"since": "HEAD", "live": "true"}))
    try:
        yield Agent(runtime, review)
    finally:
        await runtime.close()


async def test_cancelled_while_the_web_server_starts(agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    bound: list[socket.socket] = []

    def counting_bind(host: str, port: int) -> socket.socket:
        bound.append(serve.bind(host, port))
        return bound[-1]

    monkeypatch.setattr(runtime_module, "bind", counting_bind)
    assert agent.runtime.port is None  # (as after a restart: the first await_comments starts the server)
    with anyio.CancelScope() as scope:
        scope.cancel()
        await agent.call(30)
    comment = await agent.comment()
    await agent.drained([comment])
    assert len(bound) == 1, "a second web server was started (and the first was never stopped)"
    assert agent.runtime.port == bound[0].getsockname()[1]


async def test_cancelled_at_the_first_store_read(agent: Agent) -> None:
    await agent.runtime.start_web()
    comment = await agent.comment()
    with anyio.CancelScope() as scope:
        scope.cancel()
        await agent.call(30)
    await agent.drained([comment])


async def test_cancelled_during_the_wait(agent: Agent) -> None:
    async with anyio.create_task_group() as tg:
        await agent.cancelled_call(30, tg)
        await agent.waiting()
        tg.cancel_scope.cancel()
    await agent_becomes(agent.runtime, agent.review.id, "working")
    comment = await agent.comment()
    await agent.drained([comment])


@pytest.mark.parametrize("iterations", range(8))
async def test_cancelled_as_a_comment_arrives(agent: Agent, iterations: int) -> None:
    async with anyio.create_task_group() as tg:
        await agent.cancelled_call(30, tg)
        await agent.waiting()
        comment = await agent.comment()  # stored, and the waiting call woken
        for _ in range(iterations):
            await anyio.lowlevel.checkpoint()
        tg.cancel_scope.cancel()
    await agent.drained([comment])


@pytest.mark.parametrize("when", ["before", "after"])
async def test_cancelled_during_the_store_read(agent: Agent, monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    await agent.runtime.start_web()
    comment = await agent.comment()
    entered, gate = anyio.Event(), anyio.Event()
    store = agent.runtime.store
    read = store.pending

    async def held(review_id: str) -> Any:
        if when == "before":
            entered.set()
            await gate.wait()
            return await read(review_id)
        entries = await read(review_id)  # the read ran; its result is thrown away by the cancellation
        entered.set()
        await gate.wait()
        return entries

    monkeypatch.setattr(store, "pending", held)
    async with anyio.create_task_group() as tg:
        await agent.cancelled_call(30, tg)
        await entered.wait()
        tg.cancel_scope.cancel()
    monkeypatch.undo()
    await agent.drained([comment])


async def test_cancelled_while_reporting_progress(agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agent_side, "PROGRESS_EVERY_S", 0.01)
    reporting = anyio.Event()

    async def progress(elapsed: float, message: str) -> None:
        reporting.set()
        await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        tg.start_soon(agent.call, 30, progress)
        await reporting.wait()
        comment = await agent.comment()
        tg.cancel_scope.cancel()
    await agent.drained([comment])


async def test_cancelled_over_mcp_as_comments_arrive(agent: Agent) -> None:
    """The agent's MCP client gives up on calls at many points while comments keep coming; over all its calls it
    gets every comment once (a call the client cancelled must not have taken any away). Some of these cancels
    reach the server after its result was made: the client then sends ``notifications/cancelled`` and drops the
    result when it comes, and the server must deliver those comments again."""
    await agent.runtime.start_web()
    server = build_server(agent.runtime, agent.review.repo.root)
    sent: list[str] = []
    received: list[str] = []

    async def call(client: Client, wait_s: float) -> None:
        result = await client.call_tool("await_comments", {"review_id": agent.review.id, "timeout_seconds": wait_s})
        assert result.structured_content is not None, result
        received.extend(item["comment_id"] for item in result.structured_content["items"])

    async with Client(server, mode="legacy") as client:
        # As agents do: list the tools first. (Otherwise the SDK client fetches them to validate the first
        # result, after it arrived, and a cancellation there drops a result the server cannot know was lost.)
        await client.list_tools()
        for round_ in range(24):
            async with anyio.create_task_group() as tg:
                tg.start_soon(call, client, 30)
                await agent.waiting()
                sent.append(await agent.comment())
                for _ in range(round_ % 12):
                    await anyio.lowlevel.checkpoint()
                tg.cancel_scope.cancel()
            await agent_becomes(agent.runtime, agent.review.id, "working")
        if sorted(received) != sorted(sent):
            await call(client, TIMEOUT_S)
        assert sorted(received) == sorted(sent), f"lost {set(sent) - set(received)}; duplicated " \
                                                 f"{[c for c in set(received) if received.count(c) > 1]}"
        await call(client, 0.05)
        assert sorted(received) == sorted(sent)


async def test_a_cancel_after_the_result_was_made_delivers_again(agent: Agent) -> None:
    """Deterministically, the late cancel: the result of a call is made and sent, and then the client cancels
    that call (its caller had given up, so the result was dropped). The next call gets the comment again."""
    await agent.runtime.start_web()
    server = build_server(agent.runtime, agent.review.repo.root)
    calls: list[str] = []

    async def record(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call":
            calls.append(str(ctx.request_id))
        return await call_next(ctx)

    server.middleware.insert(0, record)
    comment = await agent.comment()
    async with Client(server, mode="legacy") as client:
        args = {"review_id": agent.review.id, "timeout_seconds": 0.05}
        first = await client.call_tool("await_comments", args)
        assert first.structured_content is not None
        assert [i["comment_id"] for i in first.structured_content["items"]] == [comment]
        await client.session.send_notification(types.CancelledNotification(
            params=types.CancelledNotificationParams(request_id=calls[-1], reason="caller cancelled")))
        again = await client.call_tool("await_comments", {**args, "timeout_seconds": TIMEOUT_S})
        assert again.structured_content is not None
        assert [i["comment_id"] for i in again.structured_content["items"]] == [comment]
        # A cancel for a call that delivered nothing, or for an unknown request, changes nothing.
        await client.session.send_notification(types.CancelledNotification(
            params=types.CancelledNotificationParams(request_id="no-such-request")))
        last = await client.call_tool("await_comments", args)
        assert last.structured_content is not None and last.structured_content["timed_out"] is True
