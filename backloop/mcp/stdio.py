"""The MCP process: one Runtime, the reviews it had before a restart, and the tools served on stdio (or on the
launcher's streams) until the client closes them."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server

from backloop.config import Settings, allow_hosts_from_env, default_state_dir
from backloop.git.process import GitError
from backloop.git.repo import Repo
from backloop.mcp.server import build_server
from backloop.review.store import StoreError
from backloop.runtime import Runtime

log = logging.getLogger(__name__)

Wire = tuple[anyio.AsyncFile[str], anyio.AsyncFile[str]]


def settings_from_env() -> Settings:
    port = os.environ.get("BACKLOOP_PORT", "")
    return Settings(host=os.environ.get("BACKLOOP_HOST", "127.0.0.1"), port=int(port) if port.isdigit() else 0,
                    state_dir=default_state_dir(), allow_hosts=allow_hosts_from_env())


async def serve_stdio(settings: Settings, cwd: Path, wire: Wire | None = None) -> None:
    """Serve MCP on stdio (or on ``wire``, the launcher's streams) until the client closes it; the web server starts
    with the first review."""
    runtime = Runtime(settings)
    stopping: set[asyncio.Task[None]] = set()

    async def stop_process() -> None:
        # Cancelling the stdio loop would wait forever on its blocked stdin reader: close our state, then leave.
        await runtime.close()
        os._exit(0)

    runtime.on_signal = lambda: stopping.add(asyncio.create_task(stop_process()))
    try:
        try:
            repo = await Repo.open(cwd)
            restored = await runtime.reviews.restore(repo.root)
            if any(r.state != "approved" for r in restored):
                await runtime.start_web()  # open pages of these reviews reconnect to it
        except GitError:
            pass  # not started inside a repository: startreview(repo=...) still works
        except StoreError as exc:
            # The state cannot be read (the state directory is unusable): keep serving, so that the agent gets
            # this as a tool error from startreview instead of a server that died at start.
            log.warning("%s", exc)
        server = build_server(runtime, cwd)
        if wire is None:
            await server.run_stdio_async()
        else:
            await run_on(server, wire)
    finally:
        await runtime.close()


async def run_on(server: MCPServer, wire: Wire) -> None:
    """What ``run_stdio_async`` does, on given streams (the SDK then leaves the process's descriptors alone)."""
    async with stdio_server(*wire) as (read_stream, write_stream):
        lowlevel = server._lowlevel_server  # the SDK offers no public way to pass streams
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
