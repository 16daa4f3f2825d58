"""Per-path refreshes give exactly the diff a full recompute gives, for unstaged (index-vs-work-tree fast path)
and staged paths alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient, WebSocketTestSession

from backloop.git.repo import Repo
from backloop.hub import Hub
from backloop.review.session import Review, Reviews
from backloop.review.store import Store
from backloop.viewspec import parse_view
from backloop.web.app import create_app
from tests.conftest import MakeRepo
from tests.support import receive, receive_until

PORT = 48125
QUERY = "since=HEAD&live=true"


def snapshot(ws: WebSocketTestSession) -> dict[str, dict[str, Any]]:
    assert receive(ws)["type"] == "hello"
    message, _ = receive_until(ws, lambda m: m["type"] == "snapshot")
    return {f["path"]: f for f in message["files"]}


def test_live_updates_equal_a_fresh_snapshot(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"plain.txt": "a\nb\nc\n", "staged.txt": "1\n2\n3\n", "moved.txt": "x\ny\nz\n" * 5})
    repo.write("staged.txt", "1\nTWO\n3\n")
    repo.git("add", "staged.txt")
    repo.git("mv", "moved.txt", "renamed.txt")
    store = Store(tmp_path / "state.db")
    reviews = Reviews(store)
    with TestClient(create_app(reviews, Hub(reviews), "127.0.0.1", PORT)) as client:
        async def make() -> Review:
            return await reviews.create(await Repo.open(repo.root), parse_view({"since": "HEAD", "live": "true"}))

        review = client.portal.call(make)  # type: ignore[union-attr]
        url = f"ws://127.0.0.1:{PORT}/review/{review.id}/ws?{QUERY}"
        with client.websocket_connect(url) as ws:
            snapshot(ws)
            repo.write("plain.txt", "a\nB\nc\n")  # unstaged: index = HEAD for this path
            repo.write("staged.txt", "1\nTWO\nthree\n")  # staged and changed again
            repo.write("renamed.txt", "x\ny\nz\n" * 4 + "x\ny\nZ\n")  # the new side of a staged rename
            seen: dict[str, dict[str, Any]] = {}
            while not ({"plain.txt", "staged.txt", "renamed.txt"} <= set(seen)
                       and "three" in str(seen["staged.txt"]) and "Z" in str(seen["renamed.txt"])):
                message, _ = receive_until(ws, lambda m: m["type"] == "file")
                seen[message["file"]["path"]] = message["file"]
        other = client.portal.call(make)  # type: ignore[union-attr]
        with client.websocket_connect(url.replace(review.id, other.id)) as fresh:
            expected = snapshot(fresh)  # another review's view computes everything from scratch
        for path in ("plain.txt", "staged.txt", "renamed.txt"):
            assert seen[path] == expected[path], path
        assert expected["renamed.txt"]["status"] == "renamed"
        assert expected["renamed.txt"]["old_path"] == "moved.txt"
    store.close()
