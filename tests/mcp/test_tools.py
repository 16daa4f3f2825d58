"""The MCP tools through the SDK's in-memory client, against a real Runtime (store, web server) and real repos."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import pytest
from mcp import Client
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from backloop.config import Settings
from backloop.mcp import handshake, tools
from backloop.mcp.schemas import compact_schema
from backloop.mcp.server import build_server
from backloop.review import agent
from backloop.review import pending as pending_review
from backloop.review.service import ReviewService
from backloop.review.session import ReviewEvent
from backloop.runtime import Runtime
from tests.conftest import MakeRepo
from tests.support import ROOT, GitRepo

pytestmark = pytest.mark.anyio
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/review/([0-9a-f]{24})/view\?since=HEAD&live=true")
DOCS = ROOT / "docs" / "mcp.md"


def text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def agent_becomes(runtime: Runtime, review_id: str, state: str) -> None:
    """Wait (event-driven) until the review's agent state is ``state``."""
    review = runtime.reviews.get(review_id)
    assert review is not None
    reached = anyio.Event()

    def check(_event: ReviewEvent | None = None) -> None:
        if review.agent == state:
            reached.set()

    runtime.reviews.listen(check)
    check()
    with anyio.fail_after(10):
        await reached.wait()


class Harness:
    def __init__(self, runtime: Runtime, client: Client, repo: GitRepo) -> None:
        self.runtime = runtime
        self.client = client
        self.repo = repo

    async def call(self, name: str, args: dict[str, Any] | None = None) -> CallToolResult:
        return await self.client.call_tool(name, args or {})

    async def start(self) -> str:
        result = await self.call("startreview", {"since": "HEAD"})
        assert not result.is_error, text(result)
        match = URL.search(text(result))
        assert match, text(result)
        return match[2]


@pytest.fixture
async def harness(make_repo: MakeRepo, tmp_path: Path) -> AsyncIterator[Harness]:
    repo = make_repo({"app.py": "def f():\n    return 1\n", "README.md": "hello\n"})
    repo.write("app.py", "def f():\n    return 2\n")
    runtime = Runtime(Settings(state_dir=tmp_path / "state"))
    server = build_server(runtime, repo.root)
    try:
        async with Client(server, mode="legacy") as client:
            yield Harness(runtime, client, repo)
    finally:
        await runtime.close()


async def test_tools_match_the_docs(harness: Harness) -> None:
    listed = {t.name: t for t in (await harness.client.list_tools()).tools}
    documented = set(re.findall(r"^### `([a-z_]+)`", DOCS.read_text(), re.M))
    assert set(listed) == documented == {"startreview", "await_comments", "resolve_comment", "reply_comment"}
    for tool in listed.values():
        assert tool.description and len(tool.description) > 80
        for param in tool.input_schema.get("properties", {}):
            assert f"`{param}`" in DOCS.read_text(), f"{tool.name}.{param} is not documented"
    assert "await_comments" in (listed["startreview"].description or "")


async def test_the_workflow_is_in_the_instructions(harness: Harness) -> None:
    """Said once for the whole server, not in every tool: the tools list stays small (test_handshake.py)."""
    instructions = harness.client.instructions or ""
    assert instructions == handshake.INSTRUCTIONS
    for step in ("startreview", "URL", "await_comments", "resolve_comment", "reply_comment", "No comments yet",
                 tools.APPROVED):
        assert step in instructions, step


