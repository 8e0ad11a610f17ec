"""``Project``: a W&B project, loaded on first use as the SDK's ``Project`` is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import queries
from .attrs import Attrs
from .errors import ParentNotFoundError
from .users import User

if TYPE_CHECKING:
    from .api import Api
    from .paginators import ArtifactTypes, ProjectArtifactCollections


class Project(Attrs):
    """A project: ``Api.project(name)`` makes one without asking the server; ``id`` and the
    other fields (``created_at``, ``description``...) load it, and raise ``ValueError`` when
    it does not exist.

    Example::

        project = api.project("demo")
        [t.name for t in project.artifacts_types()]
    """

    def __init__(
        self, api: Api, entity: str, project: str, attrs: dict[str, Any] | None = None
    ) -> None:
        super().__init__(attrs or {})
        self._api = api
        self._loaded = bool(attrs)
        self.entity = entity
        self.name = project

    def _fields(self) -> dict[str, Any]:
        if not self._loaded:
            reply = self._api.client.execute(
                queries.PROJECT_DETAILS, {"entity": self.entity, "name": self.name}
            )
            self._attrs = reply["project"] or {}
            self._loaded = True
        return self._attrs

    @property
    def id(self) -> str:
        found = self._fields().get("id")
        if found is None:
            raise ParentNotFoundError(f"project {self.entity}/{self.name} not found")
        return found

    @property
    def path(self) -> list[str]:
        return [self.entity, self.name]

    @property
    def url(self) -> str:
        return f"{self._api.app_url}/{self.entity}/{self.name}/workspace"

    @property
    def owner(self) -> User:
        user = self._fields().get("user")
        if user is None:
            raise ValueError(f"no user found for project {self.name}")
        return User(user)

    def artifacts_types(self, per_page: int = 50) -> ArtifactTypes:
        """The project's artifact types (the SDK's name, with its ``s``)."""
        from .paginators import ArtifactTypes

        return ArtifactTypes(self._api, self.entity, self.name, per_page)

    def collections(
        self,
        filters: dict[str, Any] | None = None,
        order: str | None = None,
        per_page: int = 50,
    ) -> ProjectArtifactCollections:
        """The project's collections of every type; ``filters`` and ``order`` as for
        :meth:`Api.artifact_collections`."""
        from .paginators import ProjectArtifactCollections

        return ProjectArtifactCollections(
            self._api, self.entity, self.name, filters, order, per_page
        )

    def __repr__(self) -> str:
        return f"<Project {self.entity}/{self.name}>"
