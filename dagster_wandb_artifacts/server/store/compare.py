"""The file differences between two versions, for the web UI's Compare tab.

Two passes, each walking one version's files and probing the other's on the
``(artifact_id, name)`` unique index: the newer version's files that are missing from the
older (added) or differ from it by digest (the stored MD5, or the reference's URI when the
bytes are elsewhere: changed), then the older version's names missing from the newer
(removed; the probe reads the index alone). Only the differences reach Python, and only the
first ``limit`` of each kind, by name, are kept.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from .versions import Store

_ADDED_OR_CHANGED = (
    "SELECT o.name IS NOT NULL, n.name, o.size, n.size, o.md5, n.md5 FROM artifact_files n "
    "LEFT JOIN artifact_files o ON o.artifact_id = :old AND o.name = n.name "
    "WHERE n.artifact_id = :new AND (o.name IS NULL OR o.md5 IS NOT n.md5 OR o.ref IS NOT n.ref)"
)
_REMOVED = (
    "SELECT o.name, o.size, NULL, o.md5, NULL FROM artifact_files o WHERE o.artifact_id = :old "
    "AND NOT EXISTS (SELECT 1 FROM artifact_files n WHERE n.artifact_id = :new "
    "AND n.name = o.name)"
)


@dataclass(frozen=True, order=True)
class FileChange:
    name: str
    old_size: int | None
    new_size: int | None
    old_md5: str | None
    new_md5: str | None


@dataclass(frozen=True)
class FileChanges:
    """Counts of files added, removed and changed, and the first ``limit`` of each by name."""

    added: int
    removed: int
    changed: int
    unchanged: int
    first: dict[str, list[FileChange]]


def file_changes(store: Store, old_id: int, new_id: int, limit: int) -> FileChanges:
    ids = {"old": old_id, "new": new_id}
    found: dict[str, list[FileChange]] = {"added": [], "removed": [], "changed": []}
    for in_older, *row in store.db.execute(_ADDED_OR_CHANGED, ids):
        found["changed" if in_older else "added"].append(FileChange(*row))
    found["removed"] = [FileChange(*row) for row in store.db.execute(_REMOVED, ids)]
    count = store.one("SELECT file_count FROM artifacts WHERE id = ?", (new_id,))
    files = int(count[0]) if count else 0
    added, changed = len(found["added"]), len(found["changed"])
    return FileChanges(
        added,
        len(found["removed"]),
        changed,
        max(0, files - added - changed),
        {kind: heapq.nsmallest(limit, changes) for kind, changes in found.items()},
    )