def test_compact_schemas_accept_what_the_full_ones_accept() -> None:
    """compact_schema drops only what repeats: the same instances validate (or fail) under both."""

    class Thread(BaseModel):
        author: str

    class Result(BaseModel):
        title: str | None = None  # a property named like the keywords it drops
        default: int = 0
        items: list[Thread] = Field(default_factory=list)
        side: str | None = Field(default=None, description="new or old")

    full = Result.model_json_schema()
    compact = compact_schema(full)
    assert "title" not in compact and set(compact["properties"]) == {"title", "default", "items", "side"}
    assert compact["properties"]["side"] == {"description": "new or old", "type": ["string", "null"]}
    assert len(json.dumps(compact)) < len(json.dumps(full)) * 2 / 3
    for instance in [{}, {"title": None, "side": "new"}, {"title": 3}, {"default": "x"}, {"side": 1},
                     {"items": [{"author": "person"}]}, {"items": [{}]}, {"items": [{"author": None}]}, []]:
        assert jsonschema.Draft202012Validator(full).is_valid(instance) == \
            jsonschema.Draft202012Validator(compact).is_valid(instance), instance


@pytest.mark.parametrize(("args", "message"), [
    ({}, "exactly one of since, commit or range"),
    ({"since": "HEAD", "commit": "HEAD"}, "exactly one of since, commit or range"),
    ({"since": "no-such-branch"}, "unknown since 'no-such-branch'"),
    ({"since": "--output=/tmp/x"}, "not a valid git revision"),
    ({"range": "main"}, "must have the form A..B"),
])
async def test_startreview_refuses_bad_input(harness: Harness, args: dict[str, Any], message: str) -> None:
    result = await harness.call("startreview", args)
    assert result.is_error
    assert message in text(result)
    assert harness.runtime.reviews.all() == []  # nothing stored for a refused review


