"""backloop.git.index against index files git wrote, and ``Repo.diff_files`` through a scratch index: its answer
must be git's own answer with the real index, in every case where it is used, and it must not be used where it
could differ."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

import backloop.git.repo as git_repo
from backloop.diff.parse import FilePatch, split_raw_patch
from backloop.git.index import Index, IndexEntry, IndexFormatError, read_index, write_index
from backloop.git.repo import Repo
from tests.conftest import MakeRepo
from tests.diff.test_parse import conflicted_repo
from tests.support import GitRepo

pytestmark = pytest.mark.anyio


def ls_files(repo: GitRepo, env: dict[str, str] | None = None) -> dict[bytes, tuple[int, bytes, int]]:
    """``git ls-files -s``: name → (mode, object id, stage)."""
    out = repo.git("ls-files", "-s", "-z", env=env)
    result = {}
    for item in out.split("\0"):
        if item:
            meta, path = item.split("\t", 1)
            mode, oid, stage = meta.split()
            result[path.encode("utf-8", "surrogateescape")] = (int(mode, 8), bytes.fromhex(oid), int(stage))
    return result


def parsed(repo: GitRepo, hash_size: int = 20) -> Index:
    return read_index(repo.root / ".git" / "index", hash_size)


def assert_matches_git(repo: GitRepo, index: Index, special: set[bytes]) -> None:
    listed = ls_files(repo)
    assert set(index.entries) | index.special == set(listed)
    assert index.special == special
    for name, entry in index.entries.items():
        assert listed[name] == (*entry, 0), name


# ---- reading ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_read_every_version(make_repo: MakeRepo, version: str) -> None:
    files = {f"dir{i % 3}/sub/file-{i}.txt": f"{i}\n" for i in range(30)}
    repo = make_repo({**files, "top.txt": "t\n", "ünï cödé.txt": "u\n", "x" * 200 + ".txt": "long\n"})
    repo.write("run.sh", "#!/bin/sh\n", executable=True)
    os.symlink("top.txt", repo.root / "link")
    repo.git("add", "-A")
    long_name = "/".join(["d" * 250] * 20) + "/f.txt"  # longer than the 12 bits of an entry's name length
    blob = repo.git("hash-object", "-w", "top.txt").strip()
    repo.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{long_name}")
    repo.git("update-index", "--index-version", version)
    assert_matches_git(repo, parsed(repo), set())


def test_flags_that_make_an_entry_special(make_repo: MakeRepo) -> None:
    repo = make_repo({"plain.txt": "p\n", "assumed.txt": "a\n", "skipped.txt": "s\n"})
    repo.git("update-index", "--assume-unchanged", "assumed.txt")
    repo.git("update-index", "--skip-worktree", "skipped.txt")  # an extended flag: version 3
    repo.write("intent.txt", "i\n")
    repo.git("add", "-N", "intent.txt")
    for version in ("3", "4"):
        repo.git("update-index", "--index-version", version)
        assert_matches_git(repo, parsed(repo), {b"assumed.txt", b"skipped.txt", b"intent.txt"})


def test_unmerged_paths_are_special(make_repo: MakeRepo) -> None:
    repo = conflicted_repo(make_repo)
    index = parsed(repo)
    assert index.special == {b"f.txt", b'weird "name".txt'}
    assert b"z-clean.txt" in index.entries


def test_sparse_index_directories_are_special(make_repo: MakeRepo) -> None:
    repo = make_repo({"in/a.txt": "a\n", "out/b.txt": "b\n", "top.txt": "t\n"})
    repo.git("sparse-checkout", "set", "--cone", "--sparse-index", "in")
    index = parsed(repo)
    assert index.special == {b"out/"}
    assert set(index.entries) == {b"in/a.txt", b"top.txt"}


def test_split_and_foreign_indexes_are_refused(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.txt": "a\n"})
    repo.git("update-index", "--split-index")
    with pytest.raises(IndexFormatError, match="split index"):
        parsed(repo)
    junk = tmp_path / "junk"
    for data in (b"", b"DIRC", b"DIRC\0\0\0\x05" + bytes(40), b"DIRC\0\0\0\x02\0\0\0\x09" + bytes(40), b"x" * 100):
        junk.write_bytes(data)
        with pytest.raises(IndexFormatError):
            read_index(junk, 20)


def test_sha256_repository(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.root.mkdir()
    repo.git("init", "-q", "--object-format=sha256")
    repo.write("a.txt", "a\n")
    repo.git("add", "a.txt")
    index = parsed(repo, 32)
    assert_matches_git(repo, index, set())
    write_index(tmp_path / "scratch", index.entries.items(), 32)
    assert ls_files(repo, {**os.environ, "GIT_INDEX_FILE": str(tmp_path / "scratch")}) == ls_files(repo)


def test_written_index_is_read_by_git(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"b/z.txt": "z\n", "a.txt": "a\n", "b.txt": "b\n", "b-c.txt": "c\n"})
    repo.git("submodule", "add", "-q", str(make_repo({"i": "i\n"}, name="inner").root), "sub", env={
        **os.environ, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "protocol.file.allow",
        "GIT_CONFIG_VALUE_0": "always"})
    os.symlink("a.txt", repo.root / "link")
    repo.git("add", "-A")
    entries: list[tuple[bytes, IndexEntry]] = list(parsed(repo).entries.items())
    write_index(tmp_path / "scratch", reversed(entries), 20)  # (written in git's order whatever the input's)
    env = {**os.environ, "GIT_INDEX_FILE": str(tmp_path / "scratch")}
    assert ls_files(repo, env) == ls_files(repo)
    assert repo.git("fsck", "--no-dangling", env=env) == ""  # (fsck checks the index's checksum too)


# ---- diff-files through a scratch index ------------------------------------------------------------------------


@pytest.fixture
def scratch_uses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many scratch indexes were made (one per fast diff-files)."""
    made: list[int] = []
    real = git_repo._scratch_index

    def counting(entries: Iterable[tuple[bytes, IndexEntry]],
                 hash_size: int) -> AbstractContextManager[dict[str, str]]:
        made.append(1)
        return real(entries, hash_size)

    monkeypatch.setattr(git_repo, "_scratch_index", counting)
    return made


