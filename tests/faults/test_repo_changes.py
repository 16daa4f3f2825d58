"""The repository changes under a live review: a branch switch, a rebase stopped at a conflict, ``git gc
--prune=now``, the review's base branch deleted and made again. The websocket says what state the view is in
(``notice``), nothing crashes, and every view converges to exactly the diff that git gives (per-path digests,
computed independently with the same pipeline as a fresh page load would)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from starlette.testclient import WebSocketTestSession

from backloop.review.session import Review
from tests.faults.conftest import Env, answer, ping
from tests.support import TIMEOUT_S, Message, app_ws_url, compute, new_review, receive


class Live:
    """A websocket client that applies what it receives: per-path digests and the current notice."""

    def __init__(self, ws: WebSocketTestSession) -> None:
        self.ws = ws
        self.digests: dict[str, str] = {}
        self.notice: tuple[str, str] = ("ok", "")
        hello = receive(ws)
        assert hello["type"] == "hello", hello
        while True:
            message = receive(ws)
            self.apply(message)
            if message["type"] == "snapshot":
                break

    def apply(self, message: Message) -> None:
        if message["type"] == "snapshot":
            self.digests = {f["path"]: f["digest"] for f in message["files"]}
        elif message["type"] == "file":
            self.digests[message["file"]["path"]] = message["file"]["digest"]
        elif message["type"] == "file_removed":
            self.digests.pop(message["path"], None)
        elif message["type"] == "notice":
            self.notice = (message["level"], message["message"])
        elif message["type"] == "<close>":
            raise AssertionError(f"the server closed the socket: {message}")

    def until(self, expected: Mapping[str, str], level: str, words: str = "") -> None:
        """Receive until the diff is ``expected`` and the notice has ``level`` (and contains ``words``)."""
        deadline = time.monotonic() + TIMEOUT_S
        while not (self.digests == expected and self.notice[0] == level and words in self.notice[1]):
            left = deadline - time.monotonic()
            try:
                self.apply(receive(self.ws, max(left, 0.001)))
            except TimeoutError:
                differing = sorted(p for p in expected if p in self.digests and self.digests[p] != expected[p])
                raise AssertionError(f"not converged: notice {self.notice}, expected {level} {words!r}; "
                                     f"missing {sorted(set(expected) - set(self.digests))}, extra "
                                     f"{sorted(set(self.digests) - set(expected))}, differing {differing}"
                                     ) from None


def digests(env: Env, view: Mapping[str, str]) -> dict[str, str]:
    async def run() -> dict[str, str]:
        return {p: fd.digest for p, fd in (await compute(env.repo.root, view)).items()}

    result: dict[str, str] = env.call(run)
    return result


def review_of(env: Env, view: Mapping[str, str]) -> Review:
    return new_review(env.client, env.runtime.reviews, env.repo.root, view)


def connect(env: Env, review: Review, query: str) -> Any:
    return env.client.websocket_connect(app_ws_url(review.id, query))


LIVE = {"since": "HEAD", "live": "true"}


def test_branch_switch(env: Env) -> None:
    repo = env.repo
    repo.git("checkout", "-q", "-b", "other")
    repo.git("rm", "-q", "notes.txt")
    repo.write("app.py", "a = 1\nb = 2\nc = 3\nd = 4\n")
    repo.write("lib/new.py", "def f():\n    return 1\n")
    repo.commit("other branch")
    repo.git("checkout", "-q", "main")
    repo.write("app.py", "a = 1\nb = 20\nc = 3\n")
    with env.connect() as ws:
        live = Live(ws)
        live.until(digests(env, LIVE), "ok")
        repo.git("checkout", "-q", "-m", "other")  # carries the uncommitted change over (merged)
        live.until(digests(env, LIVE), "ok")
        repo.write("app.py", "a = 1\nb = 2\nc = 30\nd = 4\n")
        live.until(digests(env, LIVE), "ok")
        repo.git("checkout", "-q", "-f", "main")
        live.until(digests(env, LIVE), "ok")
        assert live.digests == {}  # main, clean


def test_rebase_stopped_at_a_conflict(env: Env) -> None:
    repo = env.repo
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("app.py", "a = 1\nb = 200\nc = 3\n")
    repo.commit("feature: b = 200")
    repo.git("checkout", "-q", "main")
    repo.write("app.py", "a = 1\nb = 2000\nc = 3\n")
    repo.commit("main: b = 2000")
    repo.git("checkout", "-q", "feature")
    with env.connect() as ws:
        live = Live(ws)
        live.until(digests(env, LIVE), "ok")
        assert "CONFLICT" in repo.git("rebase", "main", check=False)
        # (the conflicts are listed from the index, read apart from the diff: wait for the recompute that saw them)
        live.until(digests(env, LIVE), "warning", "1 file with conflicts: app.py")
        assert "A rebase is in progress" in live.notice[1]
        assert "1 file with conflicts: app.py" in live.notice[1]
        assert "app.py" in live.digests  # the conflict markers, against the commit the rebase stopped at
        ping(ws)
        # Resolve it and go on: the warning goes when the rebase is over.
        repo.write("app.py", "a = 1\nb = 2200\nc = 3\n")
        repo.git("add", "app.py")
        repo.git("-c", "core.editor=true", "rebase", "--continue")
        live.until(digests(env, LIVE), "ok")
        assert live.digests == {}
        # Once more, and abort it this time.
        repo.git("checkout", "-q", "-b", "second", "HEAD~1")
        repo.write("app.py", "a = 1\nb = 9\nc = 3\n")
        repo.commit("second")
        assert "CONFLICT" in repo.git("rebase", "feature", check=False)
        live.until(digests(env, LIVE), "warning", "app.py")
        repo.git("rebase", "--abort")
        live.until(digests(env, LIVE), "ok")
    # A merge stopped at a conflict says so too.
    with env.connect() as ws:
        live = Live(ws)
        assert "CONFLICT" in repo.git("merge", "feature", check=False)
        live.until(digests(env, LIVE), "warning", "A merge is in progress; 1 file with conflicts: app.py")
        repo.git("merge", "--abort")
        live.until(digests(env, LIVE), "ok")


def test_gc_prune_now(env: Env) -> None:
    repo = env.repo
    for n in range(5):  # loose objects, some unreachable
        repo.write("notes.txt", f"keep\nversion {n}\n")
        repo.git("add", "notes.txt")
    repo.commit("more")
    repo.write("app.py", "a = 1\nb = 21\nc = 3\n")
    with env.connect() as ws:
        live = Live(ws)
        live.until(digests(env, LIVE), "ok")
        repo.git("gc", "-q", "--prune=now")
        repo.write("app.py", "a = 1\nb = 22\nc = 3\n")
        live.until(digests(env, LIVE), "ok")
        # Reading old sides (now packed) still works: a comment on the old side quotes it.
        ws.send_json({"type": "comment", "client_id": "c", "path": "app.py", "side": "old", "line": 2, "body": "?"})
        assert answer(ws, "c")["type"] == "ack"
        assert next(iter(env.review.comments.values())).quoted == ["b = 20"]  # (HEAD: committed above)
        repo.git("reflog", "expire", "--expire=now", "--all")
        repo.git("gc", "-q", "--prune=now", "--aggressive")
        repo.write("notes.txt", "keep\nafter gc\n")
        live.until(digests(env, LIVE), "ok")


def test_base_branch_deleted_and_made_again(env: Env) -> None:
    repo = env.repo
    repo.git("branch", "feature")
    repo.write("app.py", "a = 1\nb = 20\nc = 3\n")
    view = {"since": "feature", "live": "true"}
    review = review_of(env, view)
    with connect(env, review, "since=feature&live=true") as ws, env.connect() as other:
        live = Live(ws)
        bystander = Live(other)  # a view of the same repository whose base is untouched
        good = digests(env, view)
        live.until(good, "ok")
        base = repo.rev("feature")
        repo.git("branch", "-D", "feature")
        live.until(good, "error", "unknown since 'feature'")  # the last good diff stays
        ping(ws)
        # The page still loads, and says the same through its socket.
        assert env.client.get(f"/review/{review.id}/view?since=feature&live=true").status_code == 200
        with connect(env, review, "since=feature&live=true") as fresh:
            late = Live(fresh)
            assert late.notice[0] == "error" and "unknown since 'feature'" in late.notice[1]
        repo.write("app.py", "a = 1\nb = 25\nc = 3\n")  # work goes on meanwhile
        bystander.until(digests(env, LIVE), "ok")
        repo.git("branch", "feature", base)
        live.until(digests(env, view), "ok")
        assert live.digests != good  # the change made meanwhile is there
        # The same with a packed ref (git gc packs refs), deleted and restored.
        repo.git("pack-refs", "--all")
        repo.git("branch", "-D", "feature")
        live.until(live.digests, "error", "unknown since 'feature'")
        repo.git("update-ref", "refs/heads/feature", base)
        live.until(digests(env, view), "ok")
