"""The watcher: raw filesystem events → work-tree paths and a git-state flag, with a real watchfiles watcher."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from watchfiles import Change

from backloop.git.repo import Repo, common_dir
from backloop.git.watch import RepoWatcher, classify
from tests.conftest import MakeRepo
from tests.support import TIMEOUT_S, GitRepo

ROOT = Path("/r")
GIT = Path("/r/.git")


def _classify(*raw: str, git_dir: Path = GIT) -> tuple[set[str], bool]:
    return classify(ROOT, git_dir, [(Change.modified, p) for p in raw], git_dir)


def test_work_tree_paths_are_relative() -> None:
    assert _classify("/r/a.txt", "/r/dir/b c.py", "/r/ünï") == ({"a.txt", "dir/b c.py", "ünï"}, False)


def test_git_state_files_mean_recompute() -> None:
    for rel in ("HEAD", "index", "packed-refs", "MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "info/exclude",
                "refs/heads/main", "refs/tags/v1", "refs/remotes/origin/main"):
        assert _classify(f"/r/.git/{rel}") == (set(), True), rel


def test_git_churn_is_dropped() -> None:
    for rel in ("objects/ab/cdef", "index.lock", "HEAD.lock", "refs/heads/main.lock", "logs/HEAD", "COMMIT_EDITMSG",
                "ORIG_HEAD", "FETCH_HEAD", "config", "hooks/pre-commit", "objects/pack/tmp_pack_x"):
        assert _classify(f"/r/.git/{rel}") == (set(), False), rel


def test_submodule_git_state_means_recompute() -> None:
    for rel in ("modules/sub/HEAD", "modules/sub/refs/heads/main", "modules/a/b/packed-refs",
                "modules/outer/modules/inner/HEAD"):
        assert _classify(f"/r/.git/{rel}") == (set(), True), rel
    for rel in ("modules/sub/objects/ab/cd", "modules/sub/logs/HEAD", "modules/sub/logs/refs/heads/main",
                "modules/sub/ORIG_HEAD", "modules/sub/index.lock", "modules/sub/config"):
        assert _classify(f"/r/.git/{rel}") == (set(), False), rel


def test_gitignore_change_means_recompute() -> None:
    assert _classify("/r/.gitignore") == ({".gitignore"}, True)
    assert _classify("/r/sub/dir/.gitignore") == ({"sub/dir/.gitignore"}, True)
    assert _classify("/r/not.gitignore") == ({"not.gitignore"}, False)
    assert _classify("/r/.gitattributes") == ({".gitattributes"}, True)
    assert _classify("/r/sub/.gitattributes") == ({"sub/.gitattributes"}, True)
    assert _classify("/r/my.gitattributes") == ({"my.gitattributes"}, False)


def test_outside_paths_are_dropped() -> None:
    assert _classify("/rest/a.txt", "/other/x", "/r") == (set(), False)


def test_separate_git_dir() -> None:
    git_dir = Path("/elsewhere/.git/worktrees/r")
    assert _classify("/elsewhere/.git/worktrees/r/HEAD", "/r/a", git_dir=git_dir) == ({"a"}, True)
    assert _classify("/elsewhere/.git/worktrees/r/logs/HEAD", git_dir=git_dir) == (set(), False)


def test_common_dir_of_a_linked_worktree() -> None:
    git_dir = Path("/main/.git/worktrees/r")
    common = Path("/main/.git")
    for rel in ("refs/heads/main", "refs/remotes/origin/x", "packed-refs", "info/exclude"):
        assert classify(ROOT, git_dir, [(Change.modified, f"/main/.git/{rel}")], common) == (set(), True), rel
    for rel in ("HEAD", "index", "objects/ab/cd", "refs/heads/main.lock", "worktrees/other/HEAD", "logs/HEAD"):
        # HEAD and index of the common dir belong to the main worktree, not to this one.
        assert classify(ROOT, git_dir, [(Change.modified, f"/main/.git/{rel}")], common) == (set(), False), rel
    assert classify(ROOT, git_dir, [(Change.modified, "/main/.git/worktrees/r/index")], common) == (set(), True)


def test_common_dir(make_repo: MakeRepo, tmp_path: Path) -> None:
    gr = make_repo({"a.txt": "a\n"})
    assert common_dir(gr.root / ".git") == gr.root / ".git"
    gr.git("worktree", "add", "-q", "-b", "feature", str(tmp_path / "linked"))
    assert common_dir(gr.root / ".git" / "worktrees" / "linked") == gr.root / ".git"


def test_a_file_named_dot_git_something_is_a_work_tree_path() -> None:
    assert _classify("/r/.github/workflows/ci.yml", "/r/.gitkeep", "/r/x/.git") == (
        {".github/workflows/ci.yml", ".gitkeep", "x/.git"}, False)


# ---- a real watcher --------------------------------------------------------------------------------------------

Events = asyncio.Queue[tuple[set[str], bool]]


@contextlib.asynccontextmanager
async def watching(root: Path) -> AsyncIterator[Events]:
    repo = await Repo.open(root)
    watcher = RepoWatcher(repo.root, repo.git_dir)
    events: Events = asyncio.Queue()
    watcher.subscribe(lambda paths, git_changed: events.put_nowait((set(paths), git_changed)))
    task = asyncio.create_task(watcher.run())
    try:
        await asyncio.wait_for(watcher.started.wait(), TIMEOUT_S)
        yield events
    finally:
        watcher.stop()
        await asyncio.wait_for(task, TIMEOUT_S)


async def wait_for(events: Events, pred: Callable[[set[str], bool], bool],
                   within: float = TIMEOUT_S) -> list[tuple[set[str], bool]]:
    """Batches up to and including the first that satisfies ``pred``."""
    seen: list[tuple[set[str], bool]] = []

    async def collect() -> None:
        while True:
            batch = await events.get()
            seen.append(batch)
            if pred(*batch):
                return

    try:
        await asyncio.wait_for(collect(), within)
    except TimeoutError:
        raise AssertionError(f"no matching batch within {within} s; got {seen}") from None
    return seen


@pytest.mark.anyio
async def test_real_watcher_reports_paths_and_git_changes(make_repo: MakeRepo) -> None:
    gr = make_repo({"a.txt": "a\n"})
    async with watching(gr.root) as events:
        gr.write("a.txt", "changed\n")
        seen = await wait_for(events, lambda paths, _: "a.txt" in paths)
        assert not any(git for _, git in seen)

        gr.write("dir/new file.txt", "new\n")
        # A file made right after its new directory may come only as the directory (inotify watches the new
        # directory once it sees it); views re-list a reported directory, so either is enough.
        await wait_for(events, lambda paths, _: "dir/new file.txt" in paths or "dir" in paths)

        (gr.root / "dir" / "new file.txt").unlink()
        await wait_for(events, lambda paths, _: "dir/new file.txt" in paths)

        gr.git("add", "a.txt")
        await wait_for(events, lambda _, git: git)

        gr.git("commit", "-q", "-m", "commit")
        await wait_for(events, lambda _, git: git)

        gr.git("checkout", "-q", "-b", "other")
        await wait_for(events, lambda _, git: git)


@pytest.mark.anyio
async def test_real_watcher_never_reports_git_dir_paths(make_repo: MakeRepo) -> None:
    gr = make_repo({"a.txt": "a\n"})
    async with watching(gr.root) as events:
        gr.write("a.txt", "1\n")
        gr.commit("one")  # objects, logs, locks, COMMIT_EDITMSG, refs
        gr.write("marker.txt", "done\n")
        seen = await wait_for(events, lambda paths, _: "marker.txt" in paths)
        assert any(git for _, git in seen)
        for paths, _ in seen:
            assert not any(p == ".git" or p.startswith(".git/") for p in paths), paths


@pytest.mark.anyio
async def test_commit_in_a_linked_worktree_is_a_git_change(make_repo: MakeRepo, tmp_path: Path) -> None:
    """A linked worktree keeps HEAD and index in .git/worktrees/NAME but its branch ref in the main .git."""
    gr = make_repo({"a.txt": "a\n"})
    linked_root = tmp_path / "linked"
    gr.git("worktree", "add", "-q", "-b", "feature", str(linked_root))
    linked = GitRepo(linked_root.resolve())
    async with watching(linked.root) as events:
        linked.write("b.txt", "b\n")
        await wait_for(events, lambda paths, _: "b.txt" in paths)
        linked.git("add", "b.txt")
        await wait_for(events, lambda _, git: git)
        linked.git("commit", "-q", "-m", "in the linked worktree")
        await wait_for(events, lambda _, git: git)
        # The branch moves without touching the worktree's own HEAD or index:
        gr.git("update-ref", "refs/heads/feature", "main")
        await wait_for(events, lambda _, git: git)


async def settled(gr: GitRepo, events: Events) -> list[tuple[set[str], bool]]:
    """Write a marker until the watcher reports it (after a restart, it may miss the first writes)."""
    seen: list[tuple[set[str], bool]] = []
    for attempt in range(40):
        gr.write("marker.txt", f"{attempt}\n")
        try:
            seen += await wait_for(events, lambda paths, _: "marker.txt" in paths, within=0.5)
            return seen
        except AssertionError:
            seen += [events.get_nowait() for _ in range(events.qsize())]
    raise AssertionError("the watcher never came back")


def _write_bytes(path: bytes, data: bytes, mode: str = "wb") -> None:
    with open(path, mode) as fh:
        fh.write(data)


def _read_bytes(path: bytes) -> None:
    with open(path, "rb") as fh:
        fh.read()


@pytest.mark.anyio
async def test_a_name_that_is_not_utf8_does_not_stop_the_watcher(make_repo: MakeRepo) -> None:
    """watchfiles fails a whole batch on such a path, even when the file was only read: the watcher restarts,
    asks for a full recompute (the failed batch is lost), and keeps reporting. The recompute's own read of the
    file does not start a loop of recomputes."""
    gr = make_repo({"a.txt": "a\n"})
    odd = os.path.join(os.fsencode(gr.root), b"caf\xe9.txt")
    _write_bytes(odd, b"x\n")
    async with watching(gr.root) as events:
        _write_bytes(odd, b"more\n", "ab")
        gr.write("a.txt", "changed\n")
        # The change to a.txt came in the failed batch: a full recompute is asked for instead.
        await wait_for(events, lambda paths, git: "a.txt" in paths or (git and not paths))
        _read_bytes(odd)  # what that recompute does
        resyncs = 1
        for i in range(2):
            seen = await settled(gr, events)
            resyncs += sum(1 for paths, git in seen if git and not paths)
            _write_bytes(odd, b"more\n", "ab")
            gr.write("a.txt", f"changed {i}\n")
            seen = await wait_for(events, lambda paths, git: "a.txt" in paths or (git and not paths))
            resyncs += sum(1 for paths, git in seen if git and not paths)
            _read_bytes(odd)
        seen = await settled(gr, events)
        resyncs += sum(1 for paths, git in seen if git and not paths)
        assert resyncs <= 4


@pytest.mark.anyio
@pytest.mark.parametrize("end", ["stop", "cancel"])
async def test_the_watch_thread_ends_with_the_watch(make_repo: MakeRepo, end: str) -> None:
    """watchfiles blocks in a thread of its own: stopping the watcher or cancelling its task ends that thread."""
    repo = await Repo.open(make_repo({"a.txt": "a\n"}).root)
    before = set(threading.enumerate())
    watcher = RepoWatcher(repo.root, repo.git_dir)
    task = asyncio.create_task(watcher.run())
    await asyncio.wait_for(watcher.started.wait(), TIMEOUT_S)
    [thread] = [t for t in threading.enumerate() if t not in before and t.name == "backloop-watch"]
    if end == "stop":
        watcher.stop()
        await asyncio.wait_for(task, TIMEOUT_S)
    else:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await asyncio.to_thread(thread.join, TIMEOUT_S)
    assert not thread.is_alive()
