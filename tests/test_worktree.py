"""backloop.worktree on real repositories: which paths a live view learns to ignore.

(The patches themselves are checked against git through the websocket in tests/web/test_live_index.py and
tests/test_live.py.)"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from backloop.diff.resolve import resolve
from backloop.git.repo import Repo
from backloop.viewspec import parse_view
from backloop.worktree import WorkTree
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