async def test_startreview_not_a_repo(harness: Harness, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    result = await harness.call("startreview", {"since": "HEAD", "repo": str(plain)})
    assert result.is_error and "not inside a git work tree" in text(result)


async def test_startreview_returns_url_and_next_step(harness: Harness) -> None:
    result = await harness.call("startreview", {"since": "HEAD", "title": "my change"})
    body = text(result)
    match = URL.search(body)
    assert match and int(match[1]) == harness.runtime.port
    assert "await_comments" in body and "give the URL to the user" in body
    assert result.structured_content is not None
    assert result.structured_content["review_id"] == match[2]
    assert harness.runtime.reviews.get(match[2]) is not None
    commit = await harness.call("startreview", {"commit": "HEAD"})
    assert "/view?commit=HEAD&live=false" in text(commit)


async def test_await_times_out_with_a_clear_message(harness: Harness) -> None:
    review_id = await harness.start()
    result = await harness.call("await_comments", {"review_id": review_id, "timeout_seconds": 0.05})
    assert "No comments yet" in text(result) and "await_comments again" in text(result)
    assert result.structured_content is not None and result.structured_content["timed_out"] is True


async def test_unknown_ids_are_tool_errors(harness: Harness) -> None:
    await harness.start()
    for name, args in [("await_comments", {"review_id": "feed" * 6}),
                       ("resolve_comment", {"comment_id": "nope"}),
                       ("reply_comment", {"comment_id": "nope", "message": "hi"})]:
        result = await harness.call(name, args)
        assert result.is_error, name
        assert "nope" in text(result) or "feed" in text(result)


async def test_comment_round_trip(harness: Harness) -> None:
    review_id = await harness.start()
    reviews = harness.runtime.reviews
    first = await reviews.comment(review_id, "c1", body="Why 2?", path="app.py", side="new", line=2,
                                  quoted=["    return 2"])
    second = await reviews.comment(review_id, "c2", body="Whole file nit", path="README.md")
    result = await harness.call("await_comments", {"review_id": review_id, "timeout_seconds": 5})
    body = text(result)
    assert body.index("Why 2?") < body.index("Whole file nit")  # oldest first
    assert "app.py, line 2" in body and "return 2" in body
    assert result.structured_content is not None
    items = result.structured_content["items"]
    assert [i["comment_id"] for i in items] == [first.id, second.id]
    assert items[0] | {"thread": None} == items[0] | {
        "type": "comment", "review_id": review_id, "path": "app.py", "line": 2, "side": "new",
        "quoted": ["    return 2"], "body": "Why 2?", "thread": None}
    # Delivered once: the next call waits again.
    again = await harness.call("await_comments", {"review_id": review_id, "timeout_seconds": 0.05})
    assert "No comments yet" in text(again)

    resolved = await harness.call("resolve_comment", {"comment_id": first.id, "reply": "Fixed: returns 3"})
    assert not resolved.is_error
    assert text(resolved) == agent.resolved_text(agent.ResolvedThread(review_id, first.id, "resolved"))
    thread = reviews.get(review_id).comments[first.id]  # type: ignore[union-attr]
    assert thread.state == "resolved"
    assert [(r.author, r.body) for r in thread.replies] == [("agent", "Fixed: returns 3")]

    asked = await harness.call("reply_comment", {"comment_id": second.id, "message": "Which nit?"})
    assert not asked.is_error
    assert asked.structured_content is not None  # (worded as backloop review words it, with the tool's name)
    replied = agent.RepliedThread(review_id, second.id, asked.structured_content["reply_id"])
    assert text(asked) == agent.replied_text(replied, agent.MCP)
    await reviews.reply(review_id, "r1", second.id, "The title")
    answer = await harness.call("await_comments", {"review_id": review_id, "timeout_seconds": 5})
    assert "The title" in text(answer) and "Which nit?" in text(answer)  # the thread comes along


async def test_approve_returns_review_approved_after_pending_items(harness: Harness) -> None:
    review_id = await harness.start()
    reviews = harness.runtime.reviews
    await reviews.comment(review_id, "c1", body="last nit", path="app.py")
    await reviews.approve(review_id, "a1")
    first = await harness.call("await_comments", {"review_id": review_id, "timeout_seconds": 5})
    assert "last nit" in text(first)
    second = await harness.call("await_comments", {"review_id": review_id, "timeout_seconds": 5})
    assert text(second) == tools.APPROVED
    assert second.structured_content is not None and second.structured_content["approved"] is True


async def test_await_wakes_when_a_comment_arrives(harness: Harness) -> None:
    review_id = await harness.start()
    got: list[CallToolResult] = []

    async def wait() -> None:
        got.append(await harness.call("await_comments", {"review_id": review_id, "timeout_seconds": 30}))

    async with anyio.create_task_group() as tg:
        tg.start_soon(wait)
        await agent_becomes(harness.runtime, review_id, "waiting")
        await harness.runtime.reviews.comment(review_id, "c1", body="now", path="app.py")
    assert "now" in text(got[0])
    await agent_becomes(harness.runtime, review_id, "working")


async def test_a_submitted_review_arrives_as_one_result(harness: Harness) -> None:
    review_id = await harness.start()
    reviews = harness.runtime.reviews
    held = [await reviews.comment(review_id, f"p{n}", body=f"held {n}", path="app.py", pending=True)
            for n in range(3)]
    for name, args in (("resolve_comment", {"comment_id": held[0].id}),
                       ("reply_comment", {"comment_id": held[0].id, "message": "?"})):
        refused = await harness.call(name, args)  # the agent cannot see them yet
        assert refused.is_error and held[0].id in text(refused)
    got: list[CallToolResult] = []

    async def wait() -> None:
        got.append(await harness.call("await_comments", {"review_id": review_id, "timeout_seconds": 30}))

    async with anyio.create_task_group() as tg:
        tg.start_soon(wait)
        await agent_becomes(harness.runtime, review_id, "waiting")
        await pending_review.submit(reviews, review_id, "s1", "and a summary", "comment")
    assert got[0].structured_content is not None
    items = got[0].structured_content["items"]
    assert [i["comment_id"] for i in items[:3]] == [c.id for c in held]
    assert [(i["type"], i["path"], i["body"]) for i in items[3:]] == [("comment", None, "and a summary")]
    assert text(got[0]).startswith("4 new item(s)")


async def test_cancelled_await_loses_nothing(harness: Harness) -> None:
    review_id = await harness.start()
    with anyio.move_on_after(0.3):
        await harness.call("await_comments", {"review_id": review_id, "timeout_seconds": 30})
    await agent_becomes(harness.runtime, review_id, "working")  # the cancellation reached the server
    comment = await harness.runtime.reviews.comment(review_id, "c1", body="after cancel", path="app.py")
    result = await harness.call("await_comments", {"review_id": review_id, "timeout_seconds": 5})
    assert result.structured_content is not None
    assert [i["comment_id"] for i in result.structured_content["items"]] == [comment.id]


async def test_progress_is_reported_while_waiting(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agent, "PROGRESS_EVERY_S", 0.05)
    review_id = await harness.start()
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    result = await harness.client.call_tool("await_comments", {"review_id": review_id, "timeout_seconds": 0.5},
                                            progress_callback=on_progress)
    assert "No comments yet" in text(result)
    assert len(seen) >= 2 and seen == sorted(seen)


async def test_direct_edit_is_reported(harness: Harness) -> None:
    review_id = await harness.start()
    reviews = harness.runtime.reviews
    content, digest = await reviews.open_file(review_id, "app.py")
    await reviews.edit(review_id, "e1", "app.py", digest, content.replace("return 2", "return 42"))
    result = await harness.call("await_comments", {"review_id": review_id, "timeout_seconds": 5})
    assert "[edit]" in text(result) and "+    return 42" in text(result)
    assert result.structured_content is not None
    item = result.structured_content["items"][0]
    assert item["type"] == "edit" and item["path"] == "app.py" and "-    return 2" in item["diff"]
    assert (harness.repo.root / "app.py").read_text() == "def f():\n    return 42\n"


async def test_items_carry_their_round_and_waiting_again_ends_one(harness: Harness) -> None:
    review_id = await harness.start()
    reviews = harness.runtime.reviews
    review = reviews.get(review_id)
    assert review is not None
    await reviews.comment(review_id, "c1", body="round one", path="app.py", line=2)
    first = await harness.call("await_comments", {"review_id": review_id})
    assert first.structured_content is not None
    assert [i["round"] for i in first.structured_content["items"]] == [1] and review.rounds == []
    # The agent fixed it and waits again: round 1 ends ("fixed"), with the code as the agent left it.
    harness.repo.write("app.py", "def f():\n    return 3\n")
    await reviews.comment(review_id, "c2", body="round two", path="README.md")
    second = await harness.call("await_comments", {"review_id": review_id, "timeout_seconds": 5})
    assert [(r.number, r.ended_by, r.how) for r in review.rounds] == [(1, "agent", "fixed")]
    assert second.structured_content is not None
    # (c2 was said while round 1 was still going: the agent had not come back yet)
    assert [(i["body"], i["round"]) for i in second.structured_content["items"]] == [("round two", 1)]
    # The person asks for more: that ends round 2, before the agent comes back.
    await ReviewService(reviews).request_changes(review_id, "rc", "and the name")
    third = await harness.call("await_comments", {"review_id": review_id, "timeout_seconds": 5})
    assert third.structured_content is not None
    assert [(i["type"], i["round"]) for i in third.structured_content["items"]] == [("request_changes", 2)]
    assert [(r.number, r.ended_by, r.how) for r in review.rounds] == [
        (1, "agent", "fixed"), (2, "person", "requested changes")]
    recorded = await reviews.rounds.baseline(review_id, 1)
    assert recorded.read(recorded.files["app.py"] or "") == b"def f():\n    return 3\n"


async def test_startreview_again_goes_on_with_the_open_review(harness: Harness) -> None:
    review_id = await harness.start()
    again = await harness.call("startreview", {"since": "HEAD"})
    assert again.structured_content is not None
    assert again.structured_content["review_id"] == review_id and again.structured_content["reused"] is True
    assert "already open" in text(again) and "round 1" in text(again)
    other = await harness.call("startreview", {"commit": "HEAD"})
    assert other.structured_content is not None and other.structured_content["reused"] is False
