"""The review service's rules, against real temp repositories, a real store and the real views of the hub: how a
review starts, what a comment quotes, where edits are allowed, and that a change outlives a cancelled caller."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backloop.diff.view import DiffView
from backloop.git.process import GitError
from backloop.hub import Hub
from backloop.review.failure import failure
from backloop.review.service import ReviewService, detach
from backloop.review.session import Review, ReviewError, Reviews
from backloop.review.store import Store
from backloop.runtime import wire_live
from backloop.viewspec import ViewError, parse_view
from tests.conftest import MakeRepo
from tests.support import TIMEOUT_S, GitRepo

pytestmark = pytest.mark.anyio
LIVE = {"since": "HEAD", "live": "true"}


@dataclass
class Desk:
    service: ReviewService
    reviews: Reviews
    hub: Hub
    repo: GitRepo

    async def review(self) -> Review:
        return await self.service.start(self.repo.root, since="HEAD")

    async def shown(self, review: Review, params: dict[str, str] | None = None) -> DiffView:
        view = await self.hub.views.get(review.id, review.repo, parse_view(params or LIVE))
        await asyncio.wait_for(view.ready.wait(), TIMEOUT_S)
        return view


@pytest.fixture
async def desk(make_repo: MakeRepo, tmp_path: Path) -> AsyncIterator[Desk]:
    repo = make_repo({"app.py": "a = 1\nb = 2\nc = 3\n", "notes.txt": "keep\n"})
    repo.write("app.py", "a = 1\nb = 20\nc = 3\n")
    store = Store(tmp_path / "state" / "backloop.db")
    reviews = Reviews(store)
    hub = wire_live(reviews)
    try:
        yield Desk(ReviewService(reviews), reviews, hub, repo)
    finally:
        await hub.views.close()
        await reviews.broker.flush()
        store.close()


def code_of(exc: BaseException) -> str:
    known = failure(exc)
    assert known is not None, exc
    return known.code


# ---- starting a review -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("views", "got"), [({}, "none"), ({"since": "HEAD", "commit": "HEAD"}, "since, commit"),
                                            ({"since": "", "commit": "HEAD", "range": "a..b"}, "commit, range")])
async def test_a_review_starts_from_exactly_one_view(desk: Desk, views: dict[str, str], got: str) -> None:
    with pytest.raises(ReviewError) as info:
        await desk.service.start(desk.repo.root, since=views.get("since"), commit=views.get("commit"),
                                 range=views.get("range"))
    assert info.value.code == "view_needed"
    assert info.value.message == f"needs exactly one of since, commit or range (got {got})"
    assert await desk.reviews.store.reviews() == []


async def test_bad_revisions_and_places_fail_before_anything_is_stored(desk: Desk, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    cases: list[tuple[Callable[[], Awaitable[Review]], type[Exception], str]] = [
        (lambda: desk.service.start(desk.repo.root, since="no-such"), GitError, "unknown since 'no-such'"),
        (lambda: desk.service.start(desk.repo.root, commit="--output=/tmp/x"), ViewError, "not a valid git revision"),
        (lambda: desk.service.start(desk.repo.root, range="main"), ViewError, "must have the form A..B"),
        (lambda: desk.service.start(plain, since="HEAD"), GitError, "not inside a git work tree"),
    ]
    for start, kind, message in cases:
        with pytest.raises(kind, match=message):
            await start()
    assert await desk.reviews.store.reviews() == [] and desk.reviews.all() == []


async def test_since_is_live_and_commits_and_ranges_are_not(desk: Desk) -> None:
    desk.repo.write("more.txt", "x\n")
    desk.repo.commit("second")
    inside = desk.repo.root / "deeper"
    inside.mkdir()
    live = await desk.service.start(inside, since="HEAD", title="my change")
    assert (live.view, live.title, live.repo.root) == (parse_view(LIVE), "my change", desk.repo.root)
    commit = await desk.service.start(desk.repo.root, commit="HEAD")
    assert commit.view == parse_view({"commit": "HEAD"}) and not commit.view.live
    assert commit.title == f"{desk.repo.root.name}: commit HEAD"
    ranged = await desk.service.start(desk.repo.root, range="HEAD~1..HEAD")
    assert ranged.view == parse_view({"range": "HEAD~1..HEAD"})
    assert [r.id for r in await desk.reviews.store.reviews()] == [live.id, commit.id, ranged.id]


async def test_an_open_review_of_the_same_view_is_reused_only_when_asked(desk: Desk) -> None:
    first = await desk.review()
    approved = await desk.service.start(desk.repo.root, commit="HEAD")
    await desk.reviews.approve(approved.id, "a1")
    # Another process over the same state (the CLI, run again in that repository):
    again = ReviewService(Reviews(desk.reviews.store))
    assert (await again.start(desk.repo.root, since="HEAD", reuse_open=True)).id == first.id
    assert (await again.start(desk.repo.root, commit="HEAD", reuse_open=True)).id != approved.id
    assert (await again.start(desk.repo.root, since="HEAD")).id != first.id
    assert len(await desk.reviews.store.reviews()) == 4


# ---- the person's comments and edits -----------------------------------------------------------------------------


async def test_a_comment_keeps_the_code_it_is_on_quoted_from_the_view(desk: Desk) -> None:
    review = await desk.review()
    shown = await desk.shown(review)
    lines = await desk.service.comment(review.id, shown, "c1", path="app.py", body="why?", line=2, end_line=3)
    assert (lines.quoted, lines.line, lines.end_line) == (["b = 20", "c = 3"], 2, 3)
    old = await desk.service.comment(review.id, shown, "c2", path="app.py", body="was fine", side="old", line=2)
    assert (old.quoted, old.side) == (["b = 2"], "old")
    whole = await desk.service.comment(review.id, shown, "c3", path="app.py", body="the whole file")
    assert whole.quoted == [] and whole.line is None
    assert [c.id for c in review.comments.values()] == [lines.id, old.id, whole.id]


async def test_comments_are_on_files_and_lines_of_the_diff_only(desk: Desk) -> None:
    review = await desk.review()
    shown = await desk.shown(review)
    for path, line in [("notes.txt", None), ("nope.py", 1), ("app.py", 99)]:
        with pytest.raises(Exception) as info:
            await desk.service.comment(review.id, shown, "c", path=path, body="hm", line=line)
        assert code_of(info.value) == "not_in_diff", (path, line)
    assert review.comments == {}


async def test_files_are_edited_only_in_live_views_and_in_the_diff(desk: Desk) -> None:
    review = await desk.review()
    desk.repo.git("add", "app.py")
    staged = await desk.shown(review, {"since": "HEAD"})
    live = await desk.shown(review)
    refusals = [
        (desk.service.open_file(review.id, staged, "app.py"), "not_live"),
        (desk.service.edit(review.id, staged, "e1", "app.py", "0", "x\n"), "not_live"),
        (desk.service.open_file(review.id, live, "notes.txt"), "edit_refused"),
        (desk.service.edit(review.id, live, "e2", "notes.txt", "0", "x\n"), "edit_refused"),
    ]
    for call, code in refusals:
        with pytest.raises(ReviewError) as info:
            await call
        assert info.value.code == code
    assert (desk.repo.root / "notes.txt").read_text() == "keep\n"
    content, digest = await desk.service.open_file(review.id, live, "app.py")
    assert content == "a = 1\nb = 20\nc = 3\n"
    await desk.service.edit(review.id, live, "e3", "app.py", digest, "a = 1\nb = 21\nc = 3\n")
    assert (desk.repo.root / "app.py").read_text() == "a = 1\nb = 21\nc = 3\n"


# ---- changes outlive a cancelled caller --------------------------------------------------------------------------


class Held:
    """A store call held before it runs: ``entered`` when reached, ``done`` once the real call returned (what the
    caller does after the call in the same step, updating the review in memory, has run when a waiter wakes)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, store: Store, name: str) -> None:
        self.entered, self.release, self.done = asyncio.Event(), asyncio.Event(), asyncio.Event()
        real = getattr(store, name)

        async def held(*args: Any, **kwargs: Any) -> Any:
            self.entered.set()
            await self.release.wait()
            try:
                return await real(*args, **kwargs)
            finally:
                self.done.set()

        monkeypatch.setattr(store, name, held)

    async def cancel_caller_then_release(self, call: Awaitable[Any]) -> None:
        caller = asyncio.ensure_future(call)
        await asyncio.wait_for(self.entered.wait(), TIMEOUT_S)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        self.release.set()
        await asyncio.wait_for(self.done.wait(), TIMEOUT_S)


