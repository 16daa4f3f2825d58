"""The MCP process before the SDK has loaded: its Runtime, with the reviews it had before a restart, and a first
``startreview`` answered exactly as the SDK answers it, so that the agent has its URL without waiting for the SDK's
import (about half a second of CPU). Imports no SDK module; tests/mcp/test_early.py pins every answer here to the
SDK's own.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from backloop.config import Settings, allow_hosts_from_env, default_state_dir
from backloop.git.process import GitError
from backloop.git.repo import Repo
from backloop.mcp import tools
from backloop.review.store import StoreError
from backloop.runtime import Runtime

log = logging.getLogger("backloop.mcp")


def settings_from_env() -> Settings:
    port = os.environ.get("BACKLOOP_PORT", "")
    return Settings(host=os.environ.get("BACKLOOP_HOST", "127.0.0.1"), port=int(port) if port.isdigit() else 0,
                    state_dir=default_state_dir(), allow_hosts=allow_hosts_from_env())


async def open_runtime(settings: Settings, cwd: Path) -> Runtime:
    """The process's Runtime, with the open reviews of ``cwd``'s repository back (and the web server for their
    pages); a signal closes it and ends the process."""
    runtime = Runtime(settings)
    stopping: set[asyncio.Task[None]] = set()

    async def stop_process() -> None:
        # Cancelling the stdio loop would wait forever on its blocked stdin reader: close our state, then leave.
        await runtime.close()
        os._exit(0)

    runtime.on_signal = lambda: stopping.add(asyncio.create_task(stop_process()))
    try:
        repo = await Repo.open(cwd)
        restored = await runtime.reviews.restore(repo.root)
        if any(r.state != "approved" for r in restored):
            await runtime.start_web()  # open pages of these reviews reconnect to it
    except GitError:
        pass  # not started inside a repository: startreview(repo=...) still works
    except StoreError as exc:
        # The state cannot be read (the state directory is unusable): keep serving, so that the agent gets this as
        # a tool error from startreview instead of a server that died at start.
        log.warning("%s", exc)
    except BaseException:
        await runtime.close()
        raise
    return runtime


async def startreview(runtime: Runtime, cwd: Path, arguments: dict[str, str | None]) -> dict[str, Any]:
    """The result of ``startreview(**arguments)`` as the SDK's tool server gives it (server.py's startreview);
    ``arguments`` as handshake.startreview_call passes them."""
    try:
        result = await tools.start_review(runtime, since=arguments.get("since"), commit=arguments.get("commit"),
                                          range=arguments.get("range"), title=arguments.get("title"),
                                          repo=arguments.get("repo"), default_repo=cwd)
    except tools.ToolFailure as exc:
        return _error(f"Error executing tool startreview: {exc}")
    except Exception:
        log.exception("startreview raised an unexpected exception")
        return _error("Error executing tool startreview")  # as the SDK: the text of a crash stays here
    return {"content": [{"type": "text", "text": tools.started_text(result)}], "isError": False,
            "structuredContent": result.model_dump(mode="json")}


def _error(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": True}
