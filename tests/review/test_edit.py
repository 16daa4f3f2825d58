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
