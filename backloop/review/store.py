"""Durable state: reviews, comments, replies, edits and their delivery state, and the rounds, in SQLite (WAL).

Every write is committed before the caller acknowledges it to anyone. All access goes through one worker thread,
so the event loop never waits on the disk and the connection is never shared between threads.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar

from backloop.review.entry import AGENT_KINDS, Entry
from backloop.review.tables import SCHEMA, migrate

T = TypeVar("T")

class ClientIdReused(Exception):
    """A client_id came again with another kind of message: a client bug, refused rather than guessed at."""

    def __init__(self, client_id: str, kind: str) -> None:
        super().__init__(f"client_id {client_id!r} was already used for a message of another kind ({kind}); "
                         "use a new client_id for each message")


class StoreError(Exception):
    """The state could not be read or written (read-only directory, disk full…); the message says why."""


class EntryDeleted(Exception):
    """A client_id came again for a pending comment that was deleted since."""

    def __init__(self, client_id: str) -> None:
        super().__init__(f"the comment of client_id {client_id!r} was deleted")


PendingChange = Literal["done", "not_pending", "unknown"]
"""What became of an edit or deletion of a pending comment: done (now or by the first message of its client_id),
refused because the comment is no longer pending (submitted), or no such comment in the review."""


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
    agent_received: bool = False
    """The agent received items since the last round ended: its next ``await_comments`` ends a round."""


@dataclass(frozen=True)
class RoundRow:
    number: int
    ended_at: float
    ended_by: str
    how: str
    base: str = ""
    cause: str | None = None
    """The entry that ended it (a resent "request changes" ends no second round)."""


_ENTRY_COLUMNS = ("seq, id, review_id, kind, parent_id, author, path, side, line, end_line, quoted, body, state, "
                  "outdated, created, delivered, pending, round")


def _entry(row: tuple[Any, ...]) -> Entry:
    seq, entry_id, review_id, kind, parent_id, author, path, side, line, end_line, quoted, body, state, outdated, \
        created, delivered, pending, round_number = row
    return Entry(seq=seq, id=entry_id, review_id=review_id, kind=kind, parent_id=parent_id, author=author, path=path,
                 side=side, line=line, end_line=end_line, quoted=json.loads(quoted) if quoted else [], body=body,
                 state=state, outdated=bool(outdated), created=created, delivered=bool(delivered),
                 pending=bool(pending), round=round_number)


def _insert(db: sqlite3.Connection, e: Entry) -> int:
    cur = db.execute(
        "INSERT INTO entries (id, review_id, kind, parent_id, author, path, side, line, end_line, quoted, body, "
        "state, outdated, created, delivered, pending, round) "
        f"VALUES ({', '.join('?' * 17)})",
        (e.id, e.review_id, e.kind, e.parent_id, e.author, e.path, e.side, e.line, e.end_line,
         json.dumps(e.quoted) if e.quoted else None, e.body, e.state, int(e.outdated), e.created, int(e.delivered),
         int(e.pending), e.round))
    return cur.lastrowid or 0


def _seen(db: sqlite3.Connection, review_id: str, client_id: str, kind: str) -> Entry | None:
    """The entry a ``client_id`` already created (None: it is new); ClientIdReused if it did something else."""
    seen = db.execute("SELECT result, kind FROM client_ops WHERE review_id = ? AND client_id = ?",
                      (review_id, client_id)).fetchone()
    if seen is None:
        return None
    if seen[1] is not None:  # an edit or deletion of a pending comment, which created no entry
        raise ClientIdReused(client_id, seen[1])
    row = db.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE id = ?", (seen[0],)).fetchone()
    if row is None:
        raise EntryDeleted(client_id)
    found = _entry(row)
    if found.kind != kind:
        raise ClientIdReused(client_id, found.kind)
    return found


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
                migrate(db)
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
            sql = "SELECT id, repo, view, title, state, port, created, agent_received FROM reviews"
            rows = db.execute(sql + " WHERE repo = ? ORDER BY created", (repo,)) if repo is not None else \
                db.execute(sql + " ORDER BY created")
            return [ReviewRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])) for r in rows]

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

        def q(db: sqlite3.Connection) -> Entry:
            db.execute("BEGIN IMMEDIATE")
            if client_id is not None:
                found = _seen(db, entry.review_id, client_id, entry.kind)
                if found is not None:
                    return found
                db.execute("INSERT INTO client_ops (review_id, client_id, result) VALUES (?, ?, ?)",
                           (entry.review_id, client_id, entry.id))
            seq = _insert(db, entry)
            for extra in also:
                _insert(db, extra)
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
            found = _seen(db, review_id, client_id, kind)
            return None if found is None else found.id

        return await self._call(q)

    async def entries(self, review_id: str) -> list[Entry]:
        return await self._call(lambda db: [_entry(r) for r in db.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE review_id = ? ORDER BY seq", (review_id,))])

    async def pending(self, review_id: str) -> list[Entry]:
        """The person's entries the agent has not received yet, oldest first (not the comments of a review they
        have not submitted)."""
        marks = ",".join("?" * len(AGENT_KINDS))
        return await self._call(lambda db: [_entry(r) for r in db.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE review_id = ? AND delivered = 0 AND author = 'person' "
            f"AND pending = 0 AND kind IN ({marks}) ORDER BY seq", (review_id, *AGENT_KINDS))])

    async def review_of_entry(self, entry_id: str) -> str | None:
        """The id of the review ``entry_id`` belongs to (None if there is no such entry)."""

        def q(db: sqlite3.Connection) -> str | None:
            row = db.execute("SELECT review_id FROM entries WHERE id = ?", (entry_id,)).fetchone()
            return None if row is None else str(row[0])

        return await self._call(q)

    async def mark_delivered(self, ids: list[str], delivered: bool = True) -> None:
        """Mark entries (un)delivered; a delivery also notes that their review's agent received items."""

        def q(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("UPDATE entries SET delivered = ? WHERE id = ?", [(int(delivered), i) for i in ids])
            if delivered and ids:
                db.execute(f"UPDATE reviews SET agent_received = 1 WHERE id IN (SELECT review_id FROM entries "
                           f"WHERE id IN ({','.join('?' * len(ids))}))", ids)
            db.execute("COMMIT")

        await self._call(q)

    async def update_entry(self, entry_id: str, **fields: Any) -> None:
        allowed = {"state", "outdated", "line", "end_line"}
        if not fields or set(fields) - allowed:
            raise ValueError(f"cannot update {sorted(set(fields) - allowed)}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        await self._call(lambda db: db.execute(f"UPDATE entries SET {sets} WHERE id = ?",
                                               (*fields.values(), entry_id)))

    # ---- rounds ------------------------------------------------------------------------------------------

    async def add_round(self, review_id: str, row: RoundRow, files: Mapping[str, str | None]) -> None:
        """Record the end of a round with the content (blob name, or None: absent) of every file of the diff, in one
        transaction; the agent has received nothing in the next round yet."""

        def q(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO rounds (review_id, number, ended_at, ended_by, how, base, cause) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (review_id, row.number, row.ended_at, row.ended_by, row.how, row.base, row.cause))
            db.executemany("INSERT INTO round_files (review_id, number, path, blob) VALUES (?, ?, ?, ?)",
                           [(review_id, row.number, path, blob) for path, blob in files.items()])
            db.execute("UPDATE reviews SET agent_received = 0 WHERE id = ?", (review_id,))
            db.execute("COMMIT")

        await self._call(q)

    async def rounds(self, review_id: str) -> list[RoundRow]:
        return await self._call(lambda db: [RoundRow(*r) for r in db.execute(
            "SELECT number, ended_at, ended_by, how, base, cause FROM rounds WHERE review_id = ? ORDER BY number",
            (review_id,))])

    async def round_files(self, review_id: str, number: int) -> dict[str, str | None]:
        return await self._call(lambda db: dict(db.execute(
            "SELECT path, blob FROM round_files WHERE review_id = ? AND number = ?", (review_id, number))))

    # ---- pending reviews ---------------------------------------------------------------------------------

    async def change_pending(self, review_id: str, client_id: str, comment_id: str, body: str | None) -> PendingChange:
        """Set the body of a pending comment, or delete it (``body`` None); the ``client_id`` is recorded with the
        change, so that a resent message is done once."""
        op = "delete_comment" if body is None else "edit_comment"

        def q(db: sqlite3.Connection) -> PendingChange:
            db.execute("BEGIN IMMEDIATE")
            seen = db.execute("SELECT result, kind FROM client_ops WHERE review_id = ? AND client_id = ?",
                              (review_id, client_id)).fetchone()
            if seen is not None:
                if seen[1] != op:
                    raise ClientIdReused(client_id, seen[1] or "comment")
                return "done"
            row = db.execute("SELECT pending FROM entries WHERE id = ? AND review_id = ? AND kind = 'comment'",
                             (comment_id, review_id)).fetchone()
            if row is None:
                return "unknown"
            if not row[0]:
                return "not_pending"
            if body is None:
                db.execute("DELETE FROM entries WHERE id = ?", (comment_id,))
            else:
                db.execute("UPDATE entries SET body = ? WHERE id = ?", (body, comment_id))
            db.execute("INSERT INTO client_ops (review_id, client_id, result, kind) VALUES (?, ?, ?, ?)",
                       (review_id, client_id, comment_id, op))
            db.execute("COMMIT")
            return "done"

        return await self._call(q)

    async def submit(self, marker: Entry, client_id: str, *, also: Sequence[Entry] = (),
                     review_state: str | None = None) -> tuple[Entry, list[Entry] | None]:
        """Submit the pending review: in one transaction every pending comment becomes an ordinary one, and
        ``marker`` (the submission), the entries in ``also`` (its summary) and the review's new state are written.
        Returns the marker and what the submission gives the agent: the comments it released, oldest first, then
        ``also`` as stored. A resent ``client_id`` changes nothing and returns the first marker and None."""

        def q(db: sqlite3.Connection) -> tuple[Entry, list[Entry] | None]:
            db.execute("BEGIN IMMEDIATE")
            found = _seen(db, marker.review_id, client_id, marker.kind)
            if found is not None:
                return found, None
            db.execute("INSERT INTO client_ops (review_id, client_id, result) VALUES (?, ?, ?)",
                       (marker.review_id, client_id, marker.id))
            released = [replace(_entry(r), pending=False) for r in db.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE review_id = ? AND pending = 1 ORDER BY seq",
                (marker.review_id,)).fetchall()]
            db.execute("UPDATE entries SET pending = 0 WHERE review_id = ? AND pending = 1", (marker.review_id,))
            seq = _insert(db, marker)
            released += [replace(extra, seq=_insert(db, extra)) for extra in also]
            if review_state is not None:
                db.execute("UPDATE reviews SET state = ? WHERE id = ?", (review_state, marker.review_id))
            db.execute("COMMIT")
            return replace(marker, seq=seq), released

        return await self._call(q)

    # ---- viewed files ------------------------------------------------------------------------------------

    async def viewed(self, review_id: str) -> list[tuple[str, str, bool, bool]]:
        """(path, digest, viewed, changed) of every file of the review marked viewed or changed since."""
        return await self._call(lambda db: [(p, d, bool(v), bool(c)) for p, d, v, c in db.execute(
            "SELECT path, digest, viewed, changed FROM viewed WHERE review_id = ? ORDER BY path", (review_id,))])

    async def set_viewed(self, review_id: str, marks: Sequence[tuple[str, str, bool, bool]]) -> None:
        """Write (path, digest, viewed, changed) marks; a file neither viewed nor changed is forgotten."""

        def q(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            for path, digest, viewed, changed in marks:
                if viewed or changed:
                    db.execute("INSERT OR REPLACE INTO viewed (review_id, path, digest, viewed, changed) "
                               "VALUES (?, ?, ?, ?, ?)", (review_id, path, digest, int(viewed), int(changed)))
                else:
                    db.execute("DELETE FROM viewed WHERE review_id = ? AND path = ?", (review_id, path))
            db.execute("COMMIT")

        await self._call(q)
