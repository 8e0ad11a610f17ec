"""Sweeps, reports (views), custom charts and Launch queues: what W&B keeps beside runs and
artifacts, and what this server stores so the SDK's calls succeed, without running any of it
(no sweep agents or controller, nothing launched from a queue)."""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any

from .access import Access
from .base import NotFound, StoreError, now
from .versions import Store

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS sweeps (
    id INTEGER PRIMARY KEY AUTOINCREMENT, project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL, display_name TEXT, description TEXT, config TEXT, method TEXT,
    state TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (project_id, name))""",
    """CREATE TABLE IF NOT EXISTS views (
    id INTEGER PRIMARY KEY AUTOINCREMENT, project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL, display_name TEXT, description TEXT, type TEXT NOT NULL,
    spec TEXT, author TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS custom_charts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, entity_id INTEGER NOT NULL REFERENCES entities(id),
    name TEXT NOT NULL, display_name TEXT, type TEXT NOT NULL, access TEXT NOT NULL,
    spec TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (entity_id, name))""",
    """CREATE TABLE IF NOT EXISTS resource_configs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, entity_id INTEGER NOT NULL REFERENCES entities(id),
    resource TEXT NOT NULL, config TEXT NOT NULL, template_variables TEXT,
    created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS run_queues (
    id INTEGER PRIMARY KEY AUTOINCREMENT, project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL, access TEXT NOT NULL, prioritization_mode TEXT,
    resource_config_id INTEGER REFERENCES resource_configs(id), external_links TEXT,
    created_at TEXT NOT NULL, UNIQUE (project_id, name))""",
)


def _change(db: sqlite3.Connection, table: str, row_id: int, fields: dict[str, Any]) -> None:
    """Set the given (non-None) columns of one row."""
    fields = {column: value for column, value in fields.items() if value is not None}
    if fields:
        assignments = ", ".join(f"{column} = ?" for column in fields)
        db.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", (*fields.values(), row_id))


def create_tables(store: Store) -> None:
    with store.write() as db:
        for statement in _SCHEMA:
            db.execute(statement)


class Workspace:
    def __init__(self, store: Store) -> None:
        self.store = store

    def upsert_sweep(
        self, access: Access, project_id: int | None, sweep_id: int | None, **fields: Any
    ) -> int:
        """A new sweep (a random 8-character name, as W&B's) or changed fields of one, of a
        project the caller may write (another's answers as a missing one)."""
        with self.store.write() as db:
            if sweep_id is not None:
                sweep = access.in_project("sweeps", sweep_id)
                if sweep is None:
                    raise NotFound(f"sweep {sweep_id} not found")
                access.writable_project(sweep["project_id"], "sweep")
                _change(db, "sweeps", sweep_id, {**fields, "updated_at": now()})
                return sweep_id
            stamp = now()
            cursor = db.execute(
                "INSERT INTO sweeps (project_id, name, display_name, description, config, "
                "method, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    project_id,
                    secrets.token_hex(4),
                    fields.get("display_name"),
                    fields.get("description"),
                    fields.get("config"),
                    fields.get("method"),
                    fields.get("state") or "PENDING",
                    stamp,
                    stamp,
                ),
            )
        return int(cursor.lastrowid or 0)

    def sweeps(self, project_id: int) -> list[sqlite3.Row]:
        return self.store.all(
            "SELECT * FROM sweeps WHERE project_id = ? ORDER BY id", (project_id,)
        )

    def run_count(self, sweep: sqlite3.Row) -> int:
        return self.store.one(
            "SELECT COUNT(*) FROM runs WHERE project_id = ? AND sweep_name = ?",
            (sweep["project_id"], sweep["name"]),
        )[0]

    def upsert_view(self, project_id: int, view_id: int | None, **fields: Any) -> int:
        """A view of the project (which the caller writes): ``view_id`` changes one of its
        views; the ID of a view elsewhere is as a missing one (a new view is made)."""
        with self.store.write() as db:
            existing = None if view_id is None else self.store.get("views", view_id)
            if existing is not None and existing["project_id"] == project_id:
                _change(db, "views", view_id, {**fields, "updated_at": now()})
                return view_id
            stamp = now()
            cursor = db.execute(
                "INSERT INTO views (project_id, name, display_name, description, type, spec, "
                "author, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    project_id,
                    fields.get("name") or secrets.token_hex(6),
                    fields.get("display_name"),
                    fields.get("description"),
                    fields.get("type") or "runs",
                    fields.get("spec"),
                    fields.get("author"),
                    stamp,
                    stamp,
                ),
            )
        return int(cursor.lastrowid or 0)

    def views(self, project_id: int, view_type: str | None, name: str | None) -> list:
        rows = self.store.all("SELECT * FROM views WHERE project_id = ? ORDER BY id", (project_id,))
        return [
            row
            for row in rows
            if (view_type is None or row["type"] == view_type)
            and (name is None or row["name"] == name)
        ]

    def create_chart(self, entity_id: int, **fields: Any) -> int:
        try:
            with self.store.write() as db:
                cursor = db.execute(
                    "INSERT INTO custom_charts (entity_id, name, display_name, type, access, "
                    "spec, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        entity_id,
                        fields["name"],
                        fields["display_name"],
                        fields["type"],
                        fields["access"],
                        fields["spec"],
                        now(),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"a custom chart named {fields['name']!r} exists") from exc
        return int(cursor.lastrowid or 0)

    def create_resource_config(
        self, entity_id: int, resource: str, config: str, template_variables: str | None
    ) -> int:
        with self.store.write() as db:
            cursor = db.execute(
                "INSERT INTO resource_configs (entity_id, resource, config, template_variables, "
                "created_at) VALUES (?, ?, ?, ?, ?)",
                (entity_id, resource, config, template_variables, now()),
            )
        return int(cursor.lastrowid or 0)

    def upsert_queue(self, project_id: int, name: str, **fields: Any) -> int:
        """A queue by name, created or with ``fields`` changed."""
        with self.store.write() as db:
            found = db.execute(
                "SELECT id FROM run_queues WHERE project_id = ? AND name = ?", (project_id, name)
            ).fetchone()
            if found is not None:
                _change(db, "run_queues", found[0], fields)
                return int(found[0])
            cursor = db.execute(
                "INSERT INTO run_queues (project_id, name, access, prioritization_mode, "
                "resource_config_id, external_links, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    project_id,
                    name,
                    fields.get("access") or "PROJECT",
                    fields.get("prioritization_mode"),
                    fields.get("resource_config_id"),
                    fields.get("external_links"),
                    now(),
                ),
            )
        return int(cursor.lastrowid or 0)

    def delete_queues(self, access: Access, queue_ids: list[int]) -> None:
        """Delete queues, each of a project the caller may write (else none is deleted)."""
        with self.store.write() as db:
            for queue_id in queue_ids:
                queue = self.store.get("run_queues", queue_id)
                if queue is None or access.project(queue["project_id"]) is None:
                    raise NotFound(f"run queue {queue_id} not found")
                access.writable_project(queue["project_id"], "run queue")
            db.executemany("DELETE FROM run_queues WHERE id = ?", [(q,) for q in queue_ids])

    def sweep(self, project_id: int, name: str) -> sqlite3.Row | None:
        return self.store.one(
            "SELECT * FROM sweeps WHERE project_id = ? AND name = ?", (project_id, name)
        )

    def queue(self, project_id: int, name: str) -> sqlite3.Row | None:
        return self.store.one(
            "SELECT * FROM run_queues WHERE project_id = ? AND name = ?", (project_id, name)
        )

    def queues(self, project_id: int) -> list[sqlite3.Row]:
        return self.store.all(
            "SELECT * FROM run_queues WHERE project_id = ? ORDER BY id", (project_id,)
        )
