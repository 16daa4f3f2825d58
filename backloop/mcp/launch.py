"""The ``backloop-mcp`` process: answers ``initialize`` at once, then hands stdio to the MCP SDK.

Clients time a server's start by its answer to ``initialize``, and importing the SDK takes about a second. So the
SDK loads in a thread while the main thread reads the first message; a well-formed ``initialize`` is answered from
``handshake`` (standard library only) right away. The SDK then reads the same bytes, ``initialize`` included, and
its own answer to it is compared with the one already sent and dropped: the client sees one answer, the SDK's
state is exactly as if it had answered itself.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import json
import logging
import os
import stat
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, cast

from backloop.mcp.handshake import early_answer

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

log = logging.getLogger("backloop.mcp")

SERVER_MODULE = "backloop.mcp.server"


class _Loader(threading.Thread):
    """Imports the SDK and our tools while the main thread waits for the client."""

    def __init__(self) -> None:
        super().__init__(name="backloop-mcp-import", daemon=True)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            importlib.import_module(SERVER_MODULE)
        except BaseException as exc:  # re-raised in the main thread, where it belongs
            self.error = exc


class _Replayed(io.RawIOBase):
    """The wire's input: the bytes already read by the launcher, then the descriptor."""

    def __init__(self, fd: int, prefix: bytes) -> None:
        self._fd = fd
        self._prefix = prefix

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        buffer = memoryview(buffer).cast("B")
        if self._prefix:
            count = min(len(buffer), len(self._prefix))
            buffer[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
            return count
        data = os.read(self._fd, len(buffer))
        buffer[:len(data)] = data
        return len(data)


class _WireOut:
    """The wire's output, written from the event loop: no thread hop per message (the SDK's own stdout goes through
    a worker thread for every write, which costs milliseconds on a busy machine). A pipe is made non-blocking, so a
    client that reads slowly makes us wait without blocking the loop; anything else (a terminal, a file) is written
    in a thread, leaving its flags alone. Also drops the SDK's answer to the ``initialize`` already answered, after
    checking it is the same answer."""

    def __init__(self, fd: int, answered: tuple[int | str, bytes] | None) -> None:
        self._fd = fd
        self._pending = answered
        mode = os.fstat(fd).st_mode
        self._pipe = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)
        if self._pipe:
            os.set_blocking(fd, False)

    async def write(self, text: str) -> None:
        """One message: the SDK writes each as one line."""
        if self._pending is not None and self._is_duplicate(text):
            return
        data = memoryview(text.encode())
        if not self._pipe:
            await asyncio.to_thread(_write_all, self._fd, data)
            return
        while data:
            try:
                data = data[os.write(self._fd, data):]
            except BlockingIOError:
                await _writable(self._fd)

    async def flush(self) -> None:
        """Every write went to the descriptor already."""

    def _is_duplicate(self, text: str) -> bool:
        assert self._pending is not None
        request_id, sent = self._pending
        try:
            message = json.loads(text)
        except ValueError:
            return False
        if not isinstance(message, dict) or message.get("id") != request_id or "method" in message:
            return False
        self._pending = None
        if message != json.loads(sent):
            log.warning("the early answer to initialize differs from the SDK's: sent %s, the SDK's is %s",
                        sent.decode().strip(), text.strip())
        return True


async def _writable(fd: int) -> None:
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    loop.add_writer(fd, ready.set_result, None)
    try:
        await ready
    finally:
        loop.remove_writer(fd)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _claim_stdio() -> tuple[int, int]:
    """Private descriptors for the wire; fd 0 reads the null device and fd 1 goes to stderr, so that stray reads
    and prints (ours, a library's, a child's) never touch the protocol stream."""
    wire_in, wire_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return wire_in, wire_out


def _first_line(fd: int) -> bytes:
    """Everything read until the first newline (possibly more after it), or until the end of input."""
    data = b""
    while b"\n" not in data:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return data


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="backloop-mcp: %(levelname)s %(message)s")
    loader = _Loader()
    loader.start()
    wire_in, wire_out = _claim_stdio()
    try:
        received = _first_line(wire_in)
    except KeyboardInterrupt:
        return 130
    if not received:
        return 0  # the client left before saying anything
    answer = early_answer(received.split(b"\n", 1)[0])
    if answer is not None:
        _write_all(wire_out, answer[1])
    loader.join()
    if loader.error is not None:
        raise loader.error

    from anyio import AsyncFile, wrap_file

    from backloop.mcp.server import serve_stdio, settings_from_env

    stdin = wrap_file(io.TextIOWrapper(io.BufferedReader(_Replayed(wire_in, received)), encoding="utf-8",
                                       errors="replace"))
    # The SDK only calls write() and flush() on it.
    stdout = cast("AsyncFile[str]", _WireOut(wire_out, answer))
    asyncio.run(serve_stdio(settings_from_env(), Path.cwd(), (stdin, stdout)))
    return 0
