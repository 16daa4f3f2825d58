"""Path escape: ``open_file`` and ``edit`` (and the other messages that name a path) never read or write anything
outside the work tree, or inside ``.git``, whatever path the client sends, and whatever the work tree holds
(symlinks out of it, a directory where a file was, a file reached through a symlinked directory).

The refusals come from two layers: the websocket layer only lets paths of the review's diff through, and
``backloop/review/edit.py`` confines every path to the work tree's regular files. Paths a client can make up
(``../``, absolute, ``.git/``, NUL) meet both; the traps below are part of the diff, so only the second layer stands
between them and the outside, and each is checked against that layer directly too.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backloop.review.edit import EditRefused, content_hash, read_for_edit, write_edit
from tests.security.conftest import Backloop, Client, raw_http
from tests.support import LIVE_QUERY, Message, init_repo

REFUSALS = {"edit_refused", "not_in_diff"}


@dataclass
class Trap:
    server: Backloop
    root: Path
    outside: Path
    canary: str
    """Text in every file outside the work tree: no server message may ever contain it."""

    def snapshot(self) -> dict[str, tuple[bytes, int]]:
        """Every file outside the work tree (and .git's config and HEAD) with its bytes and mtime."""
        files = [*sorted(self.outside.rglob("*")), self.root / ".git" / "config", self.root / ".git" / "HEAD"]
        return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in files if p.is_file() and not p.is_symlink()}


ESCAPES = {
    "parent": "../outside/secret.txt",
    "parent-deep": "sub/../../outside/secret.txt",
    "absolute": "{outside}/secret.txt",
    "absolute-in-repo": "{root}/changed.txt",
    "git-config": ".git/config",
    "git-head": ".git/HEAD",
    "git-dir": ".git",
    "git-hook": ".git/hooks/pre-commit",
    "symlink-to-outside": "escape",  # an untracked symlink: part of the live diff
    "retargeted-symlink": "link",  # a tracked symlink now pointing outside: part of the diff
    "behind-symlinked-dir": "sub/a.txt",  # sub/ became a symlink out: sub/a.txt is a deletion in the diff
    "symlinked-dir": "sub",
    "directory": "d",  # a deleted file, now a directory of the same name: part of the diff
    "not-in-review": "same.txt",  # a tracked file the review does not change
    "nul": "changed.txt\0",
    "nul-inside": "changed\0.txt",
    "dot": "./changed.txt",
    "trailing-slash": "changed.txt/",
    "double-slash": "d//x.txt",
    "backslash": "..\\outside\\secret.txt",
    "empty": "",
}
"""Paths a client may send to get out of the work tree, by what each tries."""


def escape(trap: Trap, name: str) -> str:
    return ESCAPES[name].format(outside=trap.outside, root=trap.root)


@pytest.fixture(scope="module")
def trap(tmp_path_factory: pytest.TempPathFactory, serve: Callable[..., Backloop]) -> Trap:
    base = tmp_path_factory.mktemp("escape").resolve()
    canary = f"CANARY-{secrets.token_hex(8)}"
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{canary} secret\n")
    (outside / "a.txt").write_text(f"{canary} a\n")
    repo = init_repo(base / "repo")
    repo.write("changed.txt", "one\n")
    repo.write("same.txt", "same\n")
    repo.write("sub/a.txt", "inside a\n")
    repo.write("d", "file d\n")
    (repo.root / "link").symlink_to("changed.txt")
    repo.commit("initial")
    # The work tree the review shows: one honest change and every trap.
    repo.write("changed.txt", "one\ntwo\n")
    (repo.root / "escape").symlink_to(outside / "secret.txt")
    (repo.root / "link").unlink()
    (repo.root / "link").symlink_to(outside / "secret.txt")
    (repo.root / "sub" / "a.txt").unlink()
    (repo.root / "sub").rmdir()
    (repo.root / "sub").symlink_to(outside)
    (repo.root / "d").unlink()
    repo.write("d/x.txt", "x\n")
    return Trap(serve(repo.root), repo.root, outside, canary)


@pytest.fixture
def client(trap: Trap) -> Iterator[Client]:
    before = trap.snapshot()
    with trap.server.connect() as client:
        client.start()
        yield client
        client.ping()
    assert trap.snapshot() == before, "a file outside the work tree (or in .git) was written"
    assert not any(trap.canary in repr(m) for m in client.seen), "a file outside the work tree was read"


