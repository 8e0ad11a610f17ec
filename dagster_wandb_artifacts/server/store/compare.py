"""The file differences between two versions, for the web UI's Compare tab.

Both versions' files are joined by name in SQL (the ``(artifact_id, name)`` unique index
serves both sides), so two versions of 100,000 files cost one pass each: one query counts
the files added, removed and changed (by digest: the stored MD5, or the reference) with
their sizes, and one per kind lists the first few by name.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .versions import Store

#: ``old`` and ``new``: each version's files; ``changed`` compares digests, a reference's
#: URI standing in for a digest when the bytes are elsewhere.
_JOINED = (
    "FROM (SELECT name, md5, ref, size FROM artifact_files WHERE artifact_id = :old) AS o "
    "FULL JOIN (SELECT name, md5, ref, size FROM artifact_files WHERE artifact_id = :new) AS n "
    "ON n.name = o.name "
)
_ADDED = "o.name IS NULL"
_REMOVED = "n.name IS NULL"
_CHANGED = (
    "o.name IS NOT NULL AND n.name IS NOT NULL AND (o.md5 IS NOT n.md5 OR o.ref IS NOT n.ref)"
)


@dataclass(frozen=True)
class FileChanges:
    """Counts of files added, removed and changed, and the first ``limit`` of each by name
    (rows of ``name``, ``old_size``, ``new_size``, ``old_md5``, ``new_md5``)."""

    added: int
    removed: int
    changed: int
    unchanged: int
    first: dict[str, list[sqlite3.Row]]


def file_changes(store: Store, old_id: int, new_id: int, limit: int) -> FileChanges:
    ids = {"old": old_id, "new": new_id}
    counts = store.one(
        f"SELECT COALESCE(SUM({_ADDED}), 0), COALESCE(SUM({_REMOVED}), 0), "
        f"COALESCE(SUM({_CHANGED}), 0), COUNT(*) {_JOINED}",
        ids,
    )
    assert counts is not None
    added, removed, changed, total = (int(value) for value in counts)
    first = {
        kind: store.all(
            "SELECT COALESCE(n.name, o.name) AS name, o.size AS old_size, n.size AS new_size, "
            f"o.md5 AS old_md5, n.md5 AS new_md5 {_JOINED}WHERE {condition} "
            "ORDER BY COALESCE(n.name, o.name) LIMIT :limit",
            {**ids, "limit": limit},
        )
        for kind, condition in (("added", _ADDED), ("removed", _REMOVED), ("changed", _CHANGED))
    }
    return FileChanges(added, removed, changed, total - added - removed - changed, first)
