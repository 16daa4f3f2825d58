"""Running the web app: bind the loopback socket first (so the URL is known), then serve with uvicorn."""

from __future__ import annotations

import socket

import uvicorn
from starlette.applications import Starlette

MAX_CLIENT_FRAME = 4 * 1024 * 1024
"""Larger client frames are refused by the server with close code 1009."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one). Raises OSError with the reason when it fails."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


def make_server(app: Starlette) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_config=None,  # uvicorn's default config logs to stdout, which belongs to MCP in backloop-mcp
        log_level="warning",
        access_log=False,
        ws_max_size=MAX_CLIENT_FRAME,
        ws_ping_interval=20,
        ws_ping_timeout=20,
        timeout_graceful_shutdown=1,
        lifespan="on",
    )
    return uvicorn.Server(config)
