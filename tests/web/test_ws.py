"""The websocket endpoint with a real watcher: hello and snapshot, live deltas, replies, errors and close codes."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from backloop.diff.parse import MAX_RENDER_LINES
from backloop.diff.sides import MAX_LOAD_LINES
from backloop.protocol import CLOSE_BAD_VIEW, CLOSE_FORBIDDEN, CLOSE_UNKNOWN_REVIEW, PROTOCOL_VERSION
from tests.conftest import MakeRepo
from tests.diff.test_highlight import plain
from tests.diff.test_parse import big_text, conflicted_repo
from tests.support import APP_PORT, GitRepo, Message, receive, receive_until
from tests.web.conftest import Served

LIVE = {"since": "HEAD", "live": "true"}


def start(ws: WebSocketTestSession) -> tuple[Message, Message, Message | None]:
    """hello, snapshot, and the notice sent between them (if any)."""
    hello = receive(ws)
    assert hello["type"] == "hello", hello
    notice = None
    message = receive(ws)
    if message["type"] == "notice":
        notice, message = message, receive(ws)
    assert message["type"] == "snapshot", message
    return hello, message, notice


def files_of(snapshot: Message) -> dict[str, Message]:
    return {f["path"]: f for f in snapshot["files"]}


def texts(file: Message, kind: str | None = None) -> list[str]:
    return [ln["text"] for h in file["hunks"] for ln in h["lines"] if kind is None or ln["kind"] == kind]


def file_message(path: str, pred: Any = None) -> Any:
    return lambda m: m["type"] == "file" and m["file"]["path"] == path and (pred is None or pred(m["file"]))


def removed(path: str) -> Callable[[Message], bool]:
    return lambda m: m == {"type": "file_removed", "path": path}


def receive_all(ws: WebSocketTestSession, files: Collection[str] = (), removed: Collection[str] = ()) -> None:
    """Until a `file` message for each of ``files`` and a `file_removed` for each of ``removed`` arrived (in any
    order: a batch is sent in path order)."""
    want = {("file", p) for p in files} | {("file_removed", p) for p in removed}

    def pred(m: Message) -> bool:
        path = m["file"]["path"] if m["type"] == "file" else m.get("path")
        want.discard((m["type"], path))
        return not want

    receive_until(ws, pred)


def ping(ws: WebSocketTestSession, nonce: str = "n") -> None:
    ws.send_json({"type": "ping", "nonce": nonce})
    receive_until(ws, lambda m: m["type"] == "pong" and m["nonce"] == nonce)


# ---- connecting ------------------------------------------------------------------------------------------------


def test_hello_then_snapshot(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"a.py": "x = 1\n", "keep.txt": "k\n"})
    repo.write("a.py", "x = 2\n")
    repo.write("new <b>.txt", "new\n")
    review = served.review(repo.root, LIVE, title="<i>title</i>")
    with served.ws(review.id, LIVE) as ws:
        hello, snapshot, notice = start(ws)
        assert notice is None
        assert hello["protocol"] == PROTOCOL_VERSION == 1
        info = hello["review"]
        assert (info["id"], info["title"], info["repo"], info.get("state", "open")) == (
            review.id, "<i>title</i>", str(repo.root), "open")
        assert info["view"] == {"since": "HEAD", "live": True}
        files = files_of(snapshot)
        assert sorted(files) == ["a.py", "new <b>.txt"]
        a = files["a.py"]
        assert (a["status"], a["additions"], a["deletions"], a["binary"]) == ("modified", 1, 1, False)
        assert texts(a) == ["x = 1", "x = 2"]
        assert all("<span" in ln["html"] for ln in a["hunks"][0]["lines"])  # highlighted before it is sent
        assert files["new <b>.txt"]["untracked"] and files["new <b>.txt"]["old_path"] is None


def test_view_options(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"a.py": "".join(f"v{i} = {i}\n" for i in range(30))})
    repo.write("a.py", "".join(f"v{i} = {i if i != 15 else 'x'}\n" for i in range(30)).replace("v3 = 3", "v3  =  3"))
    review = served.review(repo.root)
    with served.ws(review.id, {**LIVE, "context": "0", "ws": "1", "view": "split"}) as ws:
        hello, snapshot, _ = start(ws)
        assert hello["review"]["view"] == {"since": "HEAD", "live": True, "view": "split", "ws": True, "context": 0}
        [a] = snapshot["files"]
        assert texts(a) == ["v15 = 15", "v15 = x"]


def test_unknown_review(served: Served) -> None:
    with served.ws("0" * 24) as ws:
        error = receive(ws)
        assert error["type"] == "error" and error["code"] == "unknown_review"
        closed = receive(ws)
        assert closed == {"type": "<close>", "code": CLOSE_UNKNOWN_REVIEW, "reason": closed["reason"]}


@pytest.mark.parametrize("query", [
    "", "since=HEAD&commit=HEAD", "since=--output=/tmp/backloop-x", "commit=-p", "range=HEAD", "since=HEAD&live=2",
    "since=HEAD&context=-1", "since=HEAD&context=" + "9" * 5000, "since=HEAD&view=sideways", "commit=HEAD&live=true",
    "since=a%20b", "since=HEAD:file",
])
def test_bad_view_parameters(make_repo: MakeRepo, served: Served, query: str) -> None:
    review = served.review(make_repo({"a": "a\n"}).root)
    with served.ws(review.id, query) as ws:
        error = receive(ws)
        assert error["type"] == "error" and error["code"] == "bad_view" and error["message"]
        assert receive(ws)["code"] == CLOSE_BAD_VIEW
    assert not Path("/tmp/backloop-x").exists()


def test_option_like_revision_creates_no_file(make_repo: MakeRepo, served: Served, tmp_path: Path) -> None:
    review = served.review(make_repo({"a": "a\n"}).root)
    target = tmp_path / "x"
    for query in (f"since=--output={target}", f"range=--output={target}..HEAD", f"commit=--output={target}"):
        with served.ws(review.id, query) as ws:
            error = receive(ws)
            assert error["code"] == "bad_view" and "is not a valid git revision" in error["message"]
    assert not target.exists()


def test_unknown_revision_is_a_notice_and_the_connection_stays(make_repo: MakeRepo, served: Served) -> None:
    review = served.review(make_repo({"a": "a\n"}).root)
    with served.ws(review.id, {"since": "nope"}) as ws:
        _, snapshot, notice = start(ws)
        assert notice == {"type": "notice", "level": "error",
                          "message": f"unknown since 'nope': no such commit in {review.repo.root}"}
        assert snapshot["files"] == []
        ping(ws)


def test_empty_repository(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo()
    repo.write("first.txt", "hello\n")
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        _, snapshot, notice = start(ws)
        assert notice is not None and notice["level"] == "warning" and "no commits yet" in notice["message"]
        [f] = snapshot["files"]
        assert (f["path"], f["status"]) == ("first.txt", "added")
    with served.ws(review.id, {"commit": "HEAD"}) as ws:
        _, snapshot, notice = start(ws)
        assert notice is not None and notice["level"] == "error" and "no commits yet" in notice["message"]
        assert snapshot["files"] == []
        ping(ws)


def test_foreign_origin_is_refused(make_repo: MakeRepo, served: Served) -> None:
    review = served.review(make_repo({"a": "a\n"}).root)
    for origin in ("http://evil.example", "http://127.0.0.1:1", "null", f"https://127.0.0.1:{APP_PORT}"):
        with pytest.raises(WebSocketDisconnect) as info, served.ws(review.id, LIVE, headers={"origin": origin}):
            pass
        assert info.value.code == CLOSE_FORBIDDEN, origin
    with served.ws(review.id, LIVE, headers={"origin": f"http://localhost:{APP_PORT}"}) as ws:
        start(ws)


def test_foreign_host_is_refused(make_repo: MakeRepo, served: Served) -> None:
    review = served.review(make_repo({"a": "a\n"}).root)
    for host in (f"evil.example:{APP_PORT}", f"127.0.0.2:{APP_PORT}", "127.0.0.1",
                 f"localhost.evil.example:{APP_PORT}"):
        with pytest.raises(WebSocketDisconnect) as info, served.ws(review.id, LIVE, headers={"host": host}):
            pass
        assert info.value.code == CLOSE_FORBIDDEN, host


# ---- client messages -------------------------------------------------------------------------------------------

MALFORMED = [
    ("not json", "invalid_json"),
    ("{", "invalid_json"),
    ("[1, 2]", "invalid_message"),
    ("{}", "invalid_message"),
    ('{"type": "launch_missiles"}', "unknown_type"),
    ('{"type": "ping", "unexpected": true}', "invalid_message"),
    ('{"type": "expand", "path": "a.py"}', "invalid_message"),
    ('{"type": "expand", "request_id": "r", "path": "a.py", "start": 0, "end": 1}', "invalid_message"),
    ('{"type": "expand", "request_id": "r", "path": "a.py", "start": 1, "end": 999999}', "invalid_message"),
    ('{"type": "load_file", "path": 7}', "invalid_message"),
]


def test_malformed_messages_get_errors_and_the_connection_keeps_working(make_repo: MakeRepo,
                                                                        served: Served) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        start(ws)
        for i, (frame, code) in enumerate(MALFORMED):
            ws.send_text(frame)
            error = receive(ws)
            assert error["type"] == "error" and error["code"] == code and error["message"], frame
            ping(ws, f"after-{i}")
        ws.send_bytes(b'{"type": "ping"}')
        assert receive(ws)["code"] == "binary_frame"
        ping(ws)
        ws.send_json({"type": "expand", "request_id": "r", "path": "not-in-the-diff.py", "start": 1, "end": 2})
        error = receive(ws)
        assert (error["type"], error["code"]) == ("error", "not_in_diff")
        ws.send_json({"type": "load_file", "path": "nope"})
        assert receive(ws)["code"] == "not_in_diff"
        ping(ws)
        # The live pipeline still runs after all that.
        repo.write("a.py", "x = 2\n")
        receive_until(ws, file_message("a.py"))


def test_expand(make_repo: MakeRepo, served: Served) -> None:
    lines = [f"line_{i} = {i}  # <&>" for i in range(1, 51)]
    repo = make_repo({"a.py": "".join(f"{ln}\n" for ln in lines)})
    repo.write("a.py", "".join(f"{ln}\n" if i != 25 else "changed = 1\n" for i, ln in enumerate(lines, 1)))
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        _, snapshot, _ = start(ws)
        [hunk] = files_of(snapshot)["a.py"]["hunks"]
        assert (hunk["new_start"], hunk["new_lines"]) == (22, 7)
        ws.send_json({"type": "expand", "request_id": "above", "path": "a.py", "start": 1, "end": 21})
        above = receive_until(ws, lambda m: m["type"] == "lines")[0]
        assert (above["request_id"], above["path"], above["start"], above["eof"]) == ("above", "a.py", 1, False)
        assert [ln["text"] for ln in above["lines"]] == lines[:21]
        assert "&lt;&amp;&gt;" in above["lines"][0]["html"] and "<span" in above["lines"][0]["html"]
        ws.send_json({"type": "expand", "request_id": "below", "path": "a.py", "start": 29, "end": 80})
        below = receive_until(ws, lambda m: m["type"] == "lines")[0]
        assert below["request_id"] == "below" and below["eof"] is True
        assert [ln["text"] for ln in below["lines"]] == lines[28:]
        ws.send_json({"type": "expand", "request_id": "exact", "path": "a.py", "start": 50, "end": 50})
        exact = receive_until(ws, lambda m: m["type"] == "lines")[0]
        assert ([ln["text"] for ln in exact["lines"]], exact["eof"]) == ([lines[49]], True)
        ws.send_json({"type": "expand", "request_id": "past", "path": "a.py", "start": 60, "end": 70})
        past = receive_until(ws, lambda m: m["type"] == "lines")[0]
        assert (past["lines"], past["eof"]) == ([], True)


def test_expand_of_a_commit_view_reads_the_commit(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"a.txt": "".join(f"{i}\n" for i in range(1, 21))})
    repo.write("a.txt", "".join(f"{i}\n" if i != 10 else "ten\n" for i in range(1, 21)))
    repo.commit("ten")
    repo.write("a.txt", "work tree only\n")
    review = served.review(repo.root, {"commit": "HEAD"})
    with served.ws(review.id, {"commit": "HEAD"}) as ws:
        start(ws)
        ws.send_json({"type": "expand", "request_id": "r", "path": "a.txt", "start": 1, "end": 3})
        msg = receive_until(ws, lambda m: m["type"] == "lines")[0]
        assert [ln["text"] for ln in msg["lines"]] == ["1", "2", "3"]


def test_twenty_megabyte_file_and_load_file(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"big.txt": big_text("old", changed_every=10), "small.txt": "s\n"})
    repo.write("big.txt", big_text("new", changed_every=10))
    size = (repo.root / "big.txt").stat().st_size
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        _, snapshot, _ = start(ws)
        big = files_of(snapshot)["big.txt"]
        assert big["too_large"] is True and big["hunks"] == []
        assert (big["size"], big["additions"], big["deletions"]) == (size, 2000, 2000)
        ws.send_json({"type": "load_file", "path": "big.txt"})
        full = receive_until(ws, file_message("big.txt"), timeout=30)[0]["file"]
        assert full.get("too_large", False) is False
        assert len(full["hunks"]) == 2000 and (full["additions"], full["deletions"]) == (2000, 2000)
        ping(ws)


def test_a_diff_too_large_for_any_page_is_refused_by_name(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"a.txt": "a\n"})
    repo.write("huge.txt", "".join(f"row {n}\n" for n in range(MAX_LOAD_LINES + 1)))
    repo.write("big.txt", "".join(f"row {n}\n" for n in range(MAX_RENDER_LINES + 1)))
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        _, snapshot, _ = start(ws)
        huge = files_of(snapshot)["huge.txt"]
        assert huge["too_large"] is True and huge["additions"] == MAX_LOAD_LINES + 1
        ws.send_json({"type": "load_file", "path": "huge.txt"})
        error = receive_until(ws, lambda m: m["type"] == "error")[0]
        assert error["code"] == "too_large_to_load" and error["path"] == "huge.txt"
        assert f"{MAX_LOAD_LINES + 1:,} changed lines" in error["message"]
        ws.send_json({"type": "load_file", "path": "big.txt"})  # below the limit: loaded as before
        full = receive_until(ws, file_message("big.txt"), timeout=30)[0]["file"]
        assert full.get("too_large", False) is False and full["additions"] == MAX_RENDER_LINES + 1
        ping(ws)

def test_merge_conflict_in_a_staged_view(make_repo: MakeRepo, served: Served) -> None:
    repo = conflicted_repo(make_repo)
    repo.git("checkout", "-q", "HEAD", "--", "z-clean.txt")  # only the conflicts are left in the index
    review = served.review(repo.root, {"since": "HEAD"})
    with served.ws(review.id, {"since": "HEAD"}) as ws:
        _, snapshot, notice = start(ws)
        assert notice == {"type": "notice", "level": "warning",
                          "message": 'A merge is in progress; 2 files with conflicts: f.txt, weird "name".txt.'}
        files = files_of(snapshot)
        assert sorted(files) == ["f.txt", 'weird "name".txt']
        assert files["f.txt"]["notice"] == "Unmerged path: this file has merge conflicts."


def test_odd_names_over_the_wire(make_repo: MakeRepo, served: Served) -> None:
    names = ["<script>alert(1)<\\script>.js", 'q"uote.txt', "tab\tnew\nline.txt", "ünï 日本.txt"]
    repo = make_repo(dict.fromkeys(names, "old\n"))
    for name in names:
        repo.write(name, "new <img src=x onerror=alert(1)>\n")
        repo.write("untracked " + name, "u\n")
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        _, snapshot, _ = start(ws)
        files = files_of(snapshot)
        assert sorted(files) == sorted(names + ["untracked " + n for n in names])
        for name in names:
            added = files[name]["hunks"][0]["lines"][1]
            assert added["text"] == "new <img src=x onerror=alert(1)>"
            assert plain(added["html"]) == added["text"]  # escaped: no tag but our spans


def test_names_that_are_not_utf8(make_repo: MakeRepo, served: Served) -> None:
    """A file name that is not valid UTF-8 must not break the view for every other file."""
    repo = make_repo({"ok.txt": "1\n"})
    os.makedirs(repo.root, exist_ok=True)
    with open(os.path.join(os.fsencode(repo.root), b"caf\xe9.txt"), "wb") as fh:
        fh.write(b"latin-1 name\n")
    repo.write("ok.txt", "2\n")
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        _, snapshot, _ = start(ws)
        files = files_of(snapshot)
        assert sorted(files) == ["caf\ufffd.txt", "ok.txt"]
        assert texts(files["caf\ufffd.txt"]) == ["latin-1 name"]
        ping(ws)
        repo.write("ok.txt", "3\n")
        receive_until(ws, file_message("ok.txt", lambda f: texts(f) == ["1", "3"]))


# ---- the live pipeline -----------------------------------------------------------------------------------------


def test_live_updates(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({".gitignore": "*.log\nbuild/\n", "a.py": "x = 1\n", "b.txt": "b\n"})
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        _, snapshot, _ = start(ws)
        assert snapshot["files"] == []

        # A saved file arrives as a `file` message with its new content.
        repo.write("a.py", "x = 2\n")
        file = receive_until(ws, file_message("a.py"))[0]["file"]
        assert texts(file) == ["x = 1", "x = 2"]
        repo.write("a.py", "x = 3\n")
        file = receive_until(ws, file_message("a.py", lambda f: texts(f) == ["x = 1", "x = 3"]))[0]["file"]

        # An untracked file arrives, and leaves when it is deleted.
        repo.write("dir/new file.txt", "hello\n")
        file = receive_until(ws, file_message("dir/new file.txt"))[0]["file"]
        assert (file["status"], file["untracked"], texts(file)) == ("added", True, ["hello"])
        (repo.root / "dir" / "new file.txt").unlink()
        receive_until(ws, lambda m: m == {"type": "file_removed", "path": "dir/new file.txt"})

        # Ignored files never appear (a marker file written afterwards shows the events were handled).
        repo.write("debug.log", "ignored\n")
        repo.write("build/out.txt", "ignored\n")
        repo.write("marker.txt", "m\n")
        _, before = receive_until(ws, file_message("marker.txt"))
        repo.write("debug.log", "ignored, again\n")
        (repo.root / "marker.txt").unlink()
        _, between = receive_until(ws, lambda m: m == {"type": "file_removed", "path": "marker.txt"})
        for m in before + between:
            assert "debug.log" not in json.dumps(m) and "build/out.txt" not in json.dumps(m), m

        # A tracked file deleted in the work tree shows as deleted; restored, it leaves the diff.
        (repo.root / "b.txt").unlink()
        receive_until(ws, file_message("b.txt", lambda f: f["status"] == "deleted"))
        repo.write("b.txt", "b\n")
        receive_until(ws, lambda m: m == {"type": "file_removed", "path": "b.txt"})

        # Staged and committed: since=HEAD moves with HEAD, so a.py leaves the view.
        repo.git("add", "a.py")
        repo.git("commit", "-q", "-m", "x = 3")
        receive_until(ws, lambda m: m == {"type": "file_removed", "path": "a.py"})
        ping(ws)


def test_commit_and_checkout_recompute(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"a.txt": "1\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("a.txt", "2\n")
    repo.commit("two")
    review = served.review(repo.root)
    view = {"since": "main", "live": "true"}
    with served.ws(review.id, view) as ws:
        _, snapshot, _ = start(ws)
        assert texts(files_of(snapshot)["a.txt"]) == ["1", "2"]
        repo.git("checkout", "-q", "main")  # the work tree is main again: nothing since main
        receive_until(ws, lambda m: m == {"type": "file_removed", "path": "a.txt"})
        repo.git("merge", "-q", "--ff-only", "feature")
        ping(ws)
        repo.write("a.txt", "3\n")
        receive_until(ws, file_message("a.txt", lambda f: texts(f) == ["2", "3"]))


def test_staged_view_follows_the_index(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"a.txt": "1\n"})
    review = served.review(repo.root, {"since": "HEAD"})
    with served.ws(review.id, {"since": "HEAD"}) as ws:
        _, snapshot, _ = start(ws)
        assert snapshot["files"] == []
        repo.write("a.txt", "2\n")
        repo.write("new.txt", "n\n")
        repo.git("add", "a.txt")
        file = receive_until(ws, file_message("a.txt"))[0]["file"]
        assert texts(file) == ["1", "2"]
        repo.git("reset", "-q")
        receive_until(ws, lambda m: m == {"type": "file_removed", "path": "a.txt"})


def test_odd_names_live(make_repo: MakeRepo, served: Served) -> None:
    names = ["tab\tnew\nline.txt", 'q"uote\\back.txt', "<script>.js", "ünï 日本.txt", "-dash.txt"]
    repo = make_repo(dict.fromkeys(names, "old\n"))
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        start(ws)
        for name in names:
            repo.write(name, "new\n")
            receive_until(ws, file_message(name, lambda f: texts(f) == ["old", "new"]))
            repo.write("untracked " + name, "u\n")
            receive_until(ws, file_message("untracked " + name))
            (repo.root / ("untracked " + name)).unlink()
            receive_until(ws, removed("untracked " + name))


def test_two_clients_see_the_same_change(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"a.txt": "1\n"})
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as one, served.ws(review.id, {**LIVE, "view": "split"}) as two:
        start(one)
        start(two)
        repo.write("a.txt", "2\n")
        first = receive_until(one, file_message("a.txt"))[0]
        second = receive_until(two, file_message("a.txt"))[0]
        assert first == second


def test_deleted_then_recreated_live(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"f.txt": "one\n"})
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        start(ws)
        (repo.root / "f.txt").unlink()
        receive_until(ws, file_message("f.txt", lambda f: f["status"] == "deleted"))
        repo.write("f.txt", "two\n")
        file = receive_until(ws, file_message("f.txt", lambda f: f["status"] == "modified"))[0]["file"]
        assert texts(file) == ["one", "two"]


def test_type_change_live(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"f": "a\n"})
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        start(ws)
        (repo.root / "f").unlink()
        (repo.root / "f").symlink_to("target")
        file = receive_until(ws, file_message("f", lambda f: f.get("new_mode") == "120000"))[0]["file"]
        assert texts(file) == ["a", "target"]


def _with_submodule(make_repo: MakeRepo) -> tuple[GitRepo, GitRepo]:
    inner = make_repo({"inner.txt": "i\n"}, name="inner")
    repo = make_repo({"top.txt": "t\n"}, name="outer")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner.root), "sub")
    repo.commit("submodule")
    return repo, GitRepo(repo.root / "sub")


def test_commit_inside_a_submodule_live(make_repo: MakeRepo, served: Served) -> None:
    repo, sub = _with_submodule(make_repo)
    before = sub.head()
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        _, snapshot, _ = start(ws)
        assert snapshot["files"] == []
        sub.write("inner.txt", "changed\n")
        sub.write("loose.txt", "untracked in the submodule\n")
        sub.git("add", "inner.txt")
        after = sub.commit("inside", all_files=False)
        file = receive_until(ws, file_message("sub", lambda f: f"Subproject commit {after}" in texts(f)))[0]["file"]
        assert texts(file) == [f"Subproject commit {before}", f"Subproject commit {after}"]
        repo.write("marker.txt", "m\n")
        _, seen = receive_until(ws, file_message("marker.txt"))
        assert all("loose.txt" not in json.dumps(m) for m in seen)


def test_edit_inside_a_submodule_live(make_repo: MakeRepo, served: Served) -> None:
    repo, sub = _with_submodule(make_repo)
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        start(ws)
        sub.write("inner.txt", "changed, not committed\n")
        file = receive_until(ws, file_message("sub"))[0]["file"]
        assert texts(file)[-1].endswith("-dirty")


def test_untracked_directory_comes_and_goes(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({".gitignore": "*.o\n", "a.txt": "a\n"})
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        start(ws)
        for name in ("one.txt", "two.txt", "deep/three.txt", "skip.o"):
            repo.write(f"gen/{name}", f"{name}\n")
        receive_all(ws, files={"gen/one.txt", "gen/two.txt", "gen/deep/three.txt"})
        (repo.root / "gen" / "one.txt").rename(repo.root / "gen" / "renamed.txt")
        receive_all(ws, files={"gen/renamed.txt"}, removed={"gen/one.txt"})
        shutil.rmtree(repo.root / "gen")
        receive_all(ws, removed={"gen/renamed.txt", "gen/two.txt", "gen/deep/three.txt"})
        repo.write("marker.txt", "m\n")
        _, seen = receive_until(ws, file_message("marker.txt"))
        assert all("skip.o" not in json.dumps(m) for m in seen)


def test_gitignore_edit_hides_and_shows_files(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({".gitignore": "", "a.txt": "a\n"})
    repo.write("out.log", "log\n")
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        _, snapshot, _ = start(ws)
        assert "out.log" in files_of(snapshot)
        repo.write(".gitignore", "*.log\n")
        receive_until(ws, removed("out.log"))
        repo.write(".gitignore", "")
        receive_until(ws, file_message("out.log"))


def test_attributes_edit_changes_how_every_file_shows(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"a.txt": "one\ntwo\n"})
    repo.write("a.txt", "one\nTWO\n")  # tracked, modified
    repo.write("dos.txt", b"x\r\ny\r\n")  # untracked, CRLF
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        _, snapshot, _ = start(ws)
        files = files_of(snapshot)
        assert not files["a.txt"]["binary"]
        assert texts(files["dos.txt"]) == ["x\r", "y\r"]
        repo.write(".gitattributes", "a.txt binary\n* text=auto\n")  # no other file is touched
        a = receive_until(ws, lambda m: file_message("a.txt")(m) and m["file"]["binary"])[0]["file"]
        assert a["hunks"] == []
        dos = receive_until(ws, lambda m: file_message("dos.txt")(m) and texts(m["file"]) == ["x", "y"])[0]["file"]
        assert dos["untracked"]

def test_first_commit_clears_the_empty_repository_notice(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo()
    repo.write("a.txt", "a\n")
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        _, _, notice = start(ws)
        assert notice is not None and notice["level"] == "warning"
        repo.commit("first")
        receive_until(ws, lambda m: m == {"type": "notice", "level": "ok", "message": ""})
        receive_until(ws, removed("a.txt"))


def test_expand_needs_a_new_side(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"gone.txt": "1\n2\n"})
    (repo.root / "gone.txt").unlink()
    repo.write("new.txt", "".join(f"{i}\n" for i in range(1, 11)))
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        start(ws)
        ws.send_json({"type": "expand", "request_id": "r", "path": "gone.txt", "start": 1, "end": 2})
        error = receive_until(ws, lambda m: m["type"] == "error")[0]
        assert error["code"] == "not_in_diff" and "deleted" in error["message"]
        ws.send_json({"type": "expand", "request_id": "u", "path": "new.txt", "start": 9, "end": 20})
        lines = receive_until(ws, lambda m: m["type"] == "lines")[0]
        assert ([ln["text"] for ln in lines["lines"]], lines["eof"]) == (["9", "10"], True)


def test_expand_in_a_staged_view_reads_the_index(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"a.txt": "".join(f"{i}\n" for i in range(1, 11))})
    repo.write("a.txt", "".join(f"{i}\n" if i != 5 else "staged\n" for i in range(1, 11)))
    repo.git("add", "a.txt")
    repo.write("a.txt", "work tree only\n")
    review = served.review(repo.root, {"since": "HEAD"})
    with served.ws(review.id, {"since": "HEAD"}) as ws:
        start(ws)
        ws.send_json({"type": "expand", "request_id": "r", "path": "a.txt", "start": 1, "end": 10})
        lines = receive_until(ws, lambda m: m["type"] == "lines")[0]
        assert [ln["text"] for ln in lines["lines"]][4] == "staged"


def test_file_removed_from_the_index_only(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"f.txt": "one\n", "g.txt": "g\n"})
    review = served.review(repo.root)
    with served.ws(review.id, LIVE) as ws:
        start(ws)
        repo.git("rm", "-q", "--cached", "f.txt")  # a full recompute (the index changed)
        repo.write("marker-1.txt", "m\n")
        _, first = receive_until(ws, file_message("marker-1.txt"))
        repo.write("f.txt", "two\n")  # a per-path recompute
        repo.write("zz-marker-2.txt", "m\n")
        _, second = receive_until(ws, file_message("zz-marker-2.txt"))
        states = [(m["file"]["status"], texts(m["file"])) for m in first + second
                  if m["type"] == "file" and m["file"]["path"] == "f.txt"]
        assert states[-1] == ("modified", ["one", "two"]), states
        assert all(status == "modified" for status, _ in states), states
