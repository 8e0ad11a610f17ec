"""A version's Compare tab: another version of the collection against this one, by files
(added, removed, changed by digest), metadata and size."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .store import Store
from .store.compare import FileChanges, file_changes
from .ui_tabs import flatten

#: Files listed per kind of change; the rest are counted.
FILES_SHOWN = 100
#: Metadata keys listed; the rest are counted.
KEYS_SHOWN = 200


@dataclass(frozen=True)
class MetadataChange:
    key: str
    #: "added", "removed" or "changed".
    kind: str
    old: str
    new: str


@dataclass(frozen=True)
class Comparison:
    files: FileChanges
    metadata: list[MetadataChange]
    metadata_total: int
    size_delta: int
    file_count_delta: int


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def metadata_changes(old: dict[str, Any], new: dict[str, Any]) -> list[MetadataChange]:
    before, after = flatten(old), flatten(new)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        if key not in before:
            changes.append(MetadataChange(key, "added", "", _shown(after[key])))
        elif key not in after:
            changes.append(MetadataChange(key, "removed", _shown(before[key]), ""))
        elif before[key] != after[key]:
            changes.append(MetadataChange(key, "changed", _shown(before[key]), _shown(after[key])))
    return changes


def compare(
    store: Store, old: Any, new: Any, old_metadata: dict[str, Any], new_metadata: dict[str, Any]
) -> Comparison:
    """``new`` (the page's version) against ``old`` (the one picked), both artifact rows."""
    changes = metadata_changes(old_metadata, new_metadata)
    return Comparison(
        files=file_changes(store, old["id"], new["id"], FILES_SHOWN),
        metadata=changes[:KEYS_SHOWN],
        metadata_total=len(changes),
        size_delta=(new["size"] or 0) - (old["size"] or 0),
        file_count_delta=(new["file_count"] or 0) - (old["file_count"] or 0),
    )
