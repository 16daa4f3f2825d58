"""Pending reviews over a real websocket: "Start a review" comments are held (shown as pending to every window,
editable, deletable), and "Submit review" hands all of them and the summary to a waiting agent as one result. A
client that speaks only the first protocol messages keeps working as before."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from starlette.testclient import WebSocketTestSession

from backloop import protocol
from backloop.review.entry import Entry
from backloop.review.session import Review
from tests.conftest import MakeRepo
from tests.support import TIMEOUT_S, Message, receive, receive_until
from tests.web.conftest import Served

FILES = {"app.py": "a = 1\nb = 2\nc = 3\nd = 4\n"}
CHANGED = "a = 10\nb = 20\nc = 30\nd = 40\n"


def setup(make_repo: MakeRepo, served: Served) -> Review:
    repo = make_repo(FILES)
    repo.write("app.py", CHANGED)
    return served.review(repo.root)


def start(ws: WebSocketTestSession) -> Message:
    assert receive(ws)["type"] == "hello"
    snapshot, _ = receive_until(ws, lambda m: m["type"] == "snapshot")
    return snapshot


def answer(ws: WebSocketTestSession, client_id: str) -> Message:
    message, _ = receive_until(ws, lambda m: m.get("client_id") == client_id)
    return message


def agent_waiting(served: Served, review: Review, ws: WebSocketTestSession) -> Future[list[Entry]]:
    """An ``await_comments``-like call of the agent, blocked (the page has been told it waits) before it returns."""
    assert served.client.portal is not None
    waiter = served.client.portal.start_task_soon(served.reviews.broker.wait, review.id, TIMEOUT_S, lambda: False)
    receive_until(ws, lambda m: m["type"] == "review" and m["agent"] == "waiting")
    return waiter


async def _mark_delivered(served: Served, entries: list[Entry]) -> None:
    served.reviews.broker.mark_delivered(entries)


def comment_message(comment_id: str) -> Callable[[Message], bool]:
    return lambda m: m["type"] == "comment" and m["comment"]["id"] == comment_id


def answer_and_before(ws: WebSocketTestSession, client_id: str) -> tuple[Message, list[Message]]:
    return receive_until(ws, lambda m: m.get("client_id") == client_id)


def pending_comment(ws: WebSocketTestSession, client_id: str, line: int, body: str | None = None) -> str:
    ws.send_json({"type": "comment", "client_id": client_id, "path": "app.py", "line": line,
                  "body": body or f"on line {line}", "pending": True})
    ack = answer(ws, client_id)
    assert ack["type"] == "ack", ack
    return str(ack["id"])


def test_a_review_is_held_then_submitted_as_one_result(make_repo: MakeRepo, served: Served) -> None:
    review = setup(make_repo, served)
    with served.ws(review.id) as person, served.ws(review.id, "since=HEAD&live=true&view=split") as other:
        start(person)
        start(other)
        waiter = agent_waiting(served, review, person)
        ids = [pending_comment(person, f"p{n}", n) for n in (1, 2, 3)]
        for comment_id in ids:  # every window shows them, as pending
            pushed, _ = receive_until(other, comment_message(comment_id))
            assert pushed["comment"]["pending"] is True
        person.send_json({"type": "ping", "nonce": "after"})  # the comments' announcements have all been handled
        receive_until(person, lambda m: m["type"] == "pong")
        assert not waiter.done()

        person.send_json({"type": "submit_review", "client_id": "s", "body": "see the three comments",
                          "verdict": "request_changes"})
        assert answer(person, "s")["type"] == "ack"
        got = waiter.result(TIMEOUT_S)
        assert [e.id for e in got[:3]] == ids
        assert [(e.kind, e.body) for e in got[3:]] == [("request_changes", "see the three comments")]
        receive_until(other, lambda m: m["type"] == "review" and m["state"] == "changes_requested")
        submitted = {c["id"]: c for c in start_again(served, review)["comments"]}
        assert [submitted[i].get("pending", False) for i in ids] == [False, False, False]


def start_again(served: Served, review: Review) -> Message:
    with served.ws(review.id) as fresh:
        return start(fresh)


def test_pending_comments_are_edited_and_deleted_in_every_window(make_repo: MakeRepo, served: Served) -> None:
    review = setup(make_repo, served)
    with served.ws(review.id) as person, served.ws(review.id) as other:
        start(person)
        start(other)
        keep, drop = pending_comment(person, "p1", 1), pending_comment(person, "p2", 2)
        person.send_json({"type": "edit_comment", "client_id": "e", "comment_id": keep, "body": "better words"})
        assert answer(person, "e") == {"type": "ack", "client_id": "e", "id": keep}
        edited, _ = receive_until(other, lambda m: m["type"] == "comment" and m["comment"]["body"] == "better words")
        assert edited["comment"]["pending"] is True
        person.send_json({"type": "delete_comment", "client_id": "d", "comment_id": drop})
        assert answer(person, "d")["type"] == "ack"
        receive_until(other, lambda m: m == {"type": "comment_removed", "id": drop})

        person.send_json({"type": "reply", "client_id": "r", "comment_id": keep, "body": "more"})
        assert answer(person, "r")["code"] == "pending_comment"
        suggesting = pending_comment(person, "p3", 3, "```suggestion\nc = 3\n```")
        person.send_json({"type": "apply_suggestions", "client_id": "a", "ids": [suggesting]})
        assert answer(person, "a")["code"] == "pending_comment"
        person.send_json({"type": "delete_comment", "client_id": "d3", "comment_id": suggesting})
        answer(person, "d3")
        person.send_json({"type": "submit_review", "client_id": "s", "verdict": "comment"})
        answer(person, "s")
        person.send_json({"type": "edit_comment", "client_id": "late", "comment_id": keep, "body": "too late"})
        assert answer(person, "late")["code"] == "not_pending"
        person.send_json({"type": "delete_comment", "client_id": "gone", "comment_id": drop})
        assert answer(person, "gone")["code"] == "unknown_comment"
        person.send_json({"type": "submit_review", "client_id": "empty"})
        assert answer(person, "empty")["code"] == "invalid_message"  # nothing pending, no summary
    comments = start_again(served, review)["comments"]
    assert [(c["id"], c["body"], c.get("pending", False)) for c in comments] == [(keep, "better words", False)]


def test_pending_comments_survive_a_reload(make_repo: MakeRepo, served: Served) -> None:
    review = setup(make_repo, served)
    with served.ws(review.id) as person:
        start(person)
        held = pending_comment(person, "p1", 2)
    (comment,) = start_again(served, review)["comments"]
    assert (comment["id"], comment["pending"], comment["quoted"]) == (held, True, ["b = 20"])


V1_SERVER = {"hello", "snapshot", "file", "file_removed", "lines", "notice", "pong", "error", "ack", "comment",
             "review", "file_content"}
"""The message types of the first protocol: what a client written for it knows."""
V1_COMMENT = {"id", "body", "created_at", "kind", "path", "side", "line", "end_line", "quoted", "author", "state",
              "outdated", "replies"}


def test_a_client_of_the_first_protocol_keeps_working(make_repo: MakeRepo, served: Served) -> None:
    """Comments without a pending flag reach the agent at once; request_changes and approve do what they did; and
    nothing it is sent in doing so is new to it."""
    review = setup(make_repo, served)
    assert protocol.PROTOCOL_VERSION == 1
    with served.ws(review.id) as v1:
        seen = [receive(v1), *receive_until(v1, lambda m: m["type"] == "snapshot")[1]]
        waiter = agent_waiting(served, review, v1)
        v1.send_json({"type": "comment", "client_id": "c1", "path": "app.py", "line": 1, "body": "why 10?"})
        ack, before = receive_until(v1, lambda m: m.get("client_id") == "c1")
        seen += [*before, ack]
        assert [e.id for e in waiter.result(TIMEOUT_S)] == [ack["id"]]
        assert served.client.portal is not None
        served.client.portal.call(_mark_delivered, served, waiter.result())  # what the agent's call does

        waiter = agent_waiting(served, review, v1)
        for message in ({"type": "reply", "client_id": "r1", "comment_id": ack["id"], "body": "and 20?"},
                        {"type": "resolve", "client_id": "s1", "comment_id": ack["id"]},
                        {"type": "request_changes", "client_id": "q1", "body": "please explain"}):
            v1.send_json(message)
            reply, before = answer_and_before(v1, message["client_id"])
            assert reply["type"] == "ack", reply
            seen += [*before, reply]
        assert waiter.result(TIMEOUT_S)[0].kind == "reply"
        if not any(m["type"] == "review" and m["state"] == "changes_requested" for m in seen):
            # (the request ends a round, recorded before its ack: the new state may have come before the ack)
            state, before = receive_until(v1, lambda m: m["type"] == "review" and m["state"] == "changes_requested")
            seen += [*before, state]
        v1.send_json({"type": "approve", "client_id": "a1"})
        state, before = receive_until(v1, lambda m: m["type"] == "review" and m["state"] == "approved")
        seen += [*before, state]
        v1.send_json({"type": "ping", "nonce": "end"})
        pong, before = receive_until(v1, lambda m: m["type"] == "pong")
        seen += [*before, pong]
    # ``round`` tells every client that a round ended (request_changes, approve): a client of the first protocol
    # ignores it, as it ignores any message type it does not know.
    assert {m["type"] for m in seen} - {"round"} <= V1_SERVER
    assert any(m["type"] == "round" for m in seen)
    comments = [m["comment"] for m in seen if m["type"] == "comment"]
    assert comments and all(set(c) <= V1_COMMENT for c in comments)
    assert review.state == "approved"
