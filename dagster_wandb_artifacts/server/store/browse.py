"""Read queries of the web UI (browsing projects, collections, versions, files, runs and
lineage): each page's rows, paged in SQL so that a collection of 10,000 versions or a version
of 100,000 files costs one page's worth of work. Every row a page shows is of a project the
viewer may use (``usable``, the caller's right from :mod:`.access`)."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from .versions import Store

#: Versions, runs or files on one page.
PAGE_SIZE = 50
#: Hits per kind of search result.
SEARCH_LIMIT = 50

#: Whether the page's viewer may use a project, by entity and project name
#: (:meth:`.Viewer.may_use` for the request's user).
Usable = Callable[[str, "str | None"], bool]


@dataclass(frozen=True)
class Page:
    """One page of rows; ``has_next`` is known by asking SQL for one row more than shown."""

    rows: list[Any]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def page_number(raw: str | None) -> int:
    """A ``?page=`` value, 1 when absent or malformed; bounded so OFFSET stays an int."""
    if raw is None or not raw.isdigit():
        return 1
    return max(1, min(int(raw), 10_000_000))


def _paged(store: Store, sql: str, params: tuple[Any, ...], number: int) -> Page:
    rows = store.all(f"{sql} LIMIT ? OFFSET ?", (*params, PAGE_SIZE + 1, (number - 1) * PAGE_SIZE))
    return Page(rows[:PAGE_SIZE], number, len(rows) > PAGE_SIZE)


def usable_rows(
    store: Store, sql: str, params: Iterable[Any], usable: Usable, limit: int
) -> tuple[list[sqlite3.Row], int]:
    """The first ``limit`` rows (each with ``entity`` and ``project`` columns) the viewer may
    use, and how many it may use in all: counted here, since SQL does not know the viewer."""
    shown: list[sqlite3.Row] = []
    total = 0
    for row in _usable(store, sql, params, usable):
        total += 1
        if len(shown) < limit:
            shown.append(row)
    return shown, total


def _usable(store: Store, sql: str, params: Iterable[Any], usable: Usable) -> Iterator[sqlite3.Row]:
    return (
        row for row in store.db.execute(sql, tuple(params)) if usable(row["entity"], row["project"])
    )


def _placeholders(values: Iterable[Any]) -> str:
    return ", ".join("?" for _ in values)


def _like(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere, its own ``%`` and ``_`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Home ----------------------------------------------------------------------------------------


def projects_overview(store: Store, entity: str | None = None) -> list[sqlite3.Row]:
    """Every project (of ``entity`` when given) with its counts and last activity."""
    where = "WHERE e.name = ?" if entity else ""
    return store.all(
        "SELECT e.name AS entity, p.name AS project, p.description, "
        "(SELECT COUNT(*) FROM collections c WHERE c.project_id = p.id AND c.state = 'READY') "
        "  AS collections, "
        "(SELECT COUNT(*) FROM memberships m JOIN collections c ON c.id = m.collection_id "
        "  WHERE c.project_id = p.id AND c.state = 'READY') AS versions, "
        "(SELECT COUNT(*) FROM runs r WHERE r.project_id = p.id) AS runs, "
        "MAX(p.created_at, COALESCE(p.updated_at, ''), "
        "  COALESCE((SELECT MAX(updated_at) FROM collections c WHERE c.project_id = p.id), ''), "
        "  COALESCE((SELECT MAX(heartbeat_at) FROM runs r WHERE r.project_id = p.id), '')) "
        "  AS last_activity "
        f"FROM projects p JOIN entities e ON e.id = p.entity_id {where} "
        "ORDER BY last_activity DESC, e.name, p.name",
        (entity,) if entity else (),
    )


_COLLECTION_HIT = (
    "SELECT DISTINCT e.name AS entity, p.name AS project, t.name AS type, c.name AS collection, "
    "c.kind, {match} AS matched FROM collections c JOIN projects p ON p.id = c.project_id "
    "JOIN entities e ON e.id = p.entity_id JOIN artifact_types t ON t.id = c.type_id "
)


def search(store: Store, text: str, usable: Usable) -> dict[str, list[sqlite3.Row]]:
    """Collections the viewer may use whose name, one of whose aliases, or whose (or a
    version's) tag holds ``text``, up to ``SEARCH_LIMIT`` each."""
    pattern = _like(text)
    ready = "AND c.state = 'READY' ORDER BY e.name, p.name, c.name"
    queries = {
        "names": _COLLECTION_HIT.format(match="c.name")
        + f"WHERE c.name LIKE ? ESCAPE '\\' {ready}",
        "aliases": _COLLECTION_HIT.format(match="al.alias")
        + "JOIN aliases al ON al.collection_id = c.id "
        f"WHERE al.alias LIKE ? ESCAPE '\\' {ready}",
        "tags": _COLLECTION_HIT.format(match="tg.name")
        + "JOIN tags tg ON tg.id IN (SELECT tag_id FROM collection_tags ct "
        "  WHERE ct.collection_id = c.id UNION SELECT at.tag_id FROM artifact_tags at "
        "  JOIN memberships m ON m.artifact_id = at.artifact_id WHERE m.collection_id = c.id) "
        f"WHERE tg.name LIKE ? ESCAPE '\\' {ready}",
    }
    return {
        kind: list(islice(_usable(store, sql, (pattern,), usable), SEARCH_LIMIT))
        for kind, sql in queries.items()
    }


# Project -------------------------------------------------------------------------------------


def collections_of(
    store: Store, project_id: int, number: int, type_name: str | None = None
) -> Page:
    """A page of the project's collections (by type, then name) with their version count,
    latest version (its index, its custom aliases, and its description, shown where the
    collection has none of its own) and tags."""
    type_filter = "AND t.name = ?" if type_name else ""
    page = _paged(
        store,
        "SELECT c.*, t.name AS type, "
        "(SELECT COUNT(*) FROM memberships m WHERE m.collection_id = c.id) AS version_count, "
        "(SELECT m.version_index FROM aliases al JOIN memberships m "
        "  ON m.collection_id = al.collection_id AND m.artifact_id = al.artifact_id "
        "  WHERE al.collection_id = c.id AND al.alias = 'latest') AS latest_index, "
        "(SELECT a.description FROM aliases al JOIN artifacts a ON a.id = al.artifact_id "
        "  WHERE al.collection_id = c.id AND al.alias = 'latest') AS latest_description "
        "FROM collections c JOIN artifact_types t ON t.id = c.type_id "
        f"WHERE c.project_id = ? AND c.state = 'READY' {type_filter} ORDER BY t.name, c.name",
        (project_id, type_name) if type_name else (project_id,),
        number,
    )
    ids = [row["id"] for row in page.rows]
    tags = _names_by_owner(
        store,
        "SELECT ct.collection_id AS owner, t.name FROM collection_tags ct "
        f"JOIN tags t ON t.id = ct.tag_id WHERE ct.collection_id IN ({_placeholders(ids)}) "
        "ORDER BY t.name",
        ids,
    )
    aliases = _names_by_owner(
        store,
        "SELECT al.collection_id AS owner, al.alias AS name FROM aliases al "
        "JOIN aliases latest ON latest.collection_id = al.collection_id "
        "AND latest.artifact_id = al.artifact_id AND latest.alias = 'latest' "
        f"WHERE al.collection_id IN ({_placeholders(ids)}) AND al.alias != 'latest' "
        "AND NOT (al.alias GLOB 'v[0-9]*' AND substr(al.alias, 2) NOT GLOB '*[^0-9]*') "
        "ORDER BY al.id",
        ids,
    )
    rows = [
        {**dict(row), "tags": tags[row["id"]], "aliases": aliases[row["id"]]} for row in page.rows
    ]
    return Page(rows, page.number, page.has_next)


def _names_by_owner(store: Store, sql: str, ids: list[int]) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = defaultdict(list)
    if ids:
        for row in store.all(sql, ids):
            grouped[row["owner"]].append(row["name"])
    return grouped


def runs_of(store: Store, project_id: int, number: int) -> Page:
    return _paged(
        store,
        "SELECT * FROM runs WHERE project_id = ? ORDER BY created_at DESC, id DESC",
        (project_id,),
        number,
    )


# Collection ----------------------------------------------------------------------------------

#: A version as a collection shows it: its membership, its artifact, its producer run and the
#: collection (its own sequence) it was logged into.
_VERSION_ROWS = (
    "SELECT m.version_index, m.collection_id, m.created_at AS linked_at, a.*, "
    "r.name AS run_name, r.display_name AS run_display, rp.name AS run_project, "
    "re.name AS run_entity "
    "FROM memberships m JOIN artifacts a ON a.id = m.artifact_id "
    "LEFT JOIN runs r ON r.id = a.created_by_run_id "
    "LEFT JOIN projects rp ON rp.id = r.project_id LEFT JOIN entities re ON re.id = rp.entity_id "
)


def versions_of(store: Store, collection_id: int, number: int, usable: Usable) -> Page:
    """The collection's committed versions, newest first, each with aliases and tags, and its
    producer run where the viewer may use that run's project."""
    page = _paged(
        store,
        _VERSION_ROWS + "WHERE m.collection_id = ? AND a.state = 'COMMITTED' "
        "ORDER BY m.version_index DESC",
        (collection_id,),
        number,
    )
    ids = [row["id"] for row in page.rows]
    aliases = _names_by_owner(
        store,
        "SELECT artifact_id AS owner, alias AS name FROM aliases WHERE collection_id = ? "
        f"AND artifact_id IN ({_placeholders(ids)}) ORDER BY id",
        [collection_id, *ids],
    )
    tags = _names_by_owner(
        store,
        "SELECT at.artifact_id AS owner, t.name FROM artifact_tags at "
        f"JOIN tags t ON t.id = at.tag_id WHERE at.artifact_id IN ({_placeholders(ids)}) "
        "ORDER BY t.name",
        ids,
    )
    rows = [
        {**dict(row), "aliases": aliases[row["id"]], "tags": tags[row["id"]]} for row in page.rows
    ]
    for row in rows:
        if row["run_name"] and not usable(row["run_entity"], row["run_project"]):
            row["run_name"] = None
    return Page(rows, page.number, page.has_next)


def version_count(store: Store, collection_id: int) -> int:
    return store.one(
        "SELECT COUNT(*) FROM memberships m JOIN artifacts a ON a.id = m.artifact_id "
        "WHERE m.collection_id = ? AND a.state = 'COMMITTED'",
        (collection_id,),
    )[0]


# Version -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a version is shown: entity, project, type, collection name and version index."""

    entity: str
    project: str
    type: str
    collection: str
    index: int

    @property
    def version(self) -> str:
        return f"v{self.index}"


_PLACES = (
    "SELECT a.id AS artifact_id, e.name AS entity, p.name AS project, t.name AS type, "
    "c.name AS collection, m.version_index FROM artifacts a "
    "JOIN memberships m ON m.artifact_id = a.id JOIN collections c ON c.id = m.collection_id "
    "JOIN artifact_types t ON t.id = c.type_id JOIN projects p ON p.id = c.project_id "
    "JOIN entities e ON e.id = p.entity_id "
)


def home_places(store: Store, artifact_ids: list[int]) -> dict[int, Place]:
    """Each version's place in the collection it was logged into."""
    if not artifact_ids:
        return {}
    rows = store.all(
        _PLACES + f"WHERE m.collection_id = a.sequence_id AND a.id IN "
        f"({_placeholders(artifact_ids)})",
        artifact_ids,
    )
    return {row["artifact_id"]: _place(row) for row in rows}


def _place(row: sqlite3.Row) -> Place:
    return Place(
        row["entity"], row["project"], row["type"], row["collection"], row["version_index"]
    )


def links_of(store: Store, artifact_id: int) -> list[Place]:
    """The portfolios (Registry collections included) a version is linked into."""
    rows = store.all(
        _PLACES + "WHERE a.id = ? AND c.kind = 'PORTFOLIO' AND c.state = 'READY' "
        "ORDER BY e.name, p.name, c.name",
        (artifact_id,),
    )
    return [_place(row) for row in rows]


def run_of(store: Store, run_id: int | None) -> sqlite3.Row | None:
    if run_id is None:
        return None
    return store.one(
        "SELECT r.*, p.name AS project, e.name AS entity FROM runs r "
        "JOIN projects p ON p.id = r.project_id JOIN entities e ON e.id = p.entity_id "
        "WHERE r.id = ?",
        (run_id,),
    )


#: Sorts after every character a file name may hold: ``name + _LAST`` bounds the names under
#: ``name`` in the ``(artifact_id, name)`` index.
_LAST = "\U0010ffff"


@dataclass(frozen=True)
class Listing:
    """One page of a folder: its entries, and the name to continue after (None: the end)."""

    entries: list[dict[str, Any]]
    after: str | None


def directory(store: Store, artifact_id: int, prefix: str, after: str | None) -> Listing:
    """The entries right under ``prefix`` (``""`` or ending in ``/``) that sort after
    ``after``: each a file, or a folder with its file count.

    A loose index scan of ``(artifact_id, name)``: one seek per entry, jumping over a folder's
    contents, so a page costs ``PAGE_SIZE`` seeks (plus counting each folder's files in the
    index) however many files the folder holds, at any depth of paging.
    """
    end = prefix + _LAST
    cursor = after + _LAST if after and after.endswith("/") else (after or prefix)
    entries: list[dict[str, Any]] = []
    while len(entries) <= PAGE_SIZE:
        row = store.one(
            "SELECT name, md5, size, ref FROM artifact_files WHERE artifact_id = ? "
            "AND name > ? AND name < ? ORDER BY name LIMIT 1",
            (artifact_id, cursor, end),
        )
        if row is None:
            break
        child, slash, _ = row["name"][len(prefix) :].partition("/")
        if slash:
            folder = prefix + child + "/"
            files = folder_file_count(store, artifact_id, folder)
            entries.append({"child": child + "/", "name": folder, "files": files})
            cursor = folder + _LAST
        else:
            entries.append({"child": child, **dict(row)})
            cursor = row["name"]
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return Listing(entries, prefix + entries[-1]["child"] if more else None)


def folder_file_count(store: Store, artifact_id: int, folder: str) -> int:
    """The files under ``folder`` (ending in ``/``), at any depth, counted in the index."""
    return store.one(
        "SELECT COUNT(*) FROM artifact_files WHERE artifact_id = ? AND name > ? AND name < ?",
        (artifact_id, folder, folder + _LAST),
    )[0]


def file_entry(store: Store, artifact_id: int, name: str) -> sqlite3.Row | None:
    return store.one(
        "SELECT * FROM artifact_files WHERE artifact_id = ? AND name = ?", (artifact_id, name)
    )


# Runs ----------------------------------------------------------------------------------------


#: A version's ID, with the entity and project of the collection it was logged into.
HOME_JOIN = (
    "JOIN collections c ON c.id = a.sequence_id JOIN projects p ON p.id = c.project_id "
    "JOIN entities e ON e.id = p.entity_id "
)
#: A run's ID, with its entity and project.
RUN_JOIN = (
    "JOIN runs r ON r.id = u.run_id JOIN projects p ON p.id = r.project_id "
    "JOIN entities e ON e.id = p.entity_id "
)
OWNER = "e.name AS entity, p.name AS project"


def logged_by(
    store: Store, run_id: int, limit: int, usable: Usable
) -> tuple[list[sqlite3.Row], int]:
    """The committed versions a run logged that the viewer may use: the first ``limit``, and
    how many."""
    return usable_rows(
        store,
        f"SELECT a.id, {OWNER} FROM artifacts a {HOME_JOIN}"
        "WHERE a.created_by_run_id = ? AND a.state = 'COMMITTED' ORDER BY a.id",
        (run_id,),
        usable,
        limit,
    )


def used_by(store: Store, run_id: int, limit: int, usable: Usable) -> tuple[list[sqlite3.Row], int]:
    """The committed versions a run used that the viewer may use: the first ``limit``, and
    how many."""
    return usable_rows(
        store,
        f"SELECT a.id, {OWNER} FROM artifact_uses u JOIN artifacts a ON a.id = u.artifact_id "
        f"{HOME_JOIN}WHERE u.run_id = ? AND a.state = 'COMMITTED' ORDER BY u.id",
        (run_id,),
        usable,
        limit,
    )


def users_of(
    store: Store, artifact_id: int, limit: int, usable: Usable
) -> tuple[list[sqlite3.Row], int]:
    """The runs that used a version that the viewer may use: the first ``limit``, and how
    many."""
    return usable_rows(
        store,
        f"SELECT u.run_id AS id, {OWNER} FROM artifact_uses u {RUN_JOIN}"
        "WHERE u.artifact_id = ? ORDER BY u.id",
        (artifact_id,),
        usable,
        limit,
    )


def run_names(store: Store, run_ids: list[int]) -> dict[int, sqlite3.Row]:
    if not run_ids:
        return {}
    rows = store.all(
        "SELECT r.id, r.name, r.display_name, r.job_type, r.state, p.name AS project, "
        "e.name AS entity FROM runs r JOIN projects p ON p.id = r.project_id "
        f"JOIN entities e ON e.id = p.entity_id WHERE r.id IN ({_placeholders(run_ids)})",
        run_ids,
    )
    return {row["id"]: row for row in rows}


# Registry ------------------------------------------------------------------------------------


def registries_of(store: Store, entity: str, prefix: str) -> list[sqlite3.Row]:
    return store.all(
        "SELECT p.*, (SELECT COUNT(*) FROM collections c WHERE c.project_id = p.id "
        "AND c.state = 'READY') AS collections FROM projects p JOIN entities e "
        "ON e.id = p.entity_id WHERE e.name = ? AND instr(p.name, ?) = 1 ORDER BY p.name",
        (entity, prefix),
    )


#: The SQL of a lineage node's neighbours, by its kind and direction: the neighbour's kind,
#: and their IDs and owners.
_NEIGHBOURS = {
    ("artifact", True): (
        "run",
        f"SELECT r.id, {OWNER} FROM artifacts a JOIN runs r ON r.id = a.created_by_run_id "
        "JOIN projects p ON p.id = r.project_id JOIN entities e ON e.id = p.entity_id "
        "WHERE a.id = ?",
    ),
    ("artifact", False): (
        "run",
        f"SELECT u.run_id, {OWNER} FROM artifact_uses u {RUN_JOIN}"
        "WHERE u.artifact_id = ? ORDER BY u.id",
    ),
    ("run", True): (
        "artifact",
        f"SELECT a.id, {OWNER} FROM artifact_uses u JOIN artifacts a ON a.id = u.artifact_id "
        f"{HOME_JOIN}WHERE u.run_id = ? AND a.state = 'COMMITTED' ORDER BY u.id",
    ),
    ("run", False): (
        "artifact",
        f"SELECT a.id, {OWNER} FROM artifacts a {HOME_JOIN}"
        "WHERE a.created_by_run_id = ? AND a.state = 'COMMITTED' ORDER BY a.id",
    ),
}


def lineage_neighbours(
    store: Store, key: tuple[str, int], upstream: bool, usable: Usable, limit: int
) -> tuple[list[tuple[str, int]], int]:
    """Up to ``limit`` neighbours of a lineage node the viewer may use, and how many it may
    use in all."""
    kind, node_id = key
    neighbour, sql = _NEIGHBOURS[kind, upstream]
    rows, total = usable_rows(store, sql, (node_id,), usable, limit)
    return [(neighbour, row[0]) for row in rows], total
