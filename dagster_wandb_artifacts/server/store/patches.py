"""The ``PATCH`` manifests of distributed versions: one per writer, kept apart until the
version is finished.

W&B's rule for ``upsert_artifact``: each writer's manifest is its own patch, and finishing the
version folds every uploaded patch into its manifest. A patch is declared (its md5 known)
before its upload and counts once its upload is recorded; a version no longer pending refuses
both, so a writer is told it succeeded only when its patch will be folded in.
"""

from __future__ import annotations

import sqlite3

from .base import StoreBase, StoreError, now


class PatchRows(StoreBase):
    def _require_pending(self, db: sqlite3.Connection, artifact_id: int) -> None:
        row = db.execute("SELECT state FROM artifacts WHERE id = ?", (artifact_id,)).fetchone()
        if row is None or row["state"] == "DELETED":
            raise StoreError(f"artifact {artifact_id} not found")
        if row["state"] != "PENDING":
            raise StoreError(
                f"the distributed version {artifact_id} is finished: it takes no more patches"
            )

    def declare_patch(self, artifact_id: int, digest_hex: str) -> None:
        """A writer will upload a patch manifest of md5 ``digest_hex`` (hex)."""
        with self.write() as db:
            self._require_pending(db, artifact_id)
            db.execute(
                "INSERT INTO manifest_patches (artifact_id, digest, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (artifact_id, digest_hex, now()),
            )

    def patch(self, artifact_id: int, digest_hex: str) -> sqlite3.Row | None:
        return self.one(
            "SELECT * FROM manifest_patches WHERE artifact_id = ? AND digest = ?",
            (artifact_id, digest_hex),
        )

    def mark_patch_uploaded(self, artifact_id: int, digest_hex: str) -> None:
        """The patch's bytes are stored: it joins the version when it is finished, after the
        patches uploaded before it (a later entry replaces an earlier one of the same path)."""
        with self.write() as db:
            self._require_pending(db, artifact_id)
            db.execute(
                "UPDATE manifest_patches SET upload_order = (SELECT COALESCE(MAX(upload_order), "
                "0) + 1 FROM manifest_patches WHERE artifact_id = ?) "
                "WHERE artifact_id = ? AND digest = ? AND upload_order IS NULL",
                (artifact_id, artifact_id, digest_hex),
            )

    def uploaded_patches(self, artifact_id: int) -> list[str]:
        """The md5s (hex) of the version's uploaded patches, in the order of their uploads."""
        rows = self.all(
            "SELECT digest FROM manifest_patches WHERE artifact_id = ? "
            "AND upload_order IS NOT NULL ORDER BY upload_order",
            (artifact_id,),
        )
        return [row["digest"] for row in rows]
