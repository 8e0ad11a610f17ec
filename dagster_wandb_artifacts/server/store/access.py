"""Who may read and write what, decided on the object itself for one caller.

Every object lives in one project: a run, a type, a collection in theirs, a version in its
sequence's (its *source* project). The rules, W&B's:

- read an object: the caller may read its own project (its entity is the caller's or one of
  its teams', or it is one of the organization's registries);
- a version linked into a collection of a readable project (a Registry link) is readable
  through that link only: its sequence, run and source project stay as unreadable as before;
- change an object: the caller may write its own project; a version's changes (description,
  aliases, tags, files, deletion) need its source project's write right, whatever it is
  linked into;
- the organization's registries themselves (create, change, rename, delete) are changed by
  the server's administrators only.

An object the caller may not read answers as a missing one does (:class:`NotFound`), so no
answer tells whether it exists.
"""

from __future__ import annotations

import sqlite3

from ...formats.names import REGISTRY_PREFIX
from .accounts import PermissionDenied, Viewer
from .base import NotFound
from .versions import Store


class Access:
    """One caller's rights; every read and write of the core asks it about the object."""

    def __init__(self, store: Store, viewer: Viewer, org_entity: str) -> None:
        self.store = store
        self.viewer = viewer
        self.org_entity = org_entity
        self._entity_names: dict[int, str] = {}
        self._artifacts: dict[int, bool] = {}

    @property
    def admin(self) -> bool:
        return self.viewer.admin

    def entity_name(self, entity_id: int) -> str:
        name = self._entity_names.get(entity_id)
        if name is None:
            row = self.store.get("entities", entity_id)
            name = self._entity_names[entity_id] = row["name"] if row else ""
        return name

    # Projects ------------------------------------------------------------------------------

    def is_org_registry(self, project: sqlite3.Row) -> bool:
        return self.entity_name(project["entity_id"]) == self.org_entity and project[
            "name"
        ].startswith(REGISTRY_PREFIX)

    def may_read_project(self, project: sqlite3.Row | None) -> bool:
        if project is None:
            return False
        entity = self.entity_name(project["entity_id"])
        return self.viewer.may_use(entity, project["name"], self.org_entity)

    # Members write what they read: their entities' projects, and link into the registries.
    may_write_project = may_read_project

    def may_write_named(self, entity: str, project: str) -> bool:
        """:meth:`may_write_project` of a project by its names, existing or to be created."""
        return self.viewer.may_use(entity, project, self.org_entity)

    def write_named(self, entity: str, project: str) -> None:
        """Refuses a write into ``entity/project`` (created if missing) the caller may not do."""
        if not self.may_write_named(entity, project):
            raise PermissionDenied(
                f"permission denied: {self.viewer.username} may not use {entity}/{project}"
            )

    def entity_named(self, name: str) -> sqlite3.Row | None:
        """The entity by name, when the caller may use it (its own, its teams', the
        organization's; created on first use, as every name is accepted); None for any other,
        existing or not, so the answer never tells whether it exists."""
        if name != self.org_entity and not self.viewer.may_use(name, None, self.org_entity):
            return None
        return self.store.ensure_entity(name)

    def write_entity(self, name: str) -> sqlite3.Row:
        """The entity the caller creates something in (a chart, a resource config), created
        if missing; refused unless it is the caller's or one of its teams'."""
        if not self.viewer.may_use(name, None, self.org_entity):
            raise PermissionDenied(f"permission denied: {self.viewer.username} may not use {name}")
        return self.store.ensure_entity(name)

    def project_named(self, entity: str, name: str) -> sqlite3.Row | None:
        """The project by its names, when the caller may read it (else as if missing)."""
        row = self.store.find_project(entity, name)
        return row if self.may_read_project(row) else None

    def project(self, project_id: int | None) -> sqlite3.Row | None:
        """The project, when the caller may read it."""
        row = None if project_id is None else self.store.get("projects", project_id)
        return row if self.may_read_project(row) else None

    def readable_projects(self, rows: list[sqlite3.Row]) -> list[sqlite3.Row]:
        return [row for row in rows if self.may_read_project(row)]

    def writable_project(self, project_id: int, what: str) -> sqlite3.Row:
        """The project the caller changes, refused unless it may write it."""
        row = self.project(project_id)
        if row is None:
            raise NotFound(f"{what} not found")
        if not self.may_write_project(row):
            raise self._denied(what)
        return row

    def change_registry(self, project: sqlite3.Row | None, what: str) -> None:
        """Refuses a change of one of the organization's registries by anyone but the server's
        administrators and the registry's own admins (W&B's registry admin role)."""
        if (
            project is not None
            and not self.admin
            and self.is_org_registry(project)
            and self.store.project_role(project["id"], self.viewer.id) != "admin"
        ):
            raise PermissionDenied(
                f"permission denied: only an administrator may {what} an organization registry"
            )

    def named_registry(self, entity: str, name: str, what: str) -> None:
        """:meth:`change_registry` for a registry named: a new one any member may create (and
        becomes its first admin)."""
        self.change_registry(self.store.find_project(entity, name), what)

    # Objects of a project ------------------------------------------------------------------

    def _in_project(self, table: str, row_id: int | None) -> sqlite3.Row | None:
        row = None if row_id is None else self.store.get(table, row_id)
        if row is None or not (self.admin or self.may_read_project(self.project_of(row))):
            return None
        return row

    def project_of(self, row: sqlite3.Row) -> sqlite3.Row | None:
        return self.store.get("projects", row["project_id"])

    def in_project(self, table: str, row_id: int | None) -> sqlite3.Row | None:
        """A row of a project's table (a sweep, a view, a run queue), when the caller may read
        its project."""
        return self._in_project(table, row_id)

    def run(self, run_id: int | None) -> sqlite3.Row | None:
        return self._in_project("runs", run_id)

    def collection(self, collection_id: int | None) -> sqlite3.Row | None:
        return self._in_project("collections", collection_id)

    def artifact_type(self, type_id: int | None) -> sqlite3.Row | None:
        return self._in_project("artifact_types", type_id)

    def writable_collection(
        self, collection_id: int, what: str = "artifact collection"
    ) -> sqlite3.Row:
        row = self.collection(collection_id)
        if row is None or row["state"] != "READY":
            raise NotFound(f"{what} not found")
        project = self.project_of(row)
        if not self.may_write_project(project):
            raise self._denied(what)
        return row

    def writable_run(self, run_id: int) -> sqlite3.Row:
        row = self.run(run_id)
        if row is None:
            raise NotFound(f"run {run_id} not found")
        if not self.may_write_project(self.project_of(row)):
            raise self._denied("run")
        return row

    # Versions ------------------------------------------------------------------------------

    def may_read_artifact(self, artifact_id: int) -> bool:
        """Readable in its source project, or through a collection it is linked into."""
        if self.admin:
            return True
        known = self._artifacts.get(artifact_id)
        if known is None:
            projects = self.store.all(
                "SELECT p.* FROM memberships m JOIN collections c ON c.id = m.collection_id "
                "JOIN projects p ON p.id = c.project_id WHERE m.artifact_id = ? UNION "
                "SELECT p.* FROM artifacts a JOIN collections c ON c.id = a.sequence_id "
                "JOIN projects p ON p.id = c.project_id WHERE a.id = ?",
                (artifact_id, artifact_id),
            )
            known = self._artifacts[artifact_id] = any(map(self.may_read_project, projects))
        return known

    def artifact(self, artifact_id: int | None) -> sqlite3.Row | None:
        """The version, when the caller may read it (by its source or a link)."""
        if artifact_id is None:
            return None
        row = self.store.get("artifacts", artifact_id)
        return row if row is not None and self.may_read_artifact(artifact_id) else None

    def require_artifact(self, artifact_id: int) -> sqlite3.Row:
        row = self.artifact(artifact_id)
        if row is None:
            raise NotFound(f"artifact {artifact_id} not found")
        return row

    def source_project(self, artifact: sqlite3.Row) -> sqlite3.Row:
        return self.store.one(
            "SELECT p.* FROM collections c JOIN projects p ON p.id = c.project_id WHERE c.id = ?",
            (artifact["sequence_id"],),
        )

    def writable_artifact(self, artifact_id: int) -> sqlite3.Row:
        """The version the caller changes: readable, and its source project writable (a
        Registry link grants reading only)."""
        row = self.require_artifact(artifact_id)
        if not self.may_write_project(self.source_project(row)):
            raise PermissionDenied(
                f"permission denied: {self.viewer.username} may read this version through a "
                "registry only; changing it needs write access to its own project"
            )
        return row

    def version_holding(self, md5_hex: str, preferred: int | None = None) -> sqlite3.Row | None:
        """A version the caller may read that holds the object ``md5_hex`` (lists it, or its
        writer uploaded it): ``preferred`` (its birth version) when readable, else the first."""
        if preferred is not None and self.may_read_artifact(preferred):
            return self.store.get("artifacts", preferred)
        rows = self.store.all(
            "SELECT artifact_id FROM artifact_files WHERE md5 = ? UNION "
            "SELECT artifact_id FROM object_grants WHERE md5 = ? ORDER BY artifact_id LIMIT 1000",
            (md5_hex, md5_hex),
        )
        for row in rows:
            if self.may_read_artifact(row[0]):
                return self.store.get("artifacts", row[0])
        return None

    def _denied(self, what: str) -> PermissionDenied:
        return PermissionDenied(f"permission denied: {self.viewer.username} may not change {what}")


#: Tables of objects an entity holds, by their ID's type (the automations').
_IN_ENTITY = {"Trigger": "triggers", "Integration": "integrations"}


def owners_of_id(store: Store, type_name: str, row_id: int) -> list[tuple[str, str | None]]:
    """(entity name, None) of the entity that owns the automation an ID of type ``type_name``
    names (for the guard of root mutations); empty for every other type, which the core
    authorizes on the object itself and answers as missing when the caller may not read it."""
    if type_name not in _IN_ENTITY:
        return []
    rows = store.all(
        f"SELECT e.name, NULL FROM {_IN_ENTITY[type_name]} t "
        "JOIN entities e ON e.id = t.entity_id WHERE t.id = ?",
        (row_id,),
    )
    return [(row[0], row[1]) for row in rows]
