"""A full disk (or a state directory that cannot be written): the person gets ``storage_failed``, the agent a tool
error, nothing crashes and nothing is half-written; once the disk has room again, resending works, exactly once.

The failure is injected in front of the store's sqlite3 connection (tests run as root, so a read-only directory
would not stop the writes): either every write fails, or the statements run and their COMMIT fails (a full disk
is often only noticed when the write-ahead log grows), which must roll back the whole transaction.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult, TextContent

from backloop.mcp import tools
from backloop.mcp.server import build_server
from tests.conftest import MakeRepo
from tests.faults.conftest import DISK_FULL, Env, answer, failing_db, ping, rows, start
from tests.support import Message, receive_until

State = tuple[Any, ...]


def state(env: Env) -> State:
    """Everything a failed request must leave as it was: memory, database and work tree."""
    return (
        {cid: c for cid, c in env.review.comments.items()},
        env.review.state,
        rows(env.store, "SELECT id, kind, parent_id, body, state FROM entries ORDER BY seq"),
        rows(env.store, "SELECT client_id, result FROM client_ops ORDER BY client_id"),
        rows(env.store, "SELECT state FROM reviews"),
        (env.repo.root / "app.py").read_bytes(),
        sorted(p.name for p in env.repo.root.iterdir()),
    )


def comment_first(env: Env, ws: Any) -> str:
    ws.send_json({"type": "comment", "client_id": "setup", "path": "app.py", "line": 2, "body": "why 20?"})
    ack = answer(ws, "setup")
    assert ack["type"] == "ack", ack
    return str(ack["id"])


def request(kind: str, env: Env, ws: Any, comment_id: str) -> Message:
    """The message of ``kind``, with client id ``x`` (for an edit: based on the file as it is now)."""
    if kind == "comment":
        return {"type": "comment", "client_id": "x", "path": "app.py", "line": 2, "body": "second thought"}
    if kind == "reply":
        return {"type": "reply", "client_id": "x", "comment_id": comment_id, "body": "see above"}
    if kind == "resolve":
        return {"type": "resolve", "client_id": "x", "comment_id": comment_id}
    if kind == "request_changes":
        return {"type": "request_changes", "client_id": "x", "body": "rename b"}
    if kind == "approve":
        return {"type": "approve", "client_id": "x", "body": "ship it after the rename"}
    assert kind == "edit"
    ws.send_json({"type": "open_file", "request_id": "o", "path": "app.py"})
    opened, _ = receive_until(ws, lambda m: m["type"] == "file_content")
    return {"type": "edit", "client_id": "x", "path": "app.py", "base_hash": opened["hash"],
            "content": opened["content"].replace("b = 20", "b = 21")}


KINDS = ["comment", "reply", "resolve", "request_changes", "approve", "edit"]


@pytest.mark.parametrize("mode", ["write", "commit", "later"])
@pytest.mark.parametrize("kind", KINDS)
def test_person_gets_storage_failed_and_nothing_is_half_written(env: Env, monkeypatch: pytest.MonkeyPatch,
                                                                 kind: str, mode: str) -> None:
    with env.connect() as ws, env.connect() as other:
        start(ws)
        start(other)
        comment_id = comment_first(env, ws)
        message = request(kind, env, ws, comment_id)
        before = state(env)
        db = failing_db(monkeypatch, env.store)
        db.mode = mode
        ws.send_json(message)
        first = answer(ws, "x")
        ping(ws)  # the connection lives
        ping(other)
        if mode != "later" or first["type"] == "error":
            # ("later": a request that writes more than once must fail as a whole, or succeed as a whole.)
            assert first["type"] == "error" and first["code"] == "storage_failed", first
            assert DISK_FULL in first["message"] and "nothing was saved" in first["message"]
            assert db.failures >= 1
            assert state(env) == before, f"a failed {kind} changed the state"

        db.mode = None  # room on the disk again: the client resends the same message
        ws.send_json(message)
        ack = answer(ws, "x")
        assert ack["type"] == "ack", ack
        if first["type"] == "ack":
            assert first["id"] == ack["id"]
        ws.send_json(message)  # and once more, as after a second reconnect: still one
        assert answer(ws, "x")["id"] == ack["id"]

    entries = rows(env.store, "SELECT kind, body FROM entries ORDER BY seq")
    expected = {
        "comment": [("comment", "why 20?"), ("comment", "second thought")],
        "reply": [("comment", "why 20?"), ("reply", "see above")],
        "resolve": [("comment", "why 20?")],
        "request_changes": [("comment", "why 20?"), ("request_changes", "rename b")],
        "approve": [("comment", "why 20?"), ("comment", "ship it after the rename"), ("approve", "ship it after the "
                                                                                               "rename")],
        "edit": [("comment", "why 20?")],
    }[kind]
    if kind == "edit":
        assert [k for k, _ in entries] == ["comment", "edit"]
        assert "+b = 21" in entries[1][1]
        assert (env.repo.root / "app.py").read_text() == "a = 1\nb = 21\nc = 3\n"
    elif kind == "approve":
        assert sorted(entries) == sorted(expected)
    else:
        assert entries == expected
    review_state = {"request_changes": "changes_requested", "approve": "approved"}.get(kind, "open")
    assert env.review.state == review_state
    assert rows(env.store, "SELECT state FROM reviews") == [(review_state,)]
    if kind == "resolve":
        assert env.review.comments[comment_id].state == "resolved"
        assert rows(env.store, "SELECT state FROM entries WHERE id = ?", comment_id) == [("resolved",)]
    with env.connect() as later:  # a fresh page shows the same
        comments = {c["id"]: c for c in start(later)["comments"]}
        assert set(comments) == set(env.review.comments)
        assert sum(len(c.get("replies", [])) for c in comments.values()) == (kind == "reply")


def text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


@pytest.mark.parametrize("mode", ["write", "commit", "later"])
def test_agent_gets_tool_errors_and_nothing_is_half_written(env: Env, monkeypatch: pytest.MonkeyPatch,
                                                            mode: str) -> None:
    runtime = env.runtime
    server = build_server(runtime, env.repo.root)

    async def agent() -> None:
        reviews = runtime.reviews
        first = await reviews.comment(env.review.id, "c1", body="why 20?", path="app.py", line=2, quoted=["b = 20"])
        async with Client(server, mode="legacy") as client:
            got = await client.call_tool("await_comments", {"review_id": env.review.id, "timeout_seconds": 5})
            assert first.id in text(got)
            db = failing_db(monkeypatch, runtime.store)
            for name, args in [("resolve_comment", {"comment_id": first.id, "reply": "Fixed: b is 2 again"}),
                               ("resolve_comment", {"comment_id": first.id}),
                               ("reply_comment", {"comment_id": first.id, "message": "which b?"}),
                               ("startreview", {"commit": "HEAD"})]:  # (since=HEAD would go on with env.review)
                before = state(env)
                db.mode, db.commits = mode, 0
                result = await client.call_tool(name, args)
                if mode == "later" and not result.is_error:
                    continue  # it wrote once, in one transaction: nothing can be half-done
                assert result.is_error, (name, text(result))
                assert DISK_FULL in text(result), (name, text(result))
                assert state(env) == before, f"a failed {name} changed the state"
                assert len(reviews.all()) == 1
            if mode == "later":
                return
            assert len(reviews.all()) == 1
            # Reading still works on a full disk: a comment stored before reaches the agent (once).
            db.mode = None
            second = await reviews.comment(env.review.id, "c2", body="and this", path="app.py")
            db.mode = mode
            got = await client.call_tool("await_comments", {"review_id": env.review.id, "timeout_seconds": 5})
            assert not got.is_error and second.id in text(got)
            again = await client.call_tool("await_comments", {"review_id": env.review.id, "timeout_seconds": 0.05})
            assert "No comments yet" in text(again)

            db.mode = None
            result = await client.call_tool("resolve_comment", {"comment_id": first.id, "reply": "Fixed"})
            assert not result.is_error, text(result)
        await runtime.reviews.broker.flush()

    env.call(agent)
    if mode == "later":
        return
    thread = env.review.comments[next(iter(env.review.comments))]
    assert thread.state == "resolved" and [r.body for r in thread.replies] == ["Fixed"]
    assert rows(env.store, "SELECT kind, author, body FROM entries WHERE kind = 'reply'") == [
        ("reply", "agent", "Fixed")]


def test_unusable_state_directory_is_a_clear_error_for_the_agent(make_repo: MakeRepo, tmp_path: Path) -> None:
    """The state directory cannot be created (a file is in the way): ``backloop-mcp`` still answers, and every
    tool that needs the store fails with a message naming the path; ``backloop server`` exits with one line."""
    repo = make_repo({"a.py": "x = 1\n"})
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the state directory should be\n")
    env = dict(os.environ, BACKLOOP_STATE_DIR=str(blocker / "state"), PYTHONUNBUFFERED="1")
    mcp = subprocess.Popen([sys.executable, "-m", "backloop", "mcp"], cwd=repo.root, env=env, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert mcp.stdin is not None and mcp.stdout is not None
    try:
        mcp.stdin.write(b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
                        b'"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n')
        mcp.stdin.flush()
        assert b'"id":1' in mcp.stdout.readline()
        mcp.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
                        b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"startreview",'
                        b'"arguments":{"since":"HEAD"}}}\n')
        mcp.stdin.flush()
        reply = mcp.stdout.readline().decode()
    finally:
        mcp.stdin.close()
        mcp.wait(timeout=30)
        err = mcp.stderr.read() if mcp.stderr else b""
    assert '"isError":true' in reply and "cannot open the state database" in reply, reply
    assert str(blocker) in reply
    assert mcp.returncode == 0 and b"Traceback" not in err, err.decode()

    server = subprocess.run([sys.executable, "-m", "backloop", "server", "--repo", str(repo.root)], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert server.returncode == 2
    assert re.fullmatch(r"backloop: cannot open the state database .*\n", server.stderr), server.stderr
    assert "Traceback" not in server.stderr


def test_tools_report_store_failures_as_tool_failures(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plain functions behind the tools raise ToolFailure (never a bare StoreError the SDK would hide)."""
    runtime = env.runtime

    async def agent() -> None:
        comment = await runtime.reviews.comment(env.review.id, "c1", body="hm", path="app.py")
        failing_db(monkeypatch, runtime.store).mode = "write"
        for call in (tools.resolve_comment(runtime, comment_id=comment.id, reply="done"),
                     tools.reply_comment(runtime, comment_id=comment.id, message="?")):
            with pytest.raises(tools.ToolFailure, match=DISK_FULL):
                await call

    env.call(agent)
