"""The state database's tables, and how a database made by an earlier version is brought up to date."""

from __future__ import annotations

import sqlite3

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
CREATE TABLE IF NOT EXISTS rounds (
    review_id TEXT NOT NULL REFERENCES reviews(id),
    number INTEGER NOT NULL,
    ended_at REAL NOT NULL,
    ended_by TEXT NOT NULL,        -- person | agent
    how TEXT NOT NULL,
    base TEXT NOT NULL DEFAULT '', -- the old side's commit then: the content of files that were not in the diff
    cause TEXT,                    -- the entry that ended it (a "request changes", an approval…), if any
    PRIMARY KEY (review_id, number)
);
CREATE TABLE IF NOT EXISTS round_files (
    review_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    path TEXT NOT NULL,
    blob TEXT,                     -- sha256 of its content at the end of the round (blobs/); NULL: no such file
    PRIMARY KEY (review_id, number, path),
    FOREIGN KEY (review_id, number) REFERENCES rounds(review_id, number)
);
CREATE TABLE IF NOT EXISTS client_ops (
    review_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (review_id, client_id)
);
CREATE TABLE IF NOT EXISTS viewed (
    review_id TEXT NOT NULL REFERENCES reviews(id),
    path TEXT NOT NULL,
    digest TEXT NOT NULL,          -- of the file's diff in the review's own view when it was marked viewed
    viewed INTEGER NOT NULL,
    changed INTEGER NOT NULL,      -- its diff changed since (so it is no longer viewed)
    PRIMARY KEY (review_id, path)
);
"""

ADDED_COLUMNS = (
    ("entries", "pending", "INTEGER NOT NULL DEFAULT 0"),  # a comment of a review not submitted yet
    ("client_ops", "kind", "TEXT"),  # what a client_id did when it created no entry (edit_comment, delete_comment)
    ("entries", "round", "INTEGER NOT NULL DEFAULT 1"),  # the review's round it was made in
    ("reviews", "agent_received", "INTEGER NOT NULL DEFAULT 0"),  # items handed to the agent since a round ended
)
"""Columns added since the first schema: a database made before gets them when it is opened (CREATE TABLE IF NOT
EXISTS leaves an existing table as it was)."""


def migrate(db: sqlite3.Connection) -> None:
    db.execute("BEGIN IMMEDIATE")  # (another process may open the same database at the same time)
    for table, column, declaration in ADDED_COLUMNS:
        if column not in {r[1] for r in db.execute(f"PRAGMA table_info({table})")}:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    db.execute("COMMIT")