@pytest.mark.parametrize("change", ["comment", "reply", "resolve", "request_changes", "approve", "edit"])
async def test_a_change_is_finished_when_its_caller_is_cancelled(desk: Desk, monkeypatch: pytest.MonkeyPatch,
                                                                 change: str) -> None:
    review = await desk.review()
    shown = await desk.shown(review)
    thread = await desk.service.comment(review.id, shown, "c0", path="app.py", body="first", line=2)
    content, digest = await desk.service.open_file(review.id, shown, "app.py")
    desk.reviews.broker.mark_delivered(await desk.reviews.broker.pending(review.id))
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "comment": lambda: desk.service.comment(review.id, shown, "c1", path="app.py", body="second"),
        "reply": lambda: desk.service.reply(review.id, thread.id, "on it", author="agent"),
        "resolve": lambda: desk.service.resolve(review.id, thread.id, reply="fixed", author="agent"),
        "request_changes": lambda: desk.service.request_changes(review.id, "r1", "please rename"),
        "approve": lambda: desk.service.approve(review.id, "a1", "ship it"),
        "edit": lambda: desk.service.edit(review.id, shown, "e1", "app.py", digest, content.replace("20", "21")),
    }
    await Held(monkeypatch, desk.reviews.store, "add_entry").cancel_caller_then_release(calls[change]())

    replies = [r.body for r in review.comments[thread.id].replies]
    pending = [e.kind for e in await desk.reviews.broker.pending(review.id)]
    if change == "comment":
        assert [c.body for c in review.comments.values()] == ["first", "second"] and pending == ["comment"]
    elif change == "reply":
        assert replies == ["on it"] and pending == []
    elif change == "resolve":
        assert replies == ["fixed"] and review.comments[thread.id].state == "resolved"
    elif change == "request_changes":
        assert review.state == "changes_requested" and pending == ["request_changes"]
    elif change == "approve":
        assert review.state == "approved" and pending == ["comment"]  # the note with the approval
    else:
        assert (desk.repo.root / "app.py").read_text() == "a = 1\nb = 21\nc = 3\n" and pending == ["edit"]


