"""The W&B Registry: ``Registry``, and the ``Registries``, ``Collections`` and ``Versions``
searches, named and behaving like the SDK's.

A registry is a project ``wandb-registry-<name>`` of an organization's entity; its collections
are portfolios of versions linked from runs' collections. Searches take MongoDB-style filters
on the fields W&B documents for each level::

    api.registries(filter={"name": {"$regex": "model"}}).versions(filter={"alias": "prod"})
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..formats.names import REGISTRY_PREFIX as PREFIX
from . import queries
from .errors import InvalidInputError, NotFoundError
from .names import validate_name, validate_type
from .paginators import Paginator, SizedPaginator

if TYPE_CHECKING:
    from .api import Api
    from .artifact import Artifact
    from .collections import ArtifactCollection


T = TypeVar("T")

Visibility = Literal["organization", "restricted"]
#: The user's words for a registry's visibility, and W&B's project ``access`` values.
_ACCESS = {"organization": "PRIVATE", "restricted": "RESTRICTED"}

_DATES = ("created_at", "updated_at")
REGISTRY_FIELDS = ("id", "name", "entity_id", "description", *_DATES)
COLLECTION_FIELDS = ("id", "name", "tag", "description", *_DATES)
VERSION_FIELDS = ("id", "version", "tag", "alias", "metadata", *_DATES)
_FIELD_ALIASES = {
    "collection_id": "id",
    "artifact_collection_id": "id",
    "project_id": "id",
    "artifact_id": "id",
    "tags": "tag",
    "aliases": "alias",
    "version_index": "version",
}
_LIST_ORDERS = ("name", *_DATES)
_VERSION_ORDERS = ("created_at", "artifact_size", "linked_at")


def _checked_filter(
    filter: dict[str, Any] | None,  # noqa: A002 - the SDK's name
    fields: tuple[str, ...],
    kind: str,
    *,
    prefix_names: bool = False,
) -> str | None:
    """``filter`` as the JSON the server takes, after checking every field it names."""
    if not filter:
        return None
    if not isinstance(filter, dict):
        raise InvalidInputError(f"a {kind} filter is a dict, not {type(filter).__name__}")

    def check(part: dict[str, Any]) -> dict[str, Any]:
        checked: dict[str, Any] = {}
        for key, condition in part.items():
            if key in ("$and", "$or", "$nor"):
                if not isinstance(condition, list):
                    raise InvalidInputError(f"{key} takes a list of filters")
                checked[key] = [check(item) for item in condition]
                continue
            head = key.split(".", 1)[0]
            if _FIELD_ALIASES.get(head, head) not in fields:
                raise InvalidInputError(f"cannot filter {kind} on {key!r}: use {', '.join(fields)}")
            if prefix_names and head == "name":
                condition = _prefixed(condition)
            checked[key] = condition
        return checked

    return json.dumps(check(filter))


def _prefixed(condition: Any) -> Any:
    """Registry names as users write them (``model``) become project names; regexes stay."""
    if isinstance(condition, str):
        return condition if condition.startswith(PREFIX) else PREFIX + condition
    if isinstance(condition, list):
        return [_prefixed(item) for item in condition]
    if isinstance(condition, dict):
        return {op: v if op == "$regex" else _prefixed(v) for op, v in condition.items()}
    return condition


def _checked_order(order: str | None, fields: tuple[str, ...]) -> str | None:
    if order is None:
        return None
    sign, field = (order[0], order[1:]) if order[:1] in ("+", "-") else ("+", order)
    if field not in fields:
        raise InvalidInputError(f"cannot order by {field!r}: use {', '.join(fields)}")
    return sign + field


class _Search:
    """The organization and the filters a search level inherits from the levels above."""

    def __init__(
        self,
        api: Api,
        organization: str,
        registry_filter: str | None = None,
        collection_filter: str | None = None,
    ) -> None:
        self.api = api
        self.organization = organization
        self.registry_filter = registry_filter
        self.collection_filter = collection_filter

    def collections(
        self,
        filter: dict[str, Any] | None = None,  # noqa: A002
        order: str | None = None,
        per_page: int = 100,
        start: str | None = None,
    ) -> Collections:
        return Collections(
            self,
            _checked_filter(filter, COLLECTION_FIELDS, "collections"),
            _checked_order(order, _LIST_ORDERS),
            per_page,
            start,
        )

    def versions(
        self,
        filter: dict[str, Any] | None = None,  # noqa: A002
        order: str | None = None,
        per_page: int = 100,
        start: str | None = None,
    ) -> Versions:
        return Versions(
            self,
            _checked_filter(filter, VERSION_FIELDS, "versions"),
            _checked_order(order, _VERSION_ORDERS),
            per_page,
            start,
        )


def _org_entity(response: dict[str, Any] | None, organization: str) -> dict[str, Any]:
    org = (response or {}).get("organization")
    if not org or not org.get("orgEntity"):
        raise NotFoundError(f"organization {organization!r} not found")
    return org["orgEntity"]


class Registries(Paginator["Registry"]):
    """Registries of an organization; ``collections()`` and ``versions()`` search inside the
    registries this selects."""

    QUERY = queries.FETCH_REGISTRIES

    def __init__(
        self,
        api: Api,
        organization: str,
        filter: dict[str, Any] | None = None,  # noqa: A002
        order: str | None = None,
        per_page: int = 100,
        start: str | None = None,
    ) -> None:
        self.organization = organization
        self.filter = _checked_filter(filter, REGISTRY_FIELDS, "registries", prefix_names=True)
        self.order = _checked_order(order, _LIST_ORDERS)
        variables = {"organization": organization, "filters": self.filter, "order": self.order}
        super().__init__(api, variables, per_page, start)
        self._search = _Search(api, organization, registry_filter=self.filter)

    def _connection(self) -> dict[str, Any] | None:
        return _org_entity(self.last_response, self.organization)["projects"]

    def convert_objects(self) -> list[Registry]:
        return [
            Registry(self._api, self.organization, edge["node"]["entity"]["name"], attrs=node)
            for edge in self._edges()
            if (node := edge["node"])
        ]

    def collections(self, *args: Any, **kwargs: Any) -> Collections:
        """The portfolios of these registries (arguments of :meth:`Registry.collections`)."""
        return self._search.collections(*args, **kwargs)

    def versions(self, *args: Any, **kwargs: Any) -> Versions:
        """The versions linked into these registries (arguments of :meth:`Registry.versions`)."""
        return self._search.versions(*args, **kwargs)


class _OrgSearch(Paginator[T]):
    """A page-by-page search over an organization's entity (its ``FIELD`` connection)."""

    FIELD: str

    def __init__(
        self, search: _Search, variables: dict[str, Any], per_page: int, start: str | None
    ) -> None:
        variables = {
            "organization": search.organization,
            "registryFilter": search.registry_filter,
            **variables,
        }
        super().__init__(search.api, variables, per_page, start)
        self.organization = search.organization

    def _connection(self) -> dict[str, Any] | None:
        return _org_entity(self.last_response, self.organization)[self.FIELD]


