"""Metadata of the embedded server in SQLite: the schema, connections and transactions.

Several server processes may share one root (each Dagster step process can start its own
embedded server), so every write runs in a ``BEGIN IMMEDIATE`` transaction with a busy
timeout (or none, from an event loop, which then leaves the write to a worker thread), and
the database is in WAL mode so readers never block writers.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY, entity_id INTEGER NOT NULL REFERENCES entities(id),
    name TEXT NOT NULL, description TEXT, created_at TEXT NOT NULL,
    UNIQUE (entity_id, name));
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL, display_name TEXT, description TEXT, notes TEXT, group_name TEXT,
    job_type TEXT, state TEXT NOT NULL DEFAULT 'running', config TEXT, summary TEXT,
    tags TEXT NOT NULL DEFAULT '[]', sweep_name TEXT, exit_code INTEGER,
    created_at TEXT NOT NULL, heartbeat_at TEXT,
    UNIQUE (project_id, name));
CREATE TABLE IF NOT EXISTS artifact_types (
    id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL, description TEXT, created_at TEXT NOT NULL,
    UNIQUE (project_id, name));
CREATE TABLE IF NOT EXISTS collections (
    id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id),
    type_id INTEGER NOT NULL REFERENCES artifact_types(id), name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('SEQUENCE', 'PORTFOLIO')), description TEXT,
    state TEXT NOT NULL DEFAULT 'READY', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (project_id, name));
CREATE TABLE IF NOT EXISTS artifacts (
    id INTEGER PRIMARY KEY, sequence_id INTEGER NOT NULL REFERENCES collections(id),
    type_id INTEGER NOT NULL REFERENCES artifact_types(id),
    digest TEXT NOT NULL, digest_algorithm TEXT NOT NULL, state TEXT NOT NULL,
    description TEXT, metadata TEXT, ttl_seconds INTEGER, history_step INTEGER,
    size INTEGER NOT NULL DEFAULT 0, file_count INTEGER NOT NULL DEFAULT 0,
    client_id TEXT, pending_aliases TEXT NOT NULL DEFAULT '[]',
    created_by_run_id INTEGER REFERENCES runs(id),
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS artifacts_by_client_id ON artifacts (client_id);
CREATE INDEX IF NOT EXISTS artifacts_by_run ON artifacts (created_by_run_id);
CREATE TABLE IF NOT EXISTS memberships (
    id INTEGER PRIMARY KEY, collection_id INTEGER NOT NULL REFERENCES collections(id),
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id), version_index INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (collection_id, version_index), UNIQUE (collection_id, artifact_id));
CREATE INDEX IF NOT EXISTS memberships_by_artifact ON memberships (artifact_id);
CREATE TABLE IF NOT EXISTS aliases (
    id INTEGER PRIMARY KEY, collection_id INTEGER NOT NULL REFERENCES collections(id),
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id), alias TEXT NOT NULL,
    UNIQUE (collection_id, alias));
CREATE INDEX IF NOT EXISTS aliases_by_artifact ON aliases (artifact_id);
CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS artifact_tags (
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
    tag_id INTEGER NOT NULL REFERENCES tags(id), PRIMARY KEY (artifact_id, tag_id));
CREATE TABLE IF NOT EXISTS collection_tags (
    collection_id INTEGER NOT NULL REFERENCES collections(id),
    tag_id INTEGER NOT NULL REFERENCES tags(id), PRIMARY KEY (collection_id, tag_id));
CREATE TABLE IF NOT EXISTS manifests (
    id INTEGER PRIMARY KEY, artifact_id INTEGER NOT NULL UNIQUE REFERENCES artifacts(id),
    name TEXT NOT NULL, digest TEXT NOT NULL, type TEXT NOT NULL, base_artifact_id INTEGER,
    uploaded INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS manifest_patches (
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id), digest TEXT NOT NULL,
    upload_order INTEGER, created_at TEXT NOT NULL, PRIMARY KEY (artifact_id, digest));
CREATE TABLE IF NOT EXISTS project_user_members (
    project_id INTEGER NOT NULL REFERENCES projects(id), user_id INTEGER NOT NULL,
    role TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (project_id, user_id));
CREATE TABLE IF NOT EXISTS project_team_members (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    entity_id INTEGER NOT NULL REFERENCES entities(id), role TEXT NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (project_id, entity_id));
CREATE TABLE IF NOT EXISTS user_default_entities (
    user_id INTEGER PRIMARY KEY, entity_id INTEGER NOT NULL REFERENCES entities(id));
CREATE TABLE IF NOT EXISTS blobs (
    md5 TEXT PRIMARY KEY, size INTEGER NOT NULL, birth_artifact_id INTEGER,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS artifact_files (
    id INTEGER PRIMARY KEY, artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
    name TEXT NOT NULL, md5 TEXT, size INTEGER, ref TEXT, birth_artifact_id INTEGER,
    UNIQUE (artifact_id, name));
CREATE INDEX IF NOT EXISTS artifact_files_by_artifact ON artifact_files (artifact_id, id);
CREATE TABLE IF NOT EXISTS artifact_uses (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id), used_as TEXT,
    created_at TEXT NOT NULL, UNIQUE (run_id, artifact_id));
CREATE INDEX IF NOT EXISTS artifact_uses_by_artifact ON artifact_uses (artifact_id);
CREATE TABLE IF NOT EXISTS artifact_outputs (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id), UNIQUE (run_id, artifact_id));
CREATE TABLE IF NOT EXISTS run_files (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), name TEXT NOT NULL,
    size INTEGER, UNIQUE (run_id, name));
CREATE TABLE IF NOT EXISTS object_grants (
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id), md5 TEXT NOT NULL,
    PRIMARY KEY (artifact_id, md5));
CREATE TABLE IF NOT EXISTS multipart_uploads (
    id TEXT PRIMARY KEY, md5 TEXT NOT NULL, artifact_id INTEGER NOT NULL,
    parts TEXT NOT NULL, created_at TEXT NOT NULL);
"""

