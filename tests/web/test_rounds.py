"""Review rounds over a real websocket: rounds end and every client hears it, ``round=N`` shows the changes since
that round (unchanged files listed as such) and stays live, comments carry their round, a client of the first
version of protocol 1 keeps working."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import WebSocketTestSession

from backloop.review.session import Review
from tests.conftest import MakeRepo
from tests.support import GitRepo, Message, receive, receive_until
from tests.web.conftest import Served

ROUND_1 = "since=HEAD&live=true&round=1"


@pytest.fixture
def repo(make_repo: MakeRepo) -> GitRepo:
    repo = make_repo({"app.py": "a = 1\nb = 2\nc = 3\n", "other.py": "x = 1\n", "notes.txt": "keep\n"})
    repo.write("app.py", "a = 1\nb = 20\nc = 3\n")
    repo.write("other.py", "x = 10\n")
    return repo


def start(ws: WebSocketTestSession) -> tuple[Message, Message]:
    hello = receive(ws)
    assert hello["type"] == "hello", hello
    snapshot, _ = receive_until(ws, lambda m: m["type"] == "snapshot")
    return hello, snapshot


def request_changes(ws: WebSocketTestSession, client_id: str = "rc") -> Message:
    ws.send_json({"type": "request_changes", "client_id": client_id, "body": "please fix"})
    ack, _ = receive_until(ws, lambda m: m.get("client_id") == client_id)
    assert ack["type"] == "ack", ack
    return ack


def by_path(snapshot: Message) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in snapshot["files"]}


Files = dict[str, dict[str, Any]]


def files_until(ws: WebSocketTestSession, files: Files, done: Callable[[Files], bool]) -> Files:
    """The files of a view as its messages change them, once ``done`` says they are what is expected (a file
    written just before may reach the view a moment later)."""
    files = dict(files)
    while not done(files):
        message, _ = receive_until(ws, lambda m: m["type"] in ("file", "file_removed"))
        if message["type"] == "file":
            files[message["file"]["path"]] = message["file"]
        else:
            files.pop(message["path"], None)
    return files


def lines(fd: dict[str, Any], kind: str) -> list[str]:
    return [ln["text"] for h in fd["hunks"] for ln in h["lines"] if ln["kind"] == kind]


@pytest.fixture
def review(served: Served, repo: GitRepo) -> Iterator[Review]:
    yield served.review(repo.root)


def test_request_changes_ends_a_round_that_every_client_hears_of(served: Served, review: Review) -> None:
    with served.ws(review.id) as person, served.ws(review.id, "since=HEAD&live=true&view=split") as other:
        hello, _ = start(person)
        assert "round" not in hello["review"] and "rounds" not in hello["review"]  # (defaults: round 1, none ended)
        start(other)
        request_changes(person)
        for ws in (person, other):
            ended, _ = receive_until(ws, lambda m: m["type"] == "round")
            assert ended["current"] == 2 and ended["last_review"] == 1
            assert [(r["number"], r["ended_by"], r["how"]) for r in ended["rounds"]] == [
                (1, "person", "requested changes")]
        # Resent after a reconnect: the same request, no second round.
        request_changes(person)
    assert review.round == 2 and len(review.rounds) == 1
    with served.ws(review.id) as later:
        hello, _ = start(later)
        info = hello["review"]
        assert (info["round"], info["last_review"], [r["number"] for r in info["rounds"]]) == (2, 1, [1])


@pytest.mark.parametrize(("verdict", "how"), [("comment", "submitted a review"),
                                               ("request_changes", "requested changes"), ("approve", "approved")])
def test_submitting_a_review_ends_one_round(served: Served, review: Review, verdict: str, how: str) -> None:
    with served.ws(review.id) as person:
        start(person)
        person.send_json({"type": "comment", "client_id": "p1", "path": "app.py", "line": 2, "body": "held",
                          "pending": True})
        receive_until(person, lambda m: m.get("client_id") == "p1")
        for _ in range(2):  # resent after a reconnect: the same submission, no second round
            person.send_json({"type": "submit_review", "client_id": "s1", "body": "see the comment",
                              "verdict": verdict})
            ack, _ = receive_until(person, lambda m: m.get("client_id") == "s1")
            assert ack["type"] == "ack", ack
        ended, _ = receive_until(person, lambda m: m["type"] == "round")
        assert [(r["number"], r["ended_by"], r["how"]) for r in ended["rounds"]] == [(1, "person", how)]
    assert review.round == 2 and [r.how for r in review.rounds] == [how]
    assert all(c.round == 1 for c in review.comments.values())


def test_round_view_shows_what_changed_since_and_stays_live(served: Served, repo: GitRepo, review: Review) -> None:
    with served.ws(review.id) as person:
        start(person)
        request_changes(person)
    repo.write("app.py", "a = 1\nb = 200\nc = 3\n")
    repo.write("new.py", "fresh\n")
    with served.ws(review.id, ROUND_1) as ws:
        hello, snapshot = start(ws)
        assert hello["review"]["view"]["round"] == 1
        assert hello["review"]["base"] == "round 1 (requested changes)"
        files = files_until(ws, by_path(snapshot), lambda fs: "new.py" in fs and lines(fs["app.py"], "add") != [])
        assert set(files) == {"app.py", "other.py", "new.py"}
        assert lines(files["app.py"], "del") == ["b = 20"] and lines(files["app.py"], "add") == ["b = 200"]
        assert files["new.py"]["status"] == "added" and lines(files["new.py"], "add") == ["fresh"]
        assert files["other.py"]["unchanged"] is True and files["other.py"]["hunks"] == []
        assert not files["app.py"].get("unchanged")
        # Live: the untouched file changes, the changed one goes back to what it was at the end of round 1.
        repo.write("other.py", "x = 11\n")
        pushed, _ = receive_until(ws, lambda m: m["type"] == "file" and m["file"]["path"] == "other.py")
        assert lines(pushed["file"], "del") == ["x = 10"] and lines(pushed["file"], "add") == ["x = 11"]
        repo.write("app.py", "a = 1\nb = 20\nc = 3\n")
        pushed, _ = receive_until(ws, lambda m: m["type"] == "file" and m["file"]["path"] == "app.py")
        assert pushed["file"]["unchanged"] is True
        # A file that was part of the diff then and is gone now.
        (repo.root / "new.py").unlink()
        pushed, _ = receive_until(ws, lambda m: m["type"] == "file_removed" and m["path"] == "new.py")
        # Comments work here as in the review's own view (the new side's lines are the same).
        ws.send_json({"type": "comment", "client_id": "c", "path": "other.py", "line": 1, "body": "why 11?"})
        comment, _ = receive_until(ws, lambda m: m["type"] == "comment")
        assert comment["comment"]["quoted"] == ["x = 11"] and comment["comment"]["round"] == 2


def test_a_file_changed_since_a_round_is_compared_with_what_it_was_then(served: Served, repo: GitRepo,
                                                                         review: Review) -> None:
    """notes.txt was not part of the diff at the end of round 1: its content then was the old side's."""
    with served.ws(review.id) as person:
        start(person)
        request_changes(person)
    repo.write("notes.txt", "keep\nmore\n")
    with served.ws(review.id, ROUND_1) as ws:
        _, snapshot = start(ws)
        notes = files_until(ws, by_path(snapshot), lambda fs: "notes.txt" in fs)["notes.txt"]
        assert notes["status"] == "modified" and lines(notes, "add") == ["more"] and lines(notes, "del") == []


