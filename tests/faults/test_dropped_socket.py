"""A websocket that drops between sending a change and receiving its ack: the client resends the same client_id
on a new socket and the server stores the change exactly once, acks it with the first id, shows it on the page
and hands it to the agent once.

The drop is placed at each point of the request's life: before the server handled it, while the store's thread
is in the middle of writing it, while an edit is being written to the work tree, and after it was stored (the
ack is lost with the connection)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from backloop.hub import Subscriber
from backloop.mcp import tools
from backloop.protocol import Ack, ServerMessage
from backloop.review import edit, session
from tests.faults.conftest import Env, answer, failing_db, rows, start, until
from tests.support import TIMEOUT_S, Message, receive_until

HOLDS = ["none", "store_write", "file_write", "ack_lost"]


class Hold:
    """Stops a worker thread at one point until released; tells the test when it got there."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> None:
        self.entered.set()
        assert self.release.wait(TIMEOUT_S), "the hold was never released"


@pytest.fixture
def socket_closed(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Set when a subscriber's pump ends, i.e. when the server has noticed that a socket closed."""
    closed = threading.Event()
    original = Subscriber.pump

    async def pump(self: Subscriber) -> None:
        try:
            await original(self)
        finally:
            closed.set()

    monkeypatch.setattr(Subscriber, "pump", pump)
    yield closed


def agent_items(env: Env, wait_s: float) -> list[dict[str, Any]]:
    async def call() -> list[dict[str, Any]]:
        result = await tools.await_comments(env.runtime, review_id=env.review.id, timeout_seconds=wait_s)
        return [item.model_dump() for item in result.items]

    items: list[dict[str, Any]] = env.call(call)
    return items


# (Only an edit writes the work tree: a comment has no file_write point to hold at.)
CASES = [(kind, hold) for kind in ("comment", "edit") for hold in HOLDS if hold != "file_write" or kind == "edit"]


@pytest.mark.parametrize(("kind", "hold"), CASES)
def test_resent_after_a_drop_is_stored_once(env: Env, monkeypatch: pytest.MonkeyPatch,
                                            socket_closed: threading.Event, kind: str, hold: str) -> None:
    holding = Hold()
    with env.connect() as ws:
        start(ws)
        if kind == "comment":
            message: Message = {"type": "comment", "client_id": "c-1", "path": "app.py", "line": 2,
                                "body": "why 20?"}
        else:
            ws.send_json({"type": "open_file", "request_id": "o", "path": "app.py"})
            opened, _ = receive_until(ws, lambda m: m["type"] == "file_content")
            message = {"type": "edit", "client_id": "c-1", "path": "app.py", "base_hash": opened["hash"],
                       "content": opened["content"].replace("c = 3", "c = 30")}
        if hold == "store_write":
            db = failing_db(monkeypatch, env.store)
            db.before = lambda sql: holding() if sql.lstrip().startswith("INSERT INTO entries") else None
        elif hold == "file_write":
            write_edit = edit.write_edit

            def held_write(*args: Any) -> str:
                holding()
                return write_edit(*args)

            monkeypatch.setattr(session, "write_edit", held_write)
        elif hold == "ack_lost":
            reply = Subscriber.reply

            def drop_acks(self: Subscriber, message: ServerMessage) -> None:
                if not isinstance(message, Ack):
                    reply(self, message)
                else:
                    holding.entered.set()  # stored, and the ack would go out now: it is lost instead

            monkeypatch.setattr(Subscriber, "reply", drop_acks)
        ws.send_json(message)
        if hold != "none":
            assert holding.entered.wait(TIMEOUT_S), f"the request never reached the {hold} point"
    assert socket_closed.wait(TIMEOUT_S), "the server did not notice the closed socket"
    holding.release.set()
    monkeypatch.undo()  # (the socket_closed patch goes too: it served its purpose)

    if hold != "none":
        # The request was under way when the socket closed: it is carried out, the agent gets it, and what the
        # agent gets is on the page too (before any resend).
        items = agent_items(env, TIMEOUT_S)
        assert [i["type"] for i in items] == [kind], items
        if kind == "comment":
            until(env, lambda: len(env.review.comments) == 1, "the comment is in the review")
            with env.connect() as page:
                assert [c["id"] for c in start(page)["comments"]] == [items[0]["comment_id"]]

    with env.connect() as ws:  # the client reconnects and resends what was never acked
        start(ws)
        ws.send_json(message)
        ack = answer(ws, "c-1")
        assert ack["type"] == "ack", ack
        ws.send_json(message)
        assert answer(ws, "c-1")["id"] == ack["id"]
        if kind == "comment":
            assert [c["id"] for c in start_again(env)] == [ack["id"]]

    stored = rows(env.store, "SELECT id, kind FROM entries")
    assert stored == [(ack["id"], kind)]
    assert rows(env.store, "SELECT client_id, result FROM client_ops") == [("c-1", ack["id"])]
    if kind == "edit":
        assert (env.repo.root / "app.py").read_text() == "a = 1\nb = 20\nc = 30\n"
    if hold == "none":
        assert [i["type"] for i in agent_items(env, TIMEOUT_S)] == [kind]
    assert agent_items(env, 0.05) == []  # delivered exactly once


def start_again(env: Env) -> list[dict[str, Any]]:
    with env.connect() as page:
        comments: list[dict[str, Any]] = start(page)["comments"]
        return comments
