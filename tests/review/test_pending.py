"""Pending reviews: the person's comments held until they submit, then handed to the agent as one batch; kept in
the store across restarts, editable and deletable until then."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from backloop.config import DATABASE
from backloop.git.repo import Repo
from backloop.review import pending as pending_review
from backloop.review.entry import Entry
from backloop.review.session import Review, ReviewError, Reviews
from backloop.review.store import EntryDeleted, Store
from backloop.viewspec import parse_view
from tests.conftest import MakeRepo
from tests.review.test_broker import waiting
from tests.support import FIRST_SCHEMA

pytestmark = pytest.mark.anyio
SPEC = parse_view({"since": "HEAD", "live": "true"})


async def setup(make_repo: MakeRepo, tmp_path: Path) -> tuple[Reviews, Review]:
    repo = make_repo({"a.py": "x = 1\ny = 2\nz = 3\n"})
    reviews = Reviews(Store(tmp_path / DATABASE))
    return reviews, await reviews.create(await Repo.open(repo.root), SPEC)


async def start_a_review(reviews: Reviews, review: Review, count: int = 3, prefix: str = "p") -> list[str]:
    """``count`` pending comments, one per line (client ids ``{prefix}{n}``); their ids."""
    made = [await reviews.comment(review.id, f"{prefix}{n}", body=f"pending {n}", path="a.py", line=n + 1,
                                  pending=True) for n in range(count)]
    assert all(c.pending for c in made)
    return [c.id for c in made]


async def test_pending_comments_are_not_delivered(make_repo: MakeRepo, tmp_path: Path) -> None:
    reviews, review = await setup(make_repo, tmp_path)
    (task,) = await waiting(reviews, review)
    await start_a_review(reviews, review)
    for _ in range(3):  # what the comments announced has been looked at (one store hop each)
        await reviews.store.pending(review.id)
    assert not task.done()
    assert await reviews.broker.pending(review.id) == []
    assert await reviews.store.pending(review.id) == []
    task.cancel()


async def test_a_waiting_agent_gets_the_whole_batch_as_one_result(make_repo: MakeRepo, tmp_path: Path) -> None:
    reviews, review = await setup(make_repo, tmp_path)
    pending = await start_a_review(reviews, review)
    (task,) = await waiting(reviews, review)  # already blocked when the review is submitted
    submission, fresh = await pending_review.submit(reviews, review.id, "s1", "overall: rename things",
                                                    "request_changes")
    assert fresh
    got = await asyncio.wait_for(task, 10)
    assert [e.id for e in got[:3]] == pending
    assert [(e.kind, e.body) for e in got[3:]] == [("request_changes", "overall: rename things")]
    assert not any(e.pending for e in got)
    assert review.state == "changes_requested"
    assert not any(c.pending for c in review.comments.values())
    # A resent submission changes nothing and is acknowledged with the same id.
    assert await pending_review.submit(reviews, review.id, "s1", "overall: rename things", "request_changes") == (
        submission, False)


async def test_no_waiter_sees_half_a_batch(make_repo: MakeRepo, tmp_path: Path) -> None:
    """Whether a waiting call is reading the store or asleep when the review is submitted, it gets all of it."""
    reviews, review = await setup(make_repo, tmp_path)
    for attempt in range(20):
        pending = await start_a_review(reviews, review, prefix=f"a{attempt}-")
        # One call asleep, one that has only just begun (its first store read races with the submission).
        (asleep,) = await waiting(reviews, review)
        racing = asyncio.create_task(reviews.broker.wait(review.id, 30, lambda: False))
        for _ in range(attempt % 4):
            await asyncio.sleep(0)  # (scheduling offsets, not a wait for a condition)
        await pending_review.submit(reviews, review.id, f"s{attempt}", "", "comment")
        for task in (asleep, racing):
            assert [e.id for e in await asyncio.wait_for(task, 10)] == pending
        reviews.broker.mark_delivered(await reviews.broker.pending(review.id))


async def test_verdicts_set_the_state_like_their_messages(make_repo: MakeRepo, tmp_path: Path) -> None:
    reviews, review = await setup(make_repo, tmp_path)
    await start_a_review(reviews, review, 1)
    await pending_review.submit(reviews, review.id, "s1", "", "comment")
    assert reviews.require(review.id).state == "open"
    with pytest.raises(ReviewError) as nothing:
        await pending_review.submit(reviews, review.id, "s2", " ", "request_changes")
    assert nothing.value.code == "invalid_message"
    await pending_review.submit(reviews, review.id, "s3", "not yet", "request_changes")
    assert reviews.require(review.id).state == "changes_requested"
    reviews.broker.mark_delivered(await reviews.broker.pending(review.id))
    (task,) = await waiting(reviews, review)
    await start_a_review(reviews, review, 1, prefix="q")
    await pending_review.submit(reviews, review.id, "s4", "fine otherwise", "approve")
    assert review.state == "approved"
    # The approval's comments come first (as with a note to an approval); the review's state says the rest.
    assert [e.body for e in await asyncio.wait_for(task, 10)] == ["pending 0", "fine otherwise"]
    await pending_review.submit(reviews, review.id, "s5", "", "approve")  # approving needs nothing else


async def test_edit_and_delete_only_pending_comments(make_repo: MakeRepo, tmp_path: Path) -> None:
    reviews, review = await setup(make_repo, tmp_path)
    first, second = await start_a_review(reviews, review, 2)
    await pending_review.change(reviews, review.id, "e1", first, "pending 0, reworded")
    await pending_review.change(reviews, review.id, "e1", first, "pending 0, reworded")  # resent: done once
    await pending_review.change(reviews, review.id, "d1", second, None)
    await pending_review.change(reviews, review.id, "d1", second, None)  # resent: acknowledged again
    assert review.comments[first].body == "pending 0, reworded"
    assert second not in review.comments
    with pytest.raises(ReviewError) as gone:
        await pending_review.change(reviews, review.id, "d2", second, None)
    assert gone.value.code == "unknown_comment"
    with pytest.raises(EntryDeleted):  # the deleted comment's own message, resent
        await reviews.comment(review.id, "p1", body="pending 1", path="a.py", line=2, pending=True)
    with pytest.raises(ReviewError) as unanswerable:
        await reviews.reply(review.id, "r1", first, "more")
    assert unanswerable.value.code == "pending_comment"
    with pytest.raises(ReviewError) as hidden:  # the agent cannot see it, let alone answer it
        await reviews.resolve(review.id, first, "done", author="agent")
    assert hidden.value.code == "unknown_comment"
    with pytest.raises(ReviewError):
        reviews.review_of_comment(first)

    await pending_review.submit(reviews, review.id, "s1", "", "comment")
    for message in ("e9", "d9"):
        with pytest.raises(ReviewError) as late:
            await pending_review.change(reviews, review.id, message, first, None if message == "d9" else "again")
        assert late.value.code == "not_pending"
    assert (await reviews.store.entries(review.id))[0].body == "pending 0, reworded"
    assert reviews.review_of_comment(first) is review


async def test_pending_comments_survive_a_restart(make_repo: MakeRepo, tmp_path: Path) -> None:
    reviews, review = await setup(make_repo, tmp_path)
    pending = await start_a_review(reviews, review)
    await pending_review.change(reviews, review.id, "e1", pending[0], "edited before the restart")
    await asyncio.to_thread(reviews.store.close)

    again = Reviews(Store(tmp_path / DATABASE))
    (restored,) = await again.restore(review.repo.root)
    assert [c.id for c in restored.comments.values() if c.pending] == pending
    assert restored.comments[pending[0]].body == "edited before the restart"
    assert await again.broker.pending(review.id) == []
    await pending_review.submit(again, review.id, "s1", "", "comment")
    assert [e.id for e in await again.broker.pending(review.id)] == pending


"""The schema of the first stored reviews, before pending comments and viewed files."""


async def test_a_database_of_the_first_schema_keeps_working(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    db = sqlite3.connect(tmp_path / DATABASE)
    db.executescript(FIRST_SCHEMA)
    db.execute("INSERT INTO reviews (id, repo, view, title, created) VALUES ('r1', ?, ?, 'old', 1.0)",
               (str(repo.root), '{"since":"HEAD","live":true}'))
    db.execute("INSERT INTO entries (id, review_id, kind, author, path, body, created) "
               "VALUES ('c1', 'r1', 'comment', 'person', 'a.py', 'undelivered', 2.0)")
    db.execute("INSERT INTO client_ops VALUES ('r1', 'cid-1', 'c1')")
    db.commit()
    db.close()

    reviews = Reviews(Store(tmp_path / DATABASE))
    (review,) = await reviews.restore(repo.root)
    assert [(c.body, c.pending) for c in review.comments.values()] == [("undelivered", False)]
    assert [e.id for e in await reviews.broker.pending("r1")] == ["c1"]
    again = await reviews.comment("r1", "cid-1", body="undelivered", path="a.py")  # an old client_id still counts
    assert again.id == "c1"
    (pending,) = await start_a_review(reviews, review, 1)
    await reviews.viewed.set("r1", "a.py", True, seen="d1", current="d1")
    await asyncio.to_thread(reviews.store.close)

    reopened = Store(tmp_path / DATABASE)  # (migrated once: opening it again changes nothing)
    assert [e.pending for e in await reopened.entries("r1")] == [False, True]
    assert await reopened.viewed("r1") == [("a.py", "d1", True, False)]
    assert pending in {e.id for e in await reopened.entries("r1")}
    await asyncio.to_thread(reopened.close)


async def test_a_failed_submission_leaves_everything_pending(make_repo: MakeRepo, tmp_path: Path) -> None:
    """One transaction: a write that fails halfway (here, the summary) leaves every comment pending."""
    reviews, review = await setup(make_repo, tmp_path)
    pending = await start_a_review(reviews, review)
    clash = Entry.comment(review.id, "x", path="a.py")
    await reviews.store.add_entry(clash)

    async def failing_submit(marker: Entry, client_id: str, **kwargs: object) -> tuple[Entry, list[Entry] | None]:
        return await Store.submit(reviews.store, marker, client_id, also=[clash])  # the same id again: fails

    reviews.store.submit = failing_submit  # type: ignore[method-assign]
    with pytest.raises(Exception, match="UNIQUE"):
        await pending_review.submit(reviews, review.id, "s1", "summary", "request_changes")
    assert review.state == "open"
    assert [e.id for e in await reviews.store.entries(review.id) if e.pending] == pending
    assert await reviews.store.seen_client_id(review.id, "s1", "submit") is None
