"""``kill -9`` of a real ``backloop server`` between "Start a review" and "Submit review": every acknowledged pending
comment is still there, still pending, after a restart on the same state directory; the agent (a real
``backloop-mcp`` on that state) gets none of them before the submission and all of them, as one result, after."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from mcp import Client as McpClient

from tests.conftest import MakeRepo
from tests.real_server import RealServer, client, mcp_params
from tests.support import TIMEOUT_S

pytestmark = pytest.mark.anyio


async def test_kill_9_before_submitting_loses_no_pending_comment(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"app.py": "a = 1\nb = 2\nc = 3\n"})
    repo.write("app.py", "a = 10\nb = 20\nc = 30\n")
    state = tmp_path / "state"

    first = await asyncio.to_thread(RealServer.launch, repo.root, state)
    try:
        async with client(first.ws_url()) as ws:
            for n in (1, 2, 3):
                await ws.send({"type": "comment", "client_id": f"p{n}", "path": "app.py", "line": n,
                               "body": f"pending {n}", "pending": True})
            await ws.until(lambda: all(f"p{n}" in ws.answers for n in (1, 2, 3)), "the acks")
            held = [ws.answers[f"p{n}"]["id"] for n in (1, 2, 3)]
            assert all(ws.answers[f"p{n}"]["type"] == "ack" for n in (1, 2, 3))
            await asyncio.to_thread(first.kill)  # SIGKILL: no shutdown, nothing flushed on the way out
    finally:
        await asyncio.to_thread(first.kill)

    second = await asyncio.to_thread(RealServer.launch, repo.root, state)
    try:
        assert second.review_id == first.review_id
        async with McpClient(mcp_params(repo.root, state), mode="legacy", read_timeout_seconds=60) as agent:
            async with client(second.ws_url()) as page:
                assert [page.comments[i]["pending"] for i in held] == [True, True, True]
                early = await agent.call_tool("await_comments", {"review_id": second.review_id,
                                                                 "timeout_seconds": 0.2})
                assert early.structured_content is not None and early.structured_content["timed_out"], early
                await page.send({"type": "submit_review", "client_id": "s", "body": "three things",
                                 "verdict": "request_changes"})
                await page.until(lambda: "s" in page.answers, "the ack of the submission")
                assert page.answers["s"]["type"] == "ack", page.answers["s"]
            result = await agent.call_tool("await_comments", {"review_id": second.review_id,
                                                              "timeout_seconds": TIMEOUT_S})
            assert result.structured_content is not None and not result.is_error, result
            items = result.structured_content["items"]
            assert sorted(i["comment_id"] for i in items[:3]) == sorted(held)  # (stored in the order they came)
            assert [(i["type"], i["body"]) for i in items[3:]] == [("request_changes", "three things")]
    finally:
        await asyncio.to_thread(second.stop)
    assert "Traceback" not in "".join(second.output), "".join(second.output)
