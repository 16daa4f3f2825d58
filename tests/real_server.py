"""A real ``backloop server`` process, and websocket clients (the ``websockets`` library, over loopback) that
apply what they are sent the way a page does, for the fault and load suites."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support import TIMEOUT_S

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0
Message = dict[str, Any]


@dataclass
class ServerProcess:
    """``python -m backloop server`` and the review URL it printed."""

    process: asyncio.subprocess.Process
    url: str
    log: Path

    @property
    def ws_url(self) -> str:
        parts = urlsplit(self.url)
        return f"ws://{parts.netloc}{parts.path.removesuffix('/view')}/ws?{parts.query}"

    @property
    def review_id(self) -> str:
        return urlsplit(self.url).path.split("/")[2]

    @property
    def port(self) -> int:
        port = urlsplit(self.url).port
        assert port is not None
        return port

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), TIMEOUT_S)
            except TimeoutError:
                await self.kill()


async def start_server(repo: Path, state: Path, *args: str) -> ServerProcess:
    """Start ``backloop server --repo REPO --port 0 ARGS`` with state in ``state``; returns once it printed its
    review URL."""
    log = state.parent / f"server-{time.monotonic_ns()}.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", BACKLOOP_STATE_DIR=str(state),
               GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    with log.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "backloop", "server", "--repo", str(repo), "--port", "0", *args,
            cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=err, stdin=asyncio.subprocess.DEVNULL)
    assert process.stdout is not None
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            while line := (await process.stdout.readline()).decode():
                if line.startswith("http"):
                    return ServerProcess(process, line.strip(), log)
    except TimeoutError:
        pass
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    await process.wait()
    raise AssertionError(f"backloop server printed no URL (exit {process.returncode}):\n{log.read_text()}")


@contextlib.asynccontextmanager
async def running_server(repo: Path, state: Path, *args: str) -> AsyncIterator[ServerProcess]:
    server = await start_server(repo, state, *args)
    try:
        yield server
    finally:
        await server.stop()


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
