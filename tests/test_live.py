"""Per-path refreshes give exactly the diff a full recompute gives, for unstaged (index-vs-work-tree fast path)
and staged paths alike."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.testclient import WebSocketTestSession

from backloop.diff import view as live
from backloop.diff.highlight import lexer_for
from backloop.git.repo import Repo
from backloop.review.session import Reviews
from backloop.review.store import Store
from backloop.runtime import wire_live
from backloop.viewspec import parse_view
from tests.conftest import MakeRepo
from tests.support import TIMEOUT_S, app_client, app_ws_url, new_review, receive, receive_until


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
    with app_client(reviews, wire_live(reviews)) as client:
        with client.websocket_connect(app_ws_url(new_review(client, reviews, repo.root).id)) as ws:
            snapshot(ws)
            repo.write("plain.txt", "a\nB\nc\n")  # unstaged: index = HEAD for this path
            repo.write("staged.txt", "1\nTWO\nthree\n")  # staged and changed again
            repo.write("renamed.txt", "x\ny\nz\n" * 4 + "x\ny\nZ\n")  # the new side of a staged rename
            seen: dict[str, dict[str, Any]] = {}
            while not ({"plain.txt", "staged.txt", "renamed.txt"} <= set(seen)
                       and "three" in str(seen["staged.txt"]) and "Z" in str(seen["renamed.txt"])):
                message, _ = receive_until(ws, lambda m: m["type"] == "file")
                seen[message["file"]["path"]] = message["file"]
        other = new_review(client, reviews, repo.root)
        with client.websocket_connect(app_ws_url(other.id)) as fresh:
            expected = snapshot(fresh)  # another review's view computes everything from scratch
        for path in ("plain.txt", "staged.txt", "renamed.txt"):
            assert seen[path] == expected[path], path
        assert expected["renamed.txt"]["status"] == "renamed"
        assert expected["renamed.txt"]["old_path"] == "moved.txt"
    store.close()


@pytest.mark.anyio
async def test_a_view_highlighted_in_the_worker_loads_its_lexers_here(make_repo: MakeRepo,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Live updates are highlighted in this process: a view whose files all went to the worker process warms the
    lexers they need, so that its first update does not pay for pygments' first lookup."""
    monkeypatch.setattr(live, "SYNC_HIGHLIGHT_LINES", 0)
    repo = make_repo({"a.py": "x = 1\n", "b.go": "package b\n"})
    repo.write("a.py", "x = 2\n")
    repo.write("b.go", "package c\n")
    lexer_for.cache_clear()
    view = live.DiffView(await Repo.open(repo.root), parse_view({"since": "HEAD", "live": "true"}))
    changed = asyncio.Event()
    view.listen(lambda _paths: changed.set())
    task = asyncio.create_task(view.run())
    try:
        with anyio.fail_after(TIMEOUT_S):
            while len(view.files) < 2 or not all(fd.highlighted for fd in view.files.values()):
                await changed.wait()
                changed.clear()
            assert view._warm_task is not None  # started with the background highlighting
            await view._warm_task
    finally:
        task.cancel()
    assert lexer_for.cache_info().currsize == 2
    assert {lexer_for("a.py").name, lexer_for("b.go").name} == {"Python", "Go"}  # type: ignore[union-attr]
