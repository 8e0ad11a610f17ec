"""The Registry search: registries, their portfolios and the versions linked into them.

A registry is a project named ``wandb-registry-<name>`` of the organization's entity. The SDK
selects registries, collections and versions with three MongoDB-style filters (see
:mod:`.filters`); this module builds the documents those filters address.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

from ...formats.names import REGISTRY_PREFIX as PREFIX
from ..filters import COLLECTIONS, REGISTRIES, VERSIONS

if TYPE_CHECKING:
    from .versions import Store

#: W&B's ``access`` values of a registry: visible to the organization, or to members only.
VISIBILITIES = ("PRIVATE", "RESTRICTED")


def registry_document(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "entity_id": row["entity_id"],
        "description": row["description"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"] or row["created_at"],
    }


def collection_document(store: Store, row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "tag": [tag["name"] for tag in store.collection_tags(row["id"])],
        "description": row["description"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def version_document(store: Store, row: sqlite3.Row) -> dict[str, Any]:
    """``row`` joins a membership (``membership_id``, ``linked_at``) with its artifact."""
    return {
        "id": row["id"],
        "version": f"v{row['version_index']}",
        "version_index": row["version_index"],
        "state": row["state"],
        "tag": [tag["name"] for tag in store.artifact_tags(row["id"])],
        "alias": [alias["alias"] for alias in store.aliases_of(row["id"], row["collection_id"])],
        "metadata": json.loads(row["metadata"] or "{}"),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "linked_at": row["linked_at"],
        "artifact_size": row["size"],
    }


MEMBERSHIP_ROWS = (
    "SELECT m.id AS membership_id, m.version_index, m.collection_id, m.created_at AS linked_at, "
    "a.* FROM memberships m JOIN artifacts a ON a.id = m.artifact_id "
)


def registries(
    store: Store, entity_id: int, filters: str | None, order: str | None
) -> list[sqlite3.Row]:
    rows = store.all(
        "SELECT * FROM projects WHERE entity_id = ? AND instr(name, ?) = 1 ORDER BY id",
        (entity_id, PREFIX),
    )
    return REGISTRIES.select(((registry_document(row), row) for row in rows), filters, order)


def collections(
    store: Store,
    projects: list[sqlite3.Row],
    filters: str | None,
    order: str | None,
    kinds: list[str] | None = None,
) -> list[sqlite3.Row]:
    kinds = kinds or ["PORTFOLIO"]
    rows = [
        row
        for project in projects
        for row in store.all(
            "SELECT * FROM collections WHERE project_id = ? AND state = 'READY' "
            f"AND kind IN ({', '.join('?' * len(kinds))}) ORDER BY id",
            (project["id"], *kinds),
        )
    ]
    return select_collections(store, rows, filters, order)


def select_collections(
    store: Store, rows: list[sqlite3.Row], filters: str | None, order: str | None
) -> list[sqlite3.Row]:
    return COLLECTIONS.select(((collection_document(store, r), r) for r in rows), filters, order)


def versions(
    store: Store, collections: list[sqlite3.Row], filters: str | None, order: str | None
) -> list[sqlite3.Row]:
    """Committed versions of ``collections``, newest link first unless ``order`` says."""
    rows = [
        row
        for collection in collections
        for row in store.all(
            MEMBERSHIP_ROWS + "WHERE m.collection_id = ? AND a.state = 'COMMITTED' "
            "ORDER BY m.id DESC",
            (collection["id"],),
        )
    ]
    return VERSIONS.select(((version_document(store, r), r) for r in rows), filters, order)
