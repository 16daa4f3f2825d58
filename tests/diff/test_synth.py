"""Patches written from two contents (diff/synth.py) are real git patches: ``git apply`` turns the old content into
the new one, and the parser reads them like git's own."""

from __future__ import annotations

import random

import pytest

from backloop.diff import synth
from backloop.diff.parse import build_file
from tests.conftest import MakeRepo
from tests.support import texts

CASES = [
    (b"a\nb\nc\n", b"a\nB\nc\n"),
    (b"a\nb\nc", b"a\nb\nc\n"),  # the last line gets its line break
    (b"a\nb\nc\n", b"a\nb\nc"),  # and loses it
    (b"", b"one\n"),
    (b"one\n", b""),
    (b"x\n" * 50 + b"middle\n" + b"y\n" * 50, b"x\n" * 50 + b"MIDDLE\n" + b"y\n" * 50 + b"tail"),
    (b"line\r\nother\r\n", b"line\r\nchanged\r\n"),
]


def _random_edit(rng: random.Random) -> tuple[bytes, bytes]:
    old = [f"line {i}\n".encode() for i in range(rng.randint(0, 60))]
    new = list(old)
    for _ in range(rng.randint(1, 6)):
        at = rng.randint(0, len(new))
        if new and rng.random() < 0.5:
            del new[min(at, len(new) - 1)]
        else:
            new.insert(at, f"new {rng.random():.4f}\n".encode())
    return b"".join(old), b"".join(new)


@pytest.mark.parametrize(("old", "new"), CASES + [_random_edit(random.Random(seed)) for seed in range(8)])
def test_git_applies_the_patch(make_repo: MakeRepo, old: bytes, new: bytes) -> None:
    repo = make_repo({"f.txt": old})
    made = synth.patch("f.txt", old, new, context=3)
    assert made is not None
    if old == new:
        assert made.unchanged
        return
    (repo.root / "p.diff").write_bytes(made.chunk)
    repo.git("apply", "p.diff")
    assert (repo.root / "f.txt").read_bytes() == new


def test_added_deleted_unchanged_and_binary() -> None:
    added = synth.patch("n.py", None, b"x = 1\n")
    assert added is not None
    fd = build_file(added)
    assert (fd.status, texts(fd, "add"), fd.old_path) == ("added", ["x = 1"], None)
    deleted = synth.patch("n.py", b"x = 1\n", None)
    assert deleted is not None and build_file(deleted).status == "deleted"
    same = synth.patch("n.py", b"x = 1\n", b"x = 1\n")
    assert same is not None
    fd = build_file(same)
    assert fd.unchanged and fd.hunks == [] and fd.additions == fd.deletions == 0
    assert synth.patch("n.py", None, None) is None
    binary = synth.patch("b.bin", b"\0\1", b"\0\2")
    assert binary is not None and build_file(binary).binary


def test_whitespace_only_changes_are_unchanged_when_whitespace_is_ignored() -> None:
    spaced = synth.patch("f.py", b"if x:\n    y = 1\n", b"if x:\n    y =  1\n", ignore_ws=True)
    assert spaced is not None and build_file(spaced).unchanged
    changed = synth.patch("f.py", b"if x:\n    y = 1\n", b"if x:\n  y = 2\n", ignore_ws=True)
    assert changed is not None and texts(build_file(changed), "add") == ["  y = 2"]
