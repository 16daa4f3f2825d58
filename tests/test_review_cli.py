"""``backloop review`` as a subprocess against a real ``backloop server``: the agent's loop from a shell, its exit
statuses, how it finds the server (and does not hand its token to anything else), and an await whose client goes
away taking nothing."""

from __future__ import annotations

import dataclasses
import http.server
import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from backloop.review import servers
from tests.conftest import MakeRepo
from tests.real_server import RealServer
from tests.support import ROOT, TIMEOUT_S, GitRepo
from tests.test_cli import one_line, server

STATE = "state"


def review(tmp_path: Path, repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    """``backloop review ARGS`` in ``repo``, with the state of the servers started by ``server(tmp_path, ...)``."""
    return subprocess.run([sys.executable, "-m", "backloop", "review", *args], capture_output=True, text=True,
                          cwd=repo.root, env=_env(tmp_path), timeout=TIMEOUT_S * 3, stdin=subprocess.DEVNULL,
                          check=False)


def review_soon(tmp_path: Path, repo: GitRepo, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "backloop", "review", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=repo.root, env=_env(tmp_path),
                            stdin=subprocess.DEVNULL)


def _env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, BACKLOOP_STATE_DIR=str(tmp_path / STATE), PYTHONPATH=str(ROOT),
                GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")


@pytest.fixture
def repo(make_repo: MakeRepo) -> GitRepo:
    made = make_repo({"app.py": "a = 1\n", "README.md": "hi\n"}, name="repo")
    made.write("app.py", "a = 2\n")
    return made


@contextmanager
def socket_of(srv: RealServer, review_id: str) -> Iterator[ClientConnection]:
    """A review's websocket, past its hello and snapshot."""
    with connect(srv.ws_url(review_id)) as ws:
        assert receive_until(ws, lambda m: m["type"] == "snapshot")
        yield ws


def receive_until(ws: ClientConnection, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(ws.recv(timeout=TIMEOUT_S))
        if done(message):
            return message


def comment(ws: ClientConnection, body: str, client_id: str) -> str:
    ws.send(json.dumps({"type": "comment", "client_id": client_id, "path": "app.py", "side": "new", "line": 1,
                        "body": body}))
    ack = receive_until(ws, lambda m: m.get("client_id") == client_id)
    assert ack["type"] == "ack", ack
    return str(ack["id"])


def agent_is(ws: ClientConnection, state: str) -> None:
    receive_until(ws, lambda m: m["type"] == "review" and m["agent"] == state)


def test_without_a_server_each_verb_says_how_to_start_one(tmp_path: Path, repo: GitRepo) -> None:
    assert f"backloop server --repo {repo.root}" in one_line(review(tmp_path, repo, "start"))
    assert "backloop review start" in one_line(review(tmp_path, repo, "await"))
    assert "no review feed" in one_line(review(tmp_path, repo, "await", "--review", "feed"))
    assert "no comment nope" in one_line(review(tmp_path, repo, "resolve", "nope"))
    assert not (tmp_path / STATE).exists()  # asking makes no state
    plain = tmp_path / "plain"
    plain.mkdir()
    assert "is not inside a git work tree" in one_line(review(tmp_path, repo, "start", "--repo", str(plain)))
    assert "not a number of seconds" in one_line(review(tmp_path, repo, "await", "--timeout", "-1"))
    with server(tmp_path, repo.root):
        assert "exactly one" not in review(tmp_path, repo, "start", "--since", "nope").stderr
        assert "unknown since 'nope'" in one_line(review(tmp_path, repo, "start", "--since", "nope"))


def test_the_agent_loop_from_a_shell(tmp_path: Path, repo: GitRepo) -> None:
    with server(tmp_path, repo.root) as srv:
        started = review(tmp_path, repo, "start", "--json", "--title", "from a shell")
        assert started.returncode == 0, started.stderr
        result = json.loads(started.stdout)
        review_id = result["review_id"]
        assert review_id == srv.review_id  # the server's open review of the same view, as startreview does
        assert result == {"review_id": review_id, "view": "changes since HEAD (live work tree)",
                          "url": f"http://127.0.0.1:{srv.port}/review/{review_id}/view?since=HEAD&live=true",
                          "reused": True, "round": 1}
        text = review(tmp_path, repo, "start", "--commit", "HEAD")
        assert text.returncode == 0 and "/view?commit=HEAD&live=false" in text.stdout
        assert "give the URL to the user, then run `backloop review await --review " in text.stdout

        waited = review(tmp_path, repo, "await", "--review", review_id, "--timeout", "0.1")
        assert waited.returncode == 3, waited.stderr
        assert f"No comments yet on review {review_id}" in waited.stdout
        assert f"Run `backloop review await --review {review_id}` again" in waited.stdout

        with socket_of(srv, review_id) as ws:
            waiting = review_soon(tmp_path, repo, "await", "--review", review_id, "--timeout", "60")
            agent_is(ws, "waiting")
            comment_id = comment(ws, "Why 2?", "c1")
            out, err = waiting.communicate(timeout=TIMEOUT_S)
            assert waiting.returncode == 0, err
            assert f"[comment {comment_id}] on app.py, line 1\n```\n    1 | a = 2\n```\nWhy 2?" in out
            assert "backloop review resolve COMMENT_ID" in out
            agent_is(ws, "working")
            again = review(tmp_path, repo, "await", "--review", review_id, "--timeout", "0.1", "--json")
            assert again.returncode == 3 and json.loads(again.stdout)["timed_out"] is True  # delivered once

            asked = review(tmp_path, repo, "reply", comment_id, "Which way?")
            assert asked.returncode == 0, asked.stderr
            assert asked.stdout.strip() == (f"Reply posted in the thread of {comment_id}; their answer will arrive "
                                            "via `backloop review await`.")
            answered = comment_reply(ws, comment_id, "Back to 1.")
            got = review(tmp_path, repo, "await", "--review", review_id, "--json")
            assert got.returncode == 0, got.stderr
            (item,) = json.loads(got.stdout)["items"]
            assert (item["type"], item["comment_id"], item["body"]) == ("reply", comment_id, "Back to 1.")
            assert [m["body"] for m in item["thread"]] == ["Why 2?", "Which way?", "Back to 1."]
            assert answered

            resolved = review(tmp_path, repo, "resolve", comment_id, "--reply", "Done.", "--json")
            assert resolved.returncode == 0, resolved.stderr
            assert json.loads(resolved.stdout) == {"review_id": review_id, "comment_id": comment_id,
                                                   "state": "resolved"}
            shown = receive_until(ws, lambda m: m["type"] == "comment" and m["comment"].get("state") == "resolved")
            last = shown["comment"]["replies"][-1]
            assert (last["author"], last["body"]) == ("agent", "Done.")

            approved = review(tmp_path, repo, "approve", "--review", review_id)
            assert approved.returncode == 0 and approved.stdout.strip() == f"Review {review_id} approved."
            receive_until(ws, lambda m: m["type"] == "review" and m["state"] == "approved")
        done = review(tmp_path, repo, "await", "--review", review_id)
        assert (done.returncode, done.stdout) == (4, "REVIEW APPROVED\n")

        latest = review(tmp_path, repo, "await", "--timeout", "0.1", "--json")  # the latest review of the repo
        assert latest.returncode == 3 and json.loads(latest.stdout)["review_id"] not in (review_id, srv.review_id)


def comment_reply(ws: ClientConnection, comment_id: str, body: str) -> str:
    ws.send(json.dumps({"type": "reply", "client_id": "r1", "comment_id": comment_id, "body": body}))
    ack = receive_until(ws, lambda m: m.get("client_id") == "r1")
    assert ack["type"] == "ack", ack
    return str(ack["id"])


def test_await_defaults_to_the_servers_review(tmp_path: Path, repo: GitRepo) -> None:
    """``backloop server`` starts (or reopens) a review: ``backloop review await`` in the repository waits on it."""
    with server(tmp_path, repo.root) as srv, socket_of(srv, srv.review_id) as ws:
        waiting = review_soon(tmp_path, repo, "await")
        agent_is(ws, "waiting")
        comment_id = comment(ws, "look", "c1")
        out, err = waiting.communicate(timeout=TIMEOUT_S)
        assert waiting.returncode == 0, err
        assert f"new item(s) from the reviewer on review {srv.review_id}" in out and comment_id in out


def test_the_server_file_is_the_owners_and_goes_with_the_server(tmp_path: Path, repo: GitRepo) -> None:
    folder = tmp_path / STATE / servers.SERVERS
    with server(tmp_path, repo.root) as srv:
        path = folder / f"{srv.port}.json"
        first = servers.read(path)
        assert first is not None and first.address == srv.host and first.pid == srv.process.pid
        assert re.fullmatch(r"[0-9a-f]{64}", first.token)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(folder.stat().st_mode) == 0o700
        srv.stop()
        assert not path.exists()
    with server(tmp_path, repo.root) as again:
        second = servers.at_port(tmp_path / STATE, again.port)
        assert second is not None and second.token != first.token


def impostor(seen: list[tuple[str, str | None]]) -> type[http.server.BaseHTTPRequestHandler]:
    """Another process on the port a killed server left: it answers anything, and records what it is sent."""

    class Impostor(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._record()

        def do_POST(self) -> None:
            self._record()

        def _record(self) -> None:
            seen.append((self.path, self.headers.get("authorization")))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"proof": "0"}')

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Impostor


def test_no_token_or_review_id_goes_to_a_process_that_cannot_prove_it_holds_the_token(
        tmp_path: Path, repo: GitRepo) -> None:
    srv = RealServer.launch(repo.root, tmp_path / STATE)
    srv.kill()  # (its file stays behind)
    assert servers.at_port(tmp_path / STATE, srv.port) is not None
    seen: list[tuple[str, str | None]] = []
    with http.server.HTTPServer(("127.0.0.1", srv.port), impostor(seen)) as other:
        thread = threading.Thread(target=other.serve_forever, daemon=True)
        thread.start()
        try:
            refused = one_line(review(tmp_path, repo, "await", "--review", srv.review_id))
            assert "is not served by a running backloop server" in refused
            assert "backloop server --repo" in one_line(review(tmp_path, repo, "start"))
        finally:
            other.shutdown()
    assert seen and all(path.startswith("/api/agent/hello?nonce=") and auth is None for path, auth in seen)
    assert not any(srv.review_id in path for path, _ in seen)


def test_an_await_whose_client_goes_away_takes_nothing(tmp_path: Path, repo: GitRepo) -> None:
    with server(tmp_path, repo.root) as srv, socket_of(srv, srv.review_id) as ws:
        found = servers.at_port(tmp_path / STATE, srv.port)
        assert found is not None
        body = b'{"timeout_seconds": 60}'
        with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT_S) as raw:
            raw.sendall(f"POST /api/agent/reviews/{srv.review_id}/await HTTP/1.1\r\nHost: {srv.host}\r\n"
                        f"Authorization: Bearer {found.token}\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            agent_is(ws, "waiting")
        agent_is(ws, "working")  # the wait ended with its connection
        comment_id = comment(ws, "after the drop", "c1")
        got = review(tmp_path, repo, "await", "--json")
        assert got.returncode == 0, got.stderr
        assert [i["comment_id"] for i in json.loads(got.stdout)["items"]] == [comment_id]


def test_the_file_of_a_killed_server_goes_when_the_next_one_starts(tmp_path: Path, repo: GitRepo) -> None:
    killed = RealServer.launch(repo.root, tmp_path / STATE)
    killed.kill()
    left = servers.at_port(tmp_path / STATE, killed.port)
    assert left is not None
    # (the next server binds the port its reviews had, overwriting that file: one on another port stays behind)
    elsewhere = servers.write(tmp_path / STATE, dataclasses.replace(left, port=1, address="127.0.0.1:1"))
    with server(tmp_path, repo.root) as srv:
        assert servers.at_port(tmp_path / STATE, srv.port) is not None
        assert not elsewhere.exists()
