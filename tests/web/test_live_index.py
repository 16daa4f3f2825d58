"""Live views where the index and the work tree disagree (``git rm --cached``, ``git rm``, ``git add``,
``git restore --staged``, staged and modified again).

``since=REV&live=true`` is REV against the work tree with its untracked files: what ``git add -A`` would stage,
diffed against REV. After every step the view a client has been patched to (snapshot, then ``file`` and
``file_removed`` messages: per-path recomputes after work-tree writes, full ones after index changes) must equal
that, computed by git itself in a scratch copy of the index, and equal a fresh snapshot of another review.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from starlette.testclient import WebSocketTestSession

from backloop.diff.parse import build_file, split_raw_patch
from backloop.git.repo import DIFF_FLAGS
from tests.conftest import MakeRepo
from tests.support import GitRepo, Message, receive, receive_until
from tests.web.conftest import Served

LIVE = {"since": "HEAD", "live": "true"}
Step = Callable[[GitRepo], object]
Shape = tuple[str, str | None, str | None, str | None, list[tuple[str, str]]]


def shape(file: Message) -> Shape:
    """What a file's diff says, without ids, highlighting and flags that only say where it came from."""
    lines = [(ln["kind"], ln["text"]) for h in file["hunks"] for ln in h["lines"]]
    return file["status"], file.get("old_path"), file.get("old_mode"), file.get("new_mode"), lines


def git_add_all_view(repo: GitRepo, tmp: Path) -> dict[str, Shape]:
    """HEAD against what ``git add -A`` would stage, in a copy of the index (the real one is left alone)."""
    index = tmp / "index"
    shutil.copyfile(repo.root / ".git" / "index", index)
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    repo.git("add", "-A", env=env)
    out = subprocess.run(["git", "-c", "core.quotePath=false", "diff", *DIFF_FLAGS, "--cached", "HEAD", "--"],
                         cwd=repo.root, env=env, capture_output=True, check=True).stdout
    return {fp.path: shape(msgspec.to_builtins(build_file(fp))) for fp in split_raw_patch(out)}


class Client:
    """A live view's files as a client has them: the snapshot, patched by every message since."""

    def __init__(self, ws: WebSocketTestSession) -> None:
        self.ws = ws
        assert receive(ws)["type"] == "hello"
        snapshot, _ = receive_until(ws, lambda m: m["type"] == "snapshot")
        self.files: dict[str, Message] = {f["path"]: f for f in snapshot["files"]}
        self.markers = 0

    def settle(self, repo: GitRepo) -> dict[str, Shape]:
        """Write a new marker file (it sorts last) and apply messages until its own arrives: everything the
        watcher saw before it has been recomputed and sent by then."""
        self.markers += 1
        marker = f"zz-marker-{self.markers}.txt"
        repo.write(marker, "m\n")
        while True:
            message = receive(self.ws)
            if message["type"] == "file":
                self.files[message["file"]["path"]] = message["file"]
                if message["file"]["path"] == marker:
                    return {path: shape(f) for path, f in self.files.items()}
            elif message["type"] == "file_removed":
                self.files.pop(message["path"], None)


def run_steps(repo: GitRepo, served: Served, tmp_path: Path, steps: list[tuple[Step, dict[str, Shape | None]]]
              ) -> None:
    """Apply each step; the live view must then equal git's answer, and the files named by the step must show
    what it expects (None: not in the view)."""
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        client = Client(ws)
        for i, (step, expected) in enumerate(steps):
            step(repo)
            seen = client.settle(repo)
            assert seen == git_add_all_view(repo, tmp_path), f"step {i}"
            for path, want in expected.items():
                assert seen.get(path) == want, f"step {i}: {path}"
            fresh = served.review(repo.root)
            with served.ws(fresh.id, LIVE) as other:
                assert {p: shape(f) for p, f in Client(other).files.items()} == seen, f"step {i}: fresh snapshot"


def modified(old: list[str], new: list[str], mode: str = "100644", new_mode: str | None = None) -> Shape:
    lines = [("del", t) for t in old] + [("add", t) for t in new]
    return "modified", "f.txt", mode, new_mode or mode, lines


def write(text: str, *, executable: bool = False, path: str = "f.txt") -> Step:
    return lambda repo: repo.write(path, text, executable=executable)


def git(*args: str) -> Step:
    return lambda repo: repo.git(*args)


def unlink(repo: GitRepo) -> None:
    (repo.root / "f.txt").unlink()


def not_executable(repo: GitRepo) -> None:
    repo.write("f.txt", "one\n").chmod(0o644)


def directory_instead(repo: GitRepo) -> None:
    unlink(repo)
    repo.write("f.txt/inner", "in\n")


