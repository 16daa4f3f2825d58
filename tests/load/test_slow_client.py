"""A client that stops reading its socket: the others keep getting every update promptly, and what the server
holds for the stuck one stays bounded: its dirty set (at most the paths of the view), its queue of replies (at
most MAX_REPLIES), its socket's write buffer (about one frame) and its last-sent files (one per path), however
many updates pass it by. The server is a real one on loopback, in this process so that its state can be looked
at; the stuck client is a raw socket with a tiny receive buffer that did the websocket handshake and then
only writes (a flood of pings whose pongs it never reads)."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from backloop.config import Settings
from backloop.git.repo import Repo
from backloop.hub import MAX_REPLIES
from backloop.review.session import Review
from backloop.runtime import Runtime
from backloop.viewspec import parse_view
from tests.conftest import MakeRepo
from tests.real_server import Client, client
from tests.support import LIVE_QUERY

pytestmark = pytest.mark.anyio
UPDATES = 30
WARM_UP = 8
LINES = 1000
PROMPT_S = 10.0
"""The longest one update may take to reach a reading client (on a busy machine; typically well under 0.5 s)."""
BUFFER_LIMIT = 2 * 1024 * 1024
"""What a socket's write buffer may hold: about one frame (an update is a file message of about 250 kB)."""
GROWTH_LIMIT = 40 * 1024 * 1024
"""A coarse bound on this process's RSS growth after the warm-up (the server and both clients live here)."""


def content(n: int) -> str:
    return "".join(f"version {n} of line {k}: the whole file changes every time\n" for k in range(LINES))


class StuckSocket:
    """A raw TCP socket that did the websocket handshake and then never reads again."""

    def __init__(self, port: int, path: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                          .encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)  # byte by byte: nothing past the handshake is read
            assert chunk, "the server closed the connection during the handshake"
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_text(self, text: str) -> None:
        """One masked text frame (clients must mask)."""
        payload = text.encode()
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert len(payload) < 126
        self.sock.sendall(struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + masked)

    def close(self) -> None:
        self.sock.close()


def write_buffers(runtime: Runtime) -> list[int]:
    """Bytes waiting in the server's socket buffers, per connection (uvicorn's protocols)."""
    assert runtime._server is not None
    return [c.transport.get_write_buffer_size() for c in runtime._server.server_state.connections
            if c.transport is not None]


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
async def served(make_repo: MakeRepo, tmp_path: Path) -> AsyncIterator[tuple[Runtime, Review, Path]]:
    repo = make_repo({"data.txt": content(0), "small.py": "x = 0\n"})
    runtime = Runtime(Settings(state_dir=tmp_path / "state"))
    review = await runtime.reviews.create(await Repo.open(repo.root), parse_view({"since": "HEAD", "live": "true"}))
    await runtime.start_web()
    try:
        yield runtime, review, repo.root
    finally:
        await runtime.close()


async def test_a_client_that_stops_reading(served: tuple[Runtime, Review, Path]) -> None:
    runtime, review, root = served
    path = f"/review/{review.id}/ws?{LIVE_QUERY}"
    stuck = await asyncio.to_thread(StuckSocket, runtime.port or 0, path)
    try:
        async with client(f"ws://127.0.0.1:{runtime.port}{path}") as fast:
            await run_updates(runtime, root, stuck, fast)
    finally:
        stuck.close()


def changed(fast: Client, before: str | None) -> Callable[[], bool]:
    return lambda: fast.files.get("data.txt") not in (None, before)


async def run_updates(runtime: Runtime, root: Path, stuck: StuckSocket, fast: Client) -> None:
    [view] = [running.view for running in runtime.hub.views._running.values()]
    latencies: list[float] = []
    base = 0
    for n in range(1, UPDATES + 1):
        if n == WARM_UP:
            base = rss()
        before = fast.files.get("data.txt")
        started = time.monotonic()
        await asyncio.to_thread((root / "data.txt").write_text, content(n))
        await fast.until(changed(fast, before), f"update {n}", PROMPT_S)
        latencies.append(time.monotonic() - started)
        await fast.ping(f"after {n}")  # the fast client's requests are answered too
        buffers = write_buffers(runtime)
        assert max(buffers) < BUFFER_LIMIT, buffers
    grown = rss() - base

    current = view.files["data.txt"].digest
    assert fast.files["data.txt"] == current
    [subscribers] = runtime.hub._subscribers.values()
    lagging = [s for s in subscribers if s.delta._sent.get("data.txt") is not view.files.get("data.txt")]
    assert len(subscribers) == 2 and len(lagging) == 1, "the stuck client is not the one left behind"
    [slow] = lagging
    assert slow.delta._sent["data.txt"].digest != current  # it really missed updates: its sender is blocked
    for k in range(3 * MAX_REPLIES):  # requests whose answers it never reads
        await asyncio.to_thread(stuck.send_text, f'{{"type":"ping","nonce":"{k}"}}')
    for k in range(10 * MAX_REPLIES):  # (round trips of the other client pace the wait)
        if len(slow.replies) == MAX_REPLIES:
            break
        await fast.ping(f"pace {k}")
    assert len(slow.replies) == MAX_REPLIES  # full, and no more: the oldest are dropped
    assert slow.delta._dirty <= set(view.files)
    assert len(slow.delta._sent) <= len(view.files)
    assert max(latencies) < PROMPT_S
    assert grown < GROWTH_LIMIT, f"RSS grew by {grown / 1e6:.1f} MB over {UPDATES - WARM_UP} updates"
