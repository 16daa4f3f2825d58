"""Direct edits: confined to the work tree, atomic, refused on conflict, bytes and modes preserved."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from backloop.review.edit import EditConflict, EditRefused, confine, content_hash, read_for_edit, write_edit


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "wt"
    (root / ".git").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "src" / "a.py").write_text("one\ntwo\n")
    (root / "run.sh").write_text("echo hi\n")
    (root / "run.sh").chmod(0o755)
    (root / ".git" / "config").write_text("[core]\n")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret\n")
    (root / "link").symlink_to(outside)
    (root / "inner").symlink_to(root / "src" / "a.py")
    return root.resolve()


@pytest.mark.parametrize("rel", ["../secret.txt", "/etc/passwd", "src/../../secret.txt", ".git/config", "link",
                                 "inner", "src", "a\0b", "", "src//a.py", "./src/a.py", "src\\a.py"])
def test_paths_outside_the_work_tree_are_refused(tree: Path, rel: str) -> None:
    with pytest.raises(EditRefused):
        read_for_edit(tree, rel)
    with pytest.raises(EditRefused):
        write_edit(tree, rel, "0" * 64, "x")
    assert (tree.parent / "secret.txt").read_text() == "secret\n"
    assert (tree / ".git" / "config").read_text() == "[core]\n"


def test_confine_returns_the_path_inside(tree: Path) -> None:
    assert confine(tree, "src/a.py") == tree / "src" / "a.py"


def test_edit_writes_atomically_and_keeps_the_mode(tree: Path) -> None:
    _, digest = read_for_edit(tree, "run.sh")
    diff = write_edit(tree, "run.sh", digest, "echo bye\n")
    assert (tree / "run.sh").read_text() == "echo bye\n"
    assert stat.S_IMODE(os.stat(tree / "run.sh").st_mode) == 0o755
    assert "-echo hi" in diff and "+echo bye" in diff
    assert not [p for p in os.listdir(tree) if p.endswith(".backloop")]  # no temp file left


def test_conflicting_edit_is_refused_and_nothing_is_written(tree: Path) -> None:
    _, digest = read_for_edit(tree, "src/a.py")
    (tree / "src" / "a.py").write_text("agent's version\n")
    with pytest.raises(EditConflict, match="changed since you opened it"):
        write_edit(tree, "src/a.py", digest, "person's version\n")
    assert (tree / "src" / "a.py").read_text() == "agent's version\n"


def test_crlf_files_keep_their_line_endings(tree: Path) -> None:
    (tree / "win.txt").write_bytes(b"a\r\nb\r\n")
    text, digest = read_for_edit(tree, "win.txt")
    write_edit(tree, "win.txt", digest, text.replace("\r\n", "\n").replace("b", "c"))
    assert (tree / "win.txt").read_bytes() == b"a\r\nc\r\n"


def test_binary_and_non_utf8_files_are_not_editable(tree: Path) -> None:
    (tree / "bin.dat").write_bytes(b"\x00\x01\x02")
    (tree / "latin.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(EditRefused, match="binary"):
        read_for_edit(tree, "bin.dat")
    with pytest.raises(EditRefused, match="not valid UTF-8"):
        read_for_edit(tree, "latin.txt")


def test_hash_is_of_the_bytes_on_disk(tree: Path) -> None:
    _, digest = read_for_edit(tree, "src/a.py")
    assert digest == content_hash(b"one\ntwo\n")


def leftovers(tree: Path) -> list[str]:
    return [p.name for p in (tree / "src").iterdir() if p.name.endswith(".backloop")]


def test_a_write_in_place_just_before_the_rename_wins(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The agent truncates and rewrites the file after the last check, before the rename: the person's save is
    refused and the agent's text is what the file holds, not lost under the person's."""
    target = tree / "src" / "a.py"
    _, digest = read_for_edit(tree, "src/a.py")
    real_replace = os.replace

    def agent_writes_first(src: str | Path, dst: str | Path) -> None:
        if Path(dst) == target and target.read_text() == "one\ntwo\n":
            with open(target, "r+b") as fh:  # in place: the same file, new content
                fh.truncate(0)
                fh.write(b"agent's version\n")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", agent_writes_first)
    with pytest.raises(EditConflict, match="changed while saving"):
        write_edit(tree, "src/a.py", digest, "person's version\n")
    assert target.read_text() == "agent's version\n"
    assert leftovers(tree) == []


def test_an_atomic_save_just_before_the_rename_wins(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The agent renames its own new file over this one after the content check: refused, the agent's file stays."""
    target = tree / "src" / "a.py"
    _, digest = read_for_edit(tree, "src/a.py")
    real_samefile = os.path.samefile

    def agent_saves_first(a: str | Path, b: str | Path) -> bool:
        new = tree / "src" / "agent.tmp"
        new.write_text("agent's version\n")
        os.replace(new, target)
        return real_samefile(a, b)

    monkeypatch.setattr(os.path, "samefile", agent_saves_first)
    with pytest.raises(EditConflict, match="changed while saving"):
        write_edit(tree, "src/a.py", digest, "person's version\n")
    assert target.read_text() == "agent's version\n"
    assert leftovers(tree) == []


def test_without_hard_links_the_edit_still_works(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: str | Path, dst: str | Path) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    _, digest = read_for_edit(tree, "src/a.py")
    write_edit(tree, "src/a.py", digest, "person's version\n")
    assert (tree / "src" / "a.py").read_text() == "person's version\n"
    assert leftovers(tree) == []
