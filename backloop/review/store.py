"""Durable state: reviews, comments, replies, edits and their delivery state, in SQLite (WAL).

Every write is committed before the caller acknowledges it to anyone. All access goes through one worker thread,
so the event loop never waits on the disk and the connection is never shared between threads.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from backloop.review.entry import AGENT_KINDS, Entry

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    id TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    view TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open',
    port INTEGER,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    review_id TEXT NOT NULL REFERENCES reviews(id),
    kind TEXT NOT NULL,            -- comment | reply | request_changes | edit | approve
    parent_id TEXT,                -- the thread of a reply
    author TEXT NOT NULL,          -- person | agent
    path TEXT,
    side TEXT,
    line INTEGER,
    end_line INTEGER,
    quoted TEXT,
    body TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'open',
    outdated INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS entries_pending ON entries(review_id, delivered, author);
CREATE TABLE IF NOT EXISTS client_ops (
    review_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (review_id, client_id)
);
"""

class ClientIdReused(Exception):
    """A client_id came again with another kind of message: a client bug, refused rather than guessed at."""

    def __init__(self, client_id: str, kind: str) -> None:
        super().__init__(f"client_id {client_id!r} was already used for a message of another kind ({kind}); "
                         "use a new client_id for each message")


class StoreError(Exception):
    """The state could not be read or written (read-only directory, disk full…); the message says why."""


@dataclass(frozen=True)
class ReviewRow:
    id: str
    repo: str
    view: str
    title: str
    state: str
    port: int | None
    created: float = 0.0
    """When it was started (seconds since the epoch); set by the store."""


_ENTRY_COLUMNS = ("seq, id, review_id, kind, parent_id, author, path, side, line, end_line, quoted, body, state, "
                  "outdated, created, delivered")