#: Columns added after the first release: ``(table, column, declaration)``, added to an
#: existing database when missing. ``access`` is W&B's project access (a registry's
#: visibility); ``allow_all_types`` 0 restricts a registry to the types it has;
#: ``distributed_id`` names the pending version that several writers build together.
_ADDED_COLUMNS = (
    ("projects", "access", "TEXT"),
    ("projects", "allow_all_types", "INTEGER NOT NULL DEFAULT 1"),
    ("projects", "updated_at", "TEXT"),
    ("artifacts", "distributed_id", "TEXT"),
)

#: The name of a version's whole manifest.
MANIFEST_NAME = "wandb_manifest.json"

#: Aliases the server manages itself: ``latest`` and ``v<N>``.
LATEST = "latest"


class StoreError(Exception):
    """A request the data does not allow; the message is shown to the client."""


class NotFound(StoreError):
    """The named object does not exist."""


TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def now() -> str:
    return datetime.now(timezone.utc).strftime(TIMESTAMP_FORMAT)


def is_version_alias(alias: str) -> bool:
    return alias[:1] == "v" and alias[1:].isdigit()


def update_row(db: sqlite3.Connection, table: str, row_id: int, columns: dict[str, Any]) -> None:
    assignments = ", ".join(f"{column} = ?" for column in columns)
    db.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", (*columns.values(), row_id))


# SQLite's message for SQLITE_BUSY (sqlite3 names the code only from Python 3.11).
BUSY_MESSAGE = "database is locked"


def _private_files(database: Path) -> None:
    """Create the database readable by its owner only (SQLite gives its WAL and shared-memory
    files the database's mode), and close up one an older version left open."""
    os.close(os.open(database, os.O_RDWR | os.O_CREAT, 0o600))
    for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except FileNotFoundError:
            pass


def insert_blobs(
    db: sqlite3.Connection,
    blobs: Sequence[tuple[str, int]],
    grants: Sequence[tuple[int, str]] = (),
) -> None:
    """Record stored objects as (md5 hex, size), and ``grants`` as (version id, md5 hex): the
    versions whose writers uploaded them."""
    created_at = now()
    db.executemany(
        "INSERT INTO blobs (md5, size, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [(md5_hex, size, created_at) for md5_hex, size in blobs],
    )
    db.executemany(
        "INSERT INTO object_grants (artifact_id, md5) VALUES (?, ?) ON CONFLICT DO NOTHING",
        grants,
    )


class StoreBase:
    """The database: its schema, one connection per thread, and write transactions."""

    def __init__(self, path: str | Path, busy_timeout: float = 30.0) -> None:
        self._path = str(path)
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        if self._path != ":memory:":
            _private_files(Path(path))
        self._create_schema()

    def _create_schema(self) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            had_outputs = db.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'artifact_outputs'"
            ).fetchone()
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            for table, column, declaration in _ADDED_COLUMNS:
                existing = {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}
                if column not in existing:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            if not had_outputs:
                # A database from before the table: each version was an output of its creator.
                db.execute(
                    "INSERT INTO artifact_outputs (run_id, artifact_id) SELECT "
                    "created_by_run_id, id FROM artifacts WHERE created_by_run_id IS NOT NULL "
                    "ORDER BY id"
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _connect(self, timeout: float) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=timeout, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections are not shared across threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect(self._busy_timeout)
        return conn

    @property
    def _db_nowait(self) -> sqlite3.Connection:
        """This thread's connection that neither waits for the write lock nor checkpoints the
        WAL (a checkpoint syncs the disk): fit for writes from an event loop."""
        conn = getattr(self._local, "nowait", None)
        if conn is None:
            conn = self._local.nowait = self._connect(self._busy_timeout)
            conn.execute("PRAGMA busy_timeout=0")
            conn.execute("PRAGMA wal_autocheckpoint=0")
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that holds SQLite's write lock from its first statement."""
        db = self.db
        if db.in_transaction:
            yield db
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        return self.db.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.db.execute(sql, params).fetchall()

    def get(self, table: str, row_id: int) -> sqlite3.Row | None:
        return self.one(f"SELECT * FROM {table} WHERE id = ?", (row_id,))
