"""Relay paginators (``ArtifactTypes``, ``ArtifactCollections``, ``Artifacts``,
``RunArtifacts``, ``ArtifactFiles``, ``Runs``, ``Projects``), named and behaving like the SDK's.

Each fetches ``per_page`` items at a time as it is iterated or indexed; ``cursor`` is where
the next page starts, so a paginator made with a saved cursor resumes there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import queries

if TYPE_CHECKING:
    from .api import Api, Project
    from .artifact import Artifact
    from .collections import ArtifactCollection, ArtifactType
    from .reading import ArtifactFile
    from .run import Run

T = TypeVar("T")


class Paginator(Generic[T]):
    """Pages of one GraphQL connection, fetched on demand."""

    QUERY: str

    def __init__(
        self, api: Api, variables: dict[str, Any], per_page: int = 50, cursor: str | None = None
    ) -> None:
        self._api = api
        self.variables = dict(variables)
        self.per_page = per_page
        self.cursor = cursor
        self.objects: list[T] = []
        self.last_response: dict[str, Any] | None = None
        self._more = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} ({len(self.objects)} loaded)>"

    def _connection(self) -> dict[str, Any] | None:
        """The connection object inside ``last_response`` (None when its parent is missing)."""
        raise NotImplementedError

    def convert_objects(self) -> list[T]:
        """The current page's nodes as client objects."""
        raise NotImplementedError

    @property
    def more(self) -> bool:
        return self._more

    @property
    def length(self) -> int | None:
        """The total count the server reports, once a page was fetched (None if it has none)."""
        connection = self._connection() if self.last_response else None
        return None if connection is None else connection.get("totalCount")

    def update_variables(self) -> None:
        self.variables.update({"perPage": self.per_page, "cursor": self.cursor})

    def _load_page(self) -> bool:
        if not self._more:
            return False
        self.update_variables()
        self.last_response = self._api.client.execute(self.QUERY, self.variables)
        connection = self._connection()
        if connection is None:
            self._more = False
            return False
        self._more = bool(connection["pageInfo"]["hasNextPage"])
        self.cursor = connection["pageInfo"]["endCursor"] or self.cursor
        page = self.convert_objects()
        self.objects.extend(page)
        return bool(page)

    def _pages(self) -> Iterator[list[T]]:
        """Each further page's objects, held by the caller alone: for listings too large to
        keep (``__iter__`` keeps every object it has loaded, as the SDK's does)."""
        while self._load_page():
            page, self.objects = self.objects, []
            yield page

    def __iter__(self) -> Iterator[T]:
        index = 0
        while True:
            while index < len(self.objects):
                yield self.objects[index]
                index += 1
            if not self._load_page():
                return

    def __getitem__(self, index: int | slice) -> Any:
        needed = index.stop if isinstance(index, slice) else index + 1
        if needed is None or needed <= 0:  # counted from the end: everything is needed
            while self._load_page():
                pass
        else:
            while len(self.objects) < needed and self._load_page():
                pass
        return self.objects[index]

    def __len__(self) -> int:
        if self.last_response is None:
            self._load_page()
        if self.length is not None:
            return self.length
        while self._load_page():
            pass
        return len(self.objects)

    def _edges(self) -> list[dict[str, Any]]:
        connection = self._connection()
        return connection["edges"] if connection else []


def _project(response: dict[str, Any] | None) -> dict[str, Any]:
    return (response or {}).get("project") or {}


class ArtifactTypes(Paginator["ArtifactType"]):
    QUERY = queries.PROJECT_ARTIFACT_TYPES

    def __init__(self, api: Api, entity: str, project: str, per_page: int = 50) -> None:
        super().__init__(api, {"entity": entity, "project": project}, per_page)
        self.entity, self.project = entity, project

    def _connection(self) -> dict[str, Any] | None:
        return _project(self.last_response).get("artifactTypes")

    def convert_objects(self) -> list[ArtifactType]:
        from .collections import ArtifactType

        return [
            ArtifactType(self._api, self.entity, self.project, edge["node"]["name"], edge["node"])
            for edge in self._edges()
        ]


class ArtifactCollections(Paginator["ArtifactCollection"]):
    QUERY = queries.TYPE_ARTIFACT_COLLECTIONS

    def __init__(
        self,
        api: Api,
        entity: str,
        project: str,
        type_name: str,
        per_page: int = 50,
        filters: dict[str, Any] | None = None,
        order: str | None = None,
        start: str | None = None,
    ) -> None:
        variables = {
            "entity": entity,
            "project": project,
            "type": type_name,
            "filters": json.dumps(filters) if filters else None,
            "order": order,
        }
        super().__init__(api, variables, per_page, start)
        self.entity, self.project, self.type_name = entity, project, type_name

    def _connection(self) -> dict[str, Any] | None:
        return (_project(self.last_response).get("artifactType") or {}).get("artifactCollections")

    def convert_objects(self) -> list[ArtifactCollection]:
        from .collections import ArtifactCollection

        return [ArtifactCollection(self._api, edge["node"]) for edge in self._edges()]