class Collections(_OrgSearch["ArtifactCollection"], SizedPaginator["ArtifactCollection"]):
    """Portfolios of the registries a search selected; ``versions()`` searches inside them
    (``len()`` as the SDK's)."""

    QUERY = queries.REGISTRY_COLLECTIONS
    FIELD = "artifactCollections"

    def __init__(
        self,
        search: _Search,
        filter: str | None,  # noqa: A002
        order: str | None,
        per_page: int = 100,
        start: str | None = None,
    ) -> None:
        super().__init__(search, {"collectionFilter": filter, "order": order}, per_page, start)
        self._search = _Search(search.api, search.organization, search.registry_filter, filter)

    def convert_objects(self) -> list[ArtifactCollection]:
        from .collections import ArtifactCollection

        return [ArtifactCollection.from_node(self._api, edge["node"]) for edge in self._edges()]

    def versions(
        self,
        filter: dict[str, Any] | None = None,  # noqa: A002
        order: str | None = None,
        per_page: int = 100,
        start: str | None = None,
    ) -> Versions:
        return self._search.versions(filter, order, per_page, start)


class Versions(_OrgSearch["Artifact"]):
    """Versions linked into the registries and collections a search selected, each seen
    through its link (``wandb-registry-<name>/<collection>:v<N>``)."""

    QUERY = queries.REGISTRY_VERSIONS
    FIELD = "artifactMemberships"

    def __init__(
        self,
        search: _Search,
        filter: str | None,  # noqa: A002
        order: str | None,
        per_page: int = 100,
        start: str | None = None,
    ) -> None:
        variables = {
            "collectionFilter": search.collection_filter,
            "artifactFilter": filter,
            "order": order,
        }
        super().__init__(search, variables, per_page, start)

    def convert_objects(self) -> list[Artifact]:
        from .artifact import Artifact

        return [Artifact._from_membership(self._api, edge["node"]) for edge in self._edges()]


