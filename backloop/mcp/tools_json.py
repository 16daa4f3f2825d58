"""Generate ``backloop/mcp/tools.json``, the SDK's own ``tools/list`` result for our tools, which the launcher
answers with while the SDK still loads: ``python -m backloop.mcp.tools_json [--check]``."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, cast

import anyio
from anyio import AsyncFile

from backloop.config import Settings
from backloop.generated import write_or_check
from backloop.mcp.handshake import TOOLS_FILE
from backloop.mcp.server import build_server
from backloop.mcp.stdio import run_on
from backloop.runtime import Runtime


class _Answers:
    """The SDK's output: its lines, and an event once ``expected`` of them have come."""

    def __init__(self, expected: int) -> None:
        self.lines: list[str] = []
        self.expected = expected
        self.complete = anyio.Event()

    async def write(self, text: str) -> None:
        self.lines += text.splitlines()
        if len(self.lines) >= self.expected:
            self.complete.set()

    async def flush(self) -> None:
        pass


def sdk_answers(*messages: dict[str, Any]) -> list[dict[str, Any]]:
    """What the SDK answers to ``messages`` (one answer per message with an id), through the code path the launcher
    hands the wire to. Its input stays open until the answers are in: at the end of input the SDK stops, and a
    request still being handled then goes unanswered."""
    answers = _Answers(sum(1 for message in messages if "id" in message))
    read_end, write_end = os.pipe()

    async def run(state: Path) -> None:
        runtime = Runtime(Settings(state_dir=state))
        stdin = anyio.wrap_file(os.fdopen(read_end, encoding="utf-8"))
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(run_on, build_server(runtime, state), (stdin, cast("AsyncFile[str]", answers)))
                try:
                    os.write(write_end, "".join(json.dumps(message) + "\n" for message in messages).encode())
                    with anyio.fail_after(60):
                        await answers.complete.wait()
                finally:
                    os.close(write_end)  # the end of input: the SDK stops
        finally:
            await stdin.aclose()
            await runtime.close()

    with tempfile.TemporaryDirectory(prefix="backloop-tools-") as state:
        anyio.run(run, Path(state))
    return [json.loads(line) for line in answers.lines]


def tools_result() -> dict[str, Any]:
    """The SDK's ``tools/list`` result after a plain handshake."""
    client = {"name": "t", "version": "1"}
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client}}
    answers = sdk_answers(init, {"jsonrpc": "2.0", "method": "notifications/initialized"},
                          {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    (listed,) = [answer for answer in answers if answer.get("id") == 2]
    result: dict[str, Any] = listed["result"]
    return result


def render() -> str:
    return json.dumps(tools_result(), indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    return write_or_check(TOOLS_FILE, render(), "python -m backloop.mcp.tools_json", argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
