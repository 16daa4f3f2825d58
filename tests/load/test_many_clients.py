"""25 websocket clients on one live review while branch switches rewrite 500 files: every client converges to
exactly the diff that a fresh connection's snapshot shows, and to what git gives (per-path digests, computed
independently with the same pipeline). A real ``backloop server`` process, clients over loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MakeRepo
from tests.real_server import Client, client, running_server
from tests.support import compute

pytestmark = pytest.mark.anyio
FILES = 500
CLIENTS = 25
CONVERGE_S = 60.0
"""Generous: 25 clients get 500 files and their highlighted versions, on a busy 2-core machine."""


def source(n: int, branch: str) -> str:
    lines = [f"def function_{n}(value: int) -> int:", f'    """Module {n}."""']
    for k in range(10):
        changed = branch != "main" and k % 3 == 0
        lines.append(f"    value = value * {k + 2} + {n if not changed else n * 1000 + k}  # step {k}")
    return "\n".join([*lines, "    return value", ""])


async def expected(root: Path, view: dict[str, str]) -> dict[str, str]:
    return {path: fd.digest for path, fd in (await compute(root, view)).items()}


def shows(c: Client, want: dict[str, str]) -> Callable[[], bool]:
    return lambda: c.files == want


async def test_clients_converge_through_500_file_branch_switches(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({f"src/pkg{n // 50}/module_{n}.py": source(n, "main") for n in range(FILES)})
    repo.git("checkout", "-q", "-b", "rewrite")
    for n in range(FILES):
        repo.write(f"src/pkg{n // 50}/module_{n}.py", source(n, "rewrite"))
    repo.commit("rewrite every file")
    repo.git("checkout", "-q", "main")
    repo.write("README.md", "an uncommitted file, carried across the switches\n")
    view = {"since": "main", "live": "true"}
    state = tmp_path / "state"
    async with running_server(repo.root, state, "--since", "main") as server, \
            contextlib.AsyncExitStack() as stack:
        clients: list[Client] = [await stack.enter_async_context(client(server.ws_url())) for _ in range(CLIENTS)]
        for branch, count in (("rewrite", FILES + 1), ("main", 1)):
            await asyncio.to_thread(repo.git, "checkout", "-q", branch)
            want = await expected(repo.root, view)
            assert len(want) == count
            await asyncio.gather(*(c.until(shows(c, want), f"client {i} converges after the switch to {branch}",
                                            CONVERGE_S) for i, c in enumerate(clients)))
            async with client(server.ws_url()) as fresh:
                assert fresh.files == want
            for i, c in enumerate(clients):
                assert c.notice[0] == "ok" and not c.closed, (i, c.notice)
        # One more change after the storm: every client gets it.
        repo.write("README.md", "changed once more\n")
        want = await expected(repo.root, view)
        await asyncio.gather(*(c.until(shows(c, want), "the last change") for c in clients))
