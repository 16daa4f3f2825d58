"""Large snapshots are streamed: the first files with hunks, the rest as stubs followed by their `file` messages."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from backloop.diff.delta import SNAPSHOT_LINES
from backloop.git.repo import Repo
from backloop.review.session import Reviews
from backloop.review.store import Store
from backloop.runtime import wire_live
from backloop.viewspec import parse_view
from tests.conftest import MakeRepo
from tests.support import app_client, app_ws_url, new_review, receive, receive_until


@contextlib.contextmanager
def live_view(root: Path, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """A server on a live view of ``root``: its test client and the view's websocket URL."""
    store = Store(tmp_path / "state.db")
    reviews = Reviews(store)
    with app_client(reviews, wire_live(reviews)) as client:
        yield client, app_ws_url(new_review(client, reviews, root).id)
    store.close()


def test_big_snapshot_streams_the_rest_in_order(make_repo: MakeRepo, tmp_path: Path) -> None:
    per_file = SNAPSHOT_LINES // 5  # changed lines: 2 * per_file diff lines, two files' worth in the snapshot
    lines = "".join(f"line {n}\n" for n in range(per_file))
    repo = make_repo({f"f{n:02}.txt": lines for n in range(20)})
    for n in range(20):
        repo.write(f"f{n:02}.txt", lines.replace("line", "LINE"))
    with live_view(repo.root, tmp_path) as (client, url), client.websocket_connect(url) as ws:
        assert receive(ws)["type"] == "hello"
        snapshot, _ = receive_until(ws, lambda m: m["type"] == "snapshot")
        files = snapshot["files"]
        assert [f["path"] for f in files] == [f"f{n:02}.txt" for n in range(20)]
        full = [f for f in files if not f.get("loading")]
        stubs = [f for f in files if f.get("loading")]
        assert [f["path"] for f in full] == ["f00.txt", "f01.txt"]
        assert sum(len(ln) for f in full for h in f["hunks"] for ln in [h["lines"]]) <= SNAPSHOT_LINES
        assert all(f["hunks"] == [] and f["additions"] == per_file for f in stubs)
        wanted = {f["path"] for f in stubs}
        followed: list[dict[str, Any]] = []
        while wanted:  # (highlighting may also re-send files; only the first message per stub counts)
            file = receive_until(ws, lambda m: m["type"] == "file")[0]["file"]
            if file["path"] in wanted:
                wanted.discard(file["path"])
                followed.append(file)
        assert [f["path"] for f in followed] == [f["path"] for f in stubs]
        assert all(not f.get("loading") and len(f["hunks"][0]["lines"]) == 2 * per_file for f in followed)
        # Highlighting (in a worker process) completes every file in the end.
        latest = {f["path"]: f for f in [*full, *followed]}
        while any(f.get("highlighted") is False or f.get("loading") for f in latest.values()):
            file = receive_until(ws, lambda m: m["type"] == "file", timeout=60)[0]["file"]
            latest[file["path"]] = file
        assert all(len(f["hunks"][0]["lines"]) == 2 * per_file for f in latest.values())


def test_a_warm_view_streams_the_rest_too(make_repo: MakeRepo, tmp_path: Path) -> None:
    # Nothing else happens in the view (highlighting done, no edits): the stubs must still be followed.
    lines = "".join(f"line {n}\n" for n in range(400))
    repo = make_repo({f"f{n:02}.txt": lines for n in range(8)})
    for n in range(8):
        repo.write(f"f{n:02}.txt", lines.replace("line", "LINE"))
    with live_view(repo.root, tmp_path) as (client, url), client.websocket_connect(url) as first:
        snapshot, _ = receive_until(first, lambda m: m["type"] == "snapshot")
        latest = {f["path"]: f for f in snapshot["files"]}
        while any(f.get("highlighted") is False or f.get("loading") for f in latest.values()):
            file = receive_until(first, lambda m: m["type"] == "file", timeout=60)[0]["file"]
            latest[file["path"]] = file
        with client.websocket_connect(url) as second:
            snapshot, _ = receive_until(second, lambda m: m["type"] == "snapshot")
            wanted = {f["path"] for f in snapshot["files"] if f.get("loading")}
            assert wanted
            while wanted:
                file = receive_until(second, lambda m: m["type"] == "file")[0]["file"]
                assert not file.get("loading")
                wanted.discard(file["path"])


def test_a_stream_lets_the_event_loop_run_between_files(make_repo: MakeRepo, tmp_path: Path) -> None:
    # A socket that takes every frame at once (loopback) never makes send() wait: without a yield per file, the
    # rest of the server (say, the page's module requests) would wait for the whole stream.
    lines = "".join(f"line {n}\n" for n in range(400))
    repo = make_repo({f"f{n:02}.txt": lines for n in range(12)})
    for n in range(12):
        repo.write(f"f{n:02}.txt", lines.replace("line", "LINE"))

    async def ticks_at_each_file() -> list[int]:
        store = Store(tmp_path / "state.db")
        reviews = Reviews(store)
        hub = wire_live(reviews)
        spec = parse_view({"since": "HEAD", "live": "true"})
        review = await reviews.create(await Repo.open(repo.root), spec)
        ticks = 0
        complete: set[str] = set()
        all_complete = asyncio.Event()
        seen: list[int] = []

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        async def send(frame: str) -> None:  # never waits, like a socket whose buffer has room
            message = json.loads(frame)
            if message["type"] == "file" and not message["file"].get("loading"):
                seen.append(ticks)
                complete.add(message["file"]["path"])
                if len(complete) == 12:  # (each file's 800 lines are more than a snapshot carries)
                    all_complete.set()

        counting = asyncio.create_task(ticker())
        async with hub.subscribe(review, spec, send) as sub:
            pump = asyncio.create_task(sub.pump())
            await asyncio.wait_for(all_complete.wait(), 60)
            pump.cancel()
        counting.cancel()
        await hub.views.close()
        store.close()
        return seen

    seen = asyncio.run(ticks_at_each_file())
    assert len(seen) >= 12
    assert all(later > earlier for earlier, later in itertools.pairwise(seen)), seen
