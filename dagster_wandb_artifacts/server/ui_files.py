"""The Files tab's tree: the folders of the current path open, one inside the other, each
listing its first page of entries; every other folder is a link that opens it (the page
is drawn again with that folder open), so the tree is server-rendered, needs no script,
and never draws more than ``LEVELS`` pages of entries however large the version is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .store import Store
from .store import browse as ui_queries

#: Open folders drawn, counted up from the current one; the ones above are a breadcrumb.
LEVELS = 8


@dataclass
class Level:
    """One open folder: a page of its entries, and the entry on the current path in it."""

    folder: str
    entries: list[dict[str, Any]]
    #: The cursor of the next page of this folder, if there is one.
    after: str | None
    #: The entry on the current path (an open folder or the selected file), when this page
    #: of the folder does not hold it: drawn after the page, past a gap.
    beyond: dict[str, Any] | None = None
    #: The open folder in this one.
    child: Level | None = None


def _folders(folder: str) -> list[str]:
    """``""``, ``"a/"``, ``"a/b/"`` for ``"a/b/"``."""
    parts = folder.split("/")[:-1] if folder else []
    return ["", *("/".join(parts[: depth + 1]) + "/" for depth in range(len(parts)))]


def _entry(store: Store, artifact_id: int, parent: str, name: str) -> dict[str, Any] | None:
    """The entry ``name`` (a file, or a folder ending in ``/``) as a listing of ``parent``
    shows it."""
    child = name[len(parent) :]
    if name.endswith("/"):
        files = ui_queries.folder_file_count(store, artifact_id, name)
        return {"child": child, "name": name, "files": files} if files else None
    row = ui_queries.file_entry(store, artifact_id, name)
    return {"child": child, **dict(row)} if row is not None else None


def tree(
    store: Store, artifact_id: int, folder: str, selected: str, after: str | None
) -> tuple[list[str], Level]:
    """The folders above the tree (a breadcrumb) and the tree's top level, open down to
    ``folder`` (the current folder, paged by ``after``); ``selected`` is the file shown."""
    path = _folders(folder)
    above, shown = path[: -LEVELS], path[-LEVELS:]
    top: Level | None = None
    for depth in reversed(range(len(shown))):
        here = shown[depth]
        listing = ui_queries.directory(
            store, artifact_id, here, after if depth == len(shown) - 1 else None
        )
        level = Level(here, listing.entries, listing.after, child=top)
        on_path = top.folder if top is not None else (selected or None)
        if on_path and on_path not in {entry["name"] for entry in listing.entries}:
            level.beyond = _entry(store, artifact_id, here, on_path)
        top = level
    assert top is not None
    return above, top
