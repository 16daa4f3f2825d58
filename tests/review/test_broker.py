"""The hand-over to a waiting agent: what the person posts reaches every waiting call from memory, without a store
round trip; everything else (a state change, an undelivered result, a restart) is read from the store."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from backloop.config import DATABASE
from backloop.git.repo import Repo
from backloop.review.entry import Entry
from backloop.review.session import Review, Reviews
from backloop.review.store import Store
from backloop.viewspec import parse_view
from tests.conftest import MakeRepo

pytestmark = pytest.mark.anyio
SPEC = parse_view({"since": "HEAD", "live": "true"})


class CountingStore(Store):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads = 0

    async def pending(self, review_id: str) -> list[Entry]:
        self.reads += 1
        return await super().pending(review_id)


async def setup(make_repo: MakeRepo, tmp_path: Path) -> tuple[Reviews, CountingStore, Review]:
    repo = make_repo({"a.py": "x = 1\n"})
    store = CountingStore(tmp_path / DATABASE)
    reviews = Reviews(store)
    return reviews, store, await reviews.create(await Repo.open(repo.root), SPEC)


async def waiting(reviews: Reviews, review: Review, count: int = 1) -> list[asyncio.Task[list[Entry]]]:
    """``count`` calls waiting (past their first store read) for the review's next entries."""
    tasks = [asyncio.create_task(reviews.broker.wait(review.id, 30, lambda: review.state == "approved"))
             for _ in range(count)]
    changed = asyncio.Event()
    reviews.listen(lambda *_: changed.set())
    while len(reviews.broker._channel(review.id).waiters) < count:
        changed.clear()
        await asyncio.wait_for(changed.wait(), 10)
    for _ in range(3):  # their store reads (one executor hop each) are done
        await reviews.store.pending(review.id)
    return tasks


async def test_a_comment_reaches_every_waiting_call_from_memory(make_repo: MakeRepo, tmp_path: Path) -> None:
    reviews, store, review = await setup(make_repo, tmp_path)
    tasks = await waiting(reviews, review, 2)
    reads = store.reads
    comment = await reviews.comment(review.id, "c1", body="look", path="a.py", line=1)
    for task in tasks:
        assert [e.id for e in await asyncio.wait_for(task, 10)] == [comment.id]
    assert store.reads == reads  # no store round trip on the way


@pytest.mark.parametrize("kind", ["reply", "edit", "request_changes"])
async def test_other_entries_of_the_person_too(make_repo: MakeRepo, tmp_path: Path, kind: str) -> None:
    reviews, store, review = await setup(make_repo, tmp_path)
    root = await reviews.comment(review.id, "c0", body="root", path="a.py", line=1)
    reviews.broker.mark_delivered(await reviews.broker.pending(review.id))
    (task,) = await waiting(reviews, review)
    reads = store.reads
    made: Any
    if kind == "reply":
        made = await reviews.reply(review.id, "r1", root.id, "more")
    elif kind == "edit":
        _, digest = await reviews.open_file(review.id, "a.py")
        made = await reviews.edit(review.id, "e1", "a.py", digest, "x = 2\n")
    else:
        made = (await reviews.request_changes(review.id, "q1", "not yet")).id
    assert [e.id for e in await asyncio.wait_for(task, 10)] == [made]
    if kind != "request_changes":  # (which also changes the review's state: that is read from the store)
        assert store.reads == reads


async def test_the_agents_own_entries_do_not_wake_it(make_repo: MakeRepo, tmp_path: Path) -> None:
    reviews, _, review = await setup(make_repo, tmp_path)
    root = await reviews.comment(review.id, "c0", body="root", path="a.py", line=1)
    reviews.broker.mark_delivered(await reviews.broker.pending(review.id))
    waited = asyncio.create_task(reviews.broker.wait(review.id, 0.3, lambda: False))
    await reviews.reply(review.id, None, root.id, "on it", author="agent")
    assert await asyncio.wait_for(waited, 10) == []


async def test_a_delivered_entry_is_not_handed_over_again(make_repo: MakeRepo, tmp_path: Path) -> None:
    """Two calls wait; the first one's result is marked delivered before the second one looks."""
    reviews, _, review = await setup(make_repo, tmp_path)
    first, second = await waiting(reviews, review, 2)
    await reviews.comment(review.id, "c1", body="look", path="a.py", line=1)
    got = await asyncio.wait_for(first, 10)
    reviews.broker.mark_delivered(got)
    if not second.done():  # (it may have taken the same entry already: at least once, never none)
        later = await reviews.comment(review.id, "c2", body="and this", path="a.py", line=1)
        assert [e.id for e in await asyncio.wait_for(second, 10)] in ([later.id], [got[0].id, later.id])


async def test_approval_and_undelivery_are_read_from_the_store(make_repo: MakeRepo, tmp_path: Path) -> None:
    reviews, store, review = await setup(make_repo, tmp_path)
    (task,) = await waiting(reviews, review)
    comment = await reviews.comment(review.id, "c1", body="look", path="a.py", line=1)
    got = await asyncio.wait_for(task, 10)
    reviews.broker.mark_delivered(got, handle="call-1")
    (task,) = await waiting(reviews, review)
    reads = store.reads
    reviews.broker.undeliver("call-1")  # the agent never got that result
    assert [e.id for e in await asyncio.wait_for(task, 10)] == [comment.id]
    assert store.reads > reads
    reviews.broker.mark_delivered(await reviews.broker.pending(review.id))
    (task,) = await waiting(reviews, review)
    await reviews.approve(review.id, "a1")
    assert await asyncio.wait_for(task, 10) == []
    assert review.state == "approved"


async def test_a_held_hand_over_is_written_only_once_confirmed(make_repo: MakeRepo, tmp_path: Path) -> None:
    """An HTTP client acknowledges what it received: until then the store still has the entry as pending (a crash
    delivers it again), and no other call is handed it."""
    reviews, store, review = await setup(make_repo, tmp_path)
    comment = await reviews.comment(review.id, "c1", body="look", path="a.py", line=1)
    reviews.broker.mark_delivered(await reviews.broker.pending(review.id), "delivery-1", held_s=30)
    assert await reviews.broker.pending(review.id) == []
    await reviews.broker.flush()
    assert [e.id for e in await store.pending(review.id)] == [comment.id]
    assert reviews.broker.confirm("delivery-1") is True
    await reviews.broker.flush()
    assert await store.pending(review.id) == []
    assert reviews.broker.confirm("delivery-1") is False  # (once)


async def test_an_unconfirmed_hand_over_is_pending_again(make_repo: MakeRepo, tmp_path: Path) -> None:
    reviews, _, review = await setup(make_repo, tmp_path)
    comment = await reviews.comment(review.id, "c1", body="look", path="a.py", line=1)
    reviews.broker.mark_delivered(await reviews.broker.pending(review.id), "delivery-1", held_s=0.2)
    assert await reviews.broker.pending(review.id) == []
    again = await asyncio.wait_for(reviews.broker.wait(review.id, 10, lambda: False), 10)  # when the hold ends
    assert [e.id for e in again] == [comment.id]
    assert reviews.broker.confirm("delivery-1") is False  # too late: it comes again instead