class Artifacts(Paginator["Artifact"]):
    """The versions of one collection, newest first."""

    QUERY = queries.PROJECT_ARTIFACTS

    def __init__(
        self,
        api: Api,
        entity: str,
        project: str,
        collection_name: str,
        type: str,  # noqa: A002 - the SDK's name
        filters: dict[str, Any] | None = None,
        order: str | None = None,
        per_page: int = 50,
        tags: str | list[str] | None = None,
        start: str | None = None,
    ) -> None:
        variables = {
            "entity": entity,
            "project": project,
            "type": type,
            "collection": collection_name,
            "filters": json.dumps(filters) if filters else None,
            "order": order,
        }
        super().__init__(api, variables, per_page, start)
        self._tags = {tags} if isinstance(tags, str) else set(tags or [])

    def _connection(self) -> dict[str, Any] | None:
        collection = (_project(self.last_response).get("artifactType") or {}).get(
            "artifactCollection"
        )
        return (collection or {}).get("artifacts")

    def convert_objects(self) -> list[Artifact]:
        from .artifact import Artifact

        artifacts = [Artifact._from_node(self._api, edge["node"]) for edge in self._edges()]
        return [a for a in artifacts if self._tags <= set(a.tags)]


class RunArtifacts(Paginator["Artifact"]):
    """What a run logged (``mode="logged"``) or used (``mode="used"``)."""

    def __init__(self, api: Api, run: Run, mode: str = "logged", per_page: int = 50) -> None:
        if mode not in ("logged", "used"):
            raise ValueError("mode must be 'logged' or 'used'")
        self.QUERY = (
            queries.RUN_OUTPUT_ARTIFACTS if mode == "logged" else queries.RUN_INPUT_ARTIFACTS
        )
        variables = {"entity": run.entity, "project": run.project, "run": run.id}
        super().__init__(api, variables, per_page)

    def _connection(self) -> dict[str, Any] | None:
        return (_project(self.last_response).get("run") or {}).get("artifacts")

    def convert_objects(self) -> list[Artifact]:
        from .artifact import Artifact

        return [Artifact._from_node(self._api, edge["node"]) for edge in self._edges()]


class ArtifactFiles(Paginator["ArtifactFile"]):
    QUERY = queries.FILES

    def __init__(
        self,
        api: Api,
        artifact: Artifact,
        names: list[str] | None = None,
        per_page: int = 50,
        start: str | None = None,
    ) -> None:
        variables = {
            "entity": artifact.entity,
            "project": artifact.project,
            "collection": artifact.collection_name,
            "alias": artifact.version,
            "fileNames": names,
        }
        super().__init__(api, variables, per_page, cursor=start)

    def _connection(self) -> dict[str, Any] | None:
        collection = _project(self.last_response).get("artifactCollection") or {}
        return (collection.get("artifactMembership") or {}).get("files")

    def convert_objects(self) -> list[ArtifactFile]:
        from .reading import ArtifactFile

        return [ArtifactFile(edge["node"]) for edge in self._edges()]


class Runs(Paginator["Run"]):
    """Runs of a project, filtered and ordered by the server (MongoDB-style filters)."""

    QUERY = queries.RUNS

    def __init__(
        self,
        api: Api,
        entity: str,
        project: str,
        filters: dict[str, Any] | None = None,
        order: str | None = None,
        per_page: int = 50,
    ) -> None:
        variables = {
            "entity": entity,
            "project": project,
            "filters": json.dumps(filters or {}),
            "order": order or "+created_at",
        }
        super().__init__(api, variables, per_page)
        self.entity, self.project = entity, project

    def _connection(self) -> dict[str, Any] | None:
        return _project(self.last_response).get("runs")

    @property
    def length(self) -> int | None:
        return _project(self.last_response).get("runCount") if self.last_response else None

    def convert_objects(self) -> list[Run]:
        from .run import Run

        return [
            Run(self._api, self.entity, self.project, edge["node"]["name"], edge["node"])
            for edge in self._edges()
        ]


class Projects(Paginator["Project"]):
    QUERY = queries.PROJECTS

    def __init__(self, api: Api, entity: str, per_page: int = 50) -> None:
        super().__init__(api, {"entity": entity}, per_page)

    def _connection(self) -> dict[str, Any] | None:
        return (self.last_response or {}).get("models")

    def convert_objects(self) -> list[Project]:
        from .api import Project

        return [
            Project(edge["node"]["entityName"], edge["node"]["name"], edge["node"]["id"])
            for edge in self._edges()
        ]
