"""The person's side of the protocol over a real websocket: comments, replies, edits, approval, acks, errors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketTestSession

from backloop.review.session import Review, Reviews
from backloop.review.store import Store
from backloop.runtime import wire_live
from tests.conftest import MakeRepo
from tests.support import LIVE_QUERY, GitRepo, app_client, app_ws_url, new_review, receive, receive_until


@dataclass
class Env:
    client: TestClient
    reviews: Reviews
    review: Review
    repo: GitRepo

    def connect(self, query: str = LIVE_QUERY) -> WebSocketTestSession:
        return self.client.websocket_connect(app_ws_url(self.review.id, query))


@pytest.fixture
def env(make_repo: MakeRepo, tmp_path: Path) -> Iterator[Env]:
    repo = make_repo({"app.py": "a = 1\nb = 2\nc = 3\n", "notes.txt": "keep\n"})
    repo.write("app.py", "a = 1\nb = 20\nc = 3\n")
    store = Store(tmp_path / "state.db")
    reviews = Reviews(store)
    with app_client(reviews, wire_live(reviews)) as client:
        yield Env(client, reviews, new_review(client, reviews, repo.root), repo)
    store.close()


def start(ws: WebSocketTestSession) -> dict[str, Any]:
    hello = receive(ws)
    assert hello["type"] == "hello"
    snapshot, _ = receive_until(ws, lambda m: m["type"] == "snapshot")
    return snapshot


def ack_for(ws: WebSocketTestSession, client_id: str) -> dict[str, Any]:
    message, _ = receive_until(ws, lambda m: m.get("client_id") == client_id)
    return message


def test_comment_is_acked_quoted_and_broadcast(env: Env) -> None:
    with env.connect() as person, env.connect("since=HEAD&live=true&view=split") as other:
        start(person)
        start(other)
        person.send_json({"type": "comment", "client_id": "c-1", "path": "app.py", "line": 2, "end_line": 3,
                          "body": "why <b>20</b>?"})
        ack = ack_for(person, "c-1")
        assert ack["type"] == "ack"
        pushed, _ = receive_until(other, lambda m: m["type"] == "comment")
        comment = pushed["comment"]
        assert comment["id"] == ack["id"]
        assert comment["quoted"] == ["b = 20", "c = 3"]
        assert (comment["path"], comment["line"], comment["end_line"], comment["body"]) == (
            "app.py", 2, 3, "why <b>20</b>?")
        # Resent after a reconnect: the same id, stored once.
        person.send_json({"type": "comment", "client_id": "c-1", "path": "app.py", "line": 2, "end_line": 3,
                          "body": "why <b>20</b>?"})
        assert ack_for(person, "c-1")["id"] == ack["id"]
    assert len(env.review.comments) == 1
    with env.connect() as later:
        assert [c["id"] for c in start(later)["comments"]] == [ack["id"]]


def test_reply_resolve_and_old_side_comment(env: Env) -> None:
    with env.connect() as ws:
        start(ws)
        ws.send_json({"type": "comment", "client_id": "c", "path": "app.py", "side": "old", "line": 2,
                      "body": "was fine"})
        comment_id = ack_for(ws, "c")["id"]
        assert env.review.comments[comment_id].quoted == ["b = 2"]
        ws.send_json({"type": "reply", "client_id": "r", "comment_id": comment_id, "body": "agreed"})
        assert ack_for(ws, "r")["type"] == "ack"
        pushed, _ = receive_until(ws, lambda m: m["type"] == "comment" and m["comment"]["replies"])
        assert pushed["comment"]["replies"][0]["body"] == "agreed"
        ws.send_json({"type": "resolve", "client_id": "s", "comment_id": comment_id})
        ack_for(ws, "s")
        resolved, _ = receive_until(ws, lambda m: m["type"] == "comment" and m["comment"].get("state") == "resolved")
        assert resolved["comment"]["id"] == comment_id


@pytest.mark.parametrize(("message", "code"), [
    ({"type": "comment", "client_id": "x", "path": "nope.py", "body": "hi"}, "not_in_diff"),
    ({"type": "comment", "client_id": "x", "path": "app.py", "line": 99, "body": "hi"}, "not_in_diff"),
    ({"type": "comment", "client_id": "x", "path": "app.py", "body": ""}, "invalid_message"),
    ({"type": "reply", "client_id": "x", "comment_id": "missing", "body": "hi"}, "unknown_comment"),
    ({"type": "edit", "client_id": "x", "path": "notes.txt", "base_hash": "0", "content": "y"}, "edit_refused"),
    ({"type": "edit", "client_id": "x", "path": "../../etc/passwd", "base_hash": "0", "content": "y"},
     "edit_refused"),
    ({"type": "request_changes", "client_id": "x", "body": " "}, "invalid_message"),
])
def test_bad_requests_get_errors_and_the_connection_lives(env: Env, message: dict[str, Any], code: str) -> None:
    with env.connect() as ws:
        start(ws)
        ws.send_json(message)
        error = ack_for(ws, "x")
        assert error["type"] == "error" and error["code"] == code, error
        ws.send_json({"type": "ping", "nonce": "still-here"})
        receive_until(ws, lambda m: m["type"] == "pong" and m["nonce"] == "still-here")


def test_edit_round_trip_and_conflict(env: Env) -> None:
    with env.connect() as ws:
        start(ws)
        ws.send_json({"type": "open_file", "request_id": "o1", "path": "app.py"})
        content, _ = receive_until(ws, lambda m: m["type"] == "file_content")
        assert content["content"] == "a = 1\nb = 20\nc = 3\n"
        ws.send_json({"type": "edit", "client_id": "e1", "path": "app.py", "base_hash": content["hash"],
                      "content": "a = 1\nb = 21\nc = 3\n"})
        assert ack_for(ws, "e1")["type"] == "ack"
        assert (env.repo.root / "app.py").read_text() == "a = 1\nb = 21\nc = 3\n"
        updated, _ = receive_until(ws, lambda m: m["type"] == "file" and m["file"]["path"] == "app.py"
                                   and any(ln["text"] == "b = 21" for h in m["file"]["hunks"] for ln in h["lines"]))
        assert updated["file"]["additions"] == 1
        # The same base again: the file changed since, so the edit is refused and nothing is written.
        ws.send_json({"type": "edit", "client_id": "e2", "path": "app.py", "base_hash": content["hash"],
                      "content": "overwritten\n"})
        conflict = ack_for(ws, "e2")
        assert conflict["type"] == "error" and conflict["code"] == "edit_conflict"
        assert (env.repo.root / "app.py").read_text() == "a = 1\nb = 21\nc = 3\n"


def test_edits_need_a_live_view(env: Env) -> None:
    env.repo.git("add", "app.py")
    with env.connect("since=HEAD") as ws:
        start(ws)
        ws.send_json({"type": "open_file", "request_id": "o", "path": "app.py"})
        error, _ = receive_until(ws, lambda m: m["type"] == "error")
        assert error["code"] == "not_live"


def test_approve_and_request_changes_update_every_client(env: Env) -> None:
    with env.connect() as ws, env.connect() as other:
        start(ws)
        start(other)
        ws.send_json({"type": "request_changes", "client_id": "rc", "body": "please rename"})
        ack_for(ws, "rc")
        state, _ = receive_until(other, lambda m: m["type"] == "review")
        assert state["state"] == "changes_requested"
        ws.send_json({"type": "approve", "client_id": "ap"})
        ack_for(ws, "ap")
        state, _ = receive_until(other, lambda m: m["type"] == "review" and m["state"] == "approved")
    assert env.review.state == "approved"
    with env.connect() as later:
        assert receive(later)["review"]["state"] == "approved"


def test_comments_follow_their_code_or_become_outdated(env: Env) -> None:
    with env.connect() as ws:
        start(ws)
        ws.send_json({"type": "comment", "client_id": "c", "path": "app.py", "line": 2, "body": "this line"})
        comment_id = ack_for(ws, "c")["id"]
        env.repo.write("app.py", "# header\n# more\na = 1\nb = 20\nc = 3\n")  # two lines above it
        moved, _ = receive_until(ws, lambda m: m["type"] == "comment" and m["comment"].get("line") == 4)
        assert moved["comment"]["id"] == comment_id and not moved["comment"].get("outdated")
        env.repo.write("app.py", "# header\n# more\na = 1\nc = 3\n")  # the commented line is gone
        gone, _ = receive_until(ws, lambda m: m["type"] == "comment" and m["comment"].get("outdated"))
        assert gone["comment"]["line"] == 4 and gone["comment"]["quoted"] == ["b = 20"]
    assert env.review.comments[comment_id].outdated


def test_the_ack_comes_before_the_change_is_pushed(env: Env) -> None:
    """The sender's own socket gets the ack of a change before the change itself (as every client gets it)."""
    with env.connect() as ws:
        start(ws)
        ws.send_json({"type": "comment", "client_id": "c", "path": "app.py", "line": 1, "body": "one"})
        first, _ = receive_until(ws, lambda m: m["type"] in ("ack", "comment"))
        assert first == {"type": "ack", "client_id": "c", "id": first.get("id")}
        receive_until(ws, lambda m: m["type"] == "comment" and m["comment"]["id"] == first["id"])
        ws.send_json({"type": "reply", "client_id": "r", "comment_id": first["id"], "body": "two"})
        second, _ = receive_until(ws, lambda m: m["type"] in ("ack", "comment"))
        assert second == {"type": "ack", "client_id": "r", "id": second.get("id")}