@pytest.mark.parametrize(("query", "reason"), [
    ("since=HEAD&live=true&round=2", "no round has ended"),
    ("commit=HEAD&round=1", "review's own view"),
    ("since=HEAD&live=true&round=0", "round="),
])
def test_a_round_view_that_cannot_be_shown_is_refused(served: Served, review: Review, query: str,
                                                      reason: str) -> None:
    if "round=1" in query:
        with served.ws(review.id) as person:
            start(person)
            request_changes(person)
    with served.ws(review.id, query) as ws:
        error = receive(ws)
        assert error["type"] == "error" and error["code"] == "bad_view" and reason in error["message"]
        assert receive(ws)["code"] == 4400


def test_comments_carry_the_round_they_were_started_in(served: Served, review: Review) -> None:
    with served.ws(review.id) as ws:
        start(ws)
        ws.send_json({"type": "comment", "client_id": "c1", "path": "app.py", "line": 2, "body": "first look"})
        first, _ = receive_until(ws, lambda m: m["type"] == "comment")
        request_changes(ws)
        ws.send_json({"type": "comment", "client_id": "c2", "path": "app.py", "line": 1, "body": "second look"})
        second, _ = receive_until(ws, lambda m: m["type"] == "comment" and m["comment"]["body"] == "second look")
    assert "round" not in first["comment"]  # (the default, 1, is left out)
    assert second["comment"]["round"] == 2
    with served.ws(review.id) as ws:
        _, snapshot = start(ws)
        assert {c["body"]: c.get("round", 1) for c in snapshot["comments"]} == {
            "first look": 1, "please fix": 1, "second look": 2}


