"""Helpers shared by the backend tests: real temp git repositories, the real diff pipeline, and the web app served
through Starlette's TestClient."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
from starlette.testclient import TestClient, WebSocketTestSession

from backloop.diff.model import FileDiff
from backloop.diff.parse import build_file, split_raw_patch
from backloop.diff.resolve import resolve
from backloop.diff.untracked import complete_patch
from backloop.diff.worktree import WorkTree
from backloop.git.repo import Repo
from backloop.hub import Hub
from backloop.review.session import Review, Reviews
from backloop.viewspec import ViewSpec, parse_view
from backloop.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
"""The checkout under test."""
GIT_IDENTITY = ("-c", "user.name=t", "-c", "user.email=t@t")
LIVE_QUERY = "since=HEAD&live=true"
"""The query of the default view: the changes since HEAD, live."""
Message = dict[str, Any]
"""A protocol message, decoded from JSON."""
FIRST_SCHEMA = """
CREATE TABLE reviews (id TEXT PRIMARY KEY, repo TEXT NOT NULL, view TEXT NOT NULL, title TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open', port INTEGER, created REAL NOT NULL);
CREATE TABLE entries (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    review_id TEXT NOT NULL REFERENCES reviews(id), kind TEXT NOT NULL, parent_id TEXT, author TEXT NOT NULL,
    path TEXT, side TEXT, line INTEGER, end_line INTEGER, quoted TEXT, body TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'open', outdated INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0);
CREATE INDEX entries_pending ON entries(review_id, delivered, author);
CREATE TABLE client_ops (review_id TEXT NOT NULL, client_id TEXT NOT NULL, result TEXT NOT NULL,
    PRIMARY KEY (review_id, client_id));
"""
"""The state database as the first release made it (tests of opening one with a later version)."""
TIMEOUT_S = 20.0
"""How long a test waits for a condition (generous: the machine may be busy; passing tests never wait it out)."""
APP_PORT = 47123
"""The port an app served through a TestClient believes it listens on: TestClient opens no socket, but the Host and
Origin checks compare with it."""


class GitRepo:
    """A real git repository in a temp directory, driven with the ``git`` command line."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def git(self, *args: str, env: Mapping[str, str] | None = None, check: bool = True) -> str:
        proc = subprocess.run(["git", *GIT_IDENTITY, *args], cwd=self.root, capture_output=True,
                              env=dict(env) if env is not None else None, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode("utf-8", "surrogateescape")

    def write(self, rel: str, data: str | bytes, *, executable: bool = False) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        path.write_bytes(data)
        if executable:
            path.chmod(0o755)
        return path

    def commit(self, message: str = "change", *, all_files: bool = True) -> str:
        """Stage everything (unless ``all_files`` is False) and commit; returns the new commit id."""
        if all_files:
            self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def rev(self, rev: str) -> str:
        return self.git("rev-parse", "--verify", f"{rev}^{{commit}}").strip()


def init_repo(root: Path, files: Mapping[str, str | bytes] | None = None) -> GitRepo:
    """A new git repository (branch ``main``) at ``root``; when ``files`` is given they are written and committed as
    its first commit."""
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    repo = GitRepo(root.resolve())
    if files:
        for rel, data in files.items():
            repo.write(rel, data)
        repo.commit("initial")
    return repo


def app_client(reviews: Reviews, hub: Hub, allow_hosts: tuple[str, ...] = (),
               agent_token: str | None = None) -> TestClient:
    """The web app of ``reviews`` through a TestClient, as if served at ``http://127.0.0.1:APP_PORT`` (with the
    agent API when given its ``agent_token``)."""
    return TestClient(create_app(reviews, hub, "127.0.0.1", APP_PORT, allow_hosts, agent_token),
                      base_url=f"http://127.0.0.1:{APP_PORT}")


def app_ws_url(review_id: str, query: str = LIVE_QUERY) -> str:
    """A review's websocket on the app of :func:`app_client` (absolute: a relative URL gets ``Host: testserver``)."""
    return f"ws://127.0.0.1:{APP_PORT}/review/{review_id}/ws?{query}"


def new_review(client: TestClient, reviews: Reviews, root: Path, view: Mapping[str, str] | None = None,
               title: str | None = None) -> Review:
    """A review of the repository at ``root`` (default: live, since HEAD), made in the event loop of ``client``'s
    app."""
    spec = parse_view(view or {"since": "HEAD", "live": "true"})

    async def create() -> Review:
        return await reviews.create(await Repo.open(root), spec, title)

    return client.portal.call(create)  # type: ignore[union-attr]


def git_env(global_config: Path | str = os.devnull) -> dict[str, str]:
    env = dict(os.environ)
    env.update(GIT_CONFIG_GLOBAL=str(global_config), GIT_CONFIG_NOSYSTEM="1")
    return env


async def compute(root: Path, spec: ViewSpec | Mapping[str, str], *, full: bool = False) -> dict[str, FileDiff]:
    """The FileDiffs of a view through the real pipeline: resolve → git diff → split → build; a live view's
    patches as the server gets them (backloop/diff/worktree.py: untracked files, paths removed from the index only)."""
    if not isinstance(spec, ViewSpec):
        spec = parse_view(spec)
    repo = await Repo.open(root)
    resolved = await resolve(repo, spec)
    if spec.live:
        patches = await WorkTree(repo, spec.context, spec.ws).all_patches(resolved)
    else:
        out = await repo.diff(resolved.base, resolved.target, context=spec.context, ignore_ws=spec.ws)
        patches = {fp.path: fp for fp in split_raw_patch(out)}
    if full:  # (of a big untracked file the view reads only the head until it is asked for all of it)
        patches = {path: complete_patch(repo.root, fp) for path, fp in patches.items()}
    return {path: build_file(fp, full=full) for path, fp in patches.items()}


def texts(fd: FileDiff, kind: str | None = None) -> list[str]:
    """The raw text of every line of ``fd`` (of one kind when given)."""
    return [ln.text for h in fd.hunks for ln in h.lines if kind is None or ln.kind == kind]


# ---- websockets ------------------------------------------------------------------------------------------------


def receive(ws: WebSocketTestSession, timeout: float = TIMEOUT_S) -> Message:
    """The next JSON message, or the close frame as ``{"type": "<close>", "code": ...}``; fails after ``timeout``."""

    async def _receive() -> Any:
        with anyio.fail_after(timeout):
            return await ws._send_rx.receive()

    message = ws.portal.call(_receive)
    if message["type"] == "websocket.close":
        return {"type": "<close>", "code": message.get("code", 1000), "reason": message.get("reason", "")}
    assert message["type"] == "websocket.send", message
    data: dict[str, Any] = json.loads(message["text"])
    return data


def receive_until(ws: WebSocketTestSession, pred: Callable[[dict[str, Any]], bool],
                  timeout: float = TIMEOUT_S) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Receive until a message satisfies ``pred``: that message and the ones before it. Fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    seen: list[dict[str, Any]] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no matching message within {timeout} s; got {[m.get('type') for m in seen]}")
        try:
            message = receive(ws, left)
        except TimeoutError:
            raise AssertionError(f"no matching message within {timeout} s; got {seen!r:.2000}") from None
        if pred(message):
            return message, seen
        if message["type"] == "<close>":
            raise AssertionError(f"socket closed while waiting: {message}")
        seen.append(message)


Until = Callable[[Callable[[], bool]], Awaitable[None]]


def waiter(listen: Callable[[Callable[..., None]], object]) -> Until:
    """``await until(condition)``, checked again each time ``listen``'s source announces a change (a
    ``Reviews.listen``, a ``DiffView.listen``…): event-driven, with TIMEOUT_S as the limit."""
    changed = asyncio.Event()
    listen(lambda *_: changed.set())

    async def until(condition: Callable[[], bool]) -> None:
        with anyio.fail_after(TIMEOUT_S):
            while not condition():
                changed.clear()
                await changed.wait()

    return until
