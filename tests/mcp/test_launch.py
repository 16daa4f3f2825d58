"""The real ``backloop-mcp`` process: ``initialize`` and ``tools/list`` are answered while the SDK still loads, and
exactly once."""

from __future__ import annotations

import fcntl
import json
import os
import struct
import subprocess
import sys
import termios
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backloop.mcp import handshake, launch
from tests.conftest import MakeRepo
from tests.support import ROOT

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {"roots": {"listChanged": True}},
                   "clientInfo": {"name": "t", "version": "1"}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


class Process:
    def __init__(self, cwd: Path, state: Path, gate: Path | None = None) -> None:
        # The launcher as the console script runs it, optionally with the SDK's import held at a gate.
        code = ("import sys; from backloop.mcp import launch; "
                + ("launch.SERVER_MODULE = 'tests.mcp.gated_server'; " if gate else "")
                + "sys.exit(launch.main())")
        env = dict(os.environ, BACKLOOP_STATE_DIR=str(state), PYTHONPATH=os.pathsep.join([str(ROOT), *sys.path]))
        if gate:
            env["BACKLOOP_TEST_GATE"] = str(gate)
        self.proc = subprocess.Popen([sys.executable, "-c", code], cwd=cwd, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def send(self, *messages: dict[str, Any] | bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"".join(m if isinstance(m, bytes) else json.dumps(m).encode() + b"\n"
                                       for m in messages))
        self.proc.stdin.flush()

    def receive(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, self.finish()[1]
        message: dict[str, Any] = json.loads(line)
        return message

    def finish(self) -> tuple[list[dict[str, Any]], str]:
        """Close stdin; what else came on stdout, and stderr."""
        out, err = self.proc.communicate(timeout=30)
        return [json.loads(line) for line in out.splitlines()], err.decode()


def unread(fd: int) -> int:
    """Bytes waiting in a pipe."""
    count: int = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    return count


@pytest.fixture
def repo_dir(make_repo: MakeRepo) -> Path:
    return make_repo({"a.txt": "a\n"}).root


@pytest.fixture
def spawn(repo_dir: Path, tmp_path: Path) -> Iterator[Any]:
    started: list[Process] = []

    def make(gate: Path | None = None) -> Process:
        started.append(Process(repo_dir, tmp_path / "state", gate))
        return started[-1]

    yield make
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()


def test_initialize_and_tools_are_answered_while_the_sdk_still_loads(spawn: Any, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    process = spawn(gate)
    process.send(INIT)
    answer = process.receive()  # the SDK's import is still held at the gate
    assert answer["id"] == 1 and answer["result"]["serverInfo"]["name"] == "backloop"
    process.send(INITIALIZED, LIST)
    tools = process.receive()  # still held
    assert tools["id"] == 2
    assert {tool["name"] for tool in tools["result"]["tools"]} >= {"startreview", "await_comments"}
    gate.write_bytes(b"open")
    process.send({**LIST, "id": 3})  # the SDK's own answer, now that it is in
    assert process.receive() == {**tools, "id": 3}
    rest, err = process.finish()
    assert rest == []  # the SDK's own answers to initialize and the first tools/list were dropped, not sent twice
    assert "differs" not in err and process.proc.returncode == 0


def test_only_plain_listings_after_initialized_are_answered_early(spawn: Any, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    process = spawn(gate)
    process.send(INIT)
    assert process.receive()["id"] == 1
    # A request before initialized is the SDK's to judge; a cursor asks for a page the SDK has to work out.
    process.send({**LIST, "id": 2}, INITIALIZED, {**LIST, "id": 3, "params": {"cursor": "c"}}, {**LIST, "id": 4})
    early = process.receive()  # still held at the gate: only this one could be answered
    assert early["id"] == 4 and "tools" in early["result"]
    gate.write_bytes(b"open")
    by_sdk = [process.receive(), process.receive()]
    assert sorted(message["id"] for message in by_sdk) == [2, 3]
    rest, err = process.finish()
    assert rest == [] and "differs" not in err  # (and 4 was not answered again)


def test_pipelined_messages_are_each_answered_once(spawn: Any, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    process = spawn(gate)
    process.send(INIT, INITIALIZED, LIST)  # one write: the launcher reads past the first line
    first, second = process.receive(), process.receive()  # (both while the SDK is held)
    assert (first["id"], second["id"]) == (1, 2)
    assert "tools" in second["result"]
    gate.write_bytes(b"open")
    rest, err = process.finish()
    assert rest == [] and "differs" not in err


START = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "startreview", "arguments": {"since": "HEAD"}}}


def test_a_first_startreview_is_answered_while_the_sdk_still_loads(spawn: Any, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    process = spawn(gate)
    process.send(INIT, INITIALIZED, START)
    assert process.receive()["id"] == 1
    started = process.receive()  # the SDK's import is still held at the gate
    assert started["id"] == 2 and not started["result"]["isError"]
    review_id, url = started["result"]["structuredContent"]["review_id"], started["result"]["structuredContent"]["url"]
    with urllib.request.urlopen(url, timeout=20) as response:  # the page is served meanwhile
        assert response.status == 200
    gate.write_bytes(b"open")
    # The SDK's tools work on the same review; it never saw the call, so it does not answer (or run) it again.
    process.send({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                  "params": {"name": "await_comments", "arguments": {"timeout_seconds": 0}}})
    waited = process.receive()
    assert waited["id"] == 3 and waited["result"]["structuredContent"] == {
        "review_id": review_id, "approved": False, "timed_out": True, "items": []}
    rest, err = process.finish()
    assert rest == [] and "differs" not in err and process.proc.returncode == 0


class ImportLog:
    """Stands in for the loader's modules: what was imported, and whether the test had resumed the loader by then."""

    def __init__(self) -> None:
        self.imported: list[tuple[str, bool]] = []
        self.early_done = threading.Event()
        self.resumed = threading.Event()

    def early(self) -> None:
        self.imported.append(("early", self.resumed.is_set()))
        self.early_done.set()

    def server(self) -> None:
        self.imported.append(("server", self.resumed.is_set()))


def test_the_sdk_loads_after_the_first_startreview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a first startreview is answered, the SDK's import is held back (both want the interpreter lock)."""
    log = ImportLog()
    monkeypatch.setitem(sys.modules, "loader_probe_log", log)
    for name in ("early", "server"):
        (tmp_path / f"loader_probe_{name}.py").write_text(f"import loader_probe_log\nloader_probe_log.{name}()\n")
        monkeypatch.delitem(sys.modules, f"loader_probe_{name}", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(launch, "EARLY_MODULE", "loader_probe_early")
    monkeypatch.setattr(launch, "SERVER_MODULE", "loader_probe_server")
    loader = launch._Loader()
    loader.hold()
    loader.start()
    assert log.early_done.wait(30)
    log.resumed.set()
    loader.resume()
    loader.join(30)
    assert log.imported == [("early", False), ("server", True)] and loader.error is None


@pytest.mark.parametrize(("opening", "refused"), [
    (b"this is not json\n", False),  # the SDK skips what it cannot parse, without an answer
    (json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"protocolVersion": "2025-06-18", "capabilities": {}}}).encode() + b"\n", True),
])
def test_a_first_message_it_does_not_answer_goes_to_the_sdk(spawn: Any, opening: bytes, refused: bool) -> None:
    process = spawn()
    process.send(opening, {**INIT, "id": 5})
    if refused:
        error = process.receive()
        assert error["id"] == 1 and "error" in error
    answered = process.receive()
    assert answered["id"] == 5 and answered["result"]["protocolVersion"] == "2025-06-18"
    rest, _ = process.finish()
    assert rest == []


def test_initialize_without_a_newline_before_the_end_of_input(spawn: Any) -> None:
    process = spawn()
    process.send(json.dumps(INIT).encode())
    messages, err = process.finish()
    assert [m["id"] for m in messages] == [1] and "differs" not in err


def test_a_client_that_leaves_at_once(spawn: Any) -> None:
    process = spawn()
    messages, _ = process.finish()
    assert messages == [] and process.proc.returncode == 0


def test_a_client_that_does_not_read_blocks_nothing_else(spawn: Any) -> None:
    """The client stops reading and the pipe fills up: the web server still serves meanwhile, and every answer
    arrives once the client reads again."""
    process = spawn()
    process.send(INIT, INITIALIZED, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                     "params": {"name": "startreview", "arguments": {"since": "HEAD"}}})
    assert process.receive()["id"] == 1
    url = process.receive()["result"]["structuredContent"]["url"]
    assert process.proc.stdout is not None
    pipe = process.proc.stdout.fileno()
    size = fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, 4096)  # one page: it holds one tools/list answer, not two
    count = 5
    process.send(*[{**LIST, "id": 100 + n} for n in range(count)])
    early = handshake.tools_answer(json.dumps({**LIST, "id": 100}).encode())
    assert early is not None
    answer = len(early[1])  # (each of the five as long: a write this short goes into a pipe whole, or waits)
    deadline = time.monotonic() + 30
    while size - unread(pipe) >= answer:  # full: the server waits to write an answer that does not fit
        assert time.monotonic() < deadline, unread(pipe)
        time.sleep(0.01)
    with urllib.request.urlopen(url, timeout=20) as response:
        assert response.status == 200
    assert [process.receive()["id"] for _ in range(count)] == [100 + n for n in range(count)]


def test_answers_to_a_file(repo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    code = "import sys; from backloop.mcp import launch; sys.exit(launch.main())"
    env = dict(os.environ, BACKLOOP_STATE_DIR=str(tmp_path / "state"),
               PYTHONPATH=os.pathsep.join([str(ROOT), *sys.path]))
    with out.open("wb") as stdout:
        subprocess.run([sys.executable, "-c", code], cwd=repo_dir, env=env, stdout=stdout, check=True, timeout=60,
                       input=json.dumps(INIT).encode() + b"\n" + json.dumps(LIST).encode() + b"\n")
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [1, 2]
