"""The ``backloop-mcp`` process: answers ``initialize``, ``tools/list`` and a first ``startreview`` at once, then
hands stdio to the MCP SDK.

Clients time a server's start by its answer to ``initialize``, then wait for its tools, and importing the SDK
takes about a second. So the SDK loads in a thread while the main thread reads the client's messages; a
well-formed ``initialize``, and after it any plain ``tools/list``, are answered from ``handshake`` (standard
library only) right away. The SDK then reads the same bytes, those requests included, and its own answers to them
are compared with the ones already sent and dropped: the client sees one answer each, the SDK's state is exactly
as if it had answered itself.

A startreview called while the SDK loads (the agent's usual first call) is answered too, by early.py over the
Runtime that the SDK's tools then use: the call's line is left out of what the SDK reads, so it runs once. The
SDK's import waits for that answer.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import io
import json
import logging
import os
import select
import stat
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, cast

from backloop.mcp.handshake import early_answer, is_initialized, response, startreview_call, tools_answer

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

log = logging.getLogger("backloop.mcp")

EARLY_MODULE = "backloop.mcp.early"
SERVER_MODULE = "backloop.mcp.stdio"


class _Loader(threading.Thread):
    """Imports what answers a first startreview (early.py), then the SDK and our tools, while the main thread
    waits for the client."""

    def __init__(self) -> None:
        super().__init__(name="backloop-mcp-import", daemon=True)
        self.error: BaseException | None = None
        self._go_on = threading.Event()
        self._go_on.set()

    def hold(self) -> None:
        """Hold the SDK's import back, if it has not begun, until ``resume``: the agent waits for the first
        startreview's answer, not for the SDK, and both are mostly Python under one interpreter lock."""
        self._go_on.clear()

    def resume(self) -> None:
        self._go_on.set()

    def run(self) -> None:
        try:
            importlib.import_module(EARLY_MODULE)
            self._go_on.wait()
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
    in a thread, leaving its flags alone. Also drops the SDK's answers to the requests already answered (by id),
    after checking each is the same answer."""

    def __init__(self, fd: int, answered: dict[int | str, bytes]) -> None:
        self._fd = fd
        self._pending = answered
        mode = os.fstat(fd).st_mode
        self._pipe = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)
        if self._pipe:
            os.set_blocking(fd, False)

    async def write(self, text: str) -> None:
        """One message: the SDK writes each as one line."""
        if self._pending and self._is_duplicate(text):
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
        try:
            message = json.loads(text)
        except ValueError:
            return False
        if not isinstance(message, dict) or "method" in message:
            return False
        request_id = message.get("id")
        if isinstance(request_id, bool) or not isinstance(request_id, int | str) or request_id not in self._pending:
            return False
        sent = self._pending.pop(request_id)
        if message != json.loads(sent):
            log.warning("an early answer differs from the SDK's: sent %s, the SDK's is %s", sent.decode().strip(),
                        text.strip())
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


Call = tuple[int | str, dict[str, str | None]]
"""A first startreview: its request id and arguments."""


def _answer_while_loading(fd: int, out: int, received: bytes, loader: _Loader,
                          answered: dict[int | str, bytes]) -> tuple[bytes, Call | None]:
    """Until the SDK has loaded: read on, and once the client has said ``notifications/initialized`` (before it,
    the SDK answers no request), answer each plain ``tools/list`` request at once; stop at a plain startreview
    call, which early.py answers, holding the SDK's import back meanwhile. Returns all that was read but that call
    (the SDK reads it again), and the call."""
    done = 1  # lines looked at (the first is initialize)
    initialized = False
    while True:
        lines = received.split(b"\n")
        for index in range(done, len(lines) - 1):
            initialized = initialized or is_initialized(lines[index])
            if not initialized:
                continue
            call = startreview_call(lines[index])
            if call is not None and call[0] not in answered:
                loader.hold()
                return b"\n".join(lines[:index] + lines[index + 1:]), call
            answer = tools_answer(lines[index])
            if answer is not None and answer[0] not in answered:
                _write_all(out, answer[1])
                answered[answer[0]] = answer[1]
        done = len(lines) - 1
        if not loader.is_alive():
            return received, None
        if select.select([fd], [], [], 0.01)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                return received, None  # the end of input: the SDK sees it too
            received += chunk


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
    answered: dict[int | str, bytes] = {}
    call = None
    answer = early_answer(received.split(b"\n", 1)[0])
    if answer is not None:
        _write_all(wire_out, answer[1])
        answered[answer[0]] = answer[1]
        received, call = _answer_while_loading(wire_in, wire_out, received, loader, answered)
    asyncio.run(_serve((wire_in, wire_out), received, answered, loader, call))
    return 0


async def _serve(wire: tuple[int, int], received: bytes, answered: dict[int | str, bytes], loader: _Loader,
                 call: Call | None) -> None:
    """Open the Runtime, answer the first startreview if it came while the SDK loads, then hand the wire to the
    SDK."""
    from anyio import AsyncFile, wrap_file

    from backloop.mcp import early

    cwd = Path.cwd()
    try:
        runtime = await early.open_runtime(early.settings_from_env(), cwd)
        try:
            if call is not None:
                result = await early.startreview(runtime, cwd, call[1])
                loader.resume()
                # On the client's pipe, where nothing else is waiting yet: the write does not block.
                _write_all(wire[1], response(call[0], result))
            await asyncio.to_thread(loader.join)
            if loader.error is not None:
                raise loader.error
            if runtime.port is not None:
                gc.freeze()  # the SDK's modules came after the web server's start froze the heap, and live as long

            from backloop.mcp.stdio import serve

            stdin = wrap_file(io.TextIOWrapper(io.BufferedReader(_Replayed(wire[0], received)), encoding="utf-8",
                                               errors="replace"))
            # The SDK only calls write() and flush() on it.
            stdout = cast("AsyncFile[str]", _WireOut(wire[1], answered))
            await serve(runtime, cwd, (stdin, stdout))
        finally:
            await runtime.close()
    finally:
        loader.resume()  # (whatever went wrong above)
