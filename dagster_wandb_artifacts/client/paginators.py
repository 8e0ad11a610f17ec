"""Relay paginators (``ArtifactTypes``, ``ArtifactCollections``, ``Artifacts``,
``RunArtifacts``, ``ArtifactFiles``, ``Runs``, ``Projects``), named and behaving like the SDK's.

Each fetches ``per_page`` items at a time as it is iterated or indexed; ``cursor`` is where
the next page starts, so a paginator made with a saved cursor resumes there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sized
from typing import TYPE_CHECKING, Any, TypeVar

from . import queries
from .errors import ParentNotFoundError

if TYPE_CHECKING:
    from .api import Api
    from .artifact import Artifact
    from .collections import ArtifactCollection, ArtifactType
    from .files import ArtifactFile
    from .projects import Project
    from .run import Run

T = TypeVar("T")


class Paginator(Iterator[T]):
    """Pages of one GraphQL connection, fetched on demand.

    An iterator, as the SDK's: ``next(listing)`` gives the next object, and ``iter()``
    starts again from the first one loaded. ``listing[i]`` loads pages until ``i`` is
    loaded (a negative index counts from the end of what is loaded so far, as in the SDK).
    """

    QUERY: str

    def __init__(
        self, api: Api, variables: dict[str, Any], per_page: int = 50, cursor: str | None = None
    ) -> None:
        self._api = api
        self.variables = dict(variables)
        self.per_page = per_page
        self.cursor = cursor
        self.objects: list[T] = []
        self.index = -1
        self.last_response: dict[str, Any] | None = None
        self._more = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} ({len(self.objects)} loaded)>"

    def _connection(self) -> dict[str, Any] | None:
        """The connection object inside ``last_response`` (None when its parent is missing)."""
        raise NotImplementedError

    def _missing(self) -> str | None:
        """What the listing is of, when the server does not know it (its project, type or
        collection): the SDK raises ``ValueError`` then. None: an empty listing instead."""
        return None

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
            missing = self._missing()
            if missing is not None:  # raised again on every read, as the SDK's
                raise ParentNotFoundError(f"{missing} not found")
            self._more = False
            return False
        self._more = bool(connection["pageInfo"]["hasNextPage"])
        self.cursor = connection["pageInfo"]["endCursor"] or self.cursor
        self.objects.extend(self.convert_objects())
        return True

    def _pages(self) -> Iterator[list[T]]:
        """Each further page's objects, held by the caller alone: for listings too large to
        keep (iterating keeps every object it has loaded, as the SDK's does)."""
        while self._load_page():
            page, self.objects = self.objects, []
            yield page

    def __iter__(self) -> Paginator[T]:
        self.index = -1
        return self

    def __next__(self) -> T:
        self.index += 1
        while len(self.objects) <= self.index:
            if not self._load_page():
                raise StopIteration
        return self.objects[self.index]

    next = __next__

    def __getitem__(self, index: int | slice) -> Any:
        stop = index.stop if isinstance(index, slice) else index
        if stop is None:
            raise TypeError(
                f"{type(self).__name__} slices need an end, as the SDK's: listing[start:stop]"
            )
        while stop > len(self.objects) - 1 and self._load_page():
            pass
        return self.objects[index]

    def _edges(self) -> list[dict[str, Any]]:
        connection = self._connection()
        return connection["edges"] if connection else []


class SizedPaginator(Paginator[T], Sized):
    """A listing whose server reports its total count: ``len()`` works (after one page)."""

    def __len__(self) -> int:
        if self.length is None:
            self._load_page()
        if self.length is None:
            raise NotImplementedError(f"{type(self).__name__} has no length on this server")
        return self.length


def _project(response: dict[str, Any] | None) -> dict[str, Any]:
    return (response or {}).get("project") or {}


class ArtifactTypes(Paginator["ArtifactType"]):
    QUERY = queries.PROJECT_ARTIFACT_TYPES

    def __init__(
        self, api: Api, entity: str, project: str, per_page: int = 50, start: str | None = None
    ) -> None:
        super().__init__(api, {"entity": entity, "project": project}, per_page, start)
        self.entity, self.project = entity, project

    def _connection(self) -> dict[str, Any] | None:
        return _project(self.last_response).get("artifactTypes")

    def _missing(self) -> str:
        return f"project {self.entity}/{self.project}"

    def convert_objects(self) -> list[ArtifactType]:
        from .collections import ArtifactType

        return [
            ArtifactType(self._api, self.entity, self.project, edge["node"]["name"], edge["node"])
            for edge in self._edges()
        ]


class ProjectArtifactCollections(SizedPaginator["ArtifactCollection"]):
    """Every collection of a project, of any type (``Project.collections()``)."""

    QUERY = queries.PROJECT_ARTIFACT_COLLECTIONS

    def __init__(
        self,
        api: Api,
        entity: str,
        project: str,
        filters: dict[str, Any] | None = None,
        order: str | None = None,
        per_page: int = 50,
        start: str | None = None,
    ) -> None:
        variables = {
            "entity": entity,
            "project": project,
            "filters": json.dumps(filters) if filters else None,
            "order": order,
        }
        super().__init__(api, variables, per_page, start)
        self.entity, self.project = entity, project

    def _connection(self) -> dict[str, Any] | None:
        return _project(self.last_response).get("artifactCollections")

    def _missing(self) -> str:
        return f"project {self.entity}/{self.project}"

    def convert_objects(self) -> list[ArtifactCollection]:
        from .collections import ArtifactCollection

        return [ArtifactCollection.from_node(self._api, edge["node"]) for edge in self._edges()]


class ArtifactCollections(ProjectArtifactCollections):
    """The collections of one artifact type of a project."""

    QUERY = queries.TYPE_ARTIFACT_COLLECTIONS

    def __init__(
        self,
        api: Api,
        entity: str,
        project: str,
        type_name: str,
        filters: dict[str, Any] | None = None,
        order: str | None = None,
        per_page: int = 50,
        start: str | None = None,
    ) -> None:
        super().__init__(api, entity, project, filters, order, per_page, start)
        self.variables["type"] = self.type_name = type_name

    def _connection(self) -> dict[str, Any] | None:
        return (_project(self.last_response).get("artifactType") or {}).get("artifactCollections")

    def _missing(self) -> str:
        return f"artifact type {self.type_name!r} in {self.entity}/{self.project}"


class Artifacts(SizedPaginator["Artifact"]):
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
        self._path = f"{entity}/{project}/{collection_name}"

    def _missing(self) -> str:
        return f"collection {self._path} of type {self.variables['type']!r}"

    def _connection(self) -> dict[str, Any] | None:
        collection = (_project(self.last_response).get("artifactType") or {}).get(
            "artifactCollection"
        )
        return (collection or {}).get("artifacts")

    def convert_objects(self) -> list[Artifact]:
        from .artifact import Artifact

        artifacts = [Artifact._from_node(self._api, edge["node"]) for edge in self._edges()]
        return [a for a in artifacts if self._tags <= set(a.tags)]


class RunArtifacts(SizedPaginator["Artifact"]):
    """What a run logged (``mode="logged"``) or used (``mode="used"``)."""

    def __init__(
        self,
        api: Api,
        run: Run,
        mode: str = "logged",
        per_page: int = 50,
        start: str | None = None,
    ) -> None:
        if mode not in ("logged", "used"):
            raise ValueError("mode must be 'logged' or 'used'")
        self.QUERY = (
            queries.RUN_OUTPUT_ARTIFACTS if mode == "logged" else queries.RUN_INPUT_ARTIFACTS
        )
        variables = {"entity": run.entity, "project": run.project, "run": run.id}
        super().__init__(api, variables, per_page, start)
        self._run_path = "/".join(run.path)

    def _missing(self) -> str:
        return f"run {self._run_path}"

    def _connection(self) -> dict[str, Any] | None:
        return (_project(self.last_response).get("run") or {}).get("artifacts")

    def convert_objects(self) -> list[Artifact]:
        from .artifact import Artifact

        return [Artifact._from_node(self._api, edge["node"]) for edge in self._edges()]


class ArtifactFiles(SizedPaginator["ArtifactFile"]):
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
        self.artifact = artifact

    @property
    def path(self) -> list[str]:
        """``[entity, project, name]`` of the version listed."""
        return [self.artifact.entity, self.artifact.project, self.artifact.name]

    def _missing(self) -> str:
        return f"artifact {self.artifact.qualified_name}"

    def _connection(self) -> dict[str, Any] | None:
        collection = _project(self.last_response).get("artifactCollection") or {}
        return (collection.get("artifactMembership") or {}).get("files")

    def convert_objects(self) -> list[ArtifactFile]:
        from .files import ArtifactFile

        return [ArtifactFile(edge["node"]) for edge in self._edges()]


class Runs(SizedPaginator["Run"]):
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

    def _missing(self) -> str:
        return f"project {self.entity}/{self.project}"

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
        self.entity = entity

    def _connection(self) -> dict[str, Any] | None:
        return (self.last_response or {}).get("models")

    def convert_objects(self) -> list[Project]:
        from .projects import Project

        return [
            Project(self._api, edge["node"]["entityName"], edge["node"]["name"], edge["node"])
            for edge in self._edges()
        ]
