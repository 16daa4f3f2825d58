"""review/follow.py: open comments stay on their code as the review's own view changes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio
import pytest

from backloop.diff.views import Views
from backloop.git.repo import Repo
from backloop.review.follow import Follow
from backloop.review.session import Reviews
from backloop.review.store import Store
from backloop.viewspec import parse_view
from tests.conftest import MakeRepo
from tests.support import TIMEOUT_S, waiter

pytestmark = pytest.mark.anyio
LIVE = {"since": "HEAD", "live": "true"}




async def test_comments_move_with_their_lines_and_outdate_when_gone(make_repo: MakeRepo, tmp_path: Path) -> None:
    git = make_repo({"a.py": "one\ntwo\nthree\n"})
    git.write("a.py", "one\ntwo\nthree\nfour\n")
    reviews = Reviews(Store(tmp_path / "state.db"))
    until = waiter(reviews.listen)
    views = Views()
    views.on_start(Follow(reviews).view_started)
    try:
        review = await reviews.create(await Repo.open(git.root), parse_view(LIVE))
        on_three = await reviews.comment(review.id, None, body="b", path="a.py", line=3, quoted=["three"])
        on_four = await reviews.comment(review.id, None, body="c", path="a.py", line=4, quoted=["four"])
        view = await views.get(review.id, review.repo, parse_view(LIVE))
        await view.ready.wait()
        git.write("a.py", "zero\none\ntwo\nthree\n")
        view.poke({"a.py"}, git_changed=False)
        await until(lambda: review.comments[on_four.id].outdated)
        await until(lambda: review.comments[on_three.id].line == 4)
        assert not review.comments[on_three.id].outdated
        stored = {e.id: e for e in await reviews.store.entries(review.id)}
        assert stored[on_three.id].line == 4 and stored[on_four.id].outdated
    finally:
        await views.close()
        reviews.store.close()


async def test_other_views_of_a_review_do_not_move_its_comments(make_repo: MakeRepo, tmp_path: Path) -> None:
    git = make_repo({"a.py": "one\ntwo\n"})
    git.write("a.py", "one\ntwo\nthree\n")
    reviews = Reviews(Store(tmp_path / "state.db"))
    until = waiter(reviews.listen)
    views = Views()
    follow = Follow(reviews)
    views.on_start(follow.view_started)
    try:
        review = await reviews.create(await Repo.open(git.root), parse_view(LIVE))
        comment = await reviews.comment(review.id, None, body="b", path="a.py", line=3, quoted=["three"])
        staged = await views.get(review.id, review.repo, parse_view({"since": "HEAD"}))
        git.write("a.py", "zero\none\ntwo\nthree\n")
        git.git("add", "a.py")
        updated = asyncio.Event()
        staged.listen(lambda _event: updated.set())
        staged.poke(set(), git_changed=True)
        with anyio.fail_after(TIMEOUT_S):
            await updated.wait()
        assert "zero" in str(staged.files["a.py"])
        # the staged view is only a look: no move was started (a move would be under way, or done)
        assert not follow._tasks and review.comments[comment.id].line == 3
        await views.get(review.id, review.repo, parse_view(LIVE))  # the review's own view: its first diff moves it
        await until(lambda: review.comments[comment.id].line == 4)
    finally:
        await views.close()
        reviews.store.close()
