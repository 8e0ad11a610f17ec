"""The keyset-paged listings the API pages through (Relay connections), by domain, and the
paging itself: a page is the rows after a cursor (``key > cursor``), never an OFFSET, so
versions logged meanwhile never shift a page.

Each :class:`Listing` selects with a ``{where}`` placeholder that :meth:`ListingRows.page`
fills in with the cursor's condition. Which rows the caller may see is decided by the
resolver's ``visible`` (the core's :mod:`.access`) on each row's object.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .base import StoreBase
from .registry import MEMBERSHIP_ROWS


@dataclass(frozen=True)
class Listing:
    """``sql`` selects rows with a ``{where}`` placeholder; ``key`` is the SQL expression pages
    are ordered and cut on, and ``cursor_column`` the name of that value among the selected
    columns (when ``key``'s own name is taken by a joined table's ``id``)."""

    sql: str
    key: str = "id"
    cursor_column: str | None = None
    descending: bool = False

    @property
    def cursor_name(self) -> str:
        return self.cursor_column or self.key.rsplit(".", 1)[-1]


class ListingRows(StoreBase):
    def page(
        self, listing: Listing, params: Sequence[Any], cursor: int | None, limit: int
    ) -> list[sqlite3.Row]:
        """Up to ``limit`` rows of ``listing`` after ``cursor`` (from the start without one)."""
        condition = "1"
        page_params: list[Any] = []
        if cursor is not None:
            condition = f"{listing.key} {'<' if listing.descending else '>'} ?"
            page_params.append(cursor)
        order = f"{listing.key} {'DESC' if listing.descending else 'ASC'}"
        return self.all(
            f"{listing.sql.format(where=condition)} ORDER BY {order} LIMIT ?",
            [*params, *page_params, limit],
        )

    def count(self, listing: Listing, params: Sequence[Any]) -> int:
        return self.one(f"SELECT COUNT(*) FROM ({listing.sql.format(where='1')})", params)[0]


# Projects and runs -----------------------------------------------------------------------------

PROJECTS_OF_ENTITY = Listing("SELECT * FROM projects WHERE entity_id = ? AND {where}")
ARTIFACT_TYPES_OF_PROJECT = Listing("SELECT * FROM artifact_types WHERE project_id = ? AND {where}")
RUN_OUTPUTS = Listing(
    "SELECT o.id AS output_id, a.* FROM artifact_outputs o "
    "JOIN artifacts a ON a.id = o.artifact_id "
    "WHERE o.run_id = ? AND a.state = 'COMMITTED' AND {where}",
    key="o.id",
    cursor_column="output_id",
)
RUN_INPUTS = Listing(
    "SELECT u.id AS use_id, u.used_as, a.* FROM artifact_uses u "
    "JOIN artifacts a ON a.id = u.artifact_id WHERE u.run_id = ? AND {where}",
    key="u.id",
    cursor_column="use_id",
)

# Collections ----------------------------------------------------------------------------------

COLLECTION_TAGS = Listing(
    "SELECT t.* FROM tags t JOIN collection_tags ct ON ct.tag_id = t.id "
    "WHERE ct.collection_id = ? AND {where}",
    key="t.id",
)
#: W&B lists the aliases people chose: the version aliases (vN) are left out.
COLLECTION_ALIASES = Listing(
    "SELECT * FROM aliases WHERE collection_id = ? AND NOT (alias GLOB 'v[0-9]*' "
    "AND substr(alias, 2) NOT GLOB '*[^0-9]*') AND {where}"
)
COLLECTION_VERSIONS = Listing(
    MEMBERSHIP_ROWS + "WHERE m.collection_id = ? AND a.state = 'COMMITTED' AND {where}",
    key="m.id",
    cursor_column="membership_id",
    descending=True,
)
COLLECTION_MEMBERSHIPS = Listing(
    "SELECT m.* FROM memberships m JOIN artifacts a ON a.id = m.artifact_id "
    "WHERE m.collection_id = ? AND a.state = 'COMMITTED' AND {where}",
    key="m.id",
    descending=True,
)

# Versions -------------------------------------------------------------------------------------

#: Every manifest entry of a version, references too.
VERSION_FILES = Listing("SELECT * FROM artifact_files WHERE artifact_id = ? AND {where}")
VERSION_USERS = Listing(
    "SELECT u.id AS use_id, r.* FROM artifact_uses u JOIN runs r ON r.id = u.run_id "
    "WHERE u.artifact_id = ? AND {where}",
    key="u.id",
    cursor_column="use_id",
)
VERSION_MEMBERSHIPS = Listing("SELECT * FROM memberships WHERE artifact_id = ? AND {where}")


def named_files(count: int) -> Listing:
    """The version's entries of ``count`` names (parameters after the version's ID), looked up
    by (version, name) first: paging by id would scan the whole version."""
    return Listing(
        "WITH named AS MATERIALIZED (SELECT * FROM artifact_files WHERE artifact_id = ? "
        f"AND name IN ({', '.join('?' * count)})) SELECT * FROM named WHERE {{where}}"
    )