V1_SERVER_TYPES = {"hello", "snapshot", "file", "file_removed", "lines", "notice", "pong", "error", "ack", "comment",
                   "review", "file_content"}
"""The server messages of the first version of protocol 1."""


def test_a_client_of_the_first_protocol_1_keeps_working(served: Served, repo: GitRepo, review: Review) -> None:
    """A client that sends only the first version's messages and ignores unknown types and fields, as the protocol
    asks, goes through a review with rounds: everything it knows is still there with the same meaning."""
    with served.ws(review.id) as ws:
        hello, snapshot = start(ws)
        assert hello["protocol"] == 1 and {"id", "title", "repo", "view"} <= set(hello["review"])
        assert all({"path", "status", "binary", "additions", "deletions", "hunks"} <= set(f) for f in snapshot["files"])
        ws.send_json({"type": "comment", "client_id": "v1-c", "path": "app.py", "line": 2, "body": "old client"})
        ws.send_json({"type": "request_changes", "client_id": "v1-rc", "body": "fix it"})
        acks: set[str] = set()
        unknown: list[str] = []
        while acks != {"v1-c", "v1-rc"}:
            message = receive(ws)
            if message["type"] not in V1_SERVER_TYPES:
                unknown.append(message["type"])  # ignored, as the protocol says
            elif message["type"] == "ack":
                acks.add(message["client_id"])
        repo.write("app.py", "a = 1\nb = 21\nc = 3\n")
        pushed, seen = receive_until(ws, lambda m: m["type"] == "file" and m["file"]["path"] == "app.py")
        unknown += [m["type"] for m in seen if m["type"] not in V1_SERVER_TYPES]
        assert [ln["text"] for h in pushed["file"]["hunks"] for ln in h["lines"] if ln["kind"] == "add"] == ["b = 21"]
        ws.send_json({"type": "ping", "nonce": "n"})
        _, seen = receive_until(ws, lambda m: m["type"] == "pong")
        unknown += [m["type"] for m in seen if m["type"] not in V1_SERVER_TYPES]
    assert set(unknown) <= {"round"}


def test_every_client_learns_how_many_files_changed_since_the_last_review(served: Served, repo: GitRepo,
                                                                          review: Review) -> None:
    with served.ws(review.id) as ws:
        start(ws)
        request_changes(ws)
        counted, _ = receive_until(ws, lambda m: m["type"] == "round" and m.get("changed_since_review") == 0)
        assert counted["last_review"] == 1
        repo.write("other.py", "x = 12\n")
        counted, _ = receive_until(ws, lambda m: m["type"] == "round" and m.get("changed_since_review") == 1)
        repo.write("app.py", "a = 1\nb = 21\nc = 3\n")
        counted, _ = receive_until(ws, lambda m: m["type"] == "round" and m.get("changed_since_review") == 2)
        assert counted["current"] == 2
    with served.ws(review.id) as later:
        hello, _ = start(later)
        # (known at once while another client keeps it counted; else a round message brings it)
        if hello["review"].get("changed_since_review") is None:
            counted, _ = receive_until(later, lambda m: m["type"] == "round")
            assert counted["changed_since_review"] == 2
        else:
            assert hello["review"]["changed_since_review"] == 2


def test_raw_sides_of_a_round_view(served: Served, repo: GitRepo, review: Review) -> None:
    """The old side of a view of the changes since a round is the content recorded then."""
    with served.ws(review.id) as ws:
        start(ws)
        request_changes(ws)
    repo.write("app.py", "a = 1\nb = 300\nc = 3\n")
    base = f"/review/{review.id}/raw?path=app.py&since=HEAD&live=true"
    old = served.get(base + "&side=old&round=1")
    assert old.status_code == 200 and old.content == b"a = 1\nb = 20\nc = 3\n"
    assert served.get(base + "&side=new&round=1").content == b"a = 1\nb = 300\nc = 3\n"
    assert served.get(base + "&side=old").content == b"a = 1\nb = 2\nc = 3\n"
    refused = served.get(base + "&side=old&round=2")
    assert refused.status_code == 400 and "no round" not in refused.text and "rounds 1 to 1" in refused.text
