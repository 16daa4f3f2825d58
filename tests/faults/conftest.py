"""Fault-suite fixtures: the real web app (TestClient websockets) over a real Runtime, so that the person's side
(websocket) and the agent's side (``backloop.mcp.tools``) act on the same reviews, store and broker."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from starlette.testclient import TestClient, WebSocketTestSession

from backloop.config import Settings
from backloop.review.session import Review, ReviewEvent
from backloop.review.store import Store
from backloop.runtime import Runtime
from tests.conftest import MakeRepo
from tests.support import (
    APP_PORT,
    LIVE_QUERY,
    TIMEOUT_S,
    GitRepo,
    Message,
    app_client,
    app_ws_url,
    new_review,
    receive,
    receive_until,
)

T = TypeVar("T")

DISK_FULL = "database or disk is full"
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.I)


class FailingDb:
    """Stands in for the store's sqlite3 connection and fails writes the way a full disk does.

    ``mode`` is None (healthy), ``"write"`` (every INSERT/UPDATE/DELETE fails: nothing reaches the database),
    ``"commit"`` (statements run, but COMMIT and autocommit writes fail: whatever a transaction did must be rolled
    back) or ``"later"`` (the first commit succeeds, every later one fails: the disk fills up in the middle of a
    request that writes more than once). Reads always work, as they do on a full disk."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.mode: str | None = None
        self.failures = 0
        self.commits = 0
        self.before: Callable[[str], None] | None = None
        """Called in the store's thread before each statement (to hold a write halfway)."""

    @property
    def in_transaction(self) -> bool:
        return self.db.in_transaction

    def _check(self, sql: str) -> None:
        if self.before is not None:
            self.before(sql)
        write = bool(_WRITE.match(sql))
        commit = sql.strip().upper() == "COMMIT" or (write and not self.db.in_transaction)
        fail = (self.mode == "write" and write) or (self.mode == "commit" and commit) or (
            self.mode == "later" and commit and self.commits > 0)
        if fail:
            self.failures += 1
            raise sqlite3.OperationalError(DISK_FULL)
        if commit and self.mode is not None:
            self.commits += 1

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        self._check(sql)
        return self.db.execute(sql, params)

    def executemany(self, sql: str, params: Any) -> sqlite3.Cursor:
        self._check(sql)
        return self.db.executemany(sql, params)

    def executescript(self, sql: str) -> sqlite3.Cursor:
        return self.db.executescript(sql)

    def close(self) -> None:
        self.db.close()


def failing_db(monkeypatch: pytest.MonkeyPatch, store: Store) -> FailingDb:
    """Put a FailingDb in front of ``store``'s (already open) connection."""
    real = store._connect()
    proxy = FailingDb(real)
    monkeypatch.setattr(store, "_db", proxy)
    return proxy


def rows(store: Store, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the store's database directly, through a connection of our own (what a restart would see)."""
    db = sqlite3.connect(store.path)
    try:
        return list(db.execute(sql, params))
    finally:
        db.close()


@dataclass
class Env:
    """A live review of ``repo`` (``app.py`` changed, ``notes.txt`` clean) served through a TestClient."""

    client: TestClient
    runtime: Runtime
    review: Review
    repo: GitRepo

    @property
    def store(self) -> Store:
        return self.runtime.store

    def connect(self, query: str = LIVE_QUERY) -> WebSocketTestSession:
        return self.client.websocket_connect(app_ws_url(self.review.id, query))

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run an async callable in the app's event loop (the one the websockets are served from)."""
        return self.client.portal.call(fn)  # type: ignore[union-attr]


@pytest.fixture
def env(make_repo: MakeRepo, tmp_path: Path) -> Iterator[Env]:
    repo = make_repo({"app.py": "a = 1\nb = 2\nc = 3\n", "notes.txt": "keep\n"})
    repo.write("app.py", "a = 1\nb = 20\nc = 3\n")
    runtime = Runtime(Settings(state_dir=tmp_path / "state"))
    runtime.port = APP_PORT  # the agent's tools must not start a real server: the TestClient serves the app
    try:
        with app_client(runtime.reviews, runtime.hub) as client:
            yield Env(client, runtime, new_review(client, runtime.reviews, repo.root), repo)
            client.portal.call(runtime.reviews.broker.flush)  # type: ignore[union-attr]
    finally:
        with contextlib.suppress(Exception):
            runtime.store.close()


def start(ws: WebSocketTestSession) -> Message:
    """hello, then the snapshot (skipping a notice between them); returns the snapshot."""
    hello = receive(ws)
    assert hello["type"] == "hello", hello
    snapshot, _ = receive_until(ws, lambda m: m["type"] == "snapshot")
    return snapshot


def answer(ws: WebSocketTestSession, client_id: str) -> Message:
    """The ack or error for ``client_id``."""
    message, _ = receive_until(ws, lambda m: m.get("client_id") == client_id and m["type"] in ("ack", "error"))
    return message


def ping(ws: WebSocketTestSession, nonce: str = "n") -> None:
    ws.send_json({"type": "ping", "nonce": nonce})
    receive_until(ws, lambda m: m["type"] == "pong" and m["nonce"] == nonce)


def until(env: Env, done: Callable[[], bool], what: str) -> None:
    """Wait (event-driven: woken by every change the reviews announce) until ``done()`` holds in the app's loop."""

    async def wait() -> None:
        changed = anyio.Event()

        def check(_event: ReviewEvent | None = None) -> None:
            if done():
                changed.set()

        env.runtime.reviews.listen(check)
        try:
            check()
            with anyio.fail_after(TIMEOUT_S):
                await changed.wait()
        except TimeoutError:
            raise AssertionError(f"not within {TIMEOUT_S} s: {what}") from None
        finally:
            env.runtime.reviews._listeners.remove(check)

    env.call(wait)