def reply_to(client: Client, request: Message) -> Message:
    """Send a request and return its answer (the request's own reply type, or an error)."""
    client.send(request)
    key = request.get("request_id") or request.get("client_id")
    kinds = {"open_file": "file_content", "edit": "ack", "expand": "lines", "comment": "ack"}

    def answers(m: Message) -> bool:
        if m["type"] == "error":
            return "client_id" not in request or m.get("client_id") == request["client_id"]
        return m["type"] == kinds[request["type"]] and key in (m.get("request_id"), m.get("client_id"))

    return client.until(answers)


def test_the_diff_holds_every_trap(trap: Trap, client: Client) -> None:
    """The premise of the tests below: the traps are files of the review's diff, so only edit.py guards them."""
    snapshot = next(m for m in client.seen if m["type"] == "snapshot")
    assert {f["path"] for f in snapshot["files"]} == {"changed.txt", "escape", "link", "sub", "sub/a.txt", "d",
                                                      "d/x.txt"}


def test_a_file_of_the_diff_can_be_opened_and_edited(trap: Trap, client: Client) -> None:
    """The control: the refusals below are about the paths, not a broken edit path."""
    opened = reply_to(client, {"type": "open_file", "request_id": "r-ok", "path": "d/x.txt"})
    assert opened["type"] == "file_content" and opened["content"] == "x\n", opened
    saved = reply_to(client, {"type": "edit", "client_id": "c-ok", "path": "d/x.txt", "base_hash": opened["hash"],
                              "content": "x edited\n"})
    assert saved["type"] == "ack", saved
    assert (trap.root / "d" / "x.txt").read_text() == "x edited\n"


@pytest.mark.parametrize("name", list(ESCAPES))
def test_escaping_paths_are_refused_over_the_websocket(trap: Trap, client: Client, name: str) -> None:
    path = escape(trap, name)
    # The hash of the outside file's bytes: were the path let through, the edit would match it and be written.
    canary_hash = content_hash((trap.outside / "secret.txt").read_bytes())
    opened = reply_to(client, {"type": "open_file", "request_id": f"r-{name}", "path": path})
    assert opened["type"] == "error" and opened["code"] in REFUSALS, opened
    edited = reply_to(client, {"type": "edit", "client_id": f"c-{name}", "path": path, "base_hash": canary_hash,
                               "content": "pwned\n"})
    assert edited["type"] == "error" and edited["code"] in REFUSALS, edited
    expanded = reply_to(client, {"type": "expand", "request_id": f"x-{name}", "path": path, "start": 1, "end": 5})
    assert expanded["type"] == "error", expanded
    # The raw-bytes route reads files too.
    query = urllib.parse.urlencode({"path": path, "side": "new"})
    answer = raw_http(trap.server.port, f"GET /review/{trap.server.review_id}/raw?{query}&{LIVE_QUERY} HTTP/1.1\r\n"
                                        f"Host: {trap.server.host}\r\nConnection: close\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 404") or answer.startswith(b"HTTP/1.1 400"), answer[:300]
    assert trap.canary.encode() not in answer
    assert not (trap.outside / "pwned").exists() and "pwned" not in (trap.outside / "secret.txt").read_text()


@pytest.mark.parametrize("name", ["symlink-to-outside", "retargeted-symlink", "behind-symlinked-dir"])
def test_comments_do_not_quote_files_outside(trap: Trap, client: Client, name: str) -> None:
    """A line comment quotes the commented lines from the file: never through a link out of the work tree."""
    path = escape(trap, name)
    for side in ("new", "old"):
        answer = reply_to(client, {"type": "comment", "client_id": f"q-{name}-{side}", "path": path, "body": "why?",
                                   "side": side, "line": 1})
        assert trap.canary not in repr(answer)


@pytest.mark.parametrize("name", [n for n in ESCAPES if n != "not-in-review"])
def test_edit_module_confines_every_path(trap: Trap, name: str) -> None:
    """The inner layer alone (as if the websocket layer let the path through): reads and writes are refused."""
    path = escape(trap, name)
    before = trap.snapshot()
    canary_hash = hashlib.sha256((trap.outside / "secret.txt").read_bytes()).hexdigest()
    with pytest.raises(EditRefused):
        read_for_edit(trap.root, path)
    with pytest.raises(EditRefused):
        write_edit(trap.root, path, canary_hash, "pwned\n")
    assert trap.snapshot() == before
    assert not any(p.name.endswith(".backloop") for p in [*trap.outside.iterdir(), *trap.root.rglob("*")])
    assert os.readlink(trap.root / "escape") == str(trap.outside / "secret.txt")
