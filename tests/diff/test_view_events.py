"""diff/view.py: a running view tells its listeners what changed, as typed events, and only when it changed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import anyio
import pytest

from backloop.diff.view import OK, DiffView, FilesChanged, NoticeChanged, ViewEvent
from backloop.git.repo import Repo
from backloop.viewspec import parse_view
from tests.conftest import MakeRepo
from tests.support import TIMEOUT_S, GitRepo

pytestmark = pytest.mark.anyio


class Heard:
    def __init__(self, view: DiffView) -> None:
        self.events: list[ViewEvent] = []
        self._new = asyncio.Event()
        view.listen(self._hear)

    def _hear(self, event: ViewEvent) -> None:
        self.events.append(event)
        self._new.set()

    async def until(self, wanted: type[ViewEvent], check: object = None) -> ViewEvent:
        with anyio.fail_after(TIMEOUT_S):
            while True:
                for i, event in enumerate(self.events):
                    if isinstance(event, wanted) and (check is None or check(event)):  # type: ignore[operator]
                        del self.events[: i + 1]
                        return event
                self._new.clear()
                await self._new.wait()


@contextlib.asynccontextmanager
async def running(repo: GitRepo, query: dict[str, str]) -> AsyncIterator[tuple[DiffView, Heard]]:
    view = DiffView(await Repo.open(repo.root), parse_view(query))
    heard = Heard(view)
    task = asyncio.create_task(view.run())
    try:
        yield view, heard
    finally:
        task.cancel()


async def test_a_saved_file_is_one_files_changed_event(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.txt": "1\n", "b.txt": "2\n"})
    async with running(repo, {"since": "HEAD", "live": "true"}) as (view, heard):
        await view.ready.wait()
        assert view.files == {} and view.notice == OK
        repo.write("a.txt", "one\n")
        view.poke({"a.txt"}, git_changed=False)
        event = await heard.until(FilesChanged)
        assert event == FilesChanged(("a.txt",))
        before = view.files["a.txt"]
        view.poke({"a.txt", "b.txt"}, git_changed=False)  # nothing new on disk: same objects, no event
        view.poke(set(), git_changed=True)
        repo.write("b.txt", "two\n")
        view.poke({"b.txt"}, git_changed=False)
        assert await heard.until(FilesChanged) == FilesChanged(("b.txt",))
        assert view.files["a.txt"] is before


async def test_the_notice_changes_with_the_repository(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.txt": "1\n"})
    repo.git("branch", "topic")
    async with running(repo, {"since": "topic", "live": "true"}) as (view, heard):
        await view.ready.wait()
        assert view.notice == OK
        repo.git("branch", "-D", "topic")
        view.poke(set(), git_changed=True)
        event = await heard.until(NoticeChanged)
        assert isinstance(event, NoticeChanged) and event.notice.level == "error"
        assert "topic" in event.notice.message and view.notice == event.notice
        repo.git("branch", "topic")
        view.poke(set(), git_changed=True)
        assert await heard.until(NoticeChanged) == NoticeChanged(OK)