def patches(out: bytes) -> list[tuple[object, bytes]]:
    return sorted(((fp.entry, fp.chunk) for fp in split_raw_patch(out)), key=lambda x: x[1])


async def both(repo: GitRepo, paths: list[str], context: int = 3, ignore_ws: bool = False
               ) -> tuple[list[FilePatch], bytes, bytes]:
    """diff-files of ``paths`` with the real index and through a scratch one."""
    opened = await Repo.open(repo.root)
    index = await opened.read_index()
    assert index is not None
    real = await opened.diff_files(paths=paths, context=context, ignore_ws=ignore_ws)
    fast = await opened.diff_files(paths=paths, context=context, ignore_ws=ignore_ws, index=index)
    return split_raw_patch(fast), real, fast


Setup = Callable[[GitRepo], list[str]]


def crlf_autocrlf(repo: GitRepo) -> list[str]:
    repo.git("config", "core.autocrlf", "true")
    repo.write("plain.txt", "one\r\ntwo\r\nTHREE\r\n")
    repo.write("same.txt", "s\r\n")  # equal to the blob after conversion
    return ["plain.txt", "same.txt"]


def text_auto_and_eol(repo: GitRepo) -> list[str]:
    repo.write(".gitattributes", "*.txt text=auto\n*.crlf text eol=crlf\n*.bin -text\n")
    repo.write("x.crlf", "c\n")
    repo.write("data.bin", "one\n")
    repo.git("add", ".gitattributes", "x.crlf", "data.bin")
    repo.write("plain.txt", "one\r\ntwo\r\nthree\r\n")
    repo.write("x.crlf", "c\r\nd\r\n")
    repo.write("data.bin", "one\r\ntwo\r\n")
    return ["plain.txt", "x.crlf", "data.bin"]


def attributes_only_in_the_index(repo: GitRepo) -> list[str]:
    """A deleted (unstaged) .gitattributes: git takes the attributes from its index entry."""
    repo.write("dir/.gitattributes", "*.txt text eol=crlf\n")
    repo.write("dir/a.txt", "a\nb\n")
    repo.git("add", "dir")
    repo.write("dir/a.txt", "a\r\nb\r\nc\r\n")
    (repo.root / "dir" / ".gitattributes").unlink()
    return ["dir/a.txt"]


def clean_filter(repo: GitRepo) -> list[str]:
    repo.git("config", "filter.upper.clean", "tr a-z A-Z")
    repo.write(".gitattributes", "*.up filter=upper\n")
    repo.write("f.up", "one\n")
    repo.git("add", ".gitattributes", "f.up")
    repo.write("f.up", "one\nchanged\n")
    return ["f.up"]


def modes(repo: GitRepo) -> list[str]:
    (repo.root / "plain.txt").chmod(0o755)
    (repo.root / "same.txt").unlink()
    os.symlink("plain.txt", repo.root / "same.txt")  # a type change
    (repo.root / "gone.txt").unlink()
    return ["plain.txt", "same.txt", "gone.txt"]


