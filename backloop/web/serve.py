"""Running the web app: bind the loopback socket first (so the URL is known), then serve with uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
from collections.abc import Callable, Iterator

import uvicorn
from starlette.applications import Starlette

MAX_CLIENT_FRAME = 4 * 1024 * 1024
"""Larger client frames are refused by the server with close code 1009."""


def _reason(exc: OSError) -> str:
    """What a person can act on, for the errors a mistyped --host or --port gives."""
    if isinstance(exc, socket.gaierror):
        return f"not a known host name or address ({exc.strerror})"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "not an address of this machine"
    if exc.errno == errno.EADDRINUSE:
        return "the port is in use"
    return exc.strerror or str(exc)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one). Raises OSError with the reason as its strerror when
    it fails."""
    if not 0 <= port <= 65535:
        raise OSError(errno.EINVAL, f"{port} is not a port number (0-65535)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on accepted sockets whose proto says TCP. Without it,
    # Nagle holds back each response's second write until the client's delayed ACK (~40 ms per request on a
    # kept-alive connection, and per websocket frame sent while one is unacknowledged).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, _reason(exc)) from None
    except (ValueError, TypeError):  # what the socket module raises for a host it cannot encode (NUL, bad IDNA)
        sock.close()
        raise OSError(errno.EINVAL, "not a valid host name or address") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


class Server(uvicorn.Server):
    """uvicorn's server, but a signal only asks it to stop: uvicorn would re-raise the signal once serving ends,
    killing the process before our own shutdown (store, watchers) is done. ``on_signal`` hears about it too."""

    on_signal: Callable[[], None] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        handled: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)
        try:
            for sig in handled:
                loop.add_signal_handler(sig, self._stop_on_signal)
        except (NotImplementedError, RuntimeError):  # not the main thread: whoever runs us handles signals
            handled = ()
        try:
            yield
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)

    def _stop_on_signal(self) -> None:
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True
        if self.on_signal is not None:
            self.on_signal()


def make_server(app: Starlette) -> Server:
    config = uvicorn.Config(
        app,
        log_config=None,  # uvicorn's default config logs to stdout, which belongs to MCP in backloop-mcp
        log_level="warning",
        access_log=False,
        ws_max_size=MAX_CLIENT_FRAME,
        ws_per_message_deflate=False,  # loopback: compressing a 40 MB snapshot costs more than sending it
        ws_ping_interval=20,
        ws_ping_timeout=20,
        timeout_graceful_shutdown=1,
        lifespan="on",
    )
    return Server(config)
