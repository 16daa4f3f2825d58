"""The real CLI as a subprocess: clear failures, the printed URL, and a prompt stop on SIGINT / SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from backloop.config import DATABASE
from tests.conftest import MakeRepo
from tests.real_server import SERVER_COMMAND, RealServer
from tests.support import TIMEOUT_S

STOP_BOUND_S = 2.0


def _env(state_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(BACKLOOP_STATE_DIR=str(state_dir), PYTHONUNBUFFERED="1")
    return env


def run_cli(tmp_path: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backloop", *args], capture_output=True, text=True,
                          env=_env(tmp_path / "state"), timeout=timeout, stdin=subprocess.DEVNULL, check=False)


@contextmanager
def server(tmp_path: Path, repo: Path, *args: str,
           command: tuple[str, ...] = SERVER_COMMAND) -> Iterator[RealServer]:
    """A server on a free port with its state in ``tmp_path / "state"``, killed when the block ends."""
    srv = RealServer.launch(repo, tmp_path / "state", *args, command=command)
    try:
        assert re.fullmatch(r"[0-9a-f]{24}", srv.review_id), srv.url
        yield srv
    finally:
        srv.kill()


def ws_receive(ws: ClientConnection) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ws.recv(timeout=TIMEOUT_S))
    return data


# ---- failures ----------------------------------------------------------------------------------------------------


def test_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    result = run_cli(tmp_path, "server", "--repo", str(plain), "--port", "0")
    assert result.returncode == 2
    assert "is not inside a git work tree" in result.stderr and str(plain) in result.stderr
    assert result.stdout == ""
    missing = run_cli(tmp_path, "server", "--repo", str(tmp_path / "missing"), "--port", "0")
    assert missing.returncode == 2 and "is not a directory" in missing.stderr


def test_option_like_revision(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.txt": "a\n"})
    target = tmp_path / "x"
    for flag in (f"--since=--output={target}", f"--commit=--output={target}", f"--range=--output={target}..HEAD"):
        result = run_cli(tmp_path, "server", "--repo", str(repo.root), "--port", "0", flag)
        assert result.returncode == 2, flag
        assert "is not a valid git revision" in result.stderr
    assert not target.exists()


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a run that failed as a bad flag should: status 2, no traceback, nothing on stdout."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("backloop: ")
    return lines[0]


# "nonsense..invalid": glibc refuses an empty label before asking any DNS server, so the test sends
# no query off the machine (nonsense.invalid fails the same way, after one).
@pytest.mark.parametrize(("args", "message"), [
    (("--port", "70000"), "backloop: argument --port: '70000' is not a port number (0-65535)"),
    (("--port", "-1"), "backloop: argument --port: '-1' is not a port number (0-65535)"),
    (("--port", "http"), "backloop: argument --port: 'http' is not a port number (0-65535)"),
    (("--host", "nonsense..invalid"), "backloop: cannot listen on nonsense..invalid: not a known host name or address"),
    (("--host", "nonsense..invalid", "--port", "8123"),
     "backloop: cannot listen on nonsense..invalid:8123: not a known host name or address"),
    (("--host", "\u00e9..x"), "backloop: cannot listen on \u00e9..x: not a valid host name or address"),
    (("--host", "192.0.2.1"), "backloop: cannot listen on 192.0.2.1: not an address of this machine"),
    (("--host", "192.0.2.1", "--port", "8123"), "backloop: cannot listen on 192.0.2.1:8123: not an address of this "
                                                "machine"),
    (("--allow-host", "devbox.test:8000"), "backloop: argument --allow-host: 'devbox.test:8000' is not a plain host "
                                           "name"),
    (("--allow-host", "https://devbox.test"), "backloop: argument --allow-host: 'https://devbox.test' is not a plain "
                                              "host name"),
    (("--allow-host", "*.devbox.test"), "backloop: argument --allow-host: '*.devbox.test' is not a plain host name"),
    (("--allow-host", ""), "backloop: argument --allow-host: '' is not a plain host name"),
    (("--bogus",), "backloop: unrecognized arguments: --bogus"),
    (("--since", "HEAD", "--commit", "HEAD"), "backloop: argument --commit: not allowed with argument --since"),
])
def test_a_bad_flag_is_one_line_and_status_2(make_repo: MakeRepo, tmp_path: Path, args: tuple[str, ...],
                                             message: str) -> None:
    repo = make_repo({"a.txt": "a\n"})
    assert one_line(run_cli(tmp_path, "server", "--repo", str(repo.root), *args)).startswith(message)


def test_port_in_use_is_one_line(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.txt": "a\n"})
    with closing(socket.socket()) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(tmp_path, "server", "--repo", str(repo.root), "--port", str(port))
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert one_line(result) == f"backloop: cannot listen on 127.0.0.1:{port}: the port is in use"


def test_unusable_state_directory_is_one_line(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.txt": "a\n"})
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a directory\n")
    places = [in_the_way / "state"]  # cannot be created, even by root
    if os.geteuid() != 0:  # root writes into read-only directories
        read_only = tmp_path / "read-only"
        read_only.mkdir(mode=0o500)
        places.append(read_only / "state")
    for place in places:
        env = dict(_env(place), BACKLOOP_STATE_DIR=str(place))
        result = subprocess.run([sys.executable, "-m", "backloop", "server", "--repo", str(repo.root)],
                                capture_output=True, text=True, env=env, timeout=30, stdin=subprocess.DEVNULL,
                                check=False)
        line = one_line(result)
        assert line.startswith(f"backloop: cannot open the state database {place / 'backloop.db'}: "), line


@pytest.mark.parametrize(("flag", "message"), [
    ("--since=nope", "unknown since 'nope'"),
    ("--commit=HEAD", "the repository has no commits yet"),
])
def test_unknown_revision_fails_at_start(make_repo: MakeRepo, tmp_path: Path, flag: str, message: str) -> None:
    repo = make_repo()  # no commits: neither revision exists
    result = run_cli(tmp_path, "server", "--repo", str(repo.root), flag)
    assert result.returncode == 2
    assert message in result.stderr


# ---- serving -----------------------------------------------------------------------------------------------------


def test_prints_the_url_and_serves_it(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.txt": "a\n"})
    repo.write("a.txt", "b\n")
    with server(tmp_path, repo.root / ".") as srv:
        assert urllib.parse.urlsplit(srv.url).query == "since=HEAD&live=true"
        with urllib.request.urlopen(srv.url, timeout=TIMEOUT_S) as response:
            assert response.status == 200
            assert "script-src 'self'" in response.headers["content-security-policy"]
        with connect(srv.ws_url()) as ws:
            hello = ws_receive(ws)
            assert hello["type"] == "hello" and hello["review"]["repo"] == str(repo.root)
            snapshot = ws_receive(ws)
            assert [f["path"] for f in snapshot["files"]] == ["a.txt"]


@pytest.mark.parametrize(("flag", "query"), [("--commit=HEAD", "commit=HEAD&live=false"),
                                             ("--range=HEAD~1..HEAD", "range=HEAD~1..HEAD&live=false")])
def test_view_flags(make_repo: MakeRepo, tmp_path: Path, flag: str, query: str) -> None:
    repo = make_repo({"a.txt": "a\n"})
    repo.write("a.txt", "b\n")
    repo.commit("b")
    with server(tmp_path, repo.root, flag) as srv:
        assert urllib.parse.unquote(urllib.parse.urlsplit(srv.url).query) == query


def test_the_server_console_script_form(make_repo: MakeRepo, tmp_path: Path) -> None:
    """``uvx --from backloop server``: the ``server`` entry point takes the same flags."""
    repo = make_repo({"a.txt": "a\n"})
    code = "import sys; from backloop.cli import server_main; sys.exit(server_main())"
    with server(tmp_path, repo.root, command=("-c", code)) as srv:
        assert urllib.parse.urlsplit(srv.url).query == "since=HEAD&live=true"


def _stop_with_open_websocket(tmp_path: Path, make_repo: MakeRepo, sig: signal.Signals) -> tuple[float, int, str]:
    """Start a server, connect a websocket client, send ``sig``: (seconds until exit, exit code, all it printed)."""
    repo = make_repo({"a.txt": "a\n"})
    repo.write("a.txt", "b\n")
    with server(tmp_path, repo.root) as srv, connect(srv.ws_url()) as ws:
        assert ws_receive(ws)["type"] == "hello"
        assert ws_receive(ws)["type"] == "snapshot"
        started = time.monotonic()
        srv.process.send_signal(sig)
        try:
            code = srv.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running 10 s after {sig.name}") from None
        elapsed = time.monotonic() - started
        srv.kill()  # (it has exited: this waits until all it printed is read)
        return elapsed, code, "".join(srv.output)


SIGNALS = pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])


@SIGNALS
def test_signal_stops_the_server_cleanly_within_two_seconds_with_an_open_websocket(
        make_repo: MakeRepo, tmp_path: Path, sig: signal.Signals) -> None:
    elapsed, code, stderr = _stop_with_open_websocket(tmp_path, make_repo, sig)
    assert elapsed < STOP_BOUND_S, f"{sig.name} took {elapsed:.2f} s"
    assert code == 0
    assert "Traceback" not in stderr, stderr
    assert not (tmp_path / "state" / f"{DATABASE}-wal").exists()  # the store was closed


# ---- backloop list -----------------------------------------------------------------------------------------------


def test_list_prints_the_reviews_from_the_state(make_repo: MakeRepo, tmp_path: Path) -> None:
    """The server lists no reviews (docs/security.md): ``backloop list`` prints them from the owner's state."""
    nothing = run_cli(tmp_path, "list")
    assert nothing.returncode == 0 and nothing.stdout == ""
    assert "no reviews" in nothing.stderr
    assert not (tmp_path / "state").exists()  # listing makes no state

    repo, other = make_repo({"a.txt": "a\n"}, name="repo"), make_repo({"b.txt": "b\n"}, name="other")
    with server(tmp_path, repo.root) as first:
        pass
    with server(tmp_path, repo.root, "--commit", "HEAD", "--title", "the commit") as second:
        pass
    with server(tmp_path, other.root) as third:
        pass

    listed = run_cli(tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    # (every server has stopped: each address is printed as no longer answering)
    assert [line.split() for line in lines[::2]] == [
        ["open", s.url, "(not", "running)"] for s in (first, second, third)]
    assert lines[3].split() == ["the", "commit", "\u2014", str(repo.root)]

    with server(tmp_path, other.root) as again:  # serves that repository's review again
        assert again.review_id == third.review_id
        listed = run_cli(tmp_path, "list")
        assert listed.returncode == 0, listed.stderr
        assert [line.split() for line in listed.stdout.splitlines()[::2]] == [
            ["open", first.url, "(not", "running)"], ["open", second.url, "(not", "running)"], ["open", again.url]]
        running = json.loads(run_cli(tmp_path, "list", "--json").stdout)
        assert [r["running"] for r in running] == [False, False, True]

    mine = run_cli(tmp_path, "list", "--repo", str(repo.root / "."), "--json")
    assert mine.returncode == 0, mine.stderr
    found = json.loads(mine.stdout)
    assert [r["url"] for r in found] == [first.url, second.url]
    assert found[1] | {"created": 0} == {
        "id": second.review_id, "title": "the commit", "repo": str(repo.root), "state": "open",
        "view": "commit HEAD", "path": f"/review/{second.review_id}/view?commit=HEAD&live=false", "url": second.url,
        "running": False, "created": 0}
    assert found[0]["created"] <= found[1]["created"]

    plain = tmp_path / "plain"
    plain.mkdir()
    refused = run_cli(tmp_path, "list", "--repo", str(plain))
    assert refused.returncode == 2 and "is not inside a git work tree" in refused.stderr
