"""backloop.diff.worktree on real repositories: which paths a live view learns to ignore, and untracked files shown as
``git add`` would stage them.

(The patches themselves are checked against git through the websocket in tests/web/test_live_index.py and
tests/test_live.py.)"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from backloop.diff.model import FileDiff
from backloop.diff.parse import build_file
from backloop.diff.resolve import resolve
from backloop.diff.worktree import WorkTree
from backloop.git.process import GitError
from backloop.git.repo import Repo
from backloop.viewspec import parse_view
from tests.conftest import MakeRepo

pytestmark = pytest.mark.anyio


async def test_only_what_git_calls_ignored_is_ignored(make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new file that is gone again before git lists it (an editor's temporary file, a file written again at
    once) is not taken for an ignored one: that would drop every later event for the path."""
    gr = make_repo({".gitignore": "*.log\n", "a.txt": "a\n"})
    repo = await Repo.open(gr.root)
    resolved = await resolve(repo, parse_view({"since": "HEAD", "live": "true"}))
    worktree = WorkTree(repo, 3, False)
    await worktree.all_patches(resolved)

    real = Repo.untracked
    vanish = ["new.txt"]

    async def racing(self: Repo, paths: Iterable[str] | None = None) -> list[str]:
        wanted = None if paths is None else list(paths)
        if wanted is not None and vanish and vanish[0] in wanted:
            (gr.root / vanish.pop()).unlink()  # gone between the view's look and git's
        return await real(self, wanted)

    monkeypatch.setattr(Repo, "untracked", racing)
    gr.write("new.txt", "1\n")
    gr.write("out.log", "log\n")
    patches, _ = await worktree.path_patches(resolved, {"new.txt", "out.log"}, {})
    assert patches == {} and worktree.ignored == {"out.log"}
    gr.write("new.txt", "2\n")
    patches, _ = await worktree.path_patches(resolved, {"new.txt"}, {})
    assert list(patches) == ["new.txt"] and patches["new.txt"].untracked


# ---- untracked files as git add would stage them -----------------------------------------------------------------

CRLF_TEXT = b"one\r\ntwo\r\nthree\r\n"


def shown(fd: FileDiff) -> tuple[bool, list[str]]:
    return fd.binary, [line.text for h in fd.hunks for line in h.lines]


async def live_patches(repo: Repo) -> tuple[WorkTree, dict[str, FileDiff]]:
    resolved = await resolve(repo, parse_view({"since": "HEAD", "live": "true"}))
    worktree = WorkTree(repo, 3, False)
    return worktree, {p: build_file(fp) for p, fp in (await worktree.all_patches(resolved)).items()}


@pytest.mark.parametrize(("setting", "converts"), [
    ("none", False), ("text=auto", True), ("binary attribute", True), ("info/attributes", True),
    ("core.autocrlf", True)])
async def test_an_untracked_file_shows_what_git_add_stages(make_repo: MakeRepo, setting: str, converts: bool) -> None:
    gr = make_repo({"kept.txt": "kept\n"})
    if setting == "text=auto":
        gr.write(".gitattributes", "* text=auto\n")
        gr.commit("attributes")
    elif setting == "binary attribute":
        gr.write(".gitattributes", "*.txt binary\n")  # (untracked itself: it applies all the same)
    elif setting == "info/attributes":
        (gr.root / ".git" / "info").mkdir(exist_ok=True)
        (gr.root / ".git" / "info" / "attributes").write_text("* text=auto\n")
    elif setting == "core.autocrlf":
        gr.git("config", "core.autocrlf", "true")
    gr.write("dos.txt", CRLF_TEXT)
    repo = await Repo.open(gr.root)
    worktree, before = await live_patches(repo)
    assert worktree.converts is converts
    assert before["dos.txt"].untracked

    gr.git("add", "--", "dos.txt")  # what git stages, shown by git's own diff of the index
    _, after = await live_patches(repo)
    assert not after["dos.txt"].untracked
    assert shown(before["dos.txt"]) == shown(after["dos.txt"])
    assert before["dos.txt"].digest == after["dos.txt"].digest  # (same blob id, same highlighting cache entry)
    expected = {"none": (False, ["one\r", "two\r", "three\r"]), "binary attribute": (True, [])}
    assert shown(before["dos.txt"]) == expected.get(setting, (False, ["one", "two", "three"]))


async def test_after_a_new_attributes_file_a_saved_untracked_file_goes_through_git(make_repo: MakeRepo) -> None:
    gr = make_repo({"kept.txt": "kept\n"})
    repo = await Repo.open(gr.root)
    resolved = await resolve(repo, parse_view({"since": "HEAD", "live": "true"}))
    worktree = WorkTree(repo, 3, False)
    await worktree.all_patches(resolved)
    assert not worktree.converts

    gr.write("dos.txt", CRLF_TEXT)
    patches, _ = await worktree.path_patches(resolved, {"dos.txt"}, {})
    assert shown(build_file(patches["dos.txt"])) == (False, ["one\r", "two\r", "three\r"])  # bytes as they are

    gr.write(".gitattributes", "* text=auto\n")  # its event means a full recompute (git/watch.py)
    patches = await worktree.all_patches(resolved)
    assert worktree.converts and patches[".gitattributes"].untracked
    gr.write("dos.txt", CRLF_TEXT + b"four\r\n")
    patches, _ = await worktree.path_patches(resolved, {"dos.txt"}, {})
    fd = build_file(patches["dos.txt"])
    assert fd.untracked and shown(fd) == (False, ["one", "two", "three", "four"])


async def test_when_git_cannot_add_an_untracked_file_it_is_read_as_it_is(make_repo: MakeRepo,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    gr = make_repo({".gitattributes": "* text=auto\n"})
    gr.write("dos.txt", CRLF_TEXT)

    async def failing(self: Repo, paths: Iterable[str], *, context: int = 3, ignore_ws: bool = False) -> list[bytes]:
        raise GitError("git add failed: pathspec 'dos.txt' did not match any files")

    monkeypatch.setattr(Repo, "diff_untracked", failing)
    worktree, patches = await live_patches(await Repo.open(gr.root))
    assert worktree.converts
    assert patches["dos.txt"].untracked and shown(patches["dos.txt"]) == (False, ["one\r", "two\r", "three\r"])