def test_removed_from_the_index_only(make_repo: MakeRepo, served: Served, tmp_path: Path) -> None:
    """``git rm --cached``: the file is untracked now, and the view compares it with REV like any file."""
    repo = make_repo({"f.txt": "one\n", "g.txt": "g\n"})
    run_steps(repo, served, tmp_path, [
        (git("rm", "-q", "--cached", "f.txt"), {"f.txt": None}),  # the same content: nothing to show
        (write("two\n"), {"f.txt": modified(["one"], ["two"])}),
        (write("two\n", executable=True), {"f.txt": modified(["one"], ["two"], new_mode="100755")}),
        (not_executable, {"f.txt": None}),
        (unlink, {"f.txt": ("deleted", "f.txt", "100644", None, [("del", "one")])}),
        (write("three\n"), {"f.txt": modified(["one"], ["three"])}),
        (git("add", "f.txt"), {"f.txt": modified(["one"], ["three"])}),
    ])


def test_removed_then_written_again(make_repo: MakeRepo, served: Served, tmp_path: Path) -> None:
    repo = make_repo({"f.txt": "one\n"})
    run_steps(repo, served, tmp_path, [
        (git("rm", "-q", "f.txt"), {"f.txt": ("deleted", "f.txt", "100644", None, [("del", "one")])}),
        (write("one\ntwo\n"), {"f.txt": ("modified", "f.txt", "100644", "100644", [("context", "one"),
                                                                                  ("add", "two")])}),
    ])


def test_removed_from_the_index_and_replaced_by_a_directory(make_repo: MakeRepo, served: Served,
                                                            tmp_path: Path) -> None:
    repo = make_repo({"f.txt": "one\n"})
    run_steps(repo, served, tmp_path, [
        (git("rm", "-q", "--cached", "f.txt"), {"f.txt": None}),
        (directory_instead, {"f.txt": ("deleted", "f.txt", "100644", None, [("del", "one")])}),
    ])


def test_ignored_file_removed_from_the_index(make_repo: MakeRepo, served: Served, tmp_path: Path) -> None:
    """An ignored file is no part of the work tree's content (``git add -A`` would not stage it): deleted."""
    repo = make_repo({".gitignore": "*.log\n", "keep.txt": "k\n"})
    repo.write("f.log", "one\n")
    repo.git("add", "-f", "f.log")
    repo.commit("tracked despite .gitignore", all_files=False)
    deleted = ("deleted", "f.log", "100644", None, [("del", "one")])
    run_steps(repo, served, tmp_path, [
        (git("rm", "-q", "--cached", "f.log"), {"f.log": deleted}),
        (write("two\n", path="f.log"), {"f.log": deleted}),
    ])


def test_line_endings_of_a_file_removed_from_the_index(make_repo: MakeRepo, served: Served,
                                                       tmp_path: Path) -> None:
    """The work-tree file is read as ``git add`` reads it: with ``text=auto`` a CRLF copy is the same file."""
    repo = make_repo({".gitattributes": "*.txt text=auto\n", "f.txt": "one\n"})
    run_steps(repo, served, tmp_path, [
        (git("rm", "-q", "--cached", "f.txt"), {"f.txt": None}),
        (write("one\r\n"), {"f.txt": None}),
        (write("one\r\ntwo\r\n"), {"f.txt": ("modified", "f.txt", "100644", "100644", [("context", "one"),
                                                                                       ("add", "two")])}),
    ])


def test_added_staged_and_restored(make_repo: MakeRepo, served: Served, tmp_path: Path) -> None:
    """``git add`` of a new file, a staged file modified again, ``git restore --staged``."""
    repo = make_repo({"f.txt": "one\n"})
    added = ("added", None, None, "100644", [("add", "new")])
    run_steps(repo, served, tmp_path, [
        (write("new\n", path="n.txt"), {"n.txt": added}),
        (git("add", "n.txt"), {"n.txt": added}),
        (write("newer\n", path="n.txt"), {"n.txt": ("added", None, None, "100644", [("add", "newer")])}),
        (write("two\n"), {"f.txt": modified(["one"], ["two"])}),
        (git("add", "f.txt"), {"f.txt": modified(["one"], ["two"])}),
        (write("three\n"), {"f.txt": modified(["one"], ["three"])}),  # staged and modified
        (git("restore", "--staged", "f.txt"), {"f.txt": modified(["one"], ["three"])}),
        (write("one\n"), {"f.txt": None}),
    ])


@pytest.mark.parametrize("command", [("rm", "-r", "-q", "--cached", "."), ("rm", "-r", "-q", "--cached", "d")])
def test_many_files_removed_from_the_index(make_repo: MakeRepo, served: Served, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]) -> None:
    """More such paths than fit on one command line (the limit made small here) are compared in batches."""
    import backloop.git.process as git_process

    monkeypatch.setattr(git_process, "MAX_PATHSPEC_BYTES", 40)
    repo = make_repo({f"d/file-{i:02d}.txt": f"{i}\n" for i in range(12)})
    run_steps(repo, served, tmp_path, [
        (git(*command), {"d/file-00.txt": None}),
        (write("changed\n", path="d/file-03.txt"),
         {"d/file-03.txt": ("modified", "d/file-03.txt", "100644", "100644", [("del", "3"), ("add", "changed")])}),
    ])
