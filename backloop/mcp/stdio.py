"""The MCP SDK's part of the process: the tools served on the launcher's streams, over the Runtime the launcher
opened (early.py), until the client closes them."""

from __future__ import annotations

from pathlib import Path

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server

from backloop.mcp.server import build_server
from backloop.runtime import Runtime

Wire = tuple[anyio.AsyncFile[str], anyio.AsyncFile[str]]


async def serve(runtime: Runtime, cwd: Path, wire: Wire) -> None:
    """Serve MCP on ``wire`` until the client closes it; the web server starts with the first review."""
    await run_on(build_server(runtime, cwd), wire)


async def run_on(server: MCPServer, wire: Wire) -> None:
    """What ``run_stdio_async`` does, on given streams (the SDK then leaves the process's descriptors alone)."""
    async with stdio_server(*wire) as (read_stream, write_stream):
        lowlevel = server._lowlevel_server  # the SDK offers no public way to pass streams
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
