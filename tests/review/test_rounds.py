"""Rounds in the store and the blob store: what ends a round, what is recorded, that a restart keeps it, that an
older state database is brought up to date, and that blobs are written atomically and readable only by their
owner."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backloop.config import DATABASE
from backloop.hub import Hub
from backloop.review.blobs import BlobStore, content_hash
from backloop.review.rounds import BLOBS
from backloop.review.service import ReviewService
from backloop.review.session import Reviews
from backloop.review.store import Store
from backloop.runtime import wire_live
from tests.conftest import MakeRepo
from tests.support import FIRST_SCHEMA, GitRepo

pytestmark = pytest.mark.anyio


@dataclass
class Desk:
    service: ReviewService
    reviews: Reviews
    hub: Hub
    repo: GitRepo
    state: Path


@pytest.fixture
async def desk(make_repo: MakeRepo, tmp_path: Path) -> AsyncIterator[Desk]:
    repo = make_repo({"app.py": "a = 1\n", "notes.txt": "keep\n", "old.txt": "going\n"})
    repo.write("app.py", "a = 2\n")
    (repo.root / "old.txt").unlink()
    repo.write("new.txt", "hello\n")
    state = tmp_path / "state"
    store = Store(state / DATABASE)
    reviews = Reviews(store)
    hub = wire_live(reviews)
    try:
        yield Desk(ReviewService(reviews), reviews, hub, repo, state)
    finally:
        await hub.views.close()
        await reviews.broker.flush()
        store.close()


async def test_a_round_records_every_file_of_the_diff_and_a_restart_keeps_it(desk: Desk) -> None:
    review = await desk.service.start(desk.repo.root, since="HEAD")
    comment = await desk.service.request_changes(review.id, "rc", "fix it")
    assert comment.round == 1 and review.round == 2
    assert [(r.number, r.ended_by, r.how) for r in review.rounds] == [(1, "person", "requested changes")]
    # The same request resent ends no second round.
    await desk.service.request_changes(review.id, "rc", "fix it")
    assert len(review.rounds) == 1
    files = await desk.reviews.store.round_files(review.id, 1)
    assert files == {"app.py": content_hash(b"a = 2\n"), "new.txt": content_hash(b"hello\n"), "old.txt": None}

    # Another process over the same state directory: the rounds and their contents are there.
    again = Reviews(Store(desk.state / DATABASE))
    try:
        [restored] = await again.restore(desk.repo.root)
        assert (restored.round, restored.rounds, restored.last_review) == (2, review.rounds, 1)
        baseline = await again.rounds.baseline(review.id, 1)
        assert baseline.read(baseline.files["app.py"] or "") == b"a = 2\n"
        assert baseline.files["old.txt"] is None and baseline.label == "round 1 (requested changes)"
        with pytest.raises(LookupError):
            await again.rounds.baseline(review.id, 2)
    finally:
        again.store.close()


async def test_recording_works_without_running_views(desk: Desk) -> None:
    """(``backloop list`` and tests use Reviews alone: a round then computes the view once to record it.)"""
    alone = Reviews(desk.reviews.store)
    review = await ReviewService(alone).start(desk.repo.root, since="HEAD")
    assert await ReviewService(alone).end_round(review.id, "person", "submitted a review") is not None
    assert set(await alone.store.round_files(review.id, 1)) == {"app.py", "new.txt", "old.txt"}


async def test_the_agent_ends_a_round_only_after_receiving_items(desk: Desk) -> None:
    review = await desk.service.start(desk.repo.root, since="HEAD")
    assert await desk.service.end_round(review.id, "agent", "fixed") is None
    await desk.reviews.comment(review.id, "c", body="look", path="app.py", line=1)
    [entry] = await desk.reviews.broker.wait(review.id, 1.0, lambda: False)
    desk.reviews.broker.mark_delivered([entry])
    review.agent_received = True
    await desk.reviews.broker.flush()
    assert [r.agent_received for r in await desk.reviews.store.reviews()] == [True]
    ended = await desk.service.end_round(review.id, "agent", "fixed")
    assert ended is not None and (ended.number, ended.ended_by) == (1, "agent")
    assert review.last_review is None and not review.agent_received
    assert [r.agent_received for r in await desk.reviews.store.reviews()] == [False]
    assert await desk.service.end_round(review.id, "agent", "fixed") is None


async def test_startreview_goes_on_with_the_open_review_of_the_same_view(desk: Desk) -> None:
    first, reused = await desk.service.open_or_start(desk.repo.root, since="HEAD")
    assert not reused
    await desk.service.request_changes(first.id, "rc", "again")
    again, reused = await desk.service.open_or_start(desk.repo.root, since="HEAD")
    assert reused and again is first and again.round == 2
    other, reused = await desk.service.open_or_start(desk.repo.root, commit="HEAD")
    assert not reused and other.id != first.id
    await desk.service.approve(first.id, "ok", "")
    assert first.rounds[-1].how == "approved"
    fresh, reused = await desk.service.open_or_start(desk.repo.root, since="HEAD")
    assert not reused and fresh.id != first.id




async def test_a_state_database_from_before_rounds_keeps_working(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "old" / DATABASE
    path.parent.mkdir()
    db = sqlite3.connect(path)
    db.executescript(FIRST_SCHEMA)
    db.execute("INSERT INTO reviews VALUES ('r1', ?, '{\"since\":\"HEAD\",\"live\":true}', 't', 'open', NULL, 1.0)",
               (str(desk.repo.root),))
    db.execute("INSERT INTO entries (id, review_id, kind, author, path, line, body, created) "
               "VALUES ('e1', 'r1', 'comment', 'person', 'app.py', 1, 'old comment', 2.0)")
    db.commit()
    db.close()
    store = Store(path)
    try:
        reviews = Reviews(store)
        [review] = await reviews.restore(desk.repo.root)
        assert review.round == 1 and review.rounds == [] and not review.agent_received
        assert [(c.body, c.round) for c in review.comments.values()] == [("old comment", 1)]
        assert await ReviewService(reviews).end_round("r1", "person", "submitted a review") is not None
        assert [r.number for r in await store.rounds("r1")] == [1]
    finally:
        store.close()


def test_blobs_are_named_by_their_content_and_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        blobs = BlobStore(tmp_path / "state" / BLOBS)
        name = blobs.put(b"secret code\n")
        assert name == content_hash(b"secret code\n") and blobs.put(b"secret code\n") == name
        assert blobs.get(name) == b"secret code\n" and blobs.get(content_hash(b"other")) is None
    finally:
        os.umask(old)
    path = blobs.root / name[:2] / name[2:]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for directory in (blobs.root, path.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    # A blob whose bytes are not what its name says (a write lost in a crash) reads as missing.
    path.write_bytes(b"secret")
    assert blobs.get(name) is None


def test_a_blob_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blobs = BlobStore(tmp_path / BLOBS)
    name = content_hash(b"x" * 100_000)

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        blobs.put(b"x" * 100_000)
    assert not blobs.has(name) and list((blobs.root / name[:2]).iterdir()) == []  # nothing half-written is left
    monkeypatch.undo()
    assert blobs.put(b"x" * 100_000) == name and blobs.get(name) == b"x" * 100_000

