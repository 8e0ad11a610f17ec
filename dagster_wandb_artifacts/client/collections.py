"""``ArtifactType`` and ``ArtifactCollection``, named and behaving like the SDK's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import queries
from .errors import NotFoundError, ParentNotFoundError
from .names import validate_name, validate_tag, validate_type
from .paginators import ArtifactCollections, Artifacts

if TYPE_CHECKING:
    from .api import Api

_ALIAS_PAGE = 1000


class ArtifactType:
    """An artifact type of a project (``dataset``, ``model``, ...)."""

    def __init__(
        self, api: Api, entity: str, project: str, type_name: str, attrs: dict | None = None
    ) -> None:
        self._api = api
        self.entity, self.project = entity, project
        self._name = type_name
        self._attrs = attrs or self.load()

    def load(self) -> dict[str, Any]:
        reply = self._api.client.execute(
            queries.PROJECT_ARTIFACT_TYPE,
            {"entity": self.entity, "project": self.project, "type": self._name},
        )
        found = (reply["project"] or {}).get("artifactType")
        if found is None:
            raise NotFoundError(
                f"artifact type {self._name!r} not found in {self.entity}/{self.project}"
            )
        self._attrs = found
        return found

    def __repr__(self) -> str:
        return f"<ArtifactType {self._name}>"

    @property
    def id(self) -> str:
        return self._attrs["id"]

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str | None:
        return self._attrs.get("description")

    @property
    def created_at(self) -> str:
        return self._attrs["createdAt"]

    def collections(
        self,
        filters: dict[str, Any] | None = None,
        order: str | None = None,
        per_page: int = 50,
        start: str | None = None,
    ) -> ArtifactCollections:
        return ArtifactCollections(
            self._api, self.entity, self.project, self._name, filters, order, per_page, start
        )

    def collection(self, name: str) -> ArtifactCollection:
        """The collection ``name`` of this type (``ValueError`` when there is none, as the
        SDK's)."""
        return ArtifactCollection(self._api, self.entity, self.project, name, self._name)


class ArtifactCollection:
    """A collection of versions (a sequence of logged versions, or a portfolio of links).

    Made as the SDK's: ``ArtifactCollection(client, entity, project, name, type)`` fetches it
    (``ValueError`` when there is none); ``name``, ``description``, ``tags`` and, for a
    sequence, ``type`` are edited in place and kept by :meth:`save`.
    """

    def __init__(
        self,
        client: Api,
        entity: str,
        project: str,
        name: str,
        type: str,  # noqa: A002 - the SDK's name
        organization: str | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        self._api = client
        self._assign(attrs or self._fetch(client, entity, project, type, name))
        self.organization = organization

    @classmethod
    def from_node(cls, api: Api, node: dict[str, Any]) -> ArtifactCollection:
        """The collection of a GraphQL ``ArtifactCollection`` node already fetched."""
        project = node["project"]
        return cls(
            api,
            project["entity"]["name"],
            project["name"],
            node["name"],
            node["type"]["name"],
            attrs=node,
        )

    def _assign(self, attrs: dict[str, Any]) -> None:
        self._attrs = attrs
        self._saved_name = attrs["name"]
        self._saved_description = attrs.get("description")
        self._saved_tags = [edge["node"]["name"] for edge in attrs["tags"]["edges"]]
        self._type: str = attrs["type"]["name"]
        self.name: str = attrs["name"]
        self.description: str | None = attrs.get("description")
        self.tags: list[str] = list(self._saved_tags)

    @staticmethod
    def _fetch(api: Api, entity: str, project: str, type_name: str, name: str) -> dict[str, Any]:
        reply = api.client.execute(
            queries.PROJECT_ARTIFACT_COLLECTION,
            {"entity": entity, "project": project, "type": type_name, "name": name},
        )
        node = ((reply["project"] or {}).get("artifactType") or {}).get("artifactCollection")
        if node is None:
            raise ParentNotFoundError(
                f"collection {entity}/{project}/{name} of type {type_name!r} not found"
            )
        return node

    @classmethod
    def fetch(
        cls, api: Api, entity: str, project: str, type_name: str, name: str
    ) -> ArtifactCollection:
        """The collection, or :class:`NotFoundError` (a ``CommError``, as ``wandb.Api``'s
        ``artifact_collection`` raises) when there is none."""
        try:
            return cls(api, entity, project, name, type_name)
        except ParentNotFoundError as missing:
            raise NotFoundError(str(missing)) from None

    def load(
        self,
        entity: str,
        project: str,
        type_: str,
        name: str,
    ) -> dict[str, Any]:
        """The GraphQL node of the collection named by the arguments (any collection, as the
        SDK's ``load`` fetches; this object is left as it is), or a ``ValueError``."""
        return self._fetch(self._api, entity, project, type_, name)

    def __repr__(self) -> str:
        return f"<ArtifactCollection {self.name} ({self.type})>"

    @property
    def id(self) -> str:
        return self._attrs["id"]

    @property
    def entity(self) -> str:
        return self._attrs["project"]["entity"]["name"]

    @property
    def project(self) -> str:
        return self._attrs["project"]["name"]

    @property
    def type(self) -> str:
        return self._type

    @type.setter
    def type(self, new_type: str) -> None:
        """A new type, kept by :meth:`save` (a sequence's only: a portfolio's links keep
        their versions' types)."""
        if not self.is_sequence():
            raise ValueError("Type can only be changed if the artifact collection is a sequence.")
        self._type = new_type

    @property
    def created_at(self) -> str:
        return self._attrs["createdAt"]

    @property
    def updated_at(self) -> str | None:
        return self._attrs.get("updatedAt")

    def is_sequence(self) -> bool:
        """True for a collection of logged versions, False for a portfolio of links."""
        return self._attrs["__typename"] == "ArtifactSequence"

    @property
    def aliases(self) -> list[str]:
        """The collection's aliases (``latest`` and custom ones; W&B leaves out ``vN``)."""
        reply = self._api.client.execute(
            queries.COLLECTION_ALIASES, {"id": self.id, "perPage": _ALIAS_PAGE}
        )
        collection = reply["artifactCollection"] or {}
        return [edge["node"]["alias"] for edge in collection["aliases"]["edges"]]

    def artifacts(self, per_page: int = 50, start: str | None = None) -> Artifacts:
        return Artifacts(
            self._api,
            self.entity,
            self.project,
            self._saved_name,
            self._attrs["type"]["name"],
            per_page=per_page,
            start=start,
        )

    def change_type(self, new_type: str) -> None:
        """Move the collection and its versions to another artifact type."""
        reply = self._api.client.execute(
            queries.MOVE_COLLECTION,
            {
                "input": {
                    "artifactSequenceID": self.id,
                    "destinationArtifactTypeName": validate_type(new_type),
                }
            },
        )
        self._assign(reply["result"]["artifactCollection"])

    def delete(self) -> None:
        """Delete the collection and every version in it (a portfolio: its links only)."""
        query = queries.DELETE_COLLECTION if self.is_sequence() else queries.DELETE_PORTFOLIO
        self._api.client.execute(query, {"id": self.id})

    def save(self) -> None:
        """Save edits of ``name``, ``description``, ``tags`` and ``type``."""
        new_type = self._type
        if new_type != self._attrs["type"]["name"]:
            validate_type(new_type)
        target = {
            "entityName": self.entity,
            "projectName": self.project,
            "artifactCollectionName": self._saved_name,
        }
        added = [t for t in self.tags if t not in self._saved_tags]
        removed = [t for t in self._saved_tags if t not in self.tags]
        if added:
            self._api.client.execute(
                queries.ADD_COLLECTION_TAGS,
                {"input": {**target, "tags": [{"tagName": validate_tag(t)} for t in added]}},
            )
        if removed:
            self._api.client.execute(
                queries.DELETE_COLLECTION_TAGS,
                {"input": {**target, "tags": [{"tagName": t} for t in removed]}},
            )
        fields = {"name": validate_name(self.name), "description": self.description}
        if self.is_sequence():
            query, fields["artifactSequenceID"] = queries.UPDATE_COLLECTION, self.id
        else:
            query, fields["artifactPortfolioID"] = queries.UPDATE_PORTFOLIO, self.id
        reply = self._api.client.execute(query, {"input": fields})
        self._assign(reply["result"]["artifactCollection"])
        if new_type != self.type:
            self.change_type(new_type)
