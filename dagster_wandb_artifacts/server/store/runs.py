"""Entities, projects, runs and their uses of versions, in the server's SQLite store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from .base import NotFound, StoreBase, StoreError, now, update_row


class RunRows(StoreBase):
    """Entities, projects and runs."""

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

    def find_entity(self, name: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM entities WHERE name = ?", (name,))

    def projects_of_entity(self, entity_id: int) -> list[sqlite3.Row]:
        return self.all("SELECT * FROM projects WHERE entity_id = ? ORDER BY id", (entity_id,))

    def all_projects(self) -> list[sqlite3.Row]:
        """Every project, with its entity's name as ``entity_name``."""
        return self.all(
            "SELECT p.*, e.name AS entity_name FROM projects p "
            "JOIN entities e ON e.id = p.entity_id ORDER BY p.id"
        )

    def runs_of_project(self, project_id: int) -> list[sqlite3.Row]:
        return self.all("SELECT * FROM runs WHERE project_id = ? ORDER BY id", (project_id,))

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
            update_row(db, "projects", project_id, {**columns, "updated_at": now()})
            for type_name in types:
                self.ensure_type(project_id, type_name)
            return self.get("projects", project_id), inserted

    def rename_project(self, entity: str, old_name: str, new_name: str) -> sqlite3.Row:
        with self.write() as db:
            found = self.find_project(entity, old_name)
            if found is None:
                raise NotFound(f"project {entity}/{old_name} not found")
            try:
                update_row(db, "projects", found["id"], {"name": new_name, "updated_at": now()})
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
            # A registry's members go with it (its creator is always one).
            for table in (
                "collections",
                "artifact_types",
                "project_user_members",
                "project_team_members",
            ):
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
            update_row(db, "runs", run_id, columns)

    def record_run_file(self, run_id: int, name: str, size: int) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO run_files (run_id, name, size) VALUES (?, ?, ?) "
                "ON CONFLICT (run_id, name) DO UPDATE SET size = excluded.size",
                (run_id, name, size),
            )

    def use_artifact(self, run_id: int, artifact_id: int, used_as: str | None) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO artifact_uses (run_id, artifact_id, used_as, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (run_id, artifact_id, used_as, now()),
            )
