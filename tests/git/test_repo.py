"""backloop.git.repo against real repositories: opening, revisions, listings, and command-line safety."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import backloop.git.process as git_process
from backloop.diff.parse import split_raw_patch
from backloop.git.process import BadRevision, GitError, NotARepository
from backloop.git.repo import INDEX, WORKTREE, Repo, Target
from tests.conftest import MakeRepo
from tests.support import GitRepo

pytestmark = pytest.mark.anyio

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


# ---- opening ---------------------------------------------------------------------------------------------------


async def test_open_finds_the_top_level(make_repo: MakeRepo) -> None:
    repo = make_repo({"dir/a.txt": "a\n"})
    for start in (repo.root, repo.root / "dir", str(repo.root / "dir")):
        opened = await Repo.open(start)
        assert opened.root == repo.root
        assert opened.git_dir == repo.root / ".git"


async def test_open_not_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(NotARepository, match=r"is not inside a git work tree") as info:
        await Repo.open(plain)
    assert str(plain) in info.value.message
    with pytest.raises(NotARepository, match="is not a directory"):
        await Repo.open(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotARepository, match="is not a directory"):
        await Repo.open(tmp_path / "file")


async def test_open_bare_repository(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    GitRepo(tmp_path).git("init", "-q", "--bare", str(bare))
    with pytest.raises(NotARepository, match="not inside a git work tree"):
        await Repo.open(bare)


async def test_open_linked_worktree(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.txt": "a\n"})
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", "-b", "other", str(linked))
    opened = await Repo.open(linked)
    assert opened.root == linked.resolve()
    assert opened.git_dir == repo.root / ".git" / "worktrees" / "linked"


async def test_git_not_installed(make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = await Repo.open(make_repo({"a": "a\n"}).root)
    monkeypatch.setitem(git_process.ENV, "PATH", str(tmp_path))
    with pytest.raises(GitError, match="git is not installed"):
        await repo.resolve("HEAD")


# ---- revisions -------------------------------------------------------------------------------------------------


async def test_resolve(make_repo: MakeRepo) -> None:
    gr = make_repo({"a.txt": "1\n"})
    first = gr.head()
    gr.write("a.txt", "2\n")
    second = gr.commit("second")
    gr.git("tag", "v1", first)
    gr.git("tag", "-a", "-m", "annotated", "v2", second)
    repo = await Repo.open(gr.root)
    assert await repo.resolve("HEAD") == second
    assert await repo.resolve("@") == second
    assert await repo.resolve("main") == second
    assert await repo.resolve("HEAD~1") == first
    assert await repo.resolve("HEAD^") == first
    assert await repo.resolve("v1") == first
    assert await repo.resolve("v2") == second  # an annotated tag peels to its commit
    assert await repo.resolve(first[:10]) == first
    assert await repo.resolve(second.upper()[:12]) == second
    assert await repo.has_commits()


async def test_resolve_errors_name_the_revision(make_repo: MakeRepo) -> None:
    gr = make_repo({"a.txt": "1\n"})
    repo = await Repo.open(gr.root)
    tree = gr.git("rev-parse", "HEAD^{tree}").strip()
    blob = gr.git("rev-parse", "HEAD:a.txt").strip()
    for rev in ("nope", "HEAD~3", tree, blob, "refs/heads/none"):
        with pytest.raises(BadRevision, match="unknown commit") as info:
            await repo.resolve(rev, "commit")
        assert repr(rev) in info.value.message


@pytest.mark.parametrize("rev", [
    "", "-", "-p", "--output=/tmp/x", "--all", "-c", "a b", "HEAD:a.txt", ":/message", "a..b", "a...b",
    "HEAD;ls", "$(id)", "`id`", "a\nb", "~1", "^HEAD", "x" * 300, "HEAD\0", "HEAD 1",
])
async def test_resolve_refuses_malformed_revisions(make_repo: MakeRepo, rev: str, tmp_path: Path) -> None:
    repo = await Repo.open(make_repo({"a.txt": "1\n"}).root)
    with pytest.raises(BadRevision, match="is not a valid git revision"):
        await repo.resolve(rev, "since")


async def test_option_like_revision_writes_nothing(make_repo: MakeRepo, tmp_path: Path) -> None:
    gr = make_repo({"a.txt": "1\n"})
    repo = await Repo.open(gr.root)
    target = tmp_path / "x"
    for rev in (f"--output={target}", f"--output={target}..HEAD", f"-o{target}"):
        with pytest.raises(BadRevision):
            await repo.resolve(rev)
    assert not target.exists()


async def test_empty_repository(make_repo: MakeRepo) -> None:
    repo = await Repo.open(make_repo().root)
    assert not await repo.has_commits()
    with pytest.raises(BadRevision, match="no commits yet"):
        await repo.resolve("HEAD")
    with pytest.raises(BadRevision, match="unknown revision 'main'"):
        await repo.resolve("main")
    assert await repo.empty_tree() == EMPTY_TREE


async def test_first_parent_and_merge_base(make_repo: MakeRepo) -> None:
    gr = make_repo({"a.txt": "1\n"})
    root = gr.head()
    gr.git("checkout", "-q", "-b", "side")
    side = gr.commit("side")
    gr.git("checkout", "-q", "main")
    main = gr.commit("main")
    gr.git("merge", "-q", "--no-edit", "side")
    merge = gr.head()
    repo = await Repo.open(gr.root)
    assert await repo.first_parent(root) == EMPTY_TREE
    assert await repo.first_parent(merge) == main
    assert await repo.merge_base(main, side) == root
    gr.git("checkout", "-q", "--orphan", "lonely")
    lonely = gr.commit("lonely")
    with pytest.raises(BadRevision, match="no common ancestor"):
        await repo.merge_base(main, lonely)


async def test_subject(make_repo: MakeRepo) -> None:
    gr = make_repo({"a.txt": "1\n"})
    gr.git("commit", "-q", "--allow-empty", "-m", "Ünïcode <script>x</script> subject\n\nbody text")
    repo = await Repo.open(gr.root)
    assert await repo.subject(gr.head()) == "Ünïcode <script>x</script> subject"


# ---- listings --------------------------------------------------------------------------------------------------


async def test_untracked_respects_gitignore_and_skips_nested_repositories(make_repo: MakeRepo) -> None:
    gr = make_repo({".gitignore": "*.log\nbuild/\n", "tracked.txt": "t\n"}, name="outer")
    make_repo({"n.txt": "n\n"}, name="outer/nested")
    gr.write("new.txt", "n\n")
    gr.write("debug.log", "ignored\n")
    gr.write("build/out.o", "ignored\n")
    gr.write("dir/deep/file.py", "x\n")
    gr.write("odd\tname\n.txt", "x\n")
    gr.write(".git-not-really", "x\n")
    gr.write(".git/info/exclude", "excluded.txt\n")
    gr.write("excluded.txt", "x\n")
    repo = await Repo.open(gr.root)
    assert sorted(await repo.untracked()) == [".git-not-really", "dir/deep/file.py", "new.txt", "odd\tname\n.txt"]
    assert await repo.untracked(["new.txt", "debug.log", "tracked.txt"]) == ["new.txt"]


async def test_index_and_tree_paths(make_repo: MakeRepo) -> None:
    gr = make_repo({"a.txt": "a\n", "dir/b.txt": "b\n"})
    first = gr.head()
    gr.git("rm", "-q", "a.txt")
    gr.write("c.txt", "c\n")
    gr.git("add", "c.txt")
    repo = await Repo.open(gr.root)
    assert await repo.index_paths() == {"dir/b.txt", "c.txt"}
    assert await repo.tree_paths(first) == {"a.txt", "dir/b.txt"}


async def test_read_blob(make_repo: MakeRepo) -> None:
    gr = make_repo({"a.txt": "committed\n", "-dash.txt": "dash\n"})
    gr.write("a.txt", "staged\n")
    gr.git("add", "a.txt")
    repo = await Repo.open(gr.root)
    head = gr.head()
    assert await repo.read_blob(f"{head}:a.txt") == b"committed\n"
    assert await repo.read_blob(":a.txt") == b"staged\n"
    assert await repo.read_blob(":-dash.txt") == b"dash\n"
    assert await repo.read_blob(f"{head}:missing.txt") is None


# ---- diffs: command-line safety and side effects ---------------------------------------------------------------


async def test_diff_paths_are_literal(make_repo: MakeRepo) -> None:
    names = ["*.txt", "a.txt", "-rf", ":(glob)**", "[ab].txt", "b.txt", "dir/x.txt"]
    gr = make_repo(dict.fromkeys(names, "1\n"))
    for name in names:
        gr.write(name, "2\n")
    repo = await Repo.open(gr.root)
    head = gr.head()
    for name in names:
        patches = split_raw_patch(await repo.diff(head, WORKTREE, paths=[name]))
        assert [p.path for p in patches] == [name], name
    all_of_them = split_raw_patch(await repo.diff(head, WORKTREE))
    assert sorted(p.path for p in all_of_them) == sorted(names)
    assert split_raw_patch(await repo.diff(head, WORKTREE, paths=[])) == all_of_them
    assert split_raw_patch(await repo.diff(head, WORKTREE, paths=["dir"]))[0].path == "dir/x.txt"


async def test_diff_targets(make_repo: MakeRepo) -> None:
    gr = make_repo({"a.txt": "1\n"})
    base = gr.head()
    gr.write("a.txt", "2\n")
    second = gr.commit("2")
    gr.write("a.txt", "3\n")
    gr.git("add", "a.txt")
    gr.write("a.txt", "4\n")
    repo = await Repo.open(gr.root)

    def new_side(out: bytes) -> bytes:
        return out.rsplit(b"\n+", 1)[1]

    assert new_side(await repo.diff(base, Target("commit", second))) == b"2\n"
    assert new_side(await repo.diff(base, INDEX)) == b"3\n"
    assert new_side(await repo.diff(base, WORKTREE)) == b"4\n"
    assert b"\n-1\n" in await repo.diff(base, WORKTREE, context=0)


async def test_git_calls_take_no_optional_locks(make_repo: MakeRepo) -> None:
    """Our git calls must not rewrite the index (that would wake the watcher: a feedback loop)."""
    gr = make_repo({"a.txt": "a\n", "b.txt": "b\n"})
    # Make every index entry's stat data stale, so that a plain `git diff` or `git status` would refresh it.
    for name in ("a.txt", "b.txt"):
        os.utime(gr.root / name, (1_000_000_000, 1_000_000_000))
    gr.write("c.txt", "untracked\n")
    index = gr.root / ".git" / "index"
    before = (index.read_bytes(), index.stat().st_mtime_ns)
    repo = await Repo.open(gr.root)
    head = await repo.resolve("HEAD")
    await repo.diff(head, WORKTREE)
    await repo.diff(head, INDEX)
    await repo.untracked()
    await repo.ignored(["c.txt"])
    await repo.index_paths()
    await repo.tree_paths(head)
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before
    assert not (gr.root / ".git" / "index.lock").exists()


async def test_git_failure_message(make_repo: MakeRepo) -> None:
    repo = await Repo.open(make_repo({"a.txt": "a\n"}).root)
    with pytest.raises(GitError, match=r"^git rev-parse failed: fatal: Needed a single revision$"):
        await repo.run("rev-parse", "--verify", "nope")
    with pytest.raises(GitError, match=r"^git cat-file failed: exit 1$"):
        await repo.run("cat-file", "-e", "0" * 40)
    assert await repo.run("cat-file", "-e", "0" * 40, ok_codes=(0, 1)) == b""


async def test_more_paths_than_a_command_line_holds(make_repo: MakeRepo) -> None:
    """A burst of events can name tens of thousands of paths; the kernel refuses such a command line (E2BIG)."""
    gr = make_repo({"a.txt": "1\n", "b.txt": "1\n"})
    gr.write("a.txt", "2\n")
    gr.write("b.txt", "2\n")
    gr.write("new/one.txt", "n\n")
    gr.write("two.txt", "n\n")
    repo = await Repo.open(gr.root)
    many = [f"some/directory/that/is/not/there/file_{i:06d}.txt" for i in range(60_000)]
    patches = split_raw_patch(await repo.diff(gr.head(), WORKTREE, paths=[*many, "a.txt"]))
    assert "a.txt" in {p.path for p in patches}  # possibly with others: the caller takes what it asked for
    assert sorted(await repo.untracked([*many, "new", "a.txt"])) == ["new/one.txt"]
    assert sorted(await repo.untracked([*many, "two.txt"])) == ["two.txt"]


async def test_diff_unindexed_compares_the_base_with_work_tree_files(make_repo: MakeRepo,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths removed from the index only (`git rm --cached`): base against the work-tree file, in batches that fit
    a command line, with literal paths, and the real index left alone."""
    names = ["*.txt", "a.txt", "-rf", "dir/x.txt", "same.txt"]
    gr = make_repo(dict.fromkeys(names, "1\n"))
    gr.git("--literal-pathspecs", "rm", "-q", "--cached", "--", *names)
    for name in names[:-1]:
        gr.write(name, "1\n2\n")
    index = gr.root / ".git" / "index"
    before = (index.read_bytes(), index.stat().st_mtime_ns)
    repo = await Repo.open(gr.root)
    monkeypatch.setattr(git_process, "MAX_PATHSPEC_BYTES", 12)
    outputs = await repo.diff_unindexed(gr.head(), names)
    assert len(outputs) > 1
    patches = [p for out in outputs for p in split_raw_patch(out)]
    assert sorted(p.path for p in patches) == sorted(names[:-1])  # same.txt is unchanged
    assert all(p.entry.status == "M" and p.chunk.endswith(b"\n 1\n+2\n") for p in patches)
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before


async def test_ignored_asks_the_exclude_rules(make_repo: MakeRepo) -> None:
    gr = make_repo({".gitignore": "*.log\nbuild/\n", "a.txt": "a\n"})
    (gr.root / ".git" / "info" / "exclude").write_text("*.tmp\n")
    repo = await Repo.open(gr.root)
    ignored = ["x.log", "-rf.log", "build/out.txt", "d/e.tmp", "ünï.log", "space x.log", "*.log"]
    for name in [*ignored, "new.txt"]:
        gr.write(name, "x\n")
    assert await repo.ignored([*ignored, "a.txt", "new.txt", "gone.log"]) == set(ignored)
    assert await repo.ignored([]) == set()
    assert await repo.ignored(["new.txt"]) == set()


async def test_blob_size(make_repo: MakeRepo) -> None:
    git = make_repo({"a.txt": "12345\n"})
    repo = await Repo.open(git.root)
    blob = git.git("rev-parse", "HEAD:a.txt").strip()
    assert await repo.blob_size(blob) == 6
    assert await repo.blob_size("0" * 40) is None  # no such object
    assert await repo.blob_size("--help") is None  # never an option
