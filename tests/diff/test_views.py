"""diff/views.py: one running view per review and diff, shared by its users, dropped a while after the last."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from backloop.diff import views as views_module
from backloop.diff.view import DiffView
from backloop.diff.views import Views
from backloop.git.repo import Repo
from backloop.viewspec import parse_view
from tests.conftest import MakeRepo
from tests.support import TIMEOUT_S

pytestmark = pytest.mark.anyio


async def test_views_are_shared_per_owner_and_diff(make_repo: MakeRepo) -> None:
    repo = await Repo.open(make_repo({"a": "1\n"}).root)
    views = Views()
    started: list[tuple[str, DiffView]] = []
    views.on_start(lambda owner, view: started.append((owner, view)))
    try:
        unified = await views.get("r1", repo, parse_view({"since": "HEAD", "live": "true"}))
        split = await views.get("r1", repo, parse_view({"since": "HEAD", "live": "true", "view": "split"}))
        other_owner = await views.get("r2", repo, parse_view({"since": "HEAD", "live": "true"}))
        other_diff = await views.get("r1", repo, parse_view({"since": "HEAD", "live": "true", "ws": "1"}))
        assert split is unified  # the layout is presentation only
        assert len({id(unified), id(other_owner), id(other_diff)}) == 3
        assert started == [("r1", unified), ("r2", other_owner), ("r1", other_diff)]
    finally:
        await views.close()


async def test_a_view_lingers_after_its_last_user_then_stops(make_repo: MakeRepo,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views_module, "VIEW_LINGER_S", 0.05)
    repo = await Repo.open(make_repo({"a": "1\n"}).root)
    spec = parse_view({"since": "HEAD", "live": "true"})
    views = Views()
    try:
        async with views.use("r1", repo, spec) as view:
            async with views.use("r1", repo, spec) as again:
                assert again is view
            await asyncio.sleep(0.2)  # longer than the linger: a view in use must still be there
            assert await views.get("r1", repo, spec) is view
        with anyio.fail_after(TIMEOUT_S):
            while ("r1", spec) in views._running:  # noqa: ASYNC110 (dropped by a timer: nothing to wait on)
                await asyncio.sleep(0.01)
        assert await views.get("r1", repo, spec) is not view  # started afresh
    finally:
        await views.close()
