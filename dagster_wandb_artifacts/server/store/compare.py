"""The file differences between two versions, for the web UI's Compare tab.

One pass walks the newer version's files, probing the older's on the ``(artifact_id, name)``
unique index: the files missing from the older (added) or differing from it by digest (the
stored MD5, or the reference's URI when the bytes are elsewhere: changed). Only these
differences reach Python, and only the first ``limit`` of each kind, by name, are kept.

Removed files need no second pass to be counted: files are matched by name, so the older
version's files are the matched ones (the newer's less those added) and the removed ones,
and both versions' file counts are read off the index. Only the first removed names are
listed, by walking the older version's names in order and stopping at the last of them
(at worst a walk of the older version; none when nothing was removed).
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
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
    "AND n.name = o.name) ORDER BY o.name LIMIT :limit"
)
_FILE_COUNT = "SELECT count(*) FROM artifact_files WHERE artifact_id = ?"


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


@contextmanager
def _snapshot(db: sqlite3.Connection) -> Iterator[None]:
    """One read transaction, so that the counts and the differences agree while a draft's
    files are still being added (a reader never blocks a writer in WAL mode)."""
    if db.in_transaction:
        yield
        return
    db.execute("BEGIN")
    try:
        yield
    finally:
        db.execute("COMMIT")


def file_changes(store: Store, old_id: int, new_id: int, limit: int) -> FileChanges:
    ids = {"old": old_id, "new": new_id}
    found: dict[str, list[FileChange]] = {"added": [], "removed": [], "changed": []}
    with _snapshot(store.db):
        for in_older, *row in store.db.execute(_ADDED_OR_CHANGED, ids):
            found["changed" if in_older else "added"].append(FileChange(*row))
        added, changed = len(found["added"]), len(found["changed"])
        new_files, old_files = (store.one(_FILE_COUNT, (id_,))[0] for id_ in (new_id, old_id))
        removed = old_files - (new_files - added)
        if removed > 0:
            listed = {**ids, "limit": min(limit, removed)}
            found["removed"] = [FileChange(*row) for row in store.db.execute(_REMOVED, listed)]
    return FileChanges(
        added,
        removed,
        changed,
        new_files - added - changed,
        {kind: heapq.nsmallest(limit, changes) for kind, changes in found.items()},
    )
