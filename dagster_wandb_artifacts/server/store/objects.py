"""Stored objects as a version may use them: which objects a version's writer proved it
holds (its *grants*), which versions list an object, and multipart uploads.

Objects are kept once by md5, but a writer may only list an object in its version when it
uploaded the bytes for that version (or the object was new when it asked to upload it), or it
may read another version that holds them: knowing an md5 is no right to its bytes.
"""

from __future__ import annotations

import sqlite3

from .base import StoreBase


class ObjectRows(StoreBase):
    def granted(self, artifact_id: int, md5_hex: str) -> bool:
        found = self.one(
            "SELECT 1 FROM object_grants WHERE artifact_id = ? AND md5 = ?", (artifact_id, md5_hex)
        )
        return found is not None

    def is_listed(self, md5_hex: str) -> bool:
        """Whether some version lists the object (so a missing one was set aside, not never
        stored)."""
        found = self.one("SELECT 1 FROM artifact_files WHERE md5 = ? LIMIT 1", (md5_hex,))
        return found is not None

    def set_birth(self, md5_hex: str, birth_id: int) -> None:
        with self.write() as db:
            db.execute(
                "UPDATE blobs SET birth_artifact_id = ? "
                "WHERE md5 = ? AND birth_artifact_id IS NULL",
                (birth_id, md5_hex),
            )

    def blobs_after(self, md5_hex: str, limit: int) -> list[sqlite3.Row]:
        """Up to ``limit`` stored objects (md5, size) after ``md5_hex``, by md5."""
        return self.all(
            "SELECT md5, size FROM blobs WHERE md5 > ? ORDER BY md5 LIMIT ?", (md5_hex, limit)
        )

    def multipart_upload(self, upload_id: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM multipart_uploads WHERE id = ?", (upload_id,))

    def versions_listing(self, md5_hex: str, project_id: int) -> list[int]:
        """The versions of the project (logged there or linked into it) that list the object."""
        rows = self.all(
            "SELECT f.artifact_id FROM artifact_files f JOIN artifacts a ON a.id = f.artifact_id "
            "JOIN collections c ON c.id = a.sequence_id WHERE f.md5 = ? AND c.project_id = ? "
            "UNION SELECT f.artifact_id FROM artifact_files f "
            "JOIN memberships m ON m.artifact_id = f.artifact_id "
            "JOIN collections c ON c.id = m.collection_id WHERE f.md5 = ? AND c.project_id = ? "
            "LIMIT 1000",
            (md5_hex, project_id, md5_hex, project_id),
        )
        return [row[0] for row in rows]
