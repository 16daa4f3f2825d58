"""A real ``python -m backloop server`` process on a real loopback socket, started from this checkout with its
state in a given directory: the one way the e2e, security, fault and load suites start theirs. The parameters for
a real ``backloop-mcp`` process under the SDK's stdio client. Also websocket clients (the ``websockets`` library)
that apply what they are sent the way a page does, for the fault and load suites."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Self, TypeVar
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support import ROOT, TIMEOUT_S, Message

if TYPE_CHECKING:
    from mcp import StdioServerParameters

START_TIMEOUT_S = 60.0
URL_RE = re.compile(r"http://127\.0\.0\.1:(\d+)/review/([^/\s]+)/view\?\S*")
"""The review URL a server prints once it listens."""
SERVER_COMMAND = ("-m", "backloop", "server")


@dataclass
class RealServer:
    """A running ``python -m backloop server`` and the review URL it printed."""

    process: subprocess.Popen[str]
    url: str
    state_dir: Path
    output: list[str]
    """Every line it printed (stdout and stderr), read on in the background until it exits."""
    reader: threading.Thread

    @classmethod
    def launch(cls, repo: Path, state_dir: Path, *args: str, port: int = 0,
               command: Sequence[str] = SERVER_COMMAND) -> Self:
        """Start ``python COMMAND --repo REPO --port PORT ARGS`` (COMMAND: ``-m backloop server``) and wait for the
        review URL it prints."""
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", BACKLOOP_STATE_DIR=str(state_dir),
                   GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
        process = subprocess.Popen(
            [sys.executable, *command, "--repo", str(repo), "--port", str(port), *args],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        output: list[str] = []
        urls: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_read, args=(process, output, urls), daemon=True)
        reader.start()
        try:
            url = urls.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            process.kill()
            process.wait()
            raise AssertionError(f"backloop server printed no review URL within {START_TIMEOUT_S} s:\n"
                                 + "".join(output)) from None
        if url is None:
            raise AssertionError(f"backloop server exited with {process.wait()} before printing a review URL:\n"
                                 + "".join(output))
        return cls(process, url, state_dir, output, reader)

    @property
    def port(self) -> int:
        return int(self._match[1])

    @property
    def review_id(self) -> str:
        return self._match[2]

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return f"http://{self.host}"

    @property
    def _match(self) -> re.Match[str]:
        match = URL_RE.fullmatch(self.url)
        assert match is not None, self.url
        return match

    def ws_url(self, review_id: str | None = None, query: str | None = None) -> str:
        """The websocket of ``review_id`` (default: the printed review) with ``query`` (default: the printed one)."""
        return (f"ws://{self.host}/review/{review_id or self.review_id}/ws?"
                f"{urlsplit(self.url).query if query is None else query}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs. Returns once ``output`` holds all it printed."""
        if self.alive():
            self.process.kill()
        self.process.wait(timeout=TIMEOUT_S)
        self.reader.join(TIMEOUT_S)

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it has not exited within ``TIMEOUT_S``. Returns once ``output`` holds all it
        printed."""
        if self.alive():
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=TIMEOUT_S)
        self.kill()


def _read(process: subprocess.Popen[str], output: list[str], urls: queue.Queue[str | None]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)
        match = URL_RE.search(line)
        if match:
            urls.put(match[0])
    urls.put(None)


S = TypeVar("S", bound=RealServer)


@contextlib.contextmanager
def servers(kind: type[S], state_dir: Callable[[], Path]) -> Iterator[Callable[..., S]]:
    """``start(repo, *args)`` within the block: a ``kind`` server with its state in ``state_dir()``. Every server
    started is stopped when the block ends."""
    started: list[S] = []

    def start(repo: Path, *args: str) -> S:
        started.append(kind.launch(repo, state_dir(), *args))
        return started[-1]

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@contextlib.asynccontextmanager
async def running_server(repo: Path, state: Path, *args: str) -> AsyncIterator[RealServer]:
    """A server for an async test: started and stopped in a thread, so that the event loop runs on meanwhile."""
    server = await asyncio.to_thread(RealServer.launch, repo, state, *args)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


def mcp_params(repo: Path, state_dir: Path) -> StdioServerParameters:
    """The installed ``backloop-mcp`` console script (the one beside this Python, else the one on PATH) in ``repo``
    with its state in ``state_dir``, and nothing else of this environment."""
    from mcp import StdioServerParameters

    here = Path(sys.executable).parent
    command = shutil.which("backloop-mcp", path=os.pathsep.join([str(here), os.environ.get("PATH", "")]))
    if command is None:
        raise AssertionError("backloop-mcp is not installed: pip install -e '.[test]'")
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(BACKLOOP_STATE_DIR=str(state_dir), GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    return StdioServerParameters(command=command, args=[], cwd=str(repo), env=env)


@dataclass
class Client:
    """A websocket client that applies every message it receives: per-path digests, comments, the notice, acks."""

    ws: ClientConnection
    files: dict[str, str] = field(default_factory=dict)
    comments: dict[str, Message] = field(default_factory=dict)
    notice: tuple[str, str] = ("ok", "")
    answers: dict[str, Message] = field(default_factory=dict)
    """Acks and errors by client_id / request_id."""
    pongs: dict[str, float] = field(default_factory=dict)
    received: int = 0
    snapshots: int = 0
    closed: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def apply(self, message: Message) -> None:
        kind = message["type"]
        if kind == "snapshot":
            self.files = {f["path"]: f["digest"] for f in message["files"]}
            self.comments = {c["id"]: c for c in message.get("comments", [])}
            self.snapshots += 1
        elif kind == "file":
            self.files[message["file"]["path"]] = message["file"]["digest"]
        elif kind == "file_removed":
            self.files.pop(message["path"], None)
        elif kind == "comment":
            self.comments[message["comment"]["id"]] = message["comment"]
        elif kind == "notice":
            self.notice = (message["level"], message["message"])
        elif kind == "pong":
            self.pongs[message["nonce"]] = time.monotonic()
        elif kind in ("ack", "error"):
            key = message.get("client_id") or message.get("request_id")
            if key:
                self.answers[key] = message

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                self.apply(json.loads(frame))
                self.received += 1
                self.changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            self.changed.set()

    async def until(self, done: Callable[[], bool], what: str, limit_s: float = TIMEOUT_S) -> None:
        """Wait until ``done()`` (checked after every message)."""
        try:
            async with asyncio.timeout(limit_s):
                while not done():
                    if self.closed:
                        raise AssertionError(f"the socket closed while waiting for {what}")
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            raise AssertionError(f"not within {limit_s} s: {what}") from None

    async def send(self, message: Message) -> None:
        await self.ws.send(json.dumps(message))

    async def ping(self, nonce: str) -> None:
        await self.send({"type": "ping", "nonce": nonce})
        await self.until(lambda: nonce in self.pongs, f"pong {nonce}")


@contextlib.asynccontextmanager
async def client(url: str) -> AsyncIterator[Client]:
    """A connected client that has received its snapshot, reading in the background until the block ends."""
    async with connect(url, max_size=None, compression=None, ping_interval=None, open_timeout=TIMEOUT_S) as ws:
        made = Client(ws)
        made.task = asyncio.create_task(made._read())
        try:
            await made.until(lambda: made.snapshots > 0, "the snapshot")
            yield made
        finally:
            made.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await made.task
