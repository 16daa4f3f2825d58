"""diff/delta.py: what one client is sent of a real view, and when."""

from __future__ import annotations

import msgspec
import pytest

from backloop.diff.delta import (
    SNAPSHOT_LINES,
    ClientDelta,
    SendFile,
    SendNotice,
    SendRemoved,
    SendState,
    SendThread,
)
from backloop.diff.model import FileDiff, Hunk, Line
from backloop.diff.view import OK, DiffView, FilesChanged, NoticeChanged, ViewNotice
from backloop.git.repo import Repo
from backloop.viewspec import parse_view
from tests.conftest import MakeRepo

pytestmark = pytest.mark.anyio


def fd(path: str, digest: str, lines: int = 1, **extra: object) -> FileDiff:
    rows = [Line(kind="add", old=None, new=n + 1, text=f"{n}", html=f"{n}") for n in range(lines)]
    hunk = Hunk(id=digest, old_start=0, old_lines=0, new_start=1, new_lines=lines, header="@@", lines=rows)
    return msgspec.convert({"path": path, "old_path": None, "status": "added", "binary": False, "additions": lines,
                            "deletions": 0, "hunks": [msgspec.to_builtins(hunk)], "digest": digest, **extra},
                           FileDiff)


async def view_of(make_repo: MakeRepo, files: dict[str, FileDiff]) -> DiffView:
    """A real view of a real repository, whose files are set here rather than computed (it is not run)."""
    repo = make_repo({"x": "x\n"})
    view = DiffView(await Repo.open(repo.root), parse_view({"since": "HEAD", "live": "true"}))
    view.files.update(files)
    return view


def drain(delta: ClientDelta) -> list[object]:
    out: list[object] = []
    while (change := delta.next()) is not None:
        out.append(change)
    return out


async def test_the_snapshot_carries_the_budget_and_owes_the_rest(make_repo: MakeRepo) -> None:
    half = SNAPSHOT_LINES // 2
    view = await view_of(make_repo, {"c": fd("c", "c1", half), "a": fd("a", "a1", half), "b": fd("b", "b1", half)})
    delta = ClientDelta(view)
    snapshot = delta.snapshot()
    assert [f.path for f in snapshot.files] == ["a", "b", "c"]
    assert [bool(f.hunks) for f in snapshot.files] == [True, True, False]
    assert snapshot.files[2].loading and snapshot.notice is None
    assert delta.owes_stubs_now
    # the stub's file is sent even though it did not change, and only once
    assert drain(delta) == [SendFile(view.files["c"])]
    assert drain(delta) == []


async def test_changes_coalesce_and_only_what_differs_is_sent(make_repo: MakeRepo) -> None:
    view = await view_of(make_repo, {"a": fd("a", "a1"), "b": fd("b", "b1")})
    delta = ClientDelta(view)
    delta.snapshot()
    for digest in ("a2", "a3", "a4"):
        view.files["a"] = fd("a", digest)
        delta.on_view(FilesChanged(("a",)))
    delta.on_view(FilesChanged(("b",)))  # b's object is the one this client has: nothing to send
    assert drain(delta) == [SendFile(view.files["a"])]
    del view.files["b"]
    delta.on_view(FilesChanged(("b", "never-sent")))
    assert drain(delta) == [SendRemoved("b")]


async def test_the_review_comes_first_then_the_notice_then_files(make_repo: MakeRepo) -> None:
    view = await view_of(make_repo, {"a": fd("a", "a1")})
    delta = ClientDelta(view)
    delta.snapshot()
    view.files["a"] = fd("a", "a2")
    delta.on_view(FilesChanged(("a",)))
    view.notice = ViewNotice("warning", "a rebase is in progress")
    delta.on_view(NoticeChanged(view.notice))
    delta.on_thread("c1")
    delta.on_state()
    assert drain(delta) == [SendState(), SendThread("c1"), SendNotice(view.notice), SendFile(view.files["a"])]


async def test_a_client_hears_ok_only_after_something_else(make_repo: MakeRepo) -> None:
    view = await view_of(make_repo, {})
    delta = ClientDelta(view)
    assert delta.snapshot().notice is None
    delta.on_view(NoticeChanged(OK))
    assert drain(delta) == []
    view.notice = ViewNotice("error", "no such revision")
    delta.on_view(NoticeChanged(view.notice))
    delta.on_view(NoticeChanged(view.notice))
    assert drain(delta) == [SendNotice(view.notice)]
    view.notice = OK
    delta.on_view(NoticeChanged(OK))
    assert drain(delta) == [SendNotice(OK)]


async def test_a_loaded_file_is_sent_whole_while_it_is_current(make_repo: MakeRepo) -> None:
    view = await view_of(make_repo, {"big": fd("big", "v1", too_large=True)})
    view.files["big"] = msgspec.structs.replace(view.files["big"], hunks=[])
    delta = ClientDelta(view)
    delta.snapshot()
    whole = fd("big", "v1", 3)
    delta.load(whole)
    assert drain(delta) == [SendFile(whole)]
    view.files["big"] = msgspec.structs.replace(view.files["big"], digest="v2")  # the file changed again
    delta.on_view(FilesChanged(("big",)))
    assert drain(delta) == [SendFile(view.files["big"])]