def file_mode_ignored(repo: GitRepo) -> list[str]:
    repo.git("config", "core.fileMode", "false")
    (repo.root / "plain.txt").chmod(0o755)
    return ["plain.txt"]


def touched_only(repo: GitRepo) -> list[str]:
    os.utime(repo.root / "plain.txt", (1_000_000_000, 1_000_000_000))
    return ["plain.txt", "same.txt"]


def odd_names(repo: GitRepo) -> list[str]:
    names = ["-rf", "*.txt", "ünï cödé.txt", "tab\there.txt", 'quote".txt']
    for name in names:
        repo.write(name, "1\n")
    repo.git("--literal-pathspecs", "add", "--", *names)
    repo.commit("odd names")
    for name in names:
        repo.write(name, "2\n")
    return names


def whitespace(repo: GitRepo) -> list[str]:
    repo.write("plain.txt", "one\n  two\nthree\n")
    return ["plain.txt"]


@pytest.mark.parametrize("setup", [crlf_autocrlf, text_auto_and_eol, attributes_only_in_the_index, clean_filter,
                                   modes, file_mode_ignored, touched_only, odd_names, whitespace])
async def test_scratch_index_gives_gits_answer(make_repo: MakeRepo, scratch_uses: list[int], setup: Setup) -> None:
    repo = make_repo({"plain.txt": "one\ntwo\nthree\n", "same.txt": "s\n", "gone.txt": "g\n"})
    paths = setup(repo)
    for context, ignore_ws in ((3, False), (0, True)):
        _, real, fast = await both(repo, paths, context, ignore_ws)
        assert patches(fast) == patches(real), (context, ignore_ws)
    assert scratch_uses == [1, 1]


async def test_submodule_through_a_scratch_index(make_repo: MakeRepo, scratch_uses: list[int]) -> None:
    inner = make_repo({"i.txt": "i\n"}, name="inner")
    repo = make_repo({"top.txt": "t\n"}, name="outer")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner.root), "sub")
    repo.commit("submodule")
    sub = GitRepo(repo.root / "sub")
    sub.write("i.txt", "dirty\n")
    found, real, fast = await both(repo, ["sub"])
    assert patches(fast) == patches(real) and [fp.path for fp in found] == ["sub"]
    sub.commit("moved")
    found, real, fast = await both(repo, ["sub"])
    assert patches(fast) == patches(real) and [fp.path for fp in found] == ["sub"]
    assert scratch_uses == [1, 1]


@pytest.mark.parametrize("flag", ["--assume-unchanged", "--skip-worktree"])
async def test_special_entries_use_the_real_index(make_repo: MakeRepo, scratch_uses: list[int], flag: str) -> None:
    repo = make_repo({"a.txt": "a\n", "b.txt": "b\n"})
    repo.git("update-index", flag, "a.txt")
    repo.write("a.txt", "changed\n")
    repo.write("b.txt", "changed\n")
    _, real, fast = await both(repo, ["a.txt", "b.txt"])
    assert fast == real and [fp.path for fp in split_raw_patch(real)] == ["b.txt"]
    assert scratch_uses == []


async def test_intent_to_add_and_unmerged_use_the_real_index(make_repo: MakeRepo, scratch_uses: list[int]) -> None:
    repo = conflicted_repo(make_repo)
    repo.write("new.txt", "n\n")
    repo.git("add", "-N", "new.txt")
    for path in ("new.txt", "f.txt"):
        _, real, fast = await both(repo, [path])
        assert fast == real and split_raw_patch(real), path
    assert scratch_uses == []
    _, real, fast = await both(repo, ["z-clean.txt"])
    assert scratch_uses == [1]


async def test_a_changed_index_file_is_not_trusted(make_repo: MakeRepo, scratch_uses: list[int]) -> None:
    repo = make_repo({"a.txt": "a\n"})
    opened = await Repo.open(repo.root)
    index = await opened.read_index()
    assert index is not None and opened.index_is(index)
    repo.write("a.txt", "staged\n")
    repo.git("add", "a.txt")
    repo.write("a.txt", "staged and changed\n")
    assert not opened.index_is(index)
    out = await opened.diff_files(paths=["a.txt"], index=index)
    assert b"-staged\n+staged and changed\n" in out
    assert scratch_uses == []


async def test_read_index_is_none_without_one(make_repo: MakeRepo) -> None:
    repo = make_repo()
    assert await (await Repo.open(repo.root)).read_index() is None
    repo.write("a.txt", "a\n")
    repo.git("add", "a.txt")
    repo.git("update-index", "--split-index")
    assert await (await Repo.open(repo.root)).read_index() is None
