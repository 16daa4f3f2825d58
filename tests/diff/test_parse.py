"""The diff pipeline on real repositories: ``Repo.diff`` → ``split_raw_patch`` → ``build_file``.

Each of issue 2's "bad input" cases is a repository made here and read back through the real git calls.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import backloop.git.process as git_process
import backloop.git.repo as git_repo
from backloop.diff.model import FileDiff
from backloop.diff.parse import MAX_RENDER_BYTES, blob_ids, git_quote, parse_hunks, split_raw_patch
from backloop.diff.resolve import resolve
from backloop.git.process import BadRevision
from backloop.git.repo import Repo
from backloop.viewspec import parse_view
from tests.conftest import MakeRepo
from tests.support import GitRepo, compute, texts

pytestmark = pytest.mark.anyio

LIVE = {"since": "HEAD", "live": "true"}
STAGED = {"since": "HEAD"}


def only(files: dict[str, FileDiff]) -> FileDiff:
    assert len(files) == 1, sorted(files)
    return next(iter(files.values()))


# ---- ordinary changes ------------------------------------------------------------------------------------------


async def test_modified_file_lines_and_numbers(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.py": "".join(f"line {i}\n" for i in range(1, 21))})
    repo.write("a.py", "".join(f"line {i}\n" if i != 10 else "changed 10\n" for i in range(1, 21)))
    fd = only(await compute(repo.root, LIVE))
    assert (fd.path, fd.old_path, fd.status, fd.binary) == ("a.py", "a.py", "modified", False)
    assert (fd.additions, fd.deletions) == (1, 1)
    [hunk] = fd.hunks
    assert (hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines) == (7, 7, 7, 7)
    assert hunk.header == "@@ -7,7 +7,7 @@ line 6"  # git's default funcname: the last line starting a word
    kinds = [(ln.kind, ln.old, ln.new, ln.text) for ln in hunk.lines]
    assert kinds[2] == ("context", 9, 9, "line 9")
    assert kinds[3] == ("del", 10, None, "line 10")
    assert kinds[4] == ("add", None, 10, "changed 10")
    assert kinds[5] == ("context", 11, 11, "line 11")
    assert not fd.highlighted  # highlighting is a later step
    assert fd.digest


async def test_context_parameter(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.txt": "".join(f"{i}\n" for i in range(1, 41))})
    repo.write("a.txt", "".join(f"{i}\n" if i not in (10, 30) else "x\n" for i in range(1, 41)))
    three = only(await compute(repo.root, LIVE))
    assert len(three.hunks) == 2
    wide = only(await compute(repo.root, {**LIVE, "context": "15"}))
    assert len(wide.hunks) == 1
    zero = only(await compute(repo.root, {**LIVE, "context": "0"}))
    assert [len(h.lines) for h in zero.hunks] == [2, 2]


async def test_staged_view_ignores_unstaged_and_untracked(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.txt": "a\n", "b.txt": "b\n"})
    repo.write("a.txt", "staged\n")
    repo.git("add", "a.txt")
    repo.write("b.txt", "unstaged\n")
    repo.write("new.txt", "untracked\n")
    staged = await compute(repo.root, STAGED)
    assert sorted(staged) == ["a.txt"]
    live = await compute(repo.root, LIVE)
    assert sorted(live) == ["a.txt", "b.txt", "new.txt"]
    assert live["new.txt"].untracked and live["new.txt"].status == "added"
    assert not live["b.txt"].untracked


async def test_added_and_deleted(make_repo: MakeRepo) -> None:
    repo = make_repo({"gone.txt": "bye\nnow\n"})
    (repo.root / "gone.txt").unlink()
    repo.write("new.txt", "hello\n")
    repo.git("add", "-A")
    files = await compute(repo.root, STAGED)
    gone, new = files["gone.txt"], files["new.txt"]
    assert (gone.status, gone.old_path, gone.deletions, gone.additions) == ("deleted", "gone.txt", 2, 0)
    assert gone.old_mode == "100644" and gone.new_mode is None
    assert (new.status, new.old_path, new.additions) == ("added", None, 1)
    assert new.old_mode is None and new.new_mode == "100644"
    assert texts(new) == ["hello"]


async def test_no_newline_at_end_of_file(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.txt": "one\ntwo"})
    repo.write("a.txt", "one\nthree")
    fd = only(await compute(repo.root, LIVE))
    lines = fd.hunks[0].lines
    assert [(ln.kind, ln.text, ln.no_eol) for ln in lines] == [
        ("context", "one", False), ("del", "two", True), ("add", "three", True)]


# ---- bad input: repositories and revisions ---------------------------------------------------------------------


async def test_empty_repository_live_shows_files_as_added_with_notice(make_repo: MakeRepo) -> None:
    repo = make_repo()
    repo.write("a.txt", "one\n")
    repo.write("staged.txt", "two\n")
    repo.git("add", "staged.txt")
    spec = parse_view(LIVE)
    resolved = await resolve(await Repo.open(repo.root), spec)
    assert resolved.notice is not None and "no commits yet" in resolved.notice
    files = await compute(repo.root, spec)
    assert sorted(files) == ["a.txt", "staged.txt"]
    assert all(fd.status == "added" for fd in files.values())
    assert texts(files["a.txt"]) == ["one"] and texts(files["staged.txt"]) == ["two"]
    staged = await compute(repo.root, STAGED)
    assert sorted(staged) == ["staged.txt"]


async def test_empty_repository_commit_head_is_a_clear_error(make_repo: MakeRepo) -> None:
    repo = make_repo()
    with pytest.raises(BadRevision, match="no commits yet"):
        await compute(repo.root, {"commit": "HEAD"})
    with pytest.raises(BadRevision, match="no commits yet"):
        await compute(repo.root, {"range": "HEAD..HEAD"})


async def test_unknown_revision(make_repo: MakeRepo) -> None:
    repo = make_repo({"a": "a\n"})
    with pytest.raises(BadRevision, match="unknown since 'nope'"):
        await compute(repo.root, {"since": "nope"})
    with pytest.raises(BadRevision, match="unknown commit 'HEAD~5'"):
        await compute(repo.root, {"commit": "HEAD~5"})
    with pytest.raises(BadRevision, match="unknown range end 'nope'"):
        await compute(repo.root, {"range": "HEAD..nope"})


async def test_detached_head(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.txt": "1\n"})
    repo.write("a.txt", "2\n")
    first = repo.head()
    repo.commit("second")
    repo.git("checkout", "-q", "--detach", first)
    repo.write("a.txt", "3\n")
    live = only(await compute(repo.root, LIVE))
    assert texts(live) == ["1", "3"]
    assert only(await compute(repo.root, {"commit": "HEAD"})).status == "added"
    assert texts(only(await compute(repo.root, {"range": "HEAD..main"}))) == ["1", "2"]


async def test_root_commit_against_empty_tree(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.txt": "a\n", "dir/b.txt": "b\n"})
    resolved = await resolve(await Repo.open(repo.root), parse_view({"commit": "HEAD"}))
    assert resolved.base_label == "empty tree (root commit)"
    files = await compute(repo.root, {"commit": "HEAD"})
    assert sorted(files) == ["a.txt", "dir/b.txt"]
    assert all(fd.status == "added" for fd in files.values())


async def test_merge_commit_against_first_parent(make_repo: MakeRepo) -> None:
    repo = make_repo({"base.txt": "base\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("feature.txt", "feature\n")
    repo.commit("feature")
    repo.git("checkout", "-q", "main")
    repo.write("main.txt", "main\n")
    repo.commit("main")
    repo.git("merge", "-q", "--no-edit", "--no-ff", "feature")
    assert repo.git("rev-list", "--parents", "-1", "HEAD").count(" ") == 2
    files = await compute(repo.root, {"commit": "HEAD"})
    assert sorted(files) == ["feature.txt"]
    assert files["feature.txt"].status == "added"


async def test_two_dot_and_three_dot_ranges(make_repo: MakeRepo) -> None:
    repo = make_repo({"base.txt": "base\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("feature.txt", "feature\n")
    repo.commit("feature")
    repo.git("checkout", "-q", "main")
    repo.write("main.txt", "main\n")
    repo.commit("main")
    two = await compute(repo.root, {"range": "main..feature"})
    assert {p: fd.status for p, fd in two.items()} == {"feature.txt": "added", "main.txt": "deleted"}
    three = await compute(repo.root, {"range": "main...feature"})
    assert {p: fd.status for p, fd in three.items()} == {"feature.txt": "added"}
    resolved = await resolve(await Repo.open(repo.root), parse_view({"range": "main...feature"}))
    assert resolved.base == repo.git("merge-base", "main", "feature").strip()


async def test_unrelated_histories_have_no_merge_base(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.txt": "a\n"})
    repo.git("checkout", "-q", "--orphan", "other")
    repo.commit("other root")
    with pytest.raises(BadRevision, match="no common ancestor"):
        await compute(repo.root, {"range": "main...other"})


async def test_option_like_revision_never_reaches_git(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.txt": "a\n"})
    target = tmp_path / "x"
    git = await Repo.open(repo.root)
    for rev in (f"--output={target}", "-p", f"--output={target}^{{commit}}"):
        with pytest.raises(BadRevision, match="not a valid git revision"):
            await git.resolve(rev)
    assert not target.exists()


def conflicted_repo(make_repo: MakeRepo) -> GitRepo:
    """A merge stopped on a conflict in f.txt; z-clean.txt merged cleanly (and is staged)."""
    repo = make_repo({"f.txt": "a\nb\nc\n", "z-clean.txt": "1\n", "weird \"name\".txt": "w\n"})
    repo.git("checkout", "-q", "-b", "side")
    repo.write("f.txt", "a\nSIDE\nc\n")
    repo.write("z-clean.txt", "2\n")
    repo.write('weird "name".txt', "side\n")
    repo.commit("side")
    repo.git("checkout", "-q", "main")
    repo.write("f.txt", "a\nMAIN\nc\n")
    repo.write('weird "name".txt', "main\n")
    repo.commit("main")
    repo.git("merge", "-q", "side", check=False)
    assert "UU f.txt" in repo.git("status", "--short")
    return repo


async def test_merge_conflict(make_repo: MakeRepo) -> None:
    repo = conflicted_repo(make_repo)
    staged = await compute(repo.root, STAGED)
    assert sorted(staged) == ["f.txt", 'weird "name".txt', "z-clean.txt"]
    for path in ("f.txt", 'weird "name".txt'):
        assert staged[path].notice == "Unmerged path: this file has merge conflicts.", path
        assert not staged[path].hunks
    assert texts(staged["z-clean.txt"]) == ["1", "2"]
    live = await compute(repo.root, LIVE)
    assert texts(live["f.txt"], "add") == ["<<<<<<< HEAD", "=======", "SIDE", ">>>>>>> side"]
    # Nothing staged but the conflicts: the patch has no `diff --git` part at all.
    repo.git("checkout", "-q", "HEAD", "--", "z-clean.txt")
    staged = await compute(repo.root, STAGED)
    assert sorted(staged) == ["f.txt", 'weird "name".txt']
    assert all(fd.notice and not fd.hunks for fd in staged.values())


# ---- bad input: file contents ----------------------------------------------------------------------------------


async def test_binary_files(make_repo: MakeRepo) -> None:
    repo = make_repo({"img.png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256))})
    repo.write("img.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(255, -1, -1)))
    repo.write("new.bin", b"abc\0def")
    files = await compute(repo.root, LIVE)
    for path in ("img.png", "new.bin"):
        fd = files[path]
        assert fd.binary and not fd.hunks and (fd.additions, fd.deletions) == (0, 0), path
    assert files["img.png"].status == "modified" and files["new.bin"].status == "added"
    repo.git("add", "new.bin")
    staged = await compute(repo.root, STAGED)
    assert staged["new.bin"].binary and staged["new.bin"].status == "added"


def big_text(tag: str, n_lines: int = 20_000, changed_every: int = 1) -> bytes:
    """About 20 MB of text in long lines; lines ``i % changed_every == 0`` carry ``tag``, the others ``same``."""
    pad = b"." * 1000
    return b"".join(b"%s %07d %s\n" % ((tag if i % changed_every == 0 else "same").encode(), i, pad)
                    for i in range(n_lines))


BIG_LINES = 20_000


async def test_twenty_megabyte_file_is_too_large_with_counts(make_repo: MakeRepo) -> None:
    repo = make_repo({"big.txt": big_text("old", changed_every=10), "small.txt": "s\n"})
    repo.write("big.txt", big_text("new", changed_every=10))  # 2,000 lines changed: a 4 MB diff
    assert (repo.root / "big.txt").stat().st_size > 20_000_000
    repo.write("small.txt", "t\n")
    files = await compute(repo.root, LIVE)
    fd = files["big.txt"]
    assert fd.too_large and not fd.hunks
    assert (fd.additions, fd.deletions) == (BIG_LINES // 10, BIG_LINES // 10)
    assert not files["small.txt"].too_large  # one huge file does not make the others too large
    # Loading it in full (load_file) is tested over the websocket, in tests/web/test_ws.py.


async def test_twenty_megabyte_untracked_file_counts_every_line(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.txt": "a\n"})
    repo.write("big.log", big_text("new") + b"no newline at the end")
    fd = only(await compute(repo.root, LIVE))
    assert fd.too_large and fd.untracked and not fd.hunks
    assert (fd.additions, fd.deletions) == (BIG_LINES + 1, 0)


async def test_too_large_untracked_file_digest_follows_its_tail(make_repo: MakeRepo) -> None:
    """Editing the end of a huge untracked file must change what is pushed (its digest)."""
    repo = make_repo({"a.txt": "a\n"})
    data = b"x" * (MAX_RENDER_BYTES + 10) + b"\n"
    repo.write("big.txt", data)
    before = only(await compute(repo.root, LIVE))
    repo.write("big.txt", data + b"another line\n")
    after = only(await compute(repo.root, LIVE))
    assert before.too_large and after.too_large
    assert before.digest != after.digest
    assert (before.additions, after.additions) == (1, 2)


async def test_non_utf8_file(make_repo: MakeRepo) -> None:
    repo = make_repo({"latin.txt": "café\nna\xefve\n".encode("latin-1")})
    repo.write("latin.txt", "café\nnaïf\n".encode("latin-1"))
    repo.write("new-latin.txt", "über\n".encode("latin-1"))
    files = await compute(repo.root, LIVE)
    for path in ("latin.txt", "new-latin.txt"):
        fd = files[path]
        assert fd.notice is not None and "UTF-8" in fd.notice, path
        assert not fd.binary
    assert texts(files["latin.txt"]) == ["caf\ufffd", "na\ufffdve", "na\ufffdf"]
    assert texts(files["new-latin.txt"]) == ["\ufffdber"]


async def test_utf8_file_has_no_notice(make_repo: MakeRepo) -> None:
    repo = make_repo({"u.txt": "café\n"})
    repo.write("u.txt", "caffè 🎉\n")
    fd = only(await compute(repo.root, LIVE))
    assert fd.notice is None
    assert texts(fd) == ["café", "caffè 🎉"]


async def test_crlf_file(make_repo: MakeRepo) -> None:
    repo = make_repo({"dos.txt": b"one\r\ntwo\r\nthree\r\n"})
    repo.write("dos.txt", b"one\r\n2\r\nthree\r\n")
    repo.write("new.txt", b"a\r\nb")
    files = await compute(repo.root, LIVE)
    lines = files["dos.txt"].hunks[0].lines
    assert [ln.text for ln in lines] == ["one\r", "two\r", "2\r", "three\r"]
    assert [ln.html for ln in lines] == ["one", "two", "2", "three"]
    assert texts(files["new.txt"]) == ["a\r", "b"]
    (repo.root / "new.txt").unlink()
    # Only the line ending changed: git shows the line as changed.
    repo.write("dos.txt", b"one\r\ntwo\nthree\r\n")
    fd = only(await compute(repo.root, {**LIVE}))
    assert [(ln.kind, ln.text) for ln in fd.hunks[0].lines if ln.kind != "context"] == [
        ("del", "two\r"), ("add", "two")]


# ---- bad input: names ------------------------------------------------------------------------------------------

ODD_NAMES = [
    "with space.txt",
    "ünïcödé ñame.py",
    "日本語.md",
    'quo"te\'s.txt',
    "back\\slash.txt",
    "tab\there.txt",
    "new\nline.txt",
    "<script>alert(1)<\\script>.js",
    "dir with space/<b>&amp;.html",
    "-leading-dash.txt",
    "  spaces around  ",
    "trailing-cr\r",
]


@pytest.mark.parametrize("name", ODD_NAMES)
async def test_odd_names_tracked_untracked_renamed(make_repo: MakeRepo, name: str) -> None:
    repo = make_repo({name: "one\ntwo\nthree\nfour\nfive\n"})
    repo.write(name, "one\ntwo\nTHREE\nfour\nfive\n")
    fd = only(await compute(repo.root, LIVE))
    assert (fd.path, fd.old_path, fd.status) == (name, name, "modified")
    assert texts(fd, "add") == ["THREE"]

    repo.git("checkout", "-q", "--", ".")
    repo.write(name + ".new", "fresh\n")
    fd = only(await compute(repo.root, LIVE))
    assert (fd.path, fd.status, fd.untracked) == (name + ".new", "added", True)
    assert texts(fd) == ["fresh"]

    (repo.root / (name + ".new")).unlink()
    moved = name + " moved"
    repo.git("mv", "--", name, moved)
    repo.write(moved, "one\ntwo\nthree\nfour\nfive\nsix\n")
    for spec in (LIVE, STAGED):
        fd = only(await compute(repo.root, spec))
        assert (fd.path, fd.old_path, fd.status) == (moved, name, "renamed"), spec
        assert fd.similarity == 100 if spec is STAGED else fd.similarity is not None and fd.similarity > 50


async def test_all_odd_names_in_one_diff(make_repo: MakeRepo) -> None:
    """Many quoted names at once: every chunk is matched to its own file."""
    repo = make_repo({name: f"{i}\n" for i, name in enumerate(ODD_NAMES)})
    for i, name in enumerate(ODD_NAMES):
        repo.write(name, f"{i} changed\n")
    files = await compute(repo.root, LIVE)
    assert sorted(files) == sorted(ODD_NAMES)
    for i, name in enumerate(ODD_NAMES):
        assert texts(files[name]) == [str(i), f"{i} changed"]


def test_git_quote_matches_git() -> None:
    assert git_quote("a/plain name.txt") == "a/plain name.txt"
    assert git_quote("a/ünï") == "a/ünï"
    assert git_quote('a/q"b\\c\td\ne\x01\x7f') == '"a/q\\"b\\\\c\\td\\ne\\001\\177"'


# ---- bad input: special files ----------------------------------------------------------------------------------


async def test_symlinks(make_repo: MakeRepo) -> None:
    repo = make_repo()
    (repo.root / "link").symlink_to("target-one")
    repo.commit("link")
    (repo.root / "link").unlink()
    (repo.root / "link").symlink_to("target-two")
    (repo.root / "secret").symlink_to("/etc/passwd")
    files = await compute(repo.root, LIVE)
    link = files["link"]
    assert (link.status, link.old_mode, link.new_mode) == ("modified", "120000", "120000")
    assert [(ln.kind, ln.text, ln.no_eol) for ln in link.hunks[0].lines] == [
        ("del", "target-one", True), ("add", "target-two", True)]
    secret = files["secret"]  # untracked: the link's target, never the contents behind it
    assert (secret.status, secret.new_mode, secret.untracked) == ("added", "120000", True)
    assert texts(secret) == ["/etc/passwd"]
    repo.git("add", "secret")
    staged = await compute(repo.root, {"since": "HEAD", "live": "true"})
    assert staged["secret"].digest == secret.digest or texts(staged["secret"]) == ["/etc/passwd"]


async def test_type_change_file_to_symlink(make_repo: MakeRepo) -> None:
    repo = make_repo({"f": "a\nb\n"})
    (repo.root / "f").unlink()
    (repo.root / "f").symlink_to("target")
    for spec in (LIVE, STAGED):
        if spec is STAGED:
            repo.git("add", "f")
        fd = only(await compute(repo.root, spec))
        assert (fd.status, fd.old_mode, fd.new_mode) == ("modified", "100644", "120000")
        assert (fd.additions, fd.deletions) == (1, 2)
        assert [(ln.kind, ln.text) for ln in fd.hunks[0].lines] + [(ln.kind, ln.text) for ln in fd.hunks[1].lines] \
            == [("del", "a"), ("del", "b"), ("add", "target")]


async def test_mode_change(make_repo: MakeRepo) -> None:
    repo = make_repo({"run.sh": "#!/bin/sh\necho hi\n"})
    (repo.root / "run.sh").chmod(0o755)
    fd = only(await compute(repo.root, LIVE))
    assert (fd.status, fd.old_mode, fd.new_mode) == ("modified", "100644", "100755")
    assert not fd.hunks and (fd.additions, fd.deletions) == (0, 0)
    repo.write("run.sh", "#!/bin/sh\necho bye\n", executable=True)
    fd = only(await compute(repo.root, LIVE))
    assert (fd.old_mode, fd.new_mode, fd.additions, fd.deletions) == ("100644", "100755", 1, 1)
    repo.write("tool.sh", "#!/bin/sh\n", executable=True)
    assert (await compute(repo.root, LIVE))["tool.sh"].new_mode == "100755"


def _add_submodule(repo: GitRepo, inner: GitRepo, path: str = "sub") -> None:
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner.root), path)


async def test_submodules(make_repo: MakeRepo) -> None:
    inner = make_repo({"inner.txt": "inner\n"}, name="inner")
    first = inner.head()
    repo = make_repo({"top.txt": "top\n"}, name="outer")
    _add_submodule(repo, inner)
    staged = await compute(repo.root, STAGED)
    assert sorted(staged) == [".gitmodules", "sub"]
    sub = staged["sub"]
    assert (sub.status, sub.new_mode) == ("added", "160000")
    assert texts(sub) == [f"Subproject commit {first}"]
    repo.commit("add submodule")

    inner_clone = GitRepo(repo.root / "sub")
    inner_clone.write("inner.txt", "changed inside\n")
    second = inner_clone.commit("inner change")
    inner_clone.write("loose.txt", "untracked inside the submodule\n")
    live = await compute(repo.root, LIVE)
    assert sorted(live) == ["sub"]  # nothing from inside the submodule's own work tree
    sub = live["sub"]
    assert (sub.status, sub.old_mode, sub.new_mode) == ("modified", "160000", "160000")
    assert texts(sub) == [f"Subproject commit {first}", f"Subproject commit {second}"]
    inner_clone.write("inner.txt", "edited, not committed\n")
    assert texts(only(await compute(repo.root, LIVE))) == [f"Subproject commit {first}",
                                                           f"Subproject commit {second}-dirty"]


async def test_nested_repository_is_not_listed_file_by_file(make_repo: MakeRepo) -> None:
    repo = make_repo({"top.txt": "top\n"}, name="outer")
    nested = make_repo({"n.txt": "n\n"}, name="outer/nested")
    assert nested.root.parent == repo.root
    assert await compute(repo.root, LIVE) == {}


async def test_deleted_then_recreated(make_repo: MakeRepo) -> None:
    repo = make_repo({"f.txt": "one\n", "keep.txt": "k\n"})
    a = repo.head()
    (repo.root / "f.txt").unlink()
    b = repo.commit("delete")
    repo.write("f.txt", "two\n")
    c = repo.commit("recreate")
    assert {p: fd.status for p, fd in (await compute(repo.root, {"range": f"{a}..{b}"})).items()} == {
        "f.txt": "deleted"}
    assert {p: fd.status for p, fd in (await compute(repo.root, {"range": f"{b}..{c}"})).items()} == {
        "f.txt": "added"}
    fd = only(await compute(repo.root, {"range": f"{a}..{c}"}))
    assert (fd.status, texts(fd)) == ("modified", ["one", "two"])
    # In the work tree: deleted, then recreated with other content, then with the committed content again.
    (repo.root / "f.txt").unlink()
    assert only(await compute(repo.root, LIVE)).status == "deleted"
    repo.write("f.txt", "three\n")
    assert texts(only(await compute(repo.root, LIVE))) == ["two", "three"]
    repo.write("f.txt", "two\n")
    assert await compute(repo.root, LIVE) == {}
    # Deleted in the index, still in the work tree.
    repo.git("rm", "-q", "--cached", "f.txt")
    assert only(await compute(repo.root, STAGED)).status == "deleted"


async def test_rename_with_similarity(make_repo: MakeRepo) -> None:
    body = "".join(f"line {i}\n" for i in range(10))
    repo = make_repo({"old/name.py": body})
    (repo.root / "new").mkdir()
    repo.git("mv", "old/name.py", "new/name.py")
    repo.write("new/name.py", body.replace("line 5", "LINE 5"))
    repo.git("add", "-A")
    fd = only(await compute(repo.root, STAGED))
    assert (fd.path, fd.old_path, fd.status) == ("new/name.py", "old/name.py", "renamed")
    assert fd.similarity is not None and 80 <= fd.similarity < 100
    assert texts(fd, "del") == ["line 5"] and texts(fd, "add") == ["LINE 5"]
    repo.commit("rename")
    assert only(await compute(repo.root, {"commit": "HEAD"})).similarity == fd.similarity


async def test_whitespace_only_change_with_ws(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.py": "def f():\n    return 1\n", "b.py": "x = 1\n"})
    repo.write("a.py", "def f():\n\treturn  1\n")
    repo.write("b.py", "x  =  2\n")
    plain = await compute(repo.root, LIVE)
    assert (plain["a.py"].additions, plain["a.py"].deletions) == (1, 1)
    for spec in (LIVE, STAGED):
        if spec is STAGED:
            repo.git("add", "-A")
        ignoring = await compute(repo.root, {**spec, "ws": "1"})
        assert sorted(ignoring) == ["b.py"], spec  # nothing left to show in a.py
        assert texts(ignoring["b.py"]) == ["x = 1", "x  =  2"]
    (repo.root / "a.py").chmod(0o755)
    fd = (await compute(repo.root, {**LIVE, "ws": "1"}))["a.py"]
    assert (fd.new_mode, fd.hunks) == ("100755", [])


async def test_stat_only_changes_are_not_changes(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.txt": "a\n", "b.txt": "b\n"})
    for name in ("a.txt", "b.txt"):
        os.utime(repo.root / name, (1_000_000_000, 1_000_000_000))
    assert await compute(repo.root, LIVE) == {}
    repo.write("b.txt", "changed\n")
    assert sorted(await compute(repo.root, LIVE)) == ["b.txt"]


# ---- a user's git config does not change what we parse ---------------------------------------------------------


def _rich_repo(make_repo: MakeRepo) -> GitRepo:
    body = "".join(f"line {i}\n" for i in range(30))
    inner = make_repo({"inner.txt": "inner\n"}, name="inner")
    repo = make_repo({
        "a.py": "def f():\n\n    return 1\n\n\ndef g():\n    return 2\n",
        "z.txt": body,
        "ren/old.txt": body,
        "ünï.txt": "x\n",
        'q"uote.txt': "q\n",
        "mode.sh": "#!/bin/sh\n",
    }, name="outer")
    _add_submodule(repo, inner)
    repo.commit("submodule")
    inner_clone = GitRepo(repo.root / "sub")
    inner_clone.write("inner.txt", "moved on\n")
    inner_clone.commit("inner change")
    repo.write("a.py", "def f():\n\n    return 10\n\n\ndef g():\n    return 2\n")
    repo.write("z.txt", body.replace("line 3\n", "").replace("line 25", "LINE 25"))
    repo.git("mv", "ren/old.txt", "ren/new.txt")
    repo.write("ünï.txt", "y\n")
    repo.write('q"uote.txt', "r\n")
    (repo.root / "mode.sh").chmod(0o755)
    repo.write("untracked ü.txt", "new\n")
    return repo


async def test_hostile_user_config_changes_nothing(make_repo: MakeRepo, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _rich_repo(make_repo)
    marker = tmp_path / "external-diff-ran"
    external = tmp_path / "external.sh"
    external.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    external.chmod(0o755)
    order = tmp_path / "order"
    order.write_text("z.txt\nsub\n")
    specs = [LIVE, STAGED, {"range": "HEAD~1..HEAD"}, {"commit": "HEAD"}, {**LIVE, "ws": "1", "context": "1"}]
    clean = [await compute(repo.root, spec) for spec in specs]

    config = tmp_path / "hostile.gitconfig"
    config.write_text(
        "[diff]\n\tnoprefix = true\n\tmnemonicPrefix = true\n\texternal = " + str(external) + "\n"
        "\tsuppressBlankEmpty = true\n\trenames = false\n\tcontext = 0\n\torderFile = " + str(order) + "\n"
        "\tsubmodule = log\n\tinterHunkContext = 20\n\trelative = true\n\tcolorMoved = zebra\n"
        "\tignoreSubmodules = all\n\tstatGraphWidth = 1\n"
        "[color]\n\tui = always\n\tdiff = always\n"
        "[core]\n\tquotePath = true\n\tpager = false\n\tabbrev = 7\n"
        "[pager]\n\tdiff = false\n"
    )
    monkeypatch.setitem(git_process.ENV, "GIT_CONFIG_GLOBAL", str(config))
    # The config is in force for git itself:
    assert "noprefix" in GitRepo(repo.root).git("config", "--get-regexp", "diff", env={
        **os.environ, "GIT_CONFIG_GLOBAL": str(config)})
    hostile = [await compute(repo.root, spec) for spec in specs]
    for spec, want, got in zip(specs, clean, hostile, strict=True):
        assert list(got) == list(want), (spec, list(got), list(want))
        assert got == want, spec
    assert not marker.exists()
    assert clean[0]["ren/new.txt"].status == "renamed"
    assert clean[0]["sub"].hunks


async def test_hostile_repository_config_changes_nothing(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = _rich_repo(make_repo)
    clean = await compute(repo.root, LIVE)
    marker = tmp_path / "ran"
    for key, value in (("diff.noprefix", "true"), ("diff.mnemonicPrefix", "true"), ("color.ui", "always"),
                       ("diff.external", f"touch {marker}"), ("core.quotePath", "true"),
                       ("diff.renames", "false"), ("diff.context", "0"), ("diff.submodule", "log")):
        repo.git("config", key, value)
    assert await compute(repo.root, LIVE) == clean
    assert not marker.exists()


async def test_git_environment_variables_are_ignored(make_repo: MakeRepo, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """GIT_DIR & co. from the environment of the process that started us must not redirect our git calls."""
    repo = make_repo({"a.txt": "a\n"})
    repo.write("a.txt", "b\n")
    other = make_repo({"other.txt": "o\n"})
    monkeypatch.setenv("GIT_DIR", str(other.root / ".git"))
    monkeypatch.setenv("GIT_EXTERNAL_DIFF", "/bin/false")
    # The environment is read once, at import; a fresh read must drop these again.
    assert "GIT_DIR" not in git_process._git_env() and "GIT_EXTERNAL_DIFF" not in git_process._git_env()
    assert sorted(await compute(repo.root, LIVE)) == ["a.txt"]


# ---- split_raw_patch / parse_hunks directly --------------------------------------------------------------------


def test_split_raw_patch_of_empty_output() -> None:
    assert split_raw_patch(b"") == []


def test_parse_hunks_section_header_and_counts() -> None:
    hunks = parse_hunks("@@ -1,2 +1,2 @@ def f():\n a\n-b\n+c\n@@ -10 +10 @@\n-x\n+y\n")
    assert [h.header for h in hunks] == ["@@ -1,2 +1,2 @@ def f():", "@@ -10 +10 @@"]
    assert [(h.old_start, h.old_lines, h.new_start, h.new_lines) for h in hunks] == [(1, 2, 1, 2), (10, 1, 10, 1)]
    assert hunks[0].id != hunks[1].id
    assert parse_hunks("@@ -1,2 +1,2 @@ def f():\n a\n-b\n+c\n")[0].id == hunks[0].id


async def test_blob_ids_from_full_index(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.txt": "a\n"})
    old = repo.git("rev-parse", "HEAD:a.txt").strip()
    repo.write("a.txt", "b\n")
    repo.git("add", "a.txt")
    new = repo.git("rev-parse", ":a.txt").strip()
    git = await Repo.open(repo.root)
    [fp] = split_raw_patch(await git.diff(repo.head(), git_repo.INDEX))
    assert blob_ids(fp.chunk) == (old, new)
    (repo.root / "a.txt").unlink()
    repo.git("add", "a.txt")
    [fp] = split_raw_patch(await git.diff(repo.head(), git_repo.INDEX))
    assert blob_ids(fp.chunk) == (old, None)
