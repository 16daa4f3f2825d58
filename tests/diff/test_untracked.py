"""Synthesised patches of untracked files say what git itself says once the file is added."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import msgspec
import pytest

from backloop.diff.model import FileDiff
from backloop.diff.parse import MAX_RENDER_BYTES, build_file, split_raw_patch
from backloop.diff.resolve import resolve
from backloop.diff.untracked import complete_patch, untracked_patch
from backloop.diff.worktree import WorkTree
from backloop.git.repo import INDEX, Repo
from backloop.viewspec import parse_view
from tests.conftest import MakeRepo
from tests.support import GitRepo

pytestmark = pytest.mark.anyio

CASES: dict[str, bytes] = {
    "plain.txt": b"one\ntwo\n",
    "no-eol.txt": b"one\ntwo",
    "one-line.txt": b"single\n",
    "empty.txt": b"",
    "blank-lines.txt": b"\n\n\n",
    "binary.bin": b"head\0tail\n",
    "late-nul.bin": b"x" * 9000 + b"\0",  # git looks for NUL in the first 8000 bytes only
    "crlf.txt": b"a\r\nb\r\n",
    "latin1.txt": "café\n".encode("latin-1"),
    "utf8 ünï 日本.txt": "ünï\n".encode(),
    'quote"back\\slash.txt': b"q\n",
    "tab\tnew\nline.txt": b"t\n",
    "<script>.html": b"<script>alert(1)</script>\n",
    "dir/deep/nested.py": b"def f():\n    pass\n",
}


def _comparable(fd: FileDiff) -> FileDiff:
    return msgspec.structs.replace(fd, digest="", untracked=False)


async def _as_git_says(gr: GitRepo, rel: str, *, full: bool = False) -> FileDiff:
    gr.git("add", "--", rel)
    repo = await Repo.open(gr.root)
    [fp] = split_raw_patch(await repo.diff(await repo.empty_tree(), INDEX, paths=[rel]))
    return build_file(fp, full=full)


@pytest.mark.parametrize("rel", sorted(CASES))
async def test_same_as_git(make_repo: MakeRepo, rel: str) -> None:
    gr = make_repo()
    gr.write(rel, CASES[rel])
    fp = untracked_patch(gr.root, rel)
    assert fp is not None
    assert fp.untracked and fp.path == rel and fp.entry.status == "A"
    ours = build_file(fp)
    assert ours.untracked
    theirs = await _as_git_says(gr, rel)
    assert _comparable(ours) == _comparable(theirs)
    assert fp.entry.new_id == gr.git("rev-parse", f":{rel}").strip()  # the real blob id


async def test_executable_and_symlink(make_repo: MakeRepo) -> None:
    gr = make_repo()
    gr.write("run.sh", "#!/bin/sh\n", executable=True)
    (gr.root / "link").symlink_to("some/where/../else")
    (gr.root / "abs-link").symlink_to("/etc/passwd")
    for rel in ("run.sh", "link", "abs-link"):
        fp = untracked_patch(gr.root, rel)
        assert fp is not None
        assert _comparable(build_file(fp)) == _comparable(await _as_git_says(gr, rel)), rel
    link = untracked_patch(gr.root, "abs-link")
    assert link is not None and link.entry.new_mode == "120000"
    assert b"root:" not in link.chunk  # the link's target, never what it points to


async def test_large_file(make_repo: MakeRepo) -> None:
    gr = make_repo()
    data = b"".join(b"line %06d %s\n" % (i, b"-" * 90) for i in range(MAX_RENDER_BYTES // 50))
    gr.write("big.txt", data)
    fp = untracked_patch(gr.root, "big.txt")
    assert fp is not None and len(fp.chunk) < len(data)  # only the head is kept
    ours = build_file(fp)
    assert ours.too_large and ours.additions == MAX_RENDER_BYTES // 50
    full = untracked_patch(gr.root, "big.txt", full=True)
    assert full is not None
    ours_full = build_file(full, full=True)
    assert not ours_full.too_large and len(ours_full.hunks[0].lines) == MAX_RENDER_BYTES // 50
    assert fp.entry.new_id == full.entry.new_id
    assert _comparable(ours) == _comparable(await _as_git_says(gr, "big.txt"))
    assert _comparable(ours_full) == _comparable(await _as_git_says(gr, "big.txt", full=True))
    assert complete_patch(gr.root, fp) == full  # (the head is read again in full)
    gr.write("small.txt", "s\n")
    small = untracked_patch(gr.root, "small.txt")
    assert small is not None and complete_patch(gr.root, small) is small  # (a whole file already)


async def test_not_a_file(make_repo: MakeRepo) -> None:
    gr = make_repo()
    (gr.root / "dir").mkdir()
    os.mkfifo(gr.root / "fifo")
    assert untracked_patch(gr.root, "missing") is None
    assert untracked_patch(gr.root, "dir") is None
    assert untracked_patch(gr.root, "fifo") is None  # never opened: that would block


async def test_dangling_symlink(make_repo: MakeRepo) -> None:
    gr = make_repo()
    (gr.root / "dangling").symlink_to("nowhere")
    fp = untracked_patch(gr.root, "dangling")
    assert fp is not None
    assert [ln.text for h in build_file(fp).hunks for ln in h.lines] == ["nowhere"]


def test_digest_changes_with_content(make_repo: MakeRepo) -> None:
    gr = make_repo()
    gr.write("a.txt", "one\n")
    first = untracked_patch(gr.root, "a.txt")
    gr.write("a.txt", "two\n")
    second = untracked_patch(gr.root, "a.txt")
    gr.write("a.txt", "one\n")
    third = untracked_patch(gr.root, "a.txt")
    assert first is not None and second is not None and third is not None
    assert first.digest != second.digest
    assert first.digest == third.digest


async def test_blob_ids_in_a_sha256_repository(tmp_path: Path) -> None:
    """A live view of a SHA-256 repository names an untracked file by the id git gives it there, whole or read
    again in full (a huge file)."""
    root = tmp_path / "repo256"
    await anyio.run_process(["git", "init", "-q", "--object-format=sha256", str(root)])
    big = b"line\n" * (MAX_RENDER_BYTES // 5 + 10)
    (root / "new.txt").write_bytes(b"hello\n")
    (root / "big.txt").write_bytes(big)
    spec = parse_view({"since": "HEAD", "live": "true"})
    repo = await Repo.open(root)
    patches = await WorkTree(repo, 3, False).all_patches(await resolve(repo, spec))
    for name in ("new.txt", "big.txt"):
        git_id = (await anyio.run_process(["git", "hash-object", name], cwd=root)).stdout.decode().strip()
        assert len(git_id) == 64
        assert patches[name].entry.new_id == git_id, name
    assert complete_patch(root, patches["big.txt"]).entry.new_id == patches["big.txt"].entry.new_id
