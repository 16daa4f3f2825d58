"""``kill -9`` of a real ``backloop server`` while comments are being posted and acked over websockets; then a
restart with the same state directory. Every acked comment is there (in a fresh websocket snapshot), the clients
resend what was never acked and each comment is stored exactly once, and a real ``backloop-mcp`` process (the
agent's side, on the same state) delivers every one of them, once."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mcp import Client as McpClient
from websockets.exceptions import ConnectionClosed

from tests.conftest import MakeRepo
from tests.real_server import Client, RealServer, client, mcp_params
from tests.support import TIMEOUT_S, Message

pytestmark = pytest.mark.anyio
WRITERS = 3
WINDOW = 4
"""Comments each writer has in flight (sent, not yet acked)."""
KILL_AFTER = 30
"""Acks (over all writers) after which the server is killed."""


@dataclass
class Writer:
    name: str
    sent: dict[str, Message] = field(default_factory=dict)
    acked: dict[str, str] = field(default_factory=dict)

    def message(self, n: int) -> Message:
        client_id = f"{self.name}-{n}"
        return {"type": "comment", "client_id": client_id, "path": "app.py", "body": f"comment {client_id}"}

    async def post_until_closed(self, ws: Client, enough: asyncio.Event, total: Callable[[], int]) -> None:
        """Post comments, WINDOW at a time, until the connection dies; set ``enough`` after KILL_AFTER acks."""
        n = 0
        with contextlib.suppress(ConnectionClosed):
            while not ws.closed:
                while len(self.sent) - len(self.acked) < WINDOW:
                    message = self.message(n)
                    n += 1
                    self.sent[message["client_id"]] = message
                    await ws.send(message)
                ws.changed.clear()
                await ws.changed.wait()
                self.acked = {cid: a["id"] for cid, a in ws.answers.items() if a["type"] == "ack"}
                if total() >= KILL_AFTER:
                    enough.set()
        self.acked = {cid: a["id"] for cid, a in ws.answers.items() if a["type"] == "ack"}


async def test_kill_9_while_comments_are_posted(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"app.py": "a = 1\n"})
    repo.write("app.py", "a = 2\n")
    state = tmp_path / "state"
    writers = [Writer(f"w{k}") for k in range(WRITERS)]

    first = await asyncio.to_thread(RealServer.launch, repo.root, state)
    try:
        enough = asyncio.Event()
        async with contextlib.AsyncExitStack() as stack:
            sockets = [await stack.enter_async_context(client(first.ws_url())) for _ in writers]
            posting = [asyncio.create_task(w.post_until_closed(ws, enough, lambda: sum(len(w.acked) for w in writers)))
                       for w, ws in zip(writers, sockets, strict=True)]
            async with asyncio.timeout(TIMEOUT_S):
                await enough.wait()
            await asyncio.to_thread(first.kill)  # SIGKILL, with comments in flight
            async with asyncio.timeout(TIMEOUT_S):
                await asyncio.gather(*posting)
    finally:
        await asyncio.to_thread(first.kill)
    acked = {cid: cid_id for w in writers for cid, cid_id in w.acked.items()}
    sent = {cid: m for w in writers for cid, m in w.sent.items()}
    assert len(acked) >= KILL_AFTER
    assert len(sent) > len(acked), "nothing was in flight when the server was killed"

    second = await asyncio.to_thread(RealServer.launch, repo.root, state)
    try:
        assert second.review_id == first.review_id  # the review is restored
        # Each client reconnects and resends what was never acked (as the page does), with the same client_id.
        resent: dict[str, str] = {}
        async with client(second.ws_url()) as ws:
            for cid, message in sent.items():
                if cid not in acked:
                    await ws.send(message)
            unacked = [cid for cid in sent if cid not in acked]
            await ws.until(lambda: all(cid in ws.answers for cid in unacked), "acks for the resent comments")
            for cid in unacked:
                assert ws.answers[cid]["type"] == "ack", ws.answers[cid]
                resent[cid] = ws.answers[cid]["id"]
            # Resending an acked one again changes nothing either (same id back).
            some = next(iter(acked))
            await ws.send(sent[some])
            await ws.until(lambda: ws.answers.get(some, {}).get("type") == "ack", "the ack of a duplicate")
            assert ws.answers[some]["id"] == acked[some]

        async with client(second.ws_url()) as fresh:  # a fresh page
            comments = fresh.comments
        bodies = Counter(c["body"] for c in comments.values())
        assert set(bodies) == {m["body"] for m in sent.values()}, "a comment is missing"
        assert max(bodies.values()) == 1, "a comment is stored twice"
        assert set(acked.values()) <= set(comments), "an acked comment is lost"
        assert set(resent.values()) <= set(comments)

        # The agent: a real backloop-mcp on the same state directory gets every comment, once.
        async with McpClient(mcp_params(repo.root, state), mode="legacy", read_timeout_seconds=60) as agent:
            delivered: list[str] = []
            while len(delivered) < len(comments):
                result = await agent.call_tool("await_comments", {"review_id": second.review_id,
                                                                  "timeout_seconds": TIMEOUT_S})
                assert result.structured_content is not None and not result.is_error, result
                assert not result.structured_content["timed_out"], f"only {len(delivered)} of {len(comments)}"
                delivered += [item["comment_id"] for item in result.structured_content["items"]]
            assert sorted(delivered) == sorted(comments)
            again = await agent.call_tool("await_comments", {"review_id": second.review_id,
                                                             "timeout_seconds": 0.2})
            assert again.structured_content is not None and again.structured_content["timed_out"]
    finally:
        await asyncio.to_thread(second.stop)
    assert "Traceback" not in "".join(second.output), "".join(second.output)
