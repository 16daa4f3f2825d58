"""The attack suites' parts: a real ``backloop server`` process on a real loopback socket, and raw clients that can
say anything (crafted Host and Origin headers, binary frames, oversized frames), checking every server frame
against the protocol's own definition."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import msgspec
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from backloop.protocol import ServerMessage
from tests.real_server import RealServer, servers
from tests.support import LIVE_QUERY, TIMEOUT_S, Message

_server_messages = msgspec.json.Decoder(ServerMessage)


class Backloop(RealServer):
    """A real server that hands out protocol-checking websocket clients."""

    @contextlib.contextmanager
    def connect(self, review_id: str | None = None, query: str = LIVE_QUERY, *, origin: str | None = None,
                compression: str | None = None) -> Iterator[Client]:
        """A websocket client (no Origin unless given, as non-browser clients do)."""
        with connect(self.ws_url(review_id, query), origin=Origin(origin) if origin is not None else None,
                     compression=compression, proxy=None, max_size=None, open_timeout=TIMEOUT_S,
                     ping_interval=None) as ws:
            yield Client(ws)


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Backloop]]:
    """``serve(repo_root, *args)``: a ``backloop server`` for this module's tests, stopped after the module."""
    with servers(Backloop, lambda: tmp_path_factory.mktemp("state")) as start:
        yield start


@dataclass(frozen=True)
class Closed:
    """The server closed the connection: its close code and reason."""

    code: int | None
    reason: str


class Client:
    """A websocket client that decodes every server frame as a protocol ``ServerMessage`` (a malformed frame fails
    the test) and keeps everything it received in ``seen``."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[Message] = []
        self._nonce = 0

    def is_open(self) -> bool:
        return self.ws.protocol.state is State.OPEN

    def send(self, data: str | bytes | Message, *, text: bool | None = None) -> None:
        with contextlib.suppress(ConnectionClosed):  # closed by the server meanwhile: receive() reports how
            self.ws.send(json.dumps(data) if isinstance(data, dict) else data, text=text)

    def receive(self, timeout: float = TIMEOUT_S) -> Message | Closed:
        try:
            frame = self.ws.recv(timeout=timeout)
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            return Closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "")
        assert isinstance(frame, str), f"the server sent a binary frame: {frame!r:.200}"
        _server_messages.decode(frame)  # raises if it is not a well-formed server message
        message: Message = json.loads(frame)
        self.seen.append(message)
        return message

    def until(self, pred: Callable[[Message], bool], timeout: float = TIMEOUT_S) -> Message:
        """Receive until a message satisfies ``pred``; fails on a close or after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching message within {timeout} s; got {self.seen[-10:]!r:.2000}")
            try:
                message = self.receive(left)
            except TimeoutError:
                continue
            if isinstance(message, Closed):
                raise AssertionError(f"the server closed the connection: {message}")
            if pred(message):
                return message

    def closed(self, timeout: float = TIMEOUT_S) -> Closed:
        """Receive until the server closes the connection."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.receive(max(0.0, deadline - time.monotonic()))
            if isinstance(message, Closed):
                return message

    def start(self) -> tuple[Message, Message]:
        """``hello`` and ``snapshot``."""
        hello = self.until(lambda m: True)
        assert hello["type"] == "hello", hello
        return hello, self.until(lambda m: m["type"] == "snapshot")

    def ping(self) -> None:
        """A round trip: the connection is up and the server is answering it."""
        self._nonce += 1
        nonce = f"ping-{self._nonce}"
        self.send({"type": "ping", "nonce": nonce})
        self.until(lambda m: m == {"type": "pong", "nonce": nonce})


def raw_http(port: int, request: bytes, timeout: float = TIMEOUT_S) -> bytes:
    """Send ``request`` as is on a new connection and return every byte of the answer (until the server closes,
    or until a complete response head when the request asked for a websocket upgrade)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            data += chunk
            if b"upgrade: websocket" in request.lower() and data.startswith(b"HTTP/1.1 101") and b"\r\n\r\n" in data:
                break
    return data


def without_date(response: bytes) -> bytes:
    """An HTTP response without its Date header (the one part that may differ between two identical answers)."""
    head, sep, body = response.partition(b"\r\n\r\n")
    lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"date:")]
    return b"\r\n".join(lines) + sep + body


def read_frame(buffer: bytes) -> tuple[int, bytes, bytes] | None:
    """The first complete server frame in ``buffer`` (unmasked, as servers send): opcode, payload, the rest."""
    if len(buffer) < 2:
        return None
    length, at = buffer[1] & 0x7F, 2
    if length == 126:
        if len(buffer) < 4:
            return None
        length, at = struct.unpack("!H", buffer[2:4])[0], 4
    elif length == 127:
        if len(buffer) < 10:
            return None
        length, at = struct.unpack("!Q", buffer[2:10])[0], 10
    if len(buffer) < at + length:
        return None
    return buffer[0] & 0x0F, buffer[at : at + length], buffer[at + length :]


def send_oversized_frame(server: Backloop, size: int) -> Closed:
    """Open the review's websocket on a raw socket, start one text frame of ``size`` bytes (its header) and wait
    for the server's answer. Only the header goes: the server must refuse the frame from its announced length,
    before any payload. (Sending on would race the refusal: a socket closed with unread data is reset, and the
    reset can drop the close frame.)"""
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT_S) as sock:
        sock.sendall(f"GET /review/{server.review_id}/ws?{LIVE_QUERY} HTTP/1.1\r\nHost: {server.host}\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n".encode())
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection during the handshake"
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        # FIN + text, a 64-bit length, masked (as a client must) with the zero key.
        sock.sendall(b"\x81\xff" + struct.pack("!Q", size) + b"\0\0\0\0")
        while True:  # frames the server sent before (hello, snapshot), then its close frame
            while (frame := read_frame(buffer)) is not None:
                opcode, data, buffer = frame
                if opcode == 8:
                    code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
                    return Closed(code, data[2:].decode("utf-8", "replace"))
            chunk = sock.recv(1 << 20)  # times out (failing the test) if the server waits for the payload
            if not chunk:
                return Closed(None, "the connection ended without a close frame")
            buffer += chunk