class Registry:
    """One registry. Edit ``name``, ``description``, ``visibility``, ``artifact_types`` or
    ``allow_all_artifact_types``, then :meth:`save`.

    Example::

        registry = api.create_registry("models", visibility="organization",
                                       artifact_types=["model"])
        registry.description = "Production candidates"
        registry.save()
        for version in registry.versions(filter={"alias": "production"}):
            print(version.qualified_name)
    """

    def __init__(
        self,
        api: Api,
        organization: str,
        entity: str,
        name: str | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        self._api = api
        self.organization = organization
        self.entity = entity
        if attrs is not None:
            self._assign(attrs)
        elif name is None:
            raise InvalidInputError("a registry needs its name")
        else:
            self._attrs: dict[str, Any] = {}
            self._saved_name = self.name = name

    def _assign(self, attrs: dict[str, Any]) -> None:
        self._attrs = attrs
        self._saved_name = self.name = attrs["name"].removeprefix(PREFIX)
        self.description: str | None = attrs.get("description")
        self.allow_all_artifact_types: bool = bool(attrs.get("allowAllArtifactTypes", True))
        types = (attrs.get("artifactTypes") or {}).get("edges") or []
        self._saved_types = [edge["node"]["name"] for edge in types]
        self.artifact_types: list[str] = list(self._saved_types)
        access = attrs.get("access") or _ACCESS["organization"]
        self.visibility: Visibility = "restricted" if access == "RESTRICTED" else "organization"

    def __repr__(self) -> str:
        return f"<Registry {self.organization}/{self.name}>"

    @property
    def id(self) -> str:
        return self._attrs["id"]

    @property
    def internal_id(self) -> str | None:
        return self._attrs.get("internalId")

    @property
    def full_name(self) -> str:
        """The project name: ``wandb-registry-<name>``."""
        return PREFIX + self.name

    @property
    def path(self) -> list[str]:
        return [self.entity, self.full_name]

    @property
    def created_at(self) -> str:
        return self._attrs["createdAt"]

    @property
    def updated_at(self) -> str | None:
        return self._attrs.get("updatedAt")

    def _search(self) -> _Search:
        only_this = json.dumps({"name": PREFIX + self._saved_name})
        return _Search(self._api, self.organization, registry_filter=only_this)

    def collections(
        self,
        filter: dict[str, Any] | None = None,  # noqa: A002 - the SDK's name
        order: str | None = None,
        per_page: int = 100,
        start: str | None = None,
    ) -> Collections:
        """The portfolios of this registry; filter on ``name``, ``tag``, ``description``,
        ``created_at``, ``updated_at``; order by ``[+-]name``, ``created_at``, ``updated_at``."""
        return self._search().collections(filter, order, per_page, start)

    def versions(
        self,
        filter: dict[str, Any] | None = None,  # noqa: A002
        order: str | None = None,
        per_page: int = 100,
        start: str | None = None,
    ) -> Versions:
        """The versions linked into this registry; filter on ``tag``, ``alias``, ``version``,
        ``metadata.<key>``, ``created_at``, ``updated_at``; order by ``[+-]created_at``,
        ``artifact_size``, ``linked_at`` (default: newest link first)."""
        return self._search().versions(filter, order, per_page, start)

    @classmethod
    def create(
        cls,
        api: Api,
        organization: str,
        name: str,
        visibility: Visibility,
        description: str | None = None,
        artifact_types: Iterable[str] | None = None,
    ) -> Registry:
        """A new registry (use :meth:`Api.create_registry`); no types means all types."""
        entity = api.organization_entity(organization)
        types = list(artifact_types or [])
        # upsertModel updates an existing project, so a taken name is refused before it (as the
        # SDK does); ``inserted`` still catches a registry created in between.
        existing = api.client.execute(
            queries.FETCH_REGISTRY, {"name": PREFIX + name, "entity": entity}
        )["entity"]
        if existing and existing.get("project"):
            raise InvalidInputError(
                f"Registry {name!r} already exists in organization {organization!r}, please use "
                "a different name."
            )
        reply = api.client.execute(
            queries.UPSERT_REGISTRY,
            {
                "input": _upsert_input(
                    entity, name, description, _access(visibility), not types, types
                )
            },
        )["upsertModel"]
        if not reply["inserted"]:
            raise InvalidInputError(f"registry {name!r} already exists in {organization!r}")
        return cls(api, organization, entity, attrs=reply["project"])

    def load(self) -> Registry:
        reply = self._api.client.execute(
            queries.FETCH_REGISTRY, {"name": PREFIX + self._saved_name, "entity": self.entity}
        )
        node = (reply["entity"] or {}).get("project")
        if node is None:
            raise NotFoundError(f"registry {self._saved_name!r} not found in {self.organization!r}")
        self._assign(node)
        return self

    def save(self) -> None:
        """Write the edited fields; allowed types can be added, never removed."""
        removed = set(self._saved_types) - set(self.artifact_types)
        if removed:
            raise InvalidInputError(
                f"a registry's types cannot be removed once saved: {sorted(removed)}"
            )
        added = [t for t in self.artifact_types if t not in self._saved_types]
        if added and self.allow_all_artifact_types:
            raise InvalidInputError(
                "set allow_all_artifact_types = False before restricting the registry's types"
            )
        access = _access(self.visibility)
        new_name = self.name
        reply = self._api.client.execute(
            queries.UPSERT_REGISTRY,
            {
                "input": _upsert_input(
                    self.entity,
                    self._saved_name,
                    self.description,
                    access,
                    self.allow_all_artifact_types,
                    added,
                )
            },
        )["upsertModel"]
        self._assign(reply["project"])
        if new_name != self._saved_name:
            renamed = self._api.client.execute(
                queries.RENAME_REGISTRY,
                {
                    "input": {
                        "entityName": self.entity,
                        "oldProjectName": PREFIX + self._saved_name,
                        "newProjectName": PREFIX + new_name,
                    }
                },
            )["renameProject"]
            self._assign(renamed["project"])

    def delete(self) -> None:
        """Delete the registry and its links; the linked versions stay where they were logged."""
        self._api.client.execute(queries.DELETE_REGISTRY, {"id": self.id})


def _access(visibility: str) -> str:
    if visibility not in _ACCESS:
        raise InvalidInputError(
            f"visibility must be 'organization' or 'restricted', not {visibility!r}"
        )
    return _ACCESS[visibility]


def _upsert_input(
    entity: str,
    name: str,
    description: str | None,
    access: str,
    allow_all_types: bool,
    types: list[str],
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "entityName": entity,
        "name": PREFIX + validate_name(name, "registry name"),
        "description": description,
        "access": access,
        "allowAllArtifactTypesInRegistry": allow_all_types,
        "artifactTypes": [{"name": validate_type(t)} for t in types] or None,
    }
    return {key: value for key, value in fields.items() if value is not None}