async def test_a_review_is_made_when_its_caller_is_cancelled_while_it_is_stored(
        desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    await Held(monkeypatch, desk.reviews.store, "add_review").cancel_caller_then_release(desk.review())
    (review,) = desk.reviews.all()
    assert [r.id for r in await desk.reviews.store.reviews()] == [review.id]


async def test_a_detached_caller_is_answered_in_the_step_that_made_the_change(desk: Desk) -> None:
    """A websocket request runs detached (nothing cancels it), so its change runs in its own task: the request
    queues its ack in the step that announced the change, before the hub's sender can push the change. An MCP
    call can be cancelled, so its change runs in a task of its own."""
    review = await desk.review()
    shown = await desk.shown(review)
    announced_in: list[asyncio.Task[Any] | None] = []
    desk.reviews.listen(lambda *_: announced_in.append(asyncio.current_task()))

    async def request() -> asyncio.Task[Any] | None:
        await desk.service.comment(review.id, shown, "c1", path="app.py", body="hm")
        return asyncio.current_task()

    request_task = await detach(request())
    assert announced_in == [request_task]
    announced_in.clear()
    await desk.service.reply(review.id, next(iter(review.comments)), "?", author="agent")
    assert len(announced_in) == 1 and announced_in[0] not in (None, asyncio.current_task())
