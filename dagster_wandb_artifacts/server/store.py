"""Metadata of the embedded server in SQLite.

Several server processes may share one root (each Dagster step process can start its own
embedded server), so every write runs in a ``BEGIN IMMEDIATE`` transaction with a busy
timeout (or none, from an event loop, which then leaves the write to a worker thread), and
the database is in WAL mode so readers never block writers.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
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


_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


def now() -> str:
    return datetime.now(timezone.utc).strftime(_TIMESTAMP)


def is_version_alias(alias: str) -> bool:
    return alias[:1] == "v" and alias[1:].isdigit()


def _update(db: sqlite3.Connection, table: str, row_id: int, columns: dict[str, Any]) -> None:
    assignments = ", ".join(f"{column} = ?" for column in columns)
    db.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", (*columns.values(), row_id))


# SQLite's message for SQLITE_BUSY (sqlite3 names the code only from Python 3.11).
_BUSY = "database is locked"


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


def _insert_blobs(db: sqlite3.Connection, blobs: Sequence[tuple[str, int]]) -> None:
    created_at = now()
    db.executemany(
        "INSERT INTO blobs (md5, size, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [(md5_hex, size, created_at) for md5_hex, size in blobs],
    )


class Store:
    """All metadata reads and writes of the embedded server."""

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

    # Entities, projects, runs ------------------------------------------------------------

    def ensure_entity(self, entity: str) -> sqlite3.Row:
        with self.write() as db:
            db.execute(
                "INSERT INTO entities (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (entity, now()),
            )
            return db.execute("SELECT * FROM entities WHERE name = ?", (entity,)).fetchone()

    def ensure_project(self, entity: str, project: str) -> sqlite3.Row:
        with self.write() as db:
            entity_id = self.ensure_entity(entity)["id"]
            db.execute(
                "INSERT INTO projects (entity_id, name, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (entity_id, project, now()),
            )
            return db.execute(
                "SELECT * FROM projects WHERE entity_id = ? AND name = ?", (entity_id, project)
            ).fetchone()

    def find_project(self, entity: str, project: str) -> sqlite3.Row | None:
        return self.one(
            "SELECT p.* FROM projects p JOIN entities e ON e.id = p.entity_id "
            "WHERE e.name = ? AND p.name = ?",
            (entity, project),
        )

    def upsert_project(
        self,
        entity: str,
        name: str,
        *,
        description: str | None,
        access: str | None,
        allow_all_types: bool | None,
        types: Iterable[str],
    ) -> tuple[sqlite3.Row, bool]:
        """Create or update a project; a registry's types (allowed, or in use) are only ever
        added, as on W&B."""
        with self.write() as db:
            inserted = self.find_project(entity, name) is None
            project_id = self.ensure_project(entity, name)["id"]
            columns: dict[str, Any] = {"description": description, "access": access}
            if allow_all_types is not None:
                columns["allow_all_types"] = int(allow_all_types)
            columns = {column: value for column, value in columns.items() if value is not None}
            _update(db, "projects", project_id, {**columns, "updated_at": now()})
            for type_name in types:
                self.ensure_type(project_id, type_name)
            return self.get("projects", project_id), inserted

    def rename_project(self, entity: str, old_name: str, new_name: str) -> sqlite3.Row:
        with self.write() as db:
            found = self.find_project(entity, old_name)
            if found is None:
                raise NotFound(f"project {entity}/{old_name} not found")
            try:
                _update(db, "projects", found["id"], {"name": new_name, "updated_at": now()})
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"{entity}/{new_name} already exists") from exc
            return self.get("projects", found["id"])

    def delete_project(self, project_id: int) -> None:
        """Delete a project holding only portfolios (a registry) with its links; the linked
        versions stay in their own collections."""
        with self.write() as db:
            if self.one(
                "SELECT 1 FROM runs WHERE project_id = ? UNION ALL SELECT 1 FROM collections "
                "WHERE project_id = ? AND kind = 'SEQUENCE'",
                (project_id, project_id),
            ):
                raise StoreError("only a project holding nothing but links can be deleted")
            portfolios = "(SELECT id FROM collections WHERE project_id = ?)"
            for table in ("aliases", "memberships", "collection_tags"):
                db.execute(
                    f"DELETE FROM {table} WHERE collection_id IN {portfolios}", (project_id,)
                )
            for table in ("collections", "artifact_types"):
                db.execute(f"DELETE FROM {table} WHERE project_id = ?", (project_id,))
            db.execute("DELETE FROM projects WHERE id = ?", (project_id,))

    def upsert_run(
        self, entity: str, project: str, name: str, fields: dict[str, Any]
    ) -> tuple[sqlite3.Row, bool]:
        """Create or update a run; ``fields`` maps column names to new values (None: keep)."""
        with self.write() as db:
            project_id = self.ensure_project(entity, project)["id"]
            existing = db.execute(
                "SELECT id FROM runs WHERE project_id = ? AND name = ?", (project_id, name)
            ).fetchone()
            if existing is None:
                db.execute(
                    "INSERT INTO runs (project_id, name, created_at, heartbeat_at) "
                    "VALUES (?, ?, ?, ?)",
                    (project_id, name, now(), now()),
                )
            updates = {k: v for k, v in fields.items() if v is not None}
            updates["heartbeat_at"] = now()
            assignments = ", ".join(f"{column} = ?" for column in updates)
            db.execute(
                f"UPDATE runs SET {assignments} WHERE project_id = ? AND name = ?",
                (*updates.values(), project_id, name),
            )
            row = db.execute(
                "SELECT * FROM runs WHERE project_id = ? AND name = ?", (project_id, name)
            ).fetchone()
            return row, existing is None

    def find_run(self, project_id: int, name: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM runs WHERE project_id = ? AND name = ?", (project_id, name))

    def require_run(self, entity: str, project: str, name: str) -> sqlite3.Row:
        found = self.find_project(entity, project)
        run = found and self.find_run(found["id"], name)
        if not run:
            raise NotFound(f"run {entity}/{project}/{name} not found")
        return run

    def update_run(self, run_id: int, **columns: Any) -> None:
        with self.write() as db:
            _update(db, "runs", run_id, columns)

    def record_run_file(self, run_id: int, name: str, size: int) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO run_files (run_id, name, size) VALUES (?, ?, ?) "
                "ON CONFLICT (run_id, name) DO UPDATE SET size = excluded.size",
                (run_id, name, size),
            )

    # Types and collections ---------------------------------------------------------------

    def ensure_type(self, project_id: int, name: str) -> sqlite3.Row:
        with self.write() as db:
            db.execute(
                "INSERT INTO artifact_types (project_id, name, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (project_id, name, now()),
            )
            return db.execute(
                "SELECT * FROM artifact_types WHERE project_id = ? AND name = ?",
                (project_id, name),
            ).fetchone()

    def find_type(self, project_id: int, name: str) -> sqlite3.Row | None:
        return self.one(
            "SELECT * FROM artifact_types WHERE project_id = ? AND name = ?", (project_id, name)
        )

    def find_collection(self, project_id: int, name: str) -> sqlite3.Row | None:
        return self.one(
            "SELECT * FROM collections WHERE project_id = ? AND name = ? AND state = 'READY'",
            (project_id, name),
        )

    def ensure_sequence(self, project_id: int, type_row: sqlite3.Row, name: str) -> sqlite3.Row:
        with self.write() as db:
            found = self.find_collection(project_id, name)
            if found is None:
                db.execute(
                    "INSERT INTO collections (project_id, type_id, name, kind, created_at, "
                    "updated_at) VALUES (?, ?, ?, 'SEQUENCE', ?, ?)",
                    (project_id, type_row["id"], name, now(), now()),
                )
                return self.find_collection(project_id, name)
            if found["type_id"] != type_row["id"]:
                existing_type = self.get("artifact_types", found["type_id"])["name"]
                raise StoreError(
                    f"artifact collection {name!r} has type {existing_type!r}, not "
                    f"{type_row['name']!r}: log it with type {existing_type!r} or choose "
                    "another name"
                )
            return found

    # Artifacts -----------------------------------------------------------------------------

    def latest_of(self, collection_id: int) -> sqlite3.Row | None:
        return self.one(
            "SELECT a.* FROM aliases al JOIN artifacts a ON a.id = al.artifact_id "
            "WHERE al.collection_id = ? AND al.alias = ?",
            (collection_id, LATEST),
        )

    def create_artifact(
        self,
        *,
        entity: str,
        project: str,
        type_name: str,
        collection_name: str,
        digest: str,
        digest_algorithm: str,
        run_name: str | None,
        description: str | None,
        metadata: str | None,
        ttl_seconds: int | None,
        history_step: int | None,
        aliases: Iterable[str],
        tags: Iterable[str],
        client_id: str | None,
        dedup: bool,
        distributed_id: str | None = None,
    ) -> sqlite3.Row:
        """A PENDING version, or the collection's latest when dedup applies (its aliases added),
        or the pending version of ``distributed_id`` that another writer began (its digest now
        that of this writer's manifest, which it uploads next)."""
        aliases = list(dict.fromkeys(aliases))
        with self.write() as db:
            project_row = self.ensure_project(entity, project)
            type_row = self.ensure_type(project_row["id"], type_name)
            sequence = self.ensure_sequence(project_row["id"], type_row, collection_name)
            if client_id:
                retried = db.execute(
                    "SELECT * FROM artifacts WHERE client_id = ? AND sequence_id = ?",
                    (client_id, sequence["id"]),
                ).fetchone()
                if retried is not None:
                    return retried
            run = self.find_run(project_row["id"], run_name) if run_name else None
            shared = (
                distributed_id
                and db.execute(
                    "SELECT id FROM artifacts WHERE sequence_id = ? AND distributed_id = ? "
                    "AND state = 'PENDING'",
                    (sequence["id"], distributed_id),
                ).fetchone()
            )
            if shared:
                _update(db, "artifacts", shared["id"], {"digest": digest, "updated_at": now()})
                if run is not None:
                    self._record_output(run["id"], shared["id"])
                return self.get("artifacts", shared["id"])
            latest = self.latest_of(sequence["id"])
            if (
                dedup
                and latest is not None
                and latest["digest"] == digest
                and not self._lost_files(latest["id"])
            ):
                self._set_aliases(sequence["id"], latest["id"], aliases)
                self._add_tags("artifact_tags", "artifact_id", latest["id"], tags)
                if run is not None:
                    self._record_output(run["id"], latest["id"])
                return latest
            cursor = db.execute(
                "INSERT INTO artifacts (sequence_id, type_id, digest, digest_algorithm, state, "
                "description, metadata, ttl_seconds, history_step, client_id, pending_aliases, "
                "created_by_run_id, distributed_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sequence["id"],
                    type_row["id"],
                    digest,
                    digest_algorithm,
                    description,
                    metadata,
                    ttl_seconds,
                    history_step,
                    client_id,
                    json.dumps(aliases),
                    run["id"] if run else None,
                    distributed_id,
                    now(),
                    now(),
                ),
            )
            self._add_tags("artifact_tags", "artifact_id", cursor.lastrowid, tags)
            if run is not None:
                self._record_output(run["id"], cursor.lastrowid)
            return self.get("artifacts", cursor.lastrowid)

    def _lost_files(self, artifact_id: int) -> bool:
        """Whether a stored file of the version is no longer stored (found corrupt): a log of
        the same files is then a new version whose upload repairs them, not a dedup."""
        return (
            self.one(
                "SELECT 1 FROM artifact_files f LEFT JOIN blobs b ON b.md5 = f.md5 "
                "WHERE f.artifact_id = ? AND f.md5 IS NOT NULL AND b.md5 IS NULL LIMIT 1",
                (artifact_id,),
            )
            is not None
        )

    def _record_output(self, run_id: int, artifact_id: int) -> None:
        """The version is among the run's outputs: it created it, or logged the same bytes."""
        with self.write() as db:
            db.execute(
                "INSERT INTO artifact_outputs (run_id, artifact_id) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING",
                (run_id, artifact_id),
            )

    def require_artifact(self, artifact_id: int) -> sqlite3.Row:
        row = self.get("artifacts", artifact_id)
        if row is None or row["state"] == "DELETED":
            raise NotFound(f"artifact {artifact_id} not found")
        return row

    def upsert_manifest(
        self,
        artifact_id: int,
        *,
        name: str,
        digest: str,
        manifest_type: str,
        base_artifact_id: int | None,
    ) -> sqlite3.Row:
        with self.write() as db:
            if self.require_artifact(artifact_id)["state"] != "PENDING":
                found = db.execute(
                    "SELECT * FROM manifests WHERE artifact_id = ?", (artifact_id,)
                ).fetchone()
                if found is not None and found["digest"] == digest:
                    return found
                raise StoreError("the artifact is committed: its manifest can no longer change")
            db.execute(
                "INSERT INTO manifests (artifact_id, name, digest, type, base_artifact_id, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (artifact_id) DO UPDATE SET "
                "digest = excluded.digest, type = excluded.type, "
                "base_artifact_id = excluded.base_artifact_id, uploaded = 0",
                (artifact_id, name, digest, manifest_type, base_artifact_id, now()),
            )
            return db.execute(
                "SELECT * FROM manifests WHERE artifact_id = ?", (artifact_id,)
            ).fetchone()

    def manifest_of(self, artifact_id: int) -> sqlite3.Row | None:
        return self.one("SELECT * FROM manifests WHERE artifact_id = ?", (artifact_id,))

    def mark_manifest_merged(self, artifact_id: int, digest: str) -> None:
        """The version's manifest is now a whole one (``digest``: its md5, base64), merged
        from several uploads."""
        with self.write() as db:
            db.execute(
                "UPDATE manifests SET digest = ?, type = 'FULL', name = ? WHERE artifact_id = ?",
                (digest, MANIFEST_NAME, artifact_id),
            )

    def mark_manifest_uploaded(self, artifact_id: int) -> None:
        with self.write() as db:
            db.execute("UPDATE manifests SET uploaded = 1 WHERE artifact_id = ?", (artifact_id,))

    def blob(self, md5_hex: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM blobs WHERE md5 = ?", (md5_hex,))

    def forget_blob(self, md5_hex: str) -> None:
        """No longer count an object as stored (it was found corrupt or missing)."""
        with self.write() as db:
            db.execute("DELETE FROM blobs WHERE md5 = ?", (md5_hex,))

    def record_blobs(self, blobs: Sequence[tuple[str, int]]) -> None:
        """Record stored objects as (md5 hex, size); ones already recorded are left as they are."""
        with self.write() as db:
            _insert_blobs(db, blobs)

    def try_record_blobs(self, blobs: Sequence[tuple[str, int]]) -> bool:
        """``record_blobs`` at once, or False when another connection holds the write lock.
        It never waits and never syncs the disk, so an event loop may call it; the WAL is
        checkpointed by the commits of other connections."""
        db = self._db_nowait
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _BUSY in str(exc):
                return False
            raise
        try:
            _insert_blobs(db, blobs)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # a failed COMMIT leaves it open, and this connection is reused
                db.execute("ROLLBACK")
            raise
        return True

    def commit_artifact(
        self,
        artifact_id: int,
        files: Sequence[tuple[str, str | None, int, str | None, int | None]],
        *,
        digest: str,
    ) -> sqlite3.Row:
        """Give a PENDING version its index and aliases; ``files`` are its manifest entries as
        (name, md5 hex or None for a reference, size, ref, birth artifact id), ``digest`` the
        digest of its whole manifest."""
        with self.write() as db:
            artifact = self.require_artifact(artifact_id)
            if artifact["state"] == "COMMITTED":
                return artifact
            sequence_id = artifact["sequence_id"]
            index = db.execute(
                "SELECT COALESCE(MAX(version_index) + 1, 0) FROM memberships "
                "WHERE collection_id = ?",
                (sequence_id,),
            ).fetchone()[0]
            db.execute(
                "INSERT INTO memberships (collection_id, artifact_id, version_index, created_at) "
                "VALUES (?, ?, ?, ?)",
                (sequence_id, artifact_id, index, now()),
            )
            db.executemany(
                "INSERT INTO artifact_files (artifact_id, name, md5, size, ref, birth_artifact_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                ((artifact_id, *file) for file in files),
            )
            db.execute(
                "UPDATE artifacts SET state = 'COMMITTED', digest = ?, size = ?, file_count = ?, "
                "updated_at = ? WHERE id = ?",
                (digest, sum(file[2] for file in files), len(files), now(), artifact_id),
            )
            pending = json.loads(artifact["pending_aliases"])
            self._set_aliases(sequence_id, artifact_id, [*pending, LATEST, f"v{index}"])
            db.execute("UPDATE collections SET updated_at = ? WHERE id = ?", (now(), sequence_id))
            return self.get("artifacts", artifact_id)

    def _set_aliases(self, collection_id: int, artifact_id: int, aliases: Iterable[str]) -> None:
        """Point each alias at this version, moving it away from any other in the collection."""
        with self.write() as db:
            for alias in aliases:
                db.execute(
                    "INSERT INTO aliases (collection_id, artifact_id, alias) VALUES (?, ?, ?) "
                    "ON CONFLICT (collection_id, alias) DO UPDATE SET "
                    "artifact_id = excluded.artifact_id",
                    (collection_id, artifact_id, alias),
                )

    def membership(self, collection_id: int, artifact_id: int) -> sqlite3.Row | None:
        return self.one(
            "SELECT * FROM memberships WHERE collection_id = ? AND artifact_id = ?",
            (collection_id, artifact_id),
        )

    def resolve_alias(self, collection_id: int, alias: str) -> sqlite3.Row | None:
        """The committed version an alias (``latest``, ``vN`` or custom) names."""
        return self.one(
            "SELECT a.* FROM aliases al JOIN artifacts a ON a.id = al.artifact_id "
            "WHERE al.collection_id = ? AND al.alias = ? AND a.state = 'COMMITTED'",
            (collection_id, alias),
        )

    def aliases_of(self, artifact_id: int, collection_id: int | None = None) -> list[sqlite3.Row]:
        if collection_id is None:
            return self.all(
                "SELECT * FROM aliases WHERE artifact_id = ? ORDER BY id", (artifact_id,)
            )
        return self.all(
            "SELECT * FROM aliases WHERE artifact_id = ? AND collection_id = ? ORDER BY id",
            (artifact_id, collection_id),
        )

    def add_aliases(self, artifact_id: int, collection_id: int, aliases: Iterable[str]) -> None:
        artifact = self.require_artifact(artifact_id)
        if artifact["state"] != "COMMITTED":
            raise StoreError("aliases can be added to committed versions only")
        for alias in aliases:
            if is_version_alias(alias):
                raise StoreError(f"alias {alias!r} is reserved for version indexes")
        self._set_aliases(collection_id, artifact_id, aliases)

    def delete_aliases(self, artifact_id: int, collection_id: int, aliases: Iterable[str]) -> None:
        with self.write() as db:
            for alias in aliases:
                if is_version_alias(alias):
                    raise StoreError(f"version alias {alias!r} cannot be removed")
                db.execute(
                    "DELETE FROM aliases WHERE artifact_id = ? AND collection_id = ? AND alias = ?",
                    (artifact_id, collection_id, alias),
                )

    def replace_custom_aliases(self, artifact_id: int, aliases: Iterable[str]) -> None:
        """The legacy ``UpdateArtifact.aliases``: the version's full set of custom aliases."""
        artifact = self.require_artifact(artifact_id)
        keep = set(aliases)
        with self.write() as db:
            current = {
                row["alias"] for row in self.aliases_of(artifact_id, artifact["sequence_id"])
            }
            removed = [a for a in current - keep if not is_version_alias(a) and a != LATEST]
            db.executemany(
                "DELETE FROM aliases WHERE artifact_id = ? AND collection_id = ? AND alias = ?",
                ((artifact_id, artifact["sequence_id"], alias) for alias in removed),
            )
            self.add_aliases(artifact_id, artifact["sequence_id"], keep - current)

    def update_artifact(self, artifact_id: int, **columns: Any) -> None:
        columns["updated_at"] = now()
        with self.write() as db:
            self.require_artifact(artifact_id)
            _update(db, "artifacts", artifact_id, columns)

    def delete_artifact(self, artifact_id: int, delete_aliases: bool) -> sqlite3.Row:
        with self.write() as db:
            artifact = self.require_artifact(artifact_id)
            custom = [
                row["alias"]
                for row in self.aliases_of(artifact_id)
                if not is_version_alias(row["alias"]) and row["alias"] != LATEST
            ]
            if custom and not delete_aliases:
                raise StoreError(
                    f"the version has aliases {custom}: remove them first or delete with "
                    "delete_aliases=True"
                )
            moved_latest = [
                row["collection_id"]
                for row in self.aliases_of(artifact_id)
                if row["alias"] == LATEST
            ]
            db.execute("DELETE FROM aliases WHERE artifact_id = ?", (artifact_id,))
            db.execute(
                "UPDATE artifacts SET state = 'DELETED', updated_at = ? WHERE id = ?",
                (now(), artifact_id),
            )
            for collection_id in moved_latest:
                self._move_latest(collection_id)
            return self.get("artifacts", artifact["id"])

    # Links (portfolios and Registry collections) -----------------------------------------

    def link_artifact(
        self, artifact_id: int, entity: str, project: str, portfolio: str, aliases: list[str]
    ) -> sqlite3.Row:
        """Add a committed version to a portfolio (created on first link) with its own vN."""
        with self.write() as db:
            artifact = self.require_artifact(artifact_id)
            if artifact["state"] != "COMMITTED":
                raise StoreError("only committed versions can be linked")
            project_row = self.ensure_project(entity, project)
            type_name = self.get("artifact_types", artifact["type_id"])["name"]
            allowed = project_row["allow_all_types"] or self.one(
                "SELECT 1 FROM artifact_types WHERE project_id = ? AND name = ?",
                (project_row["id"], type_name),
            )
            if not allowed:
                raise StoreError(
                    f"{entity}/{project} does not accept artifacts of type {type_name!r}"
                )
            type_row = self.ensure_type(project_row["id"], type_name)
            collection = self.find_collection(project_row["id"], portfolio)
            if collection is None:
                db.execute(
                    "INSERT INTO collections (project_id, type_id, name, kind, created_at, "
                    "updated_at) VALUES (?, ?, ?, 'PORTFOLIO', ?, ?)",
                    (project_row["id"], type_row["id"], portfolio, now(), now()),
                )
                collection = self.find_collection(project_row["id"], portfolio)
            elif collection["kind"] != "PORTFOLIO":
                raise StoreError(
                    f"{entity}/{project}/{portfolio} is a collection of logged versions, not a "
                    "portfolio: link into another name"
                )
            membership = self.membership(collection["id"], artifact_id)
            if membership is None:
                index = db.execute(
                    "SELECT COALESCE(MAX(version_index) + 1, 0) FROM memberships "
                    "WHERE collection_id = ?",
                    (collection["id"],),
                ).fetchone()[0]
                db.execute(
                    "INSERT INTO memberships (collection_id, artifact_id, version_index, "
                    "created_at) VALUES (?, ?, ?, ?)",
                    (collection["id"], artifact_id, index, now()),
                )
                membership = self.membership(collection["id"], artifact_id)
                aliases = [*aliases, LATEST, f"v{index}"]
            self._set_aliases(collection["id"], artifact_id, aliases)
            return membership

    def unlink_artifact(self, artifact_id: int, collection_id: int) -> None:
        with self.write() as db:
            collection = self.get("collections", collection_id)
            if collection is None or collection["kind"] != "PORTFOLIO":
                raise NotFound("no such portfolio")
            db.execute(
                "DELETE FROM aliases WHERE artifact_id = ? AND collection_id = ?",
                (artifact_id, collection_id),
            )
            db.execute(
                "DELETE FROM memberships WHERE artifact_id = ? AND collection_id = ?",
                (artifact_id, collection_id),
            )
            self._move_latest(collection_id)

    def _move_latest(self, collection_id: int) -> None:
        """Point ``latest`` at the newest remaining committed version, if it lost its own."""
        with self.write() as db:
            if self.resolve_alias(collection_id, LATEST) is not None:
                return
            successor = db.execute(
                "SELECT m.artifact_id FROM memberships m "
                "JOIN artifacts a ON a.id = m.artifact_id "
                "WHERE m.collection_id = ? AND a.state = 'COMMITTED' "
                "ORDER BY m.version_index DESC LIMIT 1",
                (collection_id,),
            ).fetchone()
            if successor is not None:
                self._set_aliases(collection_id, successor[0], [LATEST])

    # Tags ------------------------------------------------------------------------------------

    def _add_tags(self, table: str, column: str, owner_id: int, tags: Iterable[str]) -> None:
        with self.write() as db:
            for tag in tags:
                db.execute("INSERT INTO tags (name) VALUES (?) ON CONFLICT DO NOTHING", (tag,))
                tag_id = db.execute("SELECT id FROM tags WHERE name = ?", (tag,)).fetchone()[0]
                db.execute(
                    f"INSERT INTO {table} ({column}, tag_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (owner_id, tag_id),
                )

    def add_artifact_tags(self, artifact_id: int, tags: Iterable[str]) -> None:
        self._add_tags("artifact_tags", "artifact_id", artifact_id, tags)

    def delete_artifact_tags(self, artifact_id: int, tags: Iterable[str]) -> None:
        with self.write() as db:
            db.executemany(
                "DELETE FROM artifact_tags WHERE artifact_id = ? AND "
                "tag_id = (SELECT id FROM tags WHERE name = ?)",
                ((artifact_id, tag) for tag in tags),
            )

    def add_collection_tags(self, collection_id: int, tags: Iterable[str]) -> None:
        self._add_tags("collection_tags", "collection_id", collection_id, tags)

    def delete_collection_tags(self, collection_id: int, tags: Iterable[str]) -> None:
        with self.write() as db:
            db.executemany(
                "DELETE FROM collection_tags WHERE collection_id = ? AND "
                "tag_id = (SELECT id FROM tags WHERE name = ?)",
                ((collection_id, tag) for tag in tags),
            )

    def update_collection(self, collection_id: int, **columns: Any) -> sqlite3.Row:
        columns["updated_at"] = now()
        with self.write() as db:
            try:
                _update(db, "collections", collection_id, columns)
            except sqlite3.IntegrityError as exc:
                raise StoreError("another collection of the project has that name") from exc
            return self.get("collections", collection_id)

    def move_collection(self, collection_id: int, type_name: str) -> sqlite3.Row:
        with self.write() as db:
            collection = self.get("collections", collection_id)
            type_row = self.ensure_type(collection["project_id"], type_name)
            db.execute(
                "UPDATE artifacts SET type_id = ? WHERE sequence_id = ?",
                (type_row["id"], collection_id),
            )
            return self.update_collection(collection_id, type_id=type_row["id"])

    def delete_collection(self, collection_id: int) -> sqlite3.Row:
        """Delete a sequence with its versions, or a portfolio with its links."""
        with self.write() as db:
            for table in ("aliases", "memberships"):
                db.execute(
                    f"DELETE FROM {table} WHERE collection_id = ? AND collection_id IN "
                    "(SELECT id FROM collections WHERE kind = 'PORTFOLIO')",
                    (collection_id,),
                )
            db.execute(
                "DELETE FROM aliases WHERE artifact_id IN "
                "(SELECT id FROM artifacts WHERE sequence_id = ?)",
                (collection_id,),
            )
            db.execute(
                "UPDATE artifacts SET state = 'DELETED' WHERE sequence_id = ?", (collection_id,)
            )
            # The name is freed for a new collection; the row stays for history.
            db.execute(
                "UPDATE collections SET state = 'DELETED', name = name || ':deleted:' || id "
                "WHERE id = ?",
                (collection_id,),
            )
            return self.get("collections", collection_id)

    def artifact_tags(self, artifact_id: int) -> list[sqlite3.Row]:
        return self.all(
            "SELECT t.* FROM tags t JOIN artifact_tags at ON at.tag_id = t.id "
            "WHERE at.artifact_id = ? ORDER BY t.name",
            (artifact_id,),
        )

    def collection_tags(self, collection_id: int) -> list[sqlite3.Row]:
        return self.all(
            "SELECT t.* FROM tags t JOIN collection_tags ct ON ct.tag_id = t.id "
            "WHERE ct.collection_id = ? ORDER BY t.name",
            (collection_id,),
        )

    # Lineage -----------------------------------------------------------------------------------

    def use_artifact(self, run_id: int, artifact_id: int, used_as: str | None) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO artifact_uses (run_id, artifact_id, used_as, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (run_id, artifact_id, used_as, now()),
            )

    # Multipart uploads -------------------------------------------------------------------------

    def forget_multipart(self, begun_before: float) -> list[str]:
        """Forget the multipart uploads begun before ``begun_before`` (a Unix time); returns
        their ids."""
        cutoff = datetime.fromtimestamp(begun_before, timezone.utc).strftime(_TIMESTAMP)
        with self.write() as db:
            rows = db.execute(
                "DELETE FROM multipart_uploads WHERE created_at < ? RETURNING id", (cutoff,)
            ).fetchall()
        return [row[0] for row in rows]

    def begin_multipart(self, upload_id: str, md5_hex: str, artifact_id: int, parts: str) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO multipart_uploads (id, md5, artifact_id, parts, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (upload_id, md5_hex, artifact_id, parts, now()),
            )
