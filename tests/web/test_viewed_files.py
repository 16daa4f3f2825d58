"""Viewed files over a real websocket: marks reach every window of the review and come with the next snapshot, and
a viewed file whose diff changes comes back unviewed and changed."""

from __future__ import annotations

from starlette.testclient import WebSocketTestSession

from tests.conftest import MakeRepo
from tests.support import Message, receive, receive_until
from tests.web.conftest import Served


def start(ws: WebSocketTestSession) -> tuple[Message, list[Message]]:
    """The snapshot, and what follows it up to a pong (a ``viewed`` message right after it, if any)."""
    assert receive(ws)["type"] == "hello"
    snapshot, _ = receive_until(ws, lambda m: m["type"] == "snapshot")
    ws.send_json({"type": "ping", "nonce": "start"})
    _, after = receive_until(ws, lambda m: m["type"] == "pong")
    return snapshot, after


def viewed(ws: WebSocketTestSession, **expected: tuple[bool, bool]) -> None:
    """Until a ``viewed`` message says exactly ``path=(viewed, changed)`` for the given paths."""
    want = [{"path": p.replace("_", "."), "viewed": v, "changed": c} for p, (v, c) in sorted(expected.items())]
    receive_until(ws, lambda m: m["type"] == "viewed" and m["files"] == want)


def test_viewed_marks_reach_every_window_and_come_back_changed(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"a.py": "one\n", "b.py": "x = 1\n"})
    repo.write("a.py", "one!\n")
    repo.write("b.py", "x  =  1\ny = 2\n")  # (another diff where whitespace is ignored: another digest)
    review = served.review(repo.root)
    with served.ws(review.id) as person, served.ws(review.id, "since=HEAD&live=true&ws=1") as other:
        _, after = start(person)
        assert not [m for m in after if m["type"] == "viewed"]  # nothing viewed yet: nothing said
        start(other)
        person.send_json({"type": "set_viewed", "client_id": "v1", "path": "a.py", "viewed": True})
        ack, _ = receive_until(person, lambda m: m.get("client_id") == "v1")
        assert ack == {"type": "ack", "client_id": "v1", "id": "a.py"}
        viewed(other, a_py=(True, False))
        other.send_json({"type": "set_viewed", "client_id": "v2", "path": "b.py", "viewed": True})  # another view
        viewed(person, b_py=(True, False))

        repo.write("a.py", "one, changed again\n")
        viewed(person, a_py=(False, True))
        viewed(other, a_py=(False, True))

        person.send_json({"type": "set_viewed", "client_id": "v3", "path": "nope.py", "viewed": True})
        error, _ = receive_until(person, lambda m: m.get("client_id") == "v3")
        assert error["code"] == "not_in_diff"

    with served.ws(review.id) as reloaded:
        _, after = start(reloaded)
        assert [m["files"] for m in after if m["type"] == "viewed"] == [[
            {"path": "a.py", "viewed": False, "changed": True}, {"path": "b.py", "viewed": True, "changed": False}]]
        reloaded.send_json({"type": "set_viewed", "client_id": "v4", "path": "b.py", "viewed": False})
        viewed(reloaded, b_py=(False, False))
        reloaded.send_json({"type": "set_viewed", "client_id": "v5", "path": "a.py", "viewed": True})
        viewed(reloaded, a_py=(True, False))




def test_a_window_on_another_view_sees_viewed_files_come_back(make_repo: MakeRepo, served: Served) -> None:
    """Looking at the review only in another view keeps its own view running (not only lingering a while), which
    tells the change."""
    repo = make_repo({"a.py": "one\n"})
    repo.write("a.py", "one!\n")
    review = served.review(repo.root)
    own = (review.id, review.view.diff_key())
    views = served.hub.views
    with served.ws(review.id, "since=HEAD&live=true&context=1") as other:
        start(other)
        assert views._running[own].users == 1
        other.send_json({"type": "set_viewed", "client_id": "v", "path": "a.py", "viewed": True})
        viewed(other, a_py=(True, False))
        repo.write("a.py", "one, changed\n")
        viewed(other, a_py=(False, True))
    assert views._running[own].users == 0
