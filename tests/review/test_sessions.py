"""Reviews, comments and delivery survive a restart; client ids make resent messages idempotent."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from backloop.config import DATABASE
from backloop.git.repo import Repo
from backloop.review.session import ReviewError, Reviews
from backloop.review.store import Store, StoreError
from backloop.viewspec import parse_view
from tests.conftest import MakeRepo

pytestmark = pytest.mark.anyio
SPEC = parse_view({"since": "HEAD", "live": "true"})


async def open_reviews(state: Path) -> Reviews:
    store = Store(state / DATABASE)
    return Reviews(store)


async def test_restart_keeps_reviews_comments_and_delivery(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    first = await open_reviews(tmp_path)
    review = await first.create(await Repo.open(repo.root), SPEC, "t")
    delivered = await first.comment(review.id, "c1", body="seen", path="a.py", line=1, quoted=["x = 1"])
    first.broker.mark_delivered(await first.broker.pending(review.id))
    await first.broker.flush()
    pending = await first.comment(review.id, "c2", body="not yet seen", path="a.py")
    await first.reply(review.id, "r1", delivered.id, "and a reply")
    first.store.close()

    second = await open_reviews(tmp_path)
    restored = await second.restore(repo.root)
    assert [r.id for r in restored] == [review.id]
    again = second.get(review.id)
    assert again is not None and again.title == "t" and again.view == SPEC
    assert set(again.comments) == {delivered.id, pending.id}
    assert [r.body for r in again.comments[delivered.id].replies] == ["and a reply"]
    assert again.comments[delivered.id].quoted == ["x = 1"]
    assert [e.body for e in await second.broker.pending(review.id)] == ["not yet seen", "and a reply"]
    second.store.close()


async def test_resent_messages_are_stored_once(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    reviews = await open_reviews(tmp_path)
    review = await reviews.create(await Repo.open(repo.root), SPEC)
    one = await reviews.comment(review.id, "same", body="hello", path="a.py")
    two = await reviews.comment(review.id, "same", body="hello", path="a.py")
    assert one.id == two.id
    assert len(review.comments) == 1
    assert len(await reviews.broker.pending(review.id)) == 1
    _, digest = await reviews.open_file(review.id, "a.py")
    e1 = await reviews.edit(review.id, "edit-1", "a.py", digest, "x = 2\n")
    e2 = await reviews.edit(review.id, "edit-1", "a.py", digest, "x = 2\n")  # resent: no conflict, same id
    assert e1 == e2
    reviews.store.close()


async def test_bad_requests_are_refused_with_codes(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    reviews = await open_reviews(tmp_path)
    review = await reviews.create(await Repo.open(repo.root), SPEC)
    cases = [
        (reviews.comment("nope", None, body="x", path="a.py"), "unknown_review"),
        (reviews.comment(review.id, None, body="  ", path="a.py"), "invalid_message"),
        (reviews.comment(review.id, None, body="x" * 70_000, path="a.py"), "invalid_message"),
        (reviews.comment(review.id, None, body="x", path="a.py", line=3, end_line=2), "invalid_message"),
        (reviews.reply(review.id, None, "missing", "x"), "unknown_comment"),
        (reviews.resolve(review.id, "missing"), "unknown_comment"),
        (reviews.request_changes(review.id, None, ""), "invalid_message"),
        (reviews.edit(review.id, "e", "../x", "0", "y"), "edit_refused"),
    ]
    for call, code in cases:
        with pytest.raises(ReviewError) as info:
            await call
        assert info.value.code == code
    reviews.store.close()


async def test_unusable_state_dir_gives_a_clear_error(tmp_path: Path) -> None:
    # A regular file where the directory should be (chmod does not stop root, which CI runs as).
    blocker = tmp_path / "state"
    blocker.write_text("not a directory")
    store = Store(blocker / DATABASE)
    with pytest.raises(StoreError, match="cannot open the state database"):
        await store.reviews()  # the first call opens the database


async def test_no_transaction_outlives_a_failed_call(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    reviews = await open_reviews(tmp_path)
    review = await reviews.create(await Repo.open(repo.root), SPEC)

    def broken(db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE reviews SET title = 'half-written'")
        raise ValueError("a bug in the middle of a transaction")

    with pytest.raises(ValueError):
        await reviews.store._call(broken)
    await reviews.comment(review.id, "c1", body="still works", path="a.py")  # would fail on an open transaction
    rows = await reviews.store.reviews()
    assert [r.title for r in rows] != ["half-written"]
    reviews.store.close()
