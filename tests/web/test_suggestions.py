"""Suggested changes over a real websocket: applied through the edit path (the agent is told, the thread says
"applied"), several at once, the agent's own suggestion, and refusals that write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import WebSocketTestSession

from backloop.review.session import Reviews
from backloop.review.store import Store
from backloop.runtime import wire_live
from tests.conftest import MakeRepo
from tests.support import app_client, new_review, receive, receive_until
from tests.web.test_review_messages import Env, ack_for, start

SUGGEST = "Use a constant:\n```suggestion\nb = LIMIT\n```"


@pytest.fixture
def env(make_repo: MakeRepo, tmp_path: Path) -> Iterator[Env]:
    repo = make_repo({"app.py": "a = 1\nb = 2\nc = 3\n", "lib.py": "x = 1\ny = 2\n"})
    repo.write("app.py", "a = 1\nb = 20\nc = 3\n")
    repo.write("lib.py", "x = 10\ny = 2\n")
    store = Store(tmp_path / "state.db")
    reviews = Reviews(store)
    with app_client(reviews, wire_live(reviews)) as client:
        yield Env(client, reviews, new_review(client, reviews, repo.root), repo)
    store.close()


def comment(ws: WebSocketTestSession, client_id: str, path: str, line: int, body: str) -> str:
    ws.send_json({"type": "comment", "client_id": client_id, "path": path, "line": line, "body": body})
    ack = ack_for(ws, client_id)
    assert ack["type"] == "ack", ack
    return str(ack["id"])


def thread_update(ws: WebSocketTestSession, comment_id: str) -> dict[str, Any]:
    message, _ = receive_until(ws, lambda m: m["type"] == "comment" and m["comment"]["id"] == comment_id
                               and bool(m["comment"].get("applied")))
    return dict(message["comment"])


def pending_items(env: Env) -> list[Any]:
    async def pending() -> list[Any]:
        return await env.reviews.broker.pending(env.review.id)

    return list(env.client.portal.call(pending))  # type: ignore[union-attr]


def test_applying_a_suggestion_edits_the_file_and_tells_the_agent(env: Env) -> None:
    with env.connect() as ws:
        start(ws)
        cid = comment(ws, "c-1", "app.py", 2, SUGGEST)
        ws.send_json({"type": "apply_suggestions", "client_id": "apply-1", "ids": [cid]})
        ack = ack_for(ws, "apply-1")
        assert ack["type"] == "ack"
        assert (env.repo.root / "app.py").read_text() == "a = 1\nb = LIMIT\nc = 3\n"
        assert thread_update(ws, cid)["applied"] == [cid]
        edits = [e for e in pending_items(env) if e.kind == "edit"]
        assert len(edits) == 1 and "-b = 20\n+b = LIMIT\n" in edits[0].body and edits[0].path == "app.py"
        ws.send_json({"type": "apply_suggestions", "client_id": "apply-1", "ids": [cid]})  # resent: the same edit
        assert ack_for(ws, "apply-1")["id"] == ack["id"]
        ws.send_json({"type": "apply_suggestions", "client_id": "apply-2", "ids": [cid]})  # a second time: refused
        assert ack_for(ws, "apply-2")["code"] == "suggestion_refused"
    assert (env.repo.root / "app.py").read_text() == "a = 1\nb = LIMIT\nc = 3\n"


def test_several_suggestions_in_two_files_at_once(env: Env) -> None:
    with env.connect() as ws:
        start(ws)
        first = comment(ws, "c-1", "app.py", 1, "```suggestion\nA = 1\n```")
        second = comment(ws, "c-2", "app.py", 3, "```suggestion\nC = 3\n```")
        third = comment(ws, "c-3", "lib.py", 1, "```suggestion\nX = 10\n```")
        ws.send_json({"type": "apply_suggestions", "client_id": "apply", "ids": [first, second, third]})
        assert ack_for(ws, "apply")["type"] == "ack"
    assert (env.repo.root / "app.py").read_text() == "A = 1\nb = 20\nC = 3\n"
    assert (env.repo.root / "lib.py").read_text() == "X = 10\ny = 2\n"
    edits = [e for e in pending_items(env) if e.kind == "edit"]
    assert sorted(e.path for e in edits) == ["app.py", "lib.py"]  # one item per file for the agent
    threads = env.review.comments
    assert threads[first].applied == [first] and threads[second].applied == [second]


def test_a_suggestion_whose_lines_the_agent_changed_is_refused(env: Env) -> None:
    with env.connect() as ws:
        start(ws)
        cid = comment(ws, "c-1", "app.py", 2, SUGGEST)
        env.repo.write("app.py", "a = 1\nb = 21  # the agent's fix\nc = 3\n")  # a concurrent write by the agent
        ws.send_json({"type": "apply_suggestions", "client_id": "apply", "ids": [cid]})
        error = ack_for(ws, "apply")
        assert error["type"] == "error" and error["code"] == "suggestion_refused"
        assert "changed since" in error["message"]
    assert (env.repo.root / "app.py").read_text() == "a = 1\nb = 21  # the agent's fix\nc = 3\n"
    assert not [e for e in pending_items(env) if e.kind == "edit"]


def test_lines_that_moved_are_found_again(env: Env) -> None:
    with env.connect() as ws:
        start(ws)
        cid = comment(ws, "c-1", "app.py", 2, SUGGEST)
        env.repo.write("app.py", "# header\na = 1\nb = 20\nc = 3\n")
        ws.send_json({"type": "apply_suggestions", "client_id": "apply", "ids": [cid]})
        assert ack_for(ws, "apply")["type"] == "ack"
    assert (env.repo.root / "app.py").read_text() == "# header\na = 1\nb = LIMIT\nc = 3\n"


def test_the_agents_suggestion_applied_by_the_person(env: Env) -> None:
    with env.connect() as ws:
        start(ws)
        cid = comment(ws, "c-1", "app.py", 2, "20 is too much")

        async def agent_reply() -> str:
            return await env.reviews.reply(env.review.id, None, cid, "```suggestion\nb = 2\n```", author="agent")

        reply_id = env.client.portal.call(agent_reply)  # type: ignore[union-attr]
        ws.send_json({"type": "apply_suggestions", "client_id": "apply", "ids": [reply_id]})
        assert ack_for(ws, "apply")["type"] == "ack"
        assert thread_update(ws, cid)["applied"] == [reply_id]
    assert (env.repo.root / "app.py").read_text() == "a = 1\nb = 2\nc = 3\n"


def test_only_in_live_views(env: Env) -> None:
    with env.connect() as ws:
        start(ws)
        cid = comment(ws, "c-1", "app.py", 2, SUGGEST)
    with env.connect("since=HEAD") as staged:
        assert receive(staged)["type"] == "hello"
        staged.send_json({"type": "apply_suggestions", "client_id": "apply", "ids": [cid]})
        assert ack_for(staged, "apply")["code"] == "not_live"
    assert (env.repo.root / "app.py").read_text() == "a = 1\nb = 20\nc = 3\n"


def test_the_open_threads_as_markdown(env: Env) -> None:
    with env.connect() as ws:
        start(ws)
        comment(ws, "c-1", "app.py", 2, "why ```20```?\n\n# not a heading")
        done = comment(ws, "c-2", "lib.py", 1, "fine")
        ws.send_json({"type": "resolve", "client_id": "r", "comment_id": done})
        ack_for(ws, "r")
    response = env.client.get(f"/review/{env.review.id}/comments.md")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/markdown")
    text = response.text
    assert "## app.py:2" in text and "    2 | b = 20" in text
    assert "> why ```20```?" in text and "> # not a heading" in text  # the body cannot break the document
    assert "lib.py" not in text  # resolved threads are done
    assert "applied already" not in text
    assert env.client.get("/review/0123456789abcdef01234567/comments.md").status_code == 404


def test_the_markdown_says_which_suggestions_are_applied_already(env: Env) -> None:
    with env.connect() as ws:
        start(ws)
        cid = comment(ws, "c-1", "app.py", 2, SUGGEST)
        ws.send_json({"type": "apply_suggestions", "client_id": "apply", "ids": [cid]})
        assert ack_for(ws, "apply")["type"] == "ack"
    text = env.client.get(f"/review/{env.review.id}/comments.md").text
    assert "**person** (its suggestion is applied already):\n\n> Use a constant:\n> ```suggestion\n" in text
