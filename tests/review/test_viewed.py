"""review/viewed.py: a file marked viewed stays viewed while its diff in the review's own view is the one marked,
and comes back unviewed and changed when that diff changes (also while no view ran: after a restart)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from backloop.diff.views import Views
from backloop.git.repo import Repo
from backloop.review.model import ViewedFile
from backloop.review.service import ReviewService
from backloop.review.session import ReviewError, Reviews
from backloop.review.store import Store
from backloop.viewspec import parse_view
from tests.conftest import MakeRepo
from tests.support import waiter

pytestmark = pytest.mark.anyio
LIVE = parse_view({"since": "HEAD", "live": "true"})




def live(reviews: Reviews) -> Views:
    views = Views()
    views.on_start(reviews.viewed.view_started)
    return views


async def test_a_viewed_file_comes_back_when_its_diff_changes(make_repo: MakeRepo, tmp_path: Path) -> None:
    git = make_repo({"a.py": "one\n", "b.py": "two\n"})
    git.write("a.py", "one!\n")
    git.write("b.py", "two!\n")
    reviews = Reviews(Store(tmp_path / "state.db"))
    until = waiter(reviews.viewed.listen)
    views = live(reviews)
    service = ReviewService(reviews, views)
    try:
        review = await reviews.create(await Repo.open(git.root), LIVE)
        view = await views.get(review.id, review.repo, LIVE)
        await view.ready.wait()
        await service.set_viewed(review.id, view, "a.py", True)
        await service.set_viewed(review.id, view, "b.py", True)
        assert reviews.viewed.files(review.id) == [ViewedFile("a.py", True, False), ViewedFile("b.py", True, False)]

        git.write("a.py", "one, changed again\n")
        view.poke({"a.py"}, git_changed=False)
        await until(lambda: reviews.viewed.files(review.id)[0].changed)
        assert reviews.viewed.files(review.id) == [ViewedFile("a.py", False, True), ViewedFile("b.py", True, False)]
        await reviews.viewed.flush()
        assert [row[2:] for row in await reviews.store.viewed(review.id)] == [(False, True), (True, False)]

        # Marked again: viewed for the new diff. Unmarked: forgotten.
        await service.set_viewed(review.id, view, "a.py", True)
        await service.set_viewed(review.id, view, "b.py", False)
        assert reviews.viewed.files(review.id) == [ViewedFile("a.py", True, False)]
        assert [row[0] for row in await reviews.store.viewed(review.id)] == ["a.py"]

        # Marked having seen an older diff than the view has now: changed at once.
        await service.set_viewed(review.id, view, "b.py", True, sent="an older digest")
        assert reviews.viewed.files(review.id, ["b.py"]) == [ViewedFile("b.py", False, True)]

        with pytest.raises(ReviewError) as outside:
            await service.set_viewed(review.id, view, "c.py", True)
        assert outside.value.code == "not_in_diff"
    finally:
        await views.close()


async def test_marks_from_another_view_are_for_the_own_views_diff(make_repo: MakeRepo, tmp_path: Path) -> None:
    """Marked in a view with other options (here: ignoring whitespace), the mark is for the review's own diff."""
    git = make_repo({"a.py": "x = 1\n"})
    git.write("a.py", "x  =  1\ny = 2\n")
    reviews = Reviews(Store(tmp_path / "state.db"))
    views = live(reviews)
    service = ReviewService(reviews, views)
    try:
        review = await reviews.create(await Repo.open(git.root), LIVE)
        other = await views.get(review.id, review.repo, parse_view({"since": "HEAD", "live": "true", "ws": "1"}))
        await other.ready.wait()
        await service.set_viewed(review.id, other, "a.py", True)
        own = await views.get(review.id, review.repo, LIVE)
        ((path, digest, viewed, changed),) = await reviews.store.viewed(review.id)
        assert (path, digest, viewed, changed) == ("a.py", own.files["a.py"].digest, True, False)
        assert digest != other.files["a.py"].digest
    finally:
        await views.close()


async def test_a_change_while_no_view_ran_is_found_after_a_restart(make_repo: MakeRepo, tmp_path: Path) -> None:
    git = make_repo({"a.py": "one\n"})
    git.write("a.py", "one!\n")
    reviews = Reviews(Store(tmp_path / "state.db"))
    views = live(reviews)
    try:
        review = await reviews.create(await Repo.open(git.root), LIVE)
        view = await views.get(review.id, review.repo, LIVE)
        await view.ready.wait()
        await ReviewService(reviews, views).set_viewed(review.id, view, "a.py", True)
    finally:
        await views.close()
        await asyncio.to_thread(reviews.store.close)

    git.write("a.py", "one, changed while the server was down\n")
    again = Reviews(Store(tmp_path / "state.db"))
    until = waiter(again.viewed.listen)
    (restored,) = await again.restore(git.root)
    assert again.viewed.files(restored.id) == [ViewedFile("a.py", True, False)]
    views = live(again)
    try:
        await views.get(restored.id, restored.repo, LIVE)
        await until(lambda: again.viewed.files(restored.id) == [ViewedFile("a.py", False, True)])
    finally:
        await views.close()
