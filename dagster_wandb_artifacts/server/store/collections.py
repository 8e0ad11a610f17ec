"""Artifact types, collections, Registry links and tags, in the server's SQLite store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from .base import LATEST, NotFound, StoreBase, StoreError, now, update_row


class CollectionRows(StoreBase):
    """Types, collections, links and tags."""

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

    def collections_of_type(self, type_id: int) -> list[sqlite3.Row]:
        return self.all(
            "SELECT * FROM collections WHERE type_id = ? AND state = 'READY' ORDER BY id",
            (type_id,),
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

    def link_artifact(
        self,
        artifact_id: int,
        entity: str,
        project: str,
        portfolio: str,
        aliases: list[str],
        *,
        linker_id: int,
        org_entity: str,
    ) -> sqlite3.Row:
        """Add a committed version to a portfolio (created on first link) with its own vN. A
        registry created by the link makes the linker (``linker_id``, 0 for the server's own
        key) its first admin, as creating it with ``upsertModel`` does."""
        with self.write() as db:
            artifact = self.require_artifact(artifact_id)
            if artifact["state"] != "COMMITTED":
                raise StoreError("only committed versions can be linked")
            existed = self.find_project(entity, project) is not None
            project_row = self.ensure_project(entity, project)
            if not existed:
                self.project_created(project_row, linker_id, org_entity)
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
                update_row(db, "collections", collection_id, columns)
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
