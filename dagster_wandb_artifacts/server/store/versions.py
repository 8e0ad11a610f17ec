"""Artifact versions, their manifests, stored objects and multipart uploads; and
:class:`Store`, which composes every domain's rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from .base import (
    BUSY_MESSAGE,
    LATEST,
    MANIFEST_NAME,
    TIMESTAMP_FORMAT,
    NotFound,
    StoreBase,
    StoreError,
    insert_blobs,
    is_version_alias,
    now,
    update_row,
)
from .collections import CollectionRows
from .listings import ListingRows
from .members import MemberRows
from .objects import ObjectRows
from .patches import PatchRows
from .runs import RunRows


class Store(
    RunRows, CollectionRows, PatchRows, MemberRows, ObjectRows, ListingRows, StoreBase
):
    """All metadata reads and writes of the embedded server: runs and projects
    (:class:`RunRows`), collections, links and tags (:class:`CollectionRows`), the patches of
    distributed versions (:class:`PatchRows`), project members and default entities
    (:class:`MemberRows`), and here the
    versions themselves, their manifests, stored objects and multipart uploads."""

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
                update_row(db, "artifacts", shared["id"], {"digest": digest, "updated_at": now()})
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

    def record_blobs(
        self, blobs: Sequence[tuple[str, int]], grants: Sequence[tuple[int, str]] = ()
    ) -> None:
        """Record stored objects as (md5 hex, size), ones already recorded left as they are,
        and the grants of their verified uploads as (version id, md5 hex)."""
        with self.write() as db:
            insert_blobs(db, blobs, grants)

    def try_record_blobs(
        self, blobs: Sequence[tuple[str, int]], grants: Sequence[tuple[int, str]] = ()
    ) -> bool:
        """``record_blobs`` at once, or False when another connection holds the write lock.
        It never waits and never syncs the disk, so an event loop may call it; the WAL is
        checkpointed by the commits of other connections."""
        db = self._db_nowait
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if BUSY_MESSAGE in str(exc):
                return False
            raise
        try:
            insert_blobs(db, blobs, grants)
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
            update_row(db, "artifacts", artifact_id, columns)

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

    def forget_multipart(self, begun_before: float) -> list[str]:
        """Forget the multipart uploads begun before ``begun_before`` (a Unix time); returns
        their ids."""
        cutoff = datetime.fromtimestamp(begun_before, timezone.utc).strftime(TIMESTAMP_FORMAT)
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