def _entry(row: tuple[Any, ...]) -> Entry:
    seq, entry_id, review_id, kind, parent_id, author, path, side, line, end_line, quoted, body, state, outdated, \
        created, delivered = row
    return Entry(seq=seq, id=entry_id, review_id=review_id, kind=kind, parent_id=parent_id, author=author, path=path,
                 side=side, line=line, end_line=end_line, quoted=json.loads(quoted) if quoted else [], body=body,
                 state=state, outdated=bool(outdated), created=created, delivered=bool(delivered))


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="backloop-store")
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                # Review ids are capabilities and comments quote private code: owner-only, whatever the umask.
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
                os.chmod(self.path, 0o600)  # SQLite gives its -wal and -shm files the database's mode
                db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("PRAGMA foreign_keys=ON")
                db.executescript(SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                raise StoreError(f"cannot open the state database {self.path}: {exc}") from None
            self._db = db
        return self._db

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            db = self._connect()
            try:
                return fn(db)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot write the review state to {self.path}: {exc}") from None
            finally:
                # Whatever went wrong (a full disk, a bug, ClientIdReused), no transaction outlives the call:
                # an open one would make every later write fail, or roll back acknowledged work.
                if db.in_transaction:
                    db.execute("ROLLBACK")

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    def close(self) -> None:
        def shut() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        self._executor.submit(shut).result()
        self._executor.shutdown(wait=True)

    # ---- reviews -----------------------------------------------------------------------------------------

    async def add_review(self, row: ReviewRow) -> None:
        await self._call(lambda db: db.execute(
            "INSERT INTO reviews (id, repo, view, title, state, port, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (row.id, row.repo, row.view, row.title, row.state, row.port, time.time())))

    async def reviews(self, repo: str | None = None) -> list[ReviewRow]:
        def q(db: sqlite3.Connection) -> list[ReviewRow]:
            sql = "SELECT id, repo, view, title, state, port, created FROM reviews"
            rows = db.execute(sql + " WHERE repo = ? ORDER BY created", (repo,)) if repo is not None else \
                db.execute(sql + " ORDER BY created")
            return [ReviewRow(*r) for r in rows]

        return await self._call(q)

    async def set_port(self, review_ids: list[str], port: int) -> None:
        await self._call(lambda db: db.executemany("UPDATE reviews SET port = ? WHERE id = ?",
                                                   [(port, rid) for rid in review_ids]))

    # ---- entries -----------------------------------------------------------------------------------------

    async def add_entry(self, entry: Entry, client_id: str | None = None, *, also: Sequence[Entry] = (),
                        review_state: str | None = None, resolves: str | None = None) -> Entry:
        """Insert ``entry``; with a ``client_id`` already seen, nothing is written and the first entry is returned.

        What one request changes is written in this one transaction, so that a failed write (a full disk) leaves
        none of it behind: the entries in ``also`` (an approval's note), the review's new state, the thread that
        ``resolves`` names (a reply that resolves it)."""

        def insert(db: sqlite3.Connection, e: Entry) -> int:
            cur = db.execute(
                "INSERT INTO entries (id, review_id, kind, parent_id, author, path, side, line, end_line, quoted, "
                "body, state, outdated, created, delivered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (e.id, e.review_id, e.kind, e.parent_id, e.author, e.path, e.side, e.line, e.end_line,
                 json.dumps(e.quoted) if e.quoted else None, e.body, e.state, int(e.outdated), e.created,
                 int(e.delivered)))
            return cur.lastrowid or 0

        def q(db: sqlite3.Connection) -> Entry:
            db.execute("BEGIN IMMEDIATE")
            if client_id is not None:
                seen = db.execute("SELECT result FROM client_ops WHERE review_id = ? AND client_id = ?",
                                  (entry.review_id, client_id)).fetchone()
                if seen is not None:
                    db.execute("COMMIT")
                    found = _entry(db.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE id = ?",
                                              (seen[0],)).fetchone())
                    if found.kind != entry.kind:
                        raise ClientIdReused(client_id, found.kind)
                    return found
                db.execute("INSERT INTO client_ops (review_id, client_id, result) VALUES (?, ?, ?)",
                           (entry.review_id, client_id, entry.id))
            seq = insert(db, entry)
            for extra in also:
                insert(db, extra)
            if review_state is not None:
                db.execute("UPDATE reviews SET state = ? WHERE id = ?", (review_state, entry.review_id))
            if resolves is not None:
                db.execute("UPDATE entries SET state = 'resolved' WHERE id = ?", (resolves,))
            db.execute("COMMIT")
            return replace(entry, seq=seq)

        return await self._call(q)

    async def seen_client_id(self, review_id: str, client_id: str, kind: str) -> str | None:
        """The id of the entry a ``client_id`` already created (of ``kind``: else ClientIdReused)."""

        def q(db: sqlite3.Connection) -> str | None:
            row = db.execute("SELECT e.id, e.kind FROM client_ops c JOIN entries e ON e.id = c.result "
                             "WHERE c.review_id = ? AND c.client_id = ?", (review_id, client_id)).fetchone()
            if row is not None and row[1] != kind:
                raise ClientIdReused(client_id, row[1])
            return None if row is None else str(row[0])

        return await self._call(q)

    async def entries(self, review_id: str) -> list[Entry]:
        return await self._call(lambda db: [_entry(r) for r in db.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE review_id = ? ORDER BY seq", (review_id,))])

    async def pending(self, review_id: str) -> list[Entry]:
        """The person's entries the agent has not received yet, oldest first."""
        marks = ",".join("?" * len(AGENT_KINDS))
        return await self._call(lambda db: [_entry(r) for r in db.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE review_id = ? AND delivered = 0 AND author = 'person' "
            f"AND kind IN ({marks}) ORDER BY seq", (review_id, *AGENT_KINDS))])

    async def review_of_entry(self, entry_id: str) -> str | None:
        """The id of the review ``entry_id`` belongs to (None if there is no such entry)."""

        def q(db: sqlite3.Connection) -> str | None:
            row = db.execute("SELECT review_id FROM entries WHERE id = ?", (entry_id,)).fetchone()
            return None if row is None else str(row[0])

        return await self._call(q)

    async def mark_delivered(self, ids: list[str], delivered: bool = True) -> None:
        await self._call(lambda db: db.executemany("UPDATE entries SET delivered = ? WHERE id = ?",
                                                   [(int(delivered), i) for i in ids]))

    async def update_entry(self, entry_id: str, **fields: Any) -> None:
        allowed = {"state", "outdated", "line", "end_line"}
        if not fields or set(fields) - allowed:
            raise ValueError(f"cannot update {sorted(set(fields) - allowed)}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        await self._call(lambda db: db.execute(f"UPDATE entries SET {sets} WHERE id = ?",
                                               (*fields.values(), entry_id)))
